"""A scheduled job (a nightly report, a cleanup): a CronJob with the same pod as every service, and alerts."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cdktf_cdktf_provider_kubernetes.cron_job_v1 import CronJobV1, CronJobV1Metadata, CronJobV1Spec
from constructs import Construct

from ._pod import to_struct
from ._quantities import DURATION_FIX, duration_seconds, format_duration
from ._schedule import Cadence, cadence
from .capabilities import Need
from .contracts import SCRAPE_LABELS
from .guardrails import Guardrails
from .node_group import EksNodeGroup
from .prometheus import AlertRule, extra_alert_rules
from .validation import DNS_LABEL, Checks, checked_fields, checked_props
from .workload import AwsPermission, JvmOptions, Workload

__all__ = ["DEFAULT_JOB_ALERTS", "JobAlerts", "ScheduledJob", "job_alert_rules"]

#: Runs of each outcome kept for ``kubectl logs`` (older Jobs and their pods are deleted).
HISTORY = 3


@checked_fields
@dataclass(frozen=True, kw_only=True)
class JobAlerts:
    """The alerts every scheduled job gets, overridable.

    :param failed: alert when the last run failed (after its retries); default True.
    :param missed_runs: alert when no run has succeeded for this many of the schedule's longest intervals,
        plus the timeout and the starting deadline; default 1 (a run missed); 0 turns it off.
    :param severity: of these alerts; default ``warning``.
    :param extra_rules: the team's own rules, next to these.
    """

    failed: bool = True
    missed_runs: int = 1
    severity: str = "warning"
    extra_rules: Sequence[AlertRule] = ()


#: Every scheduled job's alerts unless it passes its own: the last run failed, or no run succeeded in time.
DEFAULT_JOB_ALERTS = JobAlerts()


def job_alert_rules(alerts: JobAlerts, *, name: str, namespace: str, allowed_seconds: int,
                    checks: Checks) -> list[dict]:
    """The rules of one scheduled job (from kube-state-metrics' Job and CronJob metrics).

    "Failed" compares the start of its latest failed Job with its last success: ``kube_job_failed`` is the
    Job's Failed condition (``kube_job_status_failed`` counts failed pods, which a retry that then
    succeeded leaves behind). "Late" measures the time since the last success (or the CronJob's creation),
    except while it is suspended.
    """
    sel = f'namespace="{namespace}"'
    labels = {"severity": alerts.severity, "service": name}
    cron = f'{sel}, cronjob="{name}"'
    rules: list[dict] = []
    if alerts.failed:
        owned = f'kube_job_owner{{{sel}, owner_kind="CronJob", owner_name="{name}"}}'
        failed_starts = (f'kube_job_status_start_time{{{sel}}} * on(job_name) '
                         f'(kube_job_failed{{{sel}, condition="true"}} == 1) * on(job_name) ({owned} == 1)')
        rules.append({
            "alert": "ScheduledJobFailed",
            "expr": f"max({failed_starts}) > (max(kube_cronjob_status_last_successful_time{{{cron}}}) or vector(0))",
            "for": "1m", "labels": labels,
            "annotations": {"summary": f"{name}: the last run failed (see kubectl get jobs -n {namespace} "
                                       f"-l app.kubernetes.io/instance={name})"},
        })
    if alerts.missed_runs:
        rules.append({
            "alert": "ScheduledJobLate",
            "expr": f"time() - max(kube_cronjob_status_last_successful_time{{{cron}}} or "
                    f"kube_cronjob_created{{{cron}}}) > {allowed_seconds} "
                    f"unless on() (max(kube_cronjob_spec_suspend{{{cron}}}) == 1)",
            "for": "5m", "labels": labels,
            "annotations": {"summary": f"{name}: no run has succeeded for {format_duration(allowed_seconds)}"},
        })
    rules += extra_alert_rules(alerts.extra_rules, name=name, labels=labels, checks=checks)
    checks.require(alerts.missed_runs >= 0, "alerts.missed_runs", alerts.missed_runs, "use 0 (off) or more")
    checks.require(bool(re.match(r"^[a-z]+$", alerts.severity)), "alerts.severity", alerts.severity,
                   "use a severity such as 'warning' or 'critical'")
    return rules


@checked_props
class ScheduledJob(Workload):
    """A job run on a schedule, with the same pod as every service (``Microservice``).

    What every scheduled job gets: a CronJob that never runs twice at once
    (``concurrencyPolicy: Forbid``), starts late by at most its starting deadline
    or skips that run, keeps the last three successful and three failed Jobs,
    retries a failed run with the Job controller's exponential backoff
    (``backoffLimit``), and stops a run at its ``timeout`` (``activeDeadlineSeconds``);
    pods that run as non-root with a read-only root filesystem, its own service
    account, secrets through the External Secrets operator, the node group's
    tolerations and selector; and alerts (``JobAlerts``) when the last run failed or
    no run has succeeded for longer than the schedule allows.

    :param image: container image with a tag or digest (never implicit ``latest``).
    :param schedule: a cron expression as Kubernetes reads it (``0 3 * * *``; ``@daily``...), parsed by
        cronsim; in ``time_zone``.
    :param command: the container's command and arguments.
    :param timeout: how long one run may take (``45m``, ``2h``); shorter than the schedule's shortest
        interval, so that a run never makes the next one skip.
    :param namespace: default: the stack's (``Guardrails.namespace``), else ``default``.
    :param cpu: CPU request; default ``250m``.
    :param memory: memory request and limit; default ``512Mi``.
    :param env: plain environment variables; default none. Never secrets.
    :param secrets: env var -> ``"<Secrets Manager name>#<key>"``; default none.
    :param node_group: an EksNodeGroup to run on: its taints are tolerated, its labels selected.
    :param jvm: JVM heap sizing (``JAVA_TOOL_OPTIONS``).
    :param time_zone: an IANA time zone the schedule is in (``Europe/Paris``); default: the control
        plane's, UTC on EKS.
    :param retries: further attempts after a failed run; default 2.
    :param alerts: default ``DEFAULT_JOB_ALERTS``; ``None`` for none.
    :param scrape_labels: labels that make Prometheus select the PrometheusRule; default
        ``contracts.SCRAPE_LABELS``.
    :param aws_permissions: the job's own AWS permissions (see ``Microservice``); default none.
    :param config_files: file name -> ``Path`` or content, mounted read-only at ``/etc/config/<file name>``.
    :param network_policy: a NetworkPolicy admitting nothing (a job serves nothing); default: the stack's
        (``Guardrails.network_policies``).
    """

    kind = "scheduled job"

    def __init__(self, scope: Construct, id: str, *, image: str, schedule: str, command: Sequence[str],
                 timeout: str, namespace: str | None = None, cpu: str = "250m", memory: str = "512Mi",
                 env: Mapping[str, str] | None = None, secrets: Mapping[str, str] | None = None,
                 node_group: EksNodeGroup | None = None, jvm: JvmOptions | None = None,
                 time_zone: str | None = None, retries: int = 2, alerts: JobAlerts | None = DEFAULT_JOB_ALERTS,
                 scrape_labels: Mapping[str, str] = SCRAPE_LABELS, aws_permissions: Sequence[AwsPermission] = (),
                 config_files: Mapping[str, str | Path] | None = None, network_policy: bool | None = None) -> None:
        super().__init__(scope, id)
        self._resolve(Guardrails.of(self), id=id, image=image, namespace=namespace, cpu=cpu, memory=memory,
                      env=env, secrets=secrets, jvm=jvm, node_group=node_group, aws_permissions=aws_permissions,
                      config_files=config_files, network_policy=network_policy, allow_from=(),
                      scrape_labels=scrape_labels)
        self.schedule = schedule
        self.time_zone = time_zone
        self.command = tuple(command)
        self.timeout = timeout
        self.retries = retries
        self.alerts = alerts
        self._validate()

        self._make_common()
        # No checkov suppressions here: checkov 3.3 runs its pod checks on Deployments only, and a suppression
        # that matches no finding is an error of the scan. The pod is the Deployments' (``_pod``), and
        # tests/test_workloads_app.py scans it as one.
        self.cron_job = self._cron_job()
        self.prometheus_rule = self._prometheus_rule(self.alert_rules)
        self.network_policy = self._network_policy()

    def _cron_job(self) -> CronJobV1:
        pod = self._pod()
        template = pod.template(pod.container(command=list(self.command)), restart_policy="Never")
        return CronJobV1(
            self, "cron-job",
            metadata=CronJobV1Metadata(name=self.name, namespace=self.namespace, labels=self.labels),
            spec=to_struct(CronJobV1Spec, {
                "schedule": self.schedule,
                "timezone": self.time_zone,
                "concurrency_policy": "Forbid",
                "starting_deadline_seconds": self.starting_deadline_seconds,
                "successful_jobs_history_limit": HISTORY,
                "failed_jobs_history_limit": HISTORY,
                "job_template": {"metadata": {"labels": self.labels}, "spec": {
                    "backoff_limit": self.retries,
                    "active_deadline_seconds": self.timeout_seconds,
                    "template": template,
                }},
            }),
            # The first run reads the Secret the ExternalSecret writes, as its service account.
            depends_on=[self.service_account, *([self.external_secret] if self.external_secret else [])],
        )

    # -- the capability contract ----------------------------------------------------------------

    def needs(self) -> list[Need]:
        """What each feature of this job needs the platform to have installed."""
        found: list[Need] = []
        if self.secret_refs:
            found.append(self._secrets_need("secrets", dict(self.secrets)))
        if self.prometheus_rule:
            found.append(self._prometheus_need(scraped_from=None))
        if self.node_group_path:
            found.append(self._node_group_need())
        if self.network_policy is not None:
            found.append(self._network_policy_need())
        return found

    # -- validation ------------------------------------------------------------------------------

    def _validate(self) -> None:
        c = Checks(self.node.path)
        c.require(bool(DNS_LABEL.match(self.name)) and len(self.name) <= 52, "id", self.name,
                  "use lowercase letters, digits and hyphens, at most 52 characters (it names the CronJob, and "
                  "its Jobs add 11)")
        self._check_pod(c)
        self._check_env(c)
        c.require(bool(self.command) and all(isinstance(a, str) and a for a in self.command), "command",
                  list(self.command), "give the command and its arguments, e.g. ['./report', '--yesterday']")
        found = cadence(self.schedule)
        c.require(isinstance(found, Cadence), "schedule", self.schedule, found if isinstance(found, str) else "")
        #: How far apart two runs are, at the closest and the farthest (``_schedule.Cadence``).
        self.cadence = found if isinstance(found, Cadence) else Cadence(shortest=86400, longest=86400)
        seconds = duration_seconds(self.timeout)
        c.require(seconds is not None, "timeout", self.timeout, DURATION_FIX)
        #: ``timeout`` in seconds: the Jobs' ``activeDeadlineSeconds``.
        self.timeout_seconds = seconds or 0
        if seconds is not None and isinstance(found, Cadence):
            c.require(seconds < found.shortest, "timeout", self.timeout,
                      f"must be shorter than the shortest interval between two runs of {self.schedule!r} "
                      f"({format_duration(found.shortest)}): with concurrencyPolicy Forbid, a run still going "
                      "when the next is due makes that one skip; shorten the timeout or run less often")
        #: How late a run may start (the controller was down, the nodes were full) before it is skipped.
        self.starting_deadline_seconds = min(300, max(10, self.cadence.shortest // 4))
        if self.time_zone is not None:
            c.require(_known_zone(self.time_zone), "time_zone", self.time_zone,
                      "use an IANA time zone such as 'Europe/Paris' or 'Etc/UTC'")
        c.require(0 <= self.retries <= 10, "retries", self.retries, "use 0 to 10")
        self._check_features(c)
        #: How long without a success before the "late" alert: the longest interval (times ``missed_runs``),
        #: the timeout and the starting deadline.
        self.allowed_seconds = (self.alerts.missed_runs if self.alerts else 1) * self.cadence.longest + \
            self.timeout_seconds + self.starting_deadline_seconds
        self.alert_rules = job_alert_rules(self.alerts, name=self.name, namespace=self.namespace,
                                           allowed_seconds=self.allowed_seconds, checks=c) if self.alerts else []
        c.done()


def _known_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True
