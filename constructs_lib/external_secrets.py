"""Secrets from AWS Secrets Manager into Kubernetes, through the External Secrets operator.

Three parts, in the order they are applied: the operator with its CRDs and an
IRSA role that reads only the environment's secrets (platform stack); the
ClusterSecretStore every ExternalSecret refers to (a custom resource, so in a
stack applied after the CRDs); and ExternalSecrets, one per consumer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_helm.release import Release
from cdktf_cdktf_provider_kubernetes.manifest import Manifest
from cdktf_cdktf_provider_kubernetes.namespace_v1 import NamespaceV1, NamespaceV1Metadata
from constructs import Construct

from ._helm import (
    CHART_VERSION,
    CHART_VERSION_FIX,
    ActiveActive,
    HelmComponent,
    Key,
    LeaderElection,
    Workload,
    declare,
    helm_values,
)
from ._irsa import service_account_role
from .contracts import SCRAPE_LABELS, SECRET_STORE
from .validation import AWS_ACCOUNT_ID, DNS_LABEL, Checks, checked_props

__all__ = ["EXTERNAL_SECRETS", "EXTERNAL_SECRETS_CHART_VERSION", "SECRET_REF", "SECRET_REF_FIX",
           "ExternalSecretsOperator", "SecretStore", "external_secret"]

#: external-secrets chart (charts.external-secrets.io); serves the external-secrets.io/v1 API.
EXTERNAL_SECRETS_CHART_VERSION = "1.3.2"
#: ``"<Secrets Manager secret name>#<key in its JSON>"``
SECRET_REF = re.compile(r"^(?P<name>[\w/+=.@-]+)#(?P<key>[\w.-]+)$")
SECRET_REF_FIX = "use '<Secrets Manager secret name>#<key>', e.g. 'production/checkout#db_password'"
_SERVICE_ACCOUNT = "external-secrets"
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")

#: What the chart runs (read from its templates, tag helm-chart-1.3.2). Leader election needs no RBAC of
#: ours: rbac.yaml always grants the controller a Role on leases in its namespace, and the
#: cert-controller's ClusterRole grants leases too.
EXTERNAL_SECRETS = declare(HelmComponent(
    chart="external-secrets", repository="https://charts.external-secrets.io", read_from="1.3.2",
    workloads=(
        # deployment.yaml adds --enable-leader-election only when leaderElect is true (default false).
        Workload(name="controller", replicas=Key("replicaCount", 1),
                 coordination=LeaderElection(Key("leaderElect", False)),
                 pdb=Key("podDisruptionBudget.enabled", False)),
        Workload(name="webhook", enabled=Key("webhook.create", True), replicas=Key("webhook.replicaCount", 1),
                 coordination=ActiveActive(
                     "a stateless admission webhook behind a Service: the API server may call any replica, "
                     "and every replica serves the one certificate the cert-controller keeps in a Secret"),
                 pdb=Key("webhook.podDisruptionBudget.enabled", False)),
        # No values switch: the chart passes certController.extraArgs as --<key>=<value>; the flag
        # defaults to false in the binary (cmd/controller/certcontroller.go). Non-leaders report ready.
        Workload(name="cert-controller", enabled=Key("certController.create", True),
                 replicas=Key("certController.replicaCount", 1),
                 coordination=LeaderElection(Key("certController.extraArgs.enable-leader-election", False)),
                 pdb=Key("certController.podDisruptionBudget.enabled", False)),
    ),
))


@checked_props
class ExternalSecretsOperator(Construct):
    """The External Secrets operator, allowed to read only the secrets under one prefix.

    Controller, webhook and cert-controller run two replicas each, with a PodDisruptionBudget
    (``maxUnavailable: 1``). The controller and the cert-controller elect a leader, so only one
    replica reconciles (one Secrets Manager read per refresh, one writer per Secret); the webhook
    serves from every replica. The operator's ServiceMonitors fail the install if the
    ServiceMonitor CRD is missing rather than being skipped without a word.

    :param oidc_provider_arn: the cluster's IAM OIDC provider (IRSA).
    :param oidc_issuer_url: the cluster's OIDC issuer URL.
    :param account_id: the AWS account of the secrets.
    :param region: the region of the secrets.
    :param secrets_prefix: Secrets Manager names the operator may read start with this (e.g. ``production/``).
    :param namespace: default ``external-secrets``.
    :param chart_version: the external-secrets chart, pinned; default ``EXTERNAL_SECRETS_CHART_VERSION``.
    :param scrape_labels: labels of the operator's ServiceMonitor; default ``SCRAPE_LABELS``.
    :param depends_on: what the release waits for (the monitoring release, whose CRDs its ServiceMonitor needs).
    """

    def __init__(self, scope: Construct, id: str, *, oidc_provider_arn: str, oidc_issuer_url: str,
                 account_id: str, region: str, secrets_prefix: str, namespace: str = "external-secrets",
                 chart_version: str = EXTERNAL_SECRETS_CHART_VERSION,
                 scrape_labels: Mapping[str, str] = SCRAPE_LABELS,
                 depends_on: Sequence[ITerraformDependable] = ()) -> None:
        super().__init__(scope, id)
        c = Checks(self.node.path)
        c.require(bool(AWS_ACCOUNT_ID.match(account_id)), "account_id", account_id, "use the 12-digit AWS account id")
        c.require(bool(_REGION.match(region)), "region", region, "use a region code such as 'eu-west-1'")
        c.require(bool(re.match(r"^[\w+=.@-]+/$", secrets_prefix)), "secrets_prefix", secrets_prefix,
                  "use a prefix ending in '/', such as 'production/' (never empty: that would be every secret)")
        c.require(bool(DNS_LABEL.match(namespace)), "namespace", namespace, "use a DNS label")
        c.require(bool(CHART_VERSION.match(chart_version)), "chart_version", chart_version, CHART_VERSION_FIX)
        c.done()
        self.namespace = namespace
        self.secrets_prefix = secrets_prefix
        self.policy = IamPolicy(
            self, "read-secrets", name_prefix="external-secrets-read-",
            description=f"Read Secrets Manager secrets under {secrets_prefix}",
            policy=json.dumps({
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "ReadEnvironmentSecrets", "Effect": "Allow",
                     "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret",
                                "secretsmanager:ListSecretVersionIds", "secretsmanager:GetResourcePolicy"],
                     "Resource": f"arn:aws:secretsmanager:{region}:{account_id}:secret:{secrets_prefix}*"},
                    {"Sid": "DecryptThroughSecretsManager", "Effect": "Allow", "Action": "kms:Decrypt",
                     "Resource": f"arn:aws:kms:{region}:{account_id}:key/*",
                     "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}}},
                ],
            }))
        self.role = service_account_role(self, "role", oidc_provider_arn=oidc_provider_arn,
                                         oidc_issuer_url=oidc_issuer_url, namespace=namespace,
                                         service_account=_SERVICE_ACCOUNT, policy_arns=[self.policy.arn])
        ns = NamespaceV1(self, "namespace", metadata=NamespaceV1Metadata(name=namespace))
        self.release = Release(
            self, "release", name="external-secrets", namespace=ns.metadata.name,
            repository=EXTERNAL_SECRETS.repository, chart=EXTERNAL_SECRETS.chart, version=chart_version,
            atomic=True, cleanup_on_fail=True, timeout=600, max_history=5,
            values=[helm_values({
                "installCRDs": True,
                "replicaCount": 2,
                "leaderElect": True,
                "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
                "serviceAccount": {"name": _SERVICE_ACCOUNT,
                                   "annotations": {"eks.amazonaws.com/role-arn": self.role.arn}},
                # The default, skipIfMissing, would drop the ServiceMonitors silently without the CRD.
                "serviceMonitor": {"enabled": True, "renderMode": "failIfMissing",
                                   "additionalLabels": dict(scrape_labels)},
                "webhook": {"replicaCount": 2, "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1}},
                "certController": {"replicaCount": 2, "extraArgs": {"enable-leader-election": True},
                                   "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1}},
            })],
            depends_on=list(depends_on) or None,
        )


@checked_props
class SecretStore(Construct):
    """The ClusterSecretStore ``contracts.SECRET_STORE``: Secrets Manager through the operator's IRSA role.

    A custom resource: put it in a stack applied after the operator's.

    :param region: the region of the secrets.
    """

    def __init__(self, scope: Construct, id: str, *, region: str, name: str = SECRET_STORE) -> None:
        super().__init__(scope, id)
        self.name = name
        self.manifest = Manifest(self, "store", manifest={
            "apiVersion": "external-secrets.io/v1",
            "kind": "ClusterSecretStore",
            "metadata": {"name": name},
            "spec": {"provider": {"aws": {"service": "SecretsManager", "region": region}}},
        })


def external_secret(scope: Construct, id: str, *, name: str, namespace: str, data: Mapping[str, str],
                    labels: Mapping[str, str] | None = None, store: str = SECRET_STORE,
                    depends_on: Sequence[ITerraformDependable] = ()) -> Manifest:
    """An ExternalSecret that writes Kubernetes Secret ``name`` from ``data``: key -> ``"<secret>#<key>"``.

    References are validated by the caller (``SECRET_REF``); this only builds the resource.
    """
    entries = []
    for key, ref in sorted(data.items()):
        match = SECRET_REF.match(ref)
        assert match, ref  # callers validate with SECRET_REF
        entries.append({"secretKey": key, "remoteRef": {"key": match["name"], "property": match["key"]}})
    return Manifest(scope, id, manifest={
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": name, "namespace": namespace, **({"labels": dict(labels)} if labels else {})},
        "spec": {
            "refreshInterval": "1h",
            "secretStoreRef": {"kind": "ClusterSecretStore", "name": store},
            "target": {"name": name, "creationPolicy": "Owner"},
            "data": entries,
        },
    }, depends_on=list(depends_on) or None)
