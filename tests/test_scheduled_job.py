"""ScheduledJob: a CronJob with the services' pod, its defaults, its alerts, its schedule check, bad input."""

from __future__ import annotations

from typing import Any

import promql_parser
import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from constructs_lib import (
    SCRAPE_LABELS,
    AlertRule,
    AwsPermission,
    Capability,
    JobAlerts,
    JvmOptions,
    Microservice,
    ScheduledJob,
)
from constructs_lib._schedule import cadence
from helpers import assert_config_error, batch_nodes, in_services_stack, only, resources

IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/nightly-report:3.1.0"


def nightly(stack, **more) -> ScheduledJob:
    props = dict(image=IMAGE, schedule="30 2 * * *", command=["./report", "--yesterday"], timeout="2h")
    return ScheduledJob(stack, "nightly-report", **{**props, **more})


def full(stack) -> ScheduledJob:
    return nightly(stack, cpu="500m", memory="1Gi", env={"REPORT_CURRENCY": "EUR"},
                   secrets={"DB_PASSWORD": "staging/reports#db_password"}, jvm=JvmOptions(heap_percent=70),
                   node_group=batch_nodes(stack), time_zone="Europe/Paris", retries=1,
                   aws_permissions=[AwsPermission(actions=["s3:PutObject"],
                                                  resources=["arn:aws:s3:::acme-shop-reports/daily/*"])],
                   config_files={"report.yaml": "window: 1d\n"}, network_policy=True,
                   alerts=JobAlerts(missed_runs=2, extra_rules=[AlertRule(alert="ReportEmpty",
                                                                          expr="report_rows_total == 0")]))


@pytest.fixture(scope="module")
def minimal() -> dict:
    return in_services_stack(nightly)


@pytest.fixture(scope="module")
def loaded() -> dict:
    return in_services_stack(full)


def cron_job(stack: dict) -> dict:
    return only(stack, "kubernetes_cron_job_v1")


def pod(stack: dict) -> dict:
    return cron_job(stack)["spec"]["job_template"]["spec"]["template"]


def rules(stack: dict) -> dict[str, dict]:
    (rule,) = [m["manifest"] for m in resources(stack, "kubernetes_manifest").values()
               if m["manifest"]["kind"] == "PrometheusRule"]
    return {r["alert"]: r for group in rule["spec"]["groups"] for r in group["rules"]}


@pytest.mark.parametrize("name", ["minimal", "loaded"])
def test_snapshot(name: str, request, snapshot) -> None:
    assert request.getfixturevalue(name) == snapshot.use_extension(JSONSnapshotExtension)


def test_never_twice_at_once_with_a_deadline_limited_history_and_retries(minimal: dict) -> None:
    spec = cron_job(minimal)["spec"]
    assert spec["schedule"] == "30 2 * * *" and spec["concurrency_policy"] == "Forbid"
    assert spec["starting_deadline_seconds"] == 300
    assert (spec["successful_jobs_history_limit"], spec["failed_jobs_history_limit"]) == (3, 3)
    job = spec["job_template"]["spec"]
    assert job["backoff_limit"] == 2 and job["active_deadline_seconds"] == 7200
    assert "ttl_seconds_after_finished" not in job
    assert pod(minimal)["spec"]["restart_policy"] == "Never"
    assert "timezone" not in spec


def test_time_zone_and_retries(loaded: dict) -> None:
    spec = cron_job(loaded)["spec"]
    assert spec["timezone"] == "Europe/Paris" and spec["job_template"]["spec"]["backoff_limit"] == 1


def test_a_job_runs_the_pod_a_service_runs() -> None:
    """The shared template: the same props give the same pod, but for what only a service has."""
    props: dict[str, Any] = dict(image=IMAGE, cpu="500m", memory="1Gi", env={"A": "1"}, secrets={"B": "staging/x#b"},
                 jvm=JvmOptions())

    def build(stack) -> None:
        group = batch_nodes(stack)
        ScheduledJob(stack, "same", schedule="0 3 * * *", command=["./run"], timeout="1h", node_group=group,
                     **props)

    def service(stack) -> None:
        Microservice(stack, "same", node_group=batch_nodes(stack), **props)

    job_pod = pod(in_services_stack(build))
    service_pod = only(in_services_stack(service), "kubernetes_deployment_v1")["spec"]["template"]
    only_service = {"topology_spread_constraint", "termination_grace_period_seconds"}
    only_job = {"restart_policy"}
    assert job_pod["metadata"] == service_pod["metadata"]
    assert {k: v for k, v in job_pod["spec"].items() if k not in only_job | {"container"}} == \
        {k: v for k, v in service_pod["spec"].items() if k not in only_service | {"container"}}
    (job_container,), (service_container,) = job_pod["spec"]["container"], service_pod["spec"]["container"]
    service_only = {"port", "readiness_probe", "liveness_probe", "startup_probe", "lifecycle"}
    assert {k: v for k, v in job_container.items() if k != "command"} == \
        {k: v for k, v in service_container.items() if k not in service_only}
    assert job_container["command"] == ["./run"]


def test_secure_pod_and_node_group_contract(loaded: dict) -> None:
    spec = pod(loaded)["spec"]
    assert spec["security_context"]["run_as_non_root"] is True
    assert spec["automount_service_account_token"] is False and spec["service_account_name"] == "nightly-report"
    (container,) = spec["container"]
    assert container["security_context"]["read_only_root_filesystem"] is True
    assert container["resources"] == {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}
    assert spec["toleration"] == [{"key": "workload", "operator": "Equal", "value": "batch", "effect": "NoSchedule"}]
    assert spec["node_selector"] == {"workload": "batch"}
    env = {e["name"]: e for e in container["env"]}
    assert env["JAVA_TOOL_OPTIONS"]["value"].startswith("-XX:MaxRAMPercentage=70 ")
    assert env["DB_PASSWORD"] == {"name": "DB_PASSWORD", "value_from": {"secret_key_ref": {
        "name": "nightly-report-secrets", "key": "DB_PASSWORD"}}}


def test_the_first_run_waits_for_its_secret_and_service_account(loaded: dict) -> None:
    depends = cron_job(loaded)["depends_on"]
    assert any(d.startswith("kubernetes_service_account_v1.") for d in depends)
    assert any(d.startswith("kubernetes_manifest.nightly-report_external-secret") for d in depends)


def test_its_own_aws_role_and_an_isolating_policy(loaded: dict) -> None:
    (document,) = loaded["data"]["aws_iam_policy_document"].values()
    (statement,) = document["statement"]
    sub = next(c for c in statement["condition"] if c["variable"].endswith(":sub"))
    assert sub["values"] == ["system:serviceaccount:shop:nightly-report"]
    policy = only(loaded, "kubernetes_network_policy_v1")
    assert policy["spec"]["policy_types"] == ["Ingress"] and "ingress" not in policy["spec"]


def test_the_alerts_carry_the_scrape_contract_and_parse(loaded: dict, minimal: dict, validate_custom_resources) -> None:
    (rule,) = [m["manifest"] for m in resources(minimal, "kubernetes_manifest").values()
               if m["manifest"]["kind"] == "PrometheusRule"]
    assert rule["metadata"]["labels"].items() >= SCRAPE_LABELS.items()
    assert validate_custom_resources([rule]) == [[]]
    assert sorted(rules(minimal)) == ["ScheduledJobFailed", "ScheduledJobLate"]
    assert sorted(rules(loaded)) == ["ReportEmpty", "ScheduledJobFailed", "ScheduledJobLate"]
    for found in (*rules(minimal).values(), *rules(loaded).values()):
        promql_parser.parse(found["expr"])  # raises on a syntax error
        assert found["labels"]["service"] == "nightly-report"


def test_failure_is_the_jobs_failed_condition_after_the_last_success(minimal: dict) -> None:
    expr = rules(minimal)["ScheduledJobFailed"]["expr"]
    assert 'kube_job_failed{namespace="shop", condition="true"}' in expr
    assert 'kube_job_owner{namespace="shop", owner_kind="CronJob", owner_name="nightly-report"}' in expr
    assert 'max(kube_cronjob_status_last_successful_time{namespace="shop", cronjob="nightly-report"})' in expr
    assert "kube_job_status_failed" not in expr  # counts failed pods, which a successful retry leaves behind


def test_late_means_longer_than_the_schedule_allows(minimal: dict, loaded: dict) -> None:
    # Daily: the longest interval (1 day), the timeout (2h) and the starting deadline (5 min).
    late = rules(minimal)["ScheduledJobLate"]["expr"]
    assert f" > {86400 + 7200 + 300} " in late
    assert "kube_cronjob_created" in late and "kube_cronjob_spec_suspend" in late
    assert f" > {2 * 86400 + 7200 + 300} " in rules(loaded)["ScheduledJobLate"]["expr"]  # missed_runs=2
    assert rules(minimal)["ScheduledJobLate"]["annotations"]["summary"] == \
        "nightly-report: no run has succeeded for 1d2h5m"


def test_a_weekday_schedule_allows_the_weekend() -> None:
    stack = in_services_stack(lambda s: nightly(s, schedule="0 6 * * 1-5"))
    assert f" > {3 * 86400 + 7200 + 300} " in rules(stack)["ScheduledJobLate"]["expr"]


def test_no_alerts_no_rule() -> None:
    stack = in_services_stack(lambda s: nightly(s, alerts=None))
    assert [m for m in resources(stack, "kubernetes_manifest").values()
            if m["manifest"]["kind"] == "PrometheusRule"] == []


CADENCES = {
    "daily": ("30 2 * * *", 86400, 86400),
    "weekdays, every 5 minutes in office hours": ("*/5 9-17 * * 1-5", 300, 63 * 3600 + 300),
    "twice on the first of the month": ("0 9,10 1 * *", 3600, 31 * 86400 - 3600),
    "a macro": ("@hourly", 3600, 3600),
    "names of days": ("0 6 * * MON-FRI", 86400, 3 * 86400),
    "a question mark for a day": ("0 6 ? * *", 86400, 86400),
    "leap days": ("0 0 29 2 *", 4 * 365 * 86400 + 86400, 4 * 365 * 86400 + 86400),
}


@pytest.mark.parametrize("schedule, shortest, longest", CADENCES.values(), ids=CADENCES.keys())
def test_cadence_of_a_schedule(schedule: str, shortest: int, longest: int) -> None:
    found = cadence(schedule)
    assert not isinstance(found, str), found
    assert (found.shortest, found.longest) == (shortest, longest)


def test_the_starting_deadline_follows_a_short_interval() -> None:
    stack = in_services_stack(lambda s: nightly(s, schedule="*/4 * * * *", timeout="3m"))
    assert cron_job(stack)["spec"]["starting_deadline_seconds"] == 60


def test_the_capability_contract() -> None:
    found: dict[str, ScheduledJob] = {}
    in_services_stack(lambda s: found.setdefault("job", full(s)))
    needs = {need.capability: need for need in found["job"].needs()}
    assert set(needs) == {Capability.SECRET_STORE, Capability.PROMETHEUS, Capability.NODE_GROUP,
                          Capability.NETWORK_POLICY}
    assert needs[Capability.PROMETHEUS].what == "a Prometheus that selects its PrometheusRule"


RULES = {
    "ENV-SECRET-PREFIX": (dict(secrets={"TOKEN": "production/reports#token"}),
                          r"secrets\['TOKEN'\] = '\(sensitive\)': \[ENV-SECRET-PREFIX\]"),
    "SEC-PLAIN-CREDENTIAL": (dict(env={"DATABASE_URL": "postgres://app:s3cr3t-pw@db.internal:5432/app"}),
                             r"env\['DATABASE_URL'\] = '\(sensitive\)': \[SEC-PLAIN-CREDENTIAL\]"),
    "SEC-PLAIN-CREDENTIAL in a config file": (dict(config_files={"report.yaml": "api_key: AKIAIOSFODNN7EXAMPLE\n"}),
                                              r"config_files\['report.yaml'\] = 'line 1': \[SEC-PLAIN-CREDENTIAL\]"),
    "IMG-IMMUTABLE": (dict(image="docker.io/library/busybox:1.36"), r"image = .*: \[IMG-IMMUTABLE\]"),
    "IAM-NO-WILDCARD": (dict(aws_permissions=[AwsPermission(actions=["s3:*"], resources=["arn:aws:s3:::b/*"])]),
                        r"aws_permissions\[0\].actions\[0\] = 's3:\*': \[IAM-NO-WILDCARD\]"),
}


@pytest.mark.parametrize("props, message", RULES.values(), ids=RULES.keys())
def test_the_environments_rules_hold_for_a_job(props: dict, message: str) -> None:
    assert_config_error(lambda: in_services_stack(lambda s: nightly(s, **props)), r"test/nightly-report: ", message)


BAD_INPUT = {
    "a bad cron expression": (dict(schedule="every night"),
                              r"schedule = 'every night': has 2 fields; Kubernetes takes five fields"),
    "a minute out of range": (dict(schedule="61 2 * * *"),
                              r"schedule = '61 2 \* \* \*': not a cron expression \(bad minute\)"),
    "a seconds field": (dict(schedule="0 30 2 * * *"), r"has 6 fields; Kubernetes takes five fields"),
    "cronsim's L, which Kubernetes refuses": (dict(schedule="0 2 L * *"),
                                              r"uses L, which Kubernetes' cron parser does not know"),
    "a time zone inside the schedule": (dict(schedule="CRON_TZ=Europe/Paris 0 2 * * *"),
                                        r"Kubernetes refuses a time zone inside the schedule; pass time_zone="),
    "@every": (dict(schedule="@every 1h"), r"schedule = '@every 1h': not a schedule Kubernetes knows"),
    "a day that never comes": (dict(schedule="0 0 31 2 *"), r"not a cron expression \(bad day-of-month\)"),
    "a timeout as long as the interval": (dict(schedule="0 * * * *", timeout="1h"),
                                          r"timeout = '1h': must be shorter than the shortest interval between two "
                                          r"runs of '0 \* \* \* \*' \(1h\): with concurrencyPolicy Forbid"),
    "a timeout without a unit": (dict(timeout="7200"), r"timeout = '7200': use a duration such as '90s'"),
    "an unknown time zone": (dict(time_zone="Paris"), r"time_zone = 'Paris': use an IANA time zone"),
    "no command": (dict(command=[]), r"command = \[\]: give the command and its arguments"),
    "a command as one string": (dict(command="./report --yesterday"),
                                r"command = './report --yesterday': expected a list of str, got a string"),
    "too many retries": (dict(retries=50), r"retries = 50: use 0 to 10"),
    "negative missed runs": (dict(alerts=JobAlerts(missed_runs=-1)), r"alerts.missed_runs = -1: use 0"),
    "a bad extra rule": (dict(alerts=JobAlerts(extra_rules=[AlertRule(alert="X", expr="rate(")])),
                         r"alerts.extra_rules\[0\].expr = 'rate\(': not valid PromQL"),
    "unknown keyword": (dict(scheduel="0 2 * * *"),
                        r"scheduel = '0 2 \* \* \*': ScheduledJob has no keyword 'scheduel'; did you mean 'schedule'"),
}


@pytest.mark.parametrize("props, message", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_is_one_line(props: dict, message: str) -> None:
    assert_config_error(lambda: in_services_stack(lambda s: nightly(s, **props)), r"test/nightly-report: ",
                        rf"^test/nightly-report: [^\n]*{message}[^\n]*$")


def test_a_name_kubernetes_cannot_suffix_is_refused() -> None:
    assert_config_error(lambda: in_services_stack(lambda s: ScheduledJob(
        s, "n" * 53, image=IMAGE, schedule="0 3 * * *", command=["./x"], timeout="1h")),
        r"test/n+: ", r"id = 'n{53}': use lowercase letters, digits and hyphens, at most 52 characters")


def test_the_required_keywords_are_named() -> None:
    assert_config_error(lambda: in_services_stack(lambda s: ScheduledJob(s, "job", image=IMAGE)),  # type: ignore[call-arg]
                        r"test/job: ", r"schedule = None: is required")
