"""CKV_PLAT_5: an ExternalSecret reads named keys of its environment through the cluster store."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from policy.checks._hcl import block, blocks, scalar, stack_of, verdict

REASON = ("The platform's ClusterSecretStore reads Secrets Manager with the operator's role, which may read only "
          "<env>/*. A namespaced SecretStore brings credentials of its own and escapes that limit; dataFrom.find "
          "copies every secret matching a pattern into the namespace; a key outside <env>/ is another "
          "environment's secret or one the store cannot read.")


class ExternalSecretReads(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(name="ExternalSecret reads named keys of its environment through the ClusterSecretStore",
                         id="CKV_PLAT_5", categories=[CheckCategories.SECRETS],
                         supported_resources=["kubernetes_manifest"], guideline=REASON)

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        manifest = block(conf, "manifest")
        if scalar(manifest, "kind") != "ExternalSecret":
            return CheckResult.UNKNOWN
        spec = block(manifest, "spec")
        stores: list[tuple[str, dict[str, Any]]] = []
        if block(spec, "secretStoreRef"):
            stores.append(("spec.secretStoreRef", block(spec, "secretStoreRef")))
        keys: list[str] = []
        problems: list[str] = []
        for field in ("data", "dataFrom"):
            for i, item in enumerate(blocks(spec, field)):
                store = block(block(item, "sourceRef"), "storeRef")
                if store:
                    stores.append((f"spec.{field}[{i}].sourceRef.storeRef", store))
                elif not stores[:1] and not block(block(item, "sourceRef"), "generatorRef"):
                    problems.append(f"spec.{field}[{i}] names no store; read through the ClusterSecretStore")
                if block(item, "find"):
                    problems.append(f"spec.{field}[{i}].find copies every secret matching a pattern; "
                                    "name the keys (data[].remoteRef.key or dataFrom[].extract.key)")
                key = scalar(block(item, "remoteRef"), "key") or scalar(block(item, "extract"), "key")
                if key:
                    keys.append(str(key))
        for where, store in stores:
            kind = scalar(store, "kind") or "SecretStore"  # the CRD's default
            if kind != "ClusterSecretStore":
                problems.append(f"{where} reads through {kind} {scalar(store, 'name')!r}, which carries credentials "
                                "of its own; read through the platform's ClusterSecretStore")
        stack = stack_of(self.entity_path)
        env = stack.rsplit("-", 1)[0] if "-" in stack else None
        for key in keys:
            if env and "${" not in key and not key.startswith(f"{env}/"):
                problems.append(f"remote key {key!r} is outside {env}/, the only prefix {env}'s store may read; "
                                f"use {env}/...")
        return verdict(self.details, problems)


check = ExternalSecretReads()
