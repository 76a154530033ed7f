"""CI workflows, the Atlantis config and the stack order they share: they parse, agree with the
synthesized stacks, call only commands that exist in the repository, and hold the least privilege
(checked here, and by zizmor)."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from delivery import atlantis
from delivery.stacks import ci_stacks, stack_graph

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
ACTIONS = sorted((REPO / ".github" / "actions").glob("*/action.yml"))
SCRIPTS = tomllib.loads((REPO / "Pipfile").read_text())["scripts"]
CDKTF_COMMANDS = {"diff", "deploy", "synth"}
ZIZMOR = Path(sys.executable).with_name("zizmor")
CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1"


def parse(text: str) -> dict:
    document = yaml.safe_load(text)
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads the key `on` as True
    return document


def load(path: Path) -> dict:
    return parse(path.read_text())


def run_lines(workflow: dict) -> list[str]:
    """Every shell line a workflow (its jobs' steps) or a composite action (its steps) runs."""
    steps = [step for job in workflow.get("jobs", {}).values() for step in job["steps"]]
    steps += workflow.get("runs", {}).get("steps", [])
    return [line.strip() for step in steps for line in step.get("run", "").splitlines()]


def github_texts() -> dict[str, str]:
    """Every workflow and action, by path under ``.github``."""
    return {str(p.relative_to(REPO / ".github")): p.read_text() for p in WORKFLOWS + ACTIONS}


@pytest.fixture(scope="module")
def graph(synth_dir: Path) -> dict[str, list[str]]:
    return stack_graph(synth_dir)


def test_stacks_in_dependency_order_without_the_state_stacks(graph) -> None:
    assert ci_stacks(graph, "staging") == ["staging-cluster", "staging-addons", "staging-platform", "staging-services"]
    assert ci_stacks(graph, "production") == ["production-cluster", "production-addons", "production-platform",
                                              "production-services"]
    assert not [s for s in ci_stacks(graph) if s.endswith("-state")]
    with pytest.raises(ValueError, match="dependency cycle: a -> b -> a"):
        ci_stacks({"a": ["b"], "b": ["a"]})


def test_there_are_pull_request_deploy_and_drift_workflows() -> None:
    assert [p.name for p in WORKFLOWS] == ["deploy.yml", "drift.yml", "pull-request-trusted.yml", "pull-request.yml"]
    pull_request, trusted, deploy, drift = (load(REPO / ".github" / "workflows" / name) for name in
                                            ("pull-request.yml", "pull-request-trusted.yml", "deploy.yml", "drift.yml"))
    assert pull_request["on"] == {"pull_request": {"branches": ["main"]}}
    assert trusted["on"] == {"workflow_run": {"workflows": [pull_request["name"]], "types": ["completed"]}}
    assert deploy["on"]["push"] == {"branches": ["main"]}
    assert "schedule" in drift["on"]


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=[str(p.relative_to(REPO)) for p in WORKFLOWS + ACTIONS])
def test_workflows_call_only_commands_that_exist(path: Path) -> None:
    workflow = load(path)
    steps = [s for job in workflow.get("jobs", {}).values() for s in job["steps"]]
    for step in steps + workflow.get("runs", {}).get("steps", []):
        if step.get("uses", "").startswith(("./", "$/")):
            assert (REPO / step["uses"][2:] / "action.yml").is_file(), step["uses"]
    lines = run_lines(workflow)
    assert lines
    for line in lines:
        for script in re.findall(r"pipenv run (\w+)", line):
            assert script in SCRIPTS or script == "python", f"{path.name}: pipenv run {script}"
        for module in re.findall(r"python3? -m ([\w.]+)", line):
            if module not in ("pip", "pipenv"):
                assert importlib.util.find_spec(module), f"{path.name}: python -m {module}"
        for command in re.findall(r"(?:^|[;&|(]\s*)cdktf (\w+)", line):
            assert command in CDKTF_COMMANDS, f"{path.name}: cdktf {command}"
        if "bash .ci/run" in line:
            assert (REPO / ".ci" / "run").is_file()
        if line.startswith("terraform "):
            assert shlex.split(line)[1].startswith("-chdir="), line


def test_pull_requests_test_review_scan_then_trusted_comment_and_plan() -> None:
    check = load(REPO / ".github" / "workflows" / "pull-request.yml")["jobs"]["check"]
    text = "\n".join(run_lines({"jobs": {"check": check}}))
    for command in ("bash .ci/run", "pipenv run lint", "pipenv run synth", "pipenv run policy",
                    'pipenv run review --base "origin/$BASE_REF"'):
        assert command in text, command
    uploads = {s["with"]["name"]: s["with"]["path"] for s in check["steps"] if "upload-artifact" in s.get("uses", "")}
    assert uploads == {"review": "review/", "cdktf.out": "cdktf.out/manifest.json\ncdktf.out/stacks/*/cdk.tf.json\n"}
    trusted = load(REPO / ".github" / "workflows" / "pull-request-trusted.yml")["jobs"]
    assert "gh pr comment" in "\n".join(run_lines({"jobs": {"comment": trusted["comment"]}}))
    plan = trusted["plan"]
    assert plan["strategy"]["matrix"]["environment"] == ["staging", "production"]
    assert plan["environment"] == "${{ matrix.environment }}-plan"
    plan_text = "\n".join(run_lines({"jobs": {"plan": plan}}))
    assert "python -m delivery.plan_guard" in plan_text and "plan -input=false -lock=false" in plan_text
    assert trusted["status"]["needs"] == "plan"


def test_merges_deploy_staging_first_and_production_after_approval() -> None:
    jobs = load(REPO / ".github" / "workflows" / "deploy.yml")["jobs"]
    assert jobs["production"]["needs"] == "staging"
    for env in ("staging", "production"):
        assert jobs[env]["environment"] == env
        assert jobs[env]["concurrency"] == {"group": f"deploy-{env}", "cancel-in-progress": False}
        (deploy,) = [s["run"] for s in jobs[env]["steps"] if "cdktf deploy" in s.get("run", "")]
        assert f"pipenv run stacks --env {env}" in deploy and "--auto-approve" in deploy


def test_drift_plans_with_detailed_exit_code_without_locking() -> None:
    text = "\n".join(run_lines(load(REPO / ".github" / "workflows" / "drift.yml")))
    assert "-detailed-exitcode" in text and "-lock=false" in text
    terraform = [line for line in text.splitlines() if "terraform " in line]
    assert terraform and not [line for line in terraform if " apply" in line]


# --- least privilege -------------------------------------------------------------------------------------------

_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
_USES_LINE = re.compile(r"^\s*-?\s*uses:\s*(\S+)\s*(?:#\s*(\S+))?\s*$")
_GITHUB_WRITE = ("contents", "pull-requests", "issues", "statuses", "actions", "checks", "deployments", "packages")
_MAIN_ONLY = "github.ref == 'refs/heads/main'"
_SAME_REPOSITORY = "github.event.workflow_run.head_repository.full_name == github.repository"


def ci_problems(texts: dict[str, str]) -> list[str]:
    """What breaks least privilege in the workflows and actions (path under ``.github`` -> text)."""
    problems: list[str] = []
    pins: dict[str, set[str]] = {}
    for path, text in texts.items():
        for line in text.splitlines():
            if (match := _USES_LINE.match(line)) and not match.group(1).startswith(("./", "$/")):
                uses, version = match.groups()
                if not _PIN.match(uses):
                    problems.append(f"{path}: {uses} is not pinned to a commit")
                elif not (version and re.fullmatch(r"v\d+\.\d+\.\d+", version)):
                    problems.append(f"{path}: {uses} has no version comment")
                pins.setdefault(uses.split("@")[0], set()).add(uses)
    problems += [f"{action} pinned to different commits: {sorted(p)}" for action, p in pins.items() if len(p) > 1]
    for path, text in texts.items():
        doc = parse(text)
        if "jobs" not in doc:
            continue
        if doc.get("permissions", {}) != {}:
            problems.append(f"{path}: permissions at workflow level")
        triggers = set(doc["on"])
        for name, job in doc["jobs"].items():
            where = f"{path}: job {name}"
            granted = job.get("permissions")
            if not isinstance(granted, dict):
                problems.append(f"{where} has no permissions of its own")
                granted = {}
            writes = {p for p in _GITHUB_WRITE if granted.get(p) == "write"}
            credentials = granted.get("id-token") == "write"
            steps = job["steps"]
            checkouts = [s for s in steps if s.get("uses", "").startswith("actions/checkout@")]
            lines = run_lines({"jobs": {name: job}})
            for step in checkouts:
                if (step.get("with") or {}).get("persist-credentials") is not False:
                    problems.append(f"{where}: checkout without persist-credentials: false")
            if "pull_request" in triggers and {k: v for k, v in granted.items() if v != "none"} not in (
                    {}, {"contents": "read"}):
                problems.append(f"{where} runs the pull request's code holding {granted}")
            if credentials and writes:
                problems.append(f"{where} holds an AWS role and GitHub write access ({sorted(writes)})")
            if credentials and "environment" not in job:
                problems.append(f"{where} holds an AWS role outside a GitHub environment")
            on_main = triggers & {"push", "workflow_dispatch", "schedule"}
            if credentials and on_main and _MAIN_ONLY not in job.get("if", ""):
                problems.append(f"{where} holds an AWS role and is not guarded to main")
            if "deploy" in path and job.get("concurrency", {}).get("cancel-in-progress") is not False:
                problems.append(f"{where} may be cancelled mid-deploy")
            for line in lines:
                if re.match(r"terraform .* plan ", line) and "-lock=false" not in line and "deploy" not in path:
                    problems.append(f"{where}: a plan that takes the state lock: {line}")
            if "workflow_run" in triggers:
                if credentials and _SAME_REPOSITORY not in job.get("if", ""):
                    problems.append(f"{where} holds an AWS role for a fork's pull request")
                if writes and checkouts:
                    problems.append(f"{where} checks out code while holding GitHub write access")
                for step in checkouts:
                    if {"ref", "repository"} & set(step.get("with") or {}):
                        problems.append(f"{where} checks out something other than main")
                if credentials:
                    order = [i for i, s in enumerate(steps) if "delivery.plan_guard" in s.get("run", "")] + \
                            [i for i, s in enumerate(steps) if "configure-aws-credentials" in s.get("uses", "")]
                    guarded = len(order) == 2 and order[0] < order[1]
                    if not guarded or any(line.startswith("terraform ") and '"$RUNNER_TEMP/plan/' not in line
                                          for line in lines):
                        problems.append(f"{where} plans what delivery.plan_guard has not accepted first")
    return problems


def test_ci_holds_the_least_privilege() -> None:
    assert ci_problems(github_texts()) == []


TRUSTED = "workflows/pull-request-trusted.yml"


LEAST_PRIVILEGE_DEFECTS = [
    ("workflows/deploy.yml", "permissions: {}  # each job says what it needs", "permissions:\n  contents: write",
     "permissions at workflow level"),
    ("workflows/drift.yml", "    permissions:\n      issues: write  # open or comment the `drift` issue\n", "",
     "job report has no permissions of its own"),
    ("workflows/pull-request.yml", "      contents: read\n", "      contents: read\n      pull-requests: write\n",
     "runs the pull request's code holding"),
    ("workflows/pull-request.yml", "      contents: read\n", "      contents: read\n      id-token: write\n",
     "runs the pull request's code holding"),
    ("workflows/pull-request.yml", CHECKOUT, "actions/checkout@v7", "actions/checkout@v7 is not pinned"),
    ("workflows/pull-request.yml", CHECKOUT, CHECKOUT.split(" #")[0], "has no version comment"),
    ("workflows/drift.yml", CHECKOUT, CHECKOUT.replace("3d3c", "0d3c"), "pinned to different commits"),
    ("workflows/deploy.yml", "          persist-credentials: false\n", "", "checkout without persist-credentials"),
    ("workflows/deploy.yml", "    if: github.ref == 'refs/heads/main'\n", "", "not guarded to main"),
    ("workflows/deploy.yml", "    environment: staging\n", "", "outside a GitHub environment"),
    ("workflows/deploy.yml", "cancel-in-progress: false", "cancel-in-progress: true", "cancelled mid-deploy"),
    ("workflows/drift.yml", "      id-token: write  # OIDC: the plan role\n",
     "      id-token: write  # OIDC: the plan role\n      issues: write\n", "AWS role and GitHub write access"),
    (TRUSTED, f"      && {_SAME_REPOSITORY}\n", "", "for a fork's pull request"),
    (TRUSTED, "plan -input=false -lock=false", "plan -input=false", "a plan that takes the state lock"),
    (TRUSTED, "          persist-credentials: false  # no ref",
     "          ref: ${{ github.event.workflow_run.head_sha }}\n          persist-credentials: false  # no ref",
     "checks out something other than main"),
    (TRUSTED, "    steps:\n      - uses: actions/download-artifact",
     f"    steps:\n      - uses: {CHECKOUT}\n        with:\n          persist-credentials: false\n"
     "      - uses: actions/download-artifact", "checks out code while holding GitHub write access"),
    (TRUSTED, "python -m delivery.plan_guard", "python -m delivery.stacks", "has not accepted first"),
    (TRUSTED, '"$RUNNER_TEMP/plan/stacks/$stack" plan', '"$RUNNER_TEMP/pull-request/stacks/$stack" plan',
     "has not accepted first"),
]


@pytest.mark.parametrize(("path", "old", "new", "problem"), LEAST_PRIVILEGE_DEFECTS,
                         ids=[f"{path.split('/')[-1]}: {problem}" for path, _, _, problem in LEAST_PRIVILEGE_DEFECTS])
def test_least_privilege_check_catches(path: str, old: str, new: str, problem: str) -> None:
    texts = github_texts()
    assert old in texts[path], old
    texts[path] = texts[path].replace(old, new, 1)
    assert any(problem in p for p in ci_problems(texts)), ci_problems(texts)


# --- zizmor ----------------------------------------------------------------------------------------------------

def zizmor(root: Path, *options: str) -> list[tuple[str, str, str]]:
    """``(audit, severity, file)`` of every finding at medium or above; the repository's own zizmor config,
    if anyone adds one, is not read."""
    result = subprocess.run([str(ZIZMOR), "--offline", "--no-config", "--no-exit-codes", "--format", "json",
                             "--min-severity", "medium", *options, str(root / ".github")],
                            capture_output=True, text=True, check=True)
    return sorted((f["ident"], f["determinations"]["severity"],
                   Path(f["locations"][0]["symbolic"]["key"]["Local"]["verbatim_path"]).name)
                  for f in json.loads(result.stdout))


def test_zizmor_finds_nothing_at_medium_or_above() -> None:
    assert zizmor(REPO) == []


def test_the_one_zizmor_exception_is_the_trusted_workflow_trigger() -> None:
    """``workflow_run`` is flagged whatever the workflow does; it is how credentials stay away from pull-request
    code (README). Nothing else may be silenced with a ``zizmor: ignore`` comment."""
    assert zizmor(REPO, "--no-ignores") == [("dangerous-triggers", "High", "pull-request-trusted.yml")]


ZIZMOR_DEFECTS = [
    ("workflows/pull-request.yml", CHECKOUT, "actions/checkout@v7", "unpinned-uses"),
    ("workflows/pull-request.yml", "          persist-credentials: false\n", "", "artipacked"),
    ("workflows/drift.yml", "permissions: {}  # each job says what it needs",
     "permissions:\n  issues: write\n# each job but report says what it needs", None),
    (TRUSTED, 'echo "pull request #$number is now at $head',
     'echo "${{ github.event.workflow_run.head_branch }} is now at $head', "template-injection"),
    (TRUSTED, "  workflow_run:  # zizmor: ignore[dangerous-triggers]", "  workflow_run:", "dangerous-triggers"),
]


@pytest.mark.parametrize(("path", "old", "new", "audit"), ZIZMOR_DEFECTS,
                         ids=[audit or "excessive-permissions" for _, _, _, audit in ZIZMOR_DEFECTS])
def test_zizmor_catches_a_finding_put_back(tmp_path: Path, path: str, old: str, new: str, audit: str | None) -> None:
    shutil.copytree(REPO / ".github", tmp_path / ".github")
    target = tmp_path / ".github" / path
    text = target.read_text()
    assert old in text, old
    if audit is None:  # broad permissions at workflow level, left to a job that sets none
        text = text.replace("    permissions:\n      issues: write  # open or comment the `drift` issue\n", "")
        audit = "excessive-permissions"
    target.write_text(text.replace(old, new, 1))
    assert audit in {finding[0] for finding in zizmor(tmp_path)}


# --- Atlantis --------------------------------------------------------------------------------------------------

def test_atlantis_yaml_is_generated_from_the_stacks(graph) -> None:
    committed = (REPO / "atlantis.yaml").read_text()
    assert committed == atlantis.render(graph), "run `pipenv run atlantis` and commit atlantis.yaml"
    config = yaml.safe_load(committed)
    assert config["version"] == 3
    projects = {p["name"]: p for p in config["projects"]}
    assert list(projects) == ci_stacks(graph)
    for name, project in projects.items():
        assert project["depends_on"] == [d for d in graph[name] if not d.endswith("-state")]
        assert project["apply_requirements"] == ["approved", "mergeable", "undiverged"]
        assert project["autoplan"]["enabled"] is True
        assert set(project["autoplan"]["when_modified"]) >= {"constructs_lib/**/*", "stacks/**/*",
                                                            "environments/**/*"}
    assert len({(p["dir"], p["workspace"]) for p in projects.values()}) == len(projects)
    steps = config["workflows"]["cdktf"]["plan"]["steps"]
    synth = next(s["run"] for s in steps if "run" in s)
    assert "pipenv run synth --env" in synth  # synthesizes before planning
    for step in steps + config["workflows"]["cdktf"]["apply"]["steps"]:
        if "run" in step and step["run"].startswith("terraform"):
            assert "cdktf.out/stacks/" in step["run"]
