"""TLS certificates for Ingresses: cert-manager, and the ClusterIssuer that gets them from Let's Encrypt.

Two parts, in the order they are applied: the operator with its CRDs and an
IRSA role that may answer DNS-01 challenges in one Route 53 hosted zone
(platform stack); the ClusterIssuer (a custom resource, so in a stack applied
after the CRDs). An Ingress annotated ``cert-manager.io/cluster-issuer: <issuer>``
then gets the Secret its ``tls`` section names, renewed before it expires.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_helm.release import Release
from cdktf_cdktf_provider_kubernetes.manifest import Manifest
from cdktf_cdktf_provider_kubernetes.namespace_v1 import NamespaceV1, NamespaceV1Metadata
from constructs import Construct

from ._addons import (
    BUDGET,
    DOMAIN,
    DOMAIN_FIX,
    HOSTED_ZONE_ID,
    HOSTED_ZONE_ID_FIX,
    REGION,
    REGION_FIX,
    compute,
    role_annotation,
    zone_spread,
)
from ._helm import (
    CHART_VERSION,
    CHART_VERSION_FIX,
    ActiveActive,
    HelmComponent,
    Key,
    LeaderElection,
    Workload,
    crds,
    declare,
    helm_values,
)
from ._irsa import permissions_policy, service_account_role
from .capabilities import Capability, Offer
from .contracts import CLUSTER_ISSUER
from .validation import DNS_LABEL, Checks, checked_props

__all__ = ["CERT_MANAGER", "CERT_MANAGER_CHART_VERSION", "LETSENCRYPT_PRODUCTION",
           "LETSENCRYPT_STAGING", "CertManager", "ClusterIssuer", "dns01_statements"]

#: cert-manager chart, published as ``v1.21.1`` (the OCI registry is the project's source of truth). The
#: registry and the Helm provider both match ``1.21.1`` to that tag exactly (Helm tries a semver match
#: after an exact one; the provider compares versions without the ``v``), and the exact form is what
#: the platform's pin check (``CHART_VERSION``) accepts.
CERT_MANAGER_CHART_VERSION = "1.21.1"
#: The ClusterIssuer services get certificates from.
LETSENCRYPT_PRODUCTION = "https://acme-v02.api.letsencrypt.org/directory"
#: For trying things out: untrusted certificates, generous rate limits.
LETSENCRYPT_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory"
_SERVICE_ACCOUNT = "cert-manager"
_RELEASE = "cert-manager"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

#: What the chart runs (read from its templates, tag v1.21.1). The controller and the cainjector elect a
#: leader by default (``leaderElectionConfig.enabled`` defaults to true in both configuration APIs,
#: internal/apis/config/shared/v1alpha1/defaults.go); setting it in their ``config`` makes that visible.
#: Their leases live in ``global.leaderElection.namespace`` (kube-system), where the chart grants them.
CERT_MANAGER = declare(HelmComponent(
    chart="cert-manager", repository="oci://quay.io/jetstack/charts", read_from="1.21.1",
    workloads=(
        Workload(name="controller", replicas=Key("replicaCount", 1),
                 coordination=LeaderElection(Key("config.leaderElectionConfig.enabled", True)),
                 pdb=Key("podDisruptionBudget.enabled", False)),
        Workload(name="webhook", replicas=Key("webhook.replicaCount", 1),
                 coordination=ActiveActive(
                     "a stateless admission webhook behind a Service: the API server may call any replica, and "
                     "every replica serves a certificate signed by the one CA kept in a Secret"),
                 pdb=Key("webhook.podDisruptionBudget.enabled", False)),
        Workload(name="cainjector", enabled=Key("cainjector.enabled", True),
                 replicas=Key("cainjector.replicaCount", 1),
                 coordination=LeaderElection(Key("cainjector.config.leaderElectionConfig.enabled", True)),
                 pdb=Key("cainjector.podDisruptionBudget.enabled", False)),
    ),
    creates=lambda values, namespace: crds("cert-manager.io", "Certificate", "CertificateRequest", "ClusterIssuer",
                                           "Issuer") + crds("acme.cert-manager.io", "Challenge", "Order")
    if Key("crds.enabled", False).is_on(values) else (),
))


@checked_props
class CertManager(Construct):
    """cert-manager with its CRDs, allowed to answer DNS-01 challenges in one hosted zone only.

    - CRDs installed by the chart and kept if the release is removed (certificates survive).
    - Controller, webhook and cainjector run two replicas each, spread over zones, with a
      PodDisruptionBudget; the controller and the cainjector elect a leader, the webhook
      serves from every replica (``CERT_MANAGER``).
    - IRSA role (``dns01_statements``): ``ChangeResourceRecordSets`` on ``hosted_zone_id`` only,
      and only for ``_acme-challenge.*`` TXT records, created or deleted the way cert-manager
      does it (UPSERT, DELETE); ``GetChange`` on changes. Nothing else: with the zone's id in
      the issuer, cert-manager never looks zones up (``ListHostedZonesByName``) and never lists
      records (v1.21.1, pkg/issuer/acme/dns/route53).
    - No default issuer: an Ingress names its issuer (``cert-manager.io/cluster-issuer``), so
      this release refers to nothing the later stack creates (the issuer lives there).

    :param hosted_zone_id: the Route 53 hosted zone of the environment's domain.
    :param oidc_provider_arn: the cluster's IAM OIDC provider (IRSA).
    :param oidc_issuer_url: the cluster's OIDC issuer URL.
    :param replicas: of each component; default 2.
    :param namespace: created here; default ``cert-manager``.
    :param chart_version: the cert-manager chart, pinned; default ``CERT_MANAGER_CHART_VERSION``.
    :param depends_on: what the release waits for; default nothing.
    """

    def __init__(self, scope: Construct, id: str, *, hosted_zone_id: str, oidc_provider_arn: str,
                 oidc_issuer_url: str, replicas: int = 2,
                 namespace: str = "cert-manager", chart_version: str = CERT_MANAGER_CHART_VERSION,
                 depends_on: Sequence[ITerraformDependable] = ()) -> None:
        super().__init__(scope, id)
        c = Checks(self.node.path)
        if c.known(hosted_zone_id):
            c.require(bool(HOSTED_ZONE_ID.match(hosted_zone_id)), "hosted_zone_id", hosted_zone_id,
                      HOSTED_ZONE_ID_FIX)
        c.require(replicas >= 1, "replicas", replicas, "use 1 or more (2 keeps issuing through a zone's loss)")
        c.require(bool(DNS_LABEL.match(namespace)), "namespace", namespace, "use a DNS label")
        c.require(bool(CHART_VERSION.match(chart_version)), "chart_version", chart_version, CHART_VERSION_FIX)
        c.done()
        self.namespace = namespace
        self.hosted_zone_id = hosted_zone_id
        self.policy = permissions_policy(
            self, "dns01", name_prefix="cert-manager-dns01-",
            description=f"Answer ACME DNS-01 challenges in Route 53 hosted zone {hosted_zone_id}",
            statements=dns01_statements(hosted_zone_id))
        self.role = service_account_role(self, "role", oidc_provider_arn=oidc_provider_arn,
                                         oidc_issuer_url=oidc_issuer_url, namespace=namespace,
                                         service_account=_SERVICE_ACCOUNT, policy_arns=[self.policy.arn])
        self.values = self._values(replicas)
        ns = NamespaceV1(self, "namespace", metadata=NamespaceV1Metadata(name=namespace))
        self.release = Release(
            self, "release", name=_RELEASE, namespace=ns.metadata.name,
            repository=CERT_MANAGER.repository, chart=CERT_MANAGER.chart, version=chart_version,
            atomic=True, cleanup_on_fail=True, timeout=900, max_history=5,
            values=[helm_values(self.values)], depends_on=list(depends_on) or None)

    def _values(self, replicas: int) -> dict[str, Any]:
        def spread(name: str) -> list[dict[str, Any]]:
            return zone_spread({"app.kubernetes.io/name": name, "app.kubernetes.io/instance": _RELEASE}, replicas)

        elect = {"leaderElectionConfig": {"enabled": True}}
        return {
            "crds": {"enabled": True, "keep": True},
            "replicaCount": replicas,
            "config": elect,
            "podDisruptionBudget": dict(BUDGET),
            "topologySpreadConstraints": spread("cert-manager"),
            "resources": compute("50m", "128Mi", "512Mi"),
            "serviceAccount": {"create": True, "name": _SERVICE_ACCOUNT,
                               "annotations": role_annotation(self.role.arn)},
            "webhook": {"replicaCount": replicas, "podDisruptionBudget": dict(BUDGET),
                        "topologySpreadConstraints": spread("webhook"), "resources": compute("20m", "64Mi", "128Mi")},
            "cainjector": {"replicaCount": replicas, "config": elect, "podDisruptionBudget": dict(BUDGET),
                           "topologySpreadConstraints": spread("cainjector"),
                           "resources": compute("20m", "128Mi", "512Mi")},
            "startupapicheck": {"resources": compute("10m", "32Mi", "64Mi")},
        }


def dns01_statements(hosted_zone_id: str) -> list[dict[str, Any]]:
    """What cert-manager's Route 53 solver needs when its issuer names the zone (cert-manager's Route53
    guide, tightened as it suggests: one zone, TXT records named ``_acme-challenge.*`` only)."""
    return [
        {"Sid": "AnswerChallengesInZone", "Effect": "Allow", "Action": "route53:ChangeResourceRecordSets",
         "Resource": f"arn:aws:route53:::hostedzone/{hosted_zone_id}",
         "Condition": {
             "ForAllValues:StringEquals": {"route53:ChangeResourceRecordSetsRecordTypes": ["TXT"],
                                           "route53:ChangeResourceRecordSetsActions": ["UPSERT", "DELETE"]},
             "ForAllValues:StringLike": {"route53:ChangeResourceRecordSetsNormalizedRecordNames":
                                         ["_acme-challenge.*"]}}},
        {"Sid": "WaitForChanges", "Effect": "Allow", "Action": "route53:GetChange",
         "Resource": "arn:aws:route53:::change/*"},
    ]


@checked_props
class ClusterIssuer(Construct):
    """A ClusterIssuer that gets certificates from Let's Encrypt, proving control through Route 53 (DNS-01).

    DNS-01, not HTTP-01: it needs no route from the internet to the cluster before the first
    certificate, works for names that are not served yet, and its only permission is
    ``CertManager``'s role on one zone. cert-manager uses that role (ambient IRSA credentials,
    allowed for ClusterIssuers only). The ACME account key is kept in Secret
    ``<name>-account-key`` in cert-manager's namespace.

    A custom resource: put it in a stack applied after ``CertManager``'s release.

    :param email: where Let's Encrypt sends expiry warnings (a team address).
    :param region: the region cert-manager calls Route 53 through.
    :param hosted_zone_id: the hosted zone of ``dns_zone`` (the one ``CertManager`` may change).
    :param dns_zone: the domain this issuer solves challenges for (and its subdomains).
    :param name: default ``CLUSTER_ISSUER``.
    :param server: the ACME directory; default ``LETSENCRYPT_PRODUCTION``.
    :param depends_on: default nothing.
    """

    def __init__(self, scope: Construct, id: str, *, email: str, region: str, hosted_zone_id: str, dns_zone: str,
                 name: str = CLUSTER_ISSUER, server: str = LETSENCRYPT_PRODUCTION,
                 depends_on: Sequence[ITerraformDependable] = ()) -> None:
        super().__init__(scope, id)
        c = Checks(self.node.path)
        c.require(bool(_EMAIL.match(email)), "email", email, "use an address Let's Encrypt can write to")
        c.require(bool(REGION.match(region)), "region", region, REGION_FIX)
        if c.known(hosted_zone_id):
            c.require(bool(HOSTED_ZONE_ID.match(hosted_zone_id)), "hosted_zone_id", hosted_zone_id,
                      HOSTED_ZONE_ID_FIX)
        c.require(bool(DOMAIN.match(dns_zone)), "dns_zone", dns_zone, DOMAIN_FIX)
        c.require(bool(DNS_LABEL.match(name)), "name", name, "use a DNS label")
        c.require(server.startswith("https://"), "server", server,
                  "use an ACME directory URL over https, such as LETSENCRYPT_PRODUCTION")
        c.done()
        self.name = name
        self.manifest = Manifest(self, "issuer", manifest={
            "apiVersion": "cert-manager.io/v1",
            "kind": "ClusterIssuer",
            "metadata": {"name": name},
            "spec": {"acme": {
                "server": server,
                "email": email,
                "privateKeySecretRef": {"name": f"{name}-account-key"},
                "solvers": [{
                    "selector": {"dnsZones": [dns_zone]},
                    "dns01": {"route53": {"region": region, "hostedZoneID": hosted_zone_id}},
                }],
            }},
        }, depends_on=list(depends_on) or None)
        self.dns_zone = dns_zone

    def offers(self) -> list[Offer]:
        """Certificates for names under ``dns_zone``, to Ingresses that name this issuer."""
        return [Offer(Capability.CERTIFICATES, self.name, self.node.path, scope={"zone": self.dns_zone})]
