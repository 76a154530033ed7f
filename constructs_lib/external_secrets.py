"""Secrets from AWS Secrets Manager into Kubernetes, through the External Secrets operator.

Three parts, in the order they are applied: the operator with its CRDs (addons
stack); the ClusterSecretStores ExternalSecrets refer to (custom resources, so in
a stack applied after the CRDs); and ExternalSecrets, one per consumer.

A namespace reads only the secrets meant for it: each store serves the
namespaces its ``conditions`` name, through an IAM role of its own that may read
only its prefixes. The operator's IRSA role may do nothing but assume those
roles, all of which stay under the environment's prefix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.iam_role import IamRole, IamRoleInlinePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
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
    crds,
    declare,
    helm_values,
)
from ._irsa import service_account_role
from .capabilities import Capability, Offer
from .contracts import SCRAPE_LABELS, SECRET_STORE
from .validation import AWS_ACCOUNT_ID, DNS_LABEL, Checks, checked_fields, checked_props

__all__ = ["EXTERNAL_SECRETS", "EXTERNAL_SECRETS_CHART_VERSION", "SECRET_REF", "SECRET_REF_FIX",
           "ExternalSecretsOperator", "SecretStore", "StoreAccess", "external_secret", "store_role_arn"]

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
    # installCRDs renders the CRDs as templates; the ServiceMonitors (renderMode failIfMissing) need theirs.
    creates=lambda values, namespace: (
        crds("external-secrets.io", "ClusterExternalSecret", "ClusterPushSecret", "ClusterSecretStore",
             "ExternalSecret", "PushSecret", "SecretStore")
        + crds("generators.external-secrets.io", "ACRAccessToken", "CloudsmithAccessToken", "ClusterGenerator",
               "ECRAuthorizationToken", "Fake", "GCRAccessToken", "GeneratorState", "GithubAccessToken", "Grafana",
               "MFA", "Password", "QuayAccessToken", "SSHKey", "STSSessionToken", "UUID", "VaultDynamicSecret",
               "Webhook")) if Key("installCRDs", True).is_on(values) else (),
    references=lambda values, namespace: crds("monitoring.coreos.com", "ServiceMonitor")
    if Key("serviceMonitor.enabled", False).is_on(values) else (),
))


@checked_fields
@dataclass(frozen=True, kw_only=True)
class StoreAccess:
    """What one ClusterSecretStore may read.

    :param prefixes: Secrets Manager name prefixes it reads (each under the environment's prefix).
    :param except_prefixes: prefixes within those it must not read (denied explicitly).
    """

    prefixes: Sequence[str]
    except_prefixes: Sequence[str] = ()


def store_role_arn(account_id: str, store: str) -> str:
    """The IAM role a store reads through: named, so that the stack of the store can name it too."""
    return f"arn:aws:iam::{account_id}:role/external-secrets-{store}"


@checked_props
class ExternalSecretsOperator(Construct):
    """The External Secrets operator, whose stores each read only the secrets meant for them.

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
    :param stores: ClusterSecretStore name -> what it may read; each gets an IAM role
        (``store_role_arn``) the operator assumes, and nothing else.
    :param namespace: default ``external-secrets``.
    :param chart_version: the external-secrets chart, pinned; default ``EXTERNAL_SECRETS_CHART_VERSION``.
    :param scrape_labels: labels of the operator's ServiceMonitor; default ``SCRAPE_LABELS``.
    :param depends_on: what the release waits for (the monitoring release, whose CRDs its ServiceMonitor needs).
    """

    def __init__(self, scope: Construct, id: str, *, oidc_provider_arn: str, oidc_issuer_url: str,
                 account_id: str, region: str, secrets_prefix: str, stores: Mapping[str, StoreAccess],
                 namespace: str = "external-secrets",
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
        c.require(bool(stores), "stores", dict(stores), "give at least one store what it may read")
        for store, access in stores.items():
            c.require(bool(DNS_LABEL.match(store)), f"stores[{store!r}]", store, "name the store with a DNS label")
            c.require(bool(access.prefixes), f"stores[{store!r}].prefixes", list(access.prefixes),
                      "list the Secrets Manager prefixes it reads")
            for prefix in (*access.prefixes, *access.except_prefixes):
                c.require(prefix.startswith(secrets_prefix) and prefix.endswith("/"), f"stores[{store!r}]", prefix,
                          f"use a prefix under {secrets_prefix!r} ending in '/': stores never read beyond the "
                          "environment's secrets")
        c.done()
        self.namespace = namespace
        self.secrets_prefix = secrets_prefix
        self.role = service_account_role(self, "role", oidc_provider_arn=oidc_provider_arn,
                                         oidc_issuer_url=oidc_issuer_url, namespace=namespace,
                                         service_account=_SERVICE_ACCOUNT)
        arns = [store_role_arn(account_id, store) for store in sorted(stores)]
        self.policy = IamPolicy(
            self, "assume-store-roles", name_prefix="external-secrets-stores-",
            description="Assume the roles of the environment's secret stores, and nothing else",
            policy=json.dumps({"Version": "2012-10-17", "Statement": [
                {"Sid": "AssumeStoreRoles", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": arns}]}))
        IamRolePolicyAttachment(self, "assume-store-roles-attachment", role=self.role.name,
                                policy_arn=self.policy.arn)
        #: Each store's role, by store name.
        self.store_roles = {store: self._store_role(store, access, account_id, region)
                            for store, access in sorted(stores.items())}
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


    def _store_role(self, store: str, access: StoreAccess, account_id: str, region: str) -> IamRole:
        secret = f"arn:aws:secretsmanager:{region}:{account_id}:secret:"
        read = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret",
                "secretsmanager:ListSecretVersionIds", "secretsmanager:GetResourcePolicy"]
        statements: list[dict] = [
            {"Sid": "ReadStoreSecrets", "Effect": "Allow", "Action": read,
             "Resource": [f"{secret}{prefix}*" for prefix in access.prefixes]},
            {"Sid": "DecryptThroughSecretsManager", "Effect": "Allow", "Action": "kms:Decrypt",
             "Resource": f"arn:aws:kms:{region}:{account_id}:key/*",
             "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}}},
        ]
        if access.except_prefixes:
            statements.append({"Sid": "NotOtherStoresSecrets", "Effect": "Deny", "Action": read,
                               "Resource": [f"{secret}{prefix}*" for prefix in access.except_prefixes]})
        return IamRole(
            self, f"store-{store}", name=f"external-secrets-{store}",
            description=f"ClusterSecretStore {store}: read {', '.join(access.prefixes)}",
            assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": self.role.arn}}]}),
            inline_policy=[IamRoleInlinePolicy(name="read-secrets", policy=json.dumps(
                {"Version": "2012-10-17", "Statement": statements}))])


@checked_props
class SecretStore(Construct):
    """A ClusterSecretStore: Secrets Manager, for the namespaces it names, through the role of its own.

    A custom resource: put it in a stack applied after the operator's.

    :param region: the region of the secrets.
    :param role_arn: the IAM role it reads through (``store_role_arn``; the operator assumes it).
    :param namespaces: the namespaces whose ExternalSecrets may use it (its ``conditions``); no other can.
    :param name: default ``contracts.SECRET_STORE``.
    """

    def __init__(self, scope: Construct, id: str, *, region: str, role_arn: str, namespaces: Sequence[str],
                 name: str = SECRET_STORE) -> None:
        super().__init__(scope, id)
        c = Checks(self.node.path)
        c.require(bool(DNS_LABEL.match(name)), "name", name, "use a DNS label")
        c.require(bool(namespaces), "namespaces", list(namespaces),
                  "name the namespaces that may use the store: without conditions every namespace could")
        for i, namespace in enumerate(namespaces):
            c.require(bool(DNS_LABEL.match(namespace)), f"namespaces[{i}]", namespace, "use a namespace name")
        c.done()
        self.name = name
        self.namespaces = tuple(namespaces)
        self.manifest = Manifest(self, "store", manifest={
            "apiVersion": "external-secrets.io/v1",
            "kind": "ClusterSecretStore",
            "metadata": {"name": name},
            "spec": {
                "conditions": [{"namespaces": list(self.namespaces)}],
                "provider": {"aws": {"service": "SecretsManager", "region": region, "role": role_arn}},
            },
        })

    def offers(self) -> list[Offer]:
        """A secret store, for its namespaces only."""
        return [Offer(Capability.SECRET_STORE, self.name, self.node.path, scope={"namespaces": self.namespaces})]


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
