"""Metrics by contract: kube-prometheus-stack, receivers, and the alerts every service gets.

The contract: a ServiceMonitor or PrometheusRule carrying ``service_monitor_labels``
is picked up in any namespace; Grafana loads every ConfigMap carrying
``DASHBOARD_LABELS`` in any namespace.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import promql_parser
from cdktf import ITerraformDependable
from cdktf_cdktf_provider_helm.release import Release
from cdktf_cdktf_provider_kubernetes.manifest import Manifest
from cdktf_cdktf_provider_kubernetes.namespace_v1 import NamespaceV1, NamespaceV1Metadata
from constructs import Construct

from ._helm import (
    CHART_VERSION,
    CHART_VERSION_FIX,
    ActiveActive,
    HelmComponent,
    Key,
    ObjectRef,
    OneReplica,
    Workload,
    crds,
    declare,
    helm_values,
)
from ._quantities import MEMORY_FIX, memory_bytes
from .capabilities import Capability, Offer
from .contracts import DASHBOARD_LABELS, PROMETHEUS_NAMESPACE, PROMETHEUS_POD_LABELS, SCRAPE_LABELS, SECRET_STORE
from .external_secrets import external_secret
from .validation import DNS_LABEL, Checks, ConfigError, Problem, checked_fields, checked_props

__all__ = [
    "KUBE_PROMETHEUS_STACK",
    "KUBE_PROMETHEUS_STACK_VERSION",
    "PROMETHEUS_OPERATOR_CRDS_VERSION",
    "AlertRule",
    "Alerts",
    "PagerDutyReceiver",
    "PrometheusOperatorCrds",
    "PrometheusStack",
    "SecretKeyRef",
    "SlackReceiver",
    "check_promql",
    "extra_alert_rules",
    "service_alert_rules",
]

#: kube-prometheus-stack (prometheus-community); bump in a reviewed change.
KUBE_PROMETHEUS_STACK_VERSION = "82.6.0"
_DURATION = re.compile(r"^\d+(ms|s|m|h|d|w|y)$")
_ALERT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRETS_PATH = "/etc/alertmanager/secrets"
_SECRET_NAME = re.compile(r"^[\w/+=.@-]{1,512}$")

#: The CRDs of the Prometheus operator (v0.89), which both charts below install.
PROMETHEUS_OPERATOR_KINDS = crds("monitoring.coreos.com", "Alertmanager", "AlertmanagerConfig", "PodMonitor", "Probe",
                                 "Prometheus", "PrometheusAgent", "PrometheusRule", "ScrapeConfig", "ServiceMonitor",
                                 "ThanosRuler")

#: What the chart runs (read from its templates, tag kube-prometheus-stack-82.6.0, and its grafana 11.2.2
#: and kube-state-metrics 7.2.0 dependencies). Not listed: the operator (``replicas: 1`` in its template,
#: no key) and node-exporter (a DaemonSet).
KUBE_PROMETHEUS_STACK = declare(HelmComponent(
    chart="kube-prometheus-stack", repository="https://prometheus-community.github.io/helm-charts",
    read_from="82.6.0",
    workloads=(
        Workload(name="prometheus", enabled=Key("prometheus.enabled", True),
                 replicas=Key("prometheus.prometheusSpec.replicas", 1),
                 coordination=ActiveActive(
                     "an HA pair, not shards: each replica scrapes every target and evaluates every rule into "
                     "its own storage; both send their alerts, and Alertmanager deduplicates them"),
                 pdb=Key("prometheus.podDisruptionBudget.enabled", False)),
        Workload(name="alertmanager", enabled=Key("alertmanager.enabled", True),
                 replicas=Key("alertmanager.alertmanagerSpec.replicas", 1),
                 coordination=ActiveActive(
                     "the operator joins the replicas into one gossip cluster that shares silences and the "
                     "notification log, so each alert is sent once"),
                 pdb=Key("alertmanager.podDisruptionBudget.enabled", False)),
        Workload(name="grafana", enabled=Key("grafana.enabled", True), replicas=Key("grafana.replicas", 1),
                 coordination=OneReplica("users, sessions and dashboards saved in the UI live in the pod's "
                                         "SQLite database: replicas would each have their own")),
        Workload(name="kube-state-metrics", enabled=Key("kubeStateMetrics.enabled", True),
                 replicas=Key("kube-state-metrics.replicas", 1),
                 coordination=OneReplica("every replica exports every object, so each series would be "
                                         "duplicated (sharding is not configured)")),
        Workload(name="admission-webhook", replicas=Key("prometheusOperator.admissionWebhooks.deployment.replicas", 1),
                 enabled=Key("prometheusOperator.admissionWebhooks.deployment.enabled", False),
                 coordination=ActiveActive("a stateless admission webhook behind a Service"),
                 pdb=Key("prometheusOperator.admissionWebhooks.deployment.podDisruptionBudget.enabled", False)),
        Workload(name="thanos-ruler", enabled=Key("thanosRuler.enabled", False),
                 replicas=Key("thanosRuler.thanosRulerSpec.replicas", 1),
                 coordination=ActiveActive("each replica evaluates every rule; Alertmanager deduplicates"),
                 pdb=Key("thanosRuler.podDisruptionBudget.enabled", False)),
    ),
    creates=lambda values, namespace: PROMETHEUS_OPERATOR_KINDS if Key("crds.enabled", True).is_on(values) else (),
    references=lambda values, namespace: _kube_prometheus_stack_references(values, namespace),
))


def _kube_prometheus_stack_references(values: Mapping[str, Any], namespace: str) -> list[ObjectRef]:
    """What kube-prometheus-stack's values name that must exist: storage classes, mounted Secrets, Grafana's admin,
    and the Prometheus operator's CRDs when the chart does not install them (its own CRs need them)."""
    found = []
    for workload in ("prometheus.prometheusSpec.storageSpec", "alertmanager.alertmanagerSpec.storage"):
        storage_class = Key(f"{workload}.volumeClaimTemplate.spec.storageClassName").read(values)
        if storage_class:
            found.append(ObjectRef("StorageClass", storage_class))
    for secret in Key("alertmanager.alertmanagerSpec.secrets", []).read(values) or []:
        found.append(ObjectRef("Secret", secret, namespace))
    admin = Key("grafana.admin.existingSecret").read(values)
    if admin and Key("grafana.enabled", True).is_on(values):
        found.append(ObjectRef("Secret", admin, namespace))
    if not Key("crds.enabled", True).is_on(values):
        found += PROMETHEUS_OPERATOR_KINDS
    return found
#: A budget that never blocks a drain of one replica and keeps one of two up. ``minAvailable: None``
#: removes the chart's default ``minAvailable: 1``: its PDB templates copy every key, and a budget may
#: not set both.
_PDB = {"enabled": True, "maxUnavailable": 1, "minAvailable": None}


@checked_fields
@dataclass(frozen=True, kw_only=True)
class SecretKeyRef:
    """One key of a Kubernetes Secret in the monitoring namespace."""

    name: str
    key: str


@checked_fields
@dataclass(frozen=True, kw_only=True)
class SlackReceiver:
    """Alerts to a Slack channel; the webhook URL is read from a Secret, never written here.

    :param matchers: route only alerts with these labels here (default: everything not routed elsewhere).
    """

    name: str
    channel: str
    webhook_url_secret: SecretKeyRef | None
    matchers: Mapping[str, str] = field(default_factory=dict)

    def config(self) -> dict:
        secret = self.webhook_url_secret
        assert secret is not None
        return {"name": self.name, "slack_configs": [{
            "channel": self.channel, "send_resolved": True,
            "api_url_file": f"{_SECRETS_PATH}/{secret.name}/{secret.key}",
            "title": '{{ template "slack.default.title" . }}', "text": '{{ template "slack.default.text" . }}'}]}

    @property
    def secrets(self) -> tuple[SecretKeyRef | None, ...]:
        return (self.webhook_url_secret,)


@checked_fields
@dataclass(frozen=True, kw_only=True)
class PagerDutyReceiver:
    """Pages through PagerDuty (Events API v2); the routing key is read from a Secret.

    :param matchers: default ``{"severity": "critical"}``: only critical alerts page.
    """

    name: str
    routing_key_secret: SecretKeyRef | None
    matchers: Mapping[str, str] = field(default_factory=lambda: {"severity": "critical"})

    def config(self) -> dict:
        secret = self.routing_key_secret
        assert secret is not None
        return {"name": self.name, "pagerduty_configs": [{
            "routing_key_file": f"{_SECRETS_PATH}/{secret.name}/{secret.key}", "send_resolved": True}]}

    @property
    def secrets(self) -> tuple[SecretKeyRef | None, ...]:
        return (self.routing_key_secret,)


Receiver = SlackReceiver | PagerDutyReceiver


#: prometheus-operator-crds: the operator's CRDs alone, at the operator version kube-prometheus-stack
#: KUBE_PROMETHEUS_STACK_VERSION runs (v0.89.0 for both 82.6.0 and 27.0.1).
PROMETHEUS_OPERATOR_CRDS_VERSION = "27.0.1"
PROMETHEUS_OPERATOR_CRDS = declare(HelmComponent(
    chart="prometheus-operator-crds", repository="https://prometheus-community.github.io/helm-charts",
    read_from="27.0.1", workloads=(), creates=lambda values, namespace: PROMETHEUS_OPERATOR_KINDS))


@checked_props
class PrometheusOperatorCrds(Construct):
    """The Prometheus operator's CRDs (ServiceMonitor, PodMonitor, PrometheusRule, ...), on their own.

    Installed before anything that makes a ServiceMonitor (the External Secrets operator's chart, the
    other add-ons), so that none of them has to wait for the monitoring stack; kube-prometheus-stack
    then runs with ``install_crds=False``. The chart keeps its CRDs on uninstall (Helm's resource
    policy), so removing the release never deletes every ServiceMonitor of the cluster.

    :param namespace: where Helm keeps the release's record; default ``kube-system``.
    :param chart_version: default ``PROMETHEUS_OPERATOR_CRDS_VERSION`` (matches kube-prometheus-stack's).
    """

    def __init__(self, scope: Construct, id: str, *, namespace: str = "kube-system",
                 chart_version: str = PROMETHEUS_OPERATOR_CRDS_VERSION) -> None:
        super().__init__(scope, id)
        c = Checks(self.node.path)
        c.require(bool(CHART_VERSION.match(chart_version)), "chart_version", chart_version, CHART_VERSION_FIX)
        c.done()
        self.release = Release(
            self, "release", name="prometheus-operator-crds", namespace=namespace,
            repository=PROMETHEUS_OPERATOR_CRDS.repository, chart=PROMETHEUS_OPERATOR_CRDS.chart,
            version=chart_version, atomic=True, cleanup_on_fail=True, timeout=300, max_history=5)


@checked_props
class PrometheusStack(Construct):
    """Prometheus, Alertmanager and Grafana (kube-prometheus-stack), selecting by contract.

    Prometheus picks up every ServiceMonitor and PrometheusRule carrying
    ``service_monitor_labels``, in every namespace (the chart's own monitors get
    the labels too); Grafana's sidecar loads dashboards from ConfigMaps labelled
    ``DASHBOARD_LABELS`` in every namespace. Storage is persistent; with
    ``replicas`` > 1, Prometheus and Alertmanager spread over zones, both
    replicas active (``KUBE_PROMETHEUS_STACK`` says why that is safe), and a
    PodDisruptionBudget (``maxUnavailable: 1``) keeps a drain from stopping both.

    :param namespace: default ``monitoring``.
    :param chart_version: kube-prometheus-stack, pinned; default ``KUBE_PROMETHEUS_STACK_VERSION``.
    :param retention: how long Prometheus keeps samples; default ``15d``.
    :param storage_size: Prometheus volume; default ``50Gi``.
    :param replicas: Prometheus and Alertmanager replicas; default 1 (production: 2).
    :param grafana_admin_secret: the Secret with Grafana's ``admin-user`` and ``admin-password``.
    :param manage_grafana_admin_secret: default True: the External Secrets operator generates that
        Secret in the cluster (a ``Password`` generator, created once), so the password is in no
        Terraform state and no plan; read it with kubectl. False: it must exist already.
    :param alert_receivers: SlackReceiver / PagerDutyReceiver; credentials come from Secrets in the namespace.
    :param receivers_source: the Secrets Manager secret that holds every key the receivers read; each
        receivers' Secret is then an ExternalSecret from it, created before the release that mounts
        it. Default none: the Secrets must exist already.
    :param secret_store: the ClusterSecretStore those ExternalSecrets read through (it must serve the namespace).
    :param service_monitor_labels: default ``contracts.SCRAPE_LABELS``.
    :param storage_class: the StorageClass of the volumes; default ``gp3``. Pass the StorageClass's name
        attribute where it is made in the same stack (the reference orders the release after it).
    :param install_crds: default True; False where the Prometheus operator's CRDs are installed on
        their own, earlier (``PrometheusOperatorCrds``), so that other charts' ServiceMonitors can use them.
    """

    def __init__(self, scope: Construct, id: str, *, namespace: str = PROMETHEUS_NAMESPACE,
                 chart_version: str = KUBE_PROMETHEUS_STACK_VERSION, retention: str = "15d",
                 storage_size: str = "50Gi", replicas: int = 1, grafana_admin_secret: str = "grafana-admin",
                 manage_grafana_admin_secret: bool = True,
                 alert_receivers: Sequence[Receiver] = (), receivers_source: str | None = None,
                 secret_store: str = SECRET_STORE,
                 service_monitor_labels: Mapping[str, str] = SCRAPE_LABELS, storage_class: str = "gp3",
                 install_crds: bool = True, depends_on: Sequence[ITerraformDependable] = ()) -> None:
        super().__init__(scope, id)
        self.namespace = namespace
        self.service_monitor_labels: Mapping[str, str] = dict(service_monitor_labels)
        self.alert_receivers = tuple(alert_receivers)
        self._validate(chart_version, retention, storage_size, replicas, grafana_admin_secret)
        if receivers_source is not None:
            c = Checks(self.node.path)
            c.require(bool(_SECRET_NAME.match(receivers_source)), "receivers_source", receivers_source,
                      "use a Secrets Manager secret name such as 'production/platform/alertmanager'")
            c.done()
        self.values = self._values(retention, storage_size, replicas, grafana_admin_secret, storage_class)
        self.values["crds"] = {"enabled": install_crds}
        ns = NamespaceV1(self, "namespace", metadata=NamespaceV1Metadata(name=namespace))
        # Everything the release mounts exists before it: the receivers' Secrets, Grafana's admin.
        before: list[ITerraformDependable] = []
        self.receiver_secrets = [
            external_secret(self, f"receivers-{name}", name=name, namespace=ns.metadata.name, store=secret_store,
                            data={key: f"{receivers_source}#{key}" for key in keys}, depends_on=depends_on)
            for name, keys in self.receiver_keys().items()] if receivers_source else []
        before += self.receiver_secrets
        self.grafana_admin = self._grafana_admin(ns.metadata.name, grafana_admin_secret) \
            if manage_grafana_admin_secret else None
        if self.grafana_admin:
            before.append(self.grafana_admin)
        self.release = Release(
            self, "release", name="kube-prometheus-stack", namespace=ns.metadata.name,
            repository="https://prometheus-community.github.io/helm-charts", chart="kube-prometheus-stack",
            version=chart_version, atomic=True, cleanup_on_fail=True, timeout=900, max_history=5,
            values=[helm_values(self.values)],
            depends_on=[*depends_on, *before] or None)

    def receiver_keys(self) -> dict[str, list[str]]:
        """Each Secret the receivers read, and its keys (the PagerDuty key only where PagerDuty pages)."""
        found: dict[str, set[str]] = {}
        for receiver in self.alert_receivers:
            for ref in receiver.secrets:
                if ref is not None:
                    found.setdefault(ref.name, set()).add(ref.key)
        return {name: sorted(keys) for name, keys in sorted(found.items())}

    def _grafana_admin(self, namespace: str, name: str) -> Manifest:
        """Grafana's admin Secret, generated in the cluster once: no password in Terraform state or plans."""
        generator = Manifest(self, "grafana-admin-password", manifest={
            "apiVersion": "generators.external-secrets.io/v1alpha1", "kind": "Password",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"length": 32, "digits": 6, "symbols": 0, "noUpper": False, "allowRepeat": True},
        })
        return Manifest(self, "grafana-admin", manifest={
            "apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "refreshPolicy": "CreatedOnce",
                "target": {"name": name, "creationPolicy": "Owner", "template": {
                    "data": {"admin-user": "admin", "admin-password": "{{ .password }}"}}},
                "dataFrom": [{"sourceRef": {"generatorRef": {
                    "apiVersion": "generators.external-secrets.io/v1alpha1", "kind": "Password", "name": name}}}],
            },
        }, depends_on=[generator])

    def _values(self, retention: str, storage_size: str, replicas: int, grafana_admin_secret: str,
                storage_class: str) -> dict:
        labels = dict(self.service_monitor_labels)
        selector = {"matchLabels": labels}
        spread = [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
                   "labelSelector": {"matchLabels": {"app.kubernetes.io/name": app}}}
                  for app in ("prometheus", "alertmanager")]
        secrets = sorted({s.name for r in self.alert_receivers for s in r.secrets if s is not None})
        return {
            # The chart's own ServiceMonitors and rules carry the contract labels, like everyone else's.
            "commonLabels": labels,
            "kube-state-metrics": {"prometheus": {"monitor": {"additionalLabels": labels}}},
            "prometheus-node-exporter": {"prometheus": {"monitor": {"additionalLabels": labels}}},
            "prometheus": {"prometheusSpec": {
                "replicas": replicas,
                "retention": retention,
                "retentionSize": f"{int(memory_bytes(storage_size) * 0.85 / 2**30)}GB",  # type: ignore[operator]
                "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}, "limits": {"memory": "4Gi"}},
                "storageSpec": {"volumeClaimTemplate": {"spec": {
                    "storageClassName": storage_class, "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": storage_size}}}}},
                # Select by the contract labels in every namespace, not by the release label. The chart
                # reads *SelectorNilUsesHelmValues only when a selector is empty, and these never are
                # (they always hold matchLabels), so those switches are not set.
                "serviceMonitorSelector": selector,
                "serviceMonitorNamespaceSelector": {},
                "podMonitorSelector": selector,
                "podMonitorNamespaceSelector": {},
                "ruleSelector": selector,
                "ruleNamespaceSelector": {},
                "topologySpreadConstraints": spread[:1] if replicas > 1 else [],
            }, "podDisruptionBudget": dict(_PDB)},
            "alertmanager": {
                "podDisruptionBudget": dict(_PDB),
                "alertmanagerSpec": {
                    "replicas": replicas,
                    "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                    "storage": {"volumeClaimTemplate": {"spec": {
                        "storageClassName": storage_class, "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "5Gi"}}}}},
                    "secrets": secrets,
                    "topologySpreadConstraints": spread[1:] if replicas > 1 else [],
                },
                "config": self._alertmanager_config(),
            },
            "grafana": {
                "admin": {"existingSecret": grafana_admin_secret, "userKey": "admin-user",
                          "passwordKey": "admin-password"},
                "serviceMonitor": {"labels": labels},
                "sidecar": {"dashboards": {
                    "enabled": True,
                    "label": next(iter(DASHBOARD_LABELS)),
                    "labelValue": next(iter(DASHBOARD_LABELS.values())),
                    "searchNamespace": "ALL",
                    "folderAnnotation": "grafana_folder",
                    "provider": {"foldersFromFilesStructure": True},
                }},
            },
        }

    def _alertmanager_config(self) -> dict:
        routed = [r for r in self.alert_receivers if r.matchers]
        catch_all = [r for r in self.alert_receivers if not r.matchers]
        default = catch_all[0].name if catch_all else "null"
        return {
            "route": {
                "receiver": default,
                "group_by": ["alertname", "namespace", "service"],
                "group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h",
                "routes": [
                    {"receiver": "null", "matchers": ['alertname="Watchdog"']},
                    *({"receiver": r.name, "matchers": [f'{k}="{v}"' for k, v in sorted(r.matchers.items())],
                       "continue": True} for r in routed),
                    # After a matched receiver (continue), the catch-all receivers still get the alert.
                    *({"receiver": r.name} for r in catch_all),
                ],
            },
            "receivers": [{"name": "null"}, *(r.config() for r in self.alert_receivers)],
            "inhibit_rules": [{"source_matchers": ['severity="critical"'], "target_matchers": ['severity="warning"'],
                               "equal": ["alertname", "namespace", "service"]}],
        }

    def offers(self) -> list[Offer]:
        """A Prometheus that selects what carries ``service_monitor_labels``, in every namespace; it scrapes
        from pods with ``contracts.PROMETHEUS_POD_LABELS`` in its namespace (what a workload's NetworkPolicy
        admits)."""
        return [Offer(Capability.PROMETHEUS, "kube-prometheus-stack", self.node.path,
                      scope={"labels": dict(self.service_monitor_labels), "namespace": self.namespace,
                             "pod_labels": dict(PROMETHEUS_POD_LABELS)})]

    def check_selects(self, service: Construct) -> None:
        """Fail unless this Prometheus selects ``service``'s ServiceMonitor and PrometheusRule.

        ``service`` is a workload (anything with ``scrape_labels`` and ``service_monitor``, ``pod_monitor``
        or ``prometheus_rule``); the error names it and the labels it lacks.
        """
        labels: Mapping[str, str] = getattr(service, "scrape_labels", {})
        missing = {k: v for k, v in self.service_monitor_labels.items() if labels.get(k) != v}
        kinds = [kind for kind, attr in (("ServiceMonitor", "service_monitor"), ("PodMonitor", "pod_monitor"),
                                         ("PrometheusRule", "prometheus_rule"))
                 if getattr(service, attr, None) is not None]
        if missing and kinds:
            raise ConfigError(service.node.path, [Problem(
                "scrape_labels", dict(labels),
                f"the {' and '.join(kinds)} would not be selected by Prometheus ({self.node.path}): "
                f"add the labels {missing} (constructs_lib.SCRAPE_LABELS is the default)")])

    def _validate(self, chart_version: str, retention: str, storage_size: str, replicas: int,
                  grafana_admin_secret: str) -> None:
        c = Checks(self.node.path)
        c.require(bool(DNS_LABEL.match(self.namespace)), "namespace", self.namespace, "use a DNS label")
        c.require(bool(CHART_VERSION.match(chart_version)), "chart_version", chart_version, CHART_VERSION_FIX)
        c.require(bool(re.match(r"^\d+[hdwy]$", retention)), "retention", retention,
                  "use a duration such as '15d', '12h' or '4w'")
        size = memory_bytes(storage_size)
        c.require(size is not None and size >= 2**30, "storage_size", storage_size,
                  f"{MEMORY_FIX}; at least 1Gi")
        c.require(replicas >= 1, "replicas", replicas, "use 1 or more (2 in production, one per zone)")
        c.require(bool(DNS_LABEL.match(grafana_admin_secret)), "grafana_admin_secret", grafana_admin_secret,
                  "name an existing Secret in the namespace (a DNS label), never a password")
        names = [r.name for r in self.alert_receivers if isinstance(r, SlackReceiver | PagerDutyReceiver)]
        for i, receiver in enumerate(self.alert_receivers):
            at = f"alert_receivers[{i}]"
            if not isinstance(receiver, SlackReceiver | PagerDutyReceiver):
                c.require(False, at, receiver, "use SlackReceiver(...) or PagerDutyReceiver(...)")
                continue
            c.require(bool(DNS_LABEL.match(receiver.name)) and receiver.name != "null", f"{at}.name", receiver.name,
                      "use a DNS label other than 'null'")
            c.require(names.count(receiver.name) == 1, f"{at}.name", receiver.name, "give each receiver its own name")
            for secret in receiver.secrets:
                c.require(secret is not None and bool(DNS_LABEL.match(secret.name)) and bool(secret.key),
                          f"{at} secret", secret,
                          "pass SecretKeyRef(name=<Secret in the monitoring namespace>, key=<key>); "
                          "credentials are read from a Secret, never written in code")
        c.done()


@checked_fields
@dataclass(frozen=True, kw_only=True)
class AlertRule:
    """One Prometheus alerting rule a team adds to its service's defaults."""

    alert: str
    expr: str
    duration: str = "5m"
    severity: str = "warning"
    summary: str = ""


@checked_fields
@dataclass(frozen=True, kw_only=True)
class Alerts:
    """The alerts every service gets, overridable. A threshold of 0 turns that alert off.

    :param not_ready_minutes: fewer pods available than desired for this long; default 10.
    :param max_restarts_per_hour: container restarts in an hour before it is a restart loop; default 3.
    :param max_error_percent: share of 5xx responses over 5 minutes; default 5. Needs ``requests_metric``.
    :param requests_metric: a request counter with a status-code label; with ``jvm`` the default is
        Spring Boot's ``http_server_requests_seconds_count``. Without one there is no error-rate alert.
    :param status_label: the status-code label of ``requests_metric``; default ``status``.
    :param severity: of the default alerts; default ``warning``.
    :param extra_rules: the team's own rules, next to the defaults.
    """

    not_ready_minutes: int = 10
    max_restarts_per_hour: int = 3
    max_error_percent: float = 5.0
    requests_metric: str | None = None
    status_label: str = "status"
    severity: str = "warning"
    extra_rules: Sequence[AlertRule] = ()


def check_promql(expr: str) -> str | None:
    """None when ``expr`` is valid PromQL, else the parser's message."""
    try:
        promql_parser.parse(expr)
    except (ValueError, TypeError) as error:
        return str(error)
    return None


def extra_alert_rules(extra_rules: Sequence[AlertRule], *, name: str, labels: Mapping[str, str],
                      checks: Checks) -> list[dict]:
    """A workload team's own rules (validated into ``checks``), with the workload's labels."""
    rules = []
    for i, rule in enumerate(extra_rules):
        at = f"alerts.extra_rules[{i}]"
        checks.require(bool(_ALERT_NAME.match(rule.alert)), f"{at}.alert", rule.alert,
                       "use a Prometheus alert name: letters, digits and '_'")
        problem = check_promql(rule.expr)
        checks.require(problem is None, f"{at}.expr", rule.expr, f"not valid PromQL: {problem}")
        checks.require(bool(_DURATION.match(rule.duration)), f"{at}.duration", rule.duration,
                       "use a duration such as '5m'")
        rules.append({"alert": rule.alert, "expr": rule.expr, "for": rule.duration,
                      "labels": {**labels, "severity": rule.severity},
                      "annotations": {"summary": rule.summary or f"{name}: {rule.alert}"}})
    return rules


def service_alert_rules(alerts: Alerts, *, name: str, namespace: str, requests_metric: str | None,
                        checks: Checks) -> list[dict]:
    """The rules of one service (validated into ``checks``): the defaults, then ``extra_rules``."""
    sel = f'namespace="{namespace}"'
    labels = {"severity": alerts.severity, "service": name}
    rules: list[dict] = []
    if alerts.not_ready_minutes:
        rules.append({
            "alert": "ServicePodsNotReady",
            "expr": f'kube_deployment_status_replicas_available{{{sel}, deployment="{name}"}} '
                    f'< kube_deployment_spec_replicas{{{sel}, deployment="{name}"}}',
            "for": f"{alerts.not_ready_minutes}m", "labels": labels,
            "annotations": {"summary": f"{name}: fewer pods ready than desired for {alerts.not_ready_minutes} minutes"},
        })
    if alerts.max_restarts_per_hour:
        rules.append({
            "alert": "ServiceRestartLoop",
            "expr": f'increase(kube_pod_container_status_restarts_total{{{sel}, container="{name}"}}[1h]) '
                    f'> {alerts.max_restarts_per_hour}',
            "for": "5m", "labels": labels,
            "annotations": {"summary": f"{name}: a container restarted more than "
                                       f"{alerts.max_restarts_per_hour} times in an hour"},
        })
    if alerts.max_error_percent and requests_metric:
        status = alerts.status_label
        requests = f'{requests_metric}{{{sel}, service="{name}"}}'
        errors = f'{requests_metric}{{{sel}, service="{name}", {status}=~"5.."}}'
        rules.append({
            "alert": "ServiceHighErrorRate",
            "expr": f"sum(rate({errors}[5m])) / sum(rate({requests}[5m])) > {alerts.max_error_percent / 100:g}",
            "for": "5m", "labels": labels,
            "annotations": {"summary": f"{name}: more than {alerts.max_error_percent:g}% of requests fail with 5xx"},
        })
    rules += extra_alert_rules(alerts.extra_rules, name=name, labels=labels, checks=checks)
    for field_, value in (("alerts.not_ready_minutes", alerts.not_ready_minutes),
                          ("alerts.max_restarts_per_hour", alerts.max_restarts_per_hour),
                          ("alerts.max_error_percent", alerts.max_error_percent)):
        checks.require(value >= 0, field_, value, "use 0 (off) or more")
    checks.require(alerts.max_error_percent <= 100, "alerts.max_error_percent", alerts.max_error_percent,
                   "use a percentage, 0 to 100")
    checks.require(not 0 < alerts.max_error_percent < 0.1, "alerts.max_error_percent", alerts.max_error_percent,
                   f"a percentage, not a fraction: did you mean {alerts.max_error_percent * 100:g} "
                   f"({alerts.max_error_percent * 100:g} %)? 0.1 % is the lowest rate one pod can measure reliably")
    if alerts.requests_metric is not None:
        checks.require(bool(re.match(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$", alerts.requests_metric)),
                       "alerts.requests_metric", alerts.requests_metric, "use a Prometheus metric name")
    return rules
