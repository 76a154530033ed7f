"""The environments this repository deploys, as validated data."""

from .config import Cluster, DeveloperAccess, Dns, Environment, Limits, Network, NodePool, StateBackend, Subnet
from .production import PRODUCTION
from .staging import STAGING

#: Every environment, in deployment order (staging is applied first).
ENVIRONMENTS: dict[str, Environment] = {env.name: env for env in (STAGING, PRODUCTION)}

__all__ = [
    "ENVIRONMENTS",
    "PRODUCTION",
    "STAGING",
    "Cluster",
    "DeveloperAccess",
    "Dns",
    "Environment",
    "Limits",
    "Network",
    "NodePool",
    "StateBackend",
    "Subnet",
]
