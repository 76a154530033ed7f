"""Validation helpers shared by environment configs and constructs.

Every user mistake is reported before synthesis as one ``ConfigError`` that
names where it happened (an environment or a construct path), each offending
field, its value and how to fix it. All problems are collected first, so a
user fixes a config in one pass instead of one error per run.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import difflib
import enum
import functools
import inspect
import re
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from cdktf import Token
from constructs import Construct

from .redact import redact, redact_text

__all__ = ["ARN", "AWS_ACCOUNT_ID", "DNS_LABEL", "SECURITY_GROUP_ID", "SUBNET_ID", "VPC_ID", "Checks",
           "ConfigError", "Problem", "checked_fields", "checked_props", "describe", "fields_problems", "type_problems"]

_C = TypeVar("_C")

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

    @classmethod
    def merge(cls, errors: Iterable[ConfigError]) -> ConfigError:
        """One error for problems found in several places (each line names its place)."""
        errors = list(errors)
        if len(errors) == 1:
            return errors[0]
        lines = [f"{e.where}: {p.render()}" for e in errors for p in e.problems]
        merged = cls.__new__(cls)
        ValueError.__init__(merged, f"{len(lines)} problems\n" + "\n".join(f"  - {line}" for line in lines))
        merged.where = ", ".join(e.where for e in errors)
        merged.problems = tuple(p for e in errors for p in e.problems)
        return merged


class Checks:
    """Collects problems for one object and raises them together.

    ``where`` is what the user recognises: ``environment 'staging'`` or a
    construct path such as ``staging-services/checkout``.
    """

    def __init__(self, where: str) -> None:
        self.where = where
        self.problems: list[Problem] = []

    def require(self, ok: bool, field: str, value: object, fix: str | Callable[[], str]) -> bool:
        """Record a problem unless ``ok``; a fix that is costly to word (a search for the closest valid
        value) is given as a function, called only when the check fails."""
        if not ok:
            self.problems.append(Problem(field, value, fix if isinstance(fix, str) else fix()))
        return ok

    def known(self, value: object) -> bool:
        """False for unresolved cdktf tokens, whose value cannot be checked now."""
        return not (isinstance(value, str) and Token.is_unresolved(value))

    def done(self) -> None:
        if self.problems:
            raise ConfigError(self.where, self.problems)


# -- types -----------------------------------------------------------------------------------------
#
# Props are checked against their annotations before a construct creates anything. typeguard 2 (the
# version jsii pins) does not look inside mappings and takes a string for a list of strings; both are
# common mistakes, so the check is written here, for the few shapes props use.

_SEQUENCES = (collections.abc.Sequence, collections.abc.Iterable, collections.abc.Collection, list, tuple)
_MAPPINGS = (collections.abc.Mapping, dict)


def describe(hint: Any) -> str:
    """A type annotation as a user reads it: ``int``, ``a list of str``, ``str or None``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is type(None) or hint is None:
        return "None"
    if hint is Any:
        return "anything"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe(a) for a in args)
    if origin is typing.Literal:
        return " or ".join(repr(a) for a in args)
    if origin in _SEQUENCES:
        inner = args[0] if args else Any
        return "a list" + (f" of {describe(inner)}" if inner is not Any else "")
    if origin in _MAPPINGS:
        return f"a mapping of {describe(args[0])} to {describe(args[1])}" if args else "a mapping"
    if origin is collections.abc.Callable:
        return "a function"
    return getattr(hint, "__name__", str(hint))


def type_problems(value: Any, hint: Any, field: str) -> list[Problem]:
    """Problems with ``value`` as a ``hint``, inside lists, mappings and option groups (dataclasses)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any or hint is object:
        return []
    if origin in (typing.Union, types.UnionType):
        for option in args:
            if not type_problems(value, option, field):
                return []
        # One option of the right kind with a wrong element says more than "expected X or Y".
        for option in args:
            kind = typing.get_origin(option) or option
            if isinstance(kind, type) and isinstance(value, kind) and not isinstance(value, str | bool):
                return type_problems(value, option, field)
        return [_wrong_type(value, hint, field)]
    if hint is None or hint is type(None):
        return [] if value is None else [_wrong_type(value, hint, field)]
    if origin is typing.Literal:
        return [] if value in args else [_wrong_type(value, hint, field)]
    if origin in _SEQUENCES:
        if isinstance(value, str | bytes) or not isinstance(value, collections.abc.Iterable) or isinstance(
                value, _MAPPINGS):
            return [_wrong_type(value, hint, field)]
        items = list(value)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(items) != len(args):
                return [_wrong_type(value, hint, field)]
            return [p for i, (v, h) in enumerate(zip(items, args, strict=True))
                    for p in type_problems(v, h, f"{field}[{i}]")]
        inner = args[0] if args else Any
        return [p for i, v in enumerate(items) for p in type_problems(v, inner, f"{field}[{_index(i, v)}]")]
    if origin in _MAPPINGS:
        if not isinstance(value, collections.abc.Mapping):
            return [_wrong_type(value, hint, field)]
        key_hint, value_hint = args or (Any, Any)
        problems = []
        for key, item in value.items():
            problems += type_problems(key, key_hint, f"{field} key {key!r}")
            problems += type_problems(item, value_hint, f"{field}[{key!r}]")
        return problems
    if origin is collections.abc.Callable:
        return [] if callable(value) else [_wrong_type(value, hint, field)]
    if not isinstance(hint, type) or getattr(hint, "_is_protocol", False) or hint.__module__.split(".")[0] in (
            "jsii", "cdktf", "constructs") or hint.__module__.startswith("cdktf_cdktf_provider"):
        return []  # jsii interfaces and classes: jsii checks them, and tokens stand in for them
    if hint in (int, float) and isinstance(value, bool):
        return [_wrong_type(value, hint, field)]
    if hint is float and isinstance(value, int):
        return []
    if hint in (int, float) and isinstance(value, float) and Token.is_unresolved(value):
        return []  # a number token (e.g. another resource's attribute)
    if not isinstance(value, hint):
        return [_wrong_type(value, hint, field)]
    if dataclasses.is_dataclass(value):
        return fields_problems(value, field)
    return []


def _index(i: int, item: Any) -> str:
    """How a list element is named in messages: by its ``name`` where it has one (node pools), else by index."""
    name = getattr(item, "name", None) if dataclasses.is_dataclass(item) else None
    return repr(name) if isinstance(name, str) else str(i)


def fields_problems(obj: Any, prefix: str = "") -> list[Problem]:
    """Type problems in every field of a dataclass instance (recursively), paths under ``prefix``."""
    hints = _hints(type(obj))
    problems = []
    for f in dataclasses.fields(obj):
        at = f"{prefix}.{f.name}" if prefix else f.name
        problems += type_problems(getattr(obj, f.name), hints.get(f.name, Any), at)
    return problems


def _wrong_type(value: Any, hint: Any, field: str) -> Problem:
    got = "a string" if isinstance(value, str) else (
        "None" if value is None else f"{'a' if type(value).__name__[0] not in 'aeiou' else 'an'} "
                                     f"{type(value).__name__}")
    fix = f"expected {describe(hint)}, got {got}"
    options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    if isinstance(value, float) and int in options and 0 < value < 1:
        fix += " (a percentage is a whole number: 75, not 0.75)"
    elif isinstance(value, str) and (int in options or float in options) and value.strip().lstrip("-").replace(
            ".", "", 1).isdigit():
        fix += f" (write {value.strip()} without quotes)"
    elif isinstance(value, str) and any(typing.get_origin(o) in _SEQUENCES for o in options):
        fix += f" (write [{value!r}] for a list of one)"
    elif isinstance(value, str) and isinstance(hint, type) and issubclass(hint, enum.Enum):
        fix = f"expected {hint.__name__}, got a string; use one of " + ", ".join(
            f"{hint.__name__}.{m.name}" for m in hint)
    return Problem(field, value, fix)


_HINTS: dict[Any, dict[str, Any]] = {}


def _hints(owner: Any) -> dict[str, Any]:
    """Resolved annotations of a class or function, computed once."""
    if owner not in _HINTS:
        _HINTS[owner] = typing.get_type_hints(owner)
    return _HINTS[owner]


def checked_props(cls: type[_C]) -> type[_C]:
    """Class decorator for constructs: before ``__init__`` runs, every keyword is checked against its
    annotation, unknown and missing keywords are named (with the closest known one), and an id
    already used in the scope is refused; all of it as one ``ConfigError`` on the construct's path.
    """
    init: Callable[..., None] = cls.__init__
    signature = inspect.signature(init)
    params = {n: p for n, p in signature.parameters.items() if n not in ("self", "scope", "id")}

    @functools.wraps(init)
    def __init__(self: Any, scope: Any, id: Any, *args: Any, **kwargs: Any) -> None:
        where = _path(scope, id)
        problems = []
        if not isinstance(id, str) or not id:
            problems.append(Problem("id", id, "give the construct a non-empty string id"))
        elif isinstance(scope, Construct) and scope.node.try_find_child(id) is not None:
            problems.append(Problem("id", id, f"is already used by another construct in {scope.node.path!r}; "
                                              "give each construct its own id"))
        if args:
            problems.append(Problem("arguments", list(args), f"{cls.__name__} takes keywords after the id: "
                                                             f"{cls.__name__}(scope, id, image=..., ...)"))
        hints = _hints(init)
        for name, value in kwargs.items():
            if name not in params:
                close = _closest(name, params)
                problems.append(Problem(name, value, f"{cls.__name__} has no keyword {name!r}" + (
                    f"; did you mean {close[0]!r}?" if close else f"; it takes {', '.join(params)}")))
            else:
                problems += type_problems(value, hints.get(name, Any), name)
        for name, param in params.items():
            if param.default is inspect.Parameter.empty and name not in kwargs:
                problems.append(Problem(name, None, f"is required ({describe(hints.get(name, Any))})"))
        if problems:
            raise ConfigError(where, problems)
        init(self, scope, id, **kwargs)

    setattr(cls, "__init__", __init__)  # noqa: B010 (mypy refuses assigning to a method)
    return cls


def checked_fields(cls: type[_C]) -> type[_C]:
    """Class decorator for option groups and config dataclasses (put it above ``@dataclass``): an unknown
    or missing keyword is a ``ConfigError`` naming the file and line that built the object, the class,
    the keyword and the closest known one, instead of a ``TypeError``. Field types are checked where the
    object is used (``fields_problems``), with the full path of the field."""
    init: Callable[..., None] = cls.__init__
    params = {n: p for n, p in inspect.signature(init).parameters.items() if n != "self"}

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        problems = []
        if args:
            keywords = ", ".join(f"{n}=..." for n in params)
            problems.append(Problem("arguments", list(args), f"{cls.__name__} takes keywords only: "
                                                             f"{cls.__name__}({keywords})"))
        for name, value in kwargs.items():
            if name not in params:
                close = _closest(name, params)
                problems.append(Problem(name, value, f"{cls.__name__} has no field {name!r}" + (
                    f"; did you mean {close[0]!r}?" if close else f"; it has {', '.join(params)}")))
        for name, param in params.items():
            if param.default is inspect.Parameter.empty and name not in kwargs:
                problems.append(Problem(name, None, f"is required by {cls.__name__}"))
        if problems:
            raise ConfigError(f"{_caller()}: {cls.__name__}(...)", problems)
        init(self, **kwargs)

    setattr(cls, "__init__", __init__)  # noqa: B010
    return cls


def _closest(name: str, choices: Iterable[str]) -> list[str]:
    """The known name a typo most likely meant: a close spelling, else one that contains it."""
    choices = list(choices)
    return difflib.get_close_matches(name, choices, n=1) or [c for c in choices if name and name in c][:1]


def _caller() -> str:
    """``file:line`` of the code that called into this module's wrappers, relative to the working directory."""
    frame = inspect.currentframe()
    while frame is not None and frame.f_code.co_filename in (__file__, dataclasses.__file__):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    path = Path(frame.f_code.co_filename).resolve()
    if path.is_relative_to(Path.cwd()):
        path = path.relative_to(Path.cwd())
    return f"{path}:{frame.f_lineno}"


def _path(scope: Any, id: Any) -> str:
    if isinstance(scope, Construct):
        return f"{scope.node.path}/{id}" if scope.node.path else str(id)
    return str(id)
