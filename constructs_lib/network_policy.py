"""Network isolation: a namespace that admits nothing by default, and each workload's own admissions.

Kubernetes lets every pod reach every other pod until a NetworkPolicy selects
it. ``default_deny_ingress`` selects every pod of a namespace and admits
nothing: a pod no other policy admits anything to is unreachable. Each workload
then gets its own policy (``Workload``), admitting only what it needs: the
ingress controller's pods on its HTTP port when it has an Ingress, Prometheus'
pods on its metrics port when it is scraped, and the workloads it names in
``allow_from`` on its HTTP port. Policies add up: a pod is reachable from what
any policy selecting it admits.

Enforcement is the CNI's: on EKS the VPC CNI's network policy agent, which
``EksCluster`` turns on and offers as ``Capability.NETWORK_POLICY``; every
workload with a policy needs it (without an enforcing CNI a policy is silently
ignored). The agent always admits traffic from the pod's own node (its
``fwruleprocessor`` adds the node IP to every pod's allow map), so kubelet
probes need no rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cdktf_cdktf_provider_kubernetes.network_policy_v1 import (
    NetworkPolicyV1,
    NetworkPolicyV1Metadata,
    NetworkPolicyV1Spec,
)
from constructs import Construct

from ._pod import to_struct
from .contracts import NAMESPACE_NAME_LABEL

__all__ = ["DEFAULT_DENY_INGRESS", "Peer", "default_deny_ingress", "ingress_rules", "network_policy"]

#: The name of the namespace-wide policy.
DEFAULT_DENY_INGRESS = "default-deny-ingress"

#: Pods that may connect: (namespace name or None for the policy's own namespace, pod labels, ports, what it is).
Peer = tuple[str | None, Mapping[str, str], Sequence[int], str]


def default_deny_ingress(scope: Construct, id: str, *, namespace: str) -> NetworkPolicyV1:
    """A NetworkPolicy selecting every pod of ``namespace`` and admitting nothing; returns it.

    Pass ``NamespaceV1.metadata.name`` as ``namespace`` to order it after the namespace. Put it where the
    namespace is made (the stack); the workloads in it admit what they need with their own policies.
    """
    return NetworkPolicyV1(
        scope, id,
        metadata=NetworkPolicyV1Metadata(name=DEFAULT_DENY_INGRESS, namespace=namespace),
        spec=to_struct(NetworkPolicyV1Spec, {"pod_selector": {}, "policy_types": ["Ingress"]}))


def ingress_rules(peers: Sequence[Peer]) -> list[dict[str, Any]]:
    """One ingress rule per peer: its pods (in its namespace, selected by the name label) on its ports."""
    rules = []
    for namespace, labels, ports, _ in peers:
        source: dict[str, Any] = {"pod_selector": {"match_labels": dict(labels)}}
        if namespace is not None:
            source["namespace_selector"] = {"match_labels": {NAMESPACE_NAME_LABEL: namespace}}
        rules.append({"from": [source],
                      "ports": [{"port": str(port), "protocol": "TCP"} for port in sorted(set(ports))]})
    return rules


def network_policy(scope: Construct, id: str, *, name: str, namespace: str, labels: Mapping[str, str],
                   selector: Mapping[str, str], peers: Sequence[Peer]) -> NetworkPolicyV1:
    """A workload's NetworkPolicy: its pods (``selector``) admit ``peers`` only (none: nothing)."""
    return NetworkPolicyV1(
        scope, id,
        metadata=NetworkPolicyV1Metadata(name=name, namespace=namespace, labels=dict(labels)),
        spec=to_struct(NetworkPolicyV1Spec, {
            "pod_selector": {"match_labels": dict(selector)},
            "policy_types": ["Ingress"],
            "ingress": ingress_rules(peers) or None,
        }))
