"""The EKS cluster node groups join: private, encrypted, logged, with IRSA and pinned add-ons."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_region import DataAwsRegion
from cdktf_cdktf_provider_aws.eks_access_entry import EksAccessEntry
from cdktf_cdktf_provider_aws.eks_access_policy_association import (
    EksAccessPolicyAssociation,
    EksAccessPolicyAssociationAccessScope,
)
from cdktf_cdktf_provider_aws.eks_addon import EksAddon
from cdktf_cdktf_provider_aws.eks_cluster import (
    EksCluster as EksClusterResource,
)
from cdktf_cdktf_provider_aws.eks_cluster import (
    EksClusterAccessConfig,
    EksClusterEncryptionConfig,
    EksClusterEncryptionConfigProvider,
    EksClusterUpgradePolicy,
    EksClusterVpcConfig,
    EksClusterZonalShiftConfig,
)
from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from ._irsa import service_account_role
from ._kms import managed_key
from ._logs import LOG_RETENTION_DAYS, LOG_RETENTION_FIX, logs_key_statement
from .capabilities import Capability, Offer
from .developer_access import DEVELOPERS_GROUP, DeveloperAccess
from .guardrails import suppress
from .node_group import EksNodeGroup
from .validation import DNS_LABEL, Checks, checked_props

__all__ = ["ADDON_VERSIONS", "CONTROL_PLANE_LOGS", "EksCluster"]

#: Core add-on versions per Kubernetes minor, pinned so that an upgrade is a
#: reviewed change. Refresh with
#: ``aws eks describe-addon-versions --kubernetes-version 1.33 --addon-name <name>``.
ADDON_VERSIONS: Mapping[str, Mapping[str, str]] = {
    "1.33": {
        "vpc-cni": "v1.20.1-eksbuild.3",
        "kube-proxy": "v1.33.3-eksbuild.4",
        "coredns": "v1.12.1-eksbuild.2",
        "aws-ebs-csi-driver": "v1.47.0-eksbuild.1",
    },
    "1.32": {
        "vpc-cni": "v1.20.1-eksbuild.3",
        "kube-proxy": "v1.32.6-eksbuild.8",
        "coredns": "v1.11.4-eksbuild.14",
        "aws-ebs-csi-driver": "v1.47.0-eksbuild.1",
    },
}

_SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease", "default"})

#: Every control-plane log type EKS offers.
CONTROL_PLANE_LOGS = ("api", "audit", "authenticator", "controllerManager", "scheduler")

#: Add-ons whose pods need nodes to run on: created after the node groups.
_NEEDS_NODES = ("coredns", "aws-ebs-csi-driver")
#: EKS cluster names; the environment config checks its cluster name against the same rule.
CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
CLUSTER_NAME_FIX = "use 1-100 letters, digits, hyphens or underscores, starting with a letter or digit"
_ROLE_ARN = re.compile(r"^arn:aws:iam::\d{12}:role/[\w+=,.@/-]+$")
#: The vpc-cni add-on's configuration that turns on its network policy agent (the chart's
#: ``enableNetworkPolicy`` value, a string, read from amazon-vpc-cni-k8s v1.20.1's charts/aws-vpc-cni: it
#: sets ``enable-network-policy-controller`` in the amazon-vpc-cni ConfigMap and the node agent's
#: ``--enable-network-policy``).
_VPC_CNI_NETWORK_POLICY = json.dumps({"enableNetworkPolicy": "true"})
_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
_VIEW_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"


def _assume_role_policy(statement: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)


@checked_props
class EksCluster(Construct):
    """An EKS cluster with everything a production cluster is expected to have.

    - API endpoint private; public access only from ``public_access_cidrs`` (none by default,
      never ``/0``: checkov's CKV_AWS_39 is skipped for that reason).
    - Kubernetes secrets envelope-encrypted with a rotating KMS key.
    - All control-plane logs, to a KMS-encrypted log group with a set retention.
    - Access entries (``API`` authentication mode) instead of the aws-auth ConfigMap; the
      creator gets no implicit admin rights, ``admin_role_arns`` are the cluster admins.
    - An OIDC provider for IAM roles for service accounts (``service_account_role``).
    - Pinned core add-ons: vpc-cni, kube-proxy, coredns and the EBS CSI driver (with its own IRSA role).
    - NetworkPolicy enforced: the VPC CNI's network policy agent is on (``enableNetworkPolicy``, the
      add-on's configuration), so workloads' NetworkPolicies hold (``Capability.NETWORK_POLICY``).

    :param name: cluster name.
    :param kubernetes_version: ``major.minor``; must have an entry in ``ADDON_VERSIONS``
        unless ``addon_versions`` is given.
    :param subnet_ids: private subnets for the control plane's network interfaces.
    :param public_access_cidrs: CIDRs that may reach the public endpoint; default none (private only).
    :param admin_role_arns: IAM roles granted cluster-admin through access entries; default none.
    :param developer_role_arns: IAM roles developers assume; each gets an access entry with
        ``developer_access`` in ``developer_namespaces`` only; default none.
    :param developer_namespaces: where developers' services run; needed with ``developer_role_arns``.
    :param developer_access: ``DeveloperAccess.VIEW`` (default) or ``DEBUG`` (adds port-forward).
    :param log_retention_days: control-plane log retention; default 365 (audit logs answer
        questions asked months later).
    :param addon_versions: add-on name to version; default ``ADDON_VERSIONS[kubernetes_version]``.
    :param deletion_protection: refuse ``terraform destroy`` of the cluster; default False
        (production stacks set it).
    :param network_policy: enforce NetworkPolicies (the VPC CNI's network policy agent); default True.
    """

    def __init__(self, scope: Construct, id: str, *, name: str, kubernetes_version: str,
                 subnet_ids: Sequence[str], public_access_cidrs: Sequence[str] = (),
                 admin_role_arns: Sequence[str] = (), developer_role_arns: Sequence[str] = (),
                 developer_namespaces: Sequence[str] = (), developer_access: DeveloperAccess = DeveloperAccess.VIEW,
                 log_retention_days: int = 365,
                 addon_versions: Mapping[str, str] | None = None, deletion_protection: bool = False,
                 network_policy: bool = True) -> None:
        super().__init__(scope, id)
        self.network_policy = network_policy
        self.kubernetes_version = kubernetes_version
        self.addon_versions = dict(addon_versions or ADDON_VERSIONS.get(kubernetes_version, {}))
        self.admin_role_arns = tuple(admin_role_arns)
        self.developer_role_arns = tuple(developer_role_arns)
        self.developer_namespaces = tuple(developer_namespaces)
        self.developer_access = developer_access
        self.public_access_cidrs = tuple(public_access_cidrs)
        self._validate(name, subnet_ids, public_access_cidrs, log_retention_days)

        log_group_name = f"/aws/eks/{name}/cluster"
        region = DataAwsRegion(self, "region")
        self.kms_key = managed_key(
            self, "key", description=f"Encrypts {name} Kubernetes secrets and control-plane logs",
            protect=deletion_protection,
            statements=[logs_key_statement(region.region, log_group_name)],
        )
        self.log_group = CloudwatchLogGroup(self, "control-plane-logs", name=log_group_name,
                                            retention_in_days=log_retention_days, kms_key_id=self.kms_key.arn)
        self.role = IamRole(
            self, "cluster-role", name_prefix=f"{name}-cluster-"[:38],
            assume_role_policy=_assume_role_policy({
                "Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"]}),
        )
        cluster_policy = IamRolePolicyAttachment(
            self, "cluster-policy", role=self.role.name,
            policy_arn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy")
        self.cluster = EksClusterResource(
            self, "cluster",
            name=name,
            version=kubernetes_version,
            role_arn=self.role.arn,
            vpc_config=EksClusterVpcConfig(
                subnet_ids=list(subnet_ids),
                endpoint_private_access=True,
                endpoint_public_access=bool(public_access_cidrs),
                public_access_cidrs=list(public_access_cidrs) or None,
            ),
            encryption_config=EksClusterEncryptionConfig(
                resources=["secrets"], provider=EksClusterEncryptionConfigProvider(key_arn=self.kms_key.arn)),
            enabled_cluster_log_types=list(CONTROL_PLANE_LOGS),
            access_config=EksClusterAccessConfig(
                authentication_mode="API", bootstrap_cluster_creator_admin_permissions=False),
            # Extended support costs six times standard; upgrading on time is the plan.
            upgrade_policy=EksClusterUpgradePolicy(support_type="STANDARD"),
            zonal_shift_config=EksClusterZonalShiftConfig(enabled=True),
            deletion_protection=deletion_protection,
            depends_on=[cluster_policy, self.log_group],
        )
        if public_access_cidrs:
            suppress(self.cluster, "CKV_AWS_39", reason="the public endpoint admits only the listed CIDRs (never /0; "
                                                        "rule NET-PUBLIC-CIDR caps their size), so CI and people "
                                                        "reach the API without a VPN into the VPC")
        #: The cluster name as a token: passing it on orders creation after the cluster.
        self.name = self.cluster.name
        self.oidc_issuer = self.cluster.identity.get(0).oidc.get(0).issuer
        self.oidc_provider = IamOpenidConnectProvider(
            self, "oidc-provider", url=self.oidc_issuer, client_id_list=["sts.amazonaws.com"])

        for i, arn in enumerate(self.admin_role_arns):
            entry = EksAccessEntry(self, f"admin-{i}", cluster_name=self.name, principal_arn=arn, type="STANDARD")
            EksAccessPolicyAssociation(
                self, f"admin-{i}-policy", cluster_name=self.name, principal_arn=entry.principal_arn,
                policy_arn=_ADMIN_POLICY, access_scope=EksAccessPolicyAssociationAccessScope(type="cluster"))
        for i, arn in enumerate(self.developer_role_arns):
            entry = EksAccessEntry(self, f"developer-{i}", cluster_name=self.name, principal_arn=arn, type="STANDARD",
                                   kubernetes_groups=[DEVELOPERS_GROUP])
            EksAccessPolicyAssociation(
                self, f"developer-{i}-policy", cluster_name=self.name, principal_arn=entry.principal_arn,
                policy_arn=_VIEW_POLICY, access_scope=EksAccessPolicyAssociationAccessScope(
                    type="namespace", namespaces=list(self.developer_namespaces)))

        self.ebs_csi_role = self.service_account_role(
            "ebs-csi-role", namespace="kube-system", service_account="ebs-csi-controller-sa",
            policy_arns=["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"])
        self.addons: dict[str, EksAddon] = {
            addon: EksAddon(
                self, f"addon-{addon}",
                cluster_name=self.name,
                addon_name=addon,
                addon_version=version,
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                service_account_role_arn=self.ebs_csi_role.arn if addon == "aws-ebs-csi-driver" else None,
                configuration_values=_VPC_CNI_NETWORK_POLICY if addon == "vpc-cni" and network_policy else None,
            )
            for addon, version in sorted(self.addon_versions.items())
        }
        self.node_groups: list[EksNodeGroup] = []

    def offers(self) -> list[Offer]:
        """NetworkPolicy enforcement, when the VPC CNI add-on runs its network policy agent."""
        if self.network_policy and "vpc-cni" in self.addons:
            return [Offer(Capability.NETWORK_POLICY, "vpc-cni", self.node.path)]
        return []

    def service_account_role(self, id: str, *, namespace: str, service_account: str,
                             policy_arns: Sequence[str] = ()) -> IamRole:
        """An IAM role that only ``namespace/service_account`` can assume (IRSA); returns it."""
        return service_account_role(self, id, oidc_provider_arn=self.oidc_provider.arn,
                                    oidc_issuer_url=self.oidc_issuer, namespace=namespace,
                                    service_account=service_account, policy_arns=policy_arns)

    def add_node_group(self, id: str, **props: Any) -> EksNodeGroup:
        """Add an ``EksNodeGroup`` joining this cluster (same props but ``cluster_name``); returns it.

        Add-ons that run pods (coredns, EBS CSI) wait for the node groups, so they
        do not sit degraded while there is nowhere to schedule them.
        """
        group = EksNodeGroup(self, id, cluster_name=self.name, **props)
        self.node_groups.append(group)
        # depends_on set after construction needs plain addresses; fqn would render as "${...}".
        addresses = [f"{g.node_group.terraform_resource_type}.{g.node_group.friendly_unique_id}"
                     for g in self.node_groups]
        for addon in _NEEDS_NODES:
            if addon in self.addons:
                self.addons[addon].add_override("depends_on", addresses)
        return group

    def _validate(self, name: str, subnet_ids: Sequence[str], public_access_cidrs: Sequence[str],
                  log_retention_days: int) -> None:
        c = Checks(self.node.path)
        c.require(bool(CLUSTER_NAME.match(name)), "name", name, CLUSTER_NAME_FIX)
        known = ", ".join(sorted(ADDON_VERSIONS))
        c.require(bool(self.addon_versions), "kubernetes_version", self.kubernetes_version,
                  f"no pinned add-on versions for it (pinned: {known}); add them to ADDON_VERSIONS "
                  "or pass addon_versions")
        c.require(len(set(subnet_ids)) >= 2, "subnet_ids", list(subnet_ids),
                  "EKS needs subnets in at least two availability zones")
        for i, cidr in enumerate(public_access_cidrs):
            c.require(not cidr.endswith("/0"), f"public_access_cidrs[{i}]", cidr,
                      "never open the API to the internet; list your VPN or office ranges, or none")
        for i, arn in enumerate(self.admin_role_arns):
            c.require(bool(_ROLE_ARN.match(arn)), f"admin_role_arns[{i}]", arn,
                      "use an IAM role ARN such as 'arn:aws:iam::123456789012:role/platform-admin'")
        for i, arn in enumerate(self.developer_role_arns):
            c.require(bool(_ROLE_ARN.match(arn)), f"developer_role_arns[{i}]", arn,
                      "use an IAM role ARN such as 'arn:aws:iam::123456789012:role/developer'")
            c.require(arn not in self.admin_role_arns, f"developer_role_arns[{i}]", arn,
                      "is also an admin role; a role is one or the other")
        c.require(not self.developer_role_arns or bool(self.developer_namespaces), "developer_namespaces", [],
                  "name the namespaces developers' services run in (their access is scoped to them)")
        for i, namespace in enumerate(self.developer_namespaces):
            c.require(bool(DNS_LABEL.match(namespace)) and namespace not in _SYSTEM_NAMESPACES,
                      f"developer_namespaces[{i}]", namespace,
                      "use a services namespace (a DNS label, not kube-system or another system namespace)")
        c.require(log_retention_days in LOG_RETENTION_DAYS, "log_retention_days", log_retention_days,
                  LOG_RETENTION_FIX)
        c.done()
