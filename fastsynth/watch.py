"""``pipenv run synth --watch``: keep providers loaded, re-synthesize on every edit.

The first synthesis pays for starting Node and loading the provider
assemblies; after that, an edit under ``constructs_lib/``, ``stacks/`` or
``environments/`` reloads only the project's own modules and synthesizes
again in a warm process. With more than one environment and more than one
CPU, each environment has its own warm worker process and they synthesize
side by side; their outputs are merged into exactly what one process writes
and switched in in one step (``fastsynth/output.py``). A mistake in the
edited code is reported as ``main.py`` reports it (``fastsynth/errors.py``:
one line pointing at the user's file and line; a traceback only for a bug
of ours) and the watcher keeps going; the previous output stays in place
until a synthesis succeeds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from fastsynth import cleanup, output
from fastsynth.errors import describe
from fastsynth.output import merge_outputs

__all__ = ["WATCHED", "ParallelSynthesizer", "SynthesisFailed", "merge_outputs", "reload_project", "snapshot",
           "watch"]

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
            out(str(error) if isinstance(error, SynthesisFailed) else describe(error, root).message)
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


class SynthesisFailed(RuntimeError):
    """A worker's synthesis failed; the message is what it printed (an error line or a traceback)."""


class ParallelSynthesizer:
    """One warm worker process per environment; a call synthesizes them all side by side into ``outdir``.

    ``environments``: every environment's name, to keep the stacks of those not synthesized in ``outdir``
    (as ``main.synthesize`` does); empty to replace the whole output.
    """

    def __init__(self, env_names: Sequence[str], outdir: Path, root: Path, *,
                 environments: Sequence[str] = ()) -> None:
        self.env_names = list(env_names)
        self.environments = list(environments)
        self.outdir = outdir.resolve()
        self.root = root
        self.workers: dict[str, subprocess.Popen] = {}

    def _worker(self, env: str) -> subprocess.Popen:
        worker = self.workers.get(env)
        if worker is None or worker.poll() is not None:
            worker = self.workers[env] = subprocess.Popen(
                [sys.executable, "-m", "fastsynth.watch", "--worker", env], cwd=self.root,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        return worker

    def __call__(self) -> list[str]:
        with cleanup.tracked(output.new_output_dir(self.outdir)) as work:
            for env in self.env_names:  # all start before any is waited for
                worker = self._worker(env)
                assert worker.stdin is not None
                worker.stdin.write(json.dumps({"outdir": str(work / env)}) + "\n")
            replies = {env: self._reply(env) for env in self.env_names}
            failed = [reply["message"] for reply in replies.values() if not reply["ok"]]
            if failed:  # the same mistake breaks every environment: say it once
                raise SynthesisFailed("\n".join(dict.fromkeys(failed)))
            merged = work / "merged"
            merged.mkdir()
            merge_outputs([work / env for env in self.env_names], merged)
            keep = output.keep_other_environments(self.env_names, self.environments) if self.environments else None
            output.publish(merged, self.outdir, keep=keep)
            return [stack for reply in replies.values() for stack in reply["stacks"]]

    def _reply(self, env: str) -> dict:
        worker = self.workers[env]
        assert worker.stdout is not None
        line = worker.stdout.readline()
        if not line:
            worker.wait()
            return {"ok": False,
                    "message": f"the {env} worker exited ({worker.returncode}); it restarts on the next edit"}
        return json.loads(line)

    def close(self) -> None:
        for worker in self.workers.values():
            if worker.poll() is None:
                worker.terminate()
                worker.wait()


def _serve(env: str) -> int:
    """A worker: synthesize ``env`` into each directory asked for on stdin; answer one JSON line each."""
    cleanup.install(exit_code=lambda signum: 0)  # before jsii starts: its folders go in a private $TMPDIR
    import main  # first: installs the import hooks before cdktf starts Node

    first = True
    for line in sys.stdin:
        request = json.loads(line)
        if not first:
            reload_project()
        first = False
        try:
            stacks = main.synthesize([env], Path(request["outdir"]))
        except Exception as error:  # report it; the next edit may fix it
            reply = {"ok": False, "message": describe(error, main.ROOT).message}
        else:
            reply = {"ok": True, "stacks": stacks}
        print(json.dumps(reply), flush=True)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="watch-mode worker (internal)")
    parser.add_argument("--worker", required=True, metavar="ENV")
    sys.exit(_serve(parser.parse_args().worker))
