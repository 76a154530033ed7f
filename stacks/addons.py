"""The add-ons stack: what the cluster itself needs to run services, installed with Helm.

Operators and controllers, each with the CRDs it serves, and nothing that needs
a CRD: every resource here can be planned against a cluster that has just been
created. Custom resources that use these CRDs live in the stacks applied after
this one (``platform``, ``services``).
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_iam_openid_connect_provider import DataAwsIamOpenidConnectProvider
from constructs import Construct

from constructs_lib import ExternalSecretsOperator, PrometheusOperatorCrds, StoreAccess
from constructs_lib.contracts import SECRET_STORE
from environments import Environment

from .base import PLATFORM_SECRET_STORE, KubernetesStack


class AddonsStack(KubernetesStack):
    """``<env>-addons``: applied after the cluster, before the platform's custom resources."""

    layer = "addons"

    def __init__(self, scope: Construct, env: Environment) -> None:
        super().__init__(scope, env)
        oidc = DataAwsIamOpenidConnectProvider(self, "oidc-provider", url=self.eks.identity.get(0).oidc.get(0).issuer)
        #: Every chart that makes a ServiceMonitor waits for these.
        self.prometheus_crds = PrometheusOperatorCrds(self, "prometheus-operator-crds")
        platform_prefix = f"{env.secrets_prefix}platform/"
        self.external_secrets = ExternalSecretsOperator(
            self, "external-secrets",
            oidc_provider_arn=oidc.arn, oidc_issuer_url=oidc.url,
            account_id=env.account_id, region=env.region, secrets_prefix=env.secrets_prefix,
            stores={
                # Services read the environment's secrets, but not the platform's own.
                SECRET_STORE: StoreAccess(prefixes=[env.secrets_prefix], except_prefixes=[platform_prefix]),
                PLATFORM_SECRET_STORE: StoreAccess(prefixes=[platform_prefix]),
            },
            depends_on=[self.prometheus_crds.release],  # its ServiceMonitors need the CRD
        )
