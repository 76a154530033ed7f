"""Reading a resource as checkov hands it to a check (every value wrapped in a list)."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckResult


def scalar(conf: dict[str, Any] | None, key: str) -> Any:
    """A single value (``["x"]`` -> ``"x"``); None when absent."""
    value = (conf or {}).get(key)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def strings(conf: dict[str, Any] | None, key: str) -> list[str]:
    """A string or a list of strings, as a list (``[["a", "b"]]`` or ``["a"]``)."""
    value = scalar(conf, key)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def block(conf: dict[str, Any] | None, key: str) -> dict[str, Any]:
    """A nested object (``[{...}]`` -> ``{...}``); empty when absent."""
    value = (conf or {}).get(key)
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return value[0]
    return value if isinstance(value, dict) else {}


def blocks(conf: dict[str, Any] | None, key: str) -> list[dict[str, Any]]:
    """A list of nested objects (a single object counts as a list of one)."""
    value = (conf or {}).get(key)
    if isinstance(value, dict):
        return [value]
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def verdict(details: list[str], problems: list[str]) -> CheckResult:
    """FAILED with the problems as the record's details, PASSED when there are none."""
    details.extend(problems)
    return CheckResult.FAILED if problems else CheckResult.PASSED


def stack_of(entity_path: str) -> str:
    """The stack a checked resource belongs to: the directory of its file.

    Both layouts name it so: the policy scan's copy (``<stack>/<kind>.<type>.tf.json``) and
    ``cdktf.out/stacks/<stack>/cdk.tf.json`` scanned by hand.
    """
    scanned_file = entity_path.split(":", 1)[0]
    parts = [part for part in scanned_file.split("/") if part]
    return parts[-2] if len(parts) >= 2 else ""
