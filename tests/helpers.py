"""Helpers for asserting on synthesized Terraform JSON."""

from __future__ import annotations

import json
from collections.abc import Callable

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
