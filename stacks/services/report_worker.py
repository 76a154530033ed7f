"""report-worker: builds the shop's reports every night, on the batch (spot) node pool."""

from constructs_lib import JvmOptions, ScheduledJob
from stacks.services import REGISTRY, ServiceContext


def service(ctx: ServiceContext) -> None:
    ScheduledJob(
        ctx.stack, "report-worker",
        image=f"{REGISTRY}/report-worker:0.9.1",
        schedule="0 3 * * *", timeout="2h",
        command=["java", "-jar", "/app/report-worker.jar", "--yesterday"],
        cpu="1", memory="2Gi",
        jvm=JvmOptions(heap_percent=70),
        node_group=ctx.node_groups["batch"],
    )
