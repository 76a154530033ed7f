"""The app as users run it: byte-identical output, environment selection, clean failures."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import main
from helpers import assert_same_tree

REPO = Path(__file__).resolve().parent.parent
SOURCES = ("main.py", "cdktf.json", "constructs_lib", "environments", "stacks", "fastsynth")


def checkout_copy(dest: Path) -> Path:
    """The project's sources, as a second checkout in another directory."""
    dest.mkdir(parents=True)
    for name in SOURCES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    return dest


def run_main(cwd: Path, *args: str, fast_imports: bool = True, fast_node: bool | None = None
             ) -> subprocess.CompletedProcess:
    fast_node = fast_imports if fast_node is None else fast_node
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
           "CDKTF_FAST_IMPORTS": "1" if fast_imports else "0", "CDKTF_FAST_NODE": "1" if fast_node else "0"}
    env.pop("NODE_OPTIONS", None)  # this process's preload must not leak into the stock run
    env.pop("ENVIRONMENT", None)
    env.pop("CDKTF_OUTDIR", None)
    return subprocess.run([sys.executable, "main.py", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_output_is_byte_identical_across_runs_checkouts_and_import_paths(synth_dir: Path, tmp_path: Path) -> None:
    """A second run, in another directory, on the stock import path (Python and Node), writes the same
    bytes for every environment as the session's run on the fast path (fastsynth/lazy_providers.py)."""
    other = checkout_copy(tmp_path / "another" / "checkout")
    result = run_main(other, fast_imports=False)
    assert result.returncode == 0, result.stderr
    assert_same_tree(synth_dir, other / "cdktf.out")


def test_output_holds_no_absolute_path_or_checkout_name(synth_dir: Path) -> None:
    for path in synth_dir.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert str(REPO) not in text and str(synth_dir.parent) not in text, path
            assert not re.search(r'"/(home|root|tmp|Users|work|private|var)/', text), f"a local path in {path}"


def test_one_environment_on_request(tmp_path: Path) -> None:
    outdir = tmp_path / "cdktf.out"
    stacks = main.synthesize(["staging"], outdir)
    assert sorted(stacks) == ["staging-addons", "staging-cluster", "staging-platform", "staging-services",
                              "staging-state"]
    assert sorted(p.name for p in (outdir / "stacks").iterdir()) == sorted(stacks)


def test_unknown_environment_is_refused(tmp_path: Path, capsys) -> None:
    try:
        main.main(["--env", "prod", "--outdir", str(tmp_path / "out")])
    except SystemExit as exit_:
        assert str(exit_) == "error: unknown environment(s) prod; choose from staging, production"
    else:
        raise AssertionError("expected SystemExit")
    assert not (tmp_path / "out").exists()


def test_bad_config_fails_cleanly_and_leaves_previous_output_alone(tmp_path: Path) -> None:
    checkout = checkout_copy(tmp_path / "checkout")
    staging = checkout / "environments" / "staging.py"
    staging.write_text(staging.read_text().replace('account_id="210987654321"', 'account_id="2109-8765"'))
    previous = checkout / "cdktf.out" / "manifest.json"
    previous.parent.mkdir()
    previous.write_text("{}")
    result = run_main(checkout)
    assert result.returncode == 2
    assert result.stderr == ("error: environment 'staging': account_id = '2109-8765': "
                             "use the 12-digit AWS account id, as a string (e.g. '123456789012')\n")
    assert previous.read_text() == "{}"
    assert [p.name for p in (checkout).iterdir() if p.name.startswith(".cdktf.out")] == []


def test_no_token_was_lost_in_synthesis(synth_dir: Path) -> None:
    # jsii renders a token it could not resolve (e.g. one used as a map key) as "undefined".
    for path in synth_dir.rglob("*.json"):
        assert "undefined" not in path.read_text(), path


def test_the_python_side_alone_writes_the_same_bytes(synth_dir: Path, tmp_path: Path) -> None:
    """CDKTF_FAST_NODE=0 (Python's lazy imports without Node's lazy indexes) changes nothing either."""
    result = run_main(REPO, "--outdir", str(tmp_path / "out"), fast_node=False)
    assert result.returncode == 0, result.stderr
    assert_same_tree(synth_dir, tmp_path / "out")
