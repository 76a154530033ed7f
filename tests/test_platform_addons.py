"""The platform's add-ons as synthesized: metrics-server, cluster-autoscaler, the ingress controller,
cert-manager and its ClusterIssuer, external-dns, and the default StorageClass.

One test app holds all of them (synthesized and scanned once); each promise a
construct makes is asserted on its synthesized JSON, and each check is shown
failing on the defect it is for.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cdktf import App, TerraformStack
from syrupy.extensions.json import JSONSnapshotExtension
from test_platform_components import change_values, platform_problems

from constructs_lib import (
    CERT_MANAGER_CHART_VERSION,
    CLUSTER_AUTOSCALER_CHART_VERSION,
    CLUSTER_AUTOSCALER_IMAGES,
    EXTERNAL_DNS_CHART_VERSION,
    LETSENCRYPT_PRODUCTION,
    METRICS_SERVER_CHART_VERSION,
    NGINX_INGRESS_CHART_VERSION,
    CertManager,
    ClusterAutoscaler,
    ClusterIssuer,
    EbsStorageClass,
    EksNodeGroup,
    ExternalDns,
    Guardrails,
    IngressController,
    MetricsServer,
    Microservice,
    PrometheusStack,
    asg_name_pattern,
)
from constructs_lib._helm import PLATFORM_COMPONENTS, Key
from constructs_lib._quantities import memory_bytes
from helpers import assert_config_error, only, release, resources, synth, values
from policy import scan

STACK = "staging-addons"
ACCOUNT = "210987654321"
REGION = "eu-west-1"
CLUSTER = "shop-staging"
ZONE_ID = "Z0123456789ABCDEFGHIJ"
DOMAIN = "staging.acme-shop.example"
ISSUER_EMAIL = "platform@acme-shop.example"
OIDC: dict[str, Any] = {
    "oidc_provider_arn": f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.{REGION}.amazonaws.com/id/0123ABCD",
    "oidc_issuer_url": f"https://oidc.eks.{REGION}.amazonaws.com/id/0123ABCD"}
IMAGE = "registry.example.com/checkout:1.4.2"
CHARTS = ("metrics-server", "cluster-autoscaler", "nginx-ingress", "cert-manager", "external-dns")
ZONE = "topology.kubernetes.io/zone"
SCHEMAS = Path(__file__).parent / "chart_schemas"


def build(stack: TerraformStack) -> None:
    """Every add-on, as a platform stack would hold them (providers and guardrails included)."""
    from cdktf_cdktf_provider_aws.provider import AwsProvider
    from cdktf_cdktf_provider_helm.provider import HelmProvider
    from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider

    AwsProvider(stack, "aws", region=REGION)
    KubernetesProvider(stack, "kubernetes")
    HelmProvider(stack, "helm")
    Guardrails(environment="staging").attach(stack)
    EbsStorageClass(stack, "storage")
    MetricsServer(stack, "metrics-server")
    ClusterAutoscaler(stack, "cluster-autoscaler", cluster_name=CLUSTER, account_id=ACCOUNT, region=REGION,
                      kubernetes_version="1.33", preferred_node_groups=[asg_name_pattern("batch")], **OIDC)
    IngressController(stack, "ingress")
    cert_manager = CertManager(stack, "cert-manager", hosted_zone_id=ZONE_ID, **OIDC)
    # In the app the issuer is a stack after cert-manager's; in this one-stack app it waits for the release.
    ClusterIssuer(stack, "issuer", email=ISSUER_EMAIL, region=REGION, hosted_zone_id=ZONE_ID, dns_zone=DOMAIN,
                  depends_on=[cert_manager.release])
    ExternalDns(stack, "external-dns", domain=DOMAIN, hosted_zone_id=ZONE_ID, owner_id=CLUSTER, region=REGION,
                **OIDC)


@pytest.fixture(scope="module")
def addons(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The test app's synthesis directory and its one stack, synthesized like the real app."""
    outdir = tmp_path_factory.mktemp("addons") / "cdktf.out"
    app = App(outdir=str(outdir))
    build(TerraformStack(app, STACK))
    app.synth()
    return outdir, json.loads((outdir / "stacks" / STACK / "cdk.tf.json").read_text())


@pytest.fixture(scope="module")
def stack(addons: tuple[Path, dict]) -> dict:
    return addons[1]


def by_path(stack: dict, type_: str, path: str) -> dict:
    """The resource of ``type_`` synthesized for construct ``path`` (below the stack)."""
    (found,) = [r for r in resources(stack, type_).values() if r["//"]["metadata"]["path"] == f"{STACK}/{path}"]
    return found


def address(stack: dict, type_: str, path: str) -> str:
    (name,) = [n for n, r in resources(stack, type_).items() if r["//"]["metadata"]["path"] == f"{STACK}/{path}"]
    return f"{type_}.{name}"


def without_metadata(resource: dict) -> dict:
    return {k: v for k, v in resource.items() if k != "//"}


# --- what is installed, from where -----------------------------------------------------------------------------


@pytest.mark.parametrize("chart", CHARTS)
def test_rendered_values_snapshot(stack: dict, chart: str, snapshot) -> None:
    assert values(stack, chart) == snapshot.use_extension(JSONSnapshotExtension)


def test_storage_class_and_issuer_snapshot(stack: dict, snapshot) -> None:
    rendered = {type_: {r["//"]["metadata"]["path"]: without_metadata(r) for r in resources(stack, type_).values()}
                for type_ in ("kubernetes_storage_class_v1", "kubernetes_annotations", "kubernetes_manifest")}
    assert rendered == snapshot.use_extension(JSONSnapshotExtension)


PINS = {
    "metrics-server": (METRICS_SERVER_CHART_VERSION, "kube-system"),
    "cluster-autoscaler": (CLUSTER_AUTOSCALER_CHART_VERSION, "kube-system"),
    "nginx-ingress": (NGINX_INGRESS_CHART_VERSION, "${kubernetes_namespace_v1.%s.metadata[0].name}"),
    "cert-manager": (CERT_MANAGER_CHART_VERSION, "${kubernetes_namespace_v1.%s.metadata[0].name}"),
    "external-dns": (EXTERNAL_DNS_CHART_VERSION, "${kubernetes_namespace_v1.%s.metadata[0].name}"),
}


@pytest.mark.parametrize("chart", CHARTS)
def test_releases_are_pinned_atomic_and_read_through_their_declaration(stack: dict, chart: str) -> None:
    found, component = release(stack, chart), PLATFORM_COMPONENTS[chart]
    version, namespace = PINS[chart]
    assert (found["repository"], found["version"]) == (component.repository, component.read_from)
    assert found["version"] == version
    assert (found["atomic"], found["cleanup_on_fail"]) == (True, True)
    assert 600 <= found["timeout"] <= 900
    if "%s" in namespace:  # a namespace the construct creates: the release waits for it through the reference
        (name,) = [n for n, ns in resources(stack, "kubernetes_namespace_v1").items()
                   if f"${{kubernetes_namespace_v1.{n}." in found["namespace"]]
        namespace = namespace % name
    assert found["namespace"] == namespace


# --- replicas, leader election, budgets, zones, resources ------------------------------------------------------


def test_the_replica_rule_holds_and_has_something_to_check(stack: dict) -> None:
    assert platform_problems(stack) == []
    replicated = set()
    for found in resources(stack, "helm_release").values():
        component = PLATFORM_COMPONENTS[found["chart"]]
        rendered = values(stack, found["chart"])
        replicated |= {f"{component.chart}/{w.name}" for w in component.workloads if w.replicas.read(rendered) == 2}
    assert replicated == {"metrics-server/metrics-server", "cluster-autoscaler/cluster-autoscaler",
                          "nginx-ingress/controller", "cert-manager/controller", "cert-manager/webhook",
                          "cert-manager/cainjector"}


def set_path(path: str, value: object) -> Callable[[dict], object]:
    """A change that sets the dotted ``path`` of a values document to ``value``."""
    def change(doc: dict) -> None:
        *parents, leaf = path.split(".")
        node = doc
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return change


DEFECTS: dict[str, tuple[str, Callable[[dict], object], str]] = {
    "metrics-server without a budget": (
        "metrics-server", set_path("podDisruptionBudget.enabled", False),
        r"metrics-server: metrics-server runs 2 replicas \(replicas\) without a PodDisruptionBudget.*"
        r"set podDisruptionBudget.enabled: true"),
    "autoscaler leader election off": (
        "cluster-autoscaler", set_path("extraArgs.leader-elect", False),
        r"cluster-autoscaler runs 2 replicas \(replicaCount\) without leader election.*"
        r"set extraArgs.leader-elect: true"),
    "autoscaler budget removed": (
        "cluster-autoscaler", set_path("podDisruptionBudget", None),
        r"cluster-autoscaler runs 2 replicas .* set podDisruptionBudget: true"),
    "ingress status writers not elected": (
        "nginx-ingress", set_path("controller.reportIngressStatus.enableLeaderElection", False),
        r"nginx-ingress: controller runs 2 replicas \(controller.replicaCount\) without leader election.*"
        r"set controller.reportIngressStatus.enableLeaderElection: true"),
    "ingress without a budget": (
        "nginx-ingress", set_path("controller.podDisruptionBudget.enabled", False),
        r"controller runs 2 replicas .* set controller.podDisruptionBudget.enabled: true"),
    "cert-manager controller leader election off": (
        "cert-manager", set_path("config.leaderElectionConfig.enabled", False),
        r"cert-manager: controller runs 2 replicas .* set config.leaderElectionConfig.enabled: true"),
    "cainjector leader election off": (
        "cert-manager", set_path("cainjector.config.leaderElectionConfig.enabled", False),
        r"cainjector runs 2 replicas .* set cainjector.config.leaderElectionConfig.enabled: true"),
    "webhook without a budget": (
        "cert-manager", set_path("webhook.podDisruptionBudget.enabled", False),
        r"webhook runs 2 replicas .* set webhook.podDisruptionBudget.enabled: true"),
}


@pytest.mark.parametrize("chart, change, message", DEFECTS.values(), ids=DEFECTS.keys())
def test_the_replica_rule_fails_on_each_defect(stack: dict, chart: str, change: Callable[[dict], object],
                                               message: str) -> None:
    (problem,) = platform_problems(change_values(stack, chart, change))
    assert re.search(message, problem), problem


#: Where each replicated workload's spread constraints go, and the labels its pods carry (from each
#: chart's deployment template at the pinned version).
SPREAD = {
    ("metrics-server", "metrics-server"): (
        "topologySpreadConstraints",
        {"app.kubernetes.io/name": "metrics-server", "app.kubernetes.io/instance": "metrics-server"}),
    ("cluster-autoscaler", "cluster-autoscaler"): (
        "topologySpreadConstraints",
        {"app.kubernetes.io/name": "aws-cluster-autoscaler", "app.kubernetes.io/instance": "cluster-autoscaler"}),
    ("nginx-ingress", "controller"): (
        "controller.topologySpreadConstraints",
        {"app.kubernetes.io/name": "nginx-ingress", "app.kubernetes.io/instance": "nginx-ingress"}),
    ("cert-manager", "controller"): (
        "topologySpreadConstraints",
        {"app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/instance": "cert-manager"}),
    ("cert-manager", "webhook"): (
        "webhook.topologySpreadConstraints",
        {"app.kubernetes.io/name": "webhook", "app.kubernetes.io/instance": "cert-manager"}),
    ("cert-manager", "cainjector"): (
        "cainjector.topologySpreadConstraints",
        {"app.kubernetes.io/name": "cainjector", "app.kubernetes.io/instance": "cert-manager"}),
}


def spread_problems(chart: str, rendered: dict) -> list[str]:
    """Replicated workloads of ``chart`` that a zone's loss could take down entirely."""
    problems = []
    for workload in PLATFORM_COMPONENTS[chart].workloads:
        if (workload.replicas.read(rendered) or 1) <= 1:
            continue
        key, labels = SPREAD[(chart, workload.name)]
        constraints = Key(key, []).read(rendered) or []
        if not any(c.get("topologyKey") == ZONE and c.get("whenUnsatisfiable") == "DoNotSchedule"
                   and c.get("maxSkew") == 1 and c.get("labelSelector") == {"matchLabels": labels}
                   for c in constraints):
            problems.append(f"{chart}/{workload.name}: no zone spread of its pods ({key})")
    return problems


def test_replicated_workloads_spread_over_zones(stack: dict) -> None:
    assert [p for chart in CHARTS for p in spread_problems(chart, values(stack, chart))] == []
    assert {(c, w.name) for c in CHARTS for w in PLATFORM_COMPONENTS[c].workloads} == set(SPREAD)  # all covered


@pytest.mark.parametrize("chart, key", [("metrics-server", "topologySpreadConstraints"),
                                        ("nginx-ingress", "controller.topologySpreadConstraints"),
                                        ("cert-manager", "webhook.topologySpreadConstraints")])
def test_spread_check_fails_without_the_constraint(stack: dict, chart: str, key: str) -> None:
    rendered = values(stack, chart)
    set_path(key, [])(rendered)
    (problem,) = spread_problems(chart, rendered)
    assert f"no zone spread of its pods ({key})" in problem


def test_a_single_replica_has_no_spread_to_keep() -> None:
    out = synth(lambda s: MetricsServer(s, "metrics-server", replicas=1))
    rendered = json.loads(only(out, "helm_release")["values"][0])
    assert (rendered["replicas"], rendered["topologySpreadConstraints"]) == (1, [])


#: Every container's resources block, by chart.
RESOURCES = {
    "metrics-server": ["resources"],
    "cluster-autoscaler": ["resources"],
    "nginx-ingress": ["controller.resources"],
    "cert-manager": ["resources", "webhook.resources", "cainjector.resources", "startupapicheck.resources"],
    "external-dns": ["resources"],
}


def resource_problems(chart: str, rendered: dict) -> list[str]:
    problems = []
    for key in RESOURCES[chart]:
        block = Key(key, {}).read(rendered) or {}
        requests, limits = block.get("requests", {}), block.get("limits", {})
        if not {"cpu", "memory"} <= requests.keys():
            problems.append(f"{chart} {key}: requests {requests} lack cpu or memory")
        limit, request = memory_bytes(limits.get("memory", "")), memory_bytes(requests.get("memory", ""))
        if limit is None or (request is not None and limit < request):  # a missing request is reported above
            problems.append(f"{chart} {key}: memory limit {limits.get('memory')} below the request or missing")
    return problems


def test_every_container_has_requests_and_a_memory_limit(stack: dict) -> None:
    assert [p for chart in CHARTS for p in resource_problems(chart, values(stack, chart))] == []


def test_resource_check_fails_without_a_limit(stack: dict) -> None:
    rendered = values(stack, "cert-manager")
    del rendered["cainjector"]["resources"]["limits"]
    (problem,) = resource_problems("cert-manager", rendered)
    assert problem.startswith("cert-manager cainjector.resources: memory limit None")


# --- IAM: each add-on's own role, as tight as AWS allows -------------------------------------------------------


def policy_document(stack: dict, construct: str) -> dict:
    (found,) = [p for p in resources(stack, "aws_iam_policy").values()
                if p["//"]["metadata"]["path"].startswith(f"{STACK}/{construct}/")]
    return json.loads(found["policy"])


def test_the_autoscaler_policy_allows_only_what_it_needs(stack: dict) -> None:
    """Upstream's auto-discovery policy, with every action that can name a resource limited to this cluster."""
    assert policy_document(stack, "cluster-autoscaler") == {"Version": "2012-10-17", "Statement": [
        {"Sid": "DescribeScalingInputs", "Effect": "Allow",
         "Action": ["autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
                    "ec2:DescribeImages", "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplateVersions",
                    "ec2:GetInstanceTypesFromInstanceRequirements"],
         "Resource": "*"},
        {"Sid": "ReadOwnNodeGroups", "Effect": "Allow", "Action": "eks:DescribeNodegroup",
         "Resource": f"arn:aws:eks:{REGION}:{ACCOUNT}:nodegroup/{CLUSTER}/*/*"},
        {"Sid": "ScaleOwnNodeGroups", "Effect": "Allow",
         "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
         "Resource": f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/*",
         "Condition": {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{CLUSTER}": "owned",
                                        "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true"}}},
    ]}


def test_cert_manager_may_answer_challenges_in_one_zone_only(stack: dict) -> None:
    assert policy_document(stack, "cert-manager") == {"Version": "2012-10-17", "Statement": [
        {"Sid": "AnswerChallengesInZone", "Effect": "Allow", "Action": "route53:ChangeResourceRecordSets",
         "Resource": f"arn:aws:route53:::hostedzone/{ZONE_ID}",
         "Condition": {
             "ForAllValues:StringEquals": {"route53:ChangeResourceRecordSetsRecordTypes": ["TXT"],
                                           "route53:ChangeResourceRecordSetsActions": ["UPSERT", "DELETE"]},
             "ForAllValues:StringLike": {"route53:ChangeResourceRecordSetsNormalizedRecordNames":
                                         ["_acme-challenge.*"]}}},
        {"Sid": "WaitForChanges", "Effect": "Allow", "Action": "route53:GetChange",
         "Resource": "arn:aws:route53:::change/*"},
    ]}


def test_external_dns_may_change_its_domain_in_its_zone_only(stack: dict) -> None:
    zone = f"arn:aws:route53:::hostedzone/{ZONE_ID}"
    assert policy_document(stack, "external-dns") == {"Version": "2012-10-17", "Statement": [
        {"Sid": "ChangeDomainRecords", "Effect": "Allow", "Action": "route53:ChangeResourceRecordSets",
         "Resource": zone,
         "Condition": {
             "ForAllValues:StringEquals": {"route53:ChangeResourceRecordSetsRecordTypes":
                                           ["A", "AAAA", "CNAME", "TXT"]},
             "ForAllValues:StringLike": {"route53:ChangeResourceRecordSetsNormalizedRecordNames":
                                         [DOMAIN, f"*.{DOMAIN}"]}}},
        {"Sid": "ReadZoneRecords", "Effect": "Allow", "Action": "route53:ListResourceRecordSets", "Resource": zone},
        {"Sid": "FindZone", "Effect": "Allow", "Action": "route53:ListHostedZones", "Resource": "*"},
    ]}


@pytest.mark.parametrize("construct, chart, subject, annotation_key", [
    ("cluster-autoscaler", "cluster-autoscaler", "kube-system:cluster-autoscaler", "rbac.serviceAccount"),
    ("cert-manager", "cert-manager", "cert-manager:cert-manager", "serviceAccount"),
    ("external-dns", "external-dns", "external-dns:external-dns", "serviceAccount"),
])
def test_each_role_is_for_its_service_account_only(stack: dict, construct: str, chart: str, subject: str,
                                                   annotation_key: str) -> None:
    role = address(stack, "aws_iam_role", f"{construct}/role")
    (trust,) = [d for d in stack["data"]["aws_iam_policy_document"].values()
                if d["//"]["metadata"]["path"] == f"{STACK}/{construct}/role-trust"]
    conditions = {c["variable"].rsplit(":", 1)[1]: c["values"] for c in trust["statement"][0]["condition"]}
    assert conditions == {"sub": [f"system:serviceaccount:{subject}"], "aud": ["sts.amazonaws.com"]}
    account = Key(annotation_key, {}).read(values(stack, chart))
    assert account["name"] == subject.split(":")[1]
    assert account["annotations"] == {"eks.amazonaws.com/role-arn": f"${{{role}.arn}}"}
    (attachment,) = [a for a in resources(stack, "aws_iam_role_policy_attachment").values()
                     if a["//"]["metadata"]["path"].startswith(f"{STACK}/{construct}/")]
    (policy,) = [n for n, p in resources(stack, "aws_iam_policy").items()
                 if p["//"]["metadata"]["path"].startswith(f"{STACK}/{construct}/")]
    assert (attachment["role"], attachment["policy_arn"]) == (f"${{{role}.name}}", f"${{aws_iam_policy.{policy}.arn}}")


def test_metrics_server_and_the_ingress_controller_get_no_aws_permissions(stack: dict) -> None:
    owners = {p["//"]["metadata"]["path"].split("/")[1] for t in ("aws_iam_role", "aws_iam_policy")
              for p in resources(stack, t).values()}
    assert owners == {"cluster-autoscaler", "cert-manager", "external-dns"}


def test_policy_scan_passes_on_every_add_on(addons: tuple[Path, dict]) -> None:
    report = scan(addons[0])
    assert [f.render() for f in report.failed] == []
    assert [p.render() for p in report.problems] == []
    checked = {resource for (_, resource, check_id) in report.passed if check_id == "CKV_PLAT_2"}
    assert checked == {f"aws_iam_policy.{n}" for n in resources(addons[1], "aws_iam_policy")}


def test_policy_scan_catches_an_autoscaler_allowed_to_scale_any_group(addons: tuple[Path, dict],
                                                                     tmp_path: Path) -> None:
    copy_dir = tmp_path / "cdktf.out"
    shutil.copytree(addons[0], copy_dir)
    path = copy_dir / "stacks" / STACK / "cdk.tf.json"
    stack = json.loads(path.read_text())
    name = address(stack, "aws_iam_policy", "cluster-autoscaler/scale-node-groups").split(".", 1)[1]
    document = json.loads(stack["resource"]["aws_iam_policy"][name]["policy"])
    scale = document["Statement"][2]
    scale["Resource"] = "*"
    del scale["Condition"]
    stack["resource"]["aws_iam_policy"][name]["policy"] = json.dumps(document)
    path.write_text(json.dumps(stack))
    (finding,) = [f for f in scan(copy_dir).failed if f.resource == f"aws_iam_policy.{name}"]
    assert finding.check_id == "CKV_PLAT_2"
    assert "autoscaling:SetDesiredCapacity" in " ".join(finding.details)


# --- cluster-autoscaler ----------------------------------------------------------------------------------------


def test_the_autoscaler_discovers_exactly_the_groups_the_node_groups_tag(stack: dict) -> None:
    group = only(synth(lambda s: EksNodeGroup(s, "batch", cluster_name=CLUSTER, subnet_ids=["subnet-a", "subnet-b"],
                                               instance_types=["m7i.large", "m6i.large"])), "aws_eks_node_group")
    rendered = values(stack, "cluster-autoscaler")
    assert rendered["autoDiscovery"] == {"clusterName": CLUSTER, "tags": [f"{k}={v}" for k, v in group["tags"].items()]}
    # Bounds come from each group: none are given here (--nodes=min:max:name would override them).
    assert "autoscalingGroups" not in rendered
    assert (rendered["cloudProvider"], rendered["awsRegion"]) == ("aws", REGION)


def test_the_autoscaler_prefers_the_cheaper_groups_then_wastes_least(stack: dict) -> None:
    rendered = values(stack, "cluster-autoscaler")
    assert rendered["extraArgs"]["expander"] == "priority,least-waste"
    # The chart makes the cluster-autoscaler-priority-expander ConfigMap from these; the catch-all keeps
    # every other group scalable.
    assert rendered["expanderPriorities"] == {"50": [asg_name_pattern("batch")], "10": [".*"]}


def test_the_priority_pattern_matches_the_group_the_node_group_gets() -> None:
    group = only(synth(lambda s: EksNodeGroup(s, "batch", cluster_name=CLUSTER, subnet_ids=["subnet-a", "subnet-b"],
                                               instance_types=["m7i.large", "m6i.large"])), "aws_eks_node_group")
    assert group["node_group_name_prefix"] == "batch-"  # what asg_name_pattern assumes
    pattern = re.compile(asg_name_pattern("batch"))
    uuid = "52c6b2a4-8b6e-9c0e-0a6f-1c5e3f1d2e7a"
    assert pattern.match(f"eks-batch-2026080112000000000000000a-{uuid}")
    assert not pattern.match(f"eks-batch-large-2026080112000000000000000a-{uuid}")
    assert not pattern.match(f"eks-general-2026080112000000000000000a-{uuid}")


def test_the_autoscaler_scales_down_sensibly_and_elects_a_leader(stack: dict) -> None:
    args = values(stack, "cluster-autoscaler")["extraArgs"]
    assert {k: args[k] for k in ("leader-elect", "balance-similar-node-groups", "scale-down-unneeded-time",
                                 "scale-down-delay-after-add", "scale-down-utilization-threshold",
                                 "ignore-daemonsets-utilization", "skip-nodes-with-local-storage",
                                 "skip-nodes-with-system-pods")} == {
        "leader-elect": True, "balance-similar-node-groups": True, "scale-down-unneeded-time": "10m",
        "scale-down-delay-after-add": "10m", "scale-down-utilization-threshold": 0.5,
        "ignore-daemonsets-utilization": True, "skip-nodes-with-local-storage": False,
        "skip-nodes-with-system-pods": True}


@pytest.mark.parametrize("minor", sorted(CLUSTER_AUTOSCALER_IMAGES))
def test_the_autoscaler_image_matches_the_cluster_minor(minor: str) -> None:
    out = synth(lambda s: ClusterAutoscaler(s, "ca", cluster_name=CLUSTER, account_id=ACCOUNT, region=REGION,
                                            kubernetes_version=minor, **OIDC))
    tag = json.loads(only(out, "helm_release")["values"][0])["image"]["tag"]
    assert tag == CLUSTER_AUTOSCALER_IMAGES[minor]
    assert re.match(rf"^v{re.escape(minor)}\.\d+$", tag)


# --- ingress ---------------------------------------------------------------------------------------------------


def test_the_ingress_controller_serves_the_class_services_use(stack: dict) -> None:
    service = synth(lambda s: Microservice(s, "checkout", image=IMAGE, ingress_host=f"checkout.{DOMAIN}"))
    (ingress,) = resources(service, "kubernetes_ingress_v1").values()
    controller = values(stack, "nginx-ingress")["controller"]
    assert controller["ingressClass"] == {"name": ingress["spec"]["ingress_class_name"], "create": True,
                                          "setAsDefaultIngress": False}


def test_the_ingress_controller_exposes_its_class_and_release() -> None:
    """What a stack wires further: ``ingress_class`` for services and external-dns, ``release`` for depends_on."""
    built: list[IngressController] = []
    out = synth(lambda s: built.append(IngressController(s, "ingress", ingress_class="public")))
    (controller,) = built
    rendered = json.loads(only(out, "helm_release")["values"][0])
    assert controller.ingress_class == rendered["controller"]["ingressClass"]["name"] == "public"
    address_ = f"{controller.release.terraform_resource_type}.{controller.release.friendly_unique_id}"
    assert address_ == "helm_release." + next(iter(resources(out, "helm_release")))


def test_the_ingress_controller_is_behind_an_internet_facing_cross_zone_nlb(stack: dict) -> None:
    service = values(stack, "nginx-ingress")["controller"]["service"]
    assert service == {"create": True, "type": "LoadBalancer", "externalTrafficPolicy": "Local", "annotations": {
        "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
        "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": "true",
        "service.beta.kubernetes.io/aws-load-balancer-internal": "false"}}


def test_an_internal_nlb_in_named_subnets() -> None:
    out = synth(lambda s: IngressController(s, "ingress", internal=True,
                                            load_balancer_subnet_ids=["subnet-0a11c0ffee0000001",
                                                                      "subnet-0b22c0ffee0000002"]))
    annotations = json.loads(only(out, "helm_release")["values"][0])["controller"]["service"]["annotations"]
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-internal"] == "true"
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-subnets"] == (
        "subnet-0a11c0ffee0000001,subnet-0b22c0ffee0000002")


def test_the_ingress_controller_reports_the_address_and_runs_only_what_is_used(stack: dict) -> None:
    controller = values(stack, "nginx-ingress")["controller"]
    assert controller["reportIngressStatus"] == {"enable": True, "enableLeaderElection": True}
    assert (controller["enableCustomResources"], controller["enableSnippets"],
            controller["telemetryReporting"], controller["readOnlyRootFilesystem"]) == (
        False, False, {"enable": False}, True)
    assert release(stack, "nginx-ingress")["skip_crds"] is True


# --- certificates ----------------------------------------------------------------------------------------------


def issuer(stack: dict) -> dict:
    return by_path(stack, "kubernetes_manifest", "issuer/issuer")["manifest"]


def test_the_issuer_gets_lets_encrypt_certificates_through_route53(stack: dict) -> None:
    assert issuer(stack) == {
        "apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": {"name": "letsencrypt"},
        "spec": {"acme": {
            "server": LETSENCRYPT_PRODUCTION, "email": ISSUER_EMAIL,
            "privateKeySecretRef": {"name": "letsencrypt-account-key"},
            "solvers": [{"selector": {"dnsZones": [DOMAIN]},
                         "dns01": {"route53": {"region": REGION, "hostedZoneID": ZONE_ID}}}]}}}
    # Ambient credentials (cert-manager's IRSA role): no keys, no role to assume in the issuer.
    assert issuer(stack)["spec"]["acme"]["solvers"][0]["dns01"]["route53"].keys() == {"region", "hostedZoneID"}
    # The zone the issuer names is the one cert-manager may change.
    assert policy_document(stack, "cert-manager")["Statement"][0]["Resource"].endswith(
        f"/{issuer(stack)['spec']['acme']['solvers'][0]['dns01']['route53']['hostedZoneID']}")


def test_the_issuer_is_valid_for_its_crd(stack: dict, validate_custom_resources) -> None:
    broken = copy.deepcopy(issuer(stack))
    del broken["spec"]["acme"]["privateKeySecretRef"]
    mistyped = copy.deepcopy(issuer(stack))
    mistyped["spec"]["acme"]["solvers"][0]["dns01"]["route53"]["region"] = 1
    good, no_key, bad_region = validate_custom_resources([issuer(stack), broken, mistyped])
    assert good == []
    assert any("privateKeySecretRef" in e for e in no_key), no_key
    assert any("region" in e for e in bad_region), bad_region


def test_cert_manager_installs_its_crds_and_refers_to_no_issuer(stack: dict) -> None:
    """The CRDs come with the release; the issuer comes later (services stack), so no value names it."""
    rendered = values(stack, "cert-manager")
    assert rendered["crds"] == {"enabled": True, "keep": True}
    assert "ingressShim" not in rendered
    assert "letsencrypt" not in release(stack, "cert-manager")["values"][0]


def test_the_issuer_is_a_custom_resource_apart_from_the_release(stack: dict) -> None:
    """The issuer goes in a stack applied after the CRDs: it is its own construct, not part of CertManager's."""
    assert {r["//"]["metadata"]["path"] for r in resources(stack, "kubernetes_manifest").values()} == {
        f"{STACK}/issuer/issuer"}
    alone = synth(lambda s: CertManager(s, "cert-manager", hosted_zone_id=ZONE_ID, **OIDC))
    assert "kubernetes_manifest" not in alone["resource"]


# --- DNS -------------------------------------------------------------------------------------------------------


def test_external_dns_publishes_ingress_hosts_of_one_domain_zone_and_class(stack: dict) -> None:
    rendered = values(stack, "external-dns")
    assert {k: rendered[k] for k in ("provider", "sources", "policy", "registry", "txtOwnerId", "domainFilters",
                                     "extraArgs")} == {
        "provider": {"name": "aws"}, "sources": ["ingress"], "policy": "sync", "registry": "txt",
        "txtOwnerId": CLUSTER, "domainFilters": [DOMAIN],
        "extraArgs": {"zone-id-filter": ZONE_ID, "ingress-class": "nginx"}}


def terraform_renders(text: str, tmp_path: Path) -> Any:
    """What Terraform hands the Helm provider for a values string: its templates rendered (``%%{`` and
    ``$${`` unescaped), references to other resources replaced by placeholders; parsed as JSON.

    Raises ValueError with Terraform's error when it cannot read the string.
    """
    references: dict[str, str] = {}

    def placeholder(match: re.Match[str]) -> str:
        name = f"ref{len(references)}"
        references[name] = name.upper()
        return f"${{local.{name}}}"

    body = re.sub(r"\$\{[a-z][\w-]*\.[^}]*\}", placeholder, text)
    (tmp_path / "main.tf.json").write_text(json.dumps({"locals": {"values": body, **references}}))
    result = subprocess.run(["terraform", "console", "-no-color"], input="jsonencode(jsondecode(local.values))\n",
                            cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "TF_IN_AUTOMATION": "1"})
    if result.returncode != 0 or "Error:" in result.stderr:
        raise ValueError(result.stderr.strip())
    return json.loads(json.loads(result.stdout.strip()))


@pytest.mark.skipif(shutil.which("terraform") is None, reason="needs the terraform binary (no provider)")
def test_helm_gets_external_dns_record_type_placeholder(stack: dict, tmp_path: Path) -> None:
    (text,) = release(stack, "external-dns")["values"]
    rendered = terraform_renders(text, tmp_path)
    # external-dns's own placeholder, which a bare %{ would have made a Terraform template error.
    assert rendered["txtPrefix"] == "_extdns-%{record_type}."
    assert rendered["serviceAccount"]["annotations"] == {"eks.amazonaws.com/role-arn": "REF0"}
    assert rendered == {**values(stack, "external-dns"), "txtPrefix": "_extdns-%{record_type}.",
                        "serviceAccount": {**values(stack, "external-dns")["serviceAccount"],
                                           "annotations": {"eks.amazonaws.com/role-arn": "REF0"}}}


@pytest.mark.skipif(shutil.which("terraform") is None, reason="needs the terraform binary (no provider)")
def test_an_unescaped_template_sequence_is_what_terraform_refuses(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Invalid template control keyword"):
        terraform_renders(json.dumps({"txtPrefix": "_extdns-%{record_type}."}), tmp_path)


#: ``%{...}`` not preceded by the ``%`` that escapes it.
TEMPLATE_DIRECTIVE = re.compile(r"(?<!%)%\{[^}]*\}")


def test_no_release_value_holds_an_unescaped_terraform_directive(stack: dict) -> None:
    """Terraform reads ``%{...}`` in any string as a template directive; only ``%%{`` reaches Helm as ``%{``."""
    directives = {chart: TEMPLATE_DIRECTIVE.findall(release(stack, chart)["values"][0]) for chart in CHARTS}
    assert directives == {chart: [] for chart in CHARTS}
    assert TEMPLATE_DIRECTIVE.findall('{"txtPrefix": "_extdns-%{record_type}."}') == ["%{record_type}"]


def validate_chart_values(chart: str, version: str, rendered: dict) -> list[str]:
    schema = json.loads((SCHEMAS / f"{chart}-{version}.values.schema.json").read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(rendered)]


@pytest.mark.parametrize("chart, version", [("cert-manager", CERT_MANAGER_CHART_VERSION),
                                            ("external-dns", EXTERNAL_DNS_CHART_VERSION)])
def test_values_meet_the_chart_schema_helm_checks_at_install(stack: dict, chart: str, version: str) -> None:
    assert validate_chart_values(chart, version, values(stack, chart)) == []


@pytest.mark.parametrize("chart, version, change, message", [
    ("cert-manager", CERT_MANAGER_CHART_VERSION, set_path("replicaCont", 2), r"'replicaCont' was unexpected"),
    ("cert-manager", CERT_MANAGER_CHART_VERSION, set_path("crds.enable", True), r"crds: .*'enable' was unexpected"),
    ("external-dns", EXTERNAL_DNS_CHART_VERSION, set_path("policy", "upsert"), r"policy: 'upsert' is not one of"),
    ("external-dns", EXTERNAL_DNS_CHART_VERSION, set_path("sources", "ingress"), r"sources: .*not of type 'array'"),
], ids=["cert-manager key typo", "cert-manager nested typo", "external-dns policy", "external-dns sources"])
def test_the_schema_check_fails_on_what_helm_would_refuse(stack: dict, chart: str, version: str,
                                                          change: Callable[[dict], object], message: str) -> None:
    rendered = values(stack, chart)
    change(rendered)
    (problem,) = validate_chart_values(chart, version, rendered)
    assert re.search(message, problem), problem


# --- storage ---------------------------------------------------------------------------------------------------


def test_the_default_storage_class_is_encrypted_gp3_on_ebs_csi(stack: dict) -> None:
    sc = without_metadata(by_path(stack, "kubernetes_storage_class_v1", "storage/class"))
    assert sc == {
        "metadata": {"name": "gp3", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "storage_provisioner": "ebs.csi.aws.com",
        "parameters": {"type": "gp3", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"},
        "volume_binding_mode": "WaitForFirstConsumer", "allow_volume_expansion": True, "reclaim_policy": "Delete"}


def default_classes(stack: dict, eks_defaults: dict[str, str]) -> set[str]:
    """The classes marked default after an apply, starting from what EKS set (``eks_defaults``)."""
    marks = dict(eks_defaults)
    for sc in resources(stack, "kubernetes_storage_class_v1").values():
        marks[sc["metadata"]["name"]] = sc["metadata"].get("annotations", {}).get(
            "storageclass.kubernetes.io/is-default-class", "false")
    for a in resources(stack, "kubernetes_annotations").values():
        if a["kind"] == "StorageClass" and "storageclass.kubernetes.io/is-default-class" in a["annotations"]:
            marks[a["metadata"]["name"]] = a["annotations"]["storageclass.kubernetes.io/is-default-class"]
    return {name for name, mark in marks.items() if mark == "true"}


@pytest.mark.parametrize("eks_defaults", [{"gp2": "true"}, {"gp2": "false"}],
                         ids=["cluster created before 1.30", "cluster created at 1.30 or later"])
def test_exactly_one_default_class_on_old_and_new_clusters(stack: dict, eks_defaults: dict) -> None:
    assert default_classes(stack, eks_defaults) == {"gp3"}
    (demote,) = resources(stack, "kubernetes_annotations").values()
    assert (demote["api_version"], demote["force"]) == ("storage.k8s.io/v1", True)


def test_without_the_gp2_demotion_an_old_cluster_has_two_defaults(stack: dict) -> None:
    stripped = copy.deepcopy(stack)
    del stripped["resource"]["kubernetes_annotations"]
    assert default_classes(stripped, {"gp2": "true"}) == {"gp2", "gp3"}


def test_a_class_that_is_not_the_default_leaves_gp2_alone() -> None:
    out = synth(lambda s: EbsStorageClass(s, "fast", name="gp3-retain", default=False, reclaim_policy="Retain",
                                          kms_key_arn=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0123"))
    sc = only(out, "kubernetes_storage_class_v1")
    assert sc["metadata"]["annotations"] == {"storageclass.kubernetes.io/is-default-class": "false"}
    assert (sc["reclaim_policy"], sc["parameters"]["kmsKeyId"]) == (
        "Retain", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0123")
    assert "kubernetes_annotations" not in out["resource"]


def test_prometheus_uses_the_class_by_reference() -> None:
    def build_it(s: TerraformStack) -> None:
        sc = EbsStorageClass(s, "storage")
        PrometheusStack(s, "monitoring", storage_class=sc.name)

    out = synth(build_it)
    (name,) = resources(out, "kubernetes_storage_class_v1")
    reference = f"${{kubernetes_storage_class_v1.{name}.metadata[0].name}}"
    rendered = json.loads(release(out, "kube-prometheus-stack")["values"][0])
    claims = [rendered["prometheus"]["prometheusSpec"]["storageSpec"],
              rendered["alertmanager"]["alertmanagerSpec"]["storage"]]
    assert [c["volumeClaimTemplate"]["spec"]["storageClassName"] for c in claims] == [reference, reference]


# --- bad input -------------------------------------------------------------------------------------------------

AUTOSCALER = {"cluster_name": CLUSTER, "account_id": ACCOUNT, "region": REGION, "kubernetes_version": "1.33", **OIDC}
CERTS = {"hosted_zone_id": ZONE_ID, **OIDC}
ISSUER = {"email": ISSUER_EMAIL, "region": REGION, "hosted_zone_id": ZONE_ID, "dns_zone": DOMAIN}
DNS = {"domain": DOMAIN, "hosted_zone_id": ZONE_ID, "owner_id": CLUSTER, "region": REGION, **OIDC}

BAD_INPUT: dict[str, tuple[type, dict, str]] = {
    "metrics-server replicas": (MetricsServer, {"replicas": 0}, r"replicas = 0: use 1 or more"),
    "metrics-server chart range": (MetricsServer, {"chart_version": "3.x"}, r"chart_version = '3.x': pin an exact"),
    "metrics-server replicas as text": (MetricsServer, {"replicas": "2"},
                                        r"replicas = '2': expected int.*without quotes"),
    "autoscaler unknown minor": (ClusterAutoscaler, {**AUTOSCALER, "kubernetes_version": "1.29"},
                                 r"kubernetes_version = '1.29': use one of 1.32, 1.33, 1.34, 1.35"),
    "autoscaler image of another minor": (ClusterAutoscaler, {**AUTOSCALER, "image_tag": "v1.35.2"},
                                          r"image_tag = 'v1.35.2': use a v1.33.x release"),
    "autoscaler bad pattern": (ClusterAutoscaler, {**AUTOSCALER, "preferred_node_groups": ["eks-(spot"]},
                               r"preferred_node_groups\[0\] = 'eks-\(spot': use a regular expression"),
    "autoscaler pattern as a string": (ClusterAutoscaler, {**AUTOSCALER, "preferred_node_groups": "^eks-spot-"},
                                       r"preferred_node_groups = '\^eks-spot-': expected a list of str"),
    "autoscaler threshold as percent": (ClusterAutoscaler, {**AUTOSCALER, "scale_down_utilization_threshold": 50.0},
                                        r"scale_down_utilization_threshold = 50.0: use a fraction"),
    "autoscaler duration": (ClusterAutoscaler, {**AUTOSCALER, "scale_down_unneeded_time": "10 minutes"},
                            r"scale_down_unneeded_time = '10 minutes': use a duration"),
    "autoscaler account": (ClusterAutoscaler, {**AUTOSCALER, "account_id": "2109"}, r"account_id = '2109'"),
    "autoscaler cluster name": (ClusterAutoscaler, {**AUTOSCALER, "cluster_name": "shop staging"},
                                r"cluster_name = 'shop staging'"),
    "autoscaler missing cluster": (ClusterAutoscaler, {k: v for k, v in AUTOSCALER.items() if k != "cluster_name"},
                                   r"cluster_name = None: is required"),
    "ingress class": (IngressController, {"ingress_class": "Nginx"}, r"ingress_class = 'Nginx': use a DNS label"),
    "ingress subnet": (IngressController, {"load_balancer_subnet_ids": ["public-a"]},
                       r"load_balancer_subnet_ids\[0\] = 'public-a': use a subnet id"),
    "ingress internal as text": (IngressController, {"internal": "yes"}, r"internal = 'yes': expected bool"),
    "cert-manager zone with prefix": (CertManager, {**CERTS, "hosted_zone_id": "/hostedzone/Z0123"},
                                      r"hosted_zone_id = '/hostedzone/Z0123': use the hosted zone's id"),
    "cert-manager unknown keyword": (CertManager, {**CERTS, "hosted_zone": ZONE_ID},
                                     r"hosted_zone = .*did you mean 'hosted_zone_id'"),
    "issuer email": (ClusterIssuer, {**ISSUER, "email": "platform-team"}, r"email = 'platform-team'"),
    "issuer zone with trailing dot": (ClusterIssuer, {**ISSUER, "dns_zone": f"{DOMAIN}."},
                                      r"dns_zone = 'staging.acme-shop.example.': use a lowercase DNS name"),
    "issuer http server": (ClusterIssuer, {**ISSUER, "server": "http://acme.example/directory"},
                           r"server = 'http://acme.example/directory': use an ACME directory URL over https"),
    "dns domain with scheme": (ExternalDns, {**DNS, "domain": f"https://{DOMAIN}"},
                               r"domain = 'https://staging.acme-shop.example'"),
    "dns owner": (ExternalDns, {**DNS, "owner_id": "shop staging"}, r"owner_id = 'shop staging': use the cluster"),
    "dns region": (ExternalDns, {**DNS, "region": "Ireland"}, r"region = 'Ireland': use a region code"),
    "storage named gp2": (EbsStorageClass, {"name": "gp2"}, r"name = 'gp2': gp2 is the class EKS creates"),
    "storage reclaim": (EbsStorageClass, {"reclaim_policy": "Recycle"}, r"reclaim_policy = 'Recycle'"),
    "storage key": (EbsStorageClass, {"kms_key_arn": "alias/ebs"}, r"kms_key_arn = 'alias/ebs': use a KMS key ARN"),
}


@pytest.mark.parametrize("construct, props, message", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_is_one_clear_line(construct: type, props: dict, message: str) -> None:
    assert_config_error(lambda: synth(lambda s: construct(s, "addon", **props)), r"test/addon: ", message)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(Exception) as caught:
        synth(lambda s: ExternalDns(s, "dns", **{**DNS, "region": "Ireland", "owner_id": "a b"}))
    text = str(caught.value)
    assert text.startswith("test/dns: 2 problems") and "owner_id" in text and "region" in text
    assert "Traceback" not in text
