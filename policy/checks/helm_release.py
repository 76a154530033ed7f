"""CKV_PLAT_9, CKV_PLAT_10, CKV_PLAT_11: a Helm release installs a pinned chart, from https, atomically."""

from __future__ import annotations

import re
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from policy.checks._hcl import scalar, verdict

_EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$")


def _local_chart(conf: dict[str, list[Any]]) -> bool:
    """A chart in this repository (no repository, a path): reviewed as code, pinned by the commit."""
    chart = str(scalar(conf, "chart") or "")
    return not scalar(conf, "repository") and chart.startswith(("./", "../", "/"))


class HelmChartPinned(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Helm releases pin an exact chart version", id="CKV_PLAT_9",
            categories=[CheckCategories.SUPPLY_CHAIN], supported_resources=["helm_release"],
            guideline="Without an exact version every apply may install a new chart release (new images, new "
                      "RBAC, new CRDs) that nobody reviewed; the version in the diff is what review approves.")

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        if _local_chart(conf):
            return CheckResult.PASSED
        version = scalar(conf, "version")
        if version is None or version == "":
            return verdict(self.details, ["no version: every apply installs the chart's latest release; pin it"])
        if "${" not in str(version) and not _EXACT_VERSION.match(str(version)):
            return verdict(self.details, [f"version {version!r} is a range; pin one release (e.g. 1.2.3)"])
        return CheckResult.PASSED


class HelmReleaseAtomic(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Helm releases roll back a failed upgrade (atomic)", id="CKV_PLAT_10",
            categories=[CheckCategories.GENERAL_SECURITY], supported_resources=["helm_release"],
            guideline="Without atomic a failed upgrade leaves the release half-applied and in a failed state that "
                      "blocks the next apply, with the platform service (metrics, secrets) degraded meanwhile.")

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        if scalar(conf, "atomic") is True:
            return CheckResult.PASSED
        return verdict(self.details, ["atomic is not true: a failed upgrade is left half-applied; set atomic=True"])


class HelmRepositoryHttps(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Helm charts come over https or from an OCI registry", id="CKV_PLAT_11",
            categories=[CheckCategories.SUPPLY_CHAIN], supported_resources=["helm_release"],
            guideline="A chart fetched over plain http can be swapped by anyone on the path, and runs with the "
                      "cluster-wide rights Helm has.")

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        repository = str(scalar(conf, "repository") or "")
        chart = str(scalar(conf, "chart") or "")
        if _local_chart(conf) or repository.startswith(("https://", "oci://", "${")) or (
                not repository and chart.startswith("oci://")):
            return CheckResult.PASSED
        return verdict(self.details, [f"repository {repository or chart!r} is not https:// or oci://; "
                                      "use the chart's https repository"])


checks = (HelmChartPinned(), HelmReleaseAtomic(), HelmRepositoryHttps())
