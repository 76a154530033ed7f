"""``pipenv run review``: on real git repositories made in temporary directories."""

from __future__ import annotations

import importlib
import inspect
import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from delivery import review as review_module
from delivery.risks import FORCES_REPLACEMENT, STATEFUL_TYPES

REPO = Path(__file__).resolve().parent.parent

#: A stand-in app with main.py's command line: writes stacks.json's stacks as cdktf.out would.
FAKE_MAIN = textwrap.dedent('''
    import argparse, json, pathlib, sys
    parser = argparse.ArgumentParser()
    parser.add_argument("--outdir")
    args = parser.parse_args()
    stacks = json.loads(pathlib.Path("stacks.json").read_text())
    if stacks == "broken":
        sys.exit("error: environment 'staging': account_id = '1': use the 12-digit AWS account id")
    for name, stack in stacks.items():
        folder = pathlib.Path(args.outdir) / "stacks" / name
        folder.mkdir(parents=True)
        (folder / "cdk.tf.json").write_text(json.dumps(stack))
''')


def resource(path: str, **arguments) -> dict:
    return {"//": {"metadata": {"path": path, "uniqueId": path.rsplit("/", 1)[-1]}}, **arguments}


def base_stacks() -> dict:
    return {
        "staging-services": {"resource": {
            "kubernetes_deployment_v1": {"checkout_deployment_1": resource(
                "staging-services/checkout/deployment", metadata={"name": "checkout", "namespace": "shop"},
                spec={"template": {"spec": {"container": [{"name": "checkout",
                                                           "resources": {"requests": {"memory": "1Gi"}}}]}}})},
            "aws_elasticache_replication_group": {"sessions_replication-group_2": resource(
                "staging-services/sessions/replication-group", replication_group_id="sessions",
                node_type="cache.t4g.small", engine="redis")},
            "kubernetes_service_v1": {"edge_service_3": resource(
                "staging-services/edge/service", metadata={"name": "edge", "namespace": "shop"},
                spec={"port": [{"name": "http", "port": 8080}], "selector": {"app": "edge"}, "type": "ClusterIP"})},
            "aws_secretsmanager_secret_version": {"sessions_secret-value_4": resource(
                "staging-services/sessions/secret-value", secret_id="x", secret_string="${jsonencode(old)}")},
        }},
        "production-services": {"resource": {}},
    }


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "--quiet", "--initial-branch=main")
    (root / "main.py").write_text(FAKE_MAIN)
    (root / "stacks.json").write_text(json.dumps(base_stacks()))
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", "base")
    return root


def run_review(repo: Path, stacks: dict | str, *, fmt: str = "json", capsys) -> tuple[int, str]:
    (repo / "stacks.json").write_text(json.dumps(stacks))
    code = review_module.main(["--repo", str(repo), "--base", "main", "--format", fmt])
    return code, capsys.readouterr().out


def test_no_change(repo: Path, capsys) -> None:
    code, out = run_review(repo, base_stacks(), capsys=capsys)
    assert code == review_module.NO_CHANGE == 0
    report = json.loads(out)
    assert report["risks"] == [] and report["environments"]["staging"]["changes"] == []
    code, markdown = run_review(repo, base_stacks(), fmt="markdown", capsys=capsys)
    assert "No change." in markdown and "- **staging**: no change" in markdown


def test_attribute_change_is_shown_with_its_path(repo: Path, capsys) -> None:
    stacks = base_stacks()
    deployment = stacks["staging-services"]["resource"]["kubernetes_deployment_v1"]["checkout_deployment_1"]
    deployment["spec"]["template"]["spec"]["container"][0]["resources"]["requests"]["memory"] = "2Gi"
    code, out = run_review(repo, stacks, capsys=capsys)
    assert code == review_module.CHANGE == 2
    (change,) = json.loads(out)["environments"]["staging"]["changes"]
    assert (change["action"], change["address"]) == ("update", "kubernetes_deployment_v1.checkout_deployment_1")
    assert change["changes"] == [{"path": "spec.template.spec.container[0].resources.requests.memory",
                                  "before": "1Gi", "after": "2Gi"}]
    _, markdown = run_review(repo, stacks, fmt="markdown", capsys=capsys)
    assert ('    spec.template.spec.container[0].resources.requests.memory: "1Gi" -> "2Gi"' in markdown)
    assert "- **staging**: 1 to update" in markdown and "- **production**: no change" in markdown


def test_removing_a_stateful_resource_is_a_risk(repo: Path, capsys) -> None:
    stacks = base_stacks()
    del stacks["staging-services"]["resource"]["aws_elasticache_replication_group"]
    code, out = run_review(repo, stacks, capsys=capsys)
    assert code == review_module.RISKY == 3
    (risk,) = json.loads(out)["risks"]
    assert risk["kind"] == "destroy-stateful"
    assert risk["address"] == "aws_elasticache_replication_group.sessions_replication-group_2"
    _, markdown = run_review(repo, stacks, fmt="markdown", capsys=capsys)
    assert markdown.index("### Risks") < markdown.index("### staging")  # risks come first
    assert "ElastiCache `aws_elasticache_replication_group.sessions_replication-group_2` is **destroyed**" in markdown


def test_removing_a_serving_resource_is_a_risk(repo: Path, capsys) -> None:
    stacks = base_stacks()
    del stacks["staging-services"]["resource"]["kubernetes_deployment_v1"]
    code, out = run_review(repo, stacks, capsys=capsys)
    assert code == review_module.RISKY
    (risk,) = json.loads(out)["risks"]
    assert (risk["kind"], risk["address"]) == ("remove-serving", "kubernetes_deployment_v1.checkout_deployment_1")
    assert "Deployment `kubernetes_deployment_v1.checkout_deployment_1` is **deleted**" in risk["message"]


def test_a_renamed_construct_is_caught_with_the_fix(repo: Path, capsys) -> None:
    stacks = base_stacks()
    services = stacks["staging-services"]["resource"]["kubernetes_service_v1"]
    moved = services.pop("edge_service_3")
    moved["//"]["metadata"]["path"] = "staging-services/gateway/service"
    services["gateway_service_9"] = moved
    code, out = run_review(repo, stacks, capsys=capsys)
    assert code == review_module.RISKY
    (risk,) = json.loads(out)["risks"]
    assert risk["kind"] == "rename" and risk["address"] == "kubernetes_service_v1.gateway_service_9"
    assert 'move_from_id("kubernetes_service_v1.edge_service_3")' in risk["fix"]
    assert "`moved` block" in risk["fix"]
    (change,) = json.loads(out)["environments"]["staging"]["changes"]
    assert change["action"] == "rename" and change["renamed_from"] == "kubernetes_service_v1.edge_service_3"


def test_an_argument_that_forces_replacement_is_a_risk(repo: Path, capsys) -> None:
    stacks = base_stacks()
    group = stacks["staging-services"]["resource"]["aws_elasticache_replication_group"]["sessions_replication-group_2"]
    group["replication_group_id"] = "sessions-v2"
    code, out = run_review(repo, stacks, capsys=capsys)
    assert code == review_module.RISKY
    (risk,) = json.loads(out)["risks"]
    assert risk["kind"] == "destroy-stateful"  # a stateful resource, replaced
    assert "`replication_group_id` changed" in risk["message"]
    _, markdown = run_review(repo, stacks, fmt="markdown", capsys=capsys)
    assert 'replication_group_id: "sessions" -> "sessions-v2"  # forces replacement' in markdown


def test_sensitive_values_are_masked(repo: Path, capsys) -> None:
    stacks = base_stacks()
    version = stacks["staging-services"]["resource"]["aws_secretsmanager_secret_version"]["sessions_secret-value_4"]
    version["secret_string"] = json.dumps({"auth_token": "hunter2-very-secret"})
    stacks["staging-services"]["resource"]["kubernetes_secret_v1"] = {"admin_5": resource(
        "staging-services/admin", metadata={"name": "admin"}, data={"user": "admin", "key": "AKIAABCDEFGHIJKLMNOP"})}
    for fmt in ("json", "markdown"):
        _, out = run_review(repo, stacks, fmt=fmt, capsys=capsys)
        assert "hunter2" not in out and "AKIAABCDEFGHIJKLMNOP" not in out
        assert "(sensitive)" in out


def test_a_base_that_does_not_synthesize_fails_the_review(repo: Path, capsys) -> None:
    (repo / "stacks.json").write_text(json.dumps("broken"))
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-am", "broken")
    (repo / "stacks.json").write_text(json.dumps(base_stacks()))
    code = review_module.main(["--repo", str(repo), "--base", "main"])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""
    assert captured.err.startswith("review: synthesis of the main failed (exit 1):\nerror: environment 'staging'")


def test_the_temporary_worktree_is_removed(repo: Path, capsys) -> None:
    run_review(repo, base_stacks(), capsys=capsys)
    assert len(git(repo, "worktree", "list").splitlines()) == 1


def test_review_of_this_repository(tmp_path: Path, capsys) -> None:
    """End to end on a copy of this project: a service's memory changes, the cache goes, a construct is renamed."""
    copy = tmp_path / "project"
    files = git(REPO, "ls-files").splitlines()
    for name in files:
        if (REPO / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, copy / name)
    git(copy.parent, "init", "--quiet", "--initial-branch=main", str(copy))
    git(copy, "add", ".")
    git(copy, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", "base")
    services = copy / "stacks" / "services.py"
    text = services.read_text()
    text = text.replace('cpu="1", memory="2Gi",', 'cpu="1", memory="3Gi",')  # report-worker's memory
    text = text.replace('NamespaceV1(self, "namespace",', 'NamespaceV1(self, "shop-namespace",')  # a rename
    text = re.sub(r"        self\.sessions = ManagedRedis\(.*?\n        \)\n", "", text, flags=re.S)  # the cache
    text = text.replace("redis=self.sessions,", "").replace("workers_security_group_id=self.workers_security_group_id,",
                                                            "")
    services.write_text(text)
    code = review_module.main(["--repo", str(copy), "--base", "main"])
    markdown = capsys.readouterr().out
    assert code == review_module.RISKY
    assert 'spec.template.spec.container[0].resources.requests.memory: "2Gi" -> "3Gi"' in markdown
    assert "ElastiCache `aws_elasticache_replication_group.sessions_replication-group_" in markdown
    assert 'move_from_id("kubernetes_namespace_v1.namespace")' in markdown
    assert "- **production**:" in markdown and "- **staging**:" in markdown


def provider_class(resource_type: str):
    provider, name = resource_type.split("_", 1)
    module = importlib.import_module(f"cdktf_cdktf_provider_{provider}.{name}")
    (cls,) = [c for c in vars(module).values() if inspect.isclass(c) and getattr(c, "TF_RESOURCE_TYPE", None)
              == resource_type]
    return cls


def test_the_replacement_table_names_real_arguments_of_emitted_types(stacks: dict) -> None:
    emitted = {type_ for stack in stacks.values() for type_ in stack.get("resource", {})}
    assert set(FORCES_REPLACEMENT) <= emitted | {"aws_dynamodb_table", "aws_s3_bucket"} <= emitted
    assert emitted >= STATEFUL_TYPES
    for type_, arguments in FORCES_REPLACEMENT.items():
        parameters = inspect.signature(provider_class(type_).__init__).parameters
        for argument in arguments:
            assert argument.split(".", 1)[0] in parameters, f"{type_}.{argument}"
