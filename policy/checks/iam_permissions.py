"""CKV_PLAT_2: an IAM permission policy names its actions and, where AWS allows, its resources."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from policy.checks._hcl import blocks, scalar, verdict
from policy.checks._iam import Unreadable, permission_problems, read_document

REASON = ("A wildcard grants tomorrow's actions and every resource of a kind, including those of other "
          "environments in the account. AWS requires Resource \"*\" only for actions that cannot name a resource "
          "(which ones comes from cloudsplaining's copy of the IAM reference).")

#: resource type -> (block holding the policies or None for the resource itself, attribute)
_POLICIES = {
    "aws_iam_policy": (None, "policy"),
    "aws_iam_role_policy": (None, "policy"),
    "aws_iam_user_policy": (None, "policy"),
    "aws_iam_group_policy": (None, "policy"),
    "aws_iam_role": ("inline_policy", "policy"),
    "aws_ssoadmin_permission_set_inline_policy": (None, "inline_policy"),
}


class IamPermissions(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(name="IAM permissions name their actions and, where AWS allows, their resources",
                         id="CKV_PLAT_2", categories=[CheckCategories.IAM], supported_resources=list(_POLICIES),
                         guideline=REASON)

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        nested, attribute = _POLICIES[self.entity_type]
        holders = blocks(conf, nested) if nested else [conf]
        values = [scalar(holder, attribute) for holder in holders if attribute in holder]
        if not values:
            return CheckResult.UNKNOWN  # a role without inline policies: its trust policy is CKV_PLAT_4's
        problems: list[str] = []
        for value in values:
            try:
                document = read_document(value)
            except Unreadable as error:
                problems.append(str(error))
                continue
            if isinstance(document, str):
                self.details.append(f"checked where it is declared: {document} (CKV_PLAT_3)")
                continue
            problems.extend(problem for statement in document for problem in permission_problems(statement))
        return verdict(self.details, problems)


check = IamPermissions()
