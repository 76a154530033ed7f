"""Reusable cdktf constructs of the platform. They know no environment: stacks pass explicit props."""

from .contracts import SCRAPE_LABELS, SECRET_STORE
from .eks_cluster import ADDON_VERSIONS, EksCluster
from .microservice import Autoscaling, JvmOptions, MetricsEndpoint, Microservice, Probes
from .node_group import CapacityType, EksNodeGroup, Taint, TaintEffect
from .redis import ManagedRedis
from .state_store import TerraformStateStore
from .validation import ConfigError

__all__ = [
    "ADDON_VERSIONS",
    "SCRAPE_LABELS",
    "SECRET_STORE",
    "Autoscaling",
    "CapacityType",
    "ConfigError",
    "EksCluster",
    "EksNodeGroup",
    "JvmOptions",
    "ManagedRedis",
    "MetricsEndpoint",
    "Microservice",
    "Probes",
    "Taint",
    "TaintEffect",
    "TerraformStateStore",
]
