"""Validation helpers shared by environment configs and constructs.

Every user mistake is reported before synthesis as one ``ConfigError`` that
names where it happened (an environment or a construct path), each offending
field, its value and how to fix it. All problems are collected first, so a
user fixes a config in one pass instead of one error per run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from cdktf import Token

from .redact import redact, redact_text

__all__ = ["ARN", "AWS_ACCOUNT_ID", "DNS_LABEL", "SECURITY_GROUP_ID", "SUBNET_ID", "VPC_ID", "Checks",
           "ConfigError", "Problem"]

#: RFC 1123 label, as Kubernetes and most AWS names want it.
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

#: AWS identifiers, as environment configs and constructs both check them.
AWS_ACCOUNT_ID = re.compile(r"^\d{12}$")
VPC_ID = re.compile(r"^vpc-[0-9a-f]{8}([0-9a-f]{9})?$")
SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8}([0-9a-f]{9})?$")
SECURITY_GROUP_ID = re.compile(r"^sg-[0-9a-f]{8}([0-9a-f]{9})?$")
ARN = re.compile(r"^arn:aws[\w-]*:[\w-]+:[\w-]*:\d{12}:.+$")


@dataclass(frozen=True)
class Problem:
    """One invalid field: where it is, what it holds and how to fix it."""

    field: str
    value: object
    fix: str

    def render(self) -> str:
        """``field = value: fix``; a value that is, or looks like, a credential is masked, and so is a
        credential the fix quotes."""
        return redact_text(f"{self.field} = {redact(self.value, name=self.field)!r}: {self.fix}")


class ConfigError(ValueError):
    """Invalid user input, caught before anything is synthesized."""

    def __init__(self, where: str, problems: Iterable[Problem]) -> None:
        self.where = where
        self.problems = tuple(problems)
        if len(self.problems) == 1:
            message = f"{where}: {self.problems[0].render()}"
        else:
            lines = "\n".join(f"  - {p.render()}" for p in self.problems)
            message = f"{where}: {len(self.problems)} problems\n{lines}"
        super().__init__(message)


class Checks:
    """Collects problems for one object and raises them together.

    ``where`` is what the user recognises: ``environment 'staging'`` or a
    construct path such as ``staging-services/checkout``.
    """

    def __init__(self, where: str) -> None:
        self.where = where
        self.problems: list[Problem] = []

    def require(self, ok: bool, field: str, value: object, fix: str) -> bool:
        if not ok:
            self.problems.append(Problem(field, value, fix))
        return ok

    def known(self, value: object) -> bool:
        """False for unresolved cdktf tokens, whose value cannot be checked now."""
        return not (isinstance(value, str) and Token.is_unresolved(value))

    def done(self) -> None:
        if self.problems:
            raise ConfigError(self.where, self.problems)
