"""The services stack: the file product developers edit to add a service.

It is applied after the platform stack, so the custom resources it holds
(ServiceMonitor, ExternalSecret) find their CRDs at plan time.
"""

from __future__ import annotations

from constructs import Construct

from environments import Environment

from .base import KubernetesStack


class ServicesStack(KubernetesStack):
    """``<env>-services``: the microservices and the managed caches they use."""

    layer = "services"

    def __init__(self, scope: Construct, env: Environment) -> None:
        super().__init__(scope, env)
