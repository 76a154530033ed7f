"""EKS managed node groups: right-sized, tainted, autoscaled, secure."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from cdktf import TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.eks_node_group import (
    EksNodeGroup as EksNodeGroupResource,
)
from cdktf_cdktf_provider_aws.eks_node_group import (
    EksNodeGroupLaunchTemplate,
    EksNodeGroupNodeRepairConfig,
    EksNodeGroupScalingConfig,
    EksNodeGroupTaint,
    EksNodeGroupUpdateConfig,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.launch_template import (
    LaunchTemplate,
    LaunchTemplateBlockDeviceMappings,
    LaunchTemplateBlockDeviceMappingsEbs,
    LaunchTemplateMetadataOptions,
    LaunchTemplateTagSpecifications,
)
from constructs import Construct

from ._aws import ec2_instance_types, unknown_instance_type_fix
from ._kubernetes_names import LABEL_VALUE_FIX, QUALIFIED_NAME_FIX, is_label_value, is_qualified_name
from .capabilities import Capability, Offer
from .validation import Checks, checked_fields, checked_props

__all__ = ["NODE_POLICIES", "CapacityType", "EksNodeGroup", "Taint", "TaintEffect", "check_pool"]


class CapacityType(StrEnum):
    """How EC2 capacity for a node group is bought."""

    ON_DEMAND = "ON_DEMAND"
    SPOT = "SPOT"


class TaintEffect(StrEnum):
    """Kubernetes taint effects, spelled as the EKS API wants them."""

    NO_SCHEDULE = "NO_SCHEDULE"
    PREFER_NO_SCHEDULE = "PREFER_NO_SCHEDULE"
    NO_EXECUTE = "NO_EXECUTE"

    @property
    def kubernetes(self) -> str:
        """The effect as a pod toleration spells it (``NoSchedule``)."""
        return "".join(part.capitalize() for part in self.value.split("_"))


@checked_fields
@dataclass(frozen=True, kw_only=True)
class Taint:
    """A node taint; pods scheduled onto the group must tolerate it."""

    key: str
    value: str | None = None
    effect: TaintEffect = TaintEffect.NO_SCHEDULE


#: AWS-managed policies a node needs: join the cluster, run the VPC CNI, pull
#: from ECR, and be reachable through SSM Session Manager instead of SSH.
NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonSSMManagedInstanceCore",
)

#: EKS AMI types and the CPU architecture their instances must have.
AMI_ARCHITECTURES = {
    "AL2023_x86_64_STANDARD": "x86_64",
    "AL2023_x86_64_NVIDIA": "x86_64",
    "AL2023_x86_64_NEURON": "x86_64",
    "AL2023_ARM_64_STANDARD": "arm64",
    "AL2023_ARM_64_NVIDIA": "arm64",
    "BOTTLEROCKET_x86_64": "x86_64",
    "BOTTLEROCKET_x86_64_NVIDIA": "x86_64",
    "BOTTLEROCKET_ARM_64": "arm64",
    "BOTTLEROCKET_ARM_64_NVIDIA": "arm64",
}

_INSTANCE_TYPE = re.compile(r"^(?P<family>[a-z]+)(?P<generation>\d+)(?P<options>[a-z-]*)\.[a-z0-9]+$")
# Kubernetes and EKS own these label prefixes; EKS rejects node group labels under them.
_RESERVED_LABEL_PREFIXES = ("kubernetes.io/", "k8s.io/", "eks.amazonaws.com/")


def instance_architecture(instance_type: str) -> str | None:
    """``arm64`` for Graviton (``m7g.large``, ``c6gn.xlarge``), ``x86_64`` otherwise; None if malformed."""
    match = _INSTANCE_TYPE.match(instance_type)
    if not match:
        return None
    # a1 was the first Graviton; since then a 'g' right after the generation marks Graviton.
    graviton = match["family"] == "a" or match["options"].startswith("g")
    return "arm64" if graviton else "x86_64"


@checked_props
class EksNodeGroup(Construct):
    """An EKS managed node group with its launch template and node role.

    Nodes get IMDSv2 only (hop limit 1: pods use IRSA, not the node's role), an
    encrypted gp3 root volume, the cluster-autoscaler discovery tags, and node
    auto-repair. The group is created before the one it replaces
    (``create_before_destroy`` with a name prefix) so that a change that forces
    replacement, such as new instance types, drains onto new nodes instead of
    leaving the cluster without capacity.

    :param cluster_name: the EKS cluster the nodes join (a token from ``EksCluster.name`` orders creation).
    :param subnet_ids: private subnets the nodes run in.
    :param instance_types: EC2 instance types, most preferred first; SPOT needs at least two.
    :param min_size: fewest nodes; default 1.
    :param max_size: most nodes the cluster autoscaler may run; default 3.
    :param desired_size: nodes at creation; default ``min_size``. Left to the cluster autoscaler afterwards.
    :param capacity_type: ON_DEMAND (default) or SPOT.
    :param ami_type: EKS AMI type; default ``AL2023_x86_64_STANDARD``. Must match the instances' architecture.
    :param disk_size_gib: root volume size; default 50.
    :param labels: Kubernetes labels on every node; default none.
    :param taints: taints on every node; default none.
    :param max_unavailable_percent: nodes replaced at once during an update; default 33.
    :param role: an existing node IAM role; default: one is created with ``NODE_POLICIES``.
    :param node_cap: a cap on ``max_size`` of this group's own; default none. The environment's
        cap holds anyway (rule ENV-NODE-CAP): this can only tighten it.
    :param multi_az: require subnets in at least two places; default True. False is for a
        single-subnet sandbox and reads as that decision in review.
    :param manage_desired_size: True gives Terraform ``desired_size`` back (it is ignored after
        creation by default, so that applies do not undo the autoscaler); default False.
    :param tags: tags for the instances and volumes the group launches (provider default tags
        do not reach them); default none.
    """

    def __init__(self, scope: Construct, id: str, *, cluster_name: str, subnet_ids: Sequence[str],
                 instance_types: Sequence[str], min_size: int = 1, max_size: int = 3,
                 desired_size: int | None = None, capacity_type: CapacityType = CapacityType.ON_DEMAND,
                 ami_type: str = "AL2023_x86_64_STANDARD", disk_size_gib: int = 50,
                 labels: Mapping[str, str] | None = None, taints: Sequence[Taint] = (),
                 max_unavailable_percent: int = 33, role: IamRole | None = None, node_cap: int | None = None,
                 multi_az: bool = True, manage_desired_size: bool = False,
                 tags: Mapping[str, str] | None = None) -> None:
        super().__init__(scope, id)
        self.instance_types = tuple(instance_types)
        self.min_size = min_size
        self.max_size = max_size
        self.desired_size = min_size if desired_size is None else desired_size
        self.capacity_type = capacity_type
        self.ami_type = ami_type
        self.disk_size_gib = disk_size_gib
        self.labels: Mapping[str, str] = dict(labels or {})
        self.taints: tuple[Taint, ...] = tuple(taints)
        self._validate(subnet_ids=subnet_ids, max_unavailable_percent=max_unavailable_percent,
                       node_cap=node_cap, multi_az=multi_az)

        policy_attachments: list[IamRolePolicyAttachment] = []
        if role is None:
            role, policy_attachments = self._node_role()
        self.role = role
        self.launch_template = LaunchTemplate(
            self, "launch-template",
            name_prefix=f"{id}-",
            description=f"EKS node group {id}",
            update_default_version=True,
            metadata_options=LaunchTemplateMetadataOptions(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1,
                instance_metadata_tags="disabled"),
            block_device_mappings=[LaunchTemplateBlockDeviceMappings(
                device_name="/dev/xvdb" if ami_type.startswith("BOTTLEROCKET") else "/dev/xvda",
                ebs=LaunchTemplateBlockDeviceMappingsEbs(
                    volume_size=disk_size_gib, volume_type="gp3", encrypted="true",
                    delete_on_termination="true"),
            )],
            tag_specifications=[
                LaunchTemplateTagSpecifications(resource_type=kind, tags={**(tags or {}), "node-group": id})
                for kind in ("instance", "volume")
            ],
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        ignore = None if manage_desired_size else ["scaling_config[0].desired_size"]
        self.node_group = EksNodeGroupResource(
            self, "node-group",
            cluster_name=cluster_name,
            node_group_name_prefix=f"{id}-",
            node_role_arn=self.role.arn,
            subnet_ids=list(subnet_ids),
            instance_types=list(self.instance_types),
            capacity_type=capacity_type.value,
            ami_type=ami_type,
            scaling_config=EksNodeGroupScalingConfig(
                min_size=min_size, max_size=max_size, desired_size=self.desired_size),
            update_config=EksNodeGroupUpdateConfig(max_unavailable_percentage=max_unavailable_percent),
            node_repair_config=EksNodeGroupNodeRepairConfig(enabled=True),
            launch_template=EksNodeGroupLaunchTemplate(
                id=self.launch_template.id, version=Token.as_string(self.launch_template.latest_version)),
            labels=dict(self.labels) or None,
            taint=[EksNodeGroupTaint(key=t.key, value=t.value, effect=t.effect.value) for t in self.taints] or None,
            tags={
                "k8s.io/cluster-autoscaler/enabled": "true",
                f"k8s.io/cluster-autoscaler/{cluster_name}": "owned",
            },
            depends_on=policy_attachments,
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True, ignore_changes=ignore),
        )

    def offers(self) -> list[Offer]:
        """The node group itself: services that name it run on it."""
        return [Offer(Capability.NODE_GROUP, self.node.path, self.node.path)]

    def _node_role(self) -> tuple[IamRole, list[IamRolePolicyAttachment]]:
        role = IamRole(
            self, "role",
            name_prefix=f"{self.node.id}-node-"[:38],
            description=f"Nodes of EKS node group {self.node.id}",
            assume_role_policy=(
                '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
                '"Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
            ),
        )
        attachments = [
            IamRolePolicyAttachment(self, f"policy-{policy}", role=role.name,
                                    policy_arn=f"arn:aws:iam::aws:policy/{policy}")
            for policy in NODE_POLICIES
        ]
        return role, attachments

    def _validate(self, *, subnet_ids: Sequence[str], max_unavailable_percent: int, node_cap: int | None,
                  multi_az: bool) -> None:
        c = Checks(self.node.path)
        check_pool(c, instance_types=self.instance_types, min_size=self.min_size, max_size=self.max_size,
                   desired_size=self.desired_size, capacity_type=self.capacity_type, ami_type=self.ami_type,
                   disk_size_gib=self.disk_size_gib, labels=self.labels, taints=self.taints)
        if node_cap is not None:
            c.require(self.max_size <= node_cap, "max_size", self.max_size,
                      f"node_cap allows at most {node_cap} nodes; lower max_size or raise node_cap")
        c.require(1 <= max_unavailable_percent <= 100, "max_unavailable_percent", max_unavailable_percent,
                  "use 1 to 100")
        if multi_az:
            c.require(len(set(subnet_ids)) >= 2, "subnet_ids", list(subnet_ids),
                      "give at least two subnets in different availability zones, so that losing a zone "
                      "keeps nodes; or pass multi_az=False for a deliberate single-zone group")
        c.require(len(set(subnet_ids)) == len(subnet_ids), "subnet_ids", list(subnet_ids), "list each subnet once")
        c.done()


def check_pool(c: Checks, *, instance_types: Sequence[str], min_size: int, max_size: int, desired_size: int,
               capacity_type: CapacityType, ami_type: str, disk_size_gib: int, labels: Mapping[str, str],
               taints: Sequence[Taint], at: str = "") -> None:
    """The checks a node group's sizes, instances, labels and taints pass, for the construct and for an
    environment's node pool alike (``at`` prefixes the field names)."""
    c.require(min_size >= 0, f"{at}min_size", min_size, "use 0 or more")
    c.require(max_size >= 1, f"{at}max_size", max_size, "use 1 or more")
    c.require(min_size <= max_size, f"{at}min_size", min_size,
              f"must not exceed max_size ({max_size}); lower min_size or raise max_size")
    c.require(min_size > max_size or min_size <= desired_size <= max_size, f"{at}desired_size", desired_size,
              f"use a value between min_size ({min_size}) and max_size ({max_size})")
    if c.require(bool(instance_types), f"{at}instance_types", [], "list at least one instance type"):
        _check_instances(c, instance_types, ami_type, at)
    c.require(not (capacity_type is CapacityType.SPOT and len(instance_types) < 2),
              f"{at}instance_types", list(instance_types),
              "SPOT capacity needs at least two instance types (ideally three or more of similar size) "
              "so that one interrupted pool does not take every node")
    c.require(isinstance(capacity_type, CapacityType), f"{at}capacity_type", capacity_type,
              "use CapacityType.ON_DEMAND or CapacityType.SPOT")
    c.require(20 <= disk_size_gib <= 16384, f"{at}disk_size_gib", disk_size_gib,
              "use 20 to 16384 GiB (the AMI itself needs 20)")
    for key, value in labels.items():
        c.require(is_qualified_name(key), f"{at}labels[{key!r}]", key, QUALIFIED_NAME_FIX)
        c.require(not key.startswith(_RESERVED_LABEL_PREFIXES), f"{at}labels[{key!r}]", key,
                  "EKS rejects labels under kubernetes.io/, k8s.io/ and eks.amazonaws.com/; use your own prefix")
        c.require(is_label_value(value), f"{at}labels[{key!r}]", value, LABEL_VALUE_FIX)
    for i, taint in enumerate(taints):
        c.require(is_qualified_name(taint.key), f"{at}taints[{i}].key", taint.key, QUALIFIED_NAME_FIX)
        c.require(taint.value is None or is_label_value(taint.value), f"{at}taints[{i}].value", taint.value,
                  LABEL_VALUE_FIX)
        c.require(isinstance(taint.effect, TaintEffect), f"{at}taints[{i}].effect", taint.effect,
                  "use TaintEffect.NO_SCHEDULE, PREFER_NO_SCHEDULE or NO_EXECUTE")


def _check_instances(c: Checks, instance_types: Sequence[str], ami_type: str, at: str) -> None:
    wanted = AMI_ARCHITECTURES.get(ami_type)
    c.require(wanted is not None, f"{at}ami_type", ami_type, f"use one of {', '.join(sorted(AMI_ARCHITECTURES))}")
    known = ec2_instance_types()
    for i, instance_type in enumerate(instance_types):
        arch = instance_architecture(instance_type)
        if not c.require(arch is not None and instance_type in known, f"{at}instance_types[{i}]", instance_type,
                         functools.partial(unknown_instance_type_fix, instance_type)):
            continue
        c.require(list(instance_types).index(instance_type) == i, f"{at}instance_types[{i}]", instance_type,
                  "is listed twice; list each instance type once")
        if wanted:
            c.require(arch == wanted, f"{at}instance_types[{i}]", instance_type,
                      f"is {arch} but ami_type {ami_type!r} runs on {wanted}; use "
                      + ("a Graviton type (m7g, c7g, r7g ...) or keep an ARM_64 AMI" if wanted == "arm64"
                         else "an x86_64 type, or an ARM_64 ami_type for Graviton"))
