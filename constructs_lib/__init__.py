"""Reusable cdktf constructs of the platform. They know no environment: stacks pass explicit props."""

from .contracts import DASHBOARD_LABELS, SCRAPE_LABELS, SECRET_STORE
from .eks_cluster import ADDON_VERSIONS, EksCluster
from .external_secrets import EXTERNAL_SECRETS_CHART_VERSION, ExternalSecretsOperator, SecretStore, external_secret
from .guardrails import RULES, Guardrails, Rule, RulePack, Suppression, rule, suppress, suppressions_of
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
from .rules import BASELINE, PRODUCTION
from .state_store import TerraformStateStore
from .validation import ConfigError

__all__ = [
    "ADDON_VERSIONS",
    "BASELINE",
    "DASHBOARD_LABELS",
    "DEFAULT_ALERTS",
    "EXTERNAL_SECRETS_CHART_VERSION",
    "KUBE_PROMETHEUS_STACK_VERSION",
    "PRODUCTION",
    "RULES",
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
    "Guardrails",
    "JvmOptions",
    "ManagedRedis",
    "MetricsEndpoint",
    "Microservice",
    "PagerDutyReceiver",
    "Probes",
    "PrometheusStack",
    "Rule",
    "RulePack",
    "SecretKeyRef",
    "SecretStore",
    "SlackReceiver",
    "Suppression",
    "Taint",
    "TaintEffect",
    "TerraformStateStore",
    "external_secret",
    "rule",
    "suppress",
    "suppressions_of",
]
