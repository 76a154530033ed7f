"""EksNodeGroup: documented defaults, security settings and bad input, on synthesized JSON."""

from __future__ import annotations

from typing import Any

import pytest
from cdktf_cdktf_provider_aws.iam_role import IamRole

from constructs_lib import CapacityType, EksNodeGroup, Taint, TaintEffect
from helpers import assert_config_error, only, resources, synth

SUBNETS = ["subnet-0a11c0ffee0000001", "subnet-0b22c0ffee0000002"]
BATCH: dict[str, Any] = dict(
    cluster_name="shop-staging", subnet_ids=SUBNETS, instance_types=["m7i.large", "m6i.large"],
    min_size=1, max_size=3, capacity_type=CapacityType.SPOT, labels={"workload": "batch"},
    taints=[Taint(key="workload", value="batch", effect=TaintEffect.NO_SCHEDULE)],
)


def node_group(**props) -> dict:
    return synth(lambda stack: EksNodeGroup(stack, "batch", **{**BATCH, **props}))


@pytest.fixture(scope="module")
def batch() -> dict:
    return node_group()


def test_minimal_group_defaults(batch) -> None:
    stack = synth(lambda s: EksNodeGroup(s, "general", cluster_name="c", subnet_ids=SUBNETS,
                                         instance_types=["m7i.large"]))
    group = only(stack, "aws_eks_node_group")
    assert group["scaling_config"] == {"min_size": 1, "max_size": 3, "desired_size": 1}
    assert group["capacity_type"] == "ON_DEMAND"
    assert group["ami_type"] == "AL2023_x86_64_STANDARD"
    assert group["update_config"] == {"max_unavailable_percentage": 33}
    assert group["node_repair_config"] == {"enabled": True}
    assert "labels" not in group and "taint" not in group
    ebs = only(stack, "aws_launch_template")["block_device_mappings"][0]["ebs"]
    assert ebs["volume_size"] == 50


def test_launch_template_requires_imdsv2_and_encrypts_gp3_root(batch) -> None:
    template = only(batch, "aws_launch_template")
    assert template["metadata_options"]["http_tokens"] == "required"
    assert template["metadata_options"]["http_put_response_hop_limit"] == 1
    (device,) = template["block_device_mappings"]
    assert device["device_name"] == "/dev/xvda"
    assert device["ebs"] == {"volume_size": 50, "volume_type": "gp3", "encrypted": "true",
                             "delete_on_termination": "true"}
    assert [t["resource_type"] for t in template["tag_specifications"]] == ["instance", "volume"]
    group = only(batch, "aws_eks_node_group")
    assert group["launch_template"]["id"].startswith("${aws_launch_template.")


def test_desired_size_is_left_to_the_autoscaler(batch) -> None:
    lifecycle = only(batch, "aws_eks_node_group")["lifecycle"]
    assert lifecycle["ignore_changes"] == ["scaling_config[0].desired_size"]
    assert lifecycle["create_before_destroy"] is True
    managed = only(node_group(manage_desired_size=True), "aws_eks_node_group")
    assert "ignore_changes" not in managed["lifecycle"]


def test_taints_labels_and_capacity(batch) -> None:
    group = only(batch, "aws_eks_node_group")
    assert group["taint"] == [{"key": "workload", "value": "batch", "effect": "NO_SCHEDULE"}]
    assert group["labels"] == {"workload": "batch"}
    assert group["capacity_type"] == "SPOT"
    assert group["node_group_name_prefix"] == "batch-"


def test_cluster_autoscaler_discovery_tags(batch) -> None:
    assert only(batch, "aws_eks_node_group")["tags"] == {
        "k8s.io/cluster-autoscaler/enabled": "true",
        "k8s.io/cluster-autoscaler/shop-staging": "owned",
    }


def test_node_role_has_the_policies_nodes_need(batch) -> None:
    role = only(batch, "aws_iam_role")
    assert '"Service":"ec2.amazonaws.com"' in role["assume_role_policy"]
    arns = sorted(a["policy_arn"] for a in resources(batch, "aws_iam_role_policy_attachment").values())
    assert arns == sorted(f"arn:aws:iam::aws:policy/{p}" for p in (
        "AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly",
        "AmazonSSMManagedInstanceCore"))
    group = only(batch, "aws_eks_node_group")
    assert len(group["depends_on"]) == 4  # nodes join only once the role can let them


def test_a_passed_role_is_used_instead_of_a_new_one() -> None:
    def build(stack):
        role = IamRole(stack, "shared", assume_role_policy="{}")
        EksNodeGroup(stack, "batch", **BATCH, role=role)
    stack = synth(build)
    assert list(resources(stack, "aws_iam_role")) == ["shared"]
    assert resources(stack, "aws_iam_role_policy_attachment") == {}
    assert only(stack, "aws_eks_node_group")["node_role_arn"] == "${aws_iam_role.shared.arn}"


def test_attributes_are_readable_for_the_microservice_contract() -> None:
    from cdktf import TerraformStack, Testing
    group = EksNodeGroup(TerraformStack(Testing.app(), "t"), "batch", **BATCH)
    assert group.taints == (Taint(key="workload", value="batch", effect=TaintEffect.NO_SCHEDULE),)
    assert dict(group.labels) == {"workload": "batch"}
    assert TaintEffect.NO_SCHEDULE.kubernetes == "NoSchedule"


BAD_INPUT = {
    "min above max": (dict(min_size=4, max_size=3), r"min_size = 4: must not exceed max_size \(3\)"),
    "desired below min": (dict(min_size=2, desired_size=1), r"desired_size = 1: use a value between min_size \(2\)"),
    "desired above max": (dict(desired_size=9), r"desired_size = 9: use a value between min_size \(1\) and max_size"),
    "negative size": (dict(min_size=-1), r"min_size = -1: use 0 or more"),
    "above the environment's node cap": (
        dict(max_size=60, node_cap=6), r"max_size = 60: node_cap allows at most 6 nodes"),
    "no instance types": (dict(instance_types=[]), r"instance_types = \[\]: list at least one instance type"),
    "graviton with an x86_64 AMI": (
        dict(instance_types=["m7g.large", "m6g.large"]),
        r"instance_types\[0\] = 'm7g.large': is arm64 but ami_type 'AL2023_x86_64_STANDARD' runs on x86_64"),
    "x86_64 with an ARM AMI": (
        dict(ami_type="AL2023_ARM_64_STANDARD"),
        r"instance_types\[0\] = 'm7i.large': is x86_64 but ami_type 'AL2023_ARM_64_STANDARD' runs on arm64"),
    "unknown AMI type": (dict(ami_type="UBUNTU_22"), r"ami_type = 'UBUNTU_22': use one of AL2023_ARM_64_NVIDIA"),
    "malformed instance type": (dict(instance_types=["large", "m6i.large"]),
                                r"instance_types\[0\] = 'large': did you mean 't3.large'\? not an EC2 instance type"),
    "spot with one instance type": (
        dict(instance_types=["m7i.large"]),
        r"instance_types = \['m7i.large'\]: SPOT capacity needs at least two instance types"),
    "invalid label key": (dict(labels={"team name": "x"}), r"labels\['team name'\] = 'team name': use an optional"),
    "reserved label prefix": (dict(labels={"kubernetes.io/role": "x"}), r"EKS rejects labels under kubernetes.io/"),
    "invalid label value": (dict(labels={"tier": "-edge"}), r"labels\['tier'\] = '-edge': use at most 63"),
    "invalid taint value": (dict(taints=[Taint(key="workload", value="batch jobs")]),
                            r"taints\[0\].value = 'batch jobs': use at most 63"),
    "taint effect as a plain string": (
        dict(taints=[Taint(key="workload", value="batch", effect="NoSchedule")]),  # type: ignore[arg-type]
        r"taints\[0\].effect = 'NoSchedule': expected TaintEffect, got a string; use one of TaintEffect.NO_SCHEDULE"),
    "capacity type as a plain string": (
        dict(capacity_type="spot"),
        r"capacity_type = 'spot': expected CapacityType, got a string; use one of CapacityType.ON_DEMAND, "
        r"CapacityType.SPOT"),
    "one subnet": (dict(subnet_ids=SUBNETS[:1]),
                   r"subnet_ids = \['subnet-0a11c0ffee0000001'\]: give at least two subnets"),
    "disk too small": (dict(disk_size_gib=8), r"disk_size_gib = 8: use 20 to 16384 GiB"),
    "update batch of 0%": (dict(max_unavailable_percent=0), r"max_unavailable_percent = 0: use 1 to 100"),
    "an instance type EC2 does not have": (dict(instance_types=["m7i.large", "m7i.huge"]),
                                           r"instance_types\[1\] = 'm7i.huge': .*not an EC2 instance type"),
    "an instance type listed twice": (dict(instance_types=["m7i.large", "m6i.large", "m7i.large"]),
                                      r"instance_types\[2\] = 'm7i.large': is listed twice"),
    "mixed architectures": (dict(instance_types=["m7i.large", "m7g.large"]),
                            r"instance_types\[1\] = 'm7g.large': is arm64 but ami_type"),
    "a subnet listed twice": (dict(subnet_ids=[SUBNETS[0], SUBNETS[0], SUBNETS[1]]),
                              r"subnet_ids = .*: list each subnet once"),
    # types
    "instance types as one string": (dict(instance_types="m7i.large"),
                                     r"instance_types = 'm7i.large': expected a list of str, got a string"),
    "max size as a string": (dict(max_size="4"), r"max_size = '4': expected int, got a string \(write 4 without"),
    "a fraction where a percentage goes": (dict(max_unavailable_percent=0.33),
                                           r"max_unavailable_percent = 0.33: expected int, got a float \(a percentage"),
    "labels as a list": (dict(labels=["workload=batch"]), r"labels = \['workload=batch'\]: expected a mapping"),
}


@pytest.mark.parametrize("props, message", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_names_path_field_value_and_fix(props: dict, message: str) -> None:
    assert_config_error(lambda: node_group(**props), r"test/batch: ", message)


def test_a_single_subnet_is_allowed_as_an_explicit_decision() -> None:
    group = only(node_group(subnet_ids=SUBNETS[:1], multi_az=False), "aws_eks_node_group")
    assert group["subnet_ids"] == SUBNETS[:1]
