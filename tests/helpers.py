"""Helpers for asserting on synthesized Terraform JSON, and for copies of the project.

Nothing here imports cdktf at import time: conftest imports this module before
it points ``$TMPDIR`` into pytest's folder, and jsii's Node must start after.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from fastsynth import output

if TYPE_CHECKING:
    from cdktf import TerraformStack

    from constructs_lib import EksNodeGroup, Guardrails, Taint

REPO = Path(__file__).resolve().parent.parent
#: What a synthesis reads: a copy of these is a second checkout, and their hash keys the session synthesis.
SOURCES = ("main.py", "cdktf.json", "constructs_lib", "environments", "stacks", "fastsynth")


def synth(build: Callable[[TerraformStack], object]) -> dict:
    """Synthesize one throw-away stack that ``build`` fills; return its JSON.

    ``Testing.app()`` writes to a new folder in Node's temporary directory, which conftest points into
    pytest's base temporary directory.
    """
    from cdktf import TerraformStack, Testing

    stack = TerraformStack(Testing.app(), "test")
    build(stack)
    return json.loads(Testing.synth(stack))


def sources_hash(root: Path = REPO, sources: Iterable[str] = SOURCES) -> str:
    """A digest of every file in ``sources`` (files and folders under ``root``): names and contents."""
    digest = hashlib.sha256()
    for name in sources:
        path = root / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*")
                                                     if p.is_file() and "__pycache__" not in p.parts)
        for file in files:
            digest.update(file.relative_to(root).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


#: The installed packages whose code runs in a synthesis, besides the project's.
SYNTHESIS_PACKAGES = ("jsii", "cdktf", "constructs", "typeguard", "cdktf-cdktf-provider-aws",
                      "cdktf-cdktf-provider-kubernetes", "cdktf-cdktf-provider-helm", "cdktf-cdktf-provider-random",
                      "botocore", "cronsim")


def inputs_key(root: Path = REPO, sources: Iterable[str] = SOURCES) -> str:
    """A digest of everything a synthesis's bytes can depend on: the sources, the locked and the installed
    package versions, Python, Node, the platform and the fast-path switches. Two runs with the same key
    write the same bytes (the tests prove synthesis deterministic), so a result may be reused under it.
    ``sources``: what the result reads of the project (``tracked_sources()`` for a copy of all of it)."""
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    parts = [sources_hash(root, sources), hashlib.sha256((root / "Pipfile.lock").read_bytes()).hexdigest(),
             sys.version, platform.platform(), node,
             *(f"{name}=={metadata.version(name)}" for name in SYNTHESIS_PACKAGES),
             *(f"{name}={os.environ.get(name, '')}" for name in ("CDKTF_FAST_IMPORTS", "CDKTF_FAST_NODE"))]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def tracked_sources(root: Path = REPO) -> list[str]:
    """Every file git tracks in ``root`` (as it is in the working tree) but the tests: what a copy of the
    repository gives the project's commands to read."""
    listed = subprocess.run(["git", "-C", str(root), "ls-files"], capture_output=True, text=True, check=True)
    return [name for name in listed.stdout.splitlines()
            if not name.startswith("tests/") and (root / name).is_file()]


def reused(config: pytest.Config, name: str, key: str, make: Callable[[Path], None], fallback: Path) -> Path:
    """The folder ``make`` fills for ``key``, made once and kept in pytest's cache (``.pytest_cache``) under
    ``name``: another xdist worker, or a later run, with the same key reads it instead of making it again.

    The key must cover everything the result depends on (``inputs_key``); results of other keys are
    removed when a new one is kept. Without pytest's cache (``-p no:cacheprovider``, or CI's clean clone)
    the folder is ``fallback/name/key``, for this run's workers only. ``make`` fills a folder beside it
    that is renamed into place under a lock: a reader never sees it half-made, and a failed ``make``
    leaves nothing. Read-only for its users.
    """
    cache = getattr(config, "cache", None)
    root = cache.mkdir(name) if cache is not None else fallback / name
    root.mkdir(parents=True, exist_ok=True)
    results = root / key
    with output.locked(root):
        if not results.is_dir():
            work = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=root))
            try:
                make(work)
                for stale in root.iterdir():  # results of other inputs: never read again
                    if stale != work:
                        shutil.rmtree(stale)
                os.rename(work, results)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    return results


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


def resources(stack_json: dict, type_: str) -> dict[str, dict]:
    """The resources of one Terraform type in a synthesized stack, by name."""
    return stack_json.get("resource", {}).get(type_, {})


def only(stack_json: dict, type_: str) -> dict:
    """The single resource of ``type_``; fails when there is not exactly one."""
    found = resources(stack_json, type_)
    assert len(found) == 1, f"expected one {type_}, found {sorted(found)}"
    return next(iter(found.values()))


def release(stack_json: dict, chart: str) -> dict:
    """The single Helm release of ``chart`` in a synthesized stack."""
    (found,) = [r for r in resources(stack_json, "helm_release").values() if r["chart"] == chart]
    return found


def values(stack_json: dict, chart: str) -> dict:
    """The values document of the Helm release of ``chart`` (JSON, which Helm reads as YAML)."""
    (text,) = release(stack_json, chart)["values"]
    return json.loads(text)


#: The cluster's IAM OIDC provider, as the services stack hands it to workloads with their own AWS role.
OIDC_ARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71"
OIDC_URL = "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71"


def batch_nodes(stack: TerraformStack, *more_taints: Taint) -> EksNodeGroup:
    """A spot node group for batch work, labelled and tainted ``workload=batch``; ``more_taints`` add to it."""
    from constructs_lib import CapacityType, EksNodeGroup, Taint, TaintEffect

    return EksNodeGroup(stack, "batch", cluster_name="c", subnet_ids=["subnet-a", "subnet-b"],
                        instance_types=["m7i.large", "m6i.large"], capacity_type=CapacityType.SPOT,
                        labels={"workload": "batch"},
                        taints=[Taint(key="workload", value="batch", effect=TaintEffect.NO_SCHEDULE), *more_taints])


def services_guardrails(**more: Any) -> Guardrails:
    """What the services stack gives its workloads (see tests/workloads_app.py: wire); ``more`` adds to it."""
    from constructs_lib import BASELINE, Guardrails

    return Guardrails(environment="staging", rule_packs=[BASELINE], secrets_prefix="staging/", namespace="shop",
                      namespace_name="shop", oidc_provider_arn=OIDC_ARN, oidc_issuer_url=OIDC_URL, **more)


def in_services_stack(build: Callable[..., object], **more: Any) -> dict:
    """Synthesize ``build`` in a stack with the services stack's guardrails; their rules must hold."""
    from constructs_lib import ConfigError

    def filled(stack: TerraformStack) -> None:
        rails = services_guardrails(**more).attach(stack)
        build(stack)
        errors = rails.check(stack)
        if errors:
            raise ConfigError.merge(errors)
    return synth(filled)


def assert_config_error(build: Callable[[], object], where: str, message: str) -> None:
    """``build()`` fails with a ConfigError for ``where`` whose text matches the regex ``message``."""
    from constructs_lib import ConfigError

    try:
        build()
    except ConfigError as error:
        text = str(error)
        assert re.match(where, text), text
        assert re.search(message, text), text
    else:
        raise AssertionError(f"expected a ConfigError matching {message!r}")


def tree(root: Path) -> list[str]:
    """Every file below ``root``, relative to it, sorted."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def assert_same_tree(expected: Path, actual: Path) -> None:
    """``actual`` holds the same files as ``expected``, byte for byte (and not two empty trees)."""
    assert tree(expected), f"nothing in {expected}"
    assert tree(actual) == tree(expected)
    for name in tree(expected):
        assert (actual / name).read_bytes() == (expected / name).read_bytes(), name
