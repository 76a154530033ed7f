"""Option types for EKS managed node groups."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["CapacityType", "Taint", "TaintEffect"]


class CapacityType(StrEnum):
    """How EC2 capacity for a node group is bought."""

    ON_DEMAND = "ON_DEMAND"
    SPOT = "SPOT"


class TaintEffect(StrEnum):
    """Kubernetes taint effects, spelled as the EKS API wants them."""

    NO_SCHEDULE = "NO_SCHEDULE"
    PREFER_NO_SCHEDULE = "PREFER_NO_SCHEDULE"
    NO_EXECUTE = "NO_EXECUTE"

    @property
    def kubernetes(self) -> str:
        """The effect as a pod toleration spells it (``NoSchedule``)."""
        return "".join(part.capitalize() for part in self.value.split("_"))


@dataclass(frozen=True, kw_only=True)
class Taint:
    """A node taint; pods scheduled onto the group must tolerate it."""

    key: str
    value: str | None = None
    effect: TaintEffect = TaintEffect.NO_SCHEDULE
