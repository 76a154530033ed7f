"""mypy over the project: zero errors, and a wrong type in an environment file fails before synthesis."""

from __future__ import annotations

import shutil
from pathlib import Path

from mypy import api

REPO = Path(__file__).resolve().parent.parent


def test_the_project_type_checks() -> None:
    stdout, stderr, status = api.run(["--config-file", str(REPO / "pyproject.toml"), "--no-error-summary"])
    assert (status, stdout, stderr) == (0, "", "")


def test_a_string_where_an_int_goes_in_an_environment_fails(tmp_path: Path) -> None:
    for package in ("constructs_lib", "environments"):
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    staging = tmp_path / "environments" / "staging.py"
    source = staging.read_text()
    assert "max_size=4," in source
    staging.write_text(source.replace("max_size=4,", 'max_size="4",'))
    stdout, _, status = api.run(["--config-file", str(tmp_path / "pyproject.toml"), "--cache-dir",
                                 str(tmp_path / ".mypy_cache"), str(tmp_path / "environments")])
    assert status == 1
    line = next(n for n, text in enumerate(staging.read_text().splitlines(), 1) if 'max_size="4"' in text)
    assert f'staging.py:{line}: error: Argument "max_size" to "NodePool" has incompatible type "str"; ' \
           'expected "int"  [arg-type]' in stdout, stdout
