"""Microservice beyond a stateless HTTP service: workers, AWS permissions, config files, network isolation,
migrations. Each through a stack with guardrails attached, as the real stacks attach them; snapshots, targeted
assertions on the synthesized JSON, and bad input as one line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cdktf
import pytest
from cdktf import App, TerraformStack
from constructs import Construct
from syrupy.extensions.json import JSONSnapshotExtension

from constructs_lib import (
    CONFIG_DIR,
    INGRESS_POD_LABELS,
    PROMETHEUS_POD_LABELS,
    SCRAPE_LABELS,
    Autoscaling,
    AwsPermission,
    Capability,
    Guardrails,
    MetricsEndpoint,
    Microservice,
    Migration,
    Offer,
    Probes,
    ScheduledJob,
    capabilities,
    default_deny_ingress,
    suppress,
)
from helpers import OIDC_ARN, assert_config_error, in_services_stack, only, resources, services_guardrails, synth

IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/catalog:4.0.0"
QUEUE = "arn:aws:sqs:eu-west-1:123456789012:orders"
FILES = Path(__file__).parent / "workload_files"




def violations(build, **more) -> str:
    """The guardrails' findings on what ``build`` adds (the rules ``stacks.check`` applies)."""
    target = TerraformStack(cdktf.Testing.app(), "test")
    rails = services_guardrails(**more).attach(target)
    build(target)
    return "\n".join(str(e) for e in rails.check(target))


def worker(stack, **more) -> Microservice:
    return Microservice(stack, "order-consumer", image=IMAGE, port=None, probes=Probes(command=["/app/healthcheck"]),
                        metrics=MetricsEndpoint(port=9100), **more)


def loaded(stack) -> Microservice:
    edge = Microservice(stack, "edge", image=IMAGE, ingress_host="shop.example.com")
    job = ScheduledJob(stack, "report", image=IMAGE, schedule="0 3 * * *", command=["./report"], timeout="1h")
    return Microservice(
        stack, "catalog", image=IMAGE, ingress_host="catalog.example.com", metrics=MetricsEndpoint(port=9090),
        aws_permissions=[AwsPermission(actions=["s3:GetObject"], resources=["arn:aws:s3:::catalog-assets/*"],
                                       conditions={"Bool": {"aws:SecureTransport": "true"}})],
        config_files={"application.yaml": FILES / "application.yaml", "feature-flags.properties": "search=on\n"},
        allow_from=[edge, job], migration=Migration(command=["/app/migrate", "up"], timeout="15m"),
        network_policy=True)


@pytest.fixture(scope="module")
def worker_stack() -> dict:
    return in_services_stack(worker)


@pytest.fixture(scope="module")
def loaded_stack() -> dict:
    return in_services_stack(loaded)


def by_name(stack: dict, type_: str, name: str) -> dict:
    (found,) = [r for r in resources(stack, type_).values() if r["metadata"]["name"] == name]
    return found


def manifests(stack: dict, kind: str) -> list[dict]:
    return [m["manifest"] for m in resources(stack, "kubernetes_manifest").values() if m["manifest"]["kind"] == kind]


@pytest.mark.parametrize("name", ["worker_stack", "loaded_stack"])
def test_snapshot(name: str, request, snapshot) -> None:
    assert request.getfixturevalue(name) == snapshot.use_extension(JSONSnapshotExtension)


# -- workers ----------------------------------------------------------------------------------------

def test_a_worker_has_no_service_and_no_ingress(worker_stack: dict) -> None:
    assert resources(worker_stack, "kubernetes_service_v1") == {}
    assert resources(worker_stack, "kubernetes_ingress_v1") == {}
    assert manifests(worker_stack, "ServiceMonitor") == []
    (container,) = only(worker_stack, "kubernetes_deployment_v1")["spec"]["template"]["spec"]["container"]
    assert container["port"] == [{"name": "metrics", "container_port": 9100, "protocol": "TCP"}]


def test_a_worker_is_probed_by_its_command(worker_stack: dict) -> None:
    (container,) = only(worker_stack, "kubernetes_deployment_v1")["spec"]["template"]["spec"]["container"]
    for probe in ("readiness_probe", "liveness_probe"):
        assert container[probe]["exec"] == {"command": ["/app/healthcheck"]}
        assert "http_get" not in container[probe]


def test_a_worker_without_a_command_is_probed_on_its_metrics_port() -> None:
    stack = in_services_stack(lambda s: Microservice(s, "consumer", image=IMAGE, port=None,
                                                     metrics=MetricsEndpoint(port=9100)))
    (container,) = only(stack, "kubernetes_deployment_v1")["spec"]["template"]["spec"]["container"]
    assert container["readiness_probe"]["http_get"] == {"path": "/readyz", "port": "metrics"}
    assert container["liveness_probe"]["http_get"] == {"path": "/livez", "port": "metrics"}


def test_a_worker_is_scraped_through_a_pod_monitor(worker_stack: dict, validate_custom_resources) -> None:
    (monitor,) = manifests(worker_stack, "PodMonitor")
    assert monitor["metadata"]["labels"].items() >= SCRAPE_LABELS.items()
    assert monitor["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "order-consumer",
                                                          "app.kubernetes.io/instance": "order-consumer"}
    assert monitor["spec"]["podMetricsEndpoints"] == [{"port": "metrics", "path": "/metrics", "interval": "30s",
                                                       "scheme": "http"}]
    assert validate_custom_resources([monitor]) == [[]]
    broken = {**monitor, "spec": {**monitor["spec"], "podMetricsEndpoints": [{"port": 9100}]}}
    assert validate_custom_resources([broken])[0] != []


def test_a_worker_gets_a_budget_and_autoscaling_as_a_service_does() -> None:
    stack = in_services_stack(lambda s: worker(s, autoscaling=Autoscaling(min_replicas=2, max_replicas=6)))
    assert only(stack, "kubernetes_pod_disruption_budget_v1")["spec"]["max_unavailable"] == "1"
    assert only(stack, "kubernetes_horizontal_pod_autoscaler_v2")["spec"]["max_replicas"] == 6


# -- AWS permissions ----------------------------------------------------------------------------------

def trust(stack: dict) -> dict:
    (document,) = stack["data"]["aws_iam_policy_document"].values()
    return document


def test_aws_permissions_make_a_role_only_the_service_account_can_assume(loaded_stack: dict) -> None:
    (statement,) = trust(loaded_stack)["statement"]
    assert statement["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    assert statement["principals"] == [{"type": "Federated", "identifiers": [OIDC_ARN]}]
    conditions = {c["variable"].split(":")[-1]: c for c in statement["condition"]}
    assert conditions["sub"]["values"] == ["system:serviceaccount:shop:catalog"]
    assert conditions["sub"]["test"] == "StringEquals"
    assert conditions["aud"]["values"] == ["sts.amazonaws.com"]


def test_the_role_holds_exactly_the_statements_given(loaded_stack: dict) -> None:
    role = only(loaded_stack, "aws_iam_role")
    assert role["name_prefix"] == "shop-catalog-"
    (inline,) = role["inline_policy"]
    assert json.loads(inline["policy"]) == {"Version": "2012-10-17", "Statement": [{
        "Sid": "Permission0", "Effect": "Allow", "Action": ["s3:GetObject"],
        "Resource": ["arn:aws:s3:::catalog-assets/*"], "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]}
    assert resources(loaded_stack, "aws_iam_role_policy_attachment") == {}


def test_the_service_account_carries_the_role(loaded_stack: dict) -> None:
    account = by_name(loaded_stack, "kubernetes_service_account_v1", "catalog")
    role = next(iter(resources(loaded_stack, "aws_iam_role")))
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": f"${{aws_iam_role.{role}.arn}}"}
    assert account["automount_service_account_token"] is False
    assert "annotations" not in by_name(loaded_stack, "kubernetes_service_account_v1", "edge")["metadata"]


WILDCARDS = {
    "every action": (AwsPermission(actions=["*"], resources=[QUEUE]), r"aws_permissions\[0\].actions\[0\] = '\*'"),
    "every action of a service": (AwsPermission(actions=["s3:*"], resources=["arn:aws:s3:::b/k"]),
                                  r"actions\[0\] = 's3:\*'"),
    "a family of actions": (AwsPermission(actions=["s3:Get*"], resources=["arn:aws:s3:::b/k"]),
                            r"actions\[0\] = 's3:Get\*'"),
    "every resource": (AwsPermission(actions=["sqs:ReceiveMessage"], resources=["*"]), r"resources\[0\] = '\*'"),
    "every bucket": (AwsPermission(actions=["s3:GetObject"], resources=["arn:aws:s3:::*"]),
                     r"resources\[0\] = 'arn:aws:s3:::\*'"),
    "every queue": (AwsPermission(actions=["sqs:ReceiveMessage"], resources=["arn:aws:sqs:eu-west-1:123456789012:*"]),
                    r"resources\[0\] = 'arn:aws:sqs:eu-west-1:123456789012:\*'"),
    "queues by prefix": (AwsPermission(actions=["sqs:ReceiveMessage"],
                                       resources=["arn:aws:sqs:eu-west-1:123456789012:orders-*"]), r"orders-\*"),
    "every table": (AwsPermission(actions=["dynamodb:GetItem"],
                                  resources=["arn:aws:dynamodb:eu-west-1:123456789012:table/*"]), r"table/\*"),
    "every account": (AwsPermission(actions=["sqs:ReceiveMessage"], resources=["arn:aws:sqs:eu-west-1:*:orders"]),
                      r"arn:aws:sqs:eu-west-1:\*:orders"),
}


@pytest.mark.parametrize("permission, message", WILDCARDS.values(), ids=WILDCARDS.keys())
def test_a_wildcard_is_refused_by_the_rule(permission: AwsPermission, message: str) -> None:
    found = violations(lambda s: Microservice(s, "greedy", image=IMAGE, aws_permissions=[permission]))
    assert found.startswith("test/greedy: ") and "\n" not in found, found
    assert "[IAM-NO-WILDCARD]" in found
    assert re.search(message, found), found


NAMED = {
    "keys under a named bucket": "arn:aws:s3:::reports/daily/*",
    "indexes of a named table": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/index/*",
    "a secret's random suffix": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:staging/catalog-??????",
    "a named queue": QUEUE,
}


@pytest.mark.parametrize("resource", NAMED.values(), ids=NAMED.keys())
def test_a_wildcard_where_aws_gives_no_name_is_not_refused(resource: str) -> None:
    assert violations(lambda s: Microservice(s, "named", image=IMAGE, aws_permissions=[
        AwsPermission(actions=["s3:GetObject"], resources=[resource])])) == ""


def test_a_wildcard_suppressed_with_a_reason_passes_and_the_reason_is_in_the_output(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path), skip_validation=True)
    stack = TerraformStack(app, "test")
    rails = services_guardrails().attach(stack)
    service = Microservice(stack, "lister", image=IMAGE, aws_permissions=[
        AwsPermission(actions=["sqs:ListQueues"], resources=["*"])])
    assert rails.check(stack) != []
    suppress(service, "IAM-NO-WILDCARD", reason="ListQueues cannot be limited to a resource, AWS requires *")
    assert rails.check(stack) == []
    app.synth()
    synthesized = json.loads((tmp_path / "stacks" / "test" / "cdk.tf.json").read_text())
    (suppression,) = only(synthesized, "aws_iam_role")["//"]["suppressions"]
    assert suppression["rule"] == "IAM-NO-WILDCARD" and suppression["scope"] == "test/lister"


def test_without_the_clusters_oidc_provider_aws_permissions_are_one_line() -> None:
    def build(stack) -> None:
        Guardrails(environment="staging", namespace="shop").attach(stack)
        Microservice(stack, "catalog", image=IMAGE, aws_permissions=[
            AwsPermission(actions=["s3:GetObject"], resources=["arn:aws:s3:::b/k"])])

    assert_config_error(lambda: synth(build), r"test/catalog: ",
                        r"^test/catalog: aws_permissions = '1 permission\(s\)': needs the cluster's OIDC provider, "
                        r"which the stack gives \(Guardrails.oidc_provider_arn and oidc_issuer_url are not "
                        r"set\)[^\n]*$")


# -- config files ------------------------------------------------------------------------------------

def test_config_files_are_a_config_map_mounted_read_only(loaded_stack: dict) -> None:
    config = by_name(loaded_stack, "kubernetes_config_map_v1", "catalog-config")
    assert config["data"] == {"application.yaml": (FILES / "application.yaml").read_text(),
                              "feature-flags.properties": "search=on\n"}
    pod = by_name(loaded_stack, "kubernetes_deployment_v1", "catalog")["spec"]["template"]["spec"]
    address = next(a for a, r in resources(loaded_stack, "kubernetes_config_map_v1").items()
                   if r["metadata"]["name"] == "catalog-config")
    assert {"name": "config", "config_map": {"name": f"${{kubernetes_config_map_v1.{address}.metadata[0].name}}"}} \
        in pod["volume"]
    (container,) = pod["container"]
    assert {"name": "config", "mount_path": CONFIG_DIR, "read_only": True} in container["volume_mount"]
    assert CONFIG_DIR == "/etc/config"


def checksum(**props) -> str:
    stack = in_services_stack(lambda s: Microservice(s, "svc", image=IMAGE, **props))
    return only(stack, "kubernetes_deployment_v1")["spec"]["template"]["metadata"]["annotations"][
        "platform.acme-shop.io/config-checksum"]


def test_a_config_file_change_rolls_the_pods() -> None:
    base = checksum(config_files={"app.yaml": "a: 1\n"})
    assert checksum(config_files={"app.yaml": "a: 1\n"}) == base
    assert checksum(config_files={"app.yaml": "a: 2\n"}) != base
    assert checksum() != base


def test_no_config_files_leaves_the_checksum_as_before() -> None:
    """The key is added only with files: a service without them keeps its checksum (and its pods)."""
    assert checksum(env={"A": "1"}) == checksum(env={"A": "1"}, config_files={})


def test_a_credential_in_a_config_file_is_refused_without_being_echoed(tmp_path: Path) -> None:
    leaky = tmp_path / "application.yaml"
    leaky.write_text("server:\n  port: 8080\ndatabase:\n  password: hunter2-is-not-a-password\n")
    found = violations(lambda s: Microservice(s, "leaky", image=IMAGE, config_files={"application.yaml": leaky}))
    assert "config_files['application.yaml'] = 'line 4': [SEC-PLAIN-CREDENTIAL]" in found, found
    assert "hunter2" not in found
    assert violations(lambda s: Microservice(s, "clean", image=IMAGE, config_files={
        "report.yaml": FILES / "report.yaml"})) == ""  # password: ${DB_PASSWORD} is a reference


# -- network isolation --------------------------------------------------------------------------------

def test_default_deny_selects_every_pod_and_admits_nothing() -> None:
    stack = synth(lambda s: default_deny_ingress(s, "deny", namespace="shop"))
    policy = only(stack, "kubernetes_network_policy_v1")
    assert policy["metadata"] == {"name": "default-deny-ingress", "namespace": "shop"}
    assert policy["spec"] == {"pod_selector": {}, "policy_types": ["Ingress"]}


def test_a_service_admits_its_ingress_controller_prometheus_and_allow_from_only(loaded_stack: dict) -> None:
    policy = by_name(loaded_stack, "kubernetes_network_policy_v1", "catalog")
    assert policy["spec"]["pod_selector"] == {"match_labels": {"app.kubernetes.io/name": "catalog",
                                                               "app.kubernetes.io/instance": "catalog"}}
    assert policy["spec"]["policy_types"] == ["Ingress"]
    rules = [(r["from"], [p["port"] for p in r["ports"]]) for r in policy["spec"]["ingress"]]
    assert rules == [
        ([{"namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": "nginx-ingress"}},
           "pod_selector": {"match_labels": dict(INGRESS_POD_LABELS)}}], ["8080"]),
        ([{"namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": "monitoring"}},
           "pod_selector": {"match_labels": dict(PROMETHEUS_POD_LABELS)}}], ["9090"]),
        ([{"pod_selector": {"match_labels": {"app.kubernetes.io/name": "edge", "app.kubernetes.io/instance": "edge"}}}],
         ["8080"]),
        ([{"pod_selector": {"match_labels": {"app.kubernetes.io/name": "report",
                                             "app.kubernetes.io/instance": "report"}}}], ["8080"]),
    ]


def test_a_workload_of_another_namespace_is_admitted_by_its_namespace() -> None:
    def build(stack) -> None:
        other = Microservice(stack, "billing", image=IMAGE, namespace="payments")
        Microservice(stack, "catalog", image=IMAGE, allow_from=[other])

    policy = by_name(in_services_stack(build), "kubernetes_network_policy_v1", "catalog")
    (rule,) = policy["spec"]["ingress"]
    assert rule["from"] == [{"namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": "payments"}},
                             "pod_selector": {"match_labels": {"app.kubernetes.io/name": "billing",
                                                               "app.kubernetes.io/instance": "billing"}}}]


def test_a_workload_named_in_allow_from_is_admitted_as_the_object_would_be() -> None:
    def build(stack, by_name: bool) -> None:
        edge = Microservice(stack, "edge", image=IMAGE)
        Microservice(stack, "catalog", image=IMAGE, allow_from=["edge" if by_name else edge])

    named, passed = (by_name(in_services_stack(lambda s, n=n: build(s, n)), "kubernetes_network_policy_v1", "catalog")
                     for n in (True, False))
    assert named["spec"] == passed["spec"]


def test_allow_from_naming_no_workload_of_the_environment_fails_the_contract() -> None:
    """A name is checked against every workload of the environment by the capability contract (stacks.check),
    after every module has declared its own: here, a typo."""
    stack = TerraformStack(cdktf.Testing.app(), "test")
    services_guardrails().attach(stack)
    Microservice(stack, "edge", image=IMAGE)
    Microservice(stack, "catalog", image=IMAGE, allow_from=["edge", "egde"])
    (error,) = [e for e in capabilities.check("staging", [stack]) if e.where == "test/catalog"]
    lines = [p.render() for p in error.problems if p.field == "allow_from"]
    assert lines == [
        "allow_from = 'egde': needs a workload 'egde' in namespace 'shop' to admit; staging has shop/edge "
        "(test/edge), shop/catalog (test/catalog): name a Microservice or ScheduledJob of this environment by its "
        "id (`pipenv run service list` shows them)"], str(error)


def test_the_stack_decides_who_gets_a_policy() -> None:
    plain = in_services_stack(lambda s: Microservice(s, "svc", image=IMAGE))
    assert resources(plain, "kubernetes_network_policy_v1") == {}
    isolated = in_services_stack(lambda s: Microservice(s, "svc", image=IMAGE), network_policies=True)
    assert only(isolated, "kubernetes_network_policy_v1")["spec"]["policy_types"] == ["Ingress"]
    assert "ingress" not in only(isolated, "kubernetes_network_policy_v1")["spec"]  # nothing admitted
    opted_out = in_services_stack(lambda s: Microservice(s, "svc", image=IMAGE, network_policy=False),
                                  network_policies=True)
    assert resources(opted_out, "kubernetes_network_policy_v1") == {}


def test_an_isolated_workload_needs_policy_enforcement_and_the_namespaces_it_admits() -> None:
    found: dict[str, Microservice] = {}

    def build(stack) -> None:
        found["svc"] = Microservice(stack, "svc", image=IMAGE, ingress_host="svc.example.com",
                                    metrics=MetricsEndpoint(port=9090), network_policy=True)
        found["open"] = Microservice(stack, "open", image=IMAGE, ingress_host="open.example.com")

    in_services_stack(build)
    needs = {need.capability: need for need in found["svc"].needs()}
    assert Capability.NETWORK_POLICY in needs
    assert "in namespace 'nginx-ingress'" in needs[Capability.INGRESS_CLASS].what
    assert "running in namespace 'monitoring'" in needs[Capability.PROMETHEUS].what
    assert Capability.NETWORK_POLICY not in {need.capability for need in found["open"].needs()}


class Platform(Construct):
    """A stand-in platform offering Prometheus and an ingress controller from the namespaces given."""

    def __init__(self, scope, id: str, *, prometheus_in: str, ingress_in: str) -> None:
        super().__init__(scope, id)
        self.where = (prometheus_in, ingress_in)

    def offers(self) -> list[Offer]:
        return [Offer(Capability.PROMETHEUS, "kube-prometheus-stack", self.node.path, scope={
                    "labels": dict(SCRAPE_LABELS), "namespace": self.where[0],
                    "pod_labels": dict(PROMETHEUS_POD_LABELS)}),
                Offer(Capability.INGRESS_CLASS, "nginx", self.node.path, scope={
                    "namespace": self.where[1], "pod_labels": dict(INGRESS_POD_LABELS)})]


@pytest.mark.parametrize("prometheus_in, ingress_in, failing", [
    ("monitoring", "nginx-ingress", set()),
    ("observability", "nginx-ingress", {"scrape_labels"}),
    ("monitoring", "ingress", {"ingress_host"}),
])
def test_an_isolated_workload_fails_the_contract_when_what_it_admits_runs_elsewhere(
        prometheus_in: str, ingress_in: str, failing: set[str]) -> None:
    """Its policy admits Prometheus and the ingress controller by namespace: a platform that runs them in another
    namespace would be refused by the policy at run time, so the build fails instead."""
    stack = TerraformStack(cdktf.Testing.app(), "test")
    services_guardrails(network_policies=True).attach(stack)
    Platform(stack, "platform", prometheus_in=prometheus_in, ingress_in=ingress_in)
    Microservice(stack, "svc", image=IMAGE, ingress_host="svc.example.com", metrics=MetricsEndpoint(port=9090))
    found = {p.field for e in capabilities.check("staging", [stack]) for p in e.problems
             if "in namespace" in p.fix}
    assert found == failing


# -- migrations --------------------------------------------------------------------------------------------

def migration_job(stack: dict) -> dict:
    return only(stack, "kubernetes_job_v1")


def test_a_migration_runs_to_completion_before_the_deployment(loaded_stack: dict) -> None:
    job = migration_job(loaded_stack)
    assert job["wait_for_completion"] is True
    assert job["spec"]["active_deadline_seconds"] == 900 and job["spec"]["backoff_limit"] == 0
    assert job["timeouts"] == {"create": "960s", "update": "960s"}
    assert "ttl_seconds_after_finished" not in job["spec"]
    assert job["lifecycle"] == {"ignore_changes": ["spec"]}
    pod = job["spec"]["template"]["spec"]
    assert pod["restart_policy"] == "Never" and pod["service_account_name"] == "catalog"
    (container,) = pod["container"]
    assert container["command"] == ["/app/migrate", "up"] and container["image"] == IMAGE
    address = next(iter(resources(loaded_stack, "kubernetes_job_v1")))
    assert f"kubernetes_job_v1.{address}" in by_name(loaded_stack, "kubernetes_deployment_v1", "catalog")["depends_on"]


def test_the_migration_pods_are_no_part_of_the_service() -> None:
    stack = in_services_stack(lambda s: Microservice(s, "catalog", image=IMAGE,
                                                     migration=Migration(command=["./migrate"])))
    labels = migration_job(stack)["spec"]["template"]["metadata"]["labels"]
    selector = only(stack, "kubernetes_service_v1")["spec"]["selector"]
    assert not selector.items() <= labels.items()
    assert not only(stack, "kubernetes_pod_disruption_budget_v1")["spec"]["selector"]["match_labels"].items() \
        <= labels.items()


def job_name(**props) -> str:
    props = {"image": IMAGE, "migration": Migration(command=["./migrate"]), **props}
    return migration_job(in_services_stack(lambda s: Microservice(s, "catalog", **props)))["metadata"]["name"]


def test_a_new_image_or_command_is_a_new_job_and_nothing_else_is() -> None:
    base = job_name()
    assert base.startswith("catalog-migrate-") and len(base) <= 63
    assert job_name() == base
    assert job_name(image=IMAGE.replace("4.0.0", "4.1.0")) != base
    assert job_name(migration=Migration(command=["./migrate", "--fast"])) != base
    assert job_name(env={"LOG_LEVEL": "debug"}) == base
    assert job_name(migration=Migration(command=["./migrate"], timeout="20m")) == base
    assert len(migration_job(in_services_stack(lambda s: Microservice(s, "a" * 53, image=IMAGE, migration=Migration(
        command=["./migrate"]))))["metadata"]["name"]) == 63


# -- bad input -------------------------------------------------------------------------------------------

BAD_INPUT = {
    "a worker with an ingress": (dict(port=None, ingress_host="x.example.com", probes=Probes(command=["/hc"])),
                                 r"ingress_host = 'x.example.com': a worker \(port=None\) serves no HTTP port"),
    "a worker with nothing to probe": (dict(port=None),
                                       r"probes = Probes\(.*\): a worker \(port=None\) without metrics has no port "
                                       r"to probe: pass probes=Probes\(command=\[...\]\)"),
    "a probe with one path": (dict(probes=Probes(readiness_path="/ready")),
                              r"give both readiness_path and liveness_path, or a command"),
    "a probe with a command and a path": (dict(probes=Probes(command=["/hc"], readiness_path="/r")),
                                          r"give a command or HTTP paths, not both"),
    "an action without its service": (dict(aws_permissions=[AwsPermission(actions=["GetObject"],
                                                                          resources=["arn:aws:s3:::b/k"])]),
                                      r"aws_permissions\[0\].actions\[0\] = 'GetObject': write an action as "
                                      r"'service:Action'"),
    "a bucket name for an ARN": (dict(aws_permissions=[AwsPermission(actions=["s3:GetObject"],
                                                                     resources=["reports"])]),
                                 r"aws_permissions\[0\].resources\[0\] = 'reports': write a full ARN"),
    "no actions": (dict(aws_permissions=[AwsPermission(actions=[], resources=[QUEUE])]),
                   r"aws_permissions\[0\].actions = \[\]: list at least one action"),
    "an unknown condition operator": (dict(aws_permissions=[AwsPermission(
        actions=["sqs:ReceiveMessage"], resources=[QUEUE], conditions={"StringIs": {"aws:SourceVpc": "vpc-1"}})]),
        r"aws_permissions\[0\].conditions = 'StringIs': use an IAM condition operator"),
    "a config file that does not exist": (dict(config_files={"application.yaml": Path("config/nowhere.yaml")}),
                                          r"config_files\['application.yaml'\] = 'config/nowhere.yaml': no such file "
                                          r"\(relative paths are read from the current directory"),
    "a path where the content goes": (dict(config_files={"application.yaml": "config/application.yaml"}),
                                      r"config_files\['application.yaml'\] = 'config/application.yaml': looks like a "
                                      r"file's path; pass Path\('config/application.yaml'\)"),
    "a config file name with a slash": (dict(config_files={"conf/app.yaml": "a: 1\n"}),
                                        r"config_files = 'conf/app.yaml': name each file with letters"),
    "allow_from naming something that is not a workload": (dict(allow_from=[42]),
                                                           r"allow_from\[0\] = 42: not a workload: pass the "
                                                           r"Microservice or ScheduledJob object"),
    "allow_from naming a workload by something not a name": (dict(allow_from=["Edge Gateway"]),
                                                             r"allow_from\[0\] = 'Edge Gateway': name another workload "
                                                             r"of this namespace by its id"),
    "allow_from naming itself": (dict(allow_from=["catalog"]), r"allow_from\[0\] = 'catalog': name another workload"),
    "allow_from with isolation turned off": (dict(allow_from=[], network_policy=False), None),
    "a migration timeout without a unit": (dict(migration=Migration(command=["./migrate"], timeout="600")),
                                           r"migration.timeout = '600': use a duration such as '90s'"),
    "a migration without a command": (dict(migration=Migration(command=[])),
                                      r"migration.command = \[\]: give the command and its arguments"),
    "a migration as a dict": (dict(migration={"command": ["./migrate"]}),
                              r"migration = \{'command': \['./migrate'\]\}: expected Migration or None, got a dict"),
    "port as a string": (dict(port="8080"), r"port = '8080': expected int or None, got a string"),
}


@pytest.mark.parametrize("props, message", [v for v in BAD_INPUT.values() if v[1]],
                         ids=[k for k, v in BAD_INPUT.items() if v[1]])
def test_bad_input_is_one_line_naming_path_field_value_and_fix(props: dict, message: str) -> None:
    assert_config_error(lambda: in_services_stack(lambda s: Microservice(s, "catalog", image=IMAGE, **props)),
                        r"test/catalog: ", rf"^test/catalog: [^\n]*{message}[^\n]*$")


def test_allow_from_a_worker_or_with_isolation_off_is_refused() -> None:
    def build(stack, **props) -> None:
        edge = Microservice(stack, "edge", image=IMAGE)
        Microservice(stack, "catalog", image=IMAGE, allow_from=[edge], **props)

    assert_config_error(lambda: in_services_stack(lambda s: build(s, network_policy=False)), r"test/catalog: ",
                        r"^test/catalog: allow_from = \['edge'\]: admits workloads through the NetworkPolicy "
                        r"network_policy=False turns off")
    assert_config_error(lambda: in_services_stack(lambda s: build(s, port=None, probes=Probes(command=["/hc"]))),
                        r"test/catalog: ", r"^test/catalog: allow_from = \['edge'\]: a worker \(port=None\) serves no "
                        r"port to admit anyone to")


def test_a_file_that_is_not_text_is_one_line(tmp_path: Path) -> None:
    binary = tmp_path / "keystore.jks"
    binary.write_bytes(b"\xfe\xed\xfe\xed\x00\x00\x00\x02")
    assert_config_error(lambda: in_services_stack(lambda s: Microservice(s, "catalog", image=IMAGE,
                                                                config_files={"keystore.jks": binary})),
                        r"test/catalog: ", r"config_files\['keystore.jks'\] = '.*keystore.jks': not UTF-8 text")
