"""CKV_PLAT_4: trust and resource policies grant nothing to every principal or to every account."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from policy.checks._iam import principals_verdict

REASON = ("A trust or resource policy decides who from outside may act: Principal \"*\" without a condition "
          "naming the accounts, a wildcard account, or an OIDC trust without its service account opens the "
          "resource or role to anyone who can reach it.")

#: resource type -> the attribute holding its policy
_POLICIES = {
    "aws_iam_role": "assume_role_policy",
    "aws_s3_bucket_policy": "policy",
    "aws_sqs_queue_policy": "policy",
    "aws_sns_topic_policy": "policy",
    "aws_secretsmanager_secret_policy": "policy",
    "aws_ecr_repository_policy": "policy",
    "aws_cloudwatch_log_resource_policy": "policy_document",
}


class ResourcePolicies(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(name="Trust and resource policies grant nothing to every principal or every account",
                         id="CKV_PLAT_4", categories=[CheckCategories.IAM], supported_resources=list(_POLICIES),
                         guideline=REASON)

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        attribute = _POLICIES[self.entity_type]
        if attribute not in conf:
            return CheckResult.UNKNOWN
        return principals_verdict(self.details, conf, attribute)


check = ResourcePolicies()
