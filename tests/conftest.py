"""Shared fixtures: the whole app is synthesized once per test session.

Importing the prebuilt provider packages costs seconds, so every test runs in
this one process and reads the same synthesized output.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import pytest

import main


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``cdktf.out`` of every environment, written exactly as ``pipenv run synth`` writes it."""
    outdir = tmp_path_factory.mktemp("synth") / "cdktf.out"
    main.synthesize(None, outdir)
    return outdir


@pytest.fixture(scope="session")
def stacks(synth_dir: Path) -> dict[str, dict]:
    """Every synthesized stack's ``cdk.tf.json``, parsed, by stack name."""
    return {path.parent.name: json.loads(path.read_text())
            for path in sorted(synth_dir.glob("stacks/*/cdk.tf.json"))}


@pytest.fixture(scope="session")
def manifest(synth_dir: Path) -> dict:
    return json.loads((synth_dir / "manifest.json").read_text())


@pytest.fixture(scope="session")
def validate_custom_resources():
    """Validate manifests against their CRD schemas: returns, per manifest, its errors.

    The schemas come from maintained typed-model packages generated from the
    operators' CRDs (``tests/custom_resources/package.json``), installed from
    the lock file on first use.
    """
    tool = Path(__file__).parent / "custom_resources"
    if not (tool / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=tool, check=True)

    def validate(manifests: list[dict]) -> list[list[str]]:
        result = subprocess.run(["node", str(tool / "validate.mjs")], input=json.dumps(manifests),
                                capture_output=True, text=True, check=True)
        return json.loads(result.stdout)

    return validate
