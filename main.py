#!/usr/bin/env python
"""The cdktf app: synthesizes every environment's stacks to ``cdktf.out/stacks/<stack>/cdk.tf.json``.

    pipenv run synth                      # every environment
    pipenv run synth --env staging        # one (repeatable); or ENVIRONMENT=staging
    pipenv run synth --watch              # re-synthesize on every edit, providers kept loaded
    cdktf synth                           # the same, through the cdktf CLI

Output is written to a temporary directory beside the output directory and
swapped in only when synthesis succeeded, so a failed run leaves the previous
output untouched. A configuration mistake prints its message and exits 2,
without a stack trace.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

# Must be set before jsii starts its Node process (on first cdktf import).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

# Load only the provider submodules the stacks use (fastsynth/lazy_providers.py); before any provider import.
from fastsynth import lazy_providers

if lazy_providers.enabled():
    lazy_providers.install()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", action="append", dest="envs", metavar="NAME",
                        help="synthesize only this environment (repeatable); default: $ENVIRONMENT or all")
    parser.add_argument("--outdir", default=os.environ.get("CDKTF_OUTDIR", "cdktf.out"),
                        help="output directory; default: $CDKTF_OUTDIR or cdktf.out")
    parser.add_argument("--watch", action="store_true",
                        help="keep running; re-synthesize when constructs_lib/, stacks/ or environments/ change")
    return parser.parse_args(argv)


def synthesize(env_names: list[str] | None, outdir: Path) -> list[str]:
    """Synthesize the named environments (all when None) into ``outdir``; return the stack names."""
    from cdktf import App

    from environments import ENVIRONMENTS
    from stacks import build_environments, check

    unknown = sorted(set(env_names or ()) - set(ENVIRONMENTS))
    if unknown:
        raise SystemExit(f"error: unknown environment(s) {', '.join(unknown)}; "
                         f"choose from {', '.join(ENVIRONMENTS)}")
    selected = [ENVIRONMENTS[name] for name in env_names] if env_names else list(ENVIRONMENTS.values())

    outdir = outdir.resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=outdir.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the output is not secret
    try:
        app = App(outdir=str(staging))
        build_environments(app, selected)
        check(app)  # the environments' rules, on every construct, before anything is written
        app.synth()
        if outdir.exists():
            shutil.rmtree(outdir)
        staging.rename(outdir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [stack.node.id for stack in app.node.children if hasattr(stack, "layer")]


def _watch(env_names: list[str] | None, outdir: Path) -> int:
    """``--watch``: one warm worker per environment when there are CPUs for it, else this process."""
    from environments import ENVIRONMENTS
    from fastsynth.watch import ParallelSynthesizer, watch

    root = Path(__file__).resolve().parent
    names = env_names or list(ENVIRONMENTS)
    parallel = len(names) > 1 and (os.cpu_count() or 1) > 1
    synthesizer = ParallelSynthesizer(names, outdir, root) if parallel else None
    try:
        if synthesizer is not None:
            watch(synthesizer, root, reload=lambda: None)  # the workers reload their own modules
        else:
            watch(lambda: synthesize(env_names, outdir), root)
    except KeyboardInterrupt:
        return 0
    finally:
        if synthesizer is not None:
            synthesizer.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    env_names = args.envs or [n for n in os.environ.get("ENVIRONMENT", "").split(",") if n] or None
    if args.watch:
        return _watch(env_names, Path(args.outdir))
    from constructs_lib.validation import ConfigError

    try:
        stacks = synthesize(env_names, Path(args.outdir))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"synthesized {len(stacks)} stacks to {args.outdir}/stacks: {', '.join(sorted(stacks))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
