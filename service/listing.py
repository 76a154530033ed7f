"""``service list``: what every service of an environment runs, read from the built app.

One row per workload per environment (a service, a worker or a scheduled job),
from the constructs' own attributes (``Microservice``, ``ScheduledJob``,
``ManagedRedis``), after every per-environment value is resolved: what the
listing says is what synthesis writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from constructs_lib.external_secrets import SECRET_REF

from .codeowners import CodeOwners

if TYPE_CHECKING:
    from constructs_lib import Workload
    from stacks import EnvironmentStacks

__all__ = ["ServiceRow", "rows", "table"]


@dataclass(frozen=True)
class ServiceRow:
    """One service in one environment, as ``service list --format json`` writes it (``as_json``).

    :param kind: ``service`` (serves HTTP), ``worker`` (a Microservice with no port) or ``job`` (a
        ScheduledJob).
    :param schedule: a job's cron schedule (and ``time_zone`` in brackets); None for the others.
    :param replicas: the fixed pod count; None with autoscaling.
    :param autoscaling: ``{"min_replicas", "max_replicas", "cpu_percent"}``, or None.
    :param node_pool: the node pool it runs on; None for the cluster's untainted pools.
    :param cache: its ManagedRedis: ``{"name", "node_type", "replicas", "secret_name"}``, or None.
    :param secrets: what its pods read from Secrets Manager: ``{"variable", "secret_name", "key"}`` each.
    :param file: the module that declares it; ``owners``: who owns that file (CODEOWNERS).
    """

    environment: str
    name: str
    kind: str
    schedule: str | None
    image: str
    replicas: int | None
    autoscaling: Mapping[str, int] | None
    cpu: str
    memory: str
    node_pool: str | None
    cache: Mapping[str, Any] | None
    ingress_host: str | None
    metrics_port: int | None
    metrics_path: str | None
    secrets: tuple[Mapping[str, str], ...]
    file: str | None
    owners: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"environment": self.environment, "name": self.name, "kind": self.kind, "schedule": self.schedule,
                "image": self.image, "replicas": self.replicas,
                "autoscaling": dict(self.autoscaling) if self.autoscaling else None, "cpu": self.cpu,
                "memory": self.memory, "node_pool": self.node_pool,
                "cache": dict(self.cache) if self.cache else None, "ingress_host": self.ingress_host,
                "metrics_port": self.metrics_port, "metrics_path": self.metrics_path,
                "secrets": [dict(s) for s in self.secrets], "file": self.file, "owners": list(self.owners)}


def rows(built: Mapping[str, EnvironmentStacks], owners: CodeOwners) -> list[ServiceRow]:
    """Every service of every environment in ``built``, environments in their order, services by name."""
    found = []
    for environment, stacks in built.items():
        stack = stacks.services
        pools = {group.node.path: name for name, group in stack.node_groups.items()}
        for service in sorted(stack.services, key=lambda s: s.name):
            top = service.node.path.split("/")[1]
            file = stack.declared_in.get(top)
            found.append(_row(environment, service, pools, file, owners.owners(file) if file else ()))
    return found


def _row(environment: str, service: Workload, pools: Mapping[str, str], file: str | None,
         owners: tuple[str, ...]) -> ServiceRow:
    from constructs_lib import Microservice, ScheduledJob

    scaling = service.autoscaling if isinstance(service, Microservice) else None
    cache = service.redis if isinstance(service, Microservice) else None
    metrics = service.metrics if isinstance(service, Microservice) else None
    if isinstance(service, ScheduledJob):
        kind, replicas = "job", None
        schedule = service.schedule + (f" ({service.time_zone})" if service.time_zone else "")
    else:
        assert isinstance(service, Microservice)
        kind, replicas, schedule = "worker" if service.worker else "service", service.replicas, None
    secrets = []
    for variable, ref in sorted(service.secrets.items()):
        match = SECRET_REF.match(ref)
        assert match is not None  # the construct validated it
        secrets.append({"variable": variable, "secret_name": match["name"], "key": match["key"]})
    return ServiceRow(
        environment=environment, name=service.name, kind=kind, schedule=schedule, image=service.image,
        replicas=None if scaling else replicas,
        autoscaling={"min_replicas": scaling.min_replicas, "max_replicas": scaling.max_replicas,
                     "cpu_percent": scaling.cpu_percent} if scaling else None,
        cpu=service.cpu, memory=service.memory,
        node_pool=pools.get(service.node_group_path or "", service.node_group_path),
        cache={"name": cache.node.id, "node_type": cache.replication_group.node_type_input,
               "replicas": cache.replicas, "secret_name": cache.secret_name} if cache else None,
        ingress_host=service.ingress_host if isinstance(service, Microservice) else None,
        metrics_port=metrics.port if metrics else None,
        metrics_path=metrics.path if metrics else None,
        secrets=tuple(secrets), file=file, owners=owners)


def table(found: list[ServiceRow]) -> list[list[str]]:
    """The rows of ``service list``'s table, header first."""
    lines = [["ENVIRONMENT", "SERVICE", "KIND", "SCHEDULE", "IMAGE", "PODS", "CPU", "MEMORY", "NODE POOL", "CACHE",
              "INGRESS", "METRICS", "SECRETS", "FILE", "OWNERS"]]
    for row in found:
        scaling = row.autoscaling
        pods = (f"{scaling['min_replicas']}-{scaling['max_replicas']} (cpu {scaling['cpu_percent']}%)" if scaling
                else "1 per run" if row.kind == "job" else str(row.replicas))
        cache = (f"{row.cache['name']} ({row.cache['node_type']}, {row.cache['replicas']} "
                 f"replica{'s' * (row.cache['replicas'] != 1)})" if row.cache else "-")
        by_secret: dict[str, list[str]] = {}
        for secret in row.secrets:
            by_secret.setdefault(secret["secret_name"], []).append(secret["key"])
        lines.append([row.environment, row.name, row.kind, row.schedule or "-", row.image, pods, row.cpu, row.memory,
                      row.node_pool or "-", cache,
                      row.ingress_host or "-", f":{row.metrics_port}{row.metrics_path}" if row.metrics_port else "-",
                      "; ".join(f"{name}: {', '.join(keys)}" for name, keys in by_secret.items()) or "-",
                      row.file or "-", " ".join(row.owners) or "-"])
    return lines
