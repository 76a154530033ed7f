"""What a reviewer needs to see of a resource that is created or destroyed, per resource type.

A created resource is shown by the arguments that decide its size, count,
version and protection, not by its address alone; a construct (a service, a
cache, a node group) gets a one-line summary built from its resources
(``inventory: Deployment 2-6 pods x 250m/512Mi, cache cache.t4g.small x 2,
ingress inventory.staging.example.com``, with typographic dashes and times; ``nightly-report: CronJob
30 2 * * * x 500m/1Gi, timeout 2h, AWS s3:PutObject``; ``order-consumer: worker Deployment 2 pods x
250m/512Mi, ...``).

``KEY_ATTRIBUTES`` is curated, like ``risks.py``, for the resource types this
library emits; ``tests/test_review_components.py`` checks that every path
names an argument the synthesized stacks really hold.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

__all__ = ["KEY_ATTRIBUTES", "RANGE", "TIMES", "key_attributes", "phrase_diff", "resolve", "summary_phrases"]

#: The en dash of ``2-6 pods`` and the times sign of ``x 250m/512Mi`` (escaped: the source stays ASCII).
RANGE, TIMES = "\u2013", "\u00d7"

_CONTAINERS = "spec.template.spec.container[*]"

#: resource type -> argument paths shown for a created or destroyed resource (``[*]``: every element).
KEY_ATTRIBUTES = MappingProxyType({
    "aws_eks_cluster": ("name", "version", "vpc_config.endpoint_public_access", "vpc_config.public_access_cidrs",
                        "deletion_protection"),
    "aws_eks_node_group": ("instance_types", "capacity_type", "scaling_config.min_size", "scaling_config.max_size",
                           "ami_type", "labels", "taint"),
    "aws_launch_template": ("block_device_mappings[*].ebs.volume_size", "block_device_mappings[*].ebs.volume_type",
                            "metadata_options.http_tokens"),
    "aws_eks_addon": ("addon_name", "addon_version"),
    "aws_eks_access_entry": ("principal_arn", "type"),
    "aws_eks_access_policy_association": ("policy_arn", "access_scope"),
    "aws_elasticache_replication_group": ("replication_group_id", "node_type", "num_cache_clusters", "engine",
                                          "engine_version", "multi_az_enabled", "snapshot_retention_limit"),
    "aws_elasticache_parameter_group": ("family",),
    "aws_secretsmanager_secret": ("name", "recovery_window_in_days"),
    "aws_kms_key": ("description", "enable_key_rotation", "deletion_window_in_days"),
    "aws_s3_bucket": ("bucket",),
    "aws_dynamodb_table": ("name", "billing_mode", "deletion_protection_enabled"),
    "aws_cloudwatch_log_group": ("name", "retention_in_days"),
    "aws_cloudwatch_metric_alarm": ("metric_name", "threshold"),
    "aws_iam_role": ("name", "name_prefix"),
    "aws_iam_policy": ("name", "name_prefix", "description"),
    "aws_iam_role_policy_attachment": ("policy_arn",),
    "aws_security_group": ("name_prefix", "description"),
    "aws_vpc_security_group_ingress_rule": ("ip_protocol", "from_port", "to_port", "cidr_ipv4",
                                            "referenced_security_group_id"),
    "helm_release": ("chart", "version", "repository"),
    "kubernetes_namespace_v1": ("metadata.name",),
    "kubernetes_deployment_v1": ("metadata.name", "spec.replicas", f"{_CONTAINERS}.image",
                                 f"{_CONTAINERS}.resources.requests", f"{_CONTAINERS}.resources.limits"),
    "kubernetes_horizontal_pod_autoscaler_v2": ("spec.min_replicas", "spec.max_replicas"),
    "kubernetes_service_v1": ("metadata.name", "spec.type"),
    "kubernetes_ingress_v1": ("spec.ingress_class_name", "spec.rule[*].host"),
    "kubernetes_pod_disruption_budget_v1": ("spec.min_available", "spec.max_unavailable"),
    "kubernetes_manifest": ("manifest.kind", "manifest.metadata.name"),
    "kubernetes_storage_class_v1": ("metadata.name", "parameters", "reclaim_policy"),
    "kubernetes_cron_job_v1": ("metadata.name", "spec.schedule", "spec.timezone", "spec.concurrency_policy",
                               "spec.job_template.spec.active_deadline_seconds", "spec.job_template.spec.backoff_limit",
                               f"spec.job_template.spec.{_CONTAINERS}.image",
                               f"spec.job_template.spec.{_CONTAINERS}.command",
                               f"spec.job_template.spec.{_CONTAINERS}.resources.requests"),
    "kubernetes_job_v1": ("metadata.name", f"{_CONTAINERS}.image", f"{_CONTAINERS}.command",
                          "spec.active_deadline_seconds", "spec.backoff_limit", "wait_for_completion"),
    "kubernetes_network_policy_v1": ("metadata.name", "spec.pod_selector", "spec.policy_types", "spec.ingress"),
    "kubernetes_config_map_v1": ("metadata.name",),
    "random_password": ("length",),
})

#: Shown for every type that has it: a protected resource cannot be destroyed by a plan.
_PROTECTION = "lifecycle.prevent_destroy"


def _resolve(value: Any, parts: list[str], path: str) -> Iterator[tuple[str, Any]]:
    if not parts:
        yield path, value
        return
    head, rest = parts[0], parts[1:]
    every = head.endswith("[*]")
    key = head.removesuffix("[*]")
    if not isinstance(value, Mapping) or key not in value:
        return
    child, child_path = value[key], f"{path}.{key}" if path else key
    if every:
        items = child if isinstance(child, list) else [child]
        for index, item in enumerate(items):
            yield from _resolve(item, rest, f"{child_path}[{index}]")
    else:
        yield from _resolve(child, rest, child_path)


def resolve(body: Mapping[str, Any], pattern: str) -> list[tuple[str, Any]]:
    """(path, value) of what ``pattern`` (``spec.rule[*].host``) names in a resource body."""
    return list(_resolve(body, pattern.split("."), ""))


def key_attributes(resource_type: str, body: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(path, value) of the arguments ``KEY_ATTRIBUTES`` names for ``resource_type`` that ``body`` sets,
    plus ``prevent_destroy`` when it is on."""
    found = [hit for pattern in KEY_ATTRIBUTES.get(resource_type, ()) for hit in resolve(body, pattern)]
    protection = resolve(body, _PROTECTION)
    return found + [hit for hit in protection if hit[1]]


# -- one-line summaries of a construct ----------------------------------------------------------------

def _name(body: Mapping[str, Any]) -> str:
    metadata = body.get("metadata")
    return metadata.get("name", "") if isinstance(metadata, Mapping) else ""


def _reference(value: Any) -> str | None:
    """``${aws_launch_template.x.id}`` -> ``aws_launch_template.x``."""
    match = re.match(r"^\$\{([a-z0-9_]+\.[^.}]+)\.", value) if isinstance(value, str) else None
    return match.group(1) if match else None


def _pods(deployment: Mapping[str, Any], resources: Mapping[str, Mapping[str, Any]]) -> str:
    name = _name(deployment)
    for address, body in resources.items():
        if address.startswith("kubernetes_horizontal_pod_autoscaler") and isinstance(body.get("spec"), Mapping):
            spec = body["spec"]
            if spec.get("scale_target_ref", {}).get("name") == name:
                low, high = spec.get("min_replicas", 1), spec.get("max_replicas", "?")
                return f"{low}{RANGE}{high} pods"
    replicas = deployment.get("spec", {}).get("replicas", 1)
    return f"{replicas} pod{'s' if replicas != 1 else ''}"


def _sizing(deployment: Mapping[str, Any]) -> str:
    containers = deployment.get("spec", {}).get("template", {}).get("spec", {}).get("container", [])
    if not containers:
        return ""
    main = next((c for c in containers if c.get("name") == _name(deployment)), containers[0])
    requests = main.get("resources", {}).get("requests", {})
    cpu, memory = requests.get("cpu"), requests.get("memory")
    return f" {TIMES} {cpu or '?'}/{memory or '?'}" if cpu or memory else " (no requests)"


def _nodes(group: Mapping[str, Any], resources: Mapping[str, Mapping[str, Any]]) -> str:
    scaling = group.get("scaling_config", {})
    types = "/".join(group.get("instance_types", [])) or "default type"
    capacity = str(group.get("capacity_type", "ON_DEMAND")).lower().replace("_", "-")
    text = f"node group {types} {capacity} {scaling.get('min_size', '?')}{RANGE}"
    text += f"{scaling.get('max_size', '?')} nodes"
    template = resources.get(_reference(group.get("launch_template", {}).get("id")) or "")
    disks = template.get("block_device_mappings", []) if template else []
    if disks and isinstance(disks[0].get("ebs"), Mapping):
        ebs = disks[0]["ebs"]
        text += f" {TIMES} {ebs.get('volume_size', '?')} GiB {ebs.get('volume_type', '')}".rstrip()
    elif group.get("disk_size"):
        text += f" {TIMES} {group['disk_size']} GiB"
    return text


def _cache_nodes(group: Mapping[str, Any]) -> int:
    if "num_cache_clusters" in group:
        return int(group["num_cache_clusters"])
    if "num_node_groups" in group:
        return int(group["num_node_groups"]) * (int(group.get("replicas_per_node_group", 0)) + 1)
    return 1


def _containers(pod_template: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    spec = pod_template.get("spec", {}) if isinstance(pod_template, Mapping) else {}
    containers = spec.get("container", []) if isinstance(spec, Mapping) else []
    return [c for c in containers if isinstance(c, Mapping)]


def _worker(deployment: Mapping[str, Any], resources: Mapping[str, Mapping[str, Any]]) -> bool:
    """A Deployment that serves no HTTP port (a queue consumer): no Service in its construct, no ``http`` port."""
    if any(address.startswith("kubernetes_service_v1.") for address in resources):
        return False
    ports = [p.get("name") for c in _containers(deployment.get("spec", {}).get("template", {}))
             for p in c.get("port", []) or [] if isinstance(p, Mapping)]
    return "http" not in ports


def _duration(seconds: Any) -> str:
    """``7200`` -> ``2h``; ``5400`` -> ``1h30m``."""
    if not isinstance(seconds, int | float) or seconds <= 0:
        return "none"
    left, parts = int(seconds), []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if left >= size:
            parts.append(f"{left // size}{unit}")
            left %= size
    return "".join(parts)


def _cron_job(cron_job: Mapping[str, Any]) -> str:
    spec = cron_job.get("spec", {})
    job = spec.get("job_template", {}).get("spec", {})
    containers = _containers(job.get("template", {}))
    requests = containers[0].get("resources", {}).get("requests", {}) if containers else {}
    zone = f" ({spec['timezone']})" if spec.get("timezone") else ""
    sizing = f" {TIMES} {requests.get('cpu', '?')}/{requests.get('memory', '?')}" if requests else " (no requests)"
    return f"CronJob {spec.get('schedule', '?')}{zone}{sizing}, timeout {_duration(job.get('active_deadline_seconds'))}"


def _job(job: Mapping[str, Any]) -> str:
    labels = (job.get("metadata") or {}).get("labels") or {}
    timeout = _duration(job.get("spec", {}).get("active_deadline_seconds"))
    if labels.get("app.kubernetes.io/component") == "migration":
        return f"migration Job before each new image, timeout {timeout}"
    return f"Job {_name(job)}, timeout {timeout}"


def _source(peer: Mapping[str, Any]) -> str:
    namespace = ((peer.get("namespace_selector") or {}).get("match_labels") or {}).get("kubernetes.io/metadata.name")
    pods = (peer.get("pod_selector") or {}).get("match_labels") or {}
    app = pods.get("app.kubernetes.io/name") or ",".join(f"{k}={v}" for k, v in sorted(pods.items())) or "any pod"
    return app if namespace in (None, app) else f"{namespace}/{app}"


def _network_policy(policy: Mapping[str, Any]) -> str:
    spec = policy.get("spec", {})
    rules = [r for r in spec.get("ingress", []) or [] if isinstance(r, Mapping)]
    if not rules:
        selected = (spec.get("pod_selector") or {}).get("match_labels")
        return "denies all ingress by default" if not selected else "network policy admits nothing"
    admitted = []
    for rule in rules:
        ports = "/".join(str(p.get("port", "?")) for p in rule.get("ports", []) or [] if isinstance(p, Mapping))
        admitted += [f"{_source(peer)}:{ports}" if ports else _source(peer) for peer in rule.get("from", []) or []
                     if isinstance(peer, Mapping)]
    return f"network policy admits {', '.join(admitted)}"


def _aws_actions(role: Mapping[str, Any]) -> str | None:
    """``AWS s3:GetObject, sqs:ReceiveMessage``: what a role's inline policies allow, or None without any."""
    actions: list[str] = []
    for inline in role.get("inline_policy", []) or []:
        try:
            document = json.loads(inline.get("policy", "")) if isinstance(inline, Mapping) else {}
        except ValueError:
            continue
        statements = document.get("Statement", []) if isinstance(document, Mapping) else []
        for statement in statements if isinstance(statements, list) else [statements]:
            if isinstance(statement, Mapping) and statement.get("Effect") == "Allow":
                found = statement.get("Action", [])
                actions += [found] if isinstance(found, str) else [a for a in found if isinstance(a, str)]
    if not actions:
        return None
    unique = sorted(set(actions))
    return "AWS " + ", ".join(unique[:4]) + (f" and {len(unique) - 4} more" if len(unique) > 4 else "")


def _hosts(ingress: Mapping[str, Any]) -> list[str]:
    return [rule["host"] for rule in ingress.get("spec", {}).get("rule", []) if isinstance(rule, Mapping)
            and rule.get("host")]


#: The order phrases are shown in, by resource type.
_ORDER = ("aws_eks_cluster", "kubernetes_deployment_v1", "kubernetes_stateful_set_v1", "kubernetes_cron_job_v1",
          "kubernetes_job_v1", "aws_elasticache_replication_group", "kubernetes_ingress_v1", "kubernetes_config_map_v1",
          "aws_iam_role", "kubernetes_network_policy_v1", "aws_eks_node_group", "helm_release", "aws_s3_bucket",
          "aws_dynamodb_table")


def summary_phrases(resources: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Resource address -> a phrase for the one-line summary of the construct these resources make:
    ``Deployment 2-6 pods x 250m/512Mi``, ``cache cache.t4g.small x 2``, ``ingress host``,
    ``node group m7i.xlarge on-demand 3-12 nodes x 100 GiB gp3``, ``CronJob 30 2 * * * x 500m/1Gi, timeout 2h``,
    ``worker Deployment 2 pods x 250m/512Mi``, ``migration Job before each new image, timeout 15m``,
    ``config files application.yaml``, ``AWS s3:GetObject``, ``network policy admits edge-gateway:8080``...
    (typographic dashes and times)."""
    phrases: dict[str, str] = {}
    for address in sorted(resources, key=lambda a: (_ORDER.index(a.split(".")[0]) if a.split(".")[0] in _ORDER
                                                     else len(_ORDER), a)):
        body, type_ = resources[address], address.split(".", 1)[0]
        if type_ in ("kubernetes_deployment_v1", "kubernetes_stateful_set_v1"):
            kind = "Deployment" if type_ == "kubernetes_deployment_v1" else "StatefulSet"
            kind = f"worker {kind}" if _worker(body, resources) else kind
            phrases[address] = f"{kind} {_pods(body, resources)}{_sizing(body)}"
        elif type_ == "kubernetes_cron_job_v1":
            phrases[address] = _cron_job(body)
        elif type_ == "kubernetes_job_v1":
            phrases[address] = _job(body)
        elif type_ == "kubernetes_network_policy_v1":
            phrases[address] = _network_policy(body)
        elif type_ == "kubernetes_config_map_v1" and "grafana_dashboard" not in (
                (body.get("metadata") or {}).get("labels") or {}):
            phrases[address] = f"config files {', '.join(sorted(body.get('data') or {})) or '(none)'}"
        elif type_ == "aws_iam_role" and _aws_actions(body):
            phrases[address] = str(_aws_actions(body))
        elif type_ == "aws_elasticache_replication_group":
            phrases[address] = f"cache {body.get('node_type', '?')} {TIMES} {_cache_nodes(body)}"
        elif type_ == "kubernetes_ingress_v1":
            phrases[address] = f"ingress {', '.join(_hosts(body)) or _name(body)}"
        elif type_ == "aws_eks_node_group":
            phrases[address] = _nodes(body, resources)
        elif type_ == "aws_eks_cluster":
            phrases[address] = f"EKS {body.get('name', '')} {body.get('version', '')}".replace("  ", " ").strip()
        elif type_ == "helm_release":
            phrases[address] = f"Helm {body.get('chart', '?')} {body.get('version', '')}".strip()
        elif type_ == "aws_s3_bucket":
            phrases[address] = f"S3 bucket {body.get('bucket', body.get('bucket_prefix', ''))}".strip()
        elif type_ == "aws_dynamodb_table":
            phrases[address] = f"DynamoDB table {body.get('name', '')}".strip()
    return phrases


def phrase_diff(before: str, after: str) -> str:
    """``node group m7i.xlarge 3-12 nodes`` -> ``node group m7i.xlarge 3-12 → 3-120 nodes``: the words that
    changed, in place."""
    old, new = before.split(" "), after.split(" ")
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    changed_old, changed_new = old[head:len(old) - tail], new[head:len(new) - tail]
    middle = f"{' '.join(changed_old) or '(none)'} → {' '.join(changed_new) or '(none)'}"
    return " ".join([*old[:head], middle, *old[len(old) - tail:]])
