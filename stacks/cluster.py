"""The cluster stack: the EKS cluster, its node groups and their IAM. AWS provider only."""

from __future__ import annotations

from constructs import Construct

from environments import Environment

from .base import RemoteStateStack


class ClusterStack(RemoteStateStack):
    """``<env>-cluster``: applied first; everything in-cluster depends on it."""

    layer = "cluster"

    def __init__(self, scope: Construct, env: Environment) -> None:
        super().__init__(scope, env)
