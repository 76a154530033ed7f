"""An environment's real stacks with one of each new kind of workload added, wired the way the stacks will be.

``wire`` is what the services stack does for these workloads (the coordinator moves it into
``stacks/``): the cluster's OIDC provider and NetworkPolicies per workload in the stack's guardrails,
and a namespace that denies ingress by default. ``add_workloads`` then adds, as a developer would:
a scheduled job, a worker, a service with its own AWS permissions, config files, a migration and
``allow_from``. Nothing here imports cdktf at import time (conftest imports helpers before jsii starts).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

if TYPE_CHECKING:
    from stacks import EnvironmentStacks

REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
CONFIG = Path(__file__).parent / "workload_files"


def wire(services: Any) -> None:
    """What the services stack gives its workloads: the cluster's OIDC provider (IRSA) and isolation.

    ``network_policies`` is set here too, but the services the stack has already made took their
    defaults when they were made: ``build`` sets it from the start, as the stack will."""
    from cdktf_cdktf_provider_aws.data_aws_iam_openid_connect_provider import DataAwsIamOpenidConnectProvider

    from constructs_lib import default_deny_ingress

    oidc = DataAwsIamOpenidConnectProvider(services, "oidc-provider",
                                           url=services.eks.identity.get(0).oidc.get(0).issuer)
    services.guardrails.oidc_provider_arn = oidc.arn
    services.guardrails.oidc_issuer_url = oidc.url
    services.guardrails.network_policies = True
    default_deny_ingress(services, "default-deny-ingress", namespace=services.guardrails.namespace)


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


@contextlib.contextmanager
def _isolating_guardrails() -> Iterator[None]:
    """Every stack's guardrails with ``network_policies`` on from the start (the stacks' own services get
    their NetworkPolicies as the wired services stack will give them)."""
    import stacks.base
    from constructs_lib import Guardrails

    class Isolating(Guardrails):
        def __init__(self, **props: Any) -> None:
            super().__init__(**{**props, "network_policies": True})

    with mock.patch.object(stacks.base, "Guardrails", Isolating):
        yield


def build(outdir: Path, env_name: str = "staging", change: Any = None) -> tuple[Any, EnvironmentStacks, dict]:
    """An App with ``env_name``'s stacks, wired and holding the new workloads, checked (not synthesized)."""
    from cdktf import App

    from environments import ENVIRONMENTS
    from stacks import build_environment, check

    app = App(outdir=str(outdir), skip_validation=True)
    with _isolating_guardrails():
        built = build_environment(app, ENVIRONMENTS[env_name])
    wire(built.services)
    workloads = add_workloads(built)
    if change is not None:
        change(built, workloads)
    check(app)
    return app, built, workloads
