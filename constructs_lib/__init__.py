"""Reusable cdktf constructs of the platform. They know no environment: stacks pass explicit props."""

from .node_group import CapacityType, Taint, TaintEffect
from .validation import ConfigError

__all__ = [
    "CapacityType",
    "ConfigError",
    "Taint",
    "TaintEffect",
]
