"""The environments' rules, applied by the app to every construct: each fires, each exception holds.

One production app is built with one violation of every rule, added the way a
developer would add it (to the real stacks, by any file); ``stacks.check`` must
name every one. A second app holds the same violations, each suppressed with a
reason; it must pass, and the reasons must be in the synthesized JSON.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from cdktf import App
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import IConstruct

from constructs_lib import (
    BASELINE,
    PRODUCTION,
    RULES,
    Autoscaling,
    AwsPermission,
    ConfigError,
    EksCluster,
    Guardrails,
    ManagedRedis,
    MetricsEndpoint,
    Microservice,
    suppress,
)
from environments import PRODUCTION as PRODUCTION_ENV
from environments import STAGING
from helpers import assert_config_error
from stacks import EnvironmentStacks, build_environment, check

IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/demo:1.0.0"

#: rule -> (what a careless developer adds, the construct path the error names, the field and value it shows)
Violation = Callable[[EnvironmentStacks], IConstruct]
VIOLATIONS: dict[str, tuple[Violation, str, str]] = {
    "ENV-REPLICA-CAP": (
        lambda s: Microservice(s.services, "greedy", image=IMAGE, replicas=21),
        "production-services/greedy", r"replicas = 21: \[ENV-REPLICA-CAP\] .*at most 20 pods per service"),
    "ENV-NODE-CAP": (
        lambda s: s.cluster.cluster.add_node_group("huge", subnet_ids=["subnet-0c33beef00000a001",
                                                                       "subnet-0d44beef00000b002"],
                                                   instance_types=["m7i.large"], max_size=16),
        "production-cluster/eks/huge", r"max_size = 16: \[ENV-NODE-CAP\] .*caps a node group at 15 nodes"),
    "ENV-SECRET-PREFIX": (
        lambda s: ManagedRedis(s.services, "elsewhere", secret_name="shared/redis/elsewhere"),
        "production-services/elsewhere",
        r"secret_name = 'shared/redis/elsewhere': \[ENV-SECRET-PREFIX\] .*use a name under 'production/'"),
    "SEC-PLAIN-CREDENTIAL": (
        lambda s: Microservice(s.services, "leaky", image=IMAGE,
                               env={"DATABASE_URL": "postgres://app:s3cr3t-pw@db.internal:5432/app"}),
        "production-services/leaky",
        r"env\['DATABASE_URL'\] = '\(sensitive\)': \[SEC-PLAIN-CREDENTIAL\] .*secrets=\{'DATABASE_URL'"),
    "SEC-METRICS-PUBLIC": (
        lambda s: Microservice(s.services, "open-metrics", image=IMAGE, port=8080,
                               metrics=MetricsEndpoint(port=8080), ingress_host="open.acme-shop.example"),
        "production-services/open-metrics", r"metrics.port = 8080: \[SEC-METRICS-PUBLIC\] .*/metrics is public"),
    "NET-PUBLIC-CIDR": (
        lambda s: VpcSecurityGroupIngressRule(s.services, "wide-open", security_group_id="sg-0123456789abcdef0",
                                              ip_protocol="tcp", from_port=443, to_port=443, cidr_ipv4="0.0.0.0/1"),
        "production-services/wide-open",
        r"cidr_ipv4 = \['0.0.0.0/1'\]: \[NET-PUBLIC-CIDR\] .*together they admit 2,\d{3},\d{3},\d{3} internet "
        r"addresses"),
    "IMG-IMMUTABLE": (
        lambda s: Microservice(s.services, "hub-image", image="docker.io/library/nginx:1.27"),
        "production-services/hub-image", r"image = 'docker.io/library/nginx:1.27': \[IMG-IMMUTABLE\]"),
    "IAM-NO-WILDCARD": (
        lambda s: Microservice(s.services, "greedy-reader", image=IMAGE, aws_permissions=[
            AwsPermission(actions=["s3:GetObject"], resources=["arn:aws:s3:::*"])]),
        "production-services/greedy-reader",
        r"aws_permissions\[0\].resources\[0\] = 'arn:aws:s3:::\*': \[IAM-NO-WILDCARD\] .*name the resources"),
    "PROD-TWO-PODS": (
        lambda s: Microservice(s.services, "lonely", image=IMAGE, replicas=1),
        "production-services/lonely", r"replicas = 1: \[PROD-TWO-PODS\] one pod is one outage"),
    "PROD-CACHE-HA": (
        lambda s: ManagedRedis(s.services, "fragile", replicas=0, multi_az=False),
        "production-services/fragile", r"replicas = 0: \[PROD-CACHE-HA\] a cache without a replica"),
    "PROD-PROTECT-STATEFUL": (
        lambda s: S3Bucket(s.services, "exports", bucket="acme-shop-exports-production"),
        "production-services/exports", r"lifecycle.prevent_destroy = None: \[PROD-PROTECT-STATEFUL\]"),
}


def test_an_unprotected_cache_is_named_once_by_its_keyword(tmp_path: Path) -> None:
    app = _app(tmp_path)
    stacks = build_environment(app, PRODUCTION_ENV)

    def build() -> None:
        ManagedRedis(stacks.services, "scratch", protect=False)
        check(app)

    assert_config_error(build, r"production-services/scratch: ",
                        r"^production-services/scratch: protect = False: \[PROD-PROTECT-STATEFUL\][^\n]*$")


def test_a_service_added_after_the_environment_is_held_to_the_metrics_contract(tmp_path: Path) -> None:
    app = _app(tmp_path)
    stacks = build_environment(app, STAGING)

    def build() -> None:
        Microservice(stacks.services, "unscraped", image=IMAGE, metrics=MetricsEndpoint(port=9090),
                     scrape_labels={"team": "payments"})
        check(app)

    assert_config_error(build, r"staging-services/unscraped: ",
                        r"scrape_labels = \{'team': 'payments'\}: needs a Prometheus that selects its ServiceMonitor "
                        r"and PrometheusRule, running in namespace 'monitoring' \(its NetworkPolicy admits Prometheus "
                        r"from there\); staging has kube-prometheus-stack \(staging-platform/monitoring\)")


def _app(tmp: Path) -> App:
    return App(outdir=str(tmp), skip_validation=True)


@pytest.fixture(scope="module")
def violations_error(tmp_path_factory: pytest.TempPathFactory) -> str:
    app = _app(tmp_path_factory.mktemp("violations"))
    stacks = build_environment(app, PRODUCTION_ENV)
    for add, _, _ in VIOLATIONS.values():
        add(stacks)
    with pytest.raises(ConfigError) as error:
        check(app)
    return str(error.value)


@pytest.fixture(scope="module")
def suppressed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """The synthesized stacks of an app with every violation, each suppressed with a reason."""
    outdir = tmp_path_factory.mktemp("suppressed")
    app = _app(outdir)
    stacks = build_environment(app, PRODUCTION_ENV)
    for rule_id, (add, _, _) in VIOLATIONS.items():
        construct = add(stacks)
        suppress(construct, rule_id, reason=f"accepted for the {rule_id} test by the platform team")
    check(app)
    app.synth()
    return {p.parent.name: json.loads(p.read_text()) for p in outdir.glob("stacks/*/cdk.tf.json")}


def test_every_rule_has_a_violation_here() -> None:
    assert set(VIOLATIONS) == set(RULES)
    assert {r.id for r in BASELINE.rules} | {r.id for r in PRODUCTION.rules} == set(RULES)


@pytest.mark.parametrize("rule_id", list(VIOLATIONS))
def test_rule_fires_through_the_app(violations_error: str, rule_id: str) -> None:
    _, path, message = VIOLATIONS[rule_id]
    line = next((line for line in violations_error.splitlines() if line.strip().startswith(f"- {path}: ")), None)
    assert line is not None, violations_error
    assert re.search(message, violations_error.split(f"- {path}: ", 1)[1].split("\n  - production")[0]), line


def test_the_app_reports_every_violation_at_once(violations_error: str) -> None:
    assert violations_error.startswith(f"{len(VIOLATIONS) + 1} problems\n")
    # One construct, two problems: both named.
    assert "  - production-services/fragile: multi_az = False: [PROD-CACHE-HA]" in violations_error


@pytest.mark.parametrize("rule_id", list(VIOLATIONS))
def test_a_suppression_with_a_reason_lets_it_pass_and_is_in_the_output(suppressed: dict, rule_id: str) -> None:
    _, path, _ = VIOLATIONS[rule_id]
    stack = suppressed[path.split("/", 1)[0]]
    covered = [body["//"]["suppressions"] for resources in stack["resource"].values() for body in resources.values()
               if body["//"]["metadata"]["path"].startswith(path + "/") or body["//"]["metadata"]["path"] == path]
    assert covered, f"no resource under {path}"
    reason = f"accepted for the {rule_id} test by the platform team"
    assert all({"rule": rule_id, "reason": reason, "scope": path} in found for found in covered)


def test_a_suppression_does_not_leak_to_siblings(suppressed: dict) -> None:
    stack = suppressed["production-services"]
    for resources in stack["resource"].values():
        for body in resources.values():
            if body["//"]["metadata"]["path"].startswith("production-services/checkout/"):
                scopes = {s["scope"] for s in body["//"].get("suppressions", [])}
                assert all(s.startswith("production-services/checkout/") for s in scopes), scopes


def test_staging_does_not_apply_the_production_pack(tmp_path: Path) -> None:
    app = _app(tmp_path)
    stacks = build_environment(app, STAGING)
    Microservice(stacks.services, "lonely", image=IMAGE, replicas=1)
    ManagedRedis(stacks.services, "fragile", replicas=0, multi_az=False)
    check(app)


@pytest.mark.parametrize(("add", "message"), [
    (lambda s: Microservice(s.services, "capped", image=IMAGE, autoscaling=Autoscaling(max_replicas=30),
                            replica_cap=50),
     r"production-services/capped: autoscaling.max_replicas = 30: \[ENV-REPLICA-CAP\]"),
    (lambda s: Microservice(s.services, "tighter", image=IMAGE, replicas=6, replica_cap=5),
     r"production-services/tighter: replicas = 6: replica_cap allows at most 5 replicas"),
], ids=["explicit cap cannot loosen", "explicit cap tightens"])
def test_an_explicit_cap_only_tightens(tmp_path: Path, add, message: str) -> None:
    app = _app(tmp_path)
    stacks = build_environment(app, PRODUCTION_ENV)

    def build() -> None:
        add(stacks)
        check(app)

    assert_config_error(build, r"production-services/", message)


def test_stack_defaults_reach_constructs_added_by_any_file(tmp_path: Path) -> None:
    """A service and a cache that name nothing of the environment get its namespace, prefix, network, workers'
    security group and protection."""
    outdir = tmp_path / "out"
    app = _app(outdir)
    stacks = build_environment(app, PRODUCTION_ENV)
    cache = ManagedRedis(stacks.services, "inventory-cache")
    Microservice(stacks.services, "inventory", image=IMAGE, redis=cache)
    check(app)
    app.synth()
    out = json.loads((outdir / "stacks/production-services/cdk.tf.json").read_text())
    deployment = out["resource"]["kubernetes_deployment_v1"]
    (body,) = [b for b in deployment.values()
               if b["//"]["metadata"]["path"] == "production-services/inventory/deployment"]
    assert body["metadata"]["namespace"] == "${kubernetes_namespace_v1.namespace.metadata[0].name}"
    (secret,) = [b for b in out["resource"]["aws_secretsmanager_secret"].values()
                 if b["//"]["metadata"]["path"].startswith("production-services/inventory-cache/")]
    assert secret["name"] == "production/redis/inventory-cache"
    assert secret["lifecycle"] == {"prevent_destroy": True}
    (subnets,) = [b for b in out["resource"]["aws_elasticache_subnet_group"].values() if b["name"] == "inventory-cache"]
    assert subnets["subnet_ids"] == list(PRODUCTION_ENV.network.subnet_ids)
    rules = [b for b in out["resource"]["aws_vpc_security_group_ingress_rule"].values()
             if b["//"]["metadata"]["path"].startswith("production-services/inventory-cache/")]
    assert [r["referenced_security_group_id"] for r in rules] == [
        "${data.aws_eks_cluster.cluster.vpc_config[0].cluster_security_group_id}"]


@pytest.mark.parametrize(("rule_id", "reason", "message"), [
    ("PROD-NO-SUCH-RULE", "because we said so, today", r"suppress = 'PROD-NO-SUCH-RULE': name a platform rule"),
    ("CKV_AWS_39", "", r"suppress\('CKV_AWS_39'\).reason = '': say why the rule does not apply here"),
    ("PROD-TWO-PODS", "ok", r"reason = 'ok': say why"),
], ids=["unknown rule", "no reason", "a reason of one word"])
def test_a_bad_suppression_is_an_error(tmp_path: Path, rule_id: str, reason: str, message: str) -> None:
    app = _app(tmp_path)
    stacks = build_environment(app, PRODUCTION_ENV)
    service = Microservice(stacks.services, "odd", image=IMAGE)
    assert_config_error(lambda: suppress(service, rule_id, reason=reason), r"production-services/odd: ", message)


def test_guardrails_of_a_construct_are_its_stacks(tmp_path: Path) -> None:
    app = _app(tmp_path)
    stacks = build_environment(app, STAGING)
    service = Microservice(stacks.services, "found", image=IMAGE)
    rails = Guardrails.of(service)
    assert rails is not None and rails is stacks.services.guardrails
    assert rails.replica_cap == STAGING.limits.max_replicas_per_service


def test_a_public_endpoint_split_in_halves_is_refused_by_the_environment() -> None:
    cluster = dataclasses.replace(STAGING.cluster, public_access_cidrs=["0.0.0.0/1", "128.0.0.0/1"])
    assert_config_error(lambda: dataclasses.replace(STAGING, cluster=cluster), r"environment 'staging': ",
                        r"cluster.public_access_cidrs = \['0.0.0.0/1', '128.0.0.0/1'\]: together they admit "
                        r"4,\d{3},\d{3},\d{3} internet addresses")


def test_a_public_endpoint_split_in_halves_is_refused_by_the_app(tmp_path: Path) -> None:
    app = _app(tmp_path)
    stacks = build_environment(app, STAGING)

    def build() -> None:
        EksCluster(stacks.cluster, "second", name="second", kubernetes_version="1.33",
                   subnet_ids=list(STAGING.network.subnet_ids), public_access_cidrs=["0.0.0.0/1", "128.0.0.0/1"])
        check(app)

    assert_config_error(build, r"staging-cluster/second: ",
                        r"public_access_cidrs = \['0.0.0.0/1', '128.0.0.0/1'\]: \[NET-PUBLIC-CIDR\]")
