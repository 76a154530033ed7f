"""The capability contract: every feature a workload uses is installed by its environment's platform.

A platform construct says what it offers (``offers()``: an ingress class, an
issuer, DNS for a domain, a secret store for some namespaces, a Prometheus that
selects some labels, the metrics API, a node group). A workload says what each
of its features needs (``needs()``). ``check`` matches them over one
environment's stacks: a feature whose capability no construct offers fails
synthesis, naming the workload, the feature and what is missing, before
anything is applied to a cluster where it would silently do nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from constructs import IConstruct

from .validation import ConfigError, Problem

__all__ = ["Capability", "Need", "Needs", "Offer", "Offers", "check"]


class Capability(StrEnum):
    """What a platform can provide to a workload, as a reviewer would say it."""

    METRICS_API = "the resource metrics API (metrics-server)"
    INGRESS_CLASS = "an ingress controller"
    CERTIFICATES = "a certificate issuer (cert-manager ClusterIssuer)"
    DNS = "DNS records for the host (external-dns)"
    SECRET_STORE = "a secret store (External Secrets)"
    PROMETHEUS = "a Prometheus that selects it"
    NODE_GROUP = "the node group"
    NETWORK_POLICY = "NetworkPolicy enforcement"
    WORKLOAD = "a workload"


@dataclass(frozen=True)
class Offer:
    """One capability, offered by the construct at ``by``.

    :param name: what is offered by name (an ingress class, an issuer, a domain, a store), or ``""``.
    :param scope: what it is limited to: the namespaces a store serves, the labels a Prometheus selects.
    """

    capability: Capability
    name: str
    by: str
    scope: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Need:
    """What one feature of a workload needs from the platform.

    :param feature: the keyword the developer wrote (``autoscaling``, ``ingress_host``, ...).
    :param value: its value, for the message.
    :param wants: the name wanted (class, issuer, host, store, node group path), or ``""``.
    :param accepts: whether an offer of the capability serves this need; default: same name.
    :param fix: what to do when nothing does.
    :param what: what is needed, as the message says it; default: the capability and ``wants``.
    """

    feature: str
    value: Any
    capability: Capability
    wants: str = ""
    accepts: Callable[[Offer], bool] | None = None
    fix: str = ""
    what: str = ""

    def met_by(self, offer: Offer) -> bool:
        if offer.capability is not self.capability:
            return False
        return self.accepts(offer) if self.accepts else offer.name == self.wants


@runtime_checkable
class Offers(Protocol):
    """A platform construct."""

    def offers(self) -> Iterable[Offer]: ...


@runtime_checkable
class Needs(Protocol):
    """A workload."""

    def needs(self) -> Iterable[Need]: ...


def check(environment: str, roots: Iterable[IConstruct]) -> list[ConfigError]:
    """Every need of every workload under ``roots`` (one environment's stacks) met by an offer there."""
    constructs = [c for root in roots for c in root.node.find_all()]
    offers = [offer for c in constructs if isinstance(c, Offers) for offer in c.offers()]
    errors = []
    for workload in constructs:
        if not isinstance(workload, Needs):
            continue
        problems = []
        for need in workload.needs():
            if any(need.met_by(offer) for offer in offers):
                continue
            near = [o for o in offers if o.capability is need.capability]
            what = need.what or f"{need.capability.value}" + (f" for {need.wants!r}" if need.wants else "")
            found = ("; " + environment + " has " + ", ".join(
                f"{o.name or o.capability.value} ({o.by})" for o in near)) if near else f"; {environment} has none"
            problems.append(Problem(need.feature, need.value, f"needs {what}{found}: {need.fix}".rstrip(": ")))
        if problems:
            errors.append(ConfigError(workload.node.path, problems))
    return errors
