"""Reusable cdktf constructs of the platform. They know no environment: stacks pass explicit props."""

from .capabilities import Capability, Need, Offer
from .cert_manager import (
    CERT_MANAGER_CHART_VERSION,
    LETSENCRYPT_PRODUCTION,
    LETSENCRYPT_STAGING,
    CertManager,
    ClusterIssuer,
)
from .cluster_autoscaler import (
    CLUSTER_AUTOSCALER_CHART_VERSION,
    CLUSTER_AUTOSCALER_IMAGES,
    ClusterAutoscaler,
    asg_name_pattern,
)
from .contracts import CLUSTER_ISSUER, DASHBOARD_LABELS, INGRESS_CLASS, SCRAPE_LABELS, SECRET_STORE
from .developer_access import DEVELOPERS_GROUP, DeveloperAccess, developer_port_forward
from .eks_cluster import ADDON_VERSIONS, EksCluster
from .external_dns import EXTERNAL_DNS_CHART_VERSION, ExternalDns
from .external_secrets import (
    EXTERNAL_SECRETS_CHART_VERSION,
    ExternalSecretsOperator,
    SecretStore,
    StoreAccess,
    external_secret,
    store_role_arn,
)
from .guardrails import RULES, Guardrails, Rule, RulePack, Suppression, rule, suppress, suppressions_of
from .ingress_controller import NGINX_INGRESS_CHART_VERSION, IngressController
from .metrics_server import METRICS_SERVER_CHART_VERSION, MetricsServer
from .microservice import DEFAULT_ALERTS, Autoscaling, JvmOptions, MetricsEndpoint, Microservice, Probes
from .node_group import CapacityType, EksNodeGroup, Taint, TaintEffect
from .prometheus import (
    KUBE_PROMETHEUS_STACK_VERSION,
    AlertRule,
    Alerts,
    PagerDutyReceiver,
    PrometheusOperatorCrds,
    PrometheusStack,
    SecretKeyRef,
    SlackReceiver,
)
from .redis import ManagedRedis
from .rules import BASELINE, PRODUCTION
from .state_store import TerraformStateStore
from .storage import EbsStorageClass
from .validation import ConfigError

__all__ = [
    "ADDON_VERSIONS",
    "BASELINE",
    "CERT_MANAGER_CHART_VERSION",
    "CLUSTER_AUTOSCALER_CHART_VERSION",
    "CLUSTER_AUTOSCALER_IMAGES",
    "CLUSTER_ISSUER",
    "DASHBOARD_LABELS",
    "DEFAULT_ALERTS",
    "DEVELOPERS_GROUP",
    "EXTERNAL_DNS_CHART_VERSION",
    "EXTERNAL_SECRETS_CHART_VERSION",
    "INGRESS_CLASS",
    "KUBE_PROMETHEUS_STACK_VERSION",
    "LETSENCRYPT_PRODUCTION",
    "LETSENCRYPT_STAGING",
    "METRICS_SERVER_CHART_VERSION",
    "NGINX_INGRESS_CHART_VERSION",
    "PRODUCTION",
    "RULES",
    "SCRAPE_LABELS",
    "SECRET_STORE",
    "AlertRule",
    "Alerts",
    "Autoscaling",
    "Capability",
    "CapacityType",
    "CertManager",
    "ClusterAutoscaler",
    "ClusterIssuer",
    "ConfigError",
    "DeveloperAccess",
    "EbsStorageClass",
    "EksCluster",
    "EksNodeGroup",
    "ExternalDns",
    "ExternalSecretsOperator",
    "Guardrails",
    "IngressController",
    "JvmOptions",
    "ManagedRedis",
    "MetricsEndpoint",
    "MetricsServer",
    "Microservice",
    "Need",
    "Offer",
    "PagerDutyReceiver",
    "Probes",
    "PrometheusOperatorCrds",
    "PrometheusStack",
    "Rule",
    "RulePack",
    "SecretKeyRef",
    "SecretStore",
    "SlackReceiver",
    "StoreAccess",
    "Suppression",
    "Taint",
    "TaintEffect",
    "TerraformStateStore",
    "asg_name_pattern",
    "developer_port_forward",
    "external_secret",
    "rule",
    "store_role_arn",
    "suppress",
    "suppressions_of",
]
