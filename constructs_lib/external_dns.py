"""external-dns: every Ingress host in the environment's domain resolves to the ingress load balancer."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_helm.release import Release
from cdktf_cdktf_provider_kubernetes.namespace_v1 import NamespaceV1, NamespaceV1Metadata
from constructs import Construct

from ._addons import (
    DOMAIN,
    DOMAIN_FIX,
    HOSTED_ZONE_ID,
    HOSTED_ZONE_ID_FIX,
    REGION,
    REGION_FIX,
    RESTRICTED_CONTAINER,
    compute,
    role_annotation,
)
from ._helm import CHART_VERSION, CHART_VERSION_FIX, HelmComponent, declare, helm_values
from ._irsa import permissions_policy, service_account_role
from .capabilities import Capability, Offer
from .contracts import INGRESS_CLASS
from .validation import DNS_LABEL, Checks, checked_props

__all__ = ["EXTERNAL_DNS", "EXTERNAL_DNS_CHART_VERSION", "RECORD_TYPES", "TXT_PREFIX", "ExternalDns",
           "external_dns_statements"]

#: external-dns chart (kubernetes-sigs.github.io/external-dns), serving external-dns 0.21.0.
EXTERNAL_DNS_CHART_VERSION = "1.21.1"
_RELEASE = "external-dns"
_SERVICE_ACCOUNT = "external-dns"
_OWNER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
#: What it writes: addresses (A/AAAA aliases to the load balancer, or CNAMEs) and its TXT ownership records.
RECORD_TYPES = ("A", "AAAA", "CNAME", "TXT")
#: Ownership records are named ``_extdns-<type>.<host>``: inside the zone even for the domain's apex (the
#: chart's default, ``<type>-<first label>``, puts the apex's record outside it), and never a host name.
#: ``%%{`` is Terraform's escape for ``%{`` (it would read ``%{...}`` as a template directive), so Helm
#: gets external-dns's ``%{record_type}`` placeholder.
TXT_PREFIX = "_extdns-%%{record_type}."

#: What the chart runs (read from its templates, tag external-dns-helm-chart-1.21.1): one Deployment
#: whose template fixes ``replicas: 1`` (no key) with the Recreate strategy, so two never run at once.
#: external-dns has no leader election; one replica is the design, and its loss only delays DNS updates
#: until the Deployment replaces it. Nothing to declare.
EXTERNAL_DNS = declare(HelmComponent(
    chart="external-dns", repository="https://kubernetes-sigs.github.io/external-dns/", read_from="1.21.1",
    workloads=()))


@checked_props
class ExternalDns(Construct):
    """external-dns for one domain: records for the hosts of Ingresses of one class, in one hosted zone.

    - Sources: Ingresses of ``ingress_class`` only (their status holds the NLB's hostname,
      which the ingress controller writes); Services are not published.
    - Scope: ``domain`` (domain filter) in ``hosted_zone_id`` (zone id filter); the IAM role
      (``external_dns_statements``) can change that zone only, only names in ``domain``, and
      only record types in ``RECORD_TYPES``; it lists that zone's records and, as AWS requires
      (no resource-level permission), the account's zones.
    - Policy ``sync``: a record is deleted when its Ingress goes, so a retired host does not
      keep pointing at the load balancer; safe because external-dns deletes only records its
      TXT ownership records say are its own (``txtOwnerId`` = ``owner_id``). ``upsert-only``
      would leave every retired host resolving, and saves no permission: updates that change a
      record's type delete and re-create it anyway.
    - One replica (``EXTERNAL_DNS``), with requests and limits.

    :param domain: the environment's domain (its Ingress hosts are in it).
    :param hosted_zone_id: the Route 53 hosted zone of ``domain``.
    :param owner_id: marks the records this instance owns (the cluster's name): unique per cluster.
    :param region: the region the AWS SDK calls through.
    :param oidc_provider_arn: the cluster's IAM OIDC provider (IRSA).
    :param oidc_issuer_url: the cluster's OIDC issuer URL.
    :param ingress_class: Ingresses of this class get records; default ``nginx``.
    :param namespace: created here; default ``external-dns``.
    :param chart_version: the external-dns chart, pinned; default ``EXTERNAL_DNS_CHART_VERSION``.
    :param depends_on: what the release waits for; default nothing.
    """

    def __init__(self, scope: Construct, id: str, *, domain: str, hosted_zone_id: str, owner_id: str, region: str,
                 oidc_provider_arn: str, oidc_issuer_url: str, ingress_class: str = INGRESS_CLASS,
                 namespace: str = "external-dns", chart_version: str = EXTERNAL_DNS_CHART_VERSION,
                 depends_on: Sequence[ITerraformDependable] = ()) -> None:
        super().__init__(scope, id)
        c = Checks(self.node.path)
        c.require(bool(DOMAIN.match(domain)), "domain", domain, DOMAIN_FIX)
        if c.known(hosted_zone_id):
            c.require(bool(HOSTED_ZONE_ID.match(hosted_zone_id)), "hosted_zone_id", hosted_zone_id,
                      HOSTED_ZONE_ID_FIX)
        if c.known(owner_id):
            c.require(bool(_OWNER_ID.match(owner_id)), "owner_id", owner_id,
                      "use the cluster's name: letters, digits, '.', '_' or '-', at most 63")
        c.require(bool(REGION.match(region)), "region", region, REGION_FIX)
        c.require(bool(DNS_LABEL.match(ingress_class)), "ingress_class", ingress_class, "use a DNS label")
        c.require(bool(DNS_LABEL.match(namespace)), "namespace", namespace, "use a DNS label")
        c.require(bool(CHART_VERSION.match(chart_version)), "chart_version", chart_version, CHART_VERSION_FIX)
        c.done()
        self.domain = domain
        self.hosted_zone_id = hosted_zone_id
        self.ingress_class = ingress_class
        self.namespace = namespace
        self.policy = permissions_policy(
            self, "records", name_prefix="external-dns-",
            description=f"Manage {domain} records in Route 53 hosted zone {hosted_zone_id}",
            statements=external_dns_statements(hosted_zone_id, domain))
        self.role = service_account_role(self, "role", oidc_provider_arn=oidc_provider_arn,
                                         oidc_issuer_url=oidc_issuer_url, namespace=namespace,
                                         service_account=_SERVICE_ACCOUNT, policy_arns=[self.policy.arn])
        self.values = self._values(owner_id, region)
        ns = NamespaceV1(self, "namespace", metadata=NamespaceV1Metadata(name=namespace))
        self.release = Release(
            self, "release", name=_RELEASE, namespace=ns.metadata.name,
            repository=EXTERNAL_DNS.repository, chart=EXTERNAL_DNS.chart, version=chart_version,
            atomic=True, cleanup_on_fail=True, timeout=600, max_history=5,
            values=[helm_values(self.values)], depends_on=list(depends_on) or None)

    def _values(self, owner_id: str, region: str) -> dict[str, Any]:
        return {
            "provider": {"name": "aws"},
            "sources": ["ingress"],
            "policy": "sync",
            "registry": "txt",
            "txtOwnerId": owner_id,
            "txtPrefix": TXT_PREFIX,
            "domainFilters": [self.domain],
            "extraArgs": {"zone-id-filter": self.hosted_zone_id, "ingress-class": self.ingress_class},
            "env": [{"name": "AWS_DEFAULT_REGION", "value": region}],
            "serviceAccount": {"create": True, "name": _SERVICE_ACCOUNT,
                               "annotations": role_annotation(self.role.arn)},
            "resources": compute("20m", "64Mi", "128Mi"),
            # The chart's own securityContext already drops everything; stated so that a chart upgrade
            # that loosens it shows up in review.
            "securityContext": {**RESTRICTED_CONTAINER, "privileged": False, "runAsNonRoot": True,
                                "runAsUser": 65532, "runAsGroup": 65532},
        }

    def offers(self) -> list[Offer]:
        """DNS records for hosts in its domain (Ingresses of its class)."""
        return [Offer(Capability.DNS, self.domain, self.node.path, scope={"ingress_class": self.ingress_class})]


def external_dns_statements(hosted_zone_id: str, domain: str) -> list[dict[str, Any]]:
    """The IAM statements external-dns needs for one zone (its AWS tutorial's policy, for one zone instead
    of ``hostedzone/*``, with its ABAC conditions on names and types; no ``ListTagsForResources``: it
    is called only with a zone tag filter, and none is set)."""
    zone = f"arn:aws:route53:::hostedzone/{hosted_zone_id}"
    return [
        {"Sid": "ChangeDomainRecords", "Effect": "Allow", "Action": "route53:ChangeResourceRecordSets",
         "Resource": zone,
         "Condition": {
             "ForAllValues:StringEquals": {"route53:ChangeResourceRecordSetsRecordTypes": list(RECORD_TYPES)},
             "ForAllValues:StringLike": {"route53:ChangeResourceRecordSetsNormalizedRecordNames":
                                         [domain, f"*.{domain}"]}}},
        {"Sid": "ReadZoneRecords", "Effect": "Allow", "Action": "route53:ListResourceRecordSets", "Resource": zone},
        # ListHostedZones has no resource-level permission: AWS requires "*". external-dns lists zones on
        # every sync and keeps only hosted_zone_id (zone id filter).
        {"Sid": "FindZone", "Effect": "Allow", "Action": "route53:ListHostedZones", "Resource": "*"},
    ]
