"""Helm releases: values rendered from typed Python, charts pinned, and what each platform chart runs.

Every chart the platform installs declares its workloads here (``HelmComponent``):
where the chart keeps each one's replica count, how its replicas coordinate
(leader election, a documented active-active design, or one replica only) and
which key turns on its PodDisruptionBudget. The platform rule, checked by the
tests over every ``helm_release`` of every platform stack, reads a release's
values through that declaration: a workload that runs more than one replica
must coordinate and must have a disruption budget.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: An exact chart version: ranges, ``latest`` or an empty version would change what a re-apply installs.
CHART_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
CHART_VERSION_FIX = "pin an exact chart version such as '82.6.0' (no ranges, no 'latest')"

#: A workload a platform stack creates without Helm (a Deployment or StatefulSet) states how its replicas
#: coordinate in this annotation: ``leader-election``, or ``active-active: <why that is safe>``.
COORDINATION_ANNOTATION = "platform.acme-shop.io/coordination"


def helm_values(values: dict[str, Any]) -> str:
    """Values as a Helm values document: JSON (a subset of YAML), keys sorted, so output is stable.

    Token strings (e.g. a role ARN) stay inside the text and become Terraform interpolations.
    """
    return json.dumps(values, indent=2, sort_keys=True)


@dataclass(frozen=True, order=True)
class ObjectRef:
    """A Kubernetes object one resource makes or needs, as the apply-order check models it.

    ``kind`` is the object's kind (``Secret``, ``StorageClass``, ``IngressClass``, ``ClusterIssuer``,
    ...), or ``CustomResourceDefinition`` with ``name`` ``<group>/<Kind>`` for the CRD a kind needs.
    """

    kind: str
    name: str
    namespace: str | None = None

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


def crds(group: str, *kinds: str) -> tuple[ObjectRef, ...]:
    """The CRDs of ``kinds`` in API ``group``, as ``ObjectRef``s."""
    return tuple(ObjectRef("CustomResourceDefinition", f"{group}/{kind}") for kind in kinds)


@dataclass(frozen=True)
class Key:
    """One key of a chart's values: its dotted path and what the chart does when the key is absent.

    :param path: e.g. ``webhook.replicaCount``; a segment may hold ``-`` but no ``.``.
    :param default: the chart's default (its ``values.yaml``), or what the program assumes when the chart
        sets nothing (a command-line flag's default).
    """

    path: str
    default: Any = None

    def read(self, values: Mapping[str, Any]) -> Any:
        """The value the chart's templates see: ours where we set it, the default otherwise.

        An explicit ``null`` is ``None``: Helm removes a key set to null, default included.
        """
        node: Any = values
        for part in self.path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return self.default
            node = node[part]
        return node

    def is_on(self, values: Mapping[str, Any]) -> bool:
        """On as a template's ``{{ if }}`` tests a switch: ``true`` (or ``"true"``), or a non-empty map."""
        value = self.read(values)
        return value is True or value == "true" or (isinstance(value, Mapping) and bool(value))


@dataclass(frozen=True)
class LeaderElection:
    """Replicas elect a leader through a Lease; only the leader acts. ``switch`` turns it on."""

    switch: Key


@dataclass(frozen=True)
class ActiveActive:
    """Every replica works at once, by design; ``why`` says what makes that safe (the reviewer checks it)."""

    why: str


@dataclass(frozen=True)
class OneReplica:
    """The workload must not run more than one replica; ``why`` says what would break."""

    why: str


Coordination = LeaderElection | ActiveActive | OneReplica


@dataclass(frozen=True, kw_only=True)
class Workload:
    """One Deployment or StatefulSet a chart runs, seen through the chart's values.

    :param name: how the chart's documentation names it (``controller``, ``webhook``).
    :param replicas: the key of its replica count.
    :param coordination: how its replicas avoid acting twice.
    :param pdb: the key that enables its PodDisruptionBudget; required unless ``OneReplica`` (a chart
        that has no budget for a workload leaves it at one replica: declare that with ``OneReplica``).
    :param enabled: the key that installs it at all; ``None``: always installed.
    """

    name: str
    replicas: Key
    coordination: Coordination
    pdb: Key | None = None
    enabled: Key | None = None

    def __post_init__(self) -> None:
        assert self.pdb is not None or isinstance(self.coordination, OneReplica), (
            f"{self.name}: a workload that may run several replicas needs its pdb key")

    def problems(self, values: Mapping[str, Any]) -> list[str]:
        """What is wrong with these values for this workload: one line each, with the fix."""
        if self.enabled is not None and not self.enabled.is_on(values):
            return []
        replicas = self.replicas.read(values)
        if replicas is None:  # no replicas in the manifest: Kubernetes runs one
            return []
        if isinstance(replicas, str) and replicas.isdigit():
            replicas = int(replicas)
        if not isinstance(replicas, int) or isinstance(replicas, bool):
            return [f"{self.name}: {self.replicas.path} = {replicas!r} is not a number of replicas: write one"]
        if replicas <= 1:
            return []
        runs = f"{self.name} runs {replicas} replicas ({self.replicas.path})"
        found = []
        match self.coordination:
            case OneReplica(why=why):
                found.append(f"{runs} but must run one: {why}; set {self.replicas.path}: 1")
            case LeaderElection(switch=switch) if not switch.is_on(values):
                found.append(f"{runs} without leader election, so every replica acts: "
                             f"set {switch.path}: true")
        if self.pdb is not None and not self.pdb.is_on(values):
            found.append(f"{runs} without a PodDisruptionBudget, so a node drain can stop them all: "
                         f"set {self.pdb.path}: true")
        return found


@dataclass(frozen=True, kw_only=True)
class HelmComponent:
    """What one platform chart runs, as read from its templates at version ``read_from``.

    The declaration is true of that chart version only: the platform rule fails on a release of another
    version until someone re-reads the chart's templates and updates ``read_from`` (and the workloads).

    :param chart: the chart's name in ``repository``.
    :param workloads: every Deployment or StatefulSet the chart can run more than once.
    """

    chart: str
    repository: str
    read_from: str
    workloads: tuple[Workload, ...]
    #: The apply-order model (``policy.apply_order``): what an install of the chart makes exist, and what
    #: its values name that must exist already. Both take the release's values and namespace.
    creates: Callable[[Mapping[str, Any], str], Iterable[ObjectRef]] | None = None
    references: Callable[[Mapping[str, Any], str], Iterable[ObjectRef]] | None = None

    def created(self, values: Mapping[str, Any], namespace: str) -> list[ObjectRef]:
        return list(self.creates(values, namespace)) if self.creates else []

    def referenced(self, values: Mapping[str, Any], namespace: str) -> list[ObjectRef]:
        return list(self.references(values, namespace)) if self.references else []

    def problems(self, values: Mapping[str, Any]) -> list[str]:
        """What is wrong with these release values under the platform rule; empty when nothing is."""
        return [f"{self.chart}: {problem}" for w in self.workloads for problem in w.problems(values)]


#: Every platform chart's declaration, by chart name; ``declare`` adds one.
PLATFORM_COMPONENTS: dict[str, HelmComponent] = {}


def declare(component: HelmComponent) -> HelmComponent:
    """Register ``component`` as a platform chart (once per chart name) and return it."""
    assert component.chart not in PLATFORM_COMPONENTS, f"{component.chart} declared twice"
    PLATFORM_COMPONENTS[component.chart] = component
    return component
