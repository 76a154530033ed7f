"""The services stack: the file product developers edit to add a service.

It is applied after the platform stack, so the custom resources it holds
(ServiceMonitor, ExternalSecret) find their CRDs at plan time.

To add a service, add a ``Microservice(...)`` below; the construct brings the
Deployment, Service, disruption budget, probes, security settings and, from
its props, autoscaling, metrics scraping, secrets and ingress. Keyword
reference: ``constructs_lib/microservice.py`` and the README.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from cdktf_cdktf_provider_kubernetes.namespace_v1 import NamespaceV1, NamespaceV1Metadata
from cdktf_cdktf_provider_random.provider import RandomProvider
from constructs import Construct

from constructs_lib import (
    Autoscaling,
    DeveloperAccess,
    EksNodeGroup,
    JvmOptions,
    ManagedRedis,
    MetricsEndpoint,
    Microservice,
    PrometheusStack,
    developer_port_forward,
)
from environments import Environment

from .base import SERVICES_NAMESPACE, KubernetesStack

#: Grafana dashboards the service teams own, one JSON model per file (export from Grafana, keep the uid).
DASHBOARDS = Path(__file__).parent / "dashboards"
REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


class ServicesStack(KubernetesStack):
    """``<env>-services``: the microservices and the managed caches they use.

    :param node_groups: the cluster stack's node groups by pool name; services pick one
        to run on (its taints are tolerated, its labels selected).
    :param monitoring: the platform stack's PrometheusStack, which selects the services' monitors.
    """

    layer = "services"

    def __init__(self, scope: Construct, env: Environment, *, node_groups: Mapping[str, EksNodeGroup],
                 monitoring: PrometheusStack) -> None:
        super().__init__(scope, env)
        self.monitoring = monitoring
        namespace = NamespaceV1(self, "namespace", metadata=NamespaceV1Metadata(
            name=SERVICES_NAMESPACE, labels={"pod-security.kubernetes.io/enforce": "restricted"}))
        # Referencing the namespace (not its literal name) orders every service after it.
        self.guardrails.namespace = namespace.metadata.name
        self.guardrails.namespace_name = SERVICES_NAMESPACE
        if env.cluster.developer_role_arns and env.cluster.developer_access is DeveloperAccess.DEBUG:
            developer_port_forward(self, "developers", namespace=namespace.metadata.name)
        cap = env.limits.max_replicas_per_service
        production = env.protect_stateful
        RandomProvider(self, "random")  # generates cache AUTH tokens

        self.sessions = ManagedRedis(
            self, "sessions",
            node_type="cache.r7g.large" if production else "cache.t4g.small",
            replicas=2 if production else 1,
            snapshot_retention_days=14 if production else 3,
        )

        self.services = [
            Microservice(
                self, "edge-gateway",
                image=f"{REGISTRY}/edge-gateway:2.3.0",
                cpu="500m", memory="512Mi",
                metrics=MetricsEndpoint(port=9090),
                autoscaling=Autoscaling(min_replicas=2, max_replicas=cap if production else 4, cpu_percent=60),
                ingress_host=f"shop.{env.domain}",
            ),
            Microservice(
                self, "checkout",
                dashboards=[DASHBOARDS / "checkout.json"],
                image=f"{REGISTRY}/checkout:1.4.2",
                cpu="500m", memory="1Gi",
                env={"SPRING_PROFILES_ACTIVE": env.name},
                secrets={"DB_PASSWORD": f"{env.secrets_prefix}checkout#db_password",
                         "PAYMENT_API_KEY": f"{env.secrets_prefix}checkout#payment_api_key"},
                metrics=MetricsEndpoint(port=8081, path="/actuator/prometheus"),
                jvm=JvmOptions(heap_percent=75),
                autoscaling=Autoscaling(min_replicas=3 if production else 2, max_replicas=10 if production else 4),
                redis=self.sessions,
            ),
            Microservice(
                self, "report-worker",
                image=f"{REGISTRY}/report-worker:0.9.1",
                cpu="1", memory="2Gi",
                replicas=2,
                jvm=JvmOptions(heap_percent=70),
                metrics=MetricsEndpoint(port=8081, path="/actuator/prometheus"),
                node_group=node_groups["batch"],
            ),
        ]
