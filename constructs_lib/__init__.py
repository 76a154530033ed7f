"""Reusable cdktf constructs of the platform. They know no environment: stacks pass explicit props."""

from .contracts import DASHBOARD_LABELS, SCRAPE_LABELS, SECRET_STORE
from .eks_cluster import ADDON_VERSIONS, EksCluster
from .external_secrets import EXTERNAL_SECRETS_CHART_VERSION, ExternalSecretsOperator, SecretStore, external_secret
from .microservice import DEFAULT_ALERTS, Autoscaling, JvmOptions, MetricsEndpoint, Microservice, Probes
from .node_group import CapacityType, EksNodeGroup, Taint, TaintEffect
from .prometheus import (
    KUBE_PROMETHEUS_STACK_VERSION,
    AlertRule,
    Alerts,
    PagerDutyReceiver,
    PrometheusStack,
    SecretKeyRef,
    SlackReceiver,
)
from .redis import ManagedRedis
from .state_store import TerraformStateStore
from .validation import ConfigError

__all__ = [
    "ADDON_VERSIONS",
    "DASHBOARD_LABELS",
    "DEFAULT_ALERTS",
    "EXTERNAL_SECRETS_CHART_VERSION",
    "KUBE_PROMETHEUS_STACK_VERSION",
    "SCRAPE_LABELS",
    "SECRET_STORE",
    "AlertRule",
    "Alerts",
    "Autoscaling",
    "CapacityType",
    "ConfigError",
    "EksCluster",
    "EksNodeGroup",
    "ExternalSecretsOperator",
    "JvmOptions",
    "ManagedRedis",
    "MetricsEndpoint",
    "Microservice",
    "PagerDutyReceiver",
    "Probes",
    "PrometheusStack",
    "SecretKeyRef",
    "SecretStore",
    "SlackReceiver",
    "Taint",
    "TaintEffect",
    "TerraformStateStore",
    "external_secret",
]
