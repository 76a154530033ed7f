"""The review shows what a reviewer must judge (issue 14, item 4), on real git repositories.

Each test changes a small production environment (written as synthesized JSON, the
way the stand-in app of ``review_helpers`` writes it) and reads the review in both
formats: key attributes of created resources, constructs with one-line summaries,
the security section, protected resources, reused secret names, cost, suppressions.
"""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from review_helpers import both_formats, commit, make_repo, resource, run_review, write_limits

from delivery import review as review_module
from delivery import security as security_module

SERVICES, CLUSTER = "production-services", "production-cluster"
PROVIDER = {"aws": [{"region": "eu-west-1"}]}
ROLE_POLICY: dict[str, Any] = {"Version": "2012-10-17", "Statement": [
    {"Sid": "ReadReports", "Effect": "Allow", "Action": ["s3:GetObject"],
     "Resource": "arn:aws:s3:::acme-reports/*"}]}


def cluster_stack() -> dict:
    return {"provider": PROVIDER, "resource": {
        "aws_eks_cluster": {"eks_cluster_1": resource(
            f"{CLUSTER}/eks/cluster", name="shop-production", version="1.33", deletion_protection=True,
            vpc_config={"endpoint_public_access": True, "public_access_cidrs": ["198.51.100.0/24"]},
            lifecycle={"prevent_destroy": True})},
        "aws_launch_template": {"eks_general_launch-template_2": resource(
            f"{CLUSTER}/eks/general/launch-template",
            block_device_mappings=[{"ebs": {"volume_size": 100, "volume_type": "gp3"}}])},
        "aws_eks_node_group": {"eks_general_node-group_3": resource(
            f"{CLUSTER}/eks/general/node-group", instance_types=["m7i.xlarge", "m6i.xlarge"],
            capacity_type="ON_DEMAND", scaling_config={"min_size": 3, "max_size": 12, "desired_size": 3},
            launch_template={"id": "${aws_launch_template.eks_general_launch-template_2.id}"})},
        "aws_iam_role": {"reports_role_4": resource(
            f"{CLUSTER}/reports/role", name_prefix="reports-",
            assume_role_policy="${data.aws_iam_policy_document.reports_trust_5.json}")},
        "aws_iam_policy": {"reports_policy_6": resource(f"{CLUSTER}/reports/policy", name_prefix="reports-",
                                                       policy=json.dumps(ROLE_POLICY))},
        "aws_kms_key": {"reports_key_7": resource(
            f"{CLUSTER}/reports/key", enable_key_rotation=True,
            policy='${jsonencode({"Version" = "2012-10-17", "Statement" = [{"Sid" = "Admin", "Effect" = "Allow", '
                   '"Principal" = {"AWS" = "arn:aws:iam::345678901234:root"}, "Action" = "kms:*", '
                   '"Resource" = "*"}]})}')},
    }, "data": {"aws_iam_policy_document": {"reports_trust_5": {"statement": [{
        "actions": ["sts:AssumeRoleWithWebIdentity"], "effect": "Allow",
        "principals": [{"type": "Federated", "identifiers": ["arn:aws:iam::345678901234:oidc-provider/x"]}],
        "condition": [{"test": "StringEquals", "variable": "x:sub",
                       "values": ["system:serviceaccount:shop:reports"]}]}]}}}}


def services_stack() -> dict:
    return {"provider": PROVIDER, "resource": {
        "aws_elasticache_replication_group": {"sessions_replication-group_10": resource(
            f"{SERVICES}/sessions/replication-group", replication_group_id="sessions", node_type="cache.r7g.large",
            num_cache_clusters=3, engine="redis", lifecycle={"prevent_destroy": True})},
        "aws_secretsmanager_secret": {"sessions_secret_11": resource(
            f"{SERVICES}/sessions/secret", name="production/redis/sessions", recovery_window_in_days=7)},
        "aws_security_group": {"sessions_security-group_12": resource(
            f"{SERVICES}/sessions/security-group", name_prefix="sessions-", vpc_id="vpc-0f9e8d7c6b5a40312")},
        "aws_vpc_security_group_ingress_rule": {"sessions_allow_13": resource(
            f"{SERVICES}/sessions/allow", ip_protocol="tcp", from_port=6379, to_port=6379,
            referenced_security_group_id="sg-0123456789abcdef0",
            security_group_id="${aws_security_group.sessions_security-group_12.id}")},
    }}


def production() -> dict:
    return {CLUSTER: cluster_stack(), SERVICES: services_stack()}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    return make_repo(tmp_path / "repo", production())


def resources_of(stacks: dict, stack: str, type_: str) -> dict:
    return stacks[stack]["resource"].setdefault(type_, {})


def risks(report: dict, kind: str) -> list[dict]:
    return [r for r in report["risks"] if r["kind"] == kind]


# -- created resources and constructs ---------------------------------------------------------------

def add_batch_node_group(stacks: dict) -> None:
    resources_of(stacks, CLUSTER, "aws_launch_template")["eks_batch_launch-template_20"] = resource(
        f"{CLUSTER}/eks/batch/launch-template", block_device_mappings=[{"ebs": {"volume_size": 50,
                                                                                 "volume_type": "gp3"}}])
    resources_of(stacks, CLUSTER, "aws_eks_node_group")["eks_batch_node-group_21"] = resource(
        f"{CLUSTER}/eks/batch/node-group", instance_types=["m5.xlarge", "m6a.xlarge"], capacity_type="SPOT",
        scaling_config={"min_size": 0, "max_size": 2}, labels={"workload": "batch"},
        launch_template={"id": "${aws_launch_template.eks_batch_launch-template_20.id}"})


def test_a_created_resource_shows_its_key_attributes(repo: Path, capsys) -> None:
    stacks = production()
    add_batch_node_group(stacks)
    code, report, markdown = both_formats(repo, stacks, capsys)
    assert code == review_module.CHANGE
    (group,) = [c for c in report["environments"]["production"]["changes"]
                if c["address"] == "aws_eks_node_group.eks_batch_node-group_21"]
    assert group["attributes"] == {"instance_types": ["m5.xlarge", "m6a.xlarge"], "capacity_type": "SPOT",
                                   "scaling_config.min_size": 0, "scaling_config.max_size": 2,
                                   "labels": {"workload": "batch"}}
    assert ('+ aws_eks_node_group.eks_batch_node-group_21  (production-cluster/eks/batch/node-group)\n'
            '    instance_types: ["m5.xlarge", "m6a.xlarge"]\n    capacity_type: "SPOT"\n') in markdown
    (component,) = report["environments"]["production"]["components"]
    assert component == {"stack": CLUSTER, "name": "eks/batch", "status": "new", "members": [],
                         "summary": "node group m5.xlarge/m6a.xlarge spot 0\u20132 nodes \u00d7 50 GiB gp3"}


def add_service(stacks: dict, name: str = "inventory") -> None:
    """A service with its own cache, as Microservice and ManagedRedis synthesize them (the parts that count)."""
    def add(type_: str, id_: str, **arguments) -> None:
        resources_of(stacks, SERVICES, type_)[f"{id_.replace('/', '_')}_9{len(id_)}"] = resource(
            f"{SERVICES}/{id_}", **arguments)

    add("kubernetes_deployment_v1", f"{name}/deployment", metadata={"name": name}, spec={"template": {"spec": {
        "container": [{"name": name, "image": f"registry.example/{name}:1.0.0",
                       "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "512Mi"}},
                       "env": [{"name": "REDIS_HOST", "value": "${aws_elasticache_replication_group."
                                                               f"{name}-cache_replication-group_940"
                                                               ".primary_endpoint_address}"}]}]}}})
    add("kubernetes_horizontal_pod_autoscaler_v2", f"{name}/autoscaler", metadata={"name": name},
        spec={"min_replicas": 2, "max_replicas": 6, "scale_target_ref": {"kind": "Deployment", "name": name}})
    add("kubernetes_ingress_v1", f"{name}/ingress", metadata={"name": name},
        spec={"rule": [{"host": f"{name}.staging.acme-shop.example"}]})
    add("kubernetes_service_v1", f"{name}/service", metadata={"name": name}, spec={"type": "ClusterIP"})
    resources_of(stacks, SERVICES, "aws_elasticache_replication_group")[f"{name}-cache_replication-group_940"] = \
        resource(f"{SERVICES}/{name}-cache/replication-group", replication_group_id=f"{name}-cache",
                 node_type="cache.t4g.small", num_cache_clusters=2, engine="redis")


def test_a_new_service_is_one_block_with_a_one_line_summary(repo: Path, capsys) -> None:
    stacks = production()
    add_service(stacks)
    code, report, markdown = both_formats(repo, stacks, capsys)
    assert code == review_module.CHANGE
    (component,) = report["environments"]["production"]["components"]
    summary = ("Deployment 2\u20136 pods \u00d7 250m/512Mi, cache cache.t4g.small \u00d7 2, "
               "ingress inventory.staging.acme-shop.example")
    assert component == {"stack": SERVICES, "name": "inventory", "status": "new", "members": ["inventory-cache"],
                         "summary": summary}
    block = markdown[markdown.index("<details><summary>+ <b>inventory</b>"):]
    block = block[:block.index("</details>")]
    assert block.splitlines()[0] == (f"<details><summary>+ <b>inventory</b> (with inventory-cache) \u00b7 new: "
                                     f"{summary} \u00b7 5 to create \u00b7 <code>{SERVICES}</code></summary>")
    assert block.count("\n+ ") == 5  # expandable to its five resources, the cache's included


def test_a_changed_construct_summarizes_what_changed(repo: Path, capsys) -> None:
    stacks = production()
    resources_of(stacks, SERVICES, "aws_elasticache_replication_group")["sessions_replication-group_10"][
        "num_cache_clusters"] = 2
    _, report, _ = both_formats(repo, stacks, capsys)
    (component,) = report["environments"]["production"]["components"]
    assert (component["name"], component["status"]) == ("sessions", "changed")
    assert component["summary"] == "cache cache.r7g.large \u00d7 3 \u2192 2"


# -- security ---------------------------------------------------------------------------------------

def test_a_widened_iam_statement_is_a_risk(repo: Path, capsys) -> None:
    stacks = production()
    policy = copy.deepcopy(ROLE_POLICY)
    policy["Statement"][0]["Action"] = ["s3:GetObject", "s3:*"]
    resources_of(stacks, CLUSTER, "aws_iam_policy")["reports_policy_6"]["policy"] = json.dumps(policy)
    code, report, markdown = both_formats(repo, stacks, capsys)
    assert code == review_module.RISKY
    (finding,) = report["security"]
    assert (finding["change"], finding["broadens"], finding["detail"]) == ("widened", True, "+ actions `s3:*`")
    (risk,) = risks(report, "broadens-access")
    assert risk["address"] == "aws_iam_policy.reports_policy_6" and "**broadened**" in risk["message"]
    assert "| ~ :warning: broadens | production-cluster | `aws_iam_policy.reports_policy_6` | IAM policy " \
           "`ReadReports`: Allow `s3:*`, `s3:GetObject` on `arn:aws:s3:::acme-reports/*`" in markdown


def test_an_inline_policy_on_an_existing_role_is_a_risk(repo: Path, capsys) -> None:
    """A role's inline policy (what a workload's ``aws_permissions`` write) is read like any identity policy: a
    statement added to a role that already exists broadens it."""
    stacks = production()
    resources_of(stacks, CLUSTER, "aws_iam_role")["reports_role_4"]["inline_policy"] = [{
        "name": "permissions", "policy": json.dumps({"Version": "2012-10-17", "Statement": [{
            "Sid": "Permission0", "Effect": "Allow", "Action": ["sqs:ReceiveMessage"],
            "Resource": ["arn:aws:sqs:eu-west-1:345678901234:orders"]}]})}]
    code, report, markdown = both_formats(repo, stacks, capsys)
    assert code == review_module.RISKY
    (finding,) = report["security"]
    assert (finding["address"], finding["change"], finding["broadens"]) == (
        "aws_iam_role.reports_role_4", "added", True)
    assert "inline policy `permissions` `Permission0`: Allow `sqs:ReceiveMessage` on " \
           "`arn:aws:sqs:eu-west-1:345678901234:orders`" in markdown


def test_a_trust_policy_condition_dropped_is_a_risk(repo: Path, capsys) -> None:
    """The trust policy is an ``aws_iam_policy_document`` data source, read through the role's reference."""
    stacks = production()
    del stacks[CLUSTER]["data"]["aws_iam_policy_document"]["reports_trust_5"]["statement"][0]["condition"]
    code, report, _ = both_formats(repo, stacks, capsys)
    assert code == review_module.RISKY
    (finding,) = report["security"]
    assert finding["address"] == "aws_iam_role.reports_role_4" and finding["change"] == "widened"
    assert finding["detail"].startswith("\u2212 conditions ")


def test_new_grants_on_existing_things_and_to_the_world_are_risks(repo: Path, capsys) -> None:
    stacks = production()
    ingress = resources_of(stacks, SERVICES, "aws_vpc_security_group_ingress_rule")
    ingress["sessions_public_30"] = resource(f"{SERVICES}/sessions/public", ip_protocol="tcp", from_port=6379,
                                             to_port=6379, cidr_ipv4="0.0.0.0/0",
                                             security_group_id="${aws_security_group.sessions_security-group_12.id}")
    resources_of(stacks, CLUSTER, "aws_eks_access_entry")["eks_admin_31"] = resource(
        f"{CLUSTER}/eks/admin", cluster_name="${aws_eks_cluster.eks_cluster_1.name}",
        principal_arn="arn:aws:iam::345678901234:role/contractor")
    resources_of(stacks, CLUSTER, "aws_eks_access_policy_association")["eks_admin-policy_32"] = resource(
        f"{CLUSTER}/eks/admin-policy", cluster_name="${aws_eks_cluster.eks_cluster_1.name}",
        principal_arn="${aws_eks_access_entry.eks_admin_31.principal_arn}", access_scope={"type": "cluster"},
        policy_arn="arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy")
    cluster = resources_of(stacks, CLUSTER, "aws_eks_cluster")["eks_cluster_1"]
    cluster["vpc_config"]["public_access_cidrs"].append("0.0.0.0/0")
    key = resources_of(stacks, CLUSTER, "aws_kms_key")["reports_key_7"]
    outsider = '"AWS" = ["arn:aws:iam::345678901234:root", "arn:aws:iam::999999999999:root"]'
    key["policy"] = key["policy"].replace('"AWS" = "arn:aws:iam::345678901234:root"', outsider)
    code, report, markdown = both_formats(repo, stacks, capsys)
    assert code == review_module.RISKY
    broadened = {(f["kind"], f["address"], f["change"]) for f in report["security"] if f["broadens"]}
    assert broadened == {
        ("security-group", "aws_vpc_security_group_ingress_rule.sessions_public_30", "added"),
        ("eks-access", "aws_eks_access_entry.eks_admin_31", "added"),
        ("eks-access", "aws_eks_access_policy_association.eks_admin-policy_32", "added"),
        ("public-endpoint", "aws_eks_cluster.eks_cluster_1", "widened"),
        ("kms", "aws_kms_key.reports_key_7", "widened"),
    }
    assert len(risks(report, "broadens-access")) == 5
    assert "ingress tcp 6379 from `0.0.0.0/0` (**public**: 0.0.0.0/0)" in markdown
    assert ("EKS access policy `AmazonEKSClusterAdminPolicy` for `arn:aws:iam::345678901234:role/contractor` "
            "on the whole cluster") in markdown


def test_a_new_components_own_grants_are_listed_not_risky(repo: Path, capsys) -> None:
    stacks = production()
    resources_of(stacks, CLUSTER, "aws_iam_role")["billing_role_40"] = resource(
        f"{CLUSTER}/billing/role", assume_role_policy=json.dumps({"Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "ec2.amazonaws.com"}}]}))
    resources_of(stacks, CLUSTER, "aws_iam_role_policy_attachment")["billing_attach_41"] = resource(
        f"{CLUSTER}/billing/attach", role="${aws_iam_role.billing_role_40.name}",
        policy_arn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")
    code, report, _ = both_formats(repo, stacks, capsys)
    assert code == review_module.CHANGE
    assert sorted((f["kind"], f["change"], f["broadens"]) for f in report["security"]) == [
        ("iam", "added", False), ("managed-policy", "added", False)]


def test_widened_kubernetes_rbac_is_a_risk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """Developers' port-forward Role gains exec: a broader grant to a group that already had one."""
    base = production()
    roles = resources_of(base, SERVICES, "kubernetes_role_v1")
    roles["developers_port-forward_50"] = resource(
        f"{SERVICES}/developers-port-forward", metadata={"name": "developers-port-forward", "namespace": "shop"},
        rule=[{"api_groups": [""], "resources": ["pods/portforward"], "verbs": ["create"]}])
    resources_of(base, SERVICES, "kubernetes_role_binding_v1")["developers_binding_51"] = resource(
        f"{SERVICES}/developers-port-forward-binding", metadata={"name": "developers", "namespace": "shop"},
        role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "Role", "name": "developers-port-forward"},
        subject=[{"kind": "Group", "name": "platform:developers", "api_group": "rbac.authorization.k8s.io"}])
    head = copy.deepcopy(base)
    resources_of(head, SERVICES, "kubernetes_role_v1")["developers_port-forward_50"]["rule"][0]["resources"].append(
        "pods/exec")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    code, report, markdown = both_formats(make_repo(tmp_path / "repo", base), head, capsys)
    assert code == review_module.RISKY
    (finding,) = report["security"]
    assert (finding["kind"], finding["change"], finding["broadens"]) == ("kubernetes-rbac", "widened", True)
    assert finding["detail"] == "+ resources `pods/exec`"
    assert "Role `developers-port-forward` in namespace `shop`: `create` on `pods/exec`, `pods/portforward`" \
        in markdown


def test_an_admin_policy_attached_to_an_existing_role_is_a_risk(repo: Path, capsys) -> None:
    stacks = production()
    resources_of(stacks, CLUSTER, "aws_iam_role_policy_attachment")["reports_admin_42"] = resource(
        f"{CLUSTER}/reports/admin", role="${aws_iam_role.reports_role_4.name}",
        policy_arn="arn:aws:iam::aws:policy/AdministratorAccess")
    code, report, _ = both_formats(repo, stacks, capsys)
    assert code == review_module.RISKY
    (risk,) = risks(report, "broadens-access")
    assert "attach `arn:aws:iam::aws:policy/AdministratorAccess`" in risk["message"]
    assert "on something that already exists" in risk["message"]


def test_without_the_security_section_broadening_goes_unseen(repo: Path, capsys,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks above can fail: with the security comparison off, the widened statement is not a risk."""
    monkeypatch.setattr(review_module, "compare_security", lambda stack, old, new: [])
    stacks = production()
    policy = copy.deepcopy(ROLE_POLICY)
    policy["Statement"][0]["Action"] = "s3:*"
    resources_of(stacks, CLUSTER, "aws_iam_policy")["reports_policy_6"]["policy"] = json.dumps(policy)
    code, report, _ = both_formats(repo, stacks, capsys)
    assert code == review_module.CHANGE and report["security"] == []


def test_public_cidrs() -> None:
    assert [c for c in ("0.0.0.0/0", "198.51.100.0/24", "::/0", "203.0.113.7/32") if not security_module.is_public(c)] \
        == []
    assert [c for c in ("10.0.0.0/8", "10.1.2.0/24", "172.20.0.0/16", "192.168.1.0/24", "100.64.0.0/16",
                        "fd00::/8", "${var.cidr}") if security_module.is_public(c)] == []


# -- protected resources and reused secret names ----------------------------------------------------

def test_destroying_a_protected_resource_says_the_plan_will_fail(repo: Path, capsys) -> None:
    stacks = production()
    del stacks[SERVICES]["resource"]["aws_elasticache_replication_group"]
    code, report, markdown = both_formats(repo, stacks, capsys)
    assert code == review_module.RISKY
    (risk,) = report["risks"]  # one risk for the address: the failure, not also "destroyed"
    assert risk["kind"] == "protected"
    assert "has `prevent_destroy` and this change destroys it: **the plan will fail**" in risk["message"]
    assert "first merge and apply a change that lifts the protection" in risk["fix"]
    assert markdown.index("### Risks") < markdown.index("**the plan will fail**")


def test_replacing_a_protected_resource_says_the_plan_will_fail(repo: Path, capsys) -> None:
    stacks = production()
    resources_of(stacks, SERVICES, "aws_elasticache_replication_group")["sessions_replication-group_10"][
        "replication_group_id"] = "sessions-v2"
    code, report, _ = both_formats(repo, stacks, capsys)
    (risk,) = report["risks"]
    assert code == review_module.RISKY
    assert risk["kind"] == "protected" and "replaces (because `replication_group_id` changed)" in risk["message"]


def test_a_deleted_secret_name_created_again_is_a_risk(repo: Path, capsys) -> None:
    stacks = production()
    secrets = resources_of(stacks, SERVICES, "aws_secretsmanager_secret")
    secrets["sessions-v2_secret_50"] = resource(f"{SERVICES}/sessions-v2/secret", name="production/redis/sessions",
                                                description="moved to another construct")
    del secrets["sessions_secret_11"]
    code, report, _ = both_formats(repo, stacks, capsys)
    assert code == review_module.RISKY
    (risk,) = risks(report, "secret-name-reused")
    assert risk["address"] == "aws_secretsmanager_secret.sessions-v2_secret_50"
    assert "recovery window (7 days)" in risk["message"] and "`moved` block" in risk["fix"]


def test_a_secret_deleted_for_good_is_not_a_reused_name(repo: Path, capsys) -> None:
    stacks = production()
    del stacks[SERVICES]["resource"]["aws_secretsmanager_secret"]
    _, report, _ = both_formats(repo, stacks, capsys)
    assert risks(report, "secret-name-reused") == [] and risks(report, "destroy-stateful") != []


# -- cost -------------------------------------------------------------------------------------------

def scale(stacks: dict, max_size: int) -> dict:
    resources_of(stacks, CLUSTER, "aws_eks_node_group")["eks_general_node-group_3"]["scaling_config"][
        "max_size"] = max_size
    return stacks


def test_raising_a_node_pool_tenfold_is_a_cost_risk(repo: Path, capsys) -> None:
    code, report, markdown = both_formats(repo, scale(production(), 120), capsys)
    assert code == review_module.RISKY
    cost = report["environments"]["production"]["cost"]
    node_month = 0.2247 * 730  # m7i.xlarge, the dearer of the group's two types
    disk_month = 100 * 0.088  # its 100 GiB gp3 root volume
    assert cost["difference"] == pytest.approx(108 * (node_month + disk_month), abs=0.01)
    assert cost["over_limit"] is True and (cost["limit_percent"], cost["limit_usd"]) == (50, 2000)
    (risk,) = risks(report, "cost")
    before, after, difference = (f"${cost[k]:,.0f}" for k in ("before", "after", "difference"))
    assert f"rises from {before} to {after} (+{difference}, +{cost['percent']:.0f} %)" in risk["message"]
    assert f"| production | {before} | {after} | **+{difference} (+{cost['percent']:.0f} %)** :warning: | " \
           "+50 % or +$2,000 |" in markdown
    assert "_Estimates from the price table `delivery/prices.json` (eu-west-1 on-demand list prices in USD" in markdown


def test_a_small_increase_is_shown_but_not_a_risk(repo: Path, capsys) -> None:
    code, report, markdown = both_formats(repo, scale(production(), 13), capsys)
    assert code == review_module.CHANGE and report["risks"] == []
    assert report["environments"]["production"]["cost"]["over_limit"] is False
    assert "- **production**: 1 to update \u00b7 worst case $" in markdown


def test_the_limits_are_the_head_revisions(repo: Path, capsys) -> None:
    """A head that lowers the environment's limit to +$100 a month makes one more node a risk."""
    write_limits(repo, {"production": {"max_cost_increase_percent": 50, "max_cost_increase_usd": 100}})
    code, report, _ = both_formats(repo, scale(production(), 13), capsys)
    assert code == review_module.RISKY
    cost = report["environments"]["production"]["cost"]
    assert (cost["limit_usd"], cost["over_limit"]) == (100, True)


def test_a_type_without_a_price_is_a_risk(repo: Path, capsys) -> None:
    stacks = production()
    resources_of(stacks, CLUSTER, "aws_eks_node_group")["eks_general_node-group_3"]["instance_types"] = [
        "m7i.48xlarge"]
    code, report, _ = both_formats(repo, stacks, capsys)
    assert code == review_module.RISKY
    (risk,) = risks(report, "cost")
    assert "no price in `delivery/prices.json` for `EC2 m7i.48xlarge`" in risk["message"]


def test_without_the_cost_check_a_tenfold_pool_passes(repo: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: without the cost risks, raising the pool tenfold is a plain change."""
    monkeypatch.setattr(review_module, "_cost_risks", lambda costs: [])
    code, _ = run_review(repo, scale(production(), 120), capsys=capsys)
    assert code == review_module.CHANGE


# -- guardrail suppressions ---------------------------------------------------------------------------

def suppress(stacks: dict, reason: str) -> dict:
    group = resources_of(stacks, SERVICES, "aws_elasticache_replication_group")["sessions_replication-group_10"]
    group["//"]["suppressions"] = [{"rule": "PROD-MULTI-AZ", "reason": reason, "scope": f"{SERVICES}/sessions"}]
    return stacks


def test_suppressions_added_or_changed_are_listed_with_their_reasons(repo: Path, capsys) -> None:
    _, report, markdown = both_formats(repo, suppress(production(), "sessions are rebuilt on login"), capsys)
    assert report["suppressions"] == [{"stack": SERVICES, "scope": f"{SERVICES}/sessions", "rule": "PROD-MULTI-AZ",
                                       "change": "added", "reason": "sessions are rebuilt on login",
                                       "previous_reason": None}]
    assert ('- added **PROD-MULTI-AZ** on `production-services/sessions` (production-services): '
            '"sessions are rebuilt on login"') in markdown
    (repo / "stacks.json").write_text(json.dumps(suppress(production(), "sessions are rebuilt on login")))
    commit(repo, "suppressed")
    _, report, _ = both_formats(repo, suppress(production(), "accepted by the platform team"), capsys)
    (changed,) = report["suppressions"]
    assert (changed["change"], changed["previous_reason"]) == ("changed", "sessions are rebuilt on login")
