"""What makes a change risky, for the resource types this library emits.

Curated from the providers' documentation (arguments marked "Forces new
resource") for the versions pinned in the Pipfile; ``tests/test_review.py``
checks every entry against the provider bindings, so a typo or a type the
library no longer emits fails the build.
"""

from __future__ import annotations

import re
from types import MappingProxyType

__all__ = ["FORCES_REPLACEMENT", "SERVING_TYPES", "STATEFUL_TYPES", "forces_replacement"]

#: Losing one of these loses data or takes an environment down.
STATEFUL_TYPES = frozenset({
    "aws_elasticache_replication_group",
    "aws_s3_bucket",
    "aws_dynamodb_table",
    "aws_eks_cluster",
    "aws_eks_node_group",
    "aws_kms_key",
    "aws_secretsmanager_secret",
})

#: Deleting one of these takes traffic away from a running service (kind, as reviewers say it).
SERVING_TYPES = MappingProxyType({
    "kubernetes_deployment_v1": "Deployment",
    "kubernetes_service_v1": "Service",
    "kubernetes_ingress_v1": "Ingress",
})

_METADATA = ("metadata.name", "metadata.namespace")

#: resource type -> top-level arguments (or dotted paths) whose change replaces the resource.
FORCES_REPLACEMENT = MappingProxyType({
    "aws_cloudwatch_log_group": ("name", "name_prefix"),
    "aws_dynamodb_table": ("name", "hash_key", "range_key"),
    "aws_eks_cluster": ("name", "role_arn", "encryption_config", "bootstrap_self_managed_addons"),
    "aws_eks_node_group": ("cluster_name", "node_group_name", "node_group_name_prefix", "node_role_arn",
                           "subnet_ids", "instance_types", "capacity_type", "ami_type"),
    "aws_elasticache_parameter_group": ("name", "family"),
    "aws_elasticache_replication_group": ("replication_group_id", "engine", "port", "at_rest_encryption_enabled",
                                          "kms_key_id", "subnet_group_name"),
    "aws_elasticache_subnet_group": ("name",),
    "aws_iam_openid_connect_provider": ("url",),
    "aws_iam_policy": ("name", "name_prefix", "path"),
    "aws_iam_role": ("name", "name_prefix", "path"),
    "aws_kms_key": ("customer_master_key_spec", "key_usage", "multi_region"),
    "aws_launch_template": ("name", "name_prefix"),
    "aws_s3_bucket": ("bucket", "bucket_prefix"),
    "aws_secretsmanager_secret": ("name", "name_prefix"),
    "aws_security_group": ("name", "name_prefix", "vpc_id", "description"),
    "helm_release": ("name", "namespace"),
    "kubernetes_config_map_v1": _METADATA,
    "kubernetes_deployment_v1": _METADATA,
    "kubernetes_horizontal_pod_autoscaler_v2": _METADATA,
    "kubernetes_ingress_v1": _METADATA,
    "kubernetes_manifest": ("manifest.apiVersion", "manifest.kind", "manifest.metadata.name",
                            "manifest.metadata.namespace"),
    "kubernetes_namespace_v1": ("metadata.name",),
    "kubernetes_pod_disruption_budget_v1": _METADATA,
    "kubernetes_role_binding_v1": (*_METADATA, "role_ref"),
    "kubernetes_role_v1": _METADATA,
    "kubernetes_service_account_v1": _METADATA,
    "kubernetes_storage_class_v1": ("metadata.name", "storage_provisioner", "parameters", "reclaim_policy",
                                    "volume_binding_mode"),
    "kubernetes_service_v1": _METADATA,
    "random_password": ("length", "special", "upper", "lower", "numeric", "min_special", "override_special",
                        "keepers"),
})


def forces_replacement(resource_type: str, changed_paths: list[str]) -> list[str]:
    """The changed attribute paths that replace a resource of ``resource_type``."""
    triggers = FORCES_REPLACEMENT.get(resource_type, ())
    hits = []
    for path in changed_paths:
        normalized = _without_indexes(path)
        if any(normalized == t or normalized.startswith(t + ".") for t in triggers):
            hits.append(path)
    return hits


def _without_indexes(path: str) -> str:
    """``metadata[0].name`` and ``metadata.name`` are the same argument (lists of one block)."""
    return re.sub(r"\[\d+\]", "", path)
