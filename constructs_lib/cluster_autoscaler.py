"""cluster-autoscaler: nodes follow the pods, within each node group's own bounds.

It finds the managed node groups by the tags EKS puts on their Auto Scaling
groups (``k8s.io/cluster-autoscaler/enabled``, ``k8s.io/cluster-autoscaler/<cluster>``),
reads each group's minimum and maximum from the group itself, and only ever
changes the desired capacity: it can neither raise a maximum (its IAM role has
no ``UpdateAutoScalingGroup``) nor go past one (AWS refuses a desired capacity
above ``MaxSize``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_helm.release import Release
from constructs import Construct

from ._addons import REGION, REGION_FIX, RESTRICTED_CONTAINER, RESTRICTED_POD, compute, role_annotation, zone_spread
from ._helm import CHART_VERSION, CHART_VERSION_FIX, HelmComponent, Key, LeaderElection, Workload, declare, helm_values
from ._irsa import permissions_policy, service_account_role
from .eks_cluster import CLUSTER_NAME, CLUSTER_NAME_FIX
from .validation import AWS_ACCOUNT_ID, DNS_LABEL, Checks, checked_props

__all__ = ["CLUSTER_AUTOSCALER", "CLUSTER_AUTOSCALER_CHART_VERSION", "CLUSTER_AUTOSCALER_IMAGES",
           "ClusterAutoscaler", "asg_name_pattern"]

#: cluster-autoscaler chart (kubernetes.github.io/autoscaler), tag cluster-autoscaler-chart-9.59.0.
CLUSTER_AUTOSCALER_CHART_VERSION = "9.59.0"

#: The autoscaler release for each Kubernetes minor (newest patch, from the cluster-autoscaler-1.x.y tags):
#: upstream supports an autoscaler only with the control plane minor it was built for. Refresh with
#: ``git tag -l 'cluster-autoscaler-1.33.*'`` in kubernetes/autoscaler.
CLUSTER_AUTOSCALER_IMAGES: Mapping[str, str] = {
    "1.32": "v1.32.7",
    "1.33": "v1.33.6",
    "1.34": "v1.34.5",
    "1.35": "v1.35.2",
}

_RELEASE = "cluster-autoscaler"
_SERVICE_ACCOUNT = "cluster-autoscaler"
#: Ties among groups of the same priority go to the one that wastes the least CPU and memory.
EXPANDER = "priority,least-waste"
_PREFERRED, _OTHERS = 50, 10

#: What the chart runs (read from its templates, tag cluster-autoscaler-chart-9.59.0). Leader election
#: needs no values switch: the binary's --leader-elect defaults to true (FAQ, "parameters to CA") and the
#: chart's ClusterRole grants the lease. The budget template renders whenever ``podDisruptionBudget`` is
#: a non-empty map, which it is by default (``maxUnavailable: 1``).
CLUSTER_AUTOSCALER = declare(HelmComponent(
    chart="cluster-autoscaler", repository="https://kubernetes.github.io/autoscaler", read_from="9.59.0",
    workloads=(
        Workload(name="cluster-autoscaler", replicas=Key("replicaCount", 1),
                 coordination=LeaderElection(Key("extraArgs.leader-elect", True)),
                 pdb=Key("podDisruptionBudget", {"maxUnavailable": 1})),
    ),
))


def asg_name_pattern(node_group_id: str) -> str:
    """The priority-expander pattern for the Auto Scaling group of ``EksNodeGroup(scope, node_group_id)``.

    EKS names a managed node group's Auto Scaling group ``eks-<node group name>-<uuid>``, and
    ``EksNodeGroup`` names the node group ``<id>-`` plus the 26-character suffix Terraform adds to a
    name prefix, so ``batch`` matches ``eks-batch-20260801120000000000000001-<uuid>`` and not the
    group of ``batch-large``.
    """
    return f"^eks-{re.escape(node_group_id)}-[0-9a-f]{{26}}-"


@checked_props
class ClusterAutoscaler(Construct):
    """The cluster autoscaler for the cluster's managed node groups, found by their tags.

    - Discovery: Auto Scaling groups tagged ``k8s.io/cluster-autoscaler/enabled=true`` and
      ``k8s.io/cluster-autoscaler/<cluster_name>=owned`` (EKS tags every managed node group's
      group so); each group's minimum and maximum are the group's own, never set here.
    - Expander ``priority,least-waste``: groups matching ``preferred_node_groups`` (spot
      capacity, say) are tried first, every other group after them; among equals, the group
      that leaves the least CPU and memory idle wins. A group a pod cannot run on (taints,
      selectors) is never chosen for it, so preferring spot never moves a pod that does not
      tolerate it.
    - Scale-down: a node is removed after ``scale_down_unneeded_time`` below
      ``scale_down_utilization_threshold`` of its allocatable CPU and memory (DaemonSets not
      counted), not within 10 minutes of a scale-up; pods with emptyDir scratch space do not
      pin a node, pods in kube-system without a budget do.
    - Two replicas by default, spread over zones, one leader (``CLUSTER_AUTOSCALER``), a
      PodDisruptionBudget; the image matches the cluster's minor (``CLUSTER_AUTOSCALER_IMAGES``).
    - IAM (own IRSA role): describe calls on ``*`` (AWS has no resource for them); the node
      groups of this cluster only for ``eks:DescribeNodegroup``; ``SetDesiredCapacity`` and
      ``TerminateInstanceInAutoScalingGroup`` only on groups tagged as this cluster's.

    :param cluster_name: the EKS cluster.
    :param account_id: the cluster's AWS account.
    :param region: the cluster's region.
    :param oidc_provider_arn: the cluster's IAM OIDC provider (IRSA).
    :param oidc_issuer_url: the cluster's OIDC issuer URL.
    :param kubernetes_version: the cluster's ``major.minor``: picks the autoscaler image.
    :param preferred_node_groups: regular expressions of Auto Scaling group names to scale first
        (``asg_name_pattern("batch")``); default none (least-waste alone decides).
    :param image_tag: an autoscaler image tag; default ``CLUSTER_AUTOSCALER_IMAGES[kubernetes_version]``.
    :param replicas: default 2.
    :param scale_down_unneeded_time: how long a node stays unneeded before it goes; default ``10m``.
    :param scale_down_utilization_threshold: below this share of requests a node is unneeded; default 0.5.
    :param namespace: default ``kube-system``.
    :param chart_version: the cluster-autoscaler chart, pinned; default ``CLUSTER_AUTOSCALER_CHART_VERSION``.
    :param depends_on: what the release waits for; default nothing.
    """

    def __init__(self, scope: Construct, id: str, *, cluster_name: str, account_id: str, region: str,
                 oidc_provider_arn: str, oidc_issuer_url: str, kubernetes_version: str,
                 preferred_node_groups: Sequence[str] = (), image_tag: str | None = None, replicas: int = 2,
                 scale_down_unneeded_time: str = "10m", scale_down_utilization_threshold: float = 0.5,
                 namespace: str = "kube-system", chart_version: str = CLUSTER_AUTOSCALER_CHART_VERSION,
                 depends_on: Sequence[ITerraformDependable] = ()) -> None:
        super().__init__(scope, id)
        c = Checks(self.node.path)
        if c.known(cluster_name):
            c.require(bool(CLUSTER_NAME.match(cluster_name)), "cluster_name", cluster_name, CLUSTER_NAME_FIX)
        c.require(bool(AWS_ACCOUNT_ID.match(account_id)), "account_id", account_id, "use the 12-digit AWS account id")
        c.require(bool(REGION.match(region)), "region", region, REGION_FIX)
        if image_tag is None:
            c.require(kubernetes_version in CLUSTER_AUTOSCALER_IMAGES, "kubernetes_version", kubernetes_version,
                      f"use one of {', '.join(CLUSTER_AUTOSCALER_IMAGES)} (CLUSTER_AUTOSCALER_IMAGES), or pass "
                      "image_tag for another minor")
        else:
            c.require(image_tag.startswith(f"v{kubernetes_version}."), "image_tag", image_tag,
                      f"use a v{kubernetes_version}.x release: the autoscaler must match the cluster's minor")
        for i, pattern in enumerate(preferred_node_groups):
            c.require(_compiles(pattern), f"preferred_node_groups[{i}]", pattern,
                      "use a regular expression of Auto Scaling group names, e.g. asg_name_pattern('batch')")
        c.require(replicas >= 1, "replicas", replicas, "use 1 or more (2 keeps scaling through a zone's loss)")
        c.require(bool(re.match(r"^\d+[smh]$", scale_down_unneeded_time)), "scale_down_unneeded_time",
                  scale_down_unneeded_time, "use a duration such as '10m'")
        c.require(0 < scale_down_utilization_threshold < 1, "scale_down_utilization_threshold",
                  scale_down_utilization_threshold, "use a fraction between 0 and 1, such as 0.5")
        c.require(bool(DNS_LABEL.match(namespace)), "namespace", namespace, "use a DNS label")
        c.require(bool(CHART_VERSION.match(chart_version)), "chart_version", chart_version, CHART_VERSION_FIX)
        c.done()
        self.namespace = namespace
        self.cluster_name = cluster_name
        self.preferred_node_groups = tuple(preferred_node_groups)
        self.image_tag = image_tag or CLUSTER_AUTOSCALER_IMAGES[kubernetes_version]
        self.policy = permissions_policy(
            self, "scale-node-groups", name_prefix="cluster-autoscaler-",
            description=f"Scale the managed node groups of EKS cluster {cluster_name}",
            statements=autoscaler_statements(cluster_name=cluster_name, account_id=account_id, region=region))
        self.role = service_account_role(self, "role", oidc_provider_arn=oidc_provider_arn,
                                         oidc_issuer_url=oidc_issuer_url, namespace=namespace,
                                         service_account=_SERVICE_ACCOUNT, policy_arns=[self.policy.arn])
        self.values = self._values(region, replicas, scale_down_unneeded_time, scale_down_utilization_threshold)
        self.release = Release(
            self, "release", name=_RELEASE, namespace=namespace,
            repository=CLUSTER_AUTOSCALER.repository, chart=CLUSTER_AUTOSCALER.chart, version=chart_version,
            atomic=True, cleanup_on_fail=True, timeout=600, max_history=5,
            values=[helm_values(self.values)], depends_on=list(depends_on) or None)

    def _values(self, region: str, replicas: int, unneeded_time: str, threshold: float) -> dict[str, Any]:
        priorities = {str(_OTHERS): [".*"]}
        if self.preferred_node_groups:
            priorities[str(_PREFERRED)] = list(self.preferred_node_groups)
        return {
            "cloudProvider": "aws",
            "awsRegion": region,
            "autoDiscovery": {"clusterName": self.cluster_name, "tags": [
                "k8s.io/cluster-autoscaler/enabled=true", f"k8s.io/cluster-autoscaler/{self.cluster_name}=owned"]},
            "image": {"tag": self.image_tag},
            "replicaCount": replicas,
            "podDisruptionBudget": {"maxUnavailable": 1},
            "topologySpreadConstraints": zone_spread(
                {"app.kubernetes.io/instance": _RELEASE, "app.kubernetes.io/name": "aws-cluster-autoscaler"},
                replicas),
            "resources": compute("100m", "300Mi", "600Mi"),
            "securityContext": dict(RESTRICTED_POD),
            "containerSecurityContext": dict(RESTRICTED_CONTAINER),
            "rbac": {"serviceAccount": {"create": True, "name": _SERVICE_ACCOUNT,
                                        "annotations": role_annotation(self.role.arn)}},
            # The chart renders the cluster-autoscaler-priority-expander ConfigMap from these; a group that
            # matches no pattern would never be scaled, hence the catch-all at the lower priority.
            "expanderPriorities": priorities,
            "extraArgs": {
                "leader-elect": True,
                "expander": EXPANDER,
                "balance-similar-node-groups": True,
                "scale-down-unneeded-time": unneeded_time,
                "scale-down-delay-after-add": "10m",
                "scale-down-utilization-threshold": threshold,
                "ignore-daemonsets-utilization": True,
                "skip-nodes-with-local-storage": False,
                "skip-nodes-with-system-pods": True,
                "max-node-provision-time": "15m",
            },
        }


def autoscaler_statements(*, cluster_name: str, account_id: str, region: str) -> list[dict[str, Any]]:
    """The autoscaler's IAM statements: upstream's policy for auto-discovery (cloudprovider/aws/README.md,
    "Full Cluster Autoscaler Features Policy"), with every action AWS can scope scoped to this cluster."""
    return [
        {"Sid": "DescribeScalingInputs", "Effect": "Allow",
         # No resource-level permissions exist for these: AWS requires "*".
         "Action": ["autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
                    "ec2:DescribeImages", "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplateVersions",
                    "ec2:GetInstanceTypesFromInstanceRequirements"],
         "Resource": "*"},
        {"Sid": "ReadOwnNodeGroups", "Effect": "Allow", "Action": "eks:DescribeNodegroup",
         "Resource": f"arn:aws:eks:{region}:{account_id}:nodegroup/{cluster_name}/*/*"},
        {"Sid": "ScaleOwnNodeGroups", "Effect": "Allow",
         "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
         "Resource": f"arn:aws:autoscaling:{region}:{account_id}:autoScalingGroup:*:autoScalingGroupName/*",
         "Condition": {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned",
                                        "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true"}}},
    ]


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return bool(pattern)
