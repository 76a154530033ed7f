"""CKV_PLAT_3: a data.aws_iam_policy_document grants no wildcard beyond what AWS requires."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.data.base_check import BaseDataCheck

from policy.checks._hcl import blocks, strings, verdict
from policy.checks._iam import Statement, Unreadable, permission_problems, principal_problems, read_document

REASON = ("A policy document is a trust, resource or identity policy once attached; its statements are held to "
          "the same rules as a written-out policy: no open principal without a condition naming who, no "
          "wildcard account, no wildcard action, no Resource \"*\" where AWS lets name the resource.")


class IamPolicyDocument(BaseDataCheck):
    def __init__(self) -> None:
        super().__init__(name="IAM policy documents grant no wildcard beyond what AWS requires", id="CKV_PLAT_3",
                         categories=[CheckCategories.IAM], supported_data=["aws_iam_policy_document"],
                         guideline=REASON)

    def scan_data_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        statements = [Statement.from_hcl(block, i) for i, block in enumerate(blocks(conf, "statement"))]
        problems: list[str] = []
        for key in ("source_policy_documents", "override_policy_documents", "source_json", "override_json"):
            for value in strings(conf, key):
                try:
                    document = read_document(value)
                except Unreadable as error:
                    problems.append(f"{key}: {error}")
                    continue
                if isinstance(document, list):
                    statements.extend(document)
        for statement in statements:
            problems.extend(principal_problems(statement))
            problems.extend(permission_problems(statement))
        return verdict(self.details, problems)


check = IamPolicyDocument()
