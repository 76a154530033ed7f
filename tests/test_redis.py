"""ManagedRedis: snapshots, encryption, failover, the AUTH token, network rules, wiring, bad input."""

from __future__ import annotations

import json
import re

import pytest
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from syrupy.extensions.json import JSONSnapshotExtension

from constructs_lib import ManagedRedis, Microservice
from constructs_lib.redis import parameter_group_family, replication_group_id
from helpers import assert_config_error, only, resources, synth

VPC = "vpc-0a1b2c3d4e5f60718"
SUBNETS = ["subnet-0a11c0ffee0000001", "subnet-0b22c0ffee0000002", "subnet-0c33c0ffee0000003"]
TOPIC = "arn:aws:sns:eu-west-1:345678901234:platform-alerts"


def production_cache(stack) -> ManagedRedis:
    return ManagedRedis(stack, "sessions", vpc_id=VPC, subnet_ids=SUBNETS, node_type="cache.r7g.large",
                        replicas=2, allowed_security_group_ids=["sg-0123456789abcdef0"],
                        snapshot_retention_days=14, protect=True, alarm_topic_arn=TOPIC,
                        secret_name="production/redis/sessions")


@pytest.fixture(scope="module")
def minimal() -> dict:
    return synth(lambda s: ManagedRedis(s, "cache", vpc_id=VPC, subnet_ids=SUBNETS[:2]))


@pytest.fixture(scope="module")
def production() -> dict:
    return synth(production_cache)


@pytest.mark.parametrize("name", ["minimal", "production"])
def test_snapshot(name: str, request, snapshot) -> None:
    assert request.getfixturevalue(name) == snapshot.use_extension(JSONSnapshotExtension)


def test_encrypted_at_rest_with_its_own_key_and_in_transit(minimal) -> None:
    group = only(minimal, "aws_elasticache_replication_group")
    (key_name,) = resources(minimal, "aws_kms_key")
    assert group["at_rest_encryption_enabled"] == "true"
    assert group["kms_key_id"] == f"${{aws_kms_key.{key_name}.arn}}"
    assert group["transit_encryption_enabled"] is True
    assert group["transit_encryption_mode"] == "required"
    assert only(minimal, "aws_kms_key")["enable_key_rotation"] is True
    assert only(minimal, "aws_secretsmanager_secret")["kms_key_id"] == group["kms_key_id"]
    assert only(minimal, "aws_cloudwatch_log_group")["kms_key_id"] == group["kms_key_id"]


def test_a_passed_key_replaces_the_created_one() -> None:
    arn = "arn:aws:kms:eu-west-1:345678901234:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    out = synth(lambda s: ManagedRedis(s, "cache", vpc_id=VPC, subnet_ids=SUBNETS, kms_key_arn=arn))
    assert "aws_kms_key" not in out["resource"]
    assert only(out, "aws_elasticache_replication_group")["kms_key_id"] == arn


def test_survives_losing_a_node_or_a_zone(minimal, production) -> None:
    for out, nodes in ((minimal, 2), (production, 3)):
        group = only(out, "aws_elasticache_replication_group")
        assert group["automatic_failover_enabled"] is True
        assert group["multi_az_enabled"] is True
        assert group["num_cache_clusters"] == nodes


def test_a_single_node_cache_without_multi_az() -> None:
    out = synth(lambda s: ManagedRedis(s, "scratch", vpc_id=VPC, subnet_ids=SUBNETS[:1], replicas=0,
                                       multi_az=False))
    group = only(out, "aws_elasticache_replication_group")
    assert (group["num_cache_clusters"], group["multi_az_enabled"], group["automatic_failover_enabled"]) == (
        1, False, False)


def test_auth_token_is_generated_and_never_a_literal(minimal) -> None:
    (password_name,) = resources(minimal, "random_password")
    reference = f"${{random_password.{password_name}.result}}"
    group = only(minimal, "aws_elasticache_replication_group")
    assert group["auth_token"] == reference
    assert only(minimal, "random_password")["special"] is False  # ElastiCache forbids '@', '"' and '/'
    secret = only(minimal, "aws_secretsmanager_secret_version")["secret_string"]
    assert f"random_password.{password_name}.result" in secret
    for key in ("host", "port", "tls", "auth_token"):
        assert f'"{key}"' in secret
    # The only values that look like a token are references to Terraform state.
    text = json.dumps(minimal)
    assert not re.search(r'"auth_token": "(?!\$\{)', text)


def test_backups_windows_and_final_snapshot(minimal, production) -> None:
    group = only(minimal, "aws_elasticache_replication_group")
    assert group["snapshot_retention_limit"] == 7
    assert group["final_snapshot_identifier"] == "cache-final"
    assert group["maintenance_window"] == "sun:03:00-sun:04:00"
    assert group["snapshot_window"] == "01:00-02:00"
    assert only(production, "aws_elasticache_replication_group")["snapshot_retention_limit"] == 14


def test_slow_log_goes_to_its_log_group(minimal) -> None:
    (delivery,) = only(minimal, "aws_elasticache_replication_group")["log_delivery_configuration"]
    (log_name,) = resources(minimal, "aws_cloudwatch_log_group")
    assert delivery == {"destination": f"${{aws_cloudwatch_log_group.{log_name}.name}}",
                        "destination_type": "cloudwatch-logs", "log_format": "json", "log_type": "slow-log"}


def test_parameter_group_family_follows_the_engine_version(minimal) -> None:
    params = only(minimal, "aws_elasticache_parameter_group")
    assert params["family"] == "redis7"
    assert params["parameter"] == [{"name": "maxmemory-policy", "value": "volatile-lru"}]
    out = synth(lambda s: ManagedRedis(s, "old", vpc_id=VPC, subnet_ids=SUBNETS, engine_version="6.2"))
    assert only(out, "aws_elasticache_parameter_group")["family"] == "redis6.x"
    assert only(out, "aws_elasticache_parameter_group")["name"] == "old-redis6-x"


def test_port_6379_only_from_security_groups(production) -> None:
    assert "ingress" not in only(production, "aws_security_group")
    (rule,) = resources(production, "aws_vpc_security_group_ingress_rule").values()
    assert rule["referenced_security_group_id"] == "sg-0123456789abcdef0"
    assert (rule["from_port"], rule["to_port"], rule["ip_protocol"]) == (6379, 6379, "tcp")
    assert "cidr_ipv4" not in rule and "cidr_ipv6" not in rule


def test_allow_from_adds_a_rule_once_and_returns_it() -> None:
    rules = []

    def build(stack) -> None:
        cache = ManagedRedis(stack, "cache", vpc_id=VPC, subnet_ids=SUBNETS)
        group = SecurityGroup(stack, "clients", vpc_id=VPC, description="clients")
        rules.append(cache.allow_from(group.id, name="clients"))
        rules.append(cache.allow_from(group.id, name="clients"))
        rules.append(cache.allow_from("sg-0fedcba9876543210"))

    out = synth(build)
    assert rules[0] is rules[1] and rules[0] is not rules[2]
    referenced = sorted(r["referenced_security_group_id"]
                        for r in resources(out, "aws_vpc_security_group_ingress_rule").values())
    assert referenced == ["${aws_security_group.clients.id}", "sg-0fedcba9876543210"]


def test_protect_prevents_destroying_the_data(production, minimal) -> None:
    for type_ in ("aws_elasticache_replication_group", "aws_kms_key", "aws_secretsmanager_secret"):
        assert only(production, type_)["lifecycle"] == {"prevent_destroy": True}, type_
        assert "lifecycle" not in only(minimal, type_), type_


def test_alarms_per_node_to_the_topic(production, minimal) -> None:
    alarms = resources(production, "aws_cloudwatch_metric_alarm").values()
    by_metric: dict[str, list[str]] = {}
    for alarm in alarms:
        assert alarm["alarm_actions"] == [TOPIC]
        by_metric.setdefault(alarm["metric_name"], []).append(alarm["dimensions"]["CacheClusterId"])
    nodes = ["sessions-001", "sessions-002", "sessions-003"]
    assert {k: sorted(v) for k, v in by_metric.items()} == {
        "EngineCPUUtilization": nodes, "DatabaseMemoryUsagePercentage": nodes, "Evictions": nodes,
        "ReplicationLag": nodes[1:]}
    assert "aws_cloudwatch_metric_alarm" not in minimal["resource"]


def test_wired_into_a_microservice() -> None:
    def build(stack) -> None:
        cache = ManagedRedis(stack, "sessions", vpc_id=VPC, subnet_ids=SUBNETS, secret_name="prod/redis/sessions")
        for name in ("checkout", "cart"):
            Microservice(stack, name, image=f"registry.example.com/{name}:1.0.0", redis=cache,
                         workers_security_group_id="sg-0aaaabbbbccccdddd")

    out = synth(build)
    (group_name,) = resources(out, "aws_elasticache_replication_group")
    (version_name,) = resources(out, "aws_secretsmanager_secret_version")
    deployments = {d["metadata"]["name"]: d for d in resources(out, "kubernetes_deployment_v1").values()}
    for name in ("checkout", "cart"):
        env = {e["name"]: e for e in deployments[name]["spec"]["template"]["spec"]["container"][0]["env"]}
        assert env["REDIS_HOST"]["value"] == (
            f"${{aws_elasticache_replication_group.{group_name}.primary_endpoint_address}}")
        assert env["REDIS_PORT"]["value"] == "6379"
        assert env["REDIS_TLS"]["value"] == "true"
        assert env["REDIS_AUTH_TOKEN"] == {"name": "REDIS_AUTH_TOKEN", "value_from": {
            "secret_key_ref": {"name": f"{name}-secrets", "key": "REDIS_AUTH_TOKEN"}}}
    secrets = [m for m in resources(out, "kubernetes_manifest").values()
               if m["manifest"]["kind"] == "ExternalSecret"]
    assert len(secrets) == 2
    for secret in secrets:
        assert secret["manifest"]["spec"]["data"] == [
            {"secretKey": "REDIS_AUTH_TOKEN", "remoteRef": {"key": "prod/redis/sessions", "property": "auth_token"}}]
        assert secret["depends_on"] == [f"aws_secretsmanager_secret_version.{version_name}"]
    # Both services run on the same nodes: one rule admits them.
    (rule,) = resources(out, "aws_vpc_security_group_ingress_rule").values()
    assert rule["referenced_security_group_id"] == "sg-0aaaabbbbccccdddd"


def test_services_stack_wires_the_cache_to_the_cluster_workers(stacks: dict) -> None:
    for env_name in ("staging", "production"):
        services = stacks[f"{env_name}-services"]
        (rule,) = resources(services, "aws_vpc_security_group_ingress_rule").values()
        assert rule["referenced_security_group_id"] == (
            "${data.aws_eks_cluster.cluster.vpc_config[0].cluster_security_group_id}")
        assert only(services, "aws_secretsmanager_secret")["name"] == f"{env_name}/redis/sessions"
        protected = only(services, "aws_elasticache_replication_group").get("lifecycle")
        assert protected == ({"prevent_destroy": True} if env_name == "production" else None)


def test_long_ids_are_shortened_without_collisions() -> None:
    a = replication_group_id("customer-session-store-for-the-checkout-flow-a")
    b = replication_group_id("customer-session-store-for-the-checkout-flow-b")
    assert a is not None and b is not None and a != b
    assert len(a) <= 40 and len(b) <= 40
    assert a == replication_group_id("customer-session-store-for-the-checkout-flow-a")  # deterministic
    assert replication_group_id("sessions") == "sessions"
    assert parameter_group_family("7.0") == "redis7"
    assert parameter_group_family("5.0.6") == "redis5.0"
    out = synth(lambda s: ManagedRedis(s, "customer-session-store-for-the-checkout-flow-a", vpc_id=VPC,
                                       subnet_ids=SUBNETS))
    assert only(out, "aws_elasticache_replication_group")["replication_group_id"] == a


BAD_INPUT = {
    "id with capitals": ({"id": "Sessions"}, r"id = 'Sessions': use lowercase"),
    "id with double hyphen": ({"id": "my--cache"}, r"id = 'my--cache'"),
    "id ending in hyphen": ({"id": "cache-"}, r"id = 'cache-'"),
    "id starting with a digit": ({"id": "1cache"}, r"id = '1cache'"),
    "vpc id": ({"vpc_id": "vpc-xyz"}, r"vpc_id = 'vpc-xyz': use a VPC id"),
    "subnet id": ({"subnet_ids": ["subnet-a", SUBNETS[1]]}, r"subnet_ids = 'subnet-a'"),
    "node type": ({"node_type": "t4g.small"}, r"node_type = 't4g.small': use an ElastiCache node type"),
    "node type with a misspelt size": ({"node_type": "cache.t4g.smal"}, r"node_type = 'cache.t4g.smal': use an"),
    "engine version": ({"engine_version": "8.x"}, r"engine_version = '8.x': use a Redis version"),
    "engine version 4": ({"engine_version": "4.0.10"}, r"engine_version = '4.0.10'"),
    "too many replicas": ({"replicas": 6}, r"replicas = 6: use 0 to 5"),
    "negative replicas": ({"replicas": -1}, r"replicas = -1"),
    "multi-az without a replica": ({"replicas": 0}, r"multi_az = True: Multi-AZ fails over to a replica"),
    "multi-az in one subnet": ({"subnet_ids": SUBNETS[:1]}, r"multi_az = True: needs subnets in at least two"),
    "a CIDR as allowed group": ({"allowed_security_group_ids": ["0.0.0.0/0"]},
                                r"allowed_security_group_ids = '0.0.0.0/0': .*CIDRs are never allowed"),
    "no snapshots": ({"snapshot_retention_days": 0}, r"snapshot_retention_days = 0: use 1 to 35"),
    "topic not an ARN": ({"alarm_topic_arn": "alerts"}, r"alarm_topic_arn = 'alerts': use a full ARN"),
    "eviction policy": ({"maxmemory_policy": "lru"}, r"maxmemory_policy = 'lru': use one of"),
    "maintenance window": ({"maintenance_window": "sunday 3am"}, r"maintenance_window = 'sunday 3am'"),
    "snapshot window": ({"snapshot_window": "1-2"}, r"snapshot_window = '1-2'"),
    "log retention": ({"log_retention_days": 10}, r"log_retention_days = 10: use a CloudWatch retention"),
    "secret name": ({"secret_name": "prod redis"}, r"secret_name = 'prod redis'"),
    "windows that overlap": ({"maintenance_window": "sun:01:30-sun:02:30", "snapshot_window": "01:00-02:00"},
                             r"snapshot_window = '01:00-02:00': overlaps maintenance_window 'sun:01:30-sun:02:30'"),
    "a window shorter than an hour": ({"snapshot_window": "01:00-01:30"},
                                      r"snapshot_window = '01:00-01:30': ElastiCache needs a window of at least 60"),
    "a subnet listed twice": ({"subnet_ids": [SUBNETS[0], SUBNETS[0]]}, r"subnet_ids = .*: list each subnet once"),
    # types
    "replicas as a string": ({"replicas": "2"}, r"replicas = '2': expected int, got a string"),
    "subnets as one string": ({"subnet_ids": SUBNETS[0]}, r"subnet_ids = '.*': expected a list of str or None, got a "
                                                          r"string \(write \['.*'\] for a list of one\)"),
    "multi_az as a string": ({"multi_az": "yes"}, r"multi_az = 'yes': expected bool, got a string"),
    "unknown keyword": ({"node_typ": "cache.t4g.small"}, r"node_typ = .*: ManagedRedis has no keyword 'node_typ'; "
                                                          r"did you mean 'node_type'\?"),
    # a credential put where something else goes is never echoed
    "an access key as the node type": ({"node_type": "AKIAIOSFODNN7EXAMPLE"},
                                       r"node_type = '\(sensitive\)': use an ElastiCache node type"),
}


@pytest.mark.parametrize("props, message", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_names_path_field_value_and_fix(props: dict, message: str) -> None:
    props = {"id": "sessions", "vpc_id": VPC, "subnet_ids": SUBNETS, **props}
    construct_id = props.pop("id")

    def build() -> None:
        synth(lambda s: ManagedRedis(s, construct_id, **props))

    assert_config_error(build, rf"test/{re.escape(construct_id)}: ", message)


def test_microservice_with_redis_needs_the_workers_security_group() -> None:
    def build() -> None:
        def services(stack) -> None:
            cache = ManagedRedis(stack, "sessions", vpc_id=VPC, subnet_ids=SUBNETS)
            Microservice(stack, "checkout", image="registry.example.com/checkout:1.0.0", redis=cache,
                         env={"REDIS_URL": "redis://x"})
        synth(services)

    assert_config_error(build, r"test/checkout: 2 problems",
                        r"workers_security_group_id = None: pass the security group(.|\n)*"
                        r"env\['REDIS_URL'\] = 'REDIS_URL': REDIS_\* variables come from redis")


def test_allow_from_a_reference_needs_a_name() -> None:
    def build() -> None:
        def services(stack) -> None:
            cache = ManagedRedis(stack, "sessions", vpc_id=VPC, subnet_ids=SUBNETS)
            cache.allow_from(SecurityGroup(stack, "clients", vpc_id=VPC, description="clients").id)
        synth(services)

    assert_config_error(build, r"test/sessions: ", r"allow_from.name = None: pass name=")
