"""The ingress controller: F5 NGINX Ingress Controller behind an AWS Network Load Balancer.

Why this controller: the community ingress-nginx is retired (no releases or
security fixes since March 2026); F5's NGINX Ingress Controller is maintained,
serves standard Ingress resources, and needs nothing from AWS beyond the load
balancer the cluster's cloud provider already creates for a LoadBalancer Service.
Why an NLB without the AWS Load Balancer Controller: the EKS cloud provider's
service controller makes it from four annotations, with no extra controller and
no IAM role of ours; TLS ends at NGINX, with the certificates cert-manager issues.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_helm.release import Release
from cdktf_cdktf_provider_kubernetes.namespace_v1 import NamespaceV1, NamespaceV1Metadata
from constructs import Construct

from ._addons import BUDGET, compute, zone_spread
from ._helm import (
    CHART_VERSION,
    CHART_VERSION_FIX,
    HelmComponent,
    Key,
    LeaderElection,
    ObjectRef,
    Workload,
    declare,
    helm_values,
)
from .capabilities import Capability, Offer
from .contracts import INGRESS_CLASS, INGRESS_NAMESPACE, INGRESS_POD_LABELS
from .validation import DNS_LABEL, SUBNET_ID, Checks, checked_props

__all__ = ["INGRESS_CONTROLLER", "NGINX_INGRESS_CHART_VERSION", "IngressController"]

#: nginx-ingress chart (oci://ghcr.io/nginx/charts), serving NGINX Ingress Controller 5.5.4.
NGINX_INGRESS_CHART_VERSION = "2.6.4"
_RELEASE = "nginx-ingress"
#: The Service the chart makes (``<fullname>-<controller.name>``); its NLB address is what Ingresses report.
SERVICE_NAME = "nginx-ingress-controller"

#: What the chart runs (read from its templates, tag v5.5.4). Every replica serves traffic (NGINX is a
#: proxy: each renders the same configuration from the API); the only thing a replica writes is the
#: Ingress status (the load balancer's address), and only the elected leader writes it
#: (``-enable-leader-election``, on by default, with a Lease the chart creates).
INGRESS_CONTROLLER = declare(HelmComponent(
    chart="nginx-ingress", repository="oci://ghcr.io/nginx/charts", read_from="2.6.4",
    workloads=(
        Workload(name="controller", replicas=Key("controller.replicaCount", 1),
                 coordination=LeaderElection(Key("controller.reportIngressStatus.enableLeaderElection", True)),
                 pdb=Key("controller.podDisruptionBudget.enabled", False)),
    ),
    creates=lambda values, namespace: [ObjectRef("IngressClass", Key("controller.ingressClass.name", "nginx").read(
        values))] if Key("controller.ingressClass.create", True).is_on(values) else [],
))

#: The Service annotations the EKS cloud provider reads (kubernetes/cloud-provider-aws, v1.33): an NLB,
#: with instance targets (the only kind it makes: IP targets are the AWS Load Balancer Controller's).
NLB = "service.beta.kubernetes.io/aws-load-balancer-type"
CROSS_ZONE = "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled"
INTERNAL = "service.beta.kubernetes.io/aws-load-balancer-internal"
SUBNETS = "service.beta.kubernetes.io/aws-load-balancer-subnets"


@checked_props
class IngressController(Construct):
    """NGINX Ingress Controller for IngressClass ``ingress_class``, reached through an NLB.

    - Creates the IngressClass (``nginx`` by default, what ``Microservice`` uses) with the
      release, and serves only Ingresses of that class (not the default class: an Ingress
      without a class is not exposed by accident).
    - The LoadBalancer Service gets an internet-facing NLB (``internal=True`` for a private
      one), cross-zone, instance targets with ``externalTrafficPolicy: Local``: the client's
      address reaches NGINX, and the NLB health-checks only nodes that run a controller pod.
      Subnets: ``load_balancer_subnet_ids``, or those the cloud provider discovers by their
      ``kubernetes.io/role/elb`` (public) or ``kubernetes.io/role/internal-elb`` tag.
    - Each Ingress's status gets the NLB's hostname (what external-dns publishes); one leader
      writes it (``INGRESS_CONTROLLER``). Two replicas by default, spread over zones, with a
      PodDisruptionBudget.
    - VirtualServer and the other NGINX custom resources are off (only Ingress is used, so their
      CRDs are not installed either), snippets are off, telemetry to F5 is off, the root
      filesystem is read-only.

    :param replicas: default 2.
    :param ingress_class: the IngressClass to create and serve; default ``nginx``.
    :param internal: an internal NLB instead of an internet-facing one; default False.
    :param load_balancer_subnet_ids: the NLB's subnets, one per zone; default: discovered by tag.
    :param namespace: created here; default ``nginx-ingress``.
    :param chart_version: the nginx-ingress chart, pinned; default ``NGINX_INGRESS_CHART_VERSION``.
    :param depends_on: what the release waits for; default nothing.
    """

    def __init__(self, scope: Construct, id: str, *, replicas: int = 2, ingress_class: str = INGRESS_CLASS,
                 internal: bool = False, load_balancer_subnet_ids: Sequence[str] = (),
                 namespace: str = INGRESS_NAMESPACE, chart_version: str = NGINX_INGRESS_CHART_VERSION,
                 depends_on: Sequence[ITerraformDependable] = ()) -> None:
        super().__init__(scope, id)
        c = Checks(self.node.path)
        c.require(replicas >= 1, "replicas", replicas, "use 1 or more (2 keeps ingress up through a zone's loss)")
        c.require(bool(DNS_LABEL.match(ingress_class)), "ingress_class", ingress_class, "use a DNS label")
        for i, subnet in enumerate(load_balancer_subnet_ids):
            if c.known(subnet):
                c.require(bool(SUBNET_ID.match(subnet)), f"load_balancer_subnet_ids[{i}]", subnet,
                          "use a subnet id such as 'subnet-0a1b2c3d4e5f60718'")
        c.require(len(set(load_balancer_subnet_ids)) == len(load_balancer_subnet_ids), "load_balancer_subnet_ids",
                  list(load_balancer_subnet_ids), "list each subnet once")
        c.require(bool(DNS_LABEL.match(namespace)), "namespace", namespace, "use a DNS label")
        c.require(bool(CHART_VERSION.match(chart_version)), "chart_version", chart_version, CHART_VERSION_FIX)
        c.done()
        self.ingress_class = ingress_class
        self.namespace = namespace
        self.service_name = SERVICE_NAME
        self.values = self._values(replicas, internal, load_balancer_subnet_ids)
        ns = NamespaceV1(self, "namespace", metadata=NamespaceV1Metadata(name=namespace))
        self.release = Release(
            self, "release", name=_RELEASE, namespace=ns.metadata.name,
            repository=INGRESS_CONTROLLER.repository, chart=INGRESS_CONTROLLER.chart, version=chart_version,
            atomic=True, cleanup_on_fail=True, timeout=900, max_history=5,
            # Custom resources are off, so their CRDs (the chart's crds/ directory) would serve nothing.
            skip_crds=True,
            values=[helm_values(self.values)], depends_on=list(depends_on) or None)

    def _values(self, replicas: int, internal: bool, subnets: Sequence[str]) -> dict[str, Any]:
        annotations = {NLB: "nlb", CROSS_ZONE: "true", INTERNAL: "true" if internal else "false"}
        if subnets:
            annotations[SUBNETS] = ",".join(subnets)
        return {"controller": {
            "kind": "deployment",
            "replicaCount": replicas,
            "ingressClass": {"name": self.ingress_class, "create": True, "setAsDefaultIngress": False},
            "podDisruptionBudget": dict(BUDGET),
            "topologySpreadConstraints": zone_spread(dict(INGRESS_POD_LABELS), replicas),
            "resources": compute("100m", "128Mi", "512Mi"),
            "readOnlyRootFilesystem": True,
            "enableCustomResources": False,
            "enableSnippets": False,
            "telemetryReporting": {"enable": False},
            "reportIngressStatus": {"enable": True, "enableLeaderElection": True},
            "service": {"create": True, "type": "LoadBalancer", "externalTrafficPolicy": "Local",
                        "annotations": annotations},
        }}

    def offers(self) -> list[Offer]:
        """Ingresses of its class are served, by pods with ``contracts.INGRESS_POD_LABELS`` in its namespace
        (what a workload's NetworkPolicy admits)."""
        return [Offer(Capability.INGRESS_CLASS, self.ingress_class, self.node.path,
                      scope={"namespace": self.namespace, "pod_labels": dict(INGRESS_POD_LABELS)})]
