"""The fast import path, watch mode, always-whole output, cleanup, and the benchmark's plumbing (not
its timings)."""

from __future__ import annotations

import codecs
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

import pytest

from fastsynth import cleanup, lazy_providers, output
from fastsynth.bench import _descendants, _node_usage
from fastsynth.watch import reload_project, snapshot, watch
from helpers import REPO, assert_same_tree, checkout_copy, tree

#: These check the hook itself; with CDKTF_FAST_IMPORTS=0 the session runs on the stock path.
needs_fast_path = pytest.mark.skipif(not lazy_providers.enabled(), reason="CDKTF_FAST_IMPORTS=0")


@needs_fast_path
def test_the_session_runs_on_the_fast_path(built_environments: dict) -> None:
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


def assembly_fields(tgz: Path, *names: str) -> dict:
    """Top-level fields of the jsii assembly (``package/.jsii``) in a package tarball.

    The assembly is 130 MB of JSON for AWS, written with sorted keys and a two-space indent; the fields
    wanted here come before the type definitions, so reading stops as soon as they are decoded (0.1 s
    instead of 9 s). Any other layout falls back to parsing the whole file.
    """
    decoder = json.JSONDecoder()
    found: dict[str, object] = {}
    with tarfile.open(tgz, "r|gz") as archive:
        for member in archive:
            if member.name != "package/.jsii":
                continue
            stream, text = archive.extractfile(member), ""
            assert stream is not None
            utf8 = codecs.getincrementaldecoder("utf-8")()
            while len(found) < len(names):
                chunk = stream.read(1 << 20)
                text += utf8.decode(chunk, final=not chunk)
                for name in set(names) - set(found):
                    start = re.search(rf'\n  "{name}": ', text)
                    if start:
                        with contextlib.suppress(json.JSONDecodeError):  # cut off at the end of this chunk
                            found[name] = decoder.raw_decode(text, start.end())[0]
                if not chunk:
                    return {name: json.loads(text)[name] for name in names}
            return found
    raise AssertionError(f"no package/.jsii in {tgz}")


@needs_fast_path
@pytest.mark.parametrize("package", lazy_providers.PROVIDER_PACKAGES)
def test_jsii_submodule_names_match_the_assembly(package: str) -> None:
    """The jsii runtime imports a submodule on demand by this map; it must match the assembly exactly."""
    from jsii import _reference_map

    root = Path(__import__(package).__file__ or "").parent
    (tgz,) = (root / "_jsii").glob("*.jsii.tgz")
    assembly = assembly_fields(tgz, "name", "submodules")
    registered = {fqn: module for fqn, module in _reference_map._submodule_fqn_map.items()
                  if fqn.startswith(assembly["name"] + ".")}
    assert set(registered) == set(assembly["submodules"])  # every jsii submodule, and nothing else
    for fqn, sub in assembly["submodules"].items():
        explicit = sub.get("targets", {}).get("python", {}).get("module")
        module = registered[fqn]
        assert explicit in (None, module), fqn
        assert (root.parent / module.replace(".", "/") / "__init__.py").is_file(), fqn


def test_watch_resynthesizes_on_change_and_survives_errors(tmp_path: Path) -> None:
    """A typo in a stack file is one line naming the file and line, with no traceback; the next edit
    that fixes it synthesizes again."""
    (tmp_path / "stacks" / "services").mkdir(parents=True)
    edited = tmp_path / "stacks" / "services" / "checkout.py"
    edited.write_text("A = 1\n")
    calls: list[int] = []
    lines: list[str] = []

    def synthesize() -> list[str]:  # reads the stack file as the app's import would
        calls.append(len(calls))
        exec(compile(edited.read_text(), str(edited), "exec"), {})
        return ["staging-services"]

    def edit_twice() -> None:
        for content in ("A = 1\nB = (\n", "A = 2\n"):
            time.sleep(0.5)
            edited.write_text(content)

    editor = threading.Thread(target=edit_twice)
    editor.start()
    reloads: list[int] = []
    watch(synthesize, tmp_path, interval=0.05, out=lines.append, iterations=3, reload=lambda: reloads.append(1))
    editor.join()
    assert len(calls) == 3 and len(reloads) == 2
    assert lines[0].startswith("synthesized 1 stacks in ")
    assert lines[1] == "changed: stacks/services/checkout.py"
    assert lines[2] == "stacks/services/checkout.py:2: SyntaxError: '(' was never closed"
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


def test_bench_scaling_run_synthesizes_generated_services_under_the_environments_rules(tmp_path: Path) -> None:
    """The benchmark's scaling run adds services to staging as `service new` would write them; the app's
    rules must accept them (an image the rules refuse broke the benchmark once), and they are synthesized."""
    from fastsynth.bench import _run

    measured = _run("scale", tmp_path / "out", arg="2")
    assert measured["wall"] > 0
    stack = json.loads((tmp_path / "out" / "stacks" / "staging-services" / "cdk.tf.json").read_text())
    deployments = {body["metadata"]["name"] for body in stack["resource"]["kubernetes_deployment_v1"].values()}
    assert {"generated-000", "generated-001"} <= deployments


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


def test_parallel_watch_writes_what_one_process_writes_and_reports_a_typo_in_one_line(
        synth_dir: Path, tmp_path: Path) -> None:
    """Watch mode's per-environment workers (on a checkout copy), merged, write byte for byte the app's
    one-process output, cold and warm after a reload. A typo in a stack file is one line naming the file
    and line, said once for both workers; a worker that dies is named; neither changes the output."""
    from fastsynth.watch import ParallelSynthesizer, SynthesisFailed

    root = checkout_copy(tmp_path / "checkout")
    services = root / "stacks" / "services" / "checkout.py"
    source = services.read_text()
    outdir = tmp_path / "cdktf.out"
    synthesizer = ParallelSynthesizer(["staging", "production"], outdir, root)
    try:
        stacks = synthesizer()  # cold workers
        assert sorted(stacks) == sorted(p.name for p in (synth_dir / "stacks").iterdir())
        assert_same_tree(synth_dir, outdir)

        lines = source.splitlines(keepends=True)
        at = next(i for i, line in enumerate(lines) if "    Microservice(" in line)
        services.write_text("".join([*lines[:at], "    Microservce\n", *lines[at:]]))
        with pytest.raises(SynthesisFailed) as failed:
            synthesizer()
        assert str(failed.value) == (f"stacks/services/checkout.py:{at + 1}: NameError: name 'Microservce' is not "
                                     "defined")
        assert_same_tree(synth_dir, outdir)

        services.write_text(source)
        synthesizer()  # warm workers, after reloading the project's modules
        assert_same_tree(synth_dir, outdir)

        # A worker that dies while synthesizing: in place of the production one, one that reads the request
        # and exits without an answer.
        synthesizer.workers["production"].terminate()
        synthesizer.workers["production"].wait()
        synthesizer.workers["production"] = subprocess.Popen(
            [sys.executable, "-c", "import sys; sys.stdin.readline(); sys.exit(3)"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, bufsize=1)
        with pytest.raises(SynthesisFailed, match=r"^the production worker exited \(3\); it restarts"):
            synthesizer()
        assert_same_tree(synth_dir, outdir)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out", "checkout"]
    finally:
        synthesizer.close()


# -- the output is always whole (fastsynth/output.py) ---------------------------------------------

ENVS = ("staging", "production")
LAYERS = ("addons", "cluster", "platform", "services", "state")
ALL_STACKS = sorted(f"{env}-{layer}" for env in ENVS for layer in LAYERS)


def fake_synthesis(outdir: Path, envs: tuple[str, ...], tag: str) -> Path:
    """A synthesis of ``envs`` beside ``outdir``, as cdktf lays it out; every file says ``tag``."""
    new = output.new_output_dir(outdir)
    names = [name for name in ALL_STACKS if name.rsplit("-", 1)[0] in envs]
    for name in names:
        (new / "stacks" / name).mkdir(parents=True)
        (new / "stacks" / name / "cdk.tf.json").write_text(json.dumps({"tag": tag}))
    entries = {name: {"name": name, "synthesizedStackPath": f"stacks/{name}/cdk.tf.json"} for name in names}
    (new / "manifest.json").write_text(output.cdktf_json({"version": tag, "stacks": entries}))
    return new


def race(outdir: Path, publish, rounds: int = 15, writers: int = 2) -> list[str]:
    """``writers`` per environment publish ``rounds`` times each (syntheses of staging alone and of
    production alone, as with ``--env``) while a reader looks at the output; returns what went wrong,
    including a final output in which a synthesis undid another's.

    A look that straddles a switch (the output directory at that path changed while it looked) is
    repeated, as a person or a tool would refresh: the switched-out generation is being deleted.
    Otherwise the manifest must list exactly the stacks present, all of them, each whole.
    """
    problems: list[str] = []
    done = threading.Event()

    def write(env: str) -> None:
        try:
            for round_ in range(rounds):
                publish(fake_synthesis(outdir, (env,), f"{env}-{round_}"), outdir,
                        keep=output.keep_other_environments([env], ENVS))
        except Exception as error:
            problems.append(f"writer: {error!r}")

    def look() -> str | None:
        try:
            before = os.stat(outdir).st_ino
        except OSError as error:
            return f"reader: {error!r}"
        try:
            listed = sorted(os.listdir(outdir / "stacks"))
            in_manifest = sorted(json.loads((outdir / "manifest.json").read_text())["stacks"])
            for name in listed:
                json.loads((outdir / "stacks" / name / "cdk.tf.json").read_text())
            failure = None
        except (OSError, ValueError) as error:
            failure = error
        try:
            if os.stat(outdir).st_ino != before:
                return None  # switched while looking: look again
        except OSError as error:
            return f"reader: {error!r}"
        if failure is not None:
            return f"reader: {failure!r}"
        if listed != ALL_STACKS or in_manifest != ALL_STACKS:
            return f"reader: {len(listed)} stacks, {len(in_manifest)} in the manifest"
        return None

    def read() -> None:
        while not done.is_set():
            if (problem := look()) is not None:
                problems.append(problem)

    output.publish(fake_synthesis(outdir, ENVS, "initial"), outdir)
    reader = threading.Thread(target=read)
    threads = [threading.Thread(target=write, args=(env,)) for env in ENVS * writers]
    reader.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    reader.join()
    for name in ALL_STACKS:  # each environment's last synthesis is what is left: none undid another's
        last = f"{name.rsplit('-', 1)[0]}-{rounds - 1}"
        try:
            tag = json.loads((outdir / "stacks" / name / "cdk.tf.json").read_text())["tag"]
        except (OSError, ValueError) as error:
            tag = repr(error)
        if tag != last:
            problems.append(f"final: {name} is not from the last synthesis of its environment: {tag}")
    return problems


def test_racing_syntheses_all_succeed_and_a_reader_never_sees_partial_output(tmp_path: Path) -> None:
    outdir = tmp_path / "cdktf.out"
    assert race(outdir, output.publish) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]  # no temporary directory left


def test_the_race_catches_an_output_that_is_replaced_in_two_steps_without_a_lock(tmp_path: Path) -> None:
    """The defect this module fixes, put back: delete the old output, then rename the new one in."""
    def two_steps(new: Path, outdir: Path, keep=None) -> None:
        if keep is not None:
            output._carry_over(outdir, new, keep)
        shutil.rmtree(outdir, ignore_errors=True)
        time.sleep(0.02)  # the window a reader falls into, widened so the test cannot miss it
        os.rename(new, outdir)

    problems = race(tmp_path / "cdktf.out", two_steps, rounds=5)
    assert any(p.startswith("reader: FileNotFoundError") for p in problems), problems


def test_the_race_catches_syntheses_of_two_environments_undoing_each_other_without_a_lock(tmp_path: Path) -> None:
    """Another defect put back: the switch is atomic, but carrying the other environment over is not
    serialized, so a synthesis of production can bring back the staging stacks from before the last
    synthesis of staging."""
    both_carried_over = threading.Barrier(2)

    def unlocked(new: Path, outdir: Path, keep=None) -> None:
        output._carry_over(outdir, new, keep)
        both_carried_over.wait()  # the two syntheses overlap, as two runs started together do
        assert output.exchange(new, outdir)
        shutil.rmtree(new)

    problems = race(tmp_path / "cdktf.out", unlocked, rounds=3, writers=1)
    assert any(p.startswith("final: ") for p in problems), problems


def test_without_an_exchange_system_call_two_renames_stand_in(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(output, "exchange", lambda a, b: False)
    outdir = tmp_path / "cdktf.out"
    output.publish(fake_synthesis(outdir, ENVS, "first"), outdir)
    output.publish(fake_synthesis(outdir, ("staging",), "second"), outdir,
                   keep=output.keep_other_environments(["staging"], ENVS))
    manifest = json.loads((outdir / "manifest.json").read_text())
    assert sorted(manifest["stacks"]) == ALL_STACKS and manifest["version"] == "second"
    assert json.loads((outdir / "stacks" / "production-state" / "cdk.tf.json").read_text()) == {"tag": "first"}
    assert json.loads((outdir / "stacks" / "staging-state" / "cdk.tf.json").read_text()) == {"tag": "second"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]


def test_exchange_swaps_two_directories(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "from-a").write_text("")
    (tmp_path / "b").mkdir()
    if not output.exchange(tmp_path / "a", tmp_path / "b"):
        pytest.skip("no atomic exchange on this system or file system")
    assert tree(tmp_path) == ["b/from-a"]


@pytest.mark.parametrize(("stack", "owner"), [("staging-services", "staging"), ("staging-eu-services", "staging-eu"),
                                              ("production-state", "production"), ("qa-cluster", None)])
def test_a_stack_belongs_to_the_longest_environment_name_it_starts_with(stack: str, owner: str | None) -> None:
    assert output.environment_of(stack, ["staging", "staging-eu", "production"]) == owner


# -- cleanup (fastsynth/cleanup.py) and $TMPDIR ---------------------------------------------------

def test_jsii_node_is_found_without_starting_one() -> None:
    """Ctrl-C stops jsii's Node through this; it reads jsii's internals, so a jsii upgrade must keep it."""
    import cdktf  # noqa: F401 - the kernel runs

    node = cleanup.jsii_node()
    assert node is not None and node.poll() is None
    assert "jsii-runtime" in Path(f"/proc/{node.pid}/cmdline").read_text() if Path("/proc").is_dir() else True


def test_private_directories_of_dead_processes_are_removed_and_no_others(tmp_path: Path) -> None:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
    dead, alive = int(finished.stdout), os.getppid()
    for name in (f"cdktf-{dead}-abc", f"cdktf-{alive}-def", f"cdktf-{os.getpid()}-ghi", "cdktf-notapid-x",
                 "jsii-kernel-xyz"):
        (tmp_path / name).mkdir()
    cleanup._remove_abandoned(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"cdktf-{alive}-def", f"cdktf-{os.getpid()}-ghi", "cdktf-notapid-x", "jsii-kernel-xyz"])


def test_tracked_directories_are_removed_however_the_block_ends(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), cleanup.tracked(tmp_path / "work") as work:
        work.mkdir()
        (work / "half-written").write_text("")
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []


def test_cdktf_testing_apps_write_under_pytests_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    """conftest points $TMPDIR into pytest's base temporary directory before jsii's Node starts, so
    ``Testing.app()`` (and jsii's own folders) never write to the user's temporary directory."""
    from cdktf import Testing

    base = tmp_path_factory.getbasetemp()
    assert Path(Testing.app().outdir).is_relative_to(base)
    assert Path(tempfile.mkdtemp()).is_relative_to(base)


def test_the_benchmarks_one_service_change_is_one_image_tag_in_the_stack_file() -> None:
    from fastsynth.bench import _IMAGE_TAG, SERVICE_FILE

    before = (REPO / SERVICE_FILE).read_text()
    after, count = _IMAGE_TAG.subn(r'\1\2-bench"', before, count=1)
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert count == 1 and len(changed) == 1
    assert re.fullmatch(r'\s*image=f"\{REGISTRY\}/[\w.-]+:[\w.-]+-bench",', changed[0][1])
