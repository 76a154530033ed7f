"""The add-ons stack: what the cluster itself needs to run services, installed with Helm.

Operators and controllers, each with the CRDs it serves, and nothing that needs
a CRD: every resource here can be planned against a cluster that has just been
created. Custom resources that use these CRDs live in the stacks applied after
this one (``platform``, ``services``).

What each part is for:

- the default ``gp3`` StorageClass (encrypted EBS): Prometheus' and Alertmanager's volumes;
- metrics-server: the resource metrics API every HorizontalPodAutoscaler reads;
- cluster-autoscaler: nodes follow the pods, within each node group's ``max_size``,
  spot groups first where a service tolerates them;
- the NGINX Ingress Controller behind an NLB: serves every Ingress of class ``nginx``;
- cert-manager: TLS certificates for those Ingresses (its ClusterIssuer is in ``platform``);
- external-dns: records for their hosts, in the environment's zone only;
- the Prometheus operator's CRDs, so that any chart may ship a ServiceMonitor;
- the External Secrets operator, whose stores each read only what their namespaces may.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_iam_openid_connect_provider import DataAwsIamOpenidConnectProvider
from constructs import Construct

from constructs_lib import (
    CapacityType,
    CertManager,
    ClusterAutoscaler,
    EbsStorageClass,
    ExternalDns,
    ExternalSecretsOperator,
    IngressController,
    MetricsServer,
    PrometheusOperatorCrds,
    StoreAccess,
    asg_name_pattern,
)
from constructs_lib.contracts import SECRET_STORE
from environments import Environment

from .base import PLATFORM_SECRET_STORE, STORAGE_CLASS, KubernetesStack


class AddonsStack(KubernetesStack):
    """``<env>-addons``: applied after the cluster, before the platform's custom resources."""

    layer = "addons"

    def __init__(self, scope: Construct, env: Environment) -> None:
        super().__init__(scope, env)
        oidc = DataAwsIamOpenidConnectProvider(self, "oidc-provider", url=self.eks.identity.get(0).oidc.get(0).issuer)
        irsa = {"oidc_provider_arn": oidc.arn, "oidc_issuer_url": oidc.url}
        self.storage_class = EbsStorageClass(self, "storage", name=STORAGE_CLASS)
        self.metrics_server = MetricsServer(self, "metrics-server")
        self.cluster_autoscaler = ClusterAutoscaler(
            self, "cluster-autoscaler", cluster_name=env.cluster.name, account_id=env.account_id,
            region=env.region, kubernetes_version=env.cluster.kubernetes_version,
            preferred_node_groups=[asg_name_pattern(pool.name) for pool in env.cluster.node_pools
                                   if pool.capacity_type is CapacityType.SPOT], **irsa)
        #: Every chart that makes a ServiceMonitor waits for these.
        self.prometheus_crds = PrometheusOperatorCrds(self, "prometheus-operator-crds")
        platform_prefix = f"{env.secrets_prefix}platform/"
        self.external_secrets = ExternalSecretsOperator(
            self, "external-secrets", account_id=env.account_id, region=env.region,
            secrets_prefix=env.secrets_prefix,
            stores={
                # Services read the environment's secrets, but not the platform's own.
                SECRET_STORE: StoreAccess(prefixes=[env.secrets_prefix], except_prefixes=[platform_prefix]),
                PLATFORM_SECRET_STORE: StoreAccess(prefixes=[platform_prefix]),
            },
            depends_on=[self.prometheus_crds.release],  # its ServiceMonitors need the CRD
            **irsa,
        )
        self.ingress = self.cert_manager = self.external_dns = None
        if env.dns is not None:  # public services need the zone: no zone, no ingress
            self.ingress = IngressController(
                self, "ingress",
                load_balancer_subnet_ids=[s.id for s in env.network.public_subnets])
            self.cert_manager = CertManager(self, "cert-manager", hosted_zone_id=env.dns.hosted_zone_id, **irsa)
            self.external_dns = ExternalDns(
                self, "external-dns", domain=env.domain, hosted_zone_id=env.dns.hosted_zone_id,
                owner_id=env.cluster.name, region=env.region, ingress_class=self.ingress.ingress_class, **irsa)
