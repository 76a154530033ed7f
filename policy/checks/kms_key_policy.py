"""CKV_PLAT_1: a KMS key policy grants nothing to every principal or to every account."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from policy.checks._iam import principals_verdict

REASON = ("A key policy is the only policy that can open a key to other accounts: Principal \"*\" without a "
          "condition naming the accounts, or an ARN with a wildcard account, lets anyone on AWS use the key. "
          "An unreadable policy fails, because what no check can read could grant anything.")


class KmsKeyPolicy(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(name="KMS key policy grants nothing to every principal or every account",
                         id="CKV_PLAT_1", categories=[CheckCategories.ENCRYPTION],
                         supported_resources=["aws_kms_key", "aws_kms_replica_key", "aws_kms_key_policy"],
                         guideline=REASON)

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        if "policy" not in conf:
            return CheckResult.PASSED  # the default key policy: the key's own account only
        return principals_verdict(self.details, conf, "policy")


check = KmsKeyPolicy()
