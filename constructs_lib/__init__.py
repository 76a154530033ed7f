"""Reusable cdktf constructs of the platform. They know no environment: stacks pass explicit props."""

from .eks_cluster import ADDON_VERSIONS, EksCluster
from .node_group import CapacityType, EksNodeGroup, Taint, TaintEffect
from .state_store import TerraformStateStore
from .validation import ConfigError

__all__ = [
    "ADDON_VERSIONS",
    "CapacityType",
    "ConfigError",
    "EksCluster",
    "EksNodeGroup",
    "Taint",
    "TaintEffect",
    "TerraformStateStore",
]
