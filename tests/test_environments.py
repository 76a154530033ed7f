"""Environment configs: the shipped ones are valid, and each kind of mistake is reported clearly."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from constructs_lib import PRODUCTION as PRODUCTION_RULES
from constructs_lib import CapacityType, ConfigError
from environments import ENVIRONMENTS, PRODUCTION, STAGING, Cluster, Network, NodePool, Subnet


def test_shipped_environments() -> None:
    assert list(ENVIRONMENTS) == ["staging", "production"]
    for env in ENVIRONMENTS.values():
        assert len(env.network.availability_zones) >= 2


def test_config_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        STAGING.region = "us-east-1"  # type: ignore[misc]
    with pytest.raises(TypeError):
        STAGING.tags["team"] = "someone-else"  # type: ignore[index]
    assert isinstance(STAGING.network.private_subnets, tuple)


def _pool(**changes: object) -> NodePool:
    base = dict(name="general", instance_types=["m7i.large"], min_size=1, max_size=3)
    return NodePool(**{**base, **changes})  # type: ignore[arg-type]


def _cluster(*pools: NodePool, **changes: Any) -> Cluster:
    return dataclasses.replace(PRODUCTION.cluster, node_pools=pools or PRODUCTION.cluster.node_pools, **changes)


ONE_SUBNET = Network(vpc_id=PRODUCTION.network.vpc_id,
                     private_subnets=[Subnet(id="subnet-0c33beef00000a001", availability_zone="eu-west-1a")])

BAD_VALUES = {
    "account id too short": (
        dict(account_id="12345678901"),
        r"account_id = '12345678901': use the 12-digit AWS account id"),
    "account id with dashes": (
        dict(account_id="3456-7890-1234"),
        r"account_id = '3456-7890-1234'"),
    "unknown region, with a suggestion": (
        dict(region="eu-west-9"),
        r"region = 'eu-west-9': use an AWS region code such as 'eu-west-1'; did you mean"),
    "one subnet in production": (
        dict(network=ONE_SUBNET),
        r"network.private_subnets = \['subnet-0c33beef00000a001'\]: subnets cover 1 availability zone\(s\); "
        r"EKS and Multi-AZ failover need private subnets in at least two, so add a subnet in another zone"),
    "subnet in another region's zone": (
        dict(network=dataclasses.replace(PRODUCTION.network, private_subnets=[
            *PRODUCTION.network.private_subnets[:2],
            Subnet(id="subnet-0e55beef00000c003", availability_zone="us-east-1c")])),
        r"network.private_subnets\[2\].availability_zone = 'us-east-1c': use a zone of region 'eu-west-1'"),
    "malformed vpc id": (
        dict(network=dataclasses.replace(PRODUCTION.network, vpc_id="vpc-123")),
        r"network.vpc_id = 'vpc-123': use a VPC id such as"),
    "node pool min > max": (
        dict(cluster=_cluster(_pool(min_size=5, max_size=3))),
        r"cluster.node_pools\['general'\].min_size = 5: must not exceed max_size \(3\)"),
    "node pool above the environment's node cap": (
        dict(cluster=_cluster(_pool(max_size=150))),
        r"cluster.node_pools\['general'\].max_size = 150: the environment caps a node group at 15 nodes"),
    "desired size outside min..max": (
        dict(cluster=_cluster(_pool(desired_size=9))),
        r"cluster.node_pools\['general'\].desired_size = 9: use a value between min_size \(1\) and max_size \(3\)"),
    "node pool without instance types": (
        dict(cluster=_cluster(_pool(instance_types=[]))),
        r"cluster.node_pools\['general'\].instance_types = \[\]: list at least one instance type"),
    "duplicate node pool names": (
        dict(cluster=_cluster(_pool(), _pool(capacity_type=CapacityType.SPOT))),
        r"give every node pool its own name"),
    "kubernetes version not major.minor": (
        dict(cluster=_cluster(kubernetes_version="1.33.2")),
        r"cluster.kubernetes_version = '1.33.2': use a supported EKS version"),
    "public endpoint open to the world": (
        dict(cluster=_cluster(public_access_cidrs=["0.0.0.0/0"])),
        r"cluster.public_access_cidrs\[0\] = '0.0.0.0/0': .*never 0.0.0.0/0"),
    "replica cap below one": (
        dict(limits=dataclasses.replace(PRODUCTION.limits, max_replicas_per_service=0)),
        r"limits.max_replicas_per_service = 0: use 1 or more"),
    "state bucket with capitals": (
        dict(state=dataclasses.replace(PRODUCTION.state, bucket="Acme_State")),
        r"state.bucket = 'Acme_State': use 3-63 lowercase letters"),
    "domain that is not a DNS zone": (dict(domain="acme shop"), r"domain = 'acme shop': use a DNS zone"),
    "admin role of another account": (
        dict(cluster=_cluster(admin_role_arns=["arn:aws:iam::210987654321:role/platform-admin"])),
        r"cluster.admin_role_arns\[0\] = .*: use a role of this environment's account, 'arn:aws:iam::345678901234"),
    "alerts topic of another account": (
        dict(alerts_topic_arn="arn:aws:sns:eu-west-1:210987654321:platform-alerts"),
        r"alerts_topic_arn = .*: use an SNS topic ARN of this environment, 'arn:aws:sns:eu-west-1:345678901234:"),
    "reserved tag prefix": (
        dict(tags={"aws:owner": "me"}),
        r"tags\['aws:owner'\] = 'aws:owner': tag keys are 1-128 characters and may not start with 'aws:'"),
    # types: a wrong type is named before any value check reads it
    "node pool size as a string": (
        dict(cluster=_cluster(_pool(max_size="4"))),
        r"^environment 'production': cluster.node_pools\['general'\].max_size = '4': expected int, got a string "
        r"\(write 4 without quotes\)$"),
    "instance types as one string": (
        dict(cluster=_cluster(_pool(instance_types="m7i.large"))),
        r"cluster.node_pools\['general'\].instance_types = 'm7i.large': expected a list of str, got a string"),
    "capacity type as a string": (
        dict(cluster=_cluster(_pool(capacity_type="SPOT"))),
        r"capacity_type = 'SPOT': expected CapacityType, got a string; use one of CapacityType.ON_DEMAND"),
    "account id as a number": (dict(account_id=345678901234), r"account_id = 345678901234: expected str, got an int"),
    "a subnet as a string": (
        dict(network=dataclasses.replace(PRODUCTION.network, private_subnets=["subnet-0c33beef00000a001"])),  # type: ignore[list-item]
        r"network.private_subnets\[0\] = 'subnet-0c33beef00000a001': expected Subnet, got a string"),
    "limits as a dict": (dict(limits={"max_replicas_per_service": 20}),
                         r"limits = \{.*\}: expected Limits, got a dict"),
    "protect_stateful as a string": (dict(protect_stateful="yes"), r"protect_stateful = 'yes': expected bool"),
    # cross-field consistency and facts
    "an instance type EC2 does not have": (
        dict(cluster=_cluster(_pool(instance_types=["m7i.large", "m7i.lrage"]))),
        r"cluster.node_pools\['general'\].instance_types\[1\] = 'm7i.lrage': did you mean 'm7i.large'\? not an EC2 "
        r"instance type"),
    "an instance type listed twice": (
        dict(cluster=_cluster(_pool(instance_types=["m7i.large", "m7i.large"]))),
        r"instance_types\[1\] = 'm7i.large': is listed twice"),
    "instance types of two architectures": (
        dict(cluster=_cluster(_pool(instance_types=["m7i.large", "m7g.large"]))),
        r"instance_types\[1\] = 'm7g.large': is arm64 but ami_type 'AL2023_x86_64_STANDARD' runs on x86_64"),
    "spot with one instance type": (
        dict(cluster=_cluster(_pool(capacity_type=CapacityType.SPOT))),
        r"instance_types = \['m7i.large'\]: SPOT capacity needs at least two instance types"),
    "a subnet listed twice": (
        dict(network=dataclasses.replace(PRODUCTION.network, private_subnets=[
            *PRODUCTION.network.private_subnets, PRODUCTION.network.private_subnets[0]])),
        r"network.private_subnets\[3\].id = 'subnet-0c33beef00000a001': list each subnet once"),
    "a public endpoint in two halves": (
        dict(cluster=_cluster(public_access_cidrs=["0.0.0.0/1", "128.0.0.0/1"])),
        r"cluster.public_access_cidrs = .*: together they admit 4,\d{3},\d{3},\d{3} internet addresses"),
    "rules without the baseline": (dict(rules=[PRODUCTION_RULES]), r"rules = .*: keep constructs_lib.rules.BASELINE"),
}


@pytest.mark.parametrize("changes, message", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_bad_value_names_environment_field_value_and_fix(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        dataclasses.replace(PRODUCTION, **changes)
    text = str(error.value)
    assert text.startswith("environment 'production': ")
    assert re.search(message, text), text


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(ConfigError) as error:
        dataclasses.replace(STAGING, account_id="1", region="mars-1")
    assert str(error.value).startswith("environment 'staging': 2 problems\n")
    assert [p.field for p in error.value.problems] == ["account_id", "region"]


def test_a_missing_or_unknown_field_names_the_file_line_class_and_fix() -> None:
    with pytest.raises(ConfigError) as error:
        Subnet(id="subnet-0c33beef00000a001", zone="eu-west-1a")  # type: ignore[call-arg]
    assert re.fullmatch(r"tests/test_environments\.py:\d+: Subnet\(\.\.\.\): 2 problems\n"
                        r"  - zone = 'eu-west-1a': Subnet has no field 'zone'; did you mean 'availability_zone'\?\n"
                        r"  - availability_zone = None: is required by Subnet", str(error.value)), str(error.value)


def test_a_wrong_keyword_in_an_option_group_is_named_with_the_closest_one() -> None:
    from constructs_lib import Autoscaling
    with pytest.raises(ConfigError) as error:
        Autoscaling(max=10)  # type: ignore[call-arg]
    assert re.fullmatch(r"tests/test_environments\.py:\d+: Autoscaling\(\.\.\.\): max = 10: Autoscaling has no field "
                        r"'max'; did you mean 'max_replicas'\?", str(error.value)), str(error.value)
