"""What a failed synthesis prints: one line for a user's mistake, a traceback for ours.

Used by ``main.py`` and by watch mode (both its in-process loop and its
workers), so the same mistake reads the same everywhere:

- a ``ConfigError`` (bad input, caught by the checks before synthesis) or a
  ``UsageError`` (the command line): ``error: <message>``, exit 2;
- jsii's "There is already a Construct with name 'x' in ..." (two constructs
  with one id): one line naming the construct path and the fix, exit 2;
- any other exception whose innermost frame in the project is in a file
  users edit (``environments/``, ``stacks/``): ``stacks/services/checkout.py:42:
  NameError: name 'Microservce' is not defined. Did you mean: 'Microservice'?``,
  exit 2, without the frames of our tooling, the constructs and jsii;
- anything else is our bug: the full traceback, exit 1.

``--traceback`` (``CDKTF_TRACEBACK=1``) shows the full traceback for a user's
mistake too. Credential-shaped words in a one-line message are masked.
"""

from __future__ import annotations

import os
import re
import traceback
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TRACEBACK_ENV", "USER_PACKAGES", "Failure", "UsageError", "describe", "full_traceback_requested"]

#: The packages users edit: a mistake whose innermost frame is here is theirs.
USER_PACKAGES = ("environments", "stacks")
#: Set to 1 to see the full traceback of a user's mistake.
TRACEBACK_ENV = "CDKTF_TRACEBACK"

#: jsii's message when two constructs under one parent share an id (constructs' Node.addChild).
_DUPLICATE_ID = re.compile(r"There is already a Construct with name '(?P<id>[^']*)' in (?P<kind>\S+) "
                           r"\[(?P<parent>[^\]]*)\]")


class UsageError(ValueError):
    """A mistake on the command line (an unknown environment...)."""


@dataclass(frozen=True)
class Failure:
    """How a failure is reported: ``message`` to stderr, then exit with ``exit_code``."""

    exit_code: int  # 2: the user's mistake; 1: ours
    message: str


def full_traceback_requested() -> bool:
    return os.environ.get(TRACEBACK_ENV, "") not in ("", "0")


def describe(error: BaseException, root: Path, *, full: bool | None = None) -> Failure:
    """Classify ``error`` from a synthesis of the project at ``root`` and say it as its reader needs it."""
    full = full_traceback_requested() if full is None else full
    text = "".join(traceback.format_exception(error)).rstrip()
    if _is_config_error(error):
        return Failure(2, f"error: {error}")
    duplicate = _DUPLICATE_ID.search(str(error))
    if duplicate:
        parent, id_ = duplicate["parent"], duplicate["id"]
        path = f"{parent}/{id_}" if parent else id_
        line = (f"error: {path}: the id {id_!r} is already used under {parent or 'the app'}; "
                f"give this construct a different id")
        return Failure(2, text if full else _located(_innermost_frame(error, root, user_only=True), line))
    where = _innermost_frame(error, root)
    if where is None:
        return Failure(1, text)
    if full:
        return Failure(2, text)
    if isinstance(error, SyntaxError):
        summary = f"{type(error).__name__}: {error.msg}"
    else:
        summary = traceback.format_exception_only(error)[-1].strip()
    return Failure(2, _located(where, _mask(" ".join(summary.split()))))


def _is_config_error(error: BaseException) -> bool:
    # By name: watch mode reloads constructs_lib, so the class object changes between syntheses.
    return any(cls.__name__ in ("ConfigError", "UsageError") and
               cls.__module__ in ("constructs_lib.validation", __name__) for cls in type(error).__mro__)


def _located(where: tuple[str, int] | None, message: str) -> str:
    return f"{where[0]}:{where[1]}: {message}" if where else message


def _innermost_frame(error: BaseException, root: Path, *, user_only: bool = False) -> tuple[str, int] | None:
    """``(path relative to root, line)`` of the innermost project frame if it is in a user's file.

    None when the innermost project frame is ours (constructs, tooling) or there is none; with
    ``user_only``, the innermost frame in a user's file wherever it is.
    """
    frames = [(frame.filename, frame.lineno or 0) for frame in traceback.extract_tb(error.__traceback__)]
    if isinstance(error, SyntaxError) and error.filename:  # the file that failed to compile
        frames.append((error.filename, error.lineno or 0))
    for filename, line in reversed(frames):
        relative = _project_relative(filename, root)
        if relative is None or (user_only and relative.parts[0] not in USER_PACKAGES):
            continue
        return (relative.as_posix(), line) if relative.parts[0] in USER_PACKAGES else None
    return None


def _project_relative(filename: str, root: Path) -> Path | None:
    try:
        relative = Path(filename).resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return None
    if not relative.parts or "site-packages" in relative.parts or relative.parts[0].startswith("."):
        return None  # a virtualenv inside the checkout is not the project
    return relative


def _mask(message: str) -> str:
    try:
        from constructs_lib.redact import MASK, looks_like_credential
    except ImportError:  # a checkout without the constructs: nothing to mask with
        return message
    return re.sub(r"[^\s'\"`,;()\[\]{}]+", lambda m: MASK if looks_like_credential(m.group()) else m.group(),
                  message)
