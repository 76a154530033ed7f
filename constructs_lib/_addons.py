"""What the platform's add-on charts share: zone spread, disruption budgets, resources, and input shapes.

Every add-on (metrics-server, cluster-autoscaler, the ingress controller,
cert-manager, external-dns) renders these the same way, so that one reading of
one of them tells a reviewer how the others behave.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: AWS region codes (``eu-west-1``).
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
REGION_FIX = "use a region code such as 'eu-west-1'"
#: Route 53 hosted zone ids (``Z0123456789ABCDEFGHIJ``), without the ``/hostedzone/`` prefix.
HOSTED_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
HOSTED_ZONE_ID_FIX = "use the hosted zone's id as Route 53 shows it, e.g. 'Z0123456789ABCDEFGHIJ' (no /hostedzone/)"
#: A DNS domain (``staging.acme-shop.example``): the environment config checks its domain the same way.
DOMAIN = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$")
DOMAIN_FIX = "use a lowercase DNS name such as 'staging.acme-shop.example' (no scheme, no trailing dot)"

ZONE = "topology.kubernetes.io/zone"

#: A budget that lets a drain take one replica at a time, never all of them.
BUDGET: Mapping[str, Any] = {"enabled": True, "maxUnavailable": 1}

#: Why add-ons have a memory limit but no CPU limit.
NO_CPU_LIMIT = ("a memory limit (a leak ends in a restart, not a starved node) but no CPU limit: CFS throttling "
                "would slow the component exactly when the cluster is busiest, and the CPU request already "
                "reserves what it needs, as for Microservice")


def zone_spread(match_labels: Mapping[str, str], replicas: int) -> list[dict[str, Any]]:
    """Topology spread constraints that keep ``replicas`` pods in different zones while zones allow.

    ``DoNotSchedule``: a second replica in the zone of the first would not survive that zone's loss,
    which is the reason to run two. ``nodeTaintsPolicy: Honor``: a zone whose only nodes are tainted
    (a batch pool) is not counted as a place the pods could go. None for a single replica.
    """
    if replicas <= 1:
        return []
    return [{"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule",
             "nodeTaintsPolicy": "Honor", "labelSelector": {"matchLabels": dict(match_labels)}}]


def compute(cpu: str, memory: str, memory_limit: str) -> dict[str, Any]:
    """A container's requests and limits (see ``NO_CPU_LIMIT``)."""
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory_limit}}


#: A container that runs as nobody with a read-only root and no privileges; the charts that do not set
#: this themselves get it.
RESTRICTED_CONTAINER: Mapping[str, Any] = {
    "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}}
RESTRICTED_POD: Mapping[str, Any] = {
    "runAsNonRoot": True, "runAsUser": 65534, "runAsGroup": 65534, "seccompProfile": {"type": "RuntimeDefault"}}


def role_annotation(role_arn: str) -> dict[str, str]:
    """The ServiceAccount annotation through which EKS hands a pod its IRSA role."""
    return {"eks.amazonaws.com/role-arn": role_arn}
