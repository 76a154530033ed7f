"""``pipenv run stacks --env staging``: the stacks CI plans and applies, in dependency order.

The state bootstrap stacks are left out: they are applied by hand, once per
account (README). Read from a synthesis of the app, so CI, Atlantis and the
stacks themselves can never disagree.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

__all__ = ["ci_stacks", "main", "stack_graph"]


def stack_graph(synth_dir: Path | None = None) -> dict[str, list[str]]:
    """Every synthesized stack -> the stacks it depends on (from ``manifest.json``)."""
    if synth_dir is None:
        import main as app

        with tempfile.TemporaryDirectory(prefix="stacks.") as tmp:
            app.synthesize(None, Path(tmp) / "out")
            return stack_graph(Path(tmp) / "out")
    manifest = json.loads((synth_dir / "manifest.json").read_text())
    return {name: sorted(stack.get("dependencies", [])) for name, stack in sorted(manifest["stacks"].items())}


def ci_stacks(graph: dict[str, list[str]], env: str | None = None) -> list[str]:
    """The stacks CI applies (not ``*-state``), dependencies first, optionally of one environment."""
    chosen = {name for name in graph if not name.endswith("-state") and (env is None or name.rsplit("-", 1)[0] == env)}
    ordered: list[str] = []

    def visit(name: str, path: tuple[str, ...] = ()) -> None:
        if name in ordered or name not in chosen:
            return
        if name in path:
            raise ValueError(f"dependency cycle: {' -> '.join((*path, name))}")
        for dependency in graph[name]:
            visit(dependency, (*path, name))
        ordered.append(name)

    for name in sorted(chosen):
        visit(name)
    return ordered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", help="only this environment's stacks")
    parser.add_argument("--synth-dir", type=Path, help="read an existing synthesis (cdktf.out) instead of synthesizing")
    args = parser.parse_args(argv)
    stacks = ci_stacks(stack_graph(args.synth_dir), args.env)
    if not stacks:
        print(f"no stacks for environment {args.env!r}", file=sys.stderr)
        return 2
    print(" ".join(stacks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
