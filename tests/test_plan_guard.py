"""The trusted check between a pull request's synthesized stacks and a plan with credentials: it accepts what
main synthesizes and the changes a pull request normally makes, and refuses each way a stack could make the
plan run a program, read the runner's files or another state file, or print a secret."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from delivery import plan_guard
from delivery.plan_guard import check_stack, guard

ENV = "staging"
STACK = "staging-services"
BASE: dict = {
    "//": {"metadata": {"stackName": STACK}},
    "terraform": {
        "backend": {"s3": {"bucket": "tfstate", "key": "staging/services/terraform.tfstate", "region": "eu-west-1",
                           "encrypt": True, "use_lockfile": True}},
        "required_providers": {"aws": {"source": "aws", "version": "6.25.0"},
                               "kubernetes": {"source": "kubernetes", "version": "2.38.0"},
                               "helm": {"source": "helm", "version": "3.1.1"},
                               "random": {"source": "hashicorp/random", "version": "3.7.2"}},
    },
    "provider": {
        "aws": [{"region": "eu-west-1", "allowed_account_ids": ["210987654321"]}],
        "kubernetes": [{"host": "${data.aws_eks_cluster.cluster.endpoint}",
                        "token": "${data.aws_eks_cluster_auth.cluster-auth.token}"}],
        "random": [{}],
    },
    "data": {"aws_eks_cluster": {"cluster": {"name": "shop-staging"}},
             "aws_eks_cluster_auth": {"cluster-auth": {"name": "shop-staging"}}},
    "resource": {
        "random_password": {"auth": {"length": 32, "special": False}},
        "aws_elasticache_replication_group": {"cache": {
            "//": {"metadata": {"path": "staging-services/sessions/replication-group"}},
            "replication_group_id": "sessions", "auth_token": "${random_password.auth.result}"}},
        "kubernetes_deployment_v1": {"app": {"metadata": {"name": "checkout"}, "spec": {"template": {"spec": {
            "container": [{"name": "app", "env": [
                {"name": "REDIS_HOST", "value": "${aws_elasticache_replication_group.cache.primary_endpoint_address}"},
                {"name": "REDIS_AUTH", "value": "${random_password.auth.result}"},
            ]}]}}}}},
    },
}


def changed(mutate: Callable[[dict], object]) -> dict:
    doc = copy.deepcopy(BASE)
    mutate(doc)
    return doc


def add(kind: str, type_: str, name: str, body: dict) -> Callable[[dict], object]:
    return lambda doc: doc.setdefault(kind, {}).setdefault(type_, {}).__setitem__(name, body)


def set_in(*path: str | int, value: object) -> Callable[[dict], object]:
    def mutate(doc: dict) -> None:
        node: Any = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return mutate


def env_list(doc: dict) -> list:
    return doc["resource"]["kubernetes_deployment_v1"]["app"]["spec"]["template"]["spec"]["container"][0]["env"]


def test_main_as_is_is_accepted() -> None:
    assert check_stack(STACK, copy.deepcopy(BASE), BASE) == []


@pytest.mark.parametrize("mutate", [
    # a new service with its own cache and generated password: unknown until applied, nothing to leak
    lambda doc: (add("resource", "random_password", "new-auth", {"length": 32})(doc),
                 add("resource", "aws_elasticache_replication_group", "new-cache",
                     {"replication_group_id": "orders", "auth_token": "${random_password.new-auth.result}"})(doc)),
    # an env var added in front of the one carrying the password: same value, same attribute
    lambda doc: env_list(doc).insert(0, {"name": "LOG_LEVEL", "value": "info"}),
    # an existing cache resized; a non-secret attribute of a secret-holding resource used anywhere
    set_in("resource", "aws_elasticache_replication_group", "cache", "node_type", value="cache.t4g.small"),
    add("resource", "kubernetes_config_map_v1", "hosts",
        {"data": {"redis": "${aws_elasticache_replication_group.cache.primary_endpoint_address}"}}),
    # cdktf's own metadata and a new allowed data source
    set_in("//", value={"metadata": {"version": "0.21.0"}}),
    add("data", "aws_caller_identity", "me", {}),
    lambda doc: doc.__setitem__("moved", [{"from": "kubernetes_deployment_v1.old",
                                           "to": "kubernetes_deployment_v1.app"}]),
], ids=["new-service-with-cache", "env-var-inserted", "cache-resized", "endpoint-reused", "metadata",
        "caller-identity", "moved-block"])
def test_what_pull_requests_normally_change_is_accepted(mutate) -> None:
    assert check_stack(STACK, changed(mutate), BASE) == []


REDIS = ("resource", "aws_elasticache_replication_group", "cache")


@pytest.mark.parametrize(("mutate", "problem"), [
    (add("data", "external", "run", {"program": ["sh", "-c", "env"]}), "data source `external`"),
    (add("data", "terraform_remote_state", "platform", {"backend": "s3", "config": {"key": "x"}}),
     "data source `terraform_remote_state`"),
    (add("data", "aws_s3_object", "state", {"bucket": "tfstate", "key": "staging/platform/terraform.tfstate"}),
     "data source `aws_s3_object`"),
    (add("data", "aws_secretsmanager_secret_version", "s", {"secret_id": "x"}),
     "data source `aws_secretsmanager_secret_version`"),
    (add("ephemeral", "aws_secretsmanager_secret_version", "s", {"secret_id": "x"}),
     "ephemeral resource `aws_secretsmanager_secret_version`"),
    (set_in(*REDIS, "provisioner", value=[{"local-exec": {"command": "env"}}]), "`provisioner` runs programs"),
    (set_in(*REDIS, "connection", value={"host": "203.0.113.9"}), "`connection` runs programs"),
    (lambda doc: doc.__setitem__("removed", [{"from": "random_password.auth",
                                              "provisioner": [{"local-exec": {"command": "env", "when": "destroy"}}]}]),
     "`provisioner` runs programs"),
    (add("resource", "null_resource", "x", {}), "resource type `null_resource`"),
    (add("resource", "terraform_data", "x", {"input": "x"}), "resource type `terraform_data`"),
    (set_in(*REDIS, "provider", value="external"), "provider `external` is not configured by main"),
    (set_in(*REDIS, "description", value='${file("/proc/self/environ")}'), "calls `file`, which reads files"),
    (set_in(*REDIS, "description", value='${filebase64("~/.aws/credentials")}'), "calls `filebase64`"),
    (set_in(*REDIS, "description", value='${templatefile("/etc/passwd", {})}'), "calls `templatefile`"),
    (set_in(*REDIS, "description", value="${nonsensitive(random_password.auth.result)}"), "calls `nonsensitive`"),
    (set_in(*REDIS, "description", value='${provider::aws::arn_parse("x")}'), "provider-defined function"),
    (lambda doc: doc.__setitem__("locals", {"x": '${ "}" == "" ? file("/etc/shadow") : "" }'}), "calls `file`"),
    (set_in("terraform", "backend", "s3", "key", value="staging/platform/terraform.tfstate"),
     "the terraform block (backend"),
    (set_in("terraform", "required_providers", "evil", value={"source": "evil/evil", "version": "1.0.0"}),
     "the terraform block (backend"),
    (set_in("provider", "kubernetes", 0, "host", value="https://203.0.113.9"), "the provider block"),
    (set_in("data", "aws_eks_cluster", "cluster", "name", value="someone-elses"), "configures a provider"),
    (lambda doc: doc.__setitem__("module", {"m": {"source": "git::https://example.com/m.git"}}), "top-level `module`"),
    (lambda doc: doc.__setitem__("check", {"c": {"data": {}}}), "top-level `check`"),
    (set_in(*REDIS, "tags", value={"//": '${file("/etc/passwd")}'}), "calls `file`"),  # `//` is a key in a map
    # shapes Terraform's JSON syntax takes and cdktf never writes, which would hide a block from the checks
    (set_in(*REDIS, value=[{"provisioner": [{"local-exec": {"command": "env"}}]}]),
     "`resource` is not an object of types, of names, of block bodies"),
    (lambda doc: doc.__setitem__("data", [{"external": {"run": {"program": ["env"]}}}]), "`data` is not an object"),
    (lambda doc: doc.__setitem__("import", {"to": "random_password.x", "id": "x"}), "`import` is not a list"),
    # a secret that state holds, routed where a provider would print it (an error) or send it (a URL)
    (set_in(*REDIS, "replication_group_id", value="${random_password.auth.result}"),
     "uses the secret value of `random_password.auth`"),
    (add("resource", "helm_release", "x", {"repository": "https://charts.example.com",
                                           "repository_password": "${data.aws_eks_cluster_auth.cluster-auth.token}"}),
     "uses the secret value of `data.aws_eks_cluster_auth.cluster-auth`"),
    (add("resource", "kubernetes_config_map_v1", "x", {"data": {"t": "${aws_elasticache_replication_group.cache}"}}),
     "uses the secret value of `aws_elasticache_replication_group.cache`"),
    (lambda doc: env_list(doc)[1].__setitem__("name", "${random_password.auth.result}"),
     "uses the secret value of `random_password.auth`"),
    (lambda doc: doc.__setitem__("output", {"o": {"value": "${random_password . auth [0] . result}"}}),
     "uses the secret value of `random_password.auth`"),
    # import or move an existing secret to a new address, then use it
    (lambda doc: (doc.__setitem__("import", [{"to": "random_password.stolen", "id": "x"}]),
                  set_in(*REDIS, "description", value="${random_password.stolen.result}")(doc)),
     "uses the secret value of `random_password.stolen`"),
], ids=lambda value: value if isinstance(value, str) else None)
def test_what_could_leak_or_run_code_is_refused(mutate, problem: str) -> None:
    problems = check_stack(STACK, changed(mutate), BASE)
    assert any(problem in p for p in problems), problems
    assert all(p.startswith(f"{STACK}: ") and "; " in p and "\n" not in p for p in problems)


def test_a_document_that_is_not_an_object_is_refused() -> None:
    assert check_stack(STACK, [BASE], BASE) == [
        f"{STACK}: cdk.tf.json: not a JSON object; synthesize it with `pipenv run synth`"]


def test_main_synthesis_is_accepted_for_every_environment(synth_dir: Path, tmp_path: Path) -> None:
    """The allowlists hold what the stacks use: a data source added to main without review here fails this."""
    for env in ("staging", "production"):
        stacks, accepted, problems = guard(synth_dir, synth_dir, env)
        assert problems == []
        assert stacks == [f"{env}-cluster", f"{env}-addons", f"{env}-platform", f"{env}-services"] == list(accepted)


def write_out(root: Path, stacks: dict[str, dict]) -> Path:
    """A cdktf.out with ``stacks`` (name -> JSON) and a manifest in which each depends on the previous one."""
    names = list(stacks)
    manifest = {"stacks": {name: {"dependencies": names[:i][-1:]} for i, name in enumerate(names)}}
    root.mkdir(parents=True)
    (root / "manifest.json").write_text(json.dumps(manifest))
    for name, doc in stacks.items():
        (root / "stacks" / name).mkdir(parents=True)
        (root / "stacks" / name / "cdk.tf.json").write_text(json.dumps(doc))
    return root


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    platform = changed(lambda doc: doc["terraform"]["backend"]["s3"].__setitem__("key", "staging/platform"))
    stacks = {"staging-platform": platform, STACK: BASE, "production-services": BASE}
    return write_out(tmp_path / "main", stacks), write_out(tmp_path / "pr", copy.deepcopy(stacks))


def run(base: Path, pr: Path, output: Path, capsys, *extra: str) -> tuple[int, str, str]:
    code = plan_guard.main(["--base", str(base), "--pull-request", str(pr), "--env", ENV, "--output", str(output),
                            *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_accepted_stacks_are_copied_alone_in_order(dirs, tmp_path: Path, capsys) -> None:
    base, pr = dirs
    (pr / "manifest.json").write_text(json.dumps({"stacks": {"staging-evil": {}}}))  # never read
    (pr / "stacks" / STACK / ".terraform.lock.hcl").write_text("# the pull request's provider hashes")
    (pr / "stacks" / STACK / "override.tf.json").write_text("{}")
    (pr / "stacks" / STACK / ".terraform" / "providers").mkdir(parents=True)
    code, out, err = run(base, pr, tmp_path / "plan", capsys)
    assert (code, out, err) == (0, f"staging-platform\n{STACK}\n", "")
    written = sorted(str(p.relative_to(tmp_path / "plan")) for p in (tmp_path / "plan").rglob("*") if p.is_file())
    assert written == ["stacks/staging-platform/cdk.tf.json", f"stacks/{STACK}/cdk.tf.json"]
    assert json.loads((tmp_path / "plan" / "stacks" / STACK / "cdk.tf.json").read_text()) == BASE
    code, out, _ = run(base, pr, tmp_path / "plan.json", capsys, "--format", "json")
    assert json.loads(out) == {"stacks": ["staging-platform", STACK], "problems": []}


def test_a_refused_stack_writes_nothing_and_says_why_on_one_line(dirs, tmp_path: Path, capsys) -> None:
    base, pr = dirs
    doc = changed(add("data", "external", "run", {"program": ["env"]}))
    (pr / "stacks" / STACK / "cdk.tf.json").write_text(json.dumps(doc))
    code, out, err = run(base, pr, tmp_path / "plan", capsys)
    assert code == 2 and out == "" and not (tmp_path / "plan").exists()
    assert err.splitlines() == [
        f"{STACK}: data.external.run: data source `external` is not one a pull-request plan may read; add it to "
        "delivery/plan_guard.py DATA_SOURCES on main first, or plan after merge",
        "plan refused: 1 problem(s); nothing planned"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".plan_guard.")]


def test_symlinks_and_new_stacks_are_refused_and_removed_stacks_skipped(dirs, tmp_path: Path, capsys) -> None:
    base, pr = dirs
    target = pr / "stacks" / STACK / "cdk.tf.json"
    target.unlink()
    os.symlink("/etc/passwd", target)
    (pr / "stacks" / "staging-new").mkdir()
    code, _, err = run(base, pr, tmp_path / "plan", capsys)
    assert code == 2
    assert f"{STACK}: cdk.tf.json: unreadable" in err
    assert "staging-new: stack: is new: its backend and providers cannot be compared with main's" in err
    (pr / "stacks" / "staging-new").rmdir()
    target.unlink()
    target.parent.rmdir()  # the pull request removes the stack
    code, out, err = run(base, pr, tmp_path / "plan", capsys)
    assert (code, out, err) == (0, "staging-platform\n", "")


@pytest.mark.parametrize(("args", "message"), [
    (lambda base, pr, out: (base / "nowhere", pr, out), "no manifest.json; run `pipenv run synth --env staging`"),
    (lambda base, pr, out: (base, pr / "nowhere", out), "no stacks/ directory"),
    (lambda base, pr, out: (base, pr, base), "already exists; give a new directory"),
])
def test_a_wrong_call_is_one_line_and_exit_2(dirs, tmp_path: Path, capsys, args, message: str) -> None:
    base, pr, output = args(*dirs, tmp_path / "plan")
    code, out, err = run(base, pr, output, capsys)
    assert code == 2 and out == "" and message in err and len(err.splitlines()) == 1
