"""checkout: the shop's checkout API, and the sessions cache it owns."""

from constructs_lib import Autoscaling, JvmOptions, ManagedRedis, MetricsEndpoint, Microservice
from stacks.services import DASHBOARDS, REGISTRY, ServiceContext


def service(ctx: ServiceContext) -> None:
    sessions = ManagedRedis(
        ctx.stack, "sessions",
        node_type=ctx.per_env(staging="cache.t4g.small", production="cache.r7g.large"),
        replicas=ctx.per_env(staging=1, production=2),
        snapshot_retention_days=ctx.per_env(staging=3, production=14),
    )
    Microservice(
        ctx.stack, "checkout",
        dashboards=[DASHBOARDS / "checkout.json"],
        image=f"{REGISTRY}/checkout:1.4.2",
        cpu="500m", memory="1Gi",
        env={"SPRING_PROFILES_ACTIVE": ctx.environment},
        secrets={"DB_PASSWORD": ctx.secret("checkout", "db_password"),
                 "PAYMENT_API_KEY": ctx.secret("checkout", "payment_api_key")},
        metrics=MetricsEndpoint(port=8081, path="/actuator/prometheus"),
        jvm=JvmOptions(heap_percent=75),
        autoscaling=Autoscaling(min_replicas=ctx.per_env(staging=2, production=3),
                                max_replicas=ctx.per_env(staging=4, production=10)),
        redis=sessions,
        allow_from=["edge-gateway"],  # the shop's entry point calls it; nothing else may
    )
