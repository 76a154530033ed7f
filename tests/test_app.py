"""The app as users run it: byte-identical, always-whole output, environment selection, clean failures."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import main
from fastsynth import cleanup
from helpers import REPO, assert_same_tree, checkout_copy, inputs_key, reused, tree

ENVIRONMENT_STACKS = {env: [f"{env}-{layer}" for layer in ("addons", "cluster", "platform", "services", "state")]
                      for env in ("production", "staging")}


def main_command(*args: str, fast_imports: bool = True, fast_node: bool | None = None,
                 **env: str) -> tuple[list[str], dict[str, str]]:
    """``python main.py *args`` and the environment to run it in, as a user would."""
    fast_node = fast_imports if fast_node is None else fast_node
    environ = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
               "CDKTF_FAST_IMPORTS": "1" if fast_imports else "0", "CDKTF_FAST_NODE": "1" if fast_node else "0",
               **env}
    environ.pop("NODE_OPTIONS", None)  # this process's preload must not leak into the stock run
    for name in ("ENVIRONMENT", "CDKTF_OUTDIR", "CDKTF_INTERRUPT_AT", "CDKTF_TRACEBACK"):
        if name not in env:
            environ.pop(name, None)
    return [sys.executable, "main.py", *args], environ


def run_main(cwd: Path, *args: str, **options) -> subprocess.CompletedProcess:
    command, env = main_command(*args, **options)
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def digest(root: Path) -> str:
    """One hash of every file below ``root`` (names and bytes); a file that vanished while read counts too."""
    result = hashlib.sha256()
    for name in tree(root):
        try:
            result.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
        except FileNotFoundError:
            result.update(name.encode() + b"\0(vanished)\0")
    return result.hexdigest()


class Reader(threading.Thread):
    """Polls an output directory as a person, an editor or ``cdktf diff`` would, until stopped.

    Records the fewest stacks it ever listed, anything it failed to read, and the content of every
    generation of the output it saw (a new generation is a new directory at the same path). A look that
    straddles a switch (the directory at that path changed meanwhile) is repeated, as one refreshes: the
    switched-out generation is being deleted.
    """

    def __init__(self, outdir: Path) -> None:
        super().__init__(daemon=True)
        self.outdir = outdir
        self.fewest = sys.maxsize
        self.failures: list[str] = []
        self.generations: dict[int, str] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.look()
            time.sleep(0.05)

    def look(self) -> None:
        try:
            inode = os.stat(self.outdir).st_ino
        except OSError as error:
            self.failures.append(repr(error))
            return
        try:
            listed = os.listdir(self.outdir / "stacks")
            in_manifest = json.loads((self.outdir / "manifest.json").read_text())["stacks"]
            content = digest(self.outdir) if inode not in self.generations else None
            failure = None
        except (OSError, ValueError) as error:
            failure = repr(error)
        try:
            if os.stat(self.outdir).st_ino != inode:
                return  # switched while looking: look again
        except OSError as error:
            failure = repr(error)
        if failure is not None:
            self.failures.append(failure)
            return
        self.fewest = min(self.fewest, len(listed), len(in_manifest))
        if content is not None:
            self.generations[inode] = content


@pytest.fixture(scope="module")
def other_import_paths(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The app's output on the stock import path (CDKTF_FAST_IMPORTS=0: the providers import all of their
    2,212 submodules, Python and Node) from a second checkout in another directory, and on the Python
    side alone (CDKTF_FAST_NODE=0), both run at once as users run them.

    About 50 s of CPU: kept in pytest's cache under ``helpers.inputs_key`` (sources, Pipfile.lock,
    installed packages, Python, Node) by ``helpers.reused``, and reused by a later run with the same key,
    which would write the same bytes. ``--cache-clear`` or ``-p no:cacheprovider`` (CI's clean clone has
    no cache) runs them again.
    """
    def make(work: Path) -> None:
        other = checkout_copy(work / "another" / "checkout")
        runs = [subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for cwd, (command, env) in (
                    (other, main_command("--outdir", str(work / "stock"), fast_imports=False)),
                    (REPO, main_command("--outdir", str(work / "python-only"), fast_node=False)))]
        outcomes = [(run.wait(timeout=600), run.communicate()[1]) for run in runs]
        assert outcomes == [(0, ""), (0, "")]
        shutil.rmtree(work / "another")

    results = reused(request.config, "other-import-paths", inputs_key(), make,
                     tmp_path_factory.getbasetemp())
    return {"stock": results / "stock", "python-only": results / "python-only"}


@pytest.mark.parametrize("path", ["stock", "python-only"])
def test_the_output_is_byte_identical_across_import_paths_and_checkouts(
        synth_dir: Path, other_import_paths: dict[str, Path], path: str) -> None:
    """The stock path from another checkout, and the Python side alone, write for every environment the
    same bytes as the session's fast path (fastsynth/lazy_providers.py)."""
    assert_same_tree(synth_dir, other_import_paths[path])


def test_two_syntheses_at_once_both_succeed_and_readers_never_see_partial_output(synth_dir: Path,
                                                                                 tmp_path: Path) -> None:
    """``--env staging`` and ``--env production`` started together into one output directory, while a
    reader polls it: both exit 0 without a word on stderr; the reader never listed fewer stacks than a
    full synthesis writes, and every output it saw switched in was byte for byte the full output (each
    synthesis kept the other's environment), as is the final one. (Two switches a few milliseconds apart
    may be seen as one.)"""
    outdir = tmp_path / "project" / "cdktf.out"
    shutil.copytree(synth_dir, outdir)
    (outdir / "from-the-previous-run").write_text("")  # tells the first generation apart: never carried over
    initial = digest(outdir)
    reader = Reader(outdir)
    reader.start()
    runs = []
    for env in ENVIRONMENT_STACKS:
        command, environ = main_command("--env", env, "--outdir", str(outdir))
        runs.append(subprocess.Popen(command, cwd=REPO, env=environ, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True))
    try:
        outcomes = [(run.wait(timeout=600), run.communicate()[1]) for run in runs]
    finally:
        reader.done.set()
        reader.join()
    assert outcomes == [(0, ""), (0, "")]
    assert reader.failures == []
    assert reader.fewest == sum(len(names) for names in ENVIRONMENT_STACKS.values())
    first, *switched_in = reader.generations.values()
    assert first == initial
    assert switched_in and set(switched_in) == {digest(synth_dir)}
    assert_same_tree(synth_dir, outdir)
    assert sorted(p.name for p in outdir.parent.iterdir()) == ["cdktf.out"]  # nothing temporary beside it


def test_output_holds_no_absolute_path_or_checkout_name(synth_dir: Path) -> None:
    for path in synth_dir.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert str(REPO) not in text and str(synth_dir.parent) not in text, path
            assert not re.search(r'"/(home|root|tmp|Users|work|private|var)/', text), f"a local path in {path}"


def test_an_environment_on_request_replaces_only_its_own_stacks(synth_dir: Path, tmp_path: Path) -> None:
    """``--env staging`` into an empty directory writes staging alone; then ``--env production`` adds
    production, drops a production stack that no longer exists, keeps staging's, and leaves exactly what
    one synthesis of every environment writes, manifest.json included."""
    outdir = tmp_path / "cdktf.out"
    assert sorted(main.synthesize(["staging"], outdir)) == ENVIRONMENT_STACKS["staging"]
    assert sorted(p.name for p in (outdir / "stacks").iterdir()) == ENVIRONMENT_STACKS["staging"]
    assert sorted(json.loads((outdir / "manifest.json").read_text())["stacks"]) == ENVIRONMENT_STACKS["staging"]
    retired = outdir / "stacks" / "production-retired"  # a layer the production environment no longer has
    retired.mkdir()
    (retired / "cdk.tf.json").write_text("{}")
    manifest = json.loads((outdir / "manifest.json").read_text())
    manifest["stacks"]["production-retired"] = {**manifest["stacks"]["staging-state"], "name": "production-retired"}
    (outdir / "manifest.json").write_text(json.dumps(manifest))

    assert sorted(main.synthesize(["production"], outdir)) == ENVIRONMENT_STACKS["production"]
    assert_same_tree(synth_dir, outdir)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]
    assert cleanup._paths == []  # nothing left to remove on Ctrl-C: watch mode runs for hours


def test_unknown_environment_is_refused(tmp_path: Path, capsys) -> None:
    assert main.main(["--env", "prod", "--outdir", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == "error: unknown environment(s) prod; choose from staging, production\n"
    assert list(tmp_path.iterdir()) == []


def test_bad_config_fails_cleanly_and_leaves_previous_output_alone(tmp_path: Path) -> None:
    checkout = checkout_copy(tmp_path / "checkout")
    staging = checkout / "environments" / "staging.py"
    staging.write_text(staging.read_text().replace('account_id="210987654321"', 'account_id="2109-8765"'))
    previous = checkout / "cdktf.out" / "manifest.json"
    previous.parent.mkdir()
    previous.write_text("{}")
    result = run_main(checkout, TMPDIR=str(tmp_path / "tmp"))
    assert result.returncode == 2
    assert result.stderr == ("error: environment 'staging': account_id = '2109-8765': "
                             "use the 12-digit AWS account id, as a string (e.g. '123456789012')\n")
    assert previous.read_text() == "{}"
    assert [p.name for p in checkout.iterdir() if p.name.startswith(".cdktf.out")] == []


def test_no_token_was_lost_in_synthesis(synth_dir: Path) -> None:
    # jsii renders a token it could not resolve (e.g. one used as a map key) as "undefined".
    for path in synth_dir.rglob("*.json"):
        assert "undefined" not in path.read_text(), path


# -- Ctrl-C --------------------------------------------------------------------------------------

def processes_mentioning(text: str) -> list[str]:
    """Command lines of running processes that mention ``text`` (jsii's Node names its private folder)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in args:
            found.append(args)
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
@pytest.mark.parametrize("point", ["started", "locked:self", "swapped"])
def test_an_interrupted_synthesis_leaves_the_output_whole_and_nothing_temporary(
        synth_dir: Path, tmp_path: Path, point: str) -> None:
    """Ctrl-C during ``--env staging``: before jsii starts; with the synthesis written, the other
    environment carried over and the lock held, to Python alone (``:self``, as ``kill -INT``: jsii's Node
    still runs and must be stopped by us); just after the switch (SIGINT to the process group: Python
    and both Node processes, as a terminal sends it). Each time: exit 130 with one line, the previous output
    untouched (after the switch: the new one, whole), nothing beside it, an empty $TMPDIR (no jsii
    folder), and no Node process left."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    outdir = tmp_path / "project" / "cdktf.out"
    shutil.copytree(synth_dir, outdir)
    marker = outdir / "stacks" / "staging-state" / "from-the-previous-run"  # staging is replaced
    marker.write_text("")
    command, env = main_command("--env", "staging", "--outdir", str(outdir), TMPDIR=str(tmpdir),
                                CDKTF_INTERRUPT_AT=point)
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
                            start_new_session=True)  # the interrupt goes to its own process group only
    assert (result.returncode, result.stdout) == (130, "")
    assert result.stderr == "interrupted; the output is left whole, with nothing temporary behind\n"
    assert marker.exists() == (point != "swapped")
    marker.unlink(missing_ok=True)
    assert_same_tree(synth_dir, outdir)
    assert sorted(p.name for p in outdir.parent.iterdir()) == ["cdktf.out"]
    assert list(tmpdir.iterdir()) == []
    assert processes_mentioning(str(tmpdir)) == []


# -- mistakes: one line pointing at the user's file, a traceback only for our bugs --------------

def user_code(path: str, source: str) -> dict:
    """Functions defined in ``source`` as if written in the project's file ``path``."""
    namespace: dict = {}
    exec(compile(source, str(REPO / path), "exec"), namespace)
    return namespace


@pytest.mark.parametrize(("path", "exit_code", "stderr"), [
    ("stacks/services/checkout.py", 2, "stacks/services/checkout.py:3: NameError: name 'Microservce' is not defined\n"),
    ("environments/staging.py", 2, "environments/staging.py:3: NameError: name 'Microservce' is not defined\n"),
    ("constructs_lib/microservice.py", 1, r"(?s)^Traceback \(most recent call last\):\n.*"
                                          r'  File ".*/constructs_lib/microservice.py", line 3, in build\n'
                                          r".*NameError: name 'Microservce' is not defined\n$"),
])
def test_an_exception_is_one_line_when_the_mistake_is_in_a_users_file(
        path: str, exit_code: int, stderr: str, tmp_path: Path, monkeypatch, capsys) -> None:
    """A user's file (stacks/, environments/) as the innermost project frame: its path, line and the
    exception in one line, exit 2; in our constructs: our bug, the traceback, exit 1."""
    build = user_code(path, "def build(app, envs):\n    # a typo\n    Microservce(app, 'checkout')\n")["build"]
    monkeypatch.setattr("stacks.build_environments", build)
    assert main.main(["--outdir", str(tmp_path / "out")]) == exit_code
    err = capsys.readouterr().err
    assert re.fullmatch(stderr, err) if exit_code == 1 else err == stderr
    assert list(tmp_path.iterdir()) == []


def test_traceback_flag_shows_the_whole_traceback(tmp_path: Path, monkeypatch, capsys) -> None:
    build = user_code("stacks/services/checkout.py", "def build(app, envs):\n    Microservce(app, 'x')\n")["build"]
    monkeypatch.setattr("stacks.build_environments", build)
    monkeypatch.setenv("CDKTF_TRACEBACK", "")  # restored after the test: --traceback sets it to 1
    assert main.main(["--traceback", "--outdir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):\n") and 'main.py", line' in err
    assert err.endswith("NameError: name 'Microservce' is not defined\n")


def test_two_constructs_with_one_id_are_one_line_naming_the_path_and_the_fix(tmp_path: Path, monkeypatch,
                                                                              capsys) -> None:
    build = user_code("stacks/services/checkout.py", (
        "def build(app, envs):\n"
        "    from cdktf import TerraformStack\n"
        "    from constructs import Construct\n"
        "    stack = TerraformStack(app, 'staging-services')\n"
        "    Construct(stack, 'checkout')\n"
        "    Construct(stack, 'checkout')\n"))["build"]
    monkeypatch.setattr("stacks.build_environments", build)
    assert main.main(["--outdir", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (
        "stacks/services/checkout.py:6: error: staging-services/checkout: the id 'checkout' is already used under "
        "staging-services; give this construct a different id\n")
