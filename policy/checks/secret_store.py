"""CKV_PLAT_6: a secret store authenticates as the operator's workload identity, never with stored keys."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from policy.checks._hcl import block, scalar, verdict

REASON = ("Access keys in a Kubernetes Secret are long-lived credentials that anyone who can read the Secret can "
          "use from anywhere; the operator's IRSA role is short-lived, scoped by IAM and audited.")


class SecretStoreAuth(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(name="Secret stores authenticate with the operator's role, not with stored keys",
                         id="CKV_PLAT_6", categories=[CheckCategories.SECRETS],
                         supported_resources=["kubernetes_manifest"], guideline=REASON)

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        manifest = block(conf, "manifest")
        if scalar(manifest, "kind") not in ("ClusterSecretStore", "SecretStore"):
            return CheckResult.UNKNOWN
        provider = block(block(manifest, "spec"), "provider")
        problems = [f"spec.provider.{name}.auth.secretRef authenticates with keys stored in a Secret; leave auth "
                    "out (the operator's IRSA role) or use auth.jwt with a service account"
                    for name in provider if isinstance(name, str) and not name.startswith("__")
                    and block(block(block(provider, name), "auth"), "secretRef")]
        return verdict(self.details, problems)


check = SecretStoreAuth()
