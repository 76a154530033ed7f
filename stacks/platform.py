"""The platform stack: shared in-cluster services installed with Helm."""

from __future__ import annotations

from constructs import Construct

from environments import Environment

from .base import KubernetesStack


class PlatformStack(KubernetesStack):
    """``<env>-platform``: operators and their CRDs, applied after the cluster exists."""

    layer = "platform"

    def __init__(self, scope: Construct, env: Environment) -> None:
        super().__init__(scope, env)
