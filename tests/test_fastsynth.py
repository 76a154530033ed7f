"""The fast import path, watch mode and the benchmark's plumbing (not its timings)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest

from fastsynth import lazy_providers
from fastsynth.bench import _descendants, _node_usage
from fastsynth.watch import reload_project, snapshot, watch
from helpers import assert_same_tree

#: These check the hook itself; with CDKTF_FAST_IMPORTS=0 the session runs on the stock path.
needs_fast_path = pytest.mark.skipif(not lazy_providers.enabled(), reason="CDKTF_FAST_IMPORTS=0")


@needs_fast_path
def test_the_session_runs_on_the_fast_path(synth_dir: Path) -> None:
    assert lazy_providers.installed()
    loaded = [m for m in sys.modules if m.startswith("cdktf_cdktf_provider_aws.")]
    assert "cdktf_cdktf_provider_aws.eks_cluster" in loaded
    assert "cdktf_cdktf_provider_aws.wafv2_web_acl" not in loaded  # never used, never imported
    assert 0 < len(loaded) < 100  # of 2,212


def test_submodules_still_load_on_attribute_access() -> None:
    import cdktf_cdktf_provider_aws

    module = cdktf_cdktf_provider_aws.xray_group
    assert module.XrayGroup.__name__ == "XrayGroup"
    with pytest.raises(AttributeError):
        cdktf_cdktf_provider_aws.no_such_module  # noqa: B018


@needs_fast_path
@pytest.mark.parametrize("package", lazy_providers.PROVIDER_PACKAGES)
def test_jsii_submodule_names_match_the_assembly(package: str) -> None:
    """The jsii runtime imports a submodule on demand by this map; it must match the assembly exactly."""
    from jsii import _reference_map

    root = Path(__import__(package).__file__).parent
    (tgz,) = (root / "_jsii").glob("*.jsii.tgz")
    with tarfile.open(tgz) as archive:
        assembly = json.load(archive.extractfile("package/.jsii"))
    registered = {fqn: module for fqn, module in _reference_map._submodule_fqn_map.items()
                  if fqn.startswith(assembly["name"] + ".")}
    assert set(registered) == set(assembly["submodules"])  # every jsii submodule, and nothing else
    for fqn, sub in assembly["submodules"].items():
        explicit = sub.get("targets", {}).get("python", {}).get("module")
        module = registered[fqn]
        assert explicit in (None, module), fqn
        assert (root.parent / module.replace(".", "/") / "__init__.py").is_file(), fqn


def test_watch_resynthesizes_on_change_and_survives_errors(tmp_path: Path) -> None:
    (tmp_path / "stacks").mkdir()
    edited = tmp_path / "stacks" / "services.py"
    edited.write_text("A = 1\n")
    calls: list[int] = []
    lines: list[str] = []

    def synthesize() -> list[str]:
        calls.append(len(calls))
        if len(calls) == 2:
            raise RuntimeError("broken edit")
        return ["staging-services"]

    def edit_twice() -> None:
        for content in ("A = (\n", "A = 2\n"):
            time.sleep(0.5)
            edited.write_text(content)

    editor = threading.Thread(target=edit_twice)
    editor.start()
    reloads: list[int] = []
    watch(synthesize, tmp_path, interval=0.05, out=lines.append, iterations=3, reload=lambda: reloads.append(1))
    editor.join()
    assert len(calls) == 3 and len(reloads) == 2
    assert lines[0].startswith("synthesized 1 stacks in ")
    assert lines[1] == "changed: stacks/services.py"
    assert "RuntimeError: broken edit" in lines[2]
    assert lines[3].startswith("synthesis failed after ") and lines[3].endswith("previous output kept; watching")
    assert lines[-1].startswith("synthesized 1 stacks in ")


def test_reload_forgets_only_the_named_packages(tmp_path: Path, monkeypatch) -> None:
    package = tmp_path / "edited_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("VALUE = 1\n")
    (package / "part.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    import edited_pkg.part  # noqa: F401

    reload_project(["edited_pkg"])
    assert "edited_pkg" not in sys.modules and "edited_pkg.part" not in sys.modules
    assert "cdktf_cdktf_provider_aws" in sys.modules
    (package / "__init__.py").write_text("VALUE = 22\n")  # another size: no stale .pyc
    assert __import__("edited_pkg").VALUE == 22
    assert sorted(p.name for p in snapshot(tmp_path, ["edited_pkg"])) == ["__init__.py", "part.py"]
    reload_project(["edited_pkg"])


def test_bench_sees_the_node_processes() -> None:
    import cdktf  # noqa: F401 - the jsii kernel runs

    cpu, peak = _node_usage()
    assert _descendants() and cpu > 0 and peak > 10


@needs_fast_path
def test_jsii_imports_an_unloaded_submodule_when_node_returns_its_type() -> None:
    from jsii import _reference_map

    module = "cdktf_cdktf_provider_aws.wafv2_rule_group"
    assert module not in sys.modules
    assert _reference_map._try_import_type_module("@cdktf/provider-aws.wafv2RuleGroup.Wafv2RuleGroup")
    assert module in sys.modules
    assert "@cdktf/provider-aws.wafv2RuleGroup.Wafv2RuleGroup" in _reference_map._types


def test_the_node_preload_makes_only_provider_indexes_lazy(tmp_path: Path) -> None:
    """lazy_index.cjs on a stand-in provider package: a submodule loads when first used, not before."""
    package = tmp_path / "node_modules" / "@cdktf" / "provider-demo" / "lib"
    (package / "used").mkdir(parents=True)
    (package / "unused").mkdir()
    (package / "index.js").write_text('"use strict";\nexports.unused = exports.used = void 0;\n'
                                      'exports.used = require("./used");\nexports.unused = require("./unused");\n')
    for name in ("used", "unused"):
        (package / name / "index.js").write_text(f'globalThis.loaded = [...(globalThis.loaded || []), "{name}"];\n'
                                                 f'exports.name = "{name}";\n')
    other = tmp_path / "node_modules" / "other" / "lib"
    other.mkdir(parents=True)
    (other / "index.js").write_text('exports.x = require("./x");\n')
    (other / "x.js").write_text('globalThis.loaded = [...(globalThis.loaded || []), "other"];\n')
    script = (f"const demo = require({json.dumps(str(package / 'index.js'))});"
              "const before = [...(globalThis.loaded || [])];"
              "const name = demo.used.name;"
              f"require({json.dumps(str(other / 'index.js'))});"
              "console.log(JSON.stringify({before, name, after: globalThis.loaded, keys: Object.keys(demo)}));")
    result = subprocess.run(["node", "--require", str(lazy_providers.LAZY_INDEX_PRELOAD), "-e", script],
                            capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == {"before": [], "name": "used", "after": ["used", "other"],
                                         "keys": ["used", "unused"]}


@needs_fast_path
@pytest.mark.skipif(not lazy_providers.node_enabled(), reason="CDKTF_FAST_NODE=0")
def test_install_adds_the_preload_to_node_options() -> None:
    assert str(lazy_providers.LAZY_INDEX_PRELOAD) in os.environ.get("NODE_OPTIONS", "")


def test_parallel_watch_writes_what_one_process_writes(synth_dir: Path, tmp_path: Path) -> None:
    """Watch mode's per-environment workers, merged, are byte for byte the app's one-process output."""
    from fastsynth.watch import ParallelSynthesizer, SynthesisFailed

    root = Path(__file__).resolve().parent.parent
    outdir = tmp_path / "cdktf.out"
    synthesizer = ParallelSynthesizer(["staging", "production"], outdir, root)
    try:
        for _ in range(2):  # cold workers, then warm ones after a reload
            stacks = synthesizer()
            assert sorted(stacks) == sorted(p.name for p in (synth_dir / "stacks").iterdir())
            assert_same_tree(synth_dir, outdir)
    finally:
        synthesizer.close()
    broken = ParallelSynthesizer(["staging", "nowhere"], tmp_path / "other.out", root)
    try:
        with pytest.raises(SynthesisFailed, match=r"the nowhere worker exited \(1\)"):
            broken()
        assert not (tmp_path / "other.out").exists()  # nothing half-written
    finally:
        broken.close()
