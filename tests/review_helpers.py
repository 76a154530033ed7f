"""Real git repositories for the review's tests: a stand-in app whose stacks a test writes as JSON."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

from delivery import review as review_module

REPO = Path(__file__).resolve().parent.parent

#: A stand-in app with main.py's command line: writes stacks.json's stacks as cdktf.out would. A string in
#: stacks.json is an error to exit with; a file ``sleep`` makes it wait (to be killed); an ``environments``
#: package, if the revision has one, is imported as the real app does (the review reads its limits).
FAKE_MAIN = textwrap.dedent('''
    import argparse, json, pathlib, sys, time
    parser = argparse.ArgumentParser()
    parser.add_argument("--outdir")
    args = parser.parse_args()
    if pathlib.Path("sleep").exists():
        time.sleep(float(pathlib.Path("sleep").read_text()))
    try:
        import environments
    except ImportError:
        pass
    stacks = json.loads(pathlib.Path("stacks.json").read_text())
    if isinstance(stacks, str):
        sys.exit(stacks)
    for name, stack in stacks.items():
        folder = pathlib.Path(args.outdir) / "stacks" / name
        folder.mkdir(parents=True)
        (folder / "cdk.tf.json").write_text(json.dumps(stack))
''')


def resource(path: str, **arguments: Any) -> dict:
    """A resource body as cdktf writes it: its construct path in ``//`` metadata, then its arguments."""
    return {"//": {"metadata": {"path": path, "uniqueId": path.rsplit("/", 1)[-1]}}, **arguments}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def commit(repo: Path, message: str = "change") -> None:
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", message)


def make_repo(root: Path, stacks: dict | str, *, limits: dict[str, dict] | None = None) -> Path:
    """A git repository at ``root`` whose one commit (``main``) synthesizes ``stacks``; ``limits``
    (environment -> ``Limits`` fields) become its ``environments`` package."""
    root.mkdir(parents=True)
    git(root, "init", "--quiet", "--initial-branch=main")
    (root / "main.py").write_text(FAKE_MAIN)
    (root / "stacks.json").write_text(json.dumps(stacks))
    if limits is not None:
        write_limits(root, limits)
    commit(root, "base")
    return root


def write_limits(root: Path, limits: dict[str, dict]) -> None:
    package = root / "environments"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text(
        "from types import SimpleNamespace\n"
        f"ENVIRONMENTS = {{name: SimpleNamespace(limits=SimpleNamespace(**fields)) "
        f"for name, fields in {limits!r}.items()}}\n")


def run_review(repo: Path, stacks: dict | str, *, fmt: str = "json", capsys: Any) -> tuple[int, str]:
    """Write ``stacks`` into the working tree, review it against ``main``: (exit code, output)."""
    (repo / "stacks.json").write_text(json.dumps(stacks))
    code = review_module.main(["--repo", str(repo), "--base", "main", "--format", fmt])
    return code, capsys.readouterr().out


def both_formats(repo: Path, stacks: dict, capsys: Any) -> tuple[int, dict, str]:
    """(exit code, parsed JSON, Markdown) of one change."""
    code, out = run_review(repo, stacks, capsys=capsys)
    markdown_code, markdown = run_review(repo, stacks, fmt="markdown", capsys=capsys)
    assert markdown_code == code
    return code, json.loads(out), markdown


def copy_project(target: Path) -> Path:
    """This repository's tracked files, committed as ``main`` of a new repository at ``target``."""
    for name in git(REPO, "ls-files").splitlines():
        if (REPO / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target / name)
    git(target.parent, "init", "--quiet", "--initial-branch=main", str(target))
    commit(target, "base")
    return target


def strings(value: Any) -> list[str]:
    """Every string in a parsed JSON document (keys included)."""
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return [value] if isinstance(value, str) else []


def binding_source(resource_type: str) -> str:
    """The generated Python of a resource type's prebuilt binding (``aws_db_instance`` -> ``db_instance``)."""
    provider, name = resource_type.split("_", 1)
    package = importlib.util.find_spec(f"cdktf_cdktf_provider_{provider}")
    assert package is not None and package.origin is not None
    module = Path(package.origin).parent / name / "__init__.py"
    return module.read_text() if module.is_file() else ""


def binding_has(resource_type: str, path: str) -> bool:
    """Every level of ``path`` (``user.password``, ``spec.rule[*].host``) is an argument in the binding."""
    source = binding_source(resource_type)
    return bool(source) and all(re.search(rf"\n\s+{re.escape(part.removesuffix('[*]'))}: ", source)
                                for part in path.split("."))
