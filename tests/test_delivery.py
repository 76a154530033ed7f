"""CI workflows, the Atlantis config and the stack order they share: they parse, agree with the
synthesized stacks, and call only commands that exist in the repository."""

from __future__ import annotations

import importlib.util
import re
import shlex
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


def load(path: Path) -> dict:
    document = yaml.safe_load(path.read_text())
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads the key `on` as True
    return document


def run_lines(workflow: dict) -> list[str]:
    """Every shell line a workflow (its jobs' steps) or a composite action (its steps) runs."""
    steps = [step for job in workflow.get("jobs", {}).values() for step in job["steps"]]
    steps += workflow.get("runs", {}).get("steps", [])
    return [line.strip() for step in steps for line in step.get("run", "").splitlines()]


@pytest.fixture(scope="module")
def graph(synth_dir: Path) -> dict[str, list[str]]:
    return stack_graph(synth_dir)


def test_stacks_in_dependency_order_without_the_state_stacks(graph) -> None:
    assert ci_stacks(graph, "staging") == ["staging-cluster", "staging-platform", "staging-services"]
    assert ci_stacks(graph, "production") == ["production-cluster", "production-platform", "production-services"]
    assert not [s for s in ci_stacks(graph) if s.endswith("-state")]
    with pytest.raises(ValueError, match="dependency cycle: a -> b -> a"):
        ci_stacks({"a": ["b"], "b": ["a"]})


def test_there_are_pull_request_deploy_and_drift_workflows() -> None:
    assert [p.name for p in WORKFLOWS] == ["deploy.yml", "drift.yml", "pull-request.yml"]
    pull_request, deploy, drift = (load(REPO / ".github" / "workflows" / name)
                                   for name in ("pull-request.yml", "deploy.yml", "drift.yml"))
    assert pull_request["on"] == {"pull_request": {"branches": ["main"]}}
    assert deploy["on"]["push"] == {"branches": ["main"]}
    assert "schedule" in drift["on"]


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=[str(p.relative_to(REPO)) for p in WORKFLOWS + ACTIONS])
def test_workflows_call_only_commands_that_exist(path: Path) -> None:
    workflow = load(path)
    for step in [s for job in workflow.get("jobs", {}).values() for s in job["steps"]]:
        if step.get("uses", "").startswith("./"):
            assert (REPO / step["uses"] / "action.yml").is_file(), step["uses"]
    lines = run_lines(workflow)
    assert lines
    for line in lines:
        for script in re.findall(r"pipenv run (\w+)", line):
            assert script in SCRIPTS, f"{path.name}: pipenv run {script}"
        for module in re.findall(r"python3? -m ([\w.]+)", line):
            if module not in ("pip", "pipenv"):
                assert importlib.util.find_spec(module), f"{path.name}: python -m {module}"
        for command in re.findall(r"(?:^|[;&|(]\s*)cdktf (\w+)", line):
            assert command in CDKTF_COMMANDS, f"{path.name}: cdktf {command}"
        if "bash .ci/run" in line:
            assert (REPO / ".ci" / "run").is_file()
        if line.startswith("terraform "):
            assert shlex.split(line)[1].startswith("-chdir="), line


def test_pull_requests_test_review_scan_and_diff() -> None:
    workflow = load(REPO / ".github" / "workflows" / "pull-request.yml")
    text = "\n".join(run_lines(workflow))
    for command in ("bash .ci/run", "pipenv run synth", "pipenv run policy", "pipenv run review --base",
                    "gh pr comment", 'cdktf diff "$stack"'):
        assert command in text, command
    diff = workflow["jobs"]["diff"]
    assert diff["needs"] == "check" and diff["strategy"]["matrix"]["environment"] == ["staging", "production"]
    assert workflow["permissions"]["id-token"] == "write"  # OIDC, no long-lived AWS keys


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
