"""Typed, immutable, validated configuration of one environment.

An environment is data only: which account and region, which network, which
cluster and node pools, what a single service or node group may ask for, and
where Terraform keeps its state. Stacks read it; constructs never do.

Every value is checked when the object is built, and all problems are
reported at once, each naming the environment, the field, the value and the
fix (``ConfigError``).
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from types import MappingProxyType

from constructs_lib.developer_access import DeveloperAccess
from constructs_lib.eks_cluster import CLUSTER_NAME, CLUSTER_NAME_FIX
from constructs_lib.guardrails import RulePack
from constructs_lib.node_group import CapacityType, Taint, check_pool
from constructs_lib.rules import BASELINE, MAX_PUBLIC_ADDRESSES, public_addresses
from constructs_lib.validation import (
    AWS_ACCOUNT_ID,
    DNS_LABEL,
    SUBNET_ID,
    VPC_ID,
    Checks,
    checked_fields,
    fields_problems,
)

__all__ = [
    "AWS_REGIONS",
    "Cluster",
    "DeveloperAccess",
    "Dns",
    "Environment",
    "Limits",
    "Network",
    "NodePool",
    "StateBackend",
    "Subnet",
]

#: Commercial and GovCloud regions EKS and ElastiCache run in.
AWS_REGIONS = frozenset({
    "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2",
    "ap-northeast-3", "ap-south-1", "ap-south-2", "ap-southeast-1",
    "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
    "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1",
    "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1",
    "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1",
    "mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-gov-east-1",
    "us-gov-west-1", "us-west-1", "us-west-2",
})

_K8S_VERSION = re.compile(r"^1\.(\d{2})$")
_HOSTED_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
_EMAIL = re.compile(r"^[^@\s]+@([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$")
_S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_DYNAMODB_TABLE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_OLDEST_KUBERNETES_MINOR = 30  # older minors are out of EKS extended support


def _freeze(obj: object) -> None:
    """Turn list and dict fields into tuples and read-only mappings."""
    for f in fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if isinstance(value, list):
            object.__setattr__(obj, f.name, tuple(value))
        elif isinstance(value, dict):
            object.__setattr__(obj, f.name, MappingProxyType(dict(value)))


@checked_fields
@dataclass(frozen=True, kw_only=True)
class Subnet:
    """A private subnet and the availability zone it lives in."""

    id: str
    availability_zone: str


@checked_fields
@dataclass(frozen=True, kw_only=True)
class Network:
    """The existing VPC the environment runs in (this repository does not own it).

    ``private_subnets`` hold the nodes, the control plane's interfaces and the caches;
    ``public_subnets`` (one per zone) hold the ingress controller's internet-facing load
    balancer. Without them, the load balancer goes to the subnets tagged
    ``kubernetes.io/role/elb``.
    """

    vpc_id: str
    private_subnets: Sequence[Subnet]
    public_subnets: Sequence[Subnet] = ()

    def __post_init__(self) -> None:
        _freeze(self)

    @property
    def subnet_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.private_subnets)

    @property
    def availability_zones(self) -> tuple[str, ...]:
        return tuple(sorted({s.availability_zone for s in self.private_subnets}))


@checked_fields
@dataclass(frozen=True, kw_only=True)
class NodePool:
    """One EKS managed node group of the cluster.

    ``desired_size`` defaults to ``min_size``; the cluster autoscaler owns it
    after creation.
    """

    name: str
    instance_types: Sequence[str]
    min_size: int
    max_size: int
    desired_size: int | None = None
    capacity_type: CapacityType = CapacityType.ON_DEMAND
    ami_type: str = "AL2023_x86_64_STANDARD"
    disk_size_gib: int = 50
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: Sequence[Taint] = ()

    def __post_init__(self) -> None:
        _freeze(self)


@checked_fields
@dataclass(frozen=True, kw_only=True)
class Cluster:
    """The EKS cluster: its name, Kubernetes version and node pools.

    ``public_access_cidrs`` empty (the default) keeps the API endpoint private.
    ``admin_role_arns`` are the IAM roles with cluster-admin access (people's
    admin role and CI's deploy role); nobody else gets in by default.
    ``developer_role_arns`` are the roles product developers assume: they get
    ``developer_access`` in the services namespace only (``DeveloperAccess.VIEW``:
    view and logs, the default; ``DEBUG``: also port-forward).
    """

    name: str
    kubernetes_version: str
    node_pools: Sequence[NodePool]
    public_access_cidrs: Sequence[str] = ()
    admin_role_arns: Sequence[str] = ()
    developer_role_arns: Sequence[str] = ()
    developer_access: DeveloperAccess = DeveloperAccess.VIEW

    def __post_init__(self) -> None:
        _freeze(self)


@checked_fields
@dataclass(frozen=True, kw_only=True)
class Limits:
    """What one developer may ask for in this environment.

    The caps stop a typo (``replicas=200``) from scaling the infrastructure
    tenfold; raising one is a reviewed change to this file.

    ``max_cost_increase_percent`` and ``max_cost_increase_usd``: a change that raises the
    environment's worst-case monthly cost by more than either is a risk in the review
    (``pipenv run review``); defaults 50 % and $2,000 a month.
    """

    max_replicas_per_service: int
    max_nodes_per_group: int
    max_cost_increase_percent: int = 50
    max_cost_increase_usd: int = 2000


@checked_fields
@dataclass(frozen=True, kw_only=True)
class StateBackend:
    """Where Terraform state and locks live (created by the ``<env>-state`` stack)."""

    bucket: str
    lock_table: str


@checked_fields
@dataclass(frozen=True, kw_only=True)
class Dns:
    """The public Route 53 hosted zone of the environment's ``domain``.

    With it the platform serves ``ingress_host``: external-dns writes the
    records (only in this zone) and cert-manager proves control of the names
    (DNS-01, only in this zone) to get certificates from Let's Encrypt, whose
    expiry notices go to ``acme_email``.
    """

    hosted_zone_id: str
    acme_email: str


@checked_fields
@dataclass(frozen=True, kw_only=True)
class Environment:
    """Everything the stacks need to know about one environment.

    ``domain`` is the DNS zone public services get host names under.
    ``tags`` are applied to every AWS resource, next to the ``environment``,
    ``managed-by`` and ``repository`` tags the stacks add. ``protect_stateful``
    turns on ``prevent_destroy`` for stateful resources (production).
    ``alerts_topic_arn`` is the SNS topic CloudWatch alarms notify (owned by the
    on-call tooling, not by these stacks); without it no CloudWatch alarms are made.
    ``rules`` are the rule packs its stacks apply to every construct
    (``constructs_lib.rules``): ``BASELINE`` always, ``PRODUCTION`` where it serves customers.
    ``dns`` is the hosted zone of ``domain``; without it the platform installs no
    ingress, certificates or DNS, and a service with ``ingress_host`` fails synthesis.
    """

    name: str
    account_id: str
    region: str
    network: Network
    cluster: Cluster
    limits: Limits
    state: StateBackend
    domain: str
    tags: Mapping[str, str] = field(default_factory=dict)
    protect_stateful: bool = False
    alerts_topic_arn: str | None = None
    rules: Sequence[RulePack] = (BASELINE,)
    dns: Dns | None = None

    @property
    def secrets_prefix(self) -> str:
        """Secrets Manager names under this prefix are the environment's; only those reach the cluster."""
        return f"{self.name}/"

    def __post_init__(self) -> None:
        checks = Checks(f"environment {self.name!r}")
        # Types first: the value checks below read fields as the types they are declared.
        checks.problems += fields_problems(self)
        checks.done()
        _freeze(self)
        _check_environment(self, checks)
        checks.done()


def _suggest(value: str, choices: frozenset[str]) -> str:
    close = difflib.get_close_matches(value, sorted(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _check_environment(env: Environment, c: Checks) -> None:
    c.require(bool(DNS_LABEL.match(env.name)) and len(env.name) <= 20, "name", env.name,
              "use lowercase letters, digits and hyphens, at most 20 characters (e.g. 'staging')")
    c.require(bool(AWS_ACCOUNT_ID.match(env.account_id)), "account_id", env.account_id,
              "use the 12-digit AWS account id, as a string (e.g. '123456789012')")
    c.require(env.region in AWS_REGIONS, "region", env.region,
              "use an AWS region code such as 'eu-west-1'" + _suggest(env.region, AWS_REGIONS))
    c.require(bool(re.match(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$", env.domain)), "domain", env.domain,
              "use a DNS zone such as 'staging.example.com'")
    c.require(BASELINE in env.rules, "rules", list(env.rules),
              "keep constructs_lib.rules.BASELINE in every environment (add packs, never drop the baseline)")
    names = [pack.name for pack in env.rules]
    c.require(len(set(names)) == len(names), "rules", list(env.rules), "list each rule pack once")
    for key, value in env.tags.items():
        c.require(0 < len(key) <= 128 and not key.lower().startswith("aws:"), f"tags[{key!r}]", key,
                  "tag keys are 1-128 characters and may not start with 'aws:'")
        c.require(len(value) <= 256, f"tags[{key!r}]", value, "tag values are at most 256 characters")
    if env.alerts_topic_arn is not None:
        # With a wrong account id, every ARN of the account would be reported too: report the id only.
        topic = f"arn:aws:sns:{env.region}:{env.account_id}:"
        ok = env.alerts_topic_arn.startswith(topic) and len(env.alerts_topic_arn) > len(topic)
        c.require(ok or not AWS_ACCOUNT_ID.match(env.account_id), "alerts_topic_arn", env.alerts_topic_arn,
                  f"use an SNS topic ARN of this environment, '{topic}<topic>'")
    _check_network(env, c)
    _check_cluster(env, c)
    _check_limits(env.limits, c)
    _check_state(env.state, c)


def _check_network(env: Environment, c: Checks) -> None:
    net = env.network
    c.require(bool(VPC_ID.match(net.vpc_id)), "network.vpc_id", net.vpc_id,
              "use a VPC id such as 'vpc-0123456789abcdef0'")
    seen: set[str] = set()
    for i, subnet in [*((f"private_subnets[{i}]", s) for i, s in enumerate(net.private_subnets)),
                      *((f"public_subnets[{i}]", s) for i, s in enumerate(net.public_subnets))]:
        at = f"network.{i}"
        c.require(bool(SUBNET_ID.match(subnet.id)), f"{at}.id", subnet.id,
                  "use a subnet id such as 'subnet-0123456789abcdef0'")
        c.require(subnet.id not in seen, f"{at}.id", subnet.id, "list each subnet once")
        seen.add(subnet.id)
        az = subnet.availability_zone
        # With an unknown region every zone would be wrong too: report the region only.
        in_region = az.startswith(env.region) and len(az) == len(env.region) + 1 and az[-1].isalpha()
        c.require(env.region not in AWS_REGIONS or in_region,
                  f"{at}.availability_zone", az,
                  f"use a zone of region {env.region!r}, such as '{env.region}a'")
    c.require(len(net.availability_zones) >= 2, "network.private_subnets", list(net.subnet_ids),
              f"subnets cover {len(net.availability_zones)} availability zone(s); EKS and "
              "Multi-AZ failover need private subnets in at least two, so add a subnet in another zone")
    public_zones = [s.availability_zone for s in net.public_subnets]
    c.require(len(set(public_zones)) == len(public_zones), "network.public_subnets",
              [s.id for s in net.public_subnets],
              "list one public subnet per zone (a load balancer takes one per zone)")
    c.require(not public_zones or set(public_zones) >= set(net.availability_zones), "network.public_subnets",
              [s.id for s in net.public_subnets],
              f"cover every zone of the private subnets ({', '.join(net.availability_zones)}), so the load "
              "balancer reaches nodes in all of them")


def _check_cluster(env: Environment, c: Checks) -> None:
    cl = env.cluster
    c.require(bool(CLUSTER_NAME.match(cl.name)), "cluster.name", cl.name, CLUSTER_NAME_FIX)
    version = _K8S_VERSION.match(cl.kubernetes_version)
    c.require(version is not None and int(version.group(1)) >= _OLDEST_KUBERNETES_MINOR,
              "cluster.kubernetes_version", cl.kubernetes_version,
              f"use a supported EKS version as 'major.minor', 1.{_OLDEST_KUBERNETES_MINOR} or newer (e.g. '1.33')")
    for i, cidr in enumerate(cl.public_access_cidrs):
        try:
            net = ipaddress.ip_network(cidr)
            ok = net.prefixlen > 0
        except ValueError:
            ok = False
        c.require(ok, f"cluster.public_access_cidrs[{i}]", cidr,
                  "use a CIDR such as '203.0.113.0/24'; never 0.0.0.0/0 (leave the list empty for a private endpoint)")
    addresses = public_addresses(cl.public_access_cidrs)
    c.require(addresses <= MAX_PUBLIC_ADDRESSES, "cluster.public_access_cidrs", list(cl.public_access_cidrs),
              f"together they admit {addresses:,} internet addresses; list only your office or VPN ranges, at most "
              f"{MAX_PUBLIC_ADDRESSES:,} addresses in all")
    c.require(len(set(cl.public_access_cidrs)) == len(cl.public_access_cidrs), "cluster.public_access_cidrs",
              list(cl.public_access_cidrs), "list each CIDR once")
    for field_name, arns in (("admin_role_arns", cl.admin_role_arns), ("developer_role_arns", cl.developer_role_arns)):
        for i, arn in enumerate(arns):
            own_account = arn.startswith(f"arn:aws:iam::{env.account_id}:role/") and len(arn.split("/", 1)[1]) > 0
            c.require(not AWS_ACCOUNT_ID.match(env.account_id) or own_account, f"cluster.{field_name}[{i}]", arn,
                      f"use a role of this environment's account, 'arn:aws:iam::{env.account_id}:role/<name>'")
    for i, arn in enumerate(cl.developer_role_arns):
        c.require(arn not in cl.admin_role_arns, f"cluster.developer_role_arns[{i}]", arn,
                  "is also in admin_role_arns; a role is an admin's or a developer's, not both")
    if env.dns is not None:
        c.require(bool(_HOSTED_ZONE_ID.match(env.dns.hosted_zone_id)), "dns.hosted_zone_id", env.dns.hosted_zone_id,
                  "use the Route 53 hosted zone id of the domain, such as 'Z0123456789ABCDEFGHIJ'")
        c.require(bool(_EMAIL.match(env.dns.acme_email)), "dns.acme_email", env.dns.acme_email,
                  "use a mailbox the platform team reads, such as 'platform@example.com' (Let's Encrypt writes to it)")
    names = [p.name for p in cl.node_pools]
    c.require(bool(names), "cluster.node_pools", [], "define at least one node pool")
    for pool in cl.node_pools:
        at = f"cluster.node_pools[{pool.name!r}]"
        c.require(bool(DNS_LABEL.match(pool.name)) and len(pool.name) <= 40, f"{at}.name", pool.name,
                  "use lowercase letters, digits and hyphens, at most 40 characters")
        c.require(names.count(pool.name) == 1, f"{at}.name", pool.name, "give every node pool its own name")
        _check_pool_sizes(pool, at, env.limits.max_nodes_per_group, c)


def _check_pool_sizes(pool: NodePool, at: str, node_cap: int, c: Checks) -> None:
    check_pool(c, instance_types=pool.instance_types, min_size=pool.min_size, max_size=pool.max_size,
               desired_size=pool.min_size if pool.desired_size is None else pool.desired_size,
               capacity_type=pool.capacity_type, ami_type=pool.ami_type, disk_size_gib=pool.disk_size_gib,
               labels=pool.labels, taints=pool.taints, at=f"{at}.")
    c.require(pool.max_size <= node_cap, f"{at}.max_size", pool.max_size,
              f"the environment caps a node group at {node_cap} nodes (limits.max_nodes_per_group); "
              "lower max_size or raise the cap in a reviewed change")


def _check_limits(limits: Limits, c: Checks) -> None:
    c.require(limits.max_replicas_per_service >= 1, "limits.max_replicas_per_service",
              limits.max_replicas_per_service, "use 1 or more")
    c.require(limits.max_nodes_per_group >= 1, "limits.max_nodes_per_group",
              limits.max_nodes_per_group, "use 1 or more")
    c.require(limits.max_cost_increase_percent >= 0, "limits.max_cost_increase_percent",
              limits.max_cost_increase_percent, "use 0 or more (percent of the current monthly cost)")
    c.require(limits.max_cost_increase_usd >= 0, "limits.max_cost_increase_usd",
              limits.max_cost_increase_usd, "use 0 or more (US dollars a month)")


def _check_state(state: StateBackend, c: Checks) -> None:
    c.require(bool(_S3_BUCKET.match(state.bucket)) and ".." not in state.bucket, "state.bucket", state.bucket,
              "use 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit")
    c.require(bool(_DYNAMODB_TABLE.match(state.lock_table)), "state.lock_table", state.lock_table,
              "use 3-255 letters, digits, '_', '-' or '.'")
