"""Kubernetes resource quantities, checked the way the API server parses them."""

from __future__ import annotations

import re

_CPU = re.compile(r"^(\d+m|\d+(\.\d{1,3})?)$")
_MEMORY = re.compile(r"^\d+(Ki|Mi|Gi|Ti|k|M|G|T)?$")
_MEMORY_FACTORS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
                   "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}

CPU_FIX = "use millicores ('250m') or cores ('0.5', '2')"
MEMORY_FIX = "use a binary quantity such as '512Mi' or '2Gi' (not '512MB')"


def is_cpu(value: str) -> bool:
    return bool(_CPU.match(value)) and value not in ("0", "0m")


def memory_bytes(value: str) -> int | None:
    """Bytes in a memory quantity, or None when it is not one."""
    match = _MEMORY.match(value)
    if not match or value.startswith("0"):
        return None
    unit = match.group(1) or ""
    return int(value[: len(value) - len(unit)]) * _MEMORY_FACTORS[unit]
