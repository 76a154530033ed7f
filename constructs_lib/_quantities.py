"""Kubernetes resource quantities, checked the way the API server parses them, and for plausibility."""

from __future__ import annotations

import re

_CPU = re.compile(r"^(\d+m|\d+(\.\d{1,3})?)$")
_MEMORY = re.compile(r"^\d+(Ki|Mi|Gi|Ti|k|M|G|T)$")
_MEMORY_FACTORS = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
                   "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
#: More cores than any one node a service would run on: a request this large is a missing 'm'.
_MOST_CORES = 64

CPU_FIX = "use millicores ('250m') or cores ('0.5', '2')"
MEMORY_FIX = "use a binary quantity such as '512Mi' or '2Gi' (not '512MB', not a bare number of bytes)"


def cpu_problem(value: str) -> str | None:
    """What is wrong with a CPU quantity, or None."""
    if not _CPU.match(value) or value in ("0", "0m") or float(value.rstrip("m") or 0) == 0:
        return CPU_FIX
    if not value.endswith("m") and float(value) > _MOST_CORES:
        return f"{value} cores is more than any node has; did you mean '{value}m' (millicores)?"
    return None


def memory_bytes(value: str) -> int | None:
    """Bytes in a memory quantity with a unit, or None when it is not one."""
    match = _MEMORY.match(value)
    if not match or value.startswith("0"):
        return None
    unit = match.group(1)
    return int(value[: len(value) - len(unit)]) * _MEMORY_FACTORS[unit]


_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
DURATION_FIX = "use a duration such as '90s', '45m', '2h' or '1h30m'"


def duration_seconds(value: str) -> int | None:
    """Seconds in a duration (``90s``, ``45m``, ``1h30m``, ``2d``), or None when it is not one (or is zero)."""
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match or not value:
        return None
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    return total or None


def format_duration(seconds: int) -> str:
    """``5400`` -> ``1h30m``: the shortest duration text for a number of seconds."""
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"
