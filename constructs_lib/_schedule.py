"""Cron schedules as Kubernetes reads them, parsed by cronsim, and how far apart their runs can be.

Kubernetes parses a CronJob's schedule with robfig/cron's standard parser: five
fields (minute, hour, day of month, month, day of week), names of months and
days, and the macros ``@yearly`` ... ``@hourly``. cronsim parses the same fields
the same way (day of month and day of week match either, unless one is ``*``),
and also extensions Kubernetes refuses (a seconds field, ``L``, ``W``, ``#``; ``?`` in the
day fields is ``*`` to both once translated):
those are refused here first, so that what passes here is what the API server
accepts.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from cronsim import CronSim, CronSimError

__all__ = ["MACROS", "Cadence", "cadence"]

#: robfig/cron's descriptors that Kubernetes accepts, as the five fields they stand for.
MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
          "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
_NAMES = re.compile(r"JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC|SUN|MON|TUE|WED|THU|FRI|SAT")
#: A fixed start, so that synthesis never depends on the day it runs.
_REFERENCE = datetime(2025, 1, 1, tzinfo=UTC)
#: Enough matching days to see every weekly, monthly and yearly pattern; 8 years for a leap day's.
_MAX_DAYS, _HORIZON = 800, timedelta(days=8 * 366)
EXAMPLE = "five fields: minute hour day-of-month month day-of-week, e.g. '0 3 * * *' (03:00 every day)"


@dataclass(frozen=True)
class Cadence:
    """How far apart two consecutive runs of a schedule are, at the closest and at the farthest (seconds).

    Computed in UTC: a daylight-saving shift of the schedule's time zone moves a gap by an hour at most.
    """

    shortest: int
    longest: int


@functools.lru_cache(maxsize=256)
def cadence(schedule: str) -> Cadence | str:
    """The schedule's cadence, or what is wrong with it (a sentence naming the fix)."""
    expr = MACROS.get(schedule.strip().lower(), schedule.strip())
    if expr.startswith("@"):
        return f"not a schedule Kubernetes knows; use a cron expression ({EXAMPLE}) or one of {', '.join(MACROS)}"
    if re.match(r"^(CRON_)?TZ=", expr):
        return "Kubernetes refuses a time zone inside the schedule; pass time_zone=... instead"
    fields = expr.split()
    if len(fields) != 5:
        return f"has {len(fields)} field{'s' if len(fields) != 1 else ''}; Kubernetes takes {EXAMPLE}"
    # robfig/cron reads '?' as '*' in the day fields; cronsim does not know it.
    fields[2], fields[4] = fields[2].replace("?", "*"), fields[4].replace("?", "*")
    expr = " ".join(fields)
    extensions = sorted({c for c in _NAMES.sub("", expr.upper()) if c in "LW#?"})
    if extensions:
        return f"uses {', '.join(extensions)}, which Kubernetes' cron parser does not know; {EXAMPLE}"
    try:
        parsed = CronSim(expr, _REFERENCE)
        days = CronSim(f"0 0 {fields[2]} {fields[3]} {fields[4]}", _REFERENCE)
        matching: list[datetime] = []
        for day in days:
            if day - _REFERENCE > _HORIZON or len(matching) >= _MAX_DAYS:
                break
            matching.append(day)
    except CronSimError as error:
        return f"not a cron expression ({str(error).lower()}); {EXAMPLE}"
    if len(matching) < 2:
        return "runs less than twice in eight years; choose a schedule that runs"
    # Every matching day has the same runs (the minute and hour fields); between days, the gap is from the
    # day's last run to the next matching day's first.
    times = sorted(hour * 3600 + minute * 60 for hour in parsed.hours for minute in parsed.minutes)
    within = [b - a for a, b in pairwise(times)]
    span = times[-1] - times[0]
    between = [int((b - a).total_seconds()) - span for a, b in pairwise(matching)]
    gaps = within + between
    return Cadence(shortest=min(gaps), longest=max(gaps))
