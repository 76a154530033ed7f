"""edge-gateway: the shop's public entry point, at shop.<domain>."""

from constructs_lib import Autoscaling, MetricsEndpoint, Microservice
from stacks.services import REGISTRY, ServiceContext


def service(ctx: ServiceContext) -> None:
    Microservice(
        ctx.stack, "edge-gateway",
        image=f"{REGISTRY}/edge-gateway:2.3.0",
        cpu="500m", memory="512Mi",
        metrics=MetricsEndpoint(port=9090),
        autoscaling=Autoscaling(min_replicas=2, max_replicas=ctx.per_env(staging=4, production=20), cpu_percent=60),
        ingress_host=f"shop.{ctx.domain}",
    )
