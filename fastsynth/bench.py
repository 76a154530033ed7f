"""``pipenv run bench``: what synthesis costs, measured in one run on this machine.

    pipenv run bench                        # everything below
    pipenv run bench --services 10,100      # other scaling points
    pipenv run bench --services ""          # no scaling runs

Each measurement is a fresh process, as a user or CI would run it:

(a) fast: the app, ``main.py``, as it runs by default: lazy provider imports in
    Python and lazy provider indexes in Node;
(b) stock: the same app with ``CDKTF_FAST_IMPORTS=0 CDKTF_FAST_NODE=0``: the
    providers' own eager imports on both sides;
(c) floor: writing the same JSON files from plain Python dicts (no cdktf, no Node);
(d) (a) with ``CDKTF_FAST_NODE=0``: the Python side alone, to tell the two apart;

then (a) with 10, 100 and 500 generated services added to one environment, and
watch mode: the median of 8 warm re-syntheses of every environment (each worker
reloads the project's modules first, as after an edit).
For each: wall time of the whole process, CPU time and peak resident memory
of Python and of the jsii Node process. Read from ``/proc``, so Linux only.

Then the two loops a developer waits on, so that they stay measured as the
project grows: the test suite (``pipenv run test``: pytest with the project's
defaults, in a fresh process) and the review of a one-service change
(``delivery.review.review`` on a temporary copy of the repository whose first
service's image tag changed). ``--skip tests,review`` leaves them out.
Times vary on shared machines: compare ratios within one run, not across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import pprint
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_TICKS = os.sysconf("SC_CLK_TCK")
#: The service module whose image tag the review's one-service change bumps (edge-gateway, as before the
#: services moved to one module each).
SERVICE_FILE = Path("stacks/services/edge_gateway.py")
#: The service's image in its module: the one-service change the review measures.
_IMAGE_TAG = re.compile(r'(image=f"\{REGISTRY\}/[\w.-]+:)([\w.-]+)"')


# -- child side: do the work, then report this process and its Node child ----------------------

def _descendants() -> list[int]:
    """Every process below this one: jsii's runtime starts Node, which starts the kernel's Node."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(stat.parent.name))
    found, queue = [], [os.getpid()]
    while queue:
        children = parents.get(queue.pop(), [])
        found += children
        queue += children
    return found


def _node_usage() -> tuple[float, float]:
    """CPU seconds and peak MiB of the Node processes below this one, each summed, before they exit."""
    cpu = peak = 0.0
    for pid in _descendants():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak += int(line.split()[1]) / 1024
        except OSError:
            continue
    return cpu, peak


def _report() -> None:
    own = resource.getrusage(resource.RUSAGE_SELF)
    node_cpu, node_peak = _node_usage()
    print("BENCH " + json.dumps({"py_cpu": own.ru_utime + own.ru_stime, "py_peak": own.ru_maxrss / 1024,
                                 "node_cpu": node_cpu, "node_peak": node_peak}), flush=True)


def _child(mode: str, outdir: str, arg: str | None) -> None:
    sys.path.insert(0, str(ROOT))
    if mode != "floor":
        # First: main installs the import hooks (and Node's preload) before cdktf starts Node.
        import main
    if mode == "app":
        main.synthesize(None, Path(outdir))
    elif mode == "scale":
        from cdktf import App

        from constructs_lib import MetricsEndpoint, Microservice
        from environments import ENVIRONMENTS
        from stacks import build_environment, check
        from stacks.services import REGISTRY

        app = App(outdir=outdir)
        services = build_environment(app, ENVIRONMENTS["staging"]).services
        # Services as `service new` writes them: the environment's rules hold for them, as for any other.
        for i in range(int(arg or 0)):
            Microservice(services, f"generated-{i:03d}", image=f"{REGISTRY}/generated-{i:03d}:1.0.{i}",
                         metrics=MetricsEndpoint(port=9090))
        check(app)
        app.synth()
    elif mode == "floor":
        sys.path.insert(0, str(Path(arg or "").parent))
        data = __import__(Path(arg or "").stem)
        for relative, content in data.FILES.items():
            path = Path(outdir) / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(content, indent=2))
    _report()


# -- parent side ---------------------------------------------------------------------------------

def _run(mode: str, outdir: Path, *, arg: str | None = None, fast: bool = True, node: bool = True) -> dict:
    env = {**os.environ, "CDKTF_FAST_IMPORTS": "1" if fast else "0", "CDKTF_FAST_NODE": "1" if node and fast else "0",
           "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    env.pop("NODE_OPTIONS", None)
    command = [sys.executable, "-m", "fastsynth.bench", "--child", mode, str(outdir)] + ([arg] if arg else [])
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"bench: {mode} failed:\n{result.stderr[-3000:]}")
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("BENCH ")]
    return {"wall": wall, **json.loads(line[len("BENCH "):])}


def _watch_timings(environments: list[str], runs: int = 8) -> tuple[float, list[float]]:
    from fastsynth.watch import ParallelSynthesizer  # no cdktf in this process: the workers have it

    os.environ["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    with tempfile.TemporaryDirectory(prefix="bench-watch.") as tmp:
        synthesizer = ParallelSynthesizer(environments, Path(tmp) / "out", ROOT)
        try:
            start = time.perf_counter()
            synthesizer()
            cold = time.perf_counter() - start
            warm = []
            for _ in range(runs):
                start = time.perf_counter()
                synthesizer()
                warm.append(time.perf_counter() - start)
        finally:
            synthesizer.close()
    return cold, warm


def _test_suite(work: Path) -> list[tuple[float, str]]:
    """Wall time and summary line of ``pipenv run test`` (pytest with pyproject's defaults), twice: cold, with
    an empty cache as on CI's clean clone, then with the results that run kept (``tests/helpers.reused``), as
    a developer's next run finds them when no source changed. The cache is this run's own (``cache_dir``
    in ``work``): the project's ``.pytest_cache`` is neither read nor changed."""
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    env.pop("NODE_OPTIONS", None)
    runs = []
    for _ in ("cold", "warm"):
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-o", f"cache_dir={work / 'pytest-cache'}"],
                                cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        lines = [line.strip("= ") for line in result.stdout.splitlines() if re.search(r"\d+ (passed|failed)", line)]
        runs.append((wall, lines[-1] if lines else f"pytest exited {result.returncode}"))
    return runs


def _one_service_review(work: Path) -> tuple[float, int]:
    """Wall time and exit code of the review of a one-service change, on a copy of this repository."""
    from delivery.review import review

    repo = work / "review-repo"
    for name in subprocess.run(["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True,
                               check=True).stdout.splitlines():
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    git = ["git", "-C", str(repo), "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run([*git, "init", "--quiet", "--initial-branch=main"], check=True)
    subprocess.run([*git, "add", "--all"], check=True)
    subprocess.run([*git, "commit", "--quiet", "--no-verify", "-m", "base"], check=True)
    services = repo / SERVICE_FILE
    changed, count = _IMAGE_TAG.subn(r'\1\2-bench"', services.read_text(), count=1)
    if not count:
        raise SystemExit(f"bench: no image=f\"{{REGISTRY}}/<name>:<tag>\" in {services.relative_to(repo)} to change")
    services.write_text(changed)
    start = time.perf_counter()
    result = review(repo, "HEAD")
    return time.perf_counter() - start, result.exit_code


def _floor_module(synth_dir: Path, target: Path) -> Path:
    files = {str(p.relative_to(synth_dir)): json.loads(p.read_text()) for p in sorted(synth_dir.rglob("*.json"))}
    target.write_text("FILES = " + pprint.pformat(files, width=120, sort_dicts=False) + "\n")
    return target


def _same_output(a: Path, b: Path) -> bool:
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    return files_a == files_b and all((a / f).read_bytes() == (b / f).read_bytes() for f in files_a)


def _row(label: str, m: dict) -> str:
    return (f"| {label} | {m['wall']:.2f} | {m['py_cpu']:.2f} | {m['node_cpu']:.2f} | "
            f"{m['py_peak']:.0f} | {m['node_peak']:.0f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure synthesis: fast path, stock path, plain-JSON floor.")
    parser.add_argument("--services", default="10,100,500",
                        help="generated-service counts for the scaling runs (comma-separated; empty for none)")
    parser.add_argument("--skip", default="", metavar="tests,review",
                        help="leave out the test suite's and/or the review's wall time (comma-separated)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("CHECKPOINT_DISABLE", "1")
    if args.child:
        mode, outdir, *rest = args.child
        _child(mode, outdir, rest[0] if rest else None)
        return 0

    counts = [int(n) for n in args.services.split(",") if n.strip()]
    skip = {name.strip() for name in args.skip.split(",") if name.strip()}
    if skip - {"tests", "review"}:
        parser.error(f"--skip: unknown {', '.join(sorted(skip - {'tests', 'review'}))}; choose from tests, review")
    with tempfile.TemporaryDirectory(prefix="bench.") as tmp:
        work = Path(tmp)
        print("measuring (a) fast ...", file=sys.stderr)
        fast = _run("app", work / "fast")
        print("measuring (b) stock ...", file=sys.stderr)
        stock = _run("app", work / "stock", fast=False)
        module = _floor_module(work / "fast", work / "floor_data.py")
        _run("floor", work / "floor-warmup", arg=str(module))  # compiles the dict literals once, like a .pyc
        print("measuring (c) floor ...", file=sys.stderr)
        floor = _run("floor", work / "floor", arg=str(module))
        print("measuring (d) Python side only ...", file=sys.stderr)
        python_only = _run("app", work / "python-only", node=False)
        identical = all(_same_output(work / "fast", work / other) for other in ("stock", "python-only"))
        print("measuring watch mode ...", file=sys.stderr)
        manifest = json.loads((work / "fast" / "manifest.json").read_text())
        cold, warm = _watch_timings(sorted({name.rsplit("-", 1)[0] for name in manifest["stacks"]}))
        scaling = []
        for n in counts:
            print(f"measuring {n} generated services ...", file=sys.stderr)
            scaling.append((n, _run("scale", work / f"scale-{n}", arg=str(n))))
        review = None
        if "review" not in skip:
            print("measuring the review of a one-service change ...", file=sys.stderr)
            review = _one_service_review(work)
        suite = None
        if "tests" not in skip:
            print("measuring the test suite ...", file=sys.stderr)
            suite = _test_suite(work)

    print("| run | wall s | Python CPU s | Node CPU s | Python peak MiB | Node peak MiB |")
    print("|---|---|---|---|---|---|")
    print(_row("(a) fast: every environment", fast))
    print(_row("(b) stock imports", stock))
    print(_row("(c) floor: plain dicts to JSON", floor))
    print(_row("(d) Python side only (CDKTF_FAST_NODE=0)", python_only))
    for n, m in scaling:
        print(_row(f"(a) staging + {n} generated services", m))
    print()
    cpu = (fast["py_cpu"] + fast["node_cpu"]) / (stock["py_cpu"] + stock["node_cpu"])
    print(f"a/b wall {fast['wall'] / stock['wall']:.3f}, CPU {cpu:.3f}, Python peak "
          f"{fast['py_peak'] / stock['py_peak']:.3f}, Node peak {fast['node_peak'] / stock['node_peak']:.3f}")
    print(f"a/c wall {fast['wall'] / floor['wall']:.1f}x the floor")
    print(f"d/b wall {python_only['wall'] / stock['wall']:.3f} (the Python side alone)")
    if len(scaling) >= 2:
        (n0, m0), (n1, m1) = scaling[0], scaling[-1]
        print(f"marginal cost per generated service: {(m1['wall'] - m0['wall']) / (n1 - n0) * 1000:.0f} ms wall, "
              f"{(m1['py_peak'] - m0['py_peak']) / (n1 - n0) * 1024:.0f} KiB Python peak")
    print(f"watch mode: first synthesis {cold:.2f} s, then re-synthesis median {statistics.median(warm):.2f} s "
          f"(min {min(warm):.2f}, max {max(warm):.2f}, {len(warm)} runs)")
    if suite is not None:
        (cold_s, cold_summary), (warm_s, warm_summary) = suite
        print(f"test suite (pipenv run test): {cold_s:.1f} s wall with an empty cache ({cold_summary}); "
              f"{warm_s:.1f} s with the cache that run left ({warm_summary}), {warm_s / cold_s:.2f} of it")
    if review is not None:
        print(f"review of a one-service change (pipenv run review): {review[0]:.1f} s wall (exit {review[1]})")
    print(f"(a), (b) and (d) output byte-identical: {'yes' if identical else 'NO'}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
