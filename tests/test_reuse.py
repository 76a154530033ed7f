"""Results the suite keeps between runs (``helpers.reused``): made once per key, made again when an input
changes, never seen half-made."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from helpers import REPO, inputs_key, reused, sources_hash, tracked_sources


class Cache:
    """pytest's cache, as ``reused`` uses it: ``mkdir(name)`` is a folder kept between runs."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def mkdir(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path


def test_a_result_is_made_once_per_key_and_another_key_replaces_it(tmp_path: Path) -> None:
    config = SimpleNamespace(cache=Cache(tmp_path / "cache"))
    made: list[str] = []

    def make(tag: str):
        def fill(work: Path) -> None:
            made.append(tag)
            (work / "result").write_text(tag)
        return fill

    first = reused(config, "thing", "key-1", make("one"), tmp_path / "unused")  # type: ignore[arg-type]
    again = reused(config, "thing", "key-1", make("two"), tmp_path / "unused")  # type: ignore[arg-type]
    assert (first, again, made) == (tmp_path / "cache" / "thing" / "key-1",) * 2 + (["one"],)
    assert (again / "result").read_text() == "one"

    changed = reused(config, "thing", "key-2", make("three"), tmp_path / "unused")  # type: ignore[arg-type]
    assert (changed / "result").read_text() == "three" and made == ["one", "three"]
    assert [p.name for p in (tmp_path / "cache" / "thing").iterdir()] == ["key-2"]  # the old one is gone
    assert not (tmp_path / "unused").exists()


def test_without_pytests_cache_the_result_is_kept_for_the_run_only(tmp_path: Path) -> None:
    config = SimpleNamespace(cache=None)  # -p no:cacheprovider
    result = reused(config, "thing", "k", lambda work: (work / "r").write_text("x"), tmp_path)  # type: ignore[arg-type]
    assert result == tmp_path / "thing" / "k" and (result / "r").read_text() == "x"


def test_a_failed_make_leaves_nothing_and_the_next_run_makes_it(tmp_path: Path) -> None:
    config = SimpleNamespace(cache=Cache(tmp_path))

    def broken(work: Path) -> None:
        (work / "half").write_text("written before the failure")
        raise RuntimeError("the synthesis failed")

    with pytest.raises(RuntimeError):
        reused(config, "thing", "k", broken, tmp_path)  # type: ignore[arg-type]
    assert list((tmp_path / "thing").iterdir()) == []
    result = reused(config, "thing", "k", lambda work: (work / "r").write_text("x"), tmp_path)  # type: ignore[arg-type]
    assert [p.name for p in result.iterdir()] == ["r"]


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository holding a copy of the project's tracked files."""
    root = tmp_path_factory.mktemp("repository")
    for name in [*tracked_sources(), "tests/helpers.py"]:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, root / name)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    return root


@pytest.mark.parametrize(("edited", "synthesis", "copy"), [
    ("stacks/services/checkout.py", True, True),
    ("constructs_lib/microservice.py", True, True),
    ("service/scaffold.py", False, True),    # what `service new` writes: only the copy's results depend on it
    (".github/CODEOWNERS", False, True),
    ("tests/helpers.py", False, False),      # the tests read the results; they do not make them
])
def test_the_keys_change_with_what_the_results_read(repository: Path, edited: str, synthesis: bool,
                                                    copy: bool) -> None:
    """The synthesis's key (``inputs_key()``) covers the sources a synthesis reads; the key of results made
    on a copy of the repository (``inputs_key(sources=tracked_sources())``) covers every tracked file but
    the tests. An edit outside what a key covers keeps the result; one inside makes it again."""
    def keys() -> tuple[str, str]:
        return inputs_key(repository), inputs_key(repository, tracked_sources(repository))

    before = keys()
    path = repository / edited
    original = path.read_bytes()
    try:
        path.write_bytes(original + b"\n# edited\n")
        after = keys()
    finally:
        path.write_bytes(original)
    assert (after[0] != before[0], after[1] != before[1]) == (synthesis, copy)
    assert keys() == before


def test_a_new_file_in_a_source_folder_changes_the_synthesis_key(tmp_path: Path) -> None:
    for name in ("stacks", "Pipfile.lock"):
        (shutil.copytree if (REPO / name).is_dir() else shutil.copy2)(REPO / name, tmp_path / name)
    before = sources_hash(tmp_path, ["stacks"])
    (tmp_path / "stacks" / "services" / "inventory.py").write_text("def service(ctx): ...\n")
    assert sources_hash(tmp_path, ["stacks"]) != before
