"""CKV_PLAT_8: a ServiceMonitor or PodMonitor scrapes its own targets, verifying TLS, without lending tokens."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from policy.checks._hcl import block, blocks, scalar, verdict

REASON = ("Prometheus scrapes whatever a monitor selects: an empty selector or namespaceSelector.any pulls in "
          "every Service of the namespace or the cluster (and its metrics into our alerts); insecureSkipVerify "
          "accepts any certificate; bearerTokenFile sends Prometheus's own service account token to the target.")


class ServiceMonitorScope(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(name="ServiceMonitors and PodMonitors select their own targets and verify TLS",
                         id="CKV_PLAT_8", categories=[CheckCategories.KUBERNETES],
                         supported_resources=["kubernetes_manifest"], guideline=REASON)

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        manifest = block(conf, "manifest")
        kind = scalar(manifest, "kind")
        if kind not in ("ServiceMonitor", "PodMonitor"):
            return CheckResult.UNKNOWN
        spec = block(manifest, "spec")
        problems = []
        selector = block(spec, "selector")
        if not block(selector, "matchLabels") and not blocks(selector, "matchExpressions"):
            problems.append("spec.selector is empty and selects every target in the namespace; match the "
                            "service's labels")
        if scalar(block(spec, "namespaceSelector"), "any") is True:
            problems.append("spec.namespaceSelector.any selects targets in every namespace; list matchNames")
        field = "endpoints" if kind == "ServiceMonitor" else "podMetricsEndpoints"
        for i, endpoint in enumerate(blocks(spec, field)):
            if scalar(block(endpoint, "tlsConfig"), "insecureSkipVerify") is True:
                problems.append(f"spec.{field}[{i}].tlsConfig.insecureSkipVerify accepts any certificate")
            if scalar(endpoint, "bearerTokenFile"):
                problems.append(f"spec.{field}[{i}].bearerTokenFile sends Prometheus's own token to the target; "
                                "use authorization with a Secret")
        return verdict(self.details, problems)


check = ServiceMonitorScope()
