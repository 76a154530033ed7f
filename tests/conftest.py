"""Shared fixtures: the app is synthesized once per test run, and nothing is left in ``$TMPDIR``.

The suite runs in parallel (``-n auto`` in pyproject.toml: one pytest-xdist
worker per CPU). What the fixtures share, and how to reuse it in a new test:

- ``synth_dir``: ``cdktf.out`` of every environment, exactly as ``pipenv run
  synth`` writes it. Synthesized by the first worker that asks, into pytest's
  cache under a key of everything its bytes depend on (``helpers.inputs_key``:
  sources, locked and installed packages, Python, Node); the other workers
  wait on a lock and read the same files, and so does a later run with the
  same key (``helpers.reused``; ``-p no:cacheprovider`` keeps it for the run
  only). Read-only: copy it (``shutil.copytree``) before changing anything.
- ``stacks`` / ``manifest``: its parsed ``cdk.tf.json`` files (by stack name)
  and ``manifest.json``. Prefer these to a synthesis of your own.
- ``built_environments``: every environment's stacks built in this worker on
  one App (not synthesized), for a test that looks at constructs; read-only:
  build your own App (``helpers.synth``) for a variant.
- ``$TMPDIR``: ``pytest_configure`` points it (and Python's ``tempfile``) into
  this run's pytest base temporary directory, so jsii's folders, cdktf's
  ``Testing.app()`` output directories and every subprocess's temporary files
  land under pytest's own ``pytest-of-<user>`` folder, which pytest prunes.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CHECKPOINT_DISABLE", "1")

import pytest

import main
from fastsynth import output
from helpers import inputs_key, reused


@pytest.hookimpl(trylast=True)  # after pytest's own tmpdir plugin has set up its factory
def pytest_configure(config: pytest.Config) -> None:
    """``$TMPDIR`` inside pytest's base temporary directory, before anything starts jsii's Node."""
    tmp = config._tmp_path_factory.getbasetemp() / "tmp"  # type: ignore[attr-defined]
    tmp.mkdir(exist_ok=True)
    os.environ["TMPDIR"] = str(tmp)
    tempfile.tempdir = str(tmp)


def _run_dir(factory: pytest.TempPathFactory) -> Path:
    """The base temporary directory of the whole run: xdist gives each worker a subdirectory of it."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def synth_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``cdktf.out`` of every environment, written by ``main.synthesize`` once for all workers, and kept
    for later runs with the same inputs (``helpers.reused``)."""
    def make(work: Path) -> None:
        main.synthesize(None, work / "cdktf.out")

    return reused(request.config, "synth", inputs_key(), make, _run_dir(tmp_path_factory)) / "cdktf.out"


@pytest.fixture(scope="session")
def stacks(synth_dir: Path) -> dict[str, dict]:
    """Every synthesized stack's ``cdk.tf.json``, parsed, by stack name."""
    return {path.parent.name: json.loads(path.read_text())
            for path in sorted(synth_dir.glob("stacks/*/cdk.tf.json"))}


@pytest.fixture(scope="session")
def manifest(synth_dir: Path) -> dict:
    return json.loads((synth_dir / "manifest.json").read_text())


@pytest.fixture(scope="session")
def built_environments(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Every environment's ``EnvironmentStacks``, built and checked in this process on one App, not
    synthesized. Read-only: adding a construct to it would change what other tests see."""
    from cdktf import App

    from environments import ENVIRONMENTS
    from stacks import build_environments, check

    app = App(outdir=str(tmp_path_factory.mktemp("built")))
    built = build_environments(app, ENVIRONMENTS.values())
    check(app)
    return built


@pytest.fixture(scope="session")
def validate_custom_resources():
    """Validate manifests against their CRD schemas: returns, per manifest, its errors.

    The schemas come from maintained typed-model packages generated from the
    operators' CRDs (``tests/custom_resources/package.json``), installed from
    the lock file on first use.
    """
    tool = Path(__file__).parent / "custom_resources"
    lock, stamp = tool / "package-lock.json", tool / "node_modules" / ".installed-from"
    wanted = hashlib.sha256(lock.read_bytes()).hexdigest()
    with output.locked(tool):  # one install, however many workers ask at once
        # Installed from this lock file? A checkout that moved to a newer lock must not use old packages.
        if not stamp.is_file() or stamp.read_text() != wanted:
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=tool, check=True)
            stamp.write_text(wanted)

    def validate(manifests: list[dict]) -> list[list[str]]:
        result = subprocess.run(["node", str(tool / "validate.mjs")], input=json.dumps(manifests),
                                capture_output=True, text=True, check=True)
        return json.loads(result.stdout)

    return validate


@pytest.fixture(scope="session")
def workloads_synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Staging's stacks with one of each new kind of workload (``tests/workloads_app.py``), synthesized once
    per worker. Read-only, like ``synth_dir``."""
    import workloads_app

    outdir = tmp_path_factory.mktemp("workloads-app")
    app, _, _ = workloads_app.build(outdir, "staging")
    app.synth()
    return outdir


@pytest.fixture(scope="session")
def workload_stacks(workloads_synth_dir: Path) -> dict[str, dict]:
    """Its ``cdk.tf.json`` files, parsed, by stack name."""
    return {path.parent.name: json.loads(path.read_text())
            for path in sorted(workloads_synth_dir.glob("stacks/*/cdk.tf.json"))}
