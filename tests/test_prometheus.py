"""PrometheusStack, the External Secrets operator and per-service alerts and dashboards, as synthesized."""

from __future__ import annotations

import json
import re
from pathlib import Path

import promql_parser
import pytest
from syrupy.extensions.json import JSONSnapshotExtension

import stacks as stack_module
from constructs_lib import (
    DASHBOARD_LABELS,
    SCRAPE_LABELS,
    AlertRule,
    Alerts,
    ConfigError,
    ExternalSecretsOperator,
    JvmOptions,
    MetricsEndpoint,
    Microservice,
    PagerDutyReceiver,
    PrometheusStack,
    SecretKeyRef,
    SlackReceiver,
    StoreAccess,
)
from environments import ENVIRONMENTS
from helpers import assert_config_error, only, release, resources, synth, values

IMAGE = "registry.example.com/checkout:1.4.2"
SLACK = SlackReceiver(name="slack", channel="#alerts", webhook_url_secret=SecretKeyRef(name="receivers", key="slack"))


def holding(stacks: dict, env_name: str, chart: str) -> dict:
    """The stack of ``env_name`` whose Helm release installs ``chart`` (the add-ons or the platform)."""
    (found,) = [stacks[f"{env_name}-{layer}"] for layer in ("addons", "platform")
                if any(r["chart"] == chart for r in resources(stacks[f"{env_name}-{layer}"], "helm_release").values())]
    return found


def manifests(stack: dict, kind: str) -> list[dict]:
    return [m["manifest"] for m in resources(stack, "kubernetes_manifest").values() if m["manifest"]["kind"] == kind]


@pytest.mark.parametrize("env_name", list(ENVIRONMENTS))
def test_rendered_values_snapshot(stacks: dict, env_name: str, snapshot) -> None:
    rendered = {chart: values(holding(stacks, env_name, chart), chart)
                for chart in ("kube-prometheus-stack", "external-secrets")}
    assert rendered == snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("env_name", list(ENVIRONMENTS))
def test_releases_are_pinned_atomic_and_bounded_in_time(stacks: dict, env_name: str) -> None:
    for chart, repository in (("kube-prometheus-stack", "https://prometheus-community.github.io/helm-charts"),
                              ("prometheus-operator-crds", "https://prometheus-community.github.io/helm-charts"),
                              ("external-secrets", "https://charts.external-secrets.io")):
        found = release(holding(stacks, env_name, chart), chart)
        assert found["repository"] == repository
        assert re.match(r"^\d+\.\d+\.\d+$", found["version"])
        assert found["atomic"] is True and found["cleanup_on_fail"] is True
        assert 0 < found["timeout"] <= 900


def selector_problems(spec: dict) -> list[str]:
    """What would keep Prometheus from selecting by the contract labels in every namespace.

    kube-prometheus-stack 82.6.0 (templates/prometheus/prometheus.yaml) uses a selector when it is a
    non-empty map; only an empty one falls back to ``*SelectorNilUsesHelmValues`` (default true:
    the release's own label). So a non-empty selector is what matters, and the switch is dead weight.
    """
    problems = []
    for kind in ("serviceMonitor", "podMonitor", "rule"):
        if spec.get(f"{kind}Selector") != {"matchLabels": dict(SCRAPE_LABELS)}:
            problems.append(f"{kind}Selector = {spec.get(f'{kind}Selector')!r}: not the contract labels")
        if spec.get(f"{kind}NamespaceSelector") != {}:
            problems.append(f"{kind}NamespaceSelector: not every namespace")
        if f"{kind}SelectorNilUsesHelmValues" in spec:
            problems.append(f"{kind}SelectorNilUsesHelmValues: read only for an empty selector, never here")
    return problems


def test_prometheus_selects_the_contract_labels_in_every_namespace(stacks: dict) -> None:
    rendered = values(stacks["production-platform"], "kube-prometheus-stack")
    spec = rendered["prometheus"]["prometheusSpec"]
    assert selector_problems(spec) == []
    # The chart's own monitors carry the labels too, or Prometheus would stop scraping itself.
    assert rendered["commonLabels"] == dict(SCRAPE_LABELS)
    for chart in ("kube-state-metrics", "prometheus-node-exporter"):
        assert rendered[chart]["prometheus"]["monitor"]["additionalLabels"] == dict(SCRAPE_LABELS)
    assert rendered["grafana"]["serviceMonitor"]["labels"] == dict(SCRAPE_LABELS)


SELECTOR_DEFECTS = {
    "empty selector (the chart would select its release label)": (
        {"ruleSelector": {}}, r"ruleSelector = \{\}: not the contract labels"),
    "one namespace": ({"podMonitorNamespaceSelector": {"matchNames": ["monitoring"]}},
                      r"podMonitorNamespaceSelector: not every namespace"),
    "dead switch back": ({"serviceMonitorSelectorNilUsesHelmValues": False},
                         r"serviceMonitorSelectorNilUsesHelmValues: read only for an empty selector"),
}


@pytest.mark.parametrize("change, message", SELECTOR_DEFECTS.values(), ids=SELECTOR_DEFECTS.keys())
def test_selector_check_fails_on_each_defect(stacks: dict, change: dict, message: str) -> None:
    spec = values(stacks["production-platform"], "kube-prometheus-stack")["prometheus"]["prometheusSpec"]
    (problem,) = selector_problems({**spec, **change})
    assert re.search(message, problem), problem


@pytest.mark.parametrize("env_name", list(ENVIRONMENTS))
def test_prometheus_and_alertmanager_have_disruption_budgets(stacks: dict, env_name: str) -> None:
    rendered = values(stacks[f"{env_name}-platform"], "kube-prometheus-stack")
    for component in ("prometheus", "alertmanager"):
        # maxUnavailable 1 never blocks draining a single replica (staging); null drops the chart's
        # minAvailable: 1, which its template would otherwise copy next to it.
        assert rendered[component]["podDisruptionBudget"] == {"enabled": True, "maxUnavailable": 1,
                                                               "minAvailable": None}


def test_storage_retention_and_replicas_follow_the_environment(stacks: dict) -> None:
    for env_name, replicas, retention, size in (("staging", 1, "7d", "20Gi"), ("production", 2, "30d", "100Gi")):
        rendered = values(stacks[f"{env_name}-platform"], "kube-prometheus-stack")
        spec = rendered["prometheus"]["prometheusSpec"]
        assert (spec["replicas"], spec["retention"]) == (replicas, retention)
        assert spec["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"] == size
        assert rendered["alertmanager"]["alertmanagerSpec"]["replicas"] == replicas
        assert bool(spec["topologySpreadConstraints"]) == (replicas > 1)


def test_grafana_admin_from_a_secret_and_dashboards_from_every_namespace(stacks: dict) -> None:
    platform = stacks["production-platform"]
    grafana = values(platform, "kube-prometheus-stack")["grafana"]
    assert grafana["admin"] == {"existingSecret": "grafana-admin", "userKey": "admin-user",
                                "passwordKey": "admin-password"}
    # Generated in the cluster, once: no password in Terraform state, plan or output.
    assert "random_password" not in platform.get("resource", {}) and "kubernetes_secret_v1" not in platform["resource"]
    (generator,) = manifests(platform, "Password")
    assert generator["apiVersion"] == "generators.external-secrets.io/v1alpha1"
    assert generator["spec"]["length"] == 32 and generator["spec"]["symbols"] == 0
    (admin,) = [m for m in manifests(platform, "ExternalSecret") if m["metadata"]["name"] == "grafana-admin"]
    assert admin["spec"]["refreshPolicy"] == "CreatedOnce"
    assert admin["spec"]["dataFrom"] == [{"sourceRef": {"generatorRef": {
        "apiVersion": "generators.external-secrets.io/v1alpha1", "kind": "Password", "name": "grafana-admin"}}}]
    assert admin["spec"]["target"]["template"]["data"] == {"admin-user": "admin", "admin-password": "{{ .password }}"}
    (address,) = [a for a, m in resources(platform, "kubernetes_manifest").items()
                  if m["manifest"]["metadata"]["name"] == "grafana-admin" and m["manifest"]["kind"] == "ExternalSecret"]
    assert f"kubernetes_manifest.{address}" in release(platform, "kube-prometheus-stack")["depends_on"]
    sidecar = grafana["sidecar"]["dashboards"]
    assert sidecar["searchNamespace"] == "ALL"
    assert {sidecar["label"]: sidecar["labelValue"]} == dict(DASHBOARD_LABELS)


def test_alert_routes_and_receivers_read_credentials_from_secrets(stacks: dict) -> None:
    production = values(stacks["production-platform"], "kube-prometheus-stack")["alertmanager"]
    config = production["config"]
    assert production["alertmanagerSpec"]["secrets"] == ["alertmanager-receivers"]
    receivers = {r["name"]: r for r in config["receivers"]}
    assert sorted(receivers) == ["null", "pagerduty", "slack"]
    assert receivers["slack"]["slack_configs"][0]["api_url_file"] == (
        "/etc/alertmanager/secrets/alertmanager-receivers/slack_webhook_url")
    assert receivers["pagerduty"]["pagerduty_configs"][0]["routing_key_file"] == (
        "/etc/alertmanager/secrets/alertmanager-receivers/pagerduty_routing_key")
    assert config["route"]["receiver"] == "slack"
    assert config["route"]["routes"] == [
        {"receiver": "null", "matchers": ['alertname="Watchdog"']},
        {"receiver": "pagerduty", "matchers": ['severity="critical"'], "continue": True},
        {"receiver": "slack"},
    ]
    staging = values(stacks["staging-platform"], "kube-prometheus-stack")["alertmanager"]["config"]
    assert sorted(r["name"] for r in staging["receivers"]) == ["null", "slack"]
    # The platform stack fills the receivers' Secret from Secrets Manager, before the release that mounts it.
    platform = stacks["production-platform"]
    (receiver_secret,) = [m for m in manifests(platform, "ExternalSecret")
                          if m["metadata"]["name"] == "alertmanager-receivers"]
    assert receiver_secret["metadata"]["namespace"].startswith("${kubernetes_namespace_v1.")
    assert receiver_secret["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "platform-secrets"}
    assert {d["remoteRef"]["key"] for d in receiver_secret["spec"]["data"]} == {"production/platform/alertmanager"}
    assert [d["secretKey"] for d in receiver_secret["spec"]["data"]] == ["pagerduty_routing_key", "slack_webhook_url"]
    (address,) = [a for a, m in resources(platform, "kubernetes_manifest").items()
                  if m["manifest"]["metadata"]["name"] == "alertmanager-receivers"]
    assert f"kubernetes_manifest.{address}" in release(platform, "kube-prometheus-stack")["depends_on"]
    (staging_secret,) = [m for m in manifests(stacks["staging-platform"], "ExternalSecret")
                         if m["metadata"]["name"] == "alertmanager-receivers"]
    assert [d["secretKey"] for d in staging_secret["spec"]["data"]] == ["slack_webhook_url"]  # no PagerDuty there


def test_each_namespace_reads_only_the_secrets_meant_for_it(stacks: dict) -> None:
    """The operator may only assume the stores' roles; each store serves one namespace, through a role that reads
    only its prefixes (services: the environment's, minus the platform's; monitoring: the platform's)."""
    addons, platform = stacks["production-addons"], stacks["production-platform"]
    (operator_policy,) = [json.loads(p["policy"]) for p in resources(addons, "aws_iam_policy").values()
                          if p["name_prefix"].startswith("external-secrets-")]
    assert operator_policy["Statement"] == [{
        "Sid": "AssumeStoreRoles", "Effect": "Allow", "Action": "sts:AssumeRole",
        "Resource": ["arn:aws:iam::345678901234:role/external-secrets-aws-secrets-manager",
                     "arn:aws:iam::345678901234:role/external-secrets-platform-secrets"]}]
    roles = {r["name"]: r for r in resources(addons, "aws_iam_role").values() if r.get("name")}
    secret = "arn:aws:secretsmanager:eu-west-1:345678901234:secret:"
    reads = {}
    for name, role in roles.items():
        (inline,) = role["inline_policy"]
        statements = {s["Sid"]: s for s in json.loads(inline["policy"])["Statement"]}
        reads[name] = (statements["ReadStoreSecrets"]["Resource"],
                       statements.get("NotOtherStoresSecrets", {}).get("Resource"))
        assert set(statements["ReadStoreSecrets"]["Action"]) <= {
            "secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret",
            "secretsmanager:ListSecretVersionIds", "secretsmanager:GetResourcePolicy"}
        assert statements["DecryptThroughSecretsManager"]["Condition"] == {
            "StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}
        trust = json.loads(role["assume_role_policy"])["Statement"]
        assert [s["Principal"]["AWS"] for s in trust] == [f"${{aws_iam_role.{operator_role(addons)}.arn}}"]
    assert reads == {
        "external-secrets-aws-secrets-manager": ([f"{secret}production/*"], [f"{secret}production/platform/*"]),
        "external-secrets-platform-secrets": ([f"{secret}production/platform/*"], None),
    }
    stores = {m["metadata"]["name"]: m["spec"] for m in manifests(platform, "ClusterSecretStore")}
    assert stores == {
        "aws-secrets-manager": {"conditions": [{"namespaces": ["shop"]}], "provider": {"aws": {
            "service": "SecretsManager", "region": "eu-west-1",
            "role": "arn:aws:iam::345678901234:role/external-secrets-aws-secrets-manager"}}},
        "platform-secrets": {"conditions": [{"namespaces": ["monitoring"]}], "provider": {"aws": {
            "service": "SecretsManager", "region": "eu-west-1",
            "role": "arn:aws:iam::345678901234:role/external-secrets-platform-secrets"}}},
    }
    operator = values(addons, "external-secrets")
    assert operator["installCRDs"] is True
    assert operator["serviceAccount"]["annotations"] == {
        "eks.amazonaws.com/role-arn": f"${{aws_iam_role.{operator_role(addons)}.arn}}"}
    assert operator["serviceMonitor"]["additionalLabels"] == dict(SCRAPE_LABELS)
    subjects = [c["values"] for d in addons["data"]["aws_iam_policy_document"].values()
                for s in d["statement"] for c in s.get("condition", []) if c["variable"].endswith(":sub")]
    assert ["system:serviceaccount:external-secrets:external-secrets"] in subjects


def operator_role(addons: dict) -> str:
    (name,) = [n for n, r in resources(addons, "aws_iam_role").items()
               if r.get("name_prefix", "").startswith("role-") and "external-secrets" in n]
    return name


@pytest.mark.parametrize("env_name", list(ENVIRONMENTS))
def test_external_secrets_elects_leaders_and_budgets_disruptions(stacks: dict, env_name: str) -> None:
    operator = values(holding(stacks, env_name, "external-secrets"), "external-secrets")
    budget = {"enabled": True, "maxUnavailable": 1}
    assert (operator["replicaCount"], operator["leaderElect"], operator["podDisruptionBudget"]) == (2, True, budget)
    # The cert-controller has no values switch: the chart passes extraArgs as --enable-leader-election=true.
    cert = operator["certController"]
    assert (cert["replicaCount"], cert["extraArgs"], cert["podDisruptionBudget"]) == (
        2, {"enable-leader-election": True}, budget)
    assert operator["webhook"] == {"replicaCount": 2, "podDisruptionBudget": budget}  # active-active


def service_monitor_problems(operator: dict) -> list[str]:
    """What would leave the operator unscraped, or unscraped without a word."""
    monitor = operator.get("serviceMonitor", {})
    problems = []
    if monitor.get("enabled") is not True:
        problems.append("serviceMonitor.enabled: no ServiceMonitors")
    # The chart's default, skipIfMissing, drops the ServiceMonitors silently when their CRD is not there.
    if monitor.get("renderMode", "skipIfMissing") != "failIfMissing":
        problems.append(f"serviceMonitor.renderMode = {monitor.get('renderMode')!r}: use failIfMissing")
    if not monitor.get("additionalLabels", {}).items() >= SCRAPE_LABELS.items():
        problems.append("serviceMonitor.additionalLabels: Prometheus would not select them")
    return problems


@pytest.mark.parametrize("env_name", list(ENVIRONMENTS))
def test_operator_monitors_fail_the_install_without_their_crd(stacks: dict, env_name: str) -> None:
    assert service_monitor_problems(values(holding(stacks, env_name, "external-secrets"), "external-secrets")) == []


@pytest.mark.parametrize("monitor, message", [
    ({"enabled": True, "additionalLabels": dict(SCRAPE_LABELS)}, r"renderMode = None: use failIfMissing"),
    ({"enabled": True, "renderMode": "skipIfMissing", "additionalLabels": dict(SCRAPE_LABELS)},
     r"renderMode = 'skipIfMissing'"),
    ({"enabled": False, "renderMode": "failIfMissing", "additionalLabels": dict(SCRAPE_LABELS)},
     r"no ServiceMonitors"),
], ids=["chart default", "skip if missing", "disabled"])
def test_monitor_check_fails_on_each_defect(stacks: dict, monitor: dict, message: str) -> None:
    operator = {**values(holding(stacks, "production", "external-secrets"), "external-secrets"),
                "serviceMonitor": monitor}
    (problem,) = service_monitor_problems(operator)
    assert re.search(message, problem), problem


def test_custom_resources_only_in_the_stacks_after_their_crds(stacks: dict, manifest: dict) -> None:
    for env_name in ENVIRONMENTS:
        assert "kubernetes_manifest" not in stacks[f"{env_name}-addons"].get("resource", {})
        assert f"{env_name}-addons" in manifest["stacks"][f"{env_name}-platform"]["dependencies"]
        assert f"{env_name}-platform" in manifest["stacks"][f"{env_name}-services"]["dependencies"]


def test_a_service_in_another_namespace_is_scraped() -> None:
    def build(stack) -> None:
        monitoring = PrometheusStack(stack, "monitoring")
        service = Microservice(stack, "payments", image=IMAGE, namespace="payments", metrics=MetricsEndpoint(port=9090))
        monitoring.check_selects(service)

    out = synth(build)
    spec = values(out, "kube-prometheus-stack")["prometheus"]["prometheusSpec"]
    (monitor,) = manifests(out, "ServiceMonitor")
    (rule,) = manifests(out, "PrometheusRule")
    assert monitor["metadata"]["namespace"] == "payments" and spec["serviceMonitorNamespaceSelector"] == {}
    for selector, resource in ((spec["serviceMonitorSelector"], monitor), (spec["ruleSelector"], rule)):
        assert resource["metadata"]["labels"].items() >= selector["matchLabels"].items()


def test_a_service_prometheus_would_not_select_fails_synthesis() -> None:
    def build() -> None:
        def contents(stack) -> None:
            monitoring = PrometheusStack(stack, "monitoring")
            service = Microservice(stack, "payments", image=IMAGE, metrics=MetricsEndpoint(port=9090),
                                   scrape_labels={"team": "payments"})
            monitoring.check_selects(service)
        synth(contents)

    assert_config_error(build, r"test/payments: ",
                        r"scrape_labels = \{'team': 'payments'\}: the ServiceMonitor and PrometheusRule would not be "
                        r"selected by Prometheus \(test/monitoring\): add the labels "
                        r"\{'platform.acme-shop.io/monitoring': 'prometheus'\}")


def test_the_app_checks_the_contract_for_every_service(monkeypatch) -> None:
    from cdktf import App

    original = Microservice.__init__

    def unlabelled(self, *args, **kwargs) -> None:
        original(self, *args, **{**kwargs, "scrape_labels": {}})

    monkeypatch.setattr(Microservice, "__init__", unlabelled)
    app = App()
    stack_module.build_environment(app, ENVIRONMENTS["staging"])
    with pytest.raises(ConfigError, match=r"\n  - staging-services/edge-gateway: scrape_labels = \{\}"):
        stack_module.check(app)


def service_rules(**props) -> list[dict]:
    out = synth(lambda s: Microservice(s, "checkout", image=IMAGE, namespace="shop", **props))
    found = manifests(out, "PrometheusRule")
    return found[0]["spec"]["groups"][0]["rules"] if found else []


def test_default_alerts_for_every_service() -> None:
    rules = {r["alert"]: r for r in service_rules()}
    assert sorted(rules) == ["ServicePodsNotReady", "ServiceRestartLoop"]
    assert rules["ServicePodsNotReady"]["for"] == "10m"
    assert 'deployment="checkout"' in rules["ServicePodsNotReady"]["expr"]
    assert rules["ServiceRestartLoop"]["expr"].endswith("> 3")
    assert rules["ServiceRestartLoop"]["labels"] == {"severity": "warning", "service": "checkout"}


def test_error_rate_alert_when_a_request_metric_exists() -> None:
    jvm = {r["alert"]: r for r in service_rules(jvm=JvmOptions(), metrics=MetricsEndpoint(port=8081))}
    assert jvm["ServiceHighErrorRate"]["expr"] == (
        'sum(rate(http_server_requests_seconds_count{namespace="shop", service="checkout", status=~"5.."}[5m])) / '
        'sum(rate(http_server_requests_seconds_count{namespace="shop", service="checkout"}[5m])) > 0.05')
    custom = {r["alert"]: r for r in service_rules(alerts=Alerts(requests_metric="http_requests_total",
                                                                 status_label="code", max_error_percent=1))}
    assert 'code=~"5.."' in custom["ServiceHighErrorRate"]["expr"]
    assert custom["ServiceHighErrorRate"]["expr"].endswith("> 0.01")


def test_alerts_are_overridable() -> None:
    assert service_rules(alerts=None) == []
    assert [r["alert"] for r in service_rules(alerts=Alerts(not_ready_minutes=0))] == ["ServiceRestartLoop"]
    extra = AlertRule(alert="CheckoutQueueBacklog", expr="sum(checkout_queue_depth) > 1000", severity="critical")
    rules = service_rules(alerts=Alerts(extra_rules=[extra]))
    assert rules[-1] == {"alert": "CheckoutQueueBacklog", "expr": "sum(checkout_queue_depth) > 1000", "for": "5m",
                         "labels": {"severity": "critical", "service": "checkout"},
                         "annotations": {"summary": "checkout: CheckoutQueueBacklog"}}


def test_every_synthesized_rule_is_valid_promql(stacks: dict) -> None:
    exprs = [rule["expr"] for stack in stacks.values() for m in resources(stack, "kubernetes_manifest").values()
             if m["manifest"]["kind"] == "PrometheusRule"
             for group in m["manifest"]["spec"]["groups"] for rule in group["rules"]]
    assert len(exprs) >= 6
    for expr in exprs:
        promql_parser.parse(expr)  # raises on a syntax error


def test_dashboards_ship_as_a_labelled_config_map(tmp_path: Path) -> None:
    board = tmp_path / "checkout.json"
    board.write_text('{"uid": "checkout-overview", "title": "checkout", "panels": [], "schemaVersion": 39}')
    out = synth(lambda s: Microservice(s, "checkout", image=IMAGE, dashboards=[board]))
    config_map = only(out, "kubernetes_config_map_v1")
    assert config_map["metadata"]["labels"].items() >= DASHBOARD_LABELS.items()
    assert json.loads(config_map["data"]["checkout.json"])["uid"] == "checkout-overview"
    assert str(tmp_path) not in json.dumps(out)  # no local path in the output


def test_the_example_dashboard_is_shipped(stacks: dict) -> None:
    (config_map,) = resources(stacks["staging-services"], "kubernetes_config_map_v1").values()
    assert config_map["metadata"]["name"] == "checkout-dashboards"
    model = json.loads(config_map["data"]["checkout.json"])
    assert model["uid"] == "checkout-overview" and model["panels"]
    for panel in model["panels"]:
        for target in panel["targets"]:
            promql_parser.parse(target["expr"].replace("$namespace", "shop"))


BAD_MONITORING = {
    "retention": ({"retention": "15 days"}, r"retention = '15 days': use a duration such as '15d'"),
    "storage size": ({"storage_size": "50GB"}, r"storage_size = '50GB': .*at least 1Gi"),
    "replicas": ({"replicas": 0}, r"replicas = 0: use 1 or more"),
    "chart range": ({"chart_version": "~82.6"}, r"chart_version = '~82.6': pin an exact chart version"),
    "chart latest": ({"chart_version": "latest"}, r"chart_version = 'latest': pin an exact chart version"),
    "unknown receiver type": ({"alert_receivers": [{"type": "email", "to": "ops@example.com"}]},
                              r"alert_receivers\[0\] = \{'type': 'email'.*: expected SlackReceiver or "
                              r"PagerDutyReceiver, got a dict"),
    "receiver without secret": ({"alert_receivers": [PagerDutyReceiver(name="pd", routing_key_secret=None)]},
                                r"alert_receivers\[0\] secret = None: pass SecretKeyRef"),
    "duplicate receivers": ({"alert_receivers": [SLACK, SLACK]}, r"alert_receivers\[1\].name = 'slack': give each"),
    "password as secret name": ({"grafana_admin_secret": "Hunter2!"}, r"grafana_admin_secret = '\(sensitive\)'"),
}


@pytest.mark.parametrize("props, message", BAD_MONITORING.values(), ids=BAD_MONITORING.keys())
def test_bad_monitoring_input(props: dict, message: str) -> None:
    assert_config_error(lambda: synth(lambda s: PrometheusStack(s, "monitoring", **props)),
                        r"test/monitoring: ", message)


BAD_OPERATOR = {
    "empty prefix": ({"secrets_prefix": ""}, r"secrets_prefix = '': use a prefix ending in '/'"),
    "prefix without slash": ({"secrets_prefix": "production"}, r"secrets_prefix = 'production'"),
    "chart range": ({"chart_version": "1.x"}, r"chart_version = '1.x': pin an exact"),
    "region": ({"region": "Ireland"}, r"region = 'Ireland'"),
    "no stores": ({"stores": {}}, r"stores = \{\}: give at least one store what it may read"),
    "a store beyond the environment": (
        {"stores": {"shared": StoreAccess(prefixes=["shared/"])}},
        r"stores\['shared'\] = 'shared/': use a prefix under 'production/' ending in '/'"),
}


@pytest.mark.parametrize("props, message", BAD_OPERATOR.values(), ids=BAD_OPERATOR.keys())
def test_bad_operator_input(props: dict, message: str) -> None:
    base = {"oidc_provider_arn": "arn:aws:iam::345678901234:oidc-provider/x", "oidc_issuer_url": "https://x",
            "account_id": "345678901234", "region": "eu-west-1", "secrets_prefix": "production/",
            "stores": {"aws-secrets-manager": StoreAccess(prefixes=["production/"])}}
    assert_config_error(lambda: synth(lambda s: ExternalSecretsOperator(s, "eso", **{**base, **props})),
                        r"test/eso: ", message)


BAD_SERVICE = {
    "bad promql": ({"alerts": Alerts(extra_rules=[AlertRule(alert="Backlog", expr="sum(rate(x[5m])")])},
                   r"alerts.extra_rules\[0\].expr = 'sum\(rate\(x\[5m\]\)': not valid PromQL"),
    "bad alert name": ({"alerts": Alerts(extra_rules=[AlertRule(alert="queue backlog", expr="up == 0")])},
                       r"alerts.extra_rules\[0\].alert = 'queue backlog'"),
    "negative threshold": ({"alerts": Alerts(max_restarts_per_hour=-1)}, r"alerts.max_restarts_per_hour = -1"),
    "a fraction where a percentage goes": ({"alerts": Alerts(max_error_percent=0.05)},
                                           r"alerts.max_error_percent = 0.05: a percentage, not a fraction: did you "
                                           r"mean 5 \(5 %\)\?"),
    "missing dashboard": ({"dashboards": ["nowhere/board.json"]},
                          r"dashboards\[0\] = 'nowhere/board.json': no such file"),
}


@pytest.mark.parametrize("props, message", BAD_SERVICE.values(), ids=BAD_SERVICE.keys())
def test_bad_alert_and_dashboard_input(props: dict, message: str) -> None:
    assert_config_error(lambda: synth(lambda s: Microservice(s, "checkout", image=IMAGE, **props)),
                        r"test/checkout: ", message)


@pytest.mark.parametrize("content, message", [
    ("{not json", r"not readable JSON"),
    ('{"title": "x", "panels": []}', r"needs a stable 'uid'"),
    ('{"uid": "x", "panels": []}', r"not a dashboard"),
])
def test_bad_dashboard_files(tmp_path: Path, content: str, message: str) -> None:
    board = tmp_path / "board.json"
    board.write_text(content)
    assert_config_error(lambda: synth(lambda s: Microservice(s, "checkout", image=IMAGE, dashboards=[board])),
                        r"test/checkout: ", message)
