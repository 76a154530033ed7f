"""report-worker: builds the shop's reports, on the batch (spot) node pool."""

from constructs_lib import JvmOptions, MetricsEndpoint, Microservice
from stacks.services import REGISTRY, ServiceContext


def service(ctx: ServiceContext) -> None:
    Microservice(
        ctx.stack, "report-worker",
        image=f"{REGISTRY}/report-worker:0.9.1",
        cpu="1", memory="2Gi",
        replicas=2,
        jvm=JvmOptions(heap_percent=70),
        metrics=MetricsEndpoint(port=8081, path="/actuator/prometheus"),
        node_group=ctx.node_groups["batch"],
    )
