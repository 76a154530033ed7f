"""The platform stack: the platform's custom resources, and the monitoring stack that needs them.

Applied after the add-ons, whose CRDs these resources use: the secret stores
(each for the namespaces it serves), the Alertmanager receivers' Secret and
Grafana's admin Secret (ExternalSecrets, made before the release that mounts
them), and kube-prometheus-stack.
"""

from __future__ import annotations

from constructs import Construct

from constructs_lib import (
    ClusterIssuer,
    PagerDutyReceiver,
    PrometheusStack,
    SecretKeyRef,
    SecretStore,
    SlackReceiver,
    store_role_arn,
)
from constructs_lib.contracts import SECRET_STORE
from environments import Environment

from .base import MONITORING_NAMESPACE, PLATFORM_SECRET_STORE, SERVICES_NAMESPACE, STORAGE_CLASS, KubernetesStack

#: The Kubernetes Secret (monitoring namespace) Alertmanager reads receiver credentials from, filled from
#: Secrets Manager ``<env>/platform/alertmanager``.
RECEIVER_SECRET = "alertmanager-receivers"


class PlatformStack(KubernetesStack):
    """``<env>-platform``: secret stores, monitoring; applied after the add-ons, before the services."""

    layer = "platform"

    def __init__(self, scope: Construct, env: Environment) -> None:
        super().__init__(scope, env)
        production = env.protect_stateful
        self.secret_stores = {
            name: SecretStore(self, f"secret-store-{name}", name=name, region=env.region,
                              role_arn=store_role_arn(env.account_id, name), namespaces=[namespace])
            for name, namespace in ((SECRET_STORE, SERVICES_NAMESPACE), (PLATFORM_SECRET_STORE, MONITORING_NAMESPACE))
        }
        receivers: list[SlackReceiver | PagerDutyReceiver] = [
            SlackReceiver(name="slack", channel=f"#alerts-{env.name}",
                          webhook_url_secret=SecretKeyRef(name=RECEIVER_SECRET, key="slack_webhook_url")),
        ]
        if production:
            receivers.append(PagerDutyReceiver(
                name="pagerduty", routing_key_secret=SecretKeyRef(name=RECEIVER_SECRET, key="pagerduty_routing_key")))
        self.monitoring = PrometheusStack(
            self, "monitoring",
            namespace=MONITORING_NAMESPACE,
            retention="30d" if production else "7d",
            storage_size="100Gi" if production else "20Gi",
            replicas=2 if production else 1,
            alert_receivers=receivers,
            receivers_source=f"{env.secrets_prefix}platform/alertmanager",
            secret_store=PLATFORM_SECRET_STORE,
            install_crds=False,  # the add-ons stack installed them
            storage_class=STORAGE_CLASS,  # the add-ons stack's default class
            depends_on=[store.manifest for store in self.secret_stores.values()],
        )
        # Certificates for services' Ingresses (cert-manager's CRDs came with the add-ons).
        self.cluster_issuer = ClusterIssuer(
            self, "cluster-issuer", email=env.dns.acme_email, region=env.region,
            hosted_zone_id=env.dns.hosted_zone_id, dns_zone=env.domain) if env.dns is not None else None
