"""``.github/CODEOWNERS``: who owns a file, and the line a new service adds.

GitHub reads the file; this module reads it the same way for the patterns it
uses (``*``, anchored paths such as ``/stacks/services/checkout.py``, directories
ending in ``/``, ``*`` and ``?`` within a path): the last matching line wins.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CODEOWNERS", "OWNER", "CodeOwners", "Rule"]

#: Where the file is, relative to the repository.
CODEOWNERS = Path(".github/CODEOWNERS")
#: A team (``@org/team``), a user (``@user``) or an e-mail address, as GitHub accepts them.
OWNER = re.compile(r"^(@[A-Za-z0-9](-?[A-Za-z0-9])*(/[A-Za-z0-9._-]+)?|[^@\s]+@[^@\s]+\.[a-z]{2,})$")
_SERVICES = "/stacks/services/"


@dataclass(frozen=True)
class Rule:
    pattern: str
    owners: tuple[str, ...]

    def matches(self, path: str) -> bool:
        """Whether the pattern covers ``path`` (relative to the repository, ``/``-separated)."""
        pattern = self.pattern
        if pattern == "*":
            return True
        if pattern.endswith("/"):
            pattern += "**"
        if pattern.startswith("/"):
            return fnmatch.fnmatchcase(path, pattern[1:].replace("**", "*"))
        return any(fnmatch.fnmatchcase("/".join(path.split("/")[i:]), pattern.replace("**", "*"))
                   for i in range(path.count("/") + 1))


class CodeOwners:
    """The rules of a CODEOWNERS file, and its text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.rules = [Rule(parts[0], tuple(parts[1:])) for line in text.splitlines()
                      if (parts := line.split("#", 1)[0].split())]

    @classmethod
    def read(cls, root: Path) -> CodeOwners:
        path = root / CODEOWNERS
        return cls(path.read_text() if path.is_file() else "")

    def owners(self, path: str) -> tuple[str, ...]:
        """The owners of ``path``: those of the last line that matches it; none when no line does."""
        found: tuple[str, ...] = ()
        for rule in self.rules:
            if rule.matches(path):
                found = rule.owners
        return found

    @property
    def default_owners(self) -> tuple[str, ...]:
        """The owners of everything no other line names (the ``*`` line)."""
        return next((rule.owners for rule in self.rules if rule.pattern == "*"), ())

    def with_service(self, path: str, owners: Sequence[str]) -> str:
        """The file's text with ``/<path> <owners>`` among the services' lines, in name order.

        In name order rather than at the end, so that two teams adding a service at once change
        different lines of the file (unless their names sort between the same two services).
        """
        pattern = f"/{path}"
        lines = self.text.splitlines()
        column = max((len(line) - len(line.split(None, 1)[1]) for line in lines
                      if line.startswith(_SERVICES) and len(line.split(None, 1)) == 2), default=0)
        new = pattern.ljust(max(column - 1, len(pattern))) + " " + " ".join(owners)
        services = [i for i, line in enumerate(lines) if line.startswith(_SERVICES)]
        after = [i for i in services if lines[i].split()[0] > pattern]
        at = after[0] if after else (services[-1] + 1 if services else len(lines))
        return "\n".join([*lines[:at], new, *lines[at:]]) + "\n"
