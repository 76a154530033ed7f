"""``pipenv run review``: on real git repositories made in temporary directories."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from review_helpers import REPO, commit, copy_project, git, make_repo, resource, run_review

from delivery import review as review_module
from delivery.risks import FORCES_REPLACEMENT, STATEFUL_TYPES


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


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # the review's folders, isolated
    (tmp_path / "tmp").mkdir()
    return make_repo(tmp_path / "repo", base_stacks())


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


def test_equal_numbers_and_flags_alone_are_not_a_rename(repo: Path, capsys) -> None:
    """Two generated passwords of one length in two constructs are two resources, not one renamed."""
    stacks = base_stacks()
    passwords = stacks["staging-services"]["resource"]["random_password"] = {}
    passwords["sessions_auth-token_5"] = resource("staging-services/sessions/auth-token", length=64, special=False)
    (repo / "stacks.json").write_text(json.dumps(stacks))
    commit(repo, "a password")
    del passwords["sessions_auth-token_5"]
    passwords["inventory_auth-token_6"] = resource("staging-services/inventory/auth-token", length=64, special=False)
    _, out = run_review(repo, stacks, capsys=capsys)
    actions = {c["address"]: c["action"] for c in json.loads(out)["environments"]["staging"]["changes"]}
    assert actions == {"random_password.sessions_auth-token_5": "delete", "random_password.inventory_auth-token_6":
                       "create"}


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


def test_a_base_that_does_not_synthesize_shows_everything_as_new(repo: Path, capsys) -> None:
    """Item 5: the change that repairs a broken base can be reviewed; the review says the base is broken."""
    (repo / "stacks.json").write_text(json.dumps("error: environment 'staging': account_id = '1': use the 12-digit"
                                                 " AWS account id"))
    commit(repo, "broken")
    stacks = base_stacks()
    code, out = run_review(repo, stacks, capsys=capsys)
    report = json.loads(out)
    assert code == review_module.RISKY  # nothing could be compared: a reviewer must look
    assert report["base_error"].startswith("(exit 1):\nerror: environment 'staging': account_id = '1'")
    assert [r["kind"] for r in report["risks"]] == ["base-unavailable"]
    created = {c["address"] for c in report["environments"]["staging"]["changes"] if c["action"] == "create"}
    assert created == {"kubernetes_deployment_v1.checkout_deployment_1",
                       "aws_elasticache_replication_group.sessions_replication-group_2",
                       "kubernetes_service_v1.edge_service_3",
                       "aws_secretsmanager_secret_version.sessions_secret-value_4"}
    assert report["environments"]["staging"]["cost"]["before"] is None
    _, markdown = run_review(repo, stacks, fmt="markdown", capsys=capsys)
    assert "> :warning: **The base `main` does not synthesize**; everything the working tree synthesizes is " \
           "shown as new." in markdown
    assert "> error: environment 'staging': account_id = '1'" in markdown
    assert "- **staging**: 4 to create" in markdown


def test_a_working_tree_that_does_not_synthesize_fails_the_review(repo: Path, capsys) -> None:
    leaked = "postgres://app:" + "hunter2-x9@db/shop"
    (repo / "stacks.json").write_text(json.dumps(f"error: staging-services/checkout: env['DB'] = {leaked!r}: no"))
    code = review_module.main(["--repo", str(repo), "--base", "main"])
    captured = capsys.readouterr()
    assert code == review_module.FAILED == 1 and captured.out == ""
    assert captured.err.startswith("review: synthesis of the working tree failed (exit 1):\nerror: staging-services")
    assert "hunter2-x9" not in captured.err and "(sensitive)" in captured.err


def test_the_temporary_worktree_is_removed(repo: Path, capsys) -> None:
    run_review(repo, base_stacks(), capsys=capsys)
    assert len(git(repo, "worktree", "list").splitlines()) == 1
    assert list(Path(tempfile.gettempdir()).iterdir()) == []


# -- a review after a killed review (issue 16, item 2) ----------------------------------------------

def killed_review(repo: Path, tmp: Path) -> None:
    """Start a review in another process, wait until it holds its worktree, then SIGKILL it (and its
    synthesis): what a cancelled CI job or an out-of-memory kill leaves behind."""
    (repo / "sleep").write_text("60")
    commit(repo, "slow synthesis")
    process = subprocess.Popen([sys.executable, "-m", "delivery.review", "--repo", str(repo), "--base", "main"],
                               cwd=REPO, env={**os.environ, "TMPDIR": str(tmp)}, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while "locked" not in git(repo, "worktree", "list", "--porcelain"):
        assert time.monotonic() < deadline and process.poll() is None, "the review never made its worktree"
        time.sleep(0.1)
    time.sleep(0.5)  # its syntheses start
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    (repo / "sleep").unlink()
    commit(repo, "fast again")


def leftovers(repo: Path, tmp: Path) -> tuple[list[str], list[str]]:
    worktrees = [line for line in git(repo, "worktree", "list", "--porcelain").splitlines()
                 if line.startswith("worktree ")][1:]
    return worktrees, sorted(p.name for p in tmp.iterdir())


def test_a_review_after_a_killed_review_starts_clean(repo: Path, tmp_path: Path, capsys) -> None:
    tmp = Path(tempfile.gettempdir())
    killed_review(repo, tmp)
    worktrees, folders = leftovers(repo, tmp)
    assert len(worktrees) == 1 and len(folders) == 1 and folders[0].startswith("review.")
    # What the review did not make, it leaves alone: a folder without its marker, a folder of a review that
    # still runs (this process), a user's worktree whose folder is gone.
    (tmp / "review.not-ours").mkdir()
    running = tmp / "review.running"
    running.mkdir()
    (running / review_module.OWNER).write_text(json.dumps({"tool": "delivery.review", "pid": os.getpid(),
                                                           "host": os.uname().nodename, "repo": str(repo)}))
    git(repo, "worktree", "add", "--detach", "--quiet", str(tmp_path / "users-worktree"), "main")
    (tmp_path / "users-worktree").rename(tmp_path / "users-worktree-moved")

    code, _ = run_review(repo, base_stacks(), capsys=capsys)

    assert code == review_module.NO_CHANGE
    worktrees, folders = leftovers(repo, tmp)
    assert worktrees == [f"worktree {tmp_path / 'users-worktree'}"]
    assert folders == ["review.not-ours", "review.running"]


def test_without_the_cleanup_a_killed_review_is_left_behind(repo: Path, capsys,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: with the cleanup off, the killed review's worktree and folder remain."""
    tmp = Path(tempfile.gettempdir())
    killed_review(repo, tmp)
    monkeypatch.setattr(review_module, "_clean_leftovers", lambda repo: [])
    run_review(repo, base_stacks(), capsys=capsys)
    worktrees, folders = leftovers(repo, tmp)
    assert len(worktrees) == 1 and len(folders) == 1


# -- end to end, on a copy of this project -----------------------------------------------------------

@pytest.fixture(scope="module")
def project_review(tmp_path_factory: pytest.TempPathFactory) -> review_module.Review:
    """One review of one change to a copy of this project: production's general node pool may grow tenfold
    (12 -> 120, the node cap raised with it), staging gets a memory node pool, a service with its own cache
    is added, report-worker's memory grows, the sessions cache goes, the namespace construct is renamed."""
    copy = copy_project(tmp_path_factory.mktemp("review") / "project")
    production = copy / "environments" / "production.py"
    text = production.read_text()
    assert text.count("max_size=12,") == 1
    production.write_text(text.replace("max_size=12,", "max_size=120,").replace(
        "max_nodes_per_group=15", "max_nodes_per_group=120"))
    staging = copy / "environments" / "staging.py"
    staging.write_text(staging.read_text().replace("""            ),
        ],
    ),""", """            ),
            NodePool(name="memory", instance_types=["r6i.xlarge", "r5.xlarge"], min_size=0, max_size=4,
                     disk_size_gib=80, labels={"workload": "memory"}),
        ],
    ),""", 1))
    services = copy / "stacks" / "services"

    def edit(name: str, old: str, new: str) -> None:
        text = (services / name).read_text()
        assert old in text, (name, old)
        (services / name).write_text(text.replace(old, new))

    edit("report_worker.py", 'cpu="1", memory="2Gi",', 'cpu="1", memory="3Gi",')  # report-worker's memory
    edit("__init__.py", 'NamespaceV1(self, "namespace",', 'NamespaceV1(self, "shop-namespace",')  # a rename
    checkout = services / "checkout.py"  # the cache goes
    checkout.write_text(re.sub(r"    sessions = ManagedRedis\(.*?\n    \)\n", "", checkout.read_text(), flags=re.S))
    edit("checkout.py", "        redis=sessions,\n", "")
    edit("checkout.py", "ManagedRedis, ", "")
    (services / "inventory.py").write_text('''"""inventory: a new service with its own cache."""

from constructs_lib import Autoscaling, ManagedRedis, Microservice
from stacks.services import REGISTRY, ServiceContext


def service(ctx: ServiceContext) -> None:
    Microservice(
        ctx.stack, "inventory", image=f"{REGISTRY}/inventory:1.0.0", cpu="250m", memory="512Mi",
        autoscaling=Autoscaling(min_replicas=2, max_replicas=4), ingress_host=f"inventory.{ctx.domain}",
        redis=ManagedRedis(ctx.stack, "inventory-cache"))
''')
    tempfile.tempdir, saved = str(copy.parent), tempfile.tempdir  # the review's folder, under pytest's
    try:
        return review_module.review(copy, "main")
    finally:
        tempfile.tempdir = saved


def test_review_of_this_repository(project_review: review_module.Review) -> None:
    markdown = review_module.render_markdown(project_review)
    assert project_review.exit_code == review_module.RISKY
    assert 'spec.template.spec.container[0].resources.requests.memory: "2Gi" -> "3Gi"' in markdown
    assert "ElastiCache `aws_elasticache_replication_group.sessions_replication-group_" in markdown
    assert 'move_from_id("kubernetes_namespace_v1.namespace")' in markdown
    assert "- **production**:" in markdown and "- **staging**:" in markdown
    # Production protects its cache: the plan would fail, and the review says so.
    protected = [r for r in project_review.risks if r.kind == "protected"]
    assert {r.stack for r in protected} == {"production-services"}
    assert all("**the plan will fail**" in r.message for r in protected)


def test_raising_a_node_pool_tenfold_is_a_cost_risk(project_review: review_module.Review) -> None:
    cost = project_review.costs["production"]
    general = [line for line in cost.lines_after if "eks_general_node-group" in line.address]
    assert [line.what for line in general] == ["node group: 120 \u00d7 m7i.xlarge (dearest of its types), "
                                               "120 \u00d7 100 GiB disk"]
    assert cost.before is not None and cost.difference is not None and cost.difference > 15_000
    (risk,) = [r for r in project_review.risks if r.kind == "cost" and r.stack == "production"]
    before, after = f"${cost.before:,.0f}", f"${cost.after:,.0f}"
    assert f"rises from {before} to {after} (+${cost.difference:,.0f}" in risk.message
    markdown = review_module.render_markdown(project_review)
    assert f"| production | {before} | {after} | **+${cost.difference:,.0f} (+" in markdown
    assert "_Estimates from the price table `delivery/prices.json` (eu-west-1 on-demand list prices in USD, " \
           "dated " in markdown
    summary = [c.summary for c in project_review.components if c.name == "eks/general"]
    assert summary == ["node group m7i.xlarge/m6i.xlarge on-demand 3\u201312 \u2192 3\u2013120 nodes "
                       "\u00d7 100 GiB gp3"]


def test_a_new_node_group_shows_its_instance_types_and_sizes(project_review: review_module.Review) -> None:
    (group,) = [c for c in project_review.changes if c.address.startswith("aws_eks_node_group.eks_memory_")]
    attributes = {a.path: a.after for a in group.attributes}
    assert attributes["instance_types"] == ["r6i.xlarge", "r5.xlarge"]
    assert (attributes["scaling_config.min_size"], attributes["scaling_config.max_size"]) == (0, 4)
    (component,) = [c for c in project_review.components if c.name == "eks/memory"]
    assert (component.stack, component.status) == ("staging-cluster", "new")
    assert component.summary == "node group r6i.xlarge/r5.xlarge on-demand 0\u20134 nodes \u00d7 80 GiB gp3"
    markdown = review_module.render_markdown(project_review)
    assert '    instance_types: ["r6i.xlarge", "r5.xlarge"]' in markdown


def test_a_new_service_is_one_line_with_its_sizing(project_review: review_module.Review) -> None:
    (component,) = [c for c in project_review.components if c.name == "inventory" and c.stack == "staging-services"]
    assert component.status == "new" and component.members == ["inventory-cache"]
    assert component.summary == ("Deployment 2\u20134 pods \u00d7 250m/512Mi, cache cache.t4g.small \u00d7 2, "
                                 "ingress inventory.staging.acme-shop.example, "
                                 "network policy admits nginx-ingress:8080")
    markdown = review_module.render_markdown(project_review)
    line = ("<details><summary>+ <b>inventory</b> (with inventory-cache) \u00b7 new: " + component.summary)
    assert markdown.count(line) == 1


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
