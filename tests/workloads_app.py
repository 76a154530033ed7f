"""An environment's real stacks with one of each kind of workload the real services do not use yet added.

``add_workloads`` adds, as a developer would in a service module: a scheduled job with its own AWS
permissions and a config file, a worker, a service with its own AWS permissions, config files, a
migration and ``allow_from``. The services stack gives them the cluster's OIDC provider and a
NetworkPolicy each. Nothing here imports cdktf at import time (conftest imports helpers before jsii
starts).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stacks import EnvironmentStacks

REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
CONFIG = Path(__file__).parent / "workload_files"


def add_workloads(built: EnvironmentStacks) -> dict[str, Any]:
    """One of each new kind in ``built``'s services stack; returns them by id."""
    from constructs_lib import (
        AwsPermission,
        JvmOptions,
        MetricsEndpoint,
        Microservice,
        Migration,
        Probes,
        ScheduledJob,
    )

    services = built.services
    env = services.env
    prefix = env.secrets_prefix
    edge = next(s for s in services.services if s.name == "edge-gateway")
    bucket = f"acme-shop-reports-{env.name}"
    account = env.account_id
    found: dict[str, Any] = {}
    found["nightly-report"] = ScheduledJob(
        services, "nightly-report", image=f"{REGISTRY}/nightly-report:3.1.0", schedule="30 2 * * *",
        command=["java", "-jar", "/app/report.jar", "--yesterday"], timeout="2h", cpu="500m", memory="1Gi",
        jvm=JvmOptions(heap_percent=70), secrets={"DB_PASSWORD": f"{prefix}reports#db_password"},
        node_group=built.cluster.node_groups["batch"],
        aws_permissions=[AwsPermission(actions=["s3:PutObject"], resources=[f"arn:aws:s3:::{bucket}/daily/*"])],
        config_files={"report.yaml": CONFIG / "report.yaml"})
    found["order-consumer"] = Microservice(
        services, "order-consumer", image=f"{REGISTRY}/order-consumer:1.2.0", port=None, replicas=2,
        probes=Probes(command=["/app/healthcheck"]), metrics=MetricsEndpoint(port=9100),
        aws_permissions=[AwsPermission(
            actions=["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"],
            resources=[f"arn:aws:sqs:{env.region}:{account}:orders-{env.name}"])])
    found["catalog"] = Microservice(
        services, "catalog", image=f"{REGISTRY}/catalog:4.0.0", metrics=MetricsEndpoint(port=9090),
        config_files={"application.yaml": CONFIG / "application.yaml", "logback.xml": CONFIG / "logback.xml"},
        migration=Migration(command=["/app/migrate", "up"], timeout="15m"),
        allow_from=[edge, found["order-consumer"], found["nightly-report"]],
        aws_permissions=[AwsPermission(actions=["s3:GetObject"], resources=[f"arn:aws:s3:::{bucket}/catalog/*"],
                                       conditions={"Bool": {"aws:SecureTransport": "true"}})])
    return found


def build(outdir: Path, env_name: str = "staging", change: Any = None) -> tuple[Any, EnvironmentStacks, dict]:
    """An App with ``env_name``'s stacks holding the new workloads, checked (not synthesized)."""
    from cdktf import App

    from environments import ENVIRONMENTS
    from stacks import build_environment, check

    app = App(outdir=str(outdir), skip_validation=True)
    built = build_environment(app, ENVIRONMENTS[env_name])
    workloads = add_workloads(built)
    if change is not None:
        change(built, workloads)
    check(app)
    return app, built, workloads
