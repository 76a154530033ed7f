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
from .contracts import (
    CLUSTER_ISSUER,
    DASHBOARD_LABELS,
    INGRESS_CLASS,
    INGRESS_NAMESPACE,
    INGRESS_POD_LABELS,
    PROMETHEUS_NAMESPACE,
    PROMETHEUS_POD_LABELS,
    SCRAPE_LABELS,
    SECRET_STORE,
)
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
from .microservice import DEFAULT_ALERTS, Autoscaling, MetricsEndpoint, Microservice, Migration, Probes
from .network_policy import default_deny_ingress
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
from .scheduled_job import DEFAULT_JOB_ALERTS, JobAlerts, ScheduledJob
from .state_store import TerraformStateStore
from .storage import EbsStorageClass
from .validation import ConfigError
from .workload import CONFIG_DIR, AwsPermission, JvmOptions, Workload

__all__ = [
    "ADDON_VERSIONS",
    "BASELINE",
    "CERT_MANAGER_CHART_VERSION",
    "CLUSTER_AUTOSCALER_CHART_VERSION",
    "CLUSTER_AUTOSCALER_IMAGES",
    "CLUSTER_ISSUER",
    "CONFIG_DIR",
    "DASHBOARD_LABELS",
    "DEFAULT_ALERTS",
    "DEFAULT_JOB_ALERTS",
    "DEVELOPERS_GROUP",
    "EXTERNAL_DNS_CHART_VERSION",
    "EXTERNAL_SECRETS_CHART_VERSION",
    "INGRESS_CLASS",
    "INGRESS_NAMESPACE",
    "INGRESS_POD_LABELS",
    "KUBE_PROMETHEUS_STACK_VERSION",
    "LETSENCRYPT_PRODUCTION",
    "LETSENCRYPT_STAGING",
    "METRICS_SERVER_CHART_VERSION",
    "NGINX_INGRESS_CHART_VERSION",
    "PRODUCTION",
    "PROMETHEUS_NAMESPACE",
    "PROMETHEUS_POD_LABELS",
    "RULES",
    "SCRAPE_LABELS",
    "SECRET_STORE",
    "AlertRule",
    "Alerts",
    "Autoscaling",
    "AwsPermission",
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
    "JobAlerts",
    "JvmOptions",
    "ManagedRedis",
    "MetricsEndpoint",
    "MetricsServer",
    "Microservice",
    "Migration",
    "Need",
    "Offer",
    "PagerDutyReceiver",
    "Probes",
    "PrometheusOperatorCrds",
    "PrometheusStack",
    "Rule",
    "RulePack",
    "ScheduledJob",
    "SecretKeyRef",
    "SecretStore",
    "SlackReceiver",
    "StoreAccess",
    "Suppression",
    "Taint",
    "TaintEffect",
    "TerraformStateStore",
    "Workload",
    "asg_name_pattern",
    "default_deny_ingress",
    "developer_port_forward",
    "external_secret",
    "rule",
    "store_role_arn",
    "suppress",
    "suppressions_of",
]
