"""One value per environment, written once, without conditionals: ``per_env(staging=2, production=3)``.

A stack or a service module gives a size, a count or a type that differs
between environments as a ``PerEnv`` and resolves it for the environment being
built (``ServiceContext.per_env`` does both in one call). Every environment of
``environments.ENVIRONMENTS`` must have a value, and no other name may appear:
either mistake is one ``ConfigError`` naming the file and line of the call, the
keyword the value was for and the environment, whichever environment is being
built (``pipenv run synth --env staging`` refuses a value missing for production).

Keywords are environment names, with ``_`` for ``-`` (``pre_prod=`` is the
environment ``pre-prod``; environment names are DNS labels, so never hold ``_``).
"""

from __future__ import annotations

import ast
import functools
import inspect
import linecache
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, MappingProxyType
from typing import Generic, TypeVar

from constructs_lib import ConfigError
from constructs_lib.validation import Problem
from environments import ENVIRONMENTS

__all__ = ["CallSite", "PerEnv", "make", "per_env"]

T = TypeVar("T")

#: The repository root: call sites are named relative to it.
_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class CallSite:
    """Where a ``per_env`` call is: file, line and column (Python 3.11 positions)."""

    filename: str
    line: int
    column: int | None

    @classmethod
    def of(cls, frame: FrameType) -> CallSite:
        info = inspect.getframeinfo(frame, context=0)
        position = info.positions
        if position is None or position.lineno is None:
            return cls(info.filename, info.lineno, None)
        return cls(info.filename, position.lineno, position.col_offset)

    @property
    def where(self) -> str:
        """``stacks/services/checkout.py:14``"""
        path = Path(self.filename)
        try:
            shown = path.resolve().relative_to(_ROOT).as_posix()
        except ValueError:
            shown = str(path)
        return f"{shown}:{self.line}"

    @property
    def field(self) -> str:
        """The keyword (or variable) the call gives a value to, read from the file's syntax tree at the
        call's exact position, so that two calls on one line are told apart; ``per_env`` otherwise."""
        linecache.checkcache(self.filename)
        fields = _fields(self.filename, "".join(linecache.getlines(self.filename)))
        return fields.get((self.line, self.column), "per_env") if self.column is not None else "per_env"

    def error(self, values: Mapping[str, object], fix: str) -> ConfigError:
        """One problem with the values given here, named by file, line and keyword."""
        return ConfigError(self.where, [Problem(self.field, dict(values), fix)])


@dataclass(frozen=True)
class PerEnv(Generic[T]):
    """A value for each environment, checked complete when made.

    :param values: environment name -> value, for every environment.
    :param site: where it was written, for messages.
    """

    values: Mapping[str, T]
    site: CallSite

    def resolve(self, environment: str) -> T:
        """The value for ``environment``; a ConfigError naming the call site when it has none."""
        if environment not in self.values:
            raise self.site.error(self.values, f"per_env has no value for environment {environment!r}; add "
                                               f"{_keyword(environment)}=...")
        return self.values[environment]

    def __repr__(self) -> str:
        return "per_env(" + ", ".join(f"{_keyword(e)}={v!r}" for e, v in self.values.items()) + ")"


def per_env(**values: T) -> PerEnv[T]:
    """``per_env(staging=..., production=...)``: a value for every environment, no more, no fewer."""
    return make(values, caller=sys._getframe(1))


def make(values: Mapping[str, T], *, caller: FrameType) -> PerEnv[T]:
    """A ``PerEnv`` of ``values`` (keywords as written), called from ``caller`` (named in messages)."""
    site = CallSite.of(caller)
    resolved = {name.replace("_", "-"): value for name, value in values.items()}
    missing = [name for name in ENVIRONMENTS if name not in resolved]
    unknown = [_keyword(name) for name in resolved if name not in ENVIRONMENTS]
    if missing or unknown:
        wrong = [f"no value for {_names(missing)}"] if missing else []
        wrong += [f"{_names(unknown)} {'is not an environment' if len(unknown) == 1 else 'are not environments'}"
                  ] if unknown else []
        raise site.error(values, "per_env has " + " and ".join(wrong) + "; give one value per environment: "
                         + ", ".join(f"{_keyword(name)}=..." for name in ENVIRONMENTS))
    return PerEnv(MappingProxyType({name: resolved[name] for name in ENVIRONMENTS}), site)


def _keyword(environment: str) -> str:
    return environment.replace("-", "_")


def _names(names: list[str]) -> str:
    return ", ".join(repr(name) for name in names)


@functools.lru_cache(maxsize=64)
def _fields(filename: str, source: str) -> dict[tuple[int, int], str]:
    """Every call in ``source`` that is a keyword's value or an assignment's, by position: that name."""
    try:
        tree = ast.parse(source, filename)
    except SyntaxError:
        return {}
    found: dict[tuple[int, int], str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg and isinstance(node.value, ast.Call):
            found[(node.value.lineno, node.value.col_offset)] = node.arg
        elif isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if len(targets) == 1 and isinstance(targets[0], ast.Name):
                found[(node.value.lineno, node.value.col_offset)] = targets[0].id
    return found
