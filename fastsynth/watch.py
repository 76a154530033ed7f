"""``pipenv run synth --watch``: keep providers loaded, re-synthesize on every edit.

The first synthesis pays for starting Node and loading the provider
assemblies; after that, an edit under ``constructs_lib/``, ``stacks/`` or
``environments/`` reloads only the project's own modules and synthesizes
again in the same process. A mistake in the edited code is reported (a
configuration error as its message, anything else as a traceback) and the
watcher keeps going; the previous output stays in place until a synthesis
succeeds.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = ["WATCHED", "reload_project", "snapshot", "watch"]

#: The project's own packages: what an edit can change, and what is reloaded.
WATCHED = ("constructs_lib", "stacks", "environments")


def snapshot(root: Path, packages: Iterable[str] = WATCHED) -> dict[Path, float]:
    """Modification times of every file under the watched packages."""
    return {path: path.stat().st_mtime_ns for package in packages for path in sorted((root / package).rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts}


def reload_project(packages: Iterable[str] = WATCHED) -> None:
    """Forget the project's modules so the next import reads the edited files; providers stay loaded."""
    prefixes = tuple(packages)
    for name in [n for n in sys.modules if n.split(".", 1)[0] in prefixes]:
        del sys.modules[name]


def watch(synthesize: Callable[[], list[str]], root: Path, *, interval: float = 0.2,
          out: Callable[[str], None] = print, iterations: int | None = None,
          reload: Callable[[], None] = reload_project) -> None:
    """Synthesize now and after every change under ``root``'s watched packages (Ctrl-C stops).

    ``iterations`` bounds the number of syntheses (for tests); None watches forever.
    """
    done = 0
    seen = snapshot(root)
    while iterations is None or done < iterations:
        start = time.perf_counter()
        try:
            stacks = synthesize()
        except Exception as error:  # report and keep watching: the next edit may fix it
            if type(error).__name__ == "ConfigError":
                out(f"error: {error}")
            else:
                out("".join(traceback.format_exception(error)).rstrip())
            out(f"synthesis failed after {time.perf_counter() - start:.2f} s; previous output kept; watching")
        else:
            out(f"synthesized {len(stacks)} stacks in {time.perf_counter() - start:.2f} s; watching "
                f"{', '.join(p + '/' for p in WATCHED)}")
        done += 1
        if iterations is not None and done >= iterations:
            return
        while (current := snapshot(root)) == seen:
            time.sleep(interval)
        changed = sorted(str(p.relative_to(root)) for p in set(current) ^ set(seen) | {
            p for p in current.keys() & seen.keys() if current[p] != seen[p]})
        seen = current
        out(f"changed: {', '.join(changed)}")
        reload()
