"""The platform stack: shared in-cluster services installed with Helm.

It installs the operators and their CRDs; the custom resources that use them
(the ClusterSecretStore, ServiceMonitors, ExternalSecrets, PrometheusRules)
live in the services stack, applied after this one.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_iam_openid_connect_provider import DataAwsIamOpenidConnectProvider
from cdktf_cdktf_provider_random.provider import RandomProvider
from constructs import Construct

from constructs_lib import (
    ExternalSecretsOperator,
    PagerDutyReceiver,
    PrometheusStack,
    SecretKeyRef,
    SlackReceiver,
)
from environments import Environment

from .base import KubernetesStack

#: The Kubernetes Secret (monitoring namespace) Alertmanager reads receiver credentials from; the
#: services stack fills it from Secrets Manager ``<env>/alertmanager``.
RECEIVER_SECRET = "alertmanager-receivers"


class PlatformStack(KubernetesStack):
    """``<env>-platform``: monitoring and the External Secrets operator, applied after the cluster exists."""

    layer = "platform"

    def __init__(self, scope: Construct, env: Environment) -> None:
        super().__init__(scope, env)
        production = env.protect_stateful
        RandomProvider(self, "random")  # Grafana's admin password

        receivers: list[SlackReceiver | PagerDutyReceiver] = [
            SlackReceiver(name="slack", channel=f"#alerts-{env.name}",
                          webhook_url_secret=SecretKeyRef(name=RECEIVER_SECRET, key="slack_webhook_url")),
        ]
        if production:
            receivers.append(PagerDutyReceiver(
                name="pagerduty", routing_key_secret=SecretKeyRef(name=RECEIVER_SECRET, key="pagerduty_routing_key")))
        self.monitoring = PrometheusStack(
            self, "monitoring",
            retention="30d" if production else "7d",
            storage_size="100Gi" if production else "20Gi",
            replicas=2 if production else 1,
            alert_receivers=receivers,
        )

        oidc = DataAwsIamOpenidConnectProvider(self, "oidc-provider", url=self.eks.identity.get(0).oidc.get(0).issuer)
        self.external_secrets = ExternalSecretsOperator(
            self, "external-secrets",
            oidc_provider_arn=oidc.arn, oidc_issuer_url=oidc.url,
            account_id=env.account_id, region=env.region, secrets_prefix=env.secrets_prefix,
            depends_on=[self.monitoring.release],  # its ServiceMonitor needs the Prometheus CRDs
        )
