"""Helpers for asserting on synthesized Terraform JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from cdktf import TerraformStack, Testing


def synth(build: Callable[[TerraformStack], object]) -> dict:
    """Synthesize one throw-away stack that ``build`` fills; return its JSON."""
    stack = TerraformStack(Testing.app(), "test")
    build(stack)
    return json.loads(Testing.synth(stack))


def resources(stack_json: dict, type_: str) -> dict[str, dict]:
    """The resources of one Terraform type in a synthesized stack, by name."""
    return stack_json.get("resource", {}).get(type_, {})


def only(stack_json: dict, type_: str) -> dict:
    """The single resource of ``type_``; fails when there is not exactly one."""
    found = resources(stack_json, type_)
    assert len(found) == 1, f"expected one {type_}, found {sorted(found)}"
    return next(iter(found.values()))


def assert_config_error(build: Callable[[], object], where: str, message: str) -> None:
    """``build()`` fails with a ConfigError for ``where`` whose text matches the regex ``message``."""
    from constructs_lib import ConfigError

    try:
        build()
    except ConfigError as error:
        text = str(error)
        assert re.match(where, text), text
        assert re.search(message, text), text
    else:
        raise AssertionError(f"expected a ConfigError matching {message!r}")


def tree(root: Path) -> list[str]:
    """Every file below ``root``, relative to it, sorted."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def assert_same_tree(expected: Path, actual: Path) -> None:
    """``actual`` holds the same files as ``expected``, byte for byte (and not two empty trees)."""
    assert tree(expected), f"nothing in {expected}"
    assert tree(actual) == tree(expected)
    for name in tree(expected):
        assert (actual / name).read_bytes() == (expected / name).read_bytes(), name
