"""Each environment's worst-case monthly cost, before and after a change, from a price table.

Worst case means what the configuration allows, not what runs today: node groups
at ``max_size`` (SPOT priced as on-demand, the most a spot instance is billed,
and a group of several types priced at its dearest), caches with every replica,
volumes (node root disks, volumes claimed by Helm charts and StatefulSets, at
every replica), load balancers, NAT gateways, EKS control planes, KMS keys,
Secrets Manager secrets and CloudWatch alarms. Not counted: data transfer,
requests, logs, snapshots, S3 and DynamoDB usage: they depend on traffic, not on
this code.

Prices come from ``prices.json`` (its region, date and source pages are shown
with the figures). A resource whose type or size has no price there is listed as
unpriced, and a change that adds one is a risk: the estimate cannot see it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from .attributes import TIMES
from .documents import open_document

__all__ = ["DEFAULT_LIMITS", "PRICES", "CostLine", "EnvironmentCost", "estimate", "prices"]

PRICES = Path(__file__).resolve().parent / "prices.json"

#: Used for an environment whose revision defines no ``limits`` (the defaults of
#: ``environments.config.Limits``; a test keeps them equal).
DEFAULT_LIMITS = {"max_cost_increase_percent": 50, "max_cost_increase_usd": 2000}

_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
_GIB = {None: 1 / 2**30, "k": 1e3 / 2**30, "M": 1e6 / 2**30, "G": 1e9 / 2**30, "T": 1e12 / 2**30,
        "Ki": 1 / 2**20, "Mi": 1 / 2**10, "Gi": 1.0, "Ti": 2.0**10}


@cache
def prices() -> dict[str, Any]:
    """The price table (``prices.json``)."""
    return json.loads(PRICES.read_text())


@dataclass(frozen=True)
class CostLine:
    """One resource's worst-case monthly cost; ``unpriced`` names what the table has no price for."""

    stack: str
    address: str
    what: str
    monthly: float
    unpriced: tuple[str, ...] = ()


@dataclass
class EnvironmentCost:
    """An environment's worst-case monthly cost on both sides, and the limit its head revision sets."""

    environment: str
    region: str | None
    before: float | None  # None: the base does not synthesize, or has no such environment
    after: float
    lines_before: list[CostLine] = field(default_factory=list)
    lines_after: list[CostLine] = field(default_factory=list)
    limit_percent: float = DEFAULT_LIMITS["max_cost_increase_percent"]
    limit_usd: float = DEFAULT_LIMITS["max_cost_increase_usd"]

    @property
    def difference(self) -> float | None:
        return None if self.before is None else self.after - self.before

    @property
    def percent(self) -> float | None:
        if self.before is None or self.before == 0:
            return None
        return (self.after - self.before) / self.before * 100

    @property
    def over_limit(self) -> bool:
        """The increase is above either limit (percent or dollars a month)."""
        increase = self.difference
        if increase is None or increase <= 0:
            return False
        return increase > self.limit_usd or (self.percent is not None and self.percent > self.limit_percent)

    @property
    def new_unpriced(self) -> list[str]:
        """What the head has and the table cannot price, that the base did not have."""
        old = {u for line in self.lines_before for u in line.unpriced}
        return sorted({u for line in self.lines_after for u in line.unpriced} - old)


def _gib(quantity: Any) -> float:
    match = _QUANTITY.match(str(quantity))
    return float(match.group(1)) * _GIB[match.group(2)] if match else 0.0


def _hourly(table: str, key: str) -> float | None:
    value = prices()[table].get(key)
    return float(value) if value is not None else None


def _month(hourly: float) -> float:
    return hourly * float(prices()["hours_per_month"])


def _volume(size_gib: float, volume_type: str) -> tuple[float, tuple[str, ...]]:
    price = prices()["ebs_gb_month"].get(volume_type)
    if price is None:
        return 0.0, (f"EBS {volume_type}",)
    return size_gib * float(price), ()


def _reference(value: Any) -> str | None:
    match = re.match(r"^\$\{([a-z0-9_]+\.[^.}]+)\.", value) if isinstance(value, str) else None
    return match.group(1) if match else None


def _node_group(stack: str, address: str, body: Mapping[str, Any], resources: Mapping[str, Any]) -> CostLine:
    scaling = body.get("scaling_config", {})
    nodes = int(scaling.get("max_size", 0))
    types = list(body.get("instance_types", [])) or ["t3.medium"]  # EKS's default type
    known = {t: _hourly("ec2_instance_hour", t) for t in types}
    unpriced = tuple(f"EC2 {t}" for t, p in known.items() if p is None)
    dearest = max((p for p in known.values() if p is not None), default=0.0)
    monthly = nodes * _month(dearest)
    template = resources.get(_reference(body.get("launch_template", {}).get("id")) or "", {})
    disks = template.get("block_device_mappings", [])
    ebs = disks[0].get("ebs", {}) if disks else {}
    size = float(ebs.get("volume_size", body.get("disk_size", 20)))
    disk, missing = _volume(nodes * size, str(ebs.get("volume_type", "gp3" if ebs else "gp2")))
    priced_as = (f"{max(known, key=lambda t: known[t] or 0)}" if len(types) > 1 else types[0])
    capacity = str(body.get("capacity_type", "ON_DEMAND"))
    what = (f"node group: {nodes} {TIMES} {priced_as}" + (" (dearest of its types)" if len(types) > 1 else "")
            + (" at the on-demand price" if capacity == "SPOT" else "") + f", {nodes} {TIMES} {size:g} GiB disk")
    return CostLine(stack, address, what, monthly + disk, unpriced + missing)


def _cache(stack: str, address: str, body: Mapping[str, Any]) -> CostLine:
    if "num_cache_clusters" in body:
        nodes = int(body["num_cache_clusters"])
    elif "num_node_groups" in body:
        nodes = int(body["num_node_groups"]) * (int(body.get("replicas_per_node_group", 0)) + 1)
    else:
        nodes = int(body.get("num_cache_nodes", 1))
    node_type = str(body.get("node_type", "?"))
    price = _hourly("elasticache_node_hour", node_type)
    return CostLine(stack, address, f"cache: {nodes} {TIMES} {node_type}", nodes * _month(price or 0.0),
                    () if price is not None else (f"ElastiCache {node_type}",))


def _claims(values: Any, replicas: int = 1) -> Iterator[tuple[float, str, int]]:
    """(GiB, storage class, copies) of every volume a Helm chart's values claim."""
    if isinstance(values, list):
        for item in values:
            yield from _claims(item, replicas)
        return
    if not isinstance(values, Mapping):
        return
    replicas = int(values["replicas"]) if isinstance(values.get("replicas"), int) else replicas
    template = values.get("volumeClaimTemplate")
    if isinstance(template, Mapping):
        spec = template.get("spec", {})
        storage = spec.get("resources", {}).get("requests", {}).get("storage")
        if storage:
            yield _gib(storage), str(spec.get("storageClassName") or "gp3"), replicas
    persistence = values.get("persistence")
    if isinstance(persistence, Mapping) and persistence.get("enabled") and persistence.get("size"):
        yield _gib(persistence["size"]), str(persistence.get("storageClassName") or "gp3"), replicas
    for key, value in values.items():
        if key not in ("volumeClaimTemplate", "persistence"):
            yield from _claims(value, replicas)


def _volumes(stack: str, address: str, claims: list[tuple[float, str, int]], what: str) -> CostLine | None:
    if not claims:
        return None
    total = 0.0
    unpriced: tuple[str, ...] = ()
    for size, volume_type, copies in claims:
        # A storage class named after an EBS type (gp3, gp2) is priced as that type, any other as gp3.
        cost, missing = _volume(size * copies, volume_type if volume_type in prices()["ebs_gb_month"] else "gp3")
        total, unpriced = total + cost, unpriced + missing
    described = ", ".join(f"{copies} {TIMES} {size:g} GiB" for size, _, copies in claims)
    return CostLine(stack, address, f"{what}: {described}", total, unpriced)


def _load_balancer(stack: str, address: str, kind: str, what: str) -> CostLine:
    price = _hourly("load_balancer_hour", kind)
    return CostLine(stack, address, what, _month(price or 0.0), () if price is not None else (f"{kind} LB",))


def _lines(stack: str, resources: Mapping[str, Mapping[str, Any]]) -> Iterator[CostLine]:
    table = prices()
    for address, body in sorted(resources.items()):
        type_ = address.split(".", 1)[0]
        if type_ == "aws_eks_cluster":
            yield CostLine(stack, address, "EKS control plane", _month(float(table["eks_cluster_hour"])))
        elif type_ == "aws_eks_node_group":
            yield _node_group(stack, address, body, resources)
        elif type_ in ("aws_elasticache_replication_group", "aws_elasticache_cluster"):
            yield _cache(stack, address, body)
        elif type_ == "aws_instance":
            price = _hourly("ec2_instance_hour", str(body.get("instance_type")))
            yield CostLine(stack, address, f"instance: {body.get('instance_type')}", _month(price or 0.0),
                           () if price is not None else (f"EC2 {body.get('instance_type')}",))
        elif type_ == "helm_release":
            claims = [c for v in body.get("values", []) for c in _claims(open_document(v))]
            line = _volumes(stack, address, claims, f"volumes of Helm {body.get('chart')}")
            if line:
                yield line
        elif type_ == "kubernetes_persistent_volume_claim_v1":
            spec = body.get("spec", {})
            claim = (_gib(spec.get("resources", {}).get("requests", {}).get("storage")),
                     str(spec.get("storage_class_name") or "gp3"), 1)
            line = _volumes(stack, address, [claim], "volume")
            if line:
                yield line
        elif type_ == "kubernetes_stateful_set_v1":
            spec = body.get("spec", {})
            copies = int(spec.get("replicas", 1))
            claims = [(_gib(t.get("spec", {}).get("resources", {}).get("requests", {}).get("storage")),
                       str(t.get("spec", {}).get("storage_class_name") or "gp3"), copies)
                      for t in spec.get("volume_claim_template", [])]
            line = _volumes(stack, address, claims, "StatefulSet volumes")
            if line:
                yield line
        elif type_ in ("aws_lb", "aws_alb"):
            kind = str(body.get("load_balancer_type", "application"))
            yield _load_balancer(stack, address, kind, f"{kind} load balancer")
        elif type_ == "aws_elb":
            yield _load_balancer(stack, address, "classic", "classic load balancer")
        elif type_ == "kubernetes_service_v1" and body.get("spec", {}).get("type") == "LoadBalancer":
            yield _load_balancer(stack, address, "network", "Service of type LoadBalancer (a network load balancer)")
        elif type_ == "kubernetes_ingress_v1" and body.get("spec", {}).get("ingress_class_name") == "alb":
            yield _load_balancer(stack, address, "application", "Ingress on an application load balancer")
        elif type_ == "aws_nat_gateway":
            yield CostLine(stack, address, "NAT gateway", _month(float(table["nat_gateway_hour"])))
        elif type_ == "aws_kms_key":
            yield CostLine(stack, address, "KMS key", float(table["kms_key_month"]))
        elif type_ == "aws_secretsmanager_secret":
            yield CostLine(stack, address, "Secrets Manager secret", float(table["secretsmanager_secret_month"]))
        elif type_ == "aws_cloudwatch_metric_alarm":
            yield CostLine(stack, address, "CloudWatch alarm", float(table["cloudwatch_alarm_month"]))


def estimate(stacks: Mapping[str, Mapping[str, Any]]) -> list[CostLine]:
    """The cost lines of one environment's synthesized stacks (stack name -> ``cdk.tf.json``)."""
    lines: list[CostLine] = []
    for stack, document in sorted(stacks.items()):
        resources = {f"{t}.{n}": body for t, named in document.get("resource", {}).items()
                     for n, body in named.items()}
        lines.extend(_lines(stack, resources))
    return lines
