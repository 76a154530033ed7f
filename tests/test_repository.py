"""The repository keeps its promises to a newcomer: the README's commands are the ones CI runs."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def ci_command() -> str:
    lines = [line for line in (REPO / ".ci/run").read_text().splitlines()
             if line and not line.startswith("#") and not line.startswith(("set ", "cd "))]
    assert len(lines) == 1, lines
    return lines[0]


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (REPO / "README.md").read_text()
    assert ci_command() in readme.splitlines()
    assert ci_command().endswith("pipenv run test")


def test_readme_synth_command_installs_and_synthesizes() -> None:
    readme = (REPO / "README.md").read_text().splitlines()
    synth = ci_command().replace("sync --dev", "sync").replace("run test", "run synth")
    assert synth in readme


def test_pipfile_scripts() -> None:
    scripts = tomllib.loads((REPO / "Pipfile").read_text())["scripts"]
    assert scripts["synth"] == "python main.py"
    assert scripts["test"] == "pytest"
