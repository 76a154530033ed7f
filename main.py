#!/usr/bin/env python
"""The cdktf app: synthesizes every environment's stacks to ``cdktf.out/stacks/<stack>/cdk.tf.json``.

    pipenv run synth                      # every environment
    pipenv run synth --env staging        # one (repeatable); or ENVIRONMENT=staging
    pipenv run synth --watch              # re-synthesize on every edit, providers kept loaded
    cdktf synth                           # the same, through the cdktf CLI

The output is always whole (``fastsynth/output.py``): synthesis writes beside
it and switches it in in one step, so a failed or interrupted run leaves the
previous output as it was, and ``--env`` replaces only that environment's
stacks. A user's mistake prints one line and exits 2 (``fastsynth/errors.py``;
``--traceback`` shows the full one); Ctrl-C leaves nothing behind, not even
jsii's folders in ``$TMPDIR`` (``fastsynth/cleanup.py``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# Must be set before jsii starts its Node process (on first cdktf import).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
# No call to HashiCorp's version-check service from Terraform or the cdktf CLI started by this process.
os.environ.setdefault("CHECKPOINT_DISABLE", "1")

# Load only the provider submodules the stacks use (fastsynth/lazy_providers.py); before any provider import.
from fastsynth import cleanup, lazy_providers, output
from fastsynth.errors import TRACEBACK_ENV, UsageError, describe

if lazy_providers.enabled():
    lazy_providers.install()

ROOT = Path(__file__).resolve().parent


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", action="append", dest="envs", metavar="NAME",
                        help="synthesize only this environment (repeatable); default: $ENVIRONMENT or all")
    parser.add_argument("--outdir", default=os.environ.get("CDKTF_OUTDIR", "cdktf.out"),
                        help="output directory; default: $CDKTF_OUTDIR or cdktf.out")
    parser.add_argument("--watch", action="store_true",
                        help="keep running; re-synthesize when constructs_lib/, stacks/ or environments/ change")
    parser.add_argument("--traceback", action="store_true",
                        help=f"show the full traceback of a mistake, not one line (also {TRACEBACK_ENV}=1)")
    return parser.parse_args(argv)


def synthesize(env_names: list[str] | None, outdir: Path) -> list[str]:
    """Synthesize the named environments (all when None) into ``outdir``; return the stack names.

    The other environments' stacks already in ``outdir`` are kept.
    """
    from environments import ENVIRONMENTS

    unknown = sorted(set(env_names or ()) - set(ENVIRONMENTS))
    if unknown:
        raise UsageError(f"unknown environment(s) {', '.join(unknown)}; choose from {', '.join(ENVIRONMENTS)}")
    selected = [ENVIRONMENTS[name] for name in env_names] if env_names else list(ENVIRONMENTS.values())

    from cdktf import App

    from stacks import build_environments, check

    outdir = outdir.resolve()
    with cleanup.tracked(output.new_output_dir(outdir)) as staging:
        app = App(outdir=str(staging))
        built = build_environments(app, selected)
        check(app)  # the environments' rules, on every construct, before anything is written
        cleanup.checkpoint("built")
        app.synth()
        cleanup.checkpoint("synthesized")
        keep = None if env_names is None else output.keep_other_environments(built, ENVIRONMENTS)
        output.publish(staging, outdir, keep=keep)
    return [stack.node.id for stack in app.node.children if hasattr(stack, "layer")]


def _watch(env_names: list[str] | None, outdir: Path) -> int:
    """``--watch``: one warm worker per environment when there are CPUs for it, else this process."""
    from environments import ENVIRONMENTS
    from fastsynth.watch import ParallelSynthesizer, watch

    names = env_names or list(ENVIRONMENTS)
    parallel = len(names) > 1 and (os.cpu_count() or 1) > 1
    synthesizer = ParallelSynthesizer(names, outdir, ROOT, environments=list(ENVIRONMENTS)) if parallel else None
    if synthesizer is not None:
        cleanup.on_interrupt(synthesizer.close)
    try:
        if synthesizer is not None:
            watch(synthesizer, ROOT, reload=lambda: None)  # the workers reload their own modules
        else:
            watch(lambda: synthesize(env_names, outdir), ROOT)
    except KeyboardInterrupt:
        return 0
    finally:
        if synthesizer is not None:
            synthesizer.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.traceback:
        os.environ[TRACEBACK_ENV] = "1"  # watch mode's workers read it too
    env_names = args.envs or [n for n in os.environ.get("ENVIRONMENT", "").split(",") if n] or None
    if args.watch:
        return _watch(env_names, Path(args.outdir))
    try:
        stacks = synthesize(env_names, Path(args.outdir))
    except Exception as error:
        failure = describe(error, ROOT)
        print(failure.message, file=sys.stderr)
        return failure.exit_code
    print(f"synthesized {len(stacks)} stacks to {args.outdir}/stacks: {', '.join(sorted(stacks))}")
    return 0


def run() -> None:
    """The command line: a private temporary directory, and Ctrl-C that leaves nothing behind."""
    watching = "--watch" in sys.argv[1:]
    cleanup.install(message="" if watching else "interrupted; the output is left whole, with nothing temporary behind",
                    exit_code=(lambda signum: 0) if watching else None)
    cleanup.checkpoint("started")
    sys.exit(main())


if __name__ == "__main__":
    run()
