"""A platform that works on its first apply: what services use is installed, and the apply order is proven.

On the synthesized app: every Ingress has an issuer and a class that exist, every HPA has metrics-server,
the autoscaler's IAM is what it needs, developers see their namespace only. Then the two checks that make
these promises hold for any change: the capability contract (``stacks.check``) and the apply-order proof
(``policy.apply_order``), each shown failing on the defect it is for, put back on purpose.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from cdktf import App

import stacks.addons as addons_module
import stacks.cluster as cluster_module
from constructs_lib import ConfigError, EksCluster, Microservice, PrometheusStack, external_secret
from constructs_lib.cluster_autoscaler import autoscaler_statements
from environments import ENVIRONMENTS, PRODUCTION, STAGING
from helpers import resources
from policy import apply_order
from stacks import build_environment, check

IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/demo:1.0.0"


def releases(stack: dict) -> dict[str, dict]:
    return {r["chart"]: r for r in resources(stack, "helm_release").values()}


def values(release: dict) -> dict:
    (text,) = release["values"]
    return json.loads(text)


# -- the app as synthesized ----------------------------------------------------------------------------------

@pytest.mark.parametrize("env", list(ENVIRONMENTS))
def test_every_ingress_has_a_class_and_an_issuer_that_exist_before_it(stacks: dict, env: str) -> None:
    ingresses = list(resources(stacks[f"{env}-services"], "kubernetes_ingress_v1").values())
    assert ingresses, "no Ingress to check"
    classes = {values(r)["controller"]["ingressClass"]["name"] for r in releases(stacks[f"{env}-addons"]).values()
               if r["chart"] == "nginx-ingress"}
    issuers = {m["manifest"]["metadata"]["name"]: m["manifest"]
               for m in resources(stacks[f"{env}-platform"], "kubernetes_manifest").values()
               if m["manifest"]["kind"] == "ClusterIssuer"}
    domain, dns = ENVIRONMENTS[env].domain, ENVIRONMENTS[env].dns
    assert dns is not None, "ingresses without a DNS zone"
    for ingress in ingresses:
        assert ingress["spec"]["ingress_class_name"] in classes
        issuer = issuers[ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"]]
        (solver,) = issuer["spec"]["acme"]["solvers"]
        assert solver["selector"]["dnsZones"] == [domain]
        assert solver["dns01"]["route53"]["hostedZoneID"] == dns.hosted_zone_id
        for tls in ingress["spec"]["tls"]:
            assert all(host == domain or host.endswith("." + domain) for host in tls["hosts"])


@pytest.mark.parametrize("env", list(ENVIRONMENTS))
def test_every_autoscaler_has_metrics_server(stacks: dict, env: str) -> None:
    hpas = resources(stacks[f"{env}-services"], "kubernetes_horizontal_pod_autoscaler_v2")
    assert hpas
    assert values(releases(stacks[f"{env}-addons"])["metrics-server"])["replicas"] == 2


@pytest.mark.parametrize("env", list(ENVIRONMENTS))
def test_the_cluster_autoscaler_may_do_only_what_it_needs(stacks: dict, env: str) -> None:
    environment = ENVIRONMENTS[env]
    addons = stacks[f"{env}-addons"]
    expected = autoscaler_statements(cluster_name=environment.cluster.name, account_id=environment.account_id,
                                     region=environment.region)
    policies = [json.loads(p["policy"]) for p in resources(addons, "aws_iam_policy").values()
                if "autoscaler" in p.get("name_prefix", "") + p.get("description", "")]
    assert [p["Statement"] for p in policies] == [expected]
    autoscaler = values(releases(addons)["cluster-autoscaler"])
    assert autoscaler["autoDiscovery"]["clusterName"] == environment.cluster.name
    # It never sets a group's size: the node group's max_size (the ASG's) is the ceiling.
    assert "autoscalingGroups" not in autoscaler


@pytest.mark.parametrize(("env", "debug"), [("staging", True), ("production", False)])
def test_developers_see_their_namespace_and_nothing_else(stacks: dict, env: str, debug: bool) -> None:
    cluster, services = stacks[f"{env}-cluster"], stacks[f"{env}-services"]
    (role_arn,) = ENVIRONMENTS[env].cluster.developer_role_arns
    (entry,) = [e for e in resources(cluster, "aws_eks_access_entry").values() if e["principal_arn"] == role_arn]
    assert entry["kubernetes_groups"] == ["platform:developers"]
    (association,) = [a for a in resources(cluster, "aws_eks_access_policy_association").values()
                      if "developer" in a["//"]["metadata"]["path"]]
    assert association["policy_arn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
    assert association["access_scope"] == {"type": "namespace", "namespaces": ["shop"]}
    roles = list(resources(services, "kubernetes_role_v1").values())
    if not debug:
        assert roles == [] and not resources(services, "kubernetes_role_binding_v1")
        return
    (role,) = roles
    assert role["rule"] == [{"api_groups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
                            {"api_groups": [""], "resources": ["pods/portforward"], "verbs": ["create"]}]
    (binding,) = resources(services, "kubernetes_role_binding_v1").values()
    assert binding["subject"] == [{"kind": "Group", "name": "platform:developers",
                                   "api_group": "rbac.authorization.k8s.io"}]


def test_the_apply_order_holds_on_the_app(synth_dir: Path) -> None:
    report = apply_order.check(synth_dir)
    assert [p.render() for p in report.problems] == []
    assert report.references > 100  # not vacuous: every namespace, Secret, class, issuer and CRD reference
    assert sorted(report.stacks) == sorted(f"{env}-{layer}" for env in ENVIRONMENTS
                                           for layer in ("addons", "platform", "services"))


# -- the apply-order proof, failing on today's two first-apply defects put back ------------------------------

def synthesized(tmp: Path, env, change=None) -> Path:
    app = App(outdir=str(tmp), skip_validation=True)
    built = build_environment(app, env)
    if change:
        change(built)
    app.synth()
    return tmp


def test_a_storage_class_nothing_creates_is_caught_inside_helm_values(tmp_path: Path, monkeypatch) -> None:
    """Before: Prometheus' volumes asked for gp3, which EKS does not create and nothing else did."""
    monkeypatch.setattr(addons_module, "EbsStorageClass", lambda scope, id, name, **_: SimpleNamespace(name=name))
    report = apply_order.check(synthesized(tmp_path, STAGING))
    assert [p.render() for p in report.problems] == [
        "staging-platform: staging-platform/monitoring/release needs StorageClass gp3, which no earlier stack makes "
        "(EKS creates only gp2)"]


def test_a_mounted_secret_made_in_a_later_stack_is_caught_inside_helm_values(tmp_path: Path, monkeypatch) -> None:
    """Before: Alertmanager mounted the receivers' Secret, which the services stack (applied later) made."""
    original = PrometheusStack.__init__

    def without_its_secret(self, *args, **kwargs) -> None:
        original(self, *args, **{**kwargs, "receivers_source": None})

    monkeypatch.setattr(PrometheusStack, "__init__", without_its_secret)

    def made_by_the_services_stack(built) -> None:
        external_secret(built.services, "alertmanager-receivers", name="alertmanager-receivers",
                        namespace="monitoring", store="platform-secrets",
                        data={"slack_webhook_url": "staging/platform/alertmanager#slack_webhook_url"})

    report = apply_order.check(synthesized(tmp_path, STAGING, made_by_the_services_stack))
    assert [p.render() for p in report.problems] == [
        "staging-platform: staging-platform/monitoring/release needs Secret monitoring/alertmanager-receivers, "
        "which no earlier stack makes"]


def test_a_secret_made_in_the_same_stack_must_be_made_first(tmp_path: Path) -> None:
    def unordered(built) -> None:
        secret = external_secret(built.services, "late", name="late-secret",
                                 namespace=built.services.guardrails.namespace, data={"TOKEN": "staging/late#token"})
        service = Microservice(built.services, "early", image=IMAGE)
        container = service.deployment.spec.template.spec.container
        service.deployment.add_override("spec.template.spec.container.0.env", [
            {"name": "TOKEN", "value_from": {"secret_key_ref": {"name": "late-secret", "key": "TOKEN"}}}])
        assert container is not None and secret is not None

    report = apply_order.check(synthesized(tmp_path, STAGING, unordered))
    (problem,) = report.problems
    assert problem.render().startswith("staging-services: staging-services/early/deployment needs Secret "
                                       "shop/late-secret, which kubernetes_manifest.late")
    assert problem.render().endswith("in the same stack makes, but nothing orders it first: add depends_on, "
                                     "or refer to its attributes")


def test_a_custom_resource_before_its_crd_is_caught(tmp_path: Path) -> None:
    from cdktf_cdktf_provider_kubernetes.manifest import Manifest

    def too_early(built) -> None:
        Manifest(built.cluster, "issuer", manifest={"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
                                                   "metadata": {"name": "early"}, "spec": {"selfSigned": {}}})

    report = apply_order.check(synthesized(tmp_path, PRODUCTION, too_early))
    assert [p.render() for p in report.problems] == [
        "production-cluster: production-cluster/issuer needs CustomResourceDefinition cert-manager.io/ClusterIssuer, "
        "which no earlier stack makes (install its operator in an earlier stack)"]


# -- the capability contract, failing when a capability is taken out of the platform -------------------------

def problems_of(env, change=None, *, monkeypatch=None) -> str:
    app = App(skip_validation=True)
    built = build_environment(app, env)
    if change:
        change(built)
    with pytest.raises(ConfigError) as error:
        check(app)
    return str(error.value)


def test_no_metrics_server_fails_every_autoscaled_service(monkeypatch) -> None:
    monkeypatch.setattr(addons_module, "MetricsServer", lambda scope, id, **_: None)
    text = problems_of(STAGING)
    assert text.startswith("2 problems\n")
    for service in ("edge-gateway", "checkout"):
        assert (f"  - staging-services/{service}: autoscaling = Autoscaling(") in text
    assert "needs the resource metrics API (metrics-server); staging has none: install MetricsServer" in text


def test_a_cluster_that_does_not_enforce_network_policies_fails_every_isolated_workload(monkeypatch) -> None:
    """The services stack isolates every workload; on a CNI that ignores NetworkPolicies that would be a lie."""
    monkeypatch.setattr(cluster_module, "EksCluster",
                        lambda *args, **kwargs: EksCluster(*args, **{**kwargs, "network_policy": False}))
    text = problems_of(STAGING)
    assert text.startswith("3 problems\n")
    for workload in ("checkout", "edge-gateway", "report-worker"):
        assert (f"  - staging-services/{workload}: network_policy = True: needs a CNI that enforces NetworkPolicy (the "
                "VPC CNI's network policy agent), or its policy is silently ignored; staging has none: enable it on "
                "the environment's cluster (EksCluster(network_policy=True), the default)") in text


def test_the_services_namespace_denies_ingress_and_each_workload_admits_what_it_needs(stacks: dict) -> None:
    services = stacks["staging-services"]
    policies = {p["metadata"]["name"]: p["spec"] for p in resources(services, "kubernetes_network_policy_v1").values()}
    assert policies.pop("default-deny-ingress") == {"pod_selector": {}, "policy_types": ["Ingress"]}
    sources = {name: [(peer.get("namespace_selector", {}).get("match_labels", {}).get("kubernetes.io/metadata.name"),
                       peer["pod_selector"]["match_labels"]["app.kubernetes.io/name"], [p["port"] for p in r["ports"]])
                      for r in spec.get("ingress", []) for peer in r["from"]] for name, spec in policies.items()}
    assert sources == {
        "edge-gateway": [("nginx-ingress", "nginx-ingress", ["8080"]), ("monitoring", "prometheus", ["9090"])],
        "checkout": [("monitoring", "prometheus", ["8081"]), (None, "edge-gateway", ["8080"])],
        "report-worker": [],  # a job serves nothing
    }


def test_no_dns_zone_means_no_public_service() -> None:
    text = problems_of(dataclasses.replace(STAGING, dns=None))
    assert text.startswith("staging-services/edge-gateway: 3 problems\n")
    host = "ingress_host = 'shop.staging.acme-shop.example'"
    assert f"  - {host}: needs an ingress controller for class 'nginx' in namespace 'nginx-ingress' (its " \
           "NetworkPolicy admits the controller's pods from there); staging has none" in text
    assert f"  - {host}: needs the cert-manager ClusterIssuer 'letsencrypt' for its certificate; staging has none" \
        in text
    assert f"  - {host}: needs external-dns for a zone that holds the host; staging has none" in text


def test_a_host_outside_the_environment_zone_has_no_dns_or_certificate() -> None:
    text = problems_of(STAGING, lambda s: Microservice(s.services, "elsewhere", image=IMAGE,
                                                       ingress_host="elsewhere.example.org"))
    assert text.startswith("staging-services/elsewhere: 2 problems\n")
    assert "  - ingress_host = 'elsewhere.example.org': needs the cert-manager ClusterIssuer 'letsencrypt' for its " \
           "certificate; staging has letsencrypt (staging-platform/cluster-issuer)" in text
    assert "needs external-dns for a zone that holds the host; staging has staging.acme-shop.example " \
           "(staging-addons/external-dns)" in text


def test_a_secret_in_a_namespace_no_store_serves() -> None:
    text = problems_of(STAGING, lambda s: Microservice(s.services, "stray", image=IMAGE, namespace="stray",
                                                       secrets={"TOKEN": "staging/stray#token"}))
    assert text.startswith("staging-services/stray: secrets = {'TOKEN': '(sensitive)'}: needs the ClusterSecretStore "
                           "'aws-secrets-manager', serving namespace 'stray'; staging has aws-secrets-manager "
                           "(staging-platform/secret-store-aws-secrets-manager)")


def test_a_node_group_of_another_environment() -> None:
    other = build_environment(App(skip_validation=True), PRODUCTION)
    text = problems_of(STAGING, lambda s: Microservice(s.services, "misplaced", image=IMAGE,
                                                       node_group=other.cluster.node_groups["batch"]))
    assert text.startswith("staging-services/misplaced: node_group = 'production-cluster/eks/batch': needs that "
                           "node group in this environment's cluster; staging has staging-cluster/eks/general")
