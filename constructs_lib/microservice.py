"""One template for every long-running workload: zero-downtime, observable, self-healing Kubernetes services
and workers."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_kubernetes.config_map_v1 import ConfigMapV1, ConfigMapV1Metadata
from cdktf_cdktf_provider_kubernetes.deployment_v1 import (
    DeploymentV1,
    DeploymentV1Metadata,
    DeploymentV1Spec,
    DeploymentV1SpecSelector,
    DeploymentV1SpecStrategy,
    DeploymentV1SpecStrategyRollingUpdate,
    DeploymentV1SpecTemplate,
)
from cdktf_cdktf_provider_kubernetes.horizontal_pod_autoscaler_v2 import (
    HorizontalPodAutoscalerV2,
    HorizontalPodAutoscalerV2Metadata,
    HorizontalPodAutoscalerV2Spec,
    HorizontalPodAutoscalerV2SpecMetric,
    HorizontalPodAutoscalerV2SpecMetricResource,
    HorizontalPodAutoscalerV2SpecMetricResourceTarget,
    HorizontalPodAutoscalerV2SpecScaleTargetRef,
)
from cdktf_cdktf_provider_kubernetes.ingress_v1 import (
    IngressV1,
    IngressV1Metadata,
    IngressV1Spec,
    IngressV1SpecRule,
    IngressV1SpecRuleHttp,
    IngressV1SpecRuleHttpPath,
    IngressV1SpecRuleHttpPathBackend,
    IngressV1SpecRuleHttpPathBackendService,
    IngressV1SpecRuleHttpPathBackendServicePort,
    IngressV1SpecTls,
)
from cdktf_cdktf_provider_kubernetes.job_v1 import JobV1, JobV1Metadata, JobV1Spec, JobV1SpecTemplate, JobV1Timeouts
from cdktf_cdktf_provider_kubernetes.manifest import Manifest
from cdktf_cdktf_provider_kubernetes.pod_disruption_budget_v1 import (
    PodDisruptionBudgetV1,
    PodDisruptionBudgetV1Metadata,
    PodDisruptionBudgetV1Spec,
    PodDisruptionBudgetV1SpecSelector,
)
from cdktf_cdktf_provider_kubernetes.service_v1 import (
    ServiceV1,
    ServiceV1Metadata,
    ServiceV1Spec,
    ServiceV1SpecPort,
)
from constructs import Construct

from ._pod import to_struct
from ._quantities import DURATION_FIX, duration_seconds
from .capabilities import Capability, Need
from .contracts import (
    CLUSTER_ISSUER,
    DASHBOARD_LABELS,
    INGRESS_CLASS,
    INGRESS_NAMESPACE,
    INGRESS_POD_LABELS,
    PROMETHEUS_NAMESPACE,
    PROMETHEUS_POD_LABELS,
    SCRAPE_LABELS,
)
from .guardrails import Guardrails
from .network_policy import Peer
from .node_group import EksNodeGroup
from .prometheus import Alerts, service_alert_rules
from .redis import ManagedRedis
from .validation import DNS_LABEL, Checks, checked_fields, checked_props
from .workload import ECR_IMAGE, AwsPermission, JvmOptions, Workload, _runs_in

__all__ = ["DEFAULT_ALERTS", "ECR_IMAGE", "Autoscaling", "JvmOptions", "MetricsEndpoint", "Microservice",
           "Migration", "Probes"]

_PATH = re.compile(r"^/[\w\-./]*$")


@checked_fields
@dataclass(frozen=True, kw_only=True)
class MetricsEndpoint:
    """Where the service exposes Prometheus metrics; a ServiceMonitor (a PodMonitor for a worker) scrapes it.

    :param port: container port of the metrics endpoint (may equal the app port).
    :param path: HTTP path; default ``/metrics``.
    :param interval: scrape interval; default ``30s``.
    """

    port: int
    path: str = "/metrics"
    interval: str = "30s"


@checked_fields
@dataclass(frozen=True, kw_only=True)
class Autoscaling:
    """A HorizontalPodAutoscaler (v2) on CPU utilisation of the requests.

    :param min_replicas: default 2 (one per zone survives losing the other).
    :param max_replicas: default 10; capped by the environment.
    :param cpu_percent: target average CPU utilisation; default 70.
    """

    min_replicas: int = 2
    max_replicas: int = 10
    cpu_percent: int = 70


@checked_fields
@dataclass(frozen=True, kw_only=True)
class Probes:
    """Health checks: HTTP paths, or a command run in the container (exit code 0: healthy).

    HTTP probes go to the app's port, or for a worker (``port=None``) to its metrics port. Default
    paths: ``/readyz`` and ``/livez``; with ``jvm``, Spring Boot's actuator groups
    ``/actuator/health/readiness`` and ``/actuator/health/liveness``.

    :param readiness_path: HTTP path of readiness; with ``liveness_path``.
    :param liveness_path: HTTP path of liveness; with ``readiness_path``.
    :param command: instead of paths: a command for both (a worker with no HTTP port, e.g.
        ``["/app/healthcheck"]``).
    """

    readiness_path: str | None = None
    liveness_path: str | None = None
    command: Sequence[str] = ()


@checked_fields
@dataclass(frozen=True, kw_only=True)
class Migration:
    """A command run to completion with the new image before the Deployment changes (a schema migration).

    It runs as a Job named after a hash of the image and the command: a new image (or command) makes a
    new Job, which Terraform runs to completion before it touches the Deployment; a failed Job fails the
    apply and the Deployment keeps its old version. Nothing else re-runs it.

    :param command: the container's command, e.g. ``["./manage.py", "migrate"]``.
    :param timeout: how long it may run; default ``10m`` (then it fails, and the apply with it).
    :param retries: further attempts after a failure; default 0 (a half-applied migration is not re-run
        blindly).
    """

    command: Sequence[str]
    timeout: str = "10m"
    retries: int = 0


#: Every service's alerts unless it passes its own: pods not ready, restart loops, 5xx rate (with a request metric).
DEFAULT_ALERTS = Alerts()
#: Spring Boot (Micrometer) counts requests here, with a ``status`` label.
_SPRING_REQUESTS = "http_server_requests_seconds_count"

_DEFAULT_PROBES = Probes(readiness_path="/readyz", liveness_path="/livez")
_ACTUATOR_PROBES = Probes(readiness_path="/actuator/health/readiness", liveness_path="/actuator/health/liveness")


@checked_props
class Microservice(Workload):
    """A long-running workload on Kubernetes, built the same way for every team: an HTTP service, or a
    worker (``port=None``: a queue consumer) with no port to serve.

    What every service gets: a Deployment that rolls out without downtime
    (``max_unavailable`` 0, readiness gates, preStop drain and a grace period),
    spread over zones and nodes; pods that run as non-root with a read-only
    root filesystem (``/tmp`` writable), no privilege escalation, all
    capabilities dropped and the RuntimeDefault seccomp profile; memory limit
    equal to the request (no CPU limit: throttling hurts latency more than a
    noisy neighbour); a ClusterIP Service with named ports; its own service
    account without an automounted token; a PodDisruptionBudget when it can
    run more than one pod. Optional parts follow from the props. A worker gets
    the same, without the Service or an Ingress: it is probed by a command or on
    its metrics port, and scraped through a PodMonitor.

    :param image: container image with a tag or digest (never implicit ``latest``).
    :param port: container port of the app; default 8080. ``None``: a worker, serving no port.
    :param replicas: pod count; default 2. Ignored when ``autoscaling`` is set.
    :param cpu: CPU request; default ``250m``.
    :param memory: memory request and limit; default ``512Mi``.
    :param namespace: default: the stack's (``Guardrails.namespace``), else ``default``; pass
        ``NamespaceV1.metadata.name`` to order after it.
    :param env: plain environment variables; default none. Never secrets.
    :param secrets: env var -> ``"<Secrets Manager name>#<key>"``, synced by the External
        Secrets operator into a Kubernetes Secret the pods read; default none.
    :param metrics: Prometheus endpoint; adds a metrics port and a ServiceMonitor (a PodMonitor for a worker).
    :param jvm: JVM heap sizing; adds ``JAVA_TOOL_OPTIONS``, a startup probe and actuator probes.
    :param probes: health checks; default HTTP ``/readyz`` and ``/livez`` (actuator with ``jvm``). A worker
        without ``metrics`` has no port to probe: give it ``Probes(command=[...])``.
    :param node_group: an EksNodeGroup to run on: its taints are tolerated, its labels selected.
    :param autoscaling: HorizontalPodAutoscaler settings; default none (fixed ``replicas``).
    :param ingress_host: public host name; adds a TLS Ingress (not for a worker).
    :param ingress_class: default ``contracts.INGRESS_CLASS`` (``nginx``).
    :param certificate_issuer: the cert-manager ClusterIssuer of the ingress's TLS certificate; default
        ``contracts.CLUSTER_ISSUER``.
    :param replica_cap: the most pods this service may run; default no cap of its own. The
        environment's cap holds anyway (rule ENV-REPLICA-CAP): this can only tighten it.
    :param pre_stop_seconds: how long a terminating pod keeps serving while endpoints drain;
        default 5 (needs ``sleep`` in the image; 0 turns the hook off).
    :param scrape_labels: labels that make Prometheus select the ServiceMonitor; default
        ``contracts.SCRAPE_LABELS``.
    :param redis: a ManagedRedis the service uses: the pods get ``REDIS_HOST``, ``REDIS_PORT``,
        ``REDIS_TLS`` and ``REDIS_AUTH_TOKEN`` (from the cache's secret, through the External Secrets
        operator), and the cache admits ``workers_security_group_id``.
    :param workers_security_group_id: the security group of the nodes the pods run on (on EKS
        managed nodes, the cluster security group); default: the stack's
        (``Guardrails.workers_security_group_id``); needed with ``redis``.
    :param alerts: a PrometheusRule with the team's alerts; default ``DEFAULT_ALERTS`` (pods not
        ready, restart loops, and with a request metric the 5xx rate); ``None`` for none.
    :param dashboards: Grafana dashboard JSON files, shipped as a labelled ConfigMap that Grafana
        loads (pass ``Path(__file__).parent / ...`` from a stack; relative paths are read from the
        current directory). Only the file name reaches the output.
    :param aws_permissions: the service's own AWS permissions (``AwsPermission``): an IAM role only its
        service account can assume (IRSA, through the cluster's OIDC provider the stack knows), with
        exactly these statements; default none (no role).
    :param config_files: file name -> ``Path`` (read at synthesis) or the content itself: a ConfigMap
        mounted read-only at ``/etc/config/<file name>``, part of the config checksum (a change rolls the
        pods). Never credentials (rule SEC-PLAIN-CREDENTIAL). Default none.
    :param network_policy: a NetworkPolicy admitting only what the service needs (the ingress controller
        on its port with ``ingress_host``, Prometheus on its metrics port, ``allow_from``); default: the
        stack's (``Guardrails.network_policies``), else on only with ``allow_from``.
    :param allow_from: the workloads whose pods may connect to its port: Microservice or ScheduledJob
        objects, or the ids of workloads in its namespace (``["edge-gateway"]``, for one declared in another
        module: the capability contract checks that it exists); default none.
    :param migration: a ``Migration`` run to completion with each new image before the Deployment changes.
    """

    kind = "service"

    def __init__(self, scope: Construct, id: str, *, image: str, port: int | None = 8080, replicas: int = 2,
                 cpu: str = "250m", memory: str = "512Mi", namespace: str | None = None,
                 env: Mapping[str, str] | None = None, secrets: Mapping[str, str] | None = None,
                 metrics: MetricsEndpoint | None = None, jvm: JvmOptions | None = None,
                 probes: Probes | None = None, node_group: EksNodeGroup | None = None,
                 autoscaling: Autoscaling | None = None, ingress_host: str | None = None,
                 ingress_class: str = INGRESS_CLASS, certificate_issuer: str = CLUSTER_ISSUER,
                 replica_cap: int | None = None, pre_stop_seconds: int = 5,
                 scrape_labels: Mapping[str, str] = SCRAPE_LABELS, redis: ManagedRedis | None = None,
                 workers_security_group_id: str | None = None, alerts: Alerts | None = DEFAULT_ALERTS,
                 dashboards: Sequence[str | Path] = (), aws_permissions: Sequence[AwsPermission] = (),
                 config_files: Mapping[str, str | Path] | None = None, network_policy: bool | None = None,
                 allow_from: Sequence[Any] = (), migration: Migration | None = None) -> None:
        super().__init__(scope, id)
        guardrails = Guardrails.of(self)
        if guardrails is not None:
            workers_security_group_id = workers_security_group_id or guardrails.workers_security_group_id
        self._resolve(guardrails, id=id, image=image, namespace=namespace, cpu=cpu, memory=memory, env=env,
                      secrets=secrets, jvm=jvm, node_group=node_group, aws_permissions=aws_permissions,
                      config_files=config_files, network_policy=network_policy, allow_from=allow_from,
                      scrape_labels=scrape_labels)
        self.port = port
        self.replicas = replicas
        self.metrics = metrics
        self.probes = probes or (_ACTUATOR_PROBES if jvm else _DEFAULT_PROBES)
        self.autoscaling = autoscaling
        self.ingress_host = ingress_host
        self.ingress_class = ingress_class
        self.certificate_issuer = certificate_issuer
        self.redis = redis
        self.alerts = alerts
        self.dashboards = tuple(Path(d) for d in dashboards)
        self.migration = migration
        self._validate(replica_cap, pre_stop_seconds, workers_security_group_id)
        if redis is not None:
            assert workers_security_group_id is not None  # validated
            redis.allow_from(workers_security_group_id, name="cluster-workers")

        self.max_pods = autoscaling.max_replicas if autoscaling else replicas
        self.min_pods = autoscaling.min_replicas if autoscaling else replicas
        self._make_common(extra_secrets={"REDIS_AUTH_TOKEN": f"{redis.secret_name}#auth_token"} if redis else None,
                          secret_depends_on=[redis.secret_version] if redis else ())
        self.migration_job = self._migration_job() if migration else None
        self.deployment = self._deployment(pre_stop_seconds)
        # Deliberate, for every workload (the reasons are what a reviewer reads in `pipenv run policy`).
        self._suppress_pod_checks(self.deployment)
        self.service = ServiceV1(
            self, "service",
            metadata=ServiceV1Metadata(name=id, namespace=self.namespace, labels=self.labels),
            spec=ServiceV1Spec(type="ClusterIP", selector=self.selector, port=[
                ServiceV1SpecPort(name=name, port=number, target_port=name, protocol="TCP")
                for name, number in self._ports().items()]),
        ) if port is not None else None
        self.pod_disruption_budget = PodDisruptionBudgetV1(
            self, "pdb",
            metadata=PodDisruptionBudgetV1Metadata(name=id, namespace=self.namespace, labels=self.labels),
            spec=PodDisruptionBudgetV1Spec(max_unavailable="1",
                                           selector=PodDisruptionBudgetV1SpecSelector(match_labels=self.selector)),
        ) if self.max_pods > 1 else None
        self.autoscaler = self._autoscaler() if autoscaling else None
        self.service_monitor = self._service_monitor() if metrics and port is not None else None
        self.pod_monitor = self._pod_monitor() if metrics and port is None else None
        self.prometheus_rule = self._prometheus_rule(self.alert_rules)
        self.dashboards_config_map = self._dashboards() if self.dashboards else None
        self.ingress = self._ingress(ingress_class) if ingress_host else None
        self.network_policy = self._network_policy()

    @property
    def worker(self) -> bool:
        """A workload with no HTTP port: no Service, no Ingress."""
        return self.port is None

    # -- resources -------------------------------------------------------------------------------

    def _ports(self) -> dict[str, int]:
        ports = {"http": self.port} if self.port is not None else {}
        if self.metrics and self.metrics.port != self.port:
            ports["metrics"] = self.metrics.port
        return ports

    @property
    def metrics_port_name(self) -> str | None:
        if not self.metrics:
            return None
        return "http" if self.metrics.port == self.port else "metrics"

    def pod_env(self) -> dict[str, str]:
        """The plain environment of the pods: ``env``, the JVM's options and the cache's endpoint."""
        plain = super().pod_env()
        if self.redis:
            plain.update(REDIS_HOST=self.redis.endpoint, REDIS_PORT=str(self.redis.port), REDIS_TLS="true")
        return plain

    def _checksum_extra(self) -> dict[str, object]:
        # only with a cache, so that adding the option rolls no other service's pods
        return {"redis": self.redis.replication_group_id} if self.redis else {}

    def _probes(self) -> dict[str, Any]:
        """Readiness, liveness and (JVM) startup probes: by command, or HTTP on the app's (a worker's metrics) port."""
        probes = self.probes
        readiness: dict[str, Any]
        liveness: dict[str, Any]
        if probes.command:
            check = {"exec": {"command": list(probes.command)}}
            readiness, liveness = dict(check), dict(check)
        else:
            port = "http" if self.port is not None else "metrics"
            readiness = {"http_get": {"path": probes.readiness_path, "port": port}}
            liveness = {"http_get": {"path": probes.liveness_path, "port": port}}
        return {
            "readiness_probe": {**readiness, "period_seconds": 5, "failure_threshold": 3, "timeout_seconds": 2},
            "liveness_probe": {**liveness, "period_seconds": 10, "failure_threshold": 6, "timeout_seconds": 2,
                               "initial_delay_seconds": 0 if self.jvm else 10},
            # up to 3 minutes for a JVM to warm up
            "startup_probe": {**liveness, "period_seconds": 5, "failure_threshold": 36} if self.jvm else None,
        }

    def _deployment(self, pre_stop_seconds: int) -> DeploymentV1:
        pod = self._pod()
        container = pod.container(
            port=[{"name": name, "container_port": number, "protocol": "TCP"}
                  for name, number in self._ports().items()] or None,
            **self._probes(),
            lifecycle={"pre_stop": [{"exec": {"command": ["sleep", str(pre_stop_seconds)]}}]}
            if pre_stop_seconds else None,
        )
        spread = [
            {"topology_key": key, "max_skew": 1, "when_unsatisfiable": mode,
             "label_selector": [{"match_labels": self.selector}]}
            # A zone must never hold every pod; hosts are spread as far as capacity allows.
            for key, mode in (("topology.kubernetes.io/zone", "DoNotSchedule"),
                              ("kubernetes.io/hostname", "ScheduleAnyway"))
        ]
        template = pod.template(container, termination_grace_period_seconds=pre_stop_seconds + 30,
                                topology_spread_constraint=spread)
        return DeploymentV1(
            self, "deployment",
            metadata=DeploymentV1Metadata(name=self.name, namespace=self.namespace, labels=self.labels),
            spec=DeploymentV1Spec(
                replicas=None if self.autoscaling else str(self.replicas),
                revision_history_limit=5,
                progress_deadline_seconds=600,
                selector=DeploymentV1SpecSelector(match_labels=self.selector),
                strategy=DeploymentV1SpecStrategy(
                    type="RollingUpdate",
                    rolling_update=DeploymentV1SpecStrategyRollingUpdate(max_unavailable="0", max_surge="25%")),
                template=to_struct(DeploymentV1SpecTemplate, template),
            ),
            wait_for_rollout=True,
            # The pods read the Secret the ExternalSecret writes: create it first. A migration runs before.
            depends_on=[self.service_account, *([self.external_secret] if self.external_secret else []),
                        *([self.migration_job] if self.migration_job else [])],
        )

    def _migration_job(self) -> JobV1:
        """The migration, as a Job named for its image and command: a new image makes a new Job."""
        migration = self.migration
        assert migration is not None
        timeout = duration_seconds(migration.timeout)
        assert timeout is not None  # validated
        digest = hashlib.sha256(json.dumps([self.image, list(migration.command)]).encode()).hexdigest()[:8]
        suffix = f"-migrate-{digest}"
        #: The Job's name: at most 63 characters, as its pods' ``job-name`` label must be.
        self.migration_name = f"{self.name[:63 - len(suffix)]}{suffix}"
        # Its own instance label: the Service, the PodDisruptionBudget and the autoscaler must not count it.
        labels = {**self.labels, "app.kubernetes.io/instance": f"{self.name}-migration",
                  "app.kubernetes.io/component": "migration"}
        pod = self._pod(labels=labels)
        template = pod.template(pod.container(command=list(migration.command)), restart_policy="Never")
        job = JobV1(
            self, "migration",
            metadata=JobV1Metadata(name=self.migration_name, namespace=self.namespace, labels=labels),
            spec=JobV1Spec(backoff_limit=migration.retries, active_deadline_seconds=timeout,
                           template=to_struct(JobV1SpecTemplate, template)),
            # Terraform waits for it to succeed (or fails the apply) before the Deployment, which depends on it.
            wait_for_completion=True,
            timeouts=JobV1Timeouts(create=f"{timeout + 60}s", update=f"{timeout + 60}s"),
            # A new name (image or command) replaces it, and so runs it; nothing else does. No TTL: a Job the
            # cluster deleted would be created again, and run again, by the next plan.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["spec"]),
            depends_on=[self.service_account, *([self.external_secret] if self.external_secret else [])],
        )
        return job  # no checkov suppressions: see ScheduledJob

    def _autoscaler(self) -> HorizontalPodAutoscalerV2:
        scaling = self.autoscaling
        assert scaling is not None
        return HorizontalPodAutoscalerV2(
            self, "autoscaler",
            metadata=HorizontalPodAutoscalerV2Metadata(name=self.name, namespace=self.namespace, labels=self.labels),
            spec=HorizontalPodAutoscalerV2Spec(
                min_replicas=scaling.min_replicas, max_replicas=scaling.max_replicas,
                scale_target_ref=HorizontalPodAutoscalerV2SpecScaleTargetRef(
                    api_version="apps/v1", kind="Deployment", name=self.name),
                metric=[HorizontalPodAutoscalerV2SpecMetric(
                    type="Resource", resource=HorizontalPodAutoscalerV2SpecMetricResource(
                        name="cpu", target=HorizontalPodAutoscalerV2SpecMetricResourceTarget(
                            type="Utilization", average_utilization=scaling.cpu_percent)))],
            ),
        )

    def _service_monitor(self) -> Manifest:
        metrics = self.metrics
        assert metrics is not None
        return Manifest(self, "service-monitor", manifest={
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "ServiceMonitor",
            "metadata": {"name": self.name, "namespace": self.namespace,
                         "labels": {**self.labels, **self.scrape_labels}},
            "spec": {
                "selector": {"matchLabels": self.selector},
                "namespaceSelector": {"matchNames": [self.namespace]},
                "endpoints": [{"port": self.metrics_port_name, "path": metrics.path,
                               "interval": metrics.interval, "scheme": "http"}],
            },
        })

    def _pod_monitor(self) -> Manifest:
        """A worker has no Service to monitor: Prometheus scrapes its pods' metrics port directly."""
        metrics = self.metrics
        assert metrics is not None
        return Manifest(self, "pod-monitor", manifest={
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PodMonitor",
            "metadata": {"name": self.name, "namespace": self.namespace,
                         "labels": {**self.labels, **self.scrape_labels}},
            "spec": {
                "selector": {"matchLabels": self.selector},
                "namespaceSelector": {"matchNames": [self.namespace]},
                "podMetricsEndpoints": [{"port": self.metrics_port_name, "path": metrics.path,
                                         "interval": metrics.interval, "scheme": "http"}],
            },
        })

    def _dashboards(self) -> ConfigMapV1:
        # Re-serialized with sorted keys: the ConfigMap changes only when a dashboard does.
        data = {path.name: json.dumps(json.loads(path.read_text()), indent=1, sort_keys=True)
                for path in self.dashboards}
        return ConfigMapV1(self, "dashboards", metadata=ConfigMapV1Metadata(
            name=f"{self.name}-dashboards", namespace=self.namespace,
            labels={**self.labels, **DASHBOARD_LABELS}, annotations={"grafana_folder": self.name}), data=data)

    def _ingress(self, ingress_class: str) -> IngressV1:
        host = self.ingress_host
        assert host is not None
        return IngressV1(
            self, "ingress",
            metadata=IngressV1Metadata(name=self.name, namespace=self.namespace, labels=self.labels,
                                       annotations={"cert-manager.io/cluster-issuer": self.certificate_issuer}),
            spec=IngressV1Spec(
                ingress_class_name=ingress_class,
                tls=[IngressV1SpecTls(hosts=[host], secret_name=f"{self.name}-tls")],
                rule=[IngressV1SpecRule(host=host, http=IngressV1SpecRuleHttp(path=[IngressV1SpecRuleHttpPath(
                    path="/", path_type="Prefix",
                    backend=IngressV1SpecRuleHttpPathBackend(service=IngressV1SpecRuleHttpPathBackendService(
                        name=self.name, port=IngressV1SpecRuleHttpPathBackendServicePort(name="http"))))]))],
            ),
        )

    def peers(self) -> list[Peer]:
        """The ingress controller's pods on the app's port (with ``ingress_host``), Prometheus' on the metrics
        port (with ``metrics``), and the pods of each workload in ``allow_from`` on the app's port."""
        found: list[Peer] = []
        if self.ingress_host and self.port is not None:
            found.append((INGRESS_NAMESPACE, INGRESS_POD_LABELS, [self.port], "the ingress controller"))
        if self.metrics:
            found.append((PROMETHEUS_NAMESPACE, PROMETHEUS_POD_LABELS, [self.metrics.port], "Prometheus"))
        if self.port is not None:
            found += [self._peer_from(other, [self.port]) for other in self.allow_from]
        return found

    def _monitor_kinds(self) -> list[str]:
        kinds = ["ServiceMonitor" if self.service_monitor else "PodMonitor"] if self.metrics else []
        return [*kinds, "PrometheusRule"] if self.prometheus_rule or not kinds else kinds

    # -- the capability contract ----------------------------------------------------------------

    def needs(self) -> list[Need]:
        """What each feature of this service needs the platform to have installed."""
        found: list[Need] = []
        isolated = self.network_policy is not None
        if self.autoscaling:
            found.append(Need("autoscaling", self.autoscaling, Capability.METRICS_API,
                              fix="install MetricsServer in the platform, or use fixed replicas"))
        if self.ingress_host:
            host = self.ingress_host
            where = (f" in namespace {INGRESS_NAMESPACE!r} (its NetworkPolicy admits the controller's pods from "
                     "there)") if isolated else ""
            found += [
                Need("ingress_host", host, Capability.INGRESS_CLASS, self.ingress_class,
                     accepts=lambda offer: offer.name == self.ingress_class and (
                         not isolated or _runs_in(offer, INGRESS_NAMESPACE, INGRESS_POD_LABELS)),
                     what=f"an ingress controller for class {self.ingress_class!r}{where}",
                     fix="install an IngressController for that class, or remove ingress_host"),
                Need("ingress_host", host, Capability.CERTIFICATES, self.certificate_issuer,
                     accepts=lambda offer: offer.name == self.certificate_issuer and _within(
                         host, offer.scope.get("zone", host)),
                     what=f"the cert-manager ClusterIssuer {self.certificate_issuer!r} for its certificate",
                     fix="create that ClusterIssuer in the platform, or remove ingress_host"),
                Need("ingress_host", host, Capability.DNS, host,
                     accepts=lambda offer: _within(host, offer.name) and offer.scope.get(
                         "ingress_class", self.ingress_class) == self.ingress_class,
                     what="external-dns for a zone that holds the host",
                     fix="use a host under the environment's domain, and give the environment its dns zone"),
            ]
        if self.secret_refs:
            found.append(self._secrets_need(
                "secrets" if self.secrets else "redis",
                dict(self.secrets) if self.secrets else self.redis.node.path if self.redis else None))
        if self.service_monitor or self.pod_monitor or self.prometheus_rule:
            found.append(self._prometheus_need(scraped_from=(PROMETHEUS_NAMESPACE, PROMETHEUS_POD_LABELS)
                                               if isolated and self.metrics else None))
        if self.node_group_path:
            found.append(self._node_group_need())
        if isolated:
            found.append(self._network_policy_need())
        return found + self._allow_from_needs()

    # -- validation ------------------------------------------------------------------------------

    def _validate(self, replica_cap: int | None, pre_stop_seconds: int,
                  workers_security_group_id: str | None) -> None:
        c = Checks(self.node.path)
        c.require(bool(DNS_LABEL.match(self.name)) and len(self.name) <= 53, "id", self.name,
                  "use lowercase letters, digits and hyphens, at most 53 characters (it names the "
                  "Deployment, Service and DNS entry)")
        self._check_pod(c)
        if self.port is not None:
            c.require(1 <= self.port <= 65535, "port", self.port, "use a port from 1 to 65535")
        if self.metrics:
            c.require(1 <= self.metrics.port <= 65535, "metrics.port", self.metrics.port, "use a port from 1 to 65535")
            c.require(bool(_PATH.match(self.metrics.path)), "metrics.path", self.metrics.path,
                      "use an absolute HTTP path such as '/metrics'")
            c.require(bool(re.match(r"^\d+[smh]$", self.metrics.interval)), "metrics.interval",
                      self.metrics.interval, "use a duration such as '30s' or '1m'")
        c.require(self.replicas >= 1, "replicas", self.replicas, "use 1 or more")
        if replica_cap is not None and not self.autoscaling:
            c.require(self.replicas <= replica_cap, "replicas", self.replicas,
                      f"replica_cap allows at most {replica_cap} replicas; lower replicas or raise replica_cap")
        if self.autoscaling:
            a = self.autoscaling
            c.require(a.min_replicas >= 1, "autoscaling.min_replicas", a.min_replicas, "use 1 or more")
            c.require(a.min_replicas <= a.max_replicas, "autoscaling.min_replicas", a.min_replicas,
                      f"must not exceed max_replicas ({a.max_replicas})")
            c.require(1 <= a.cpu_percent <= 100, "autoscaling.cpu_percent", a.cpu_percent, "use 1 to 100")
            if replica_cap is not None:
                c.require(a.max_replicas <= replica_cap, "autoscaling.max_replicas", a.max_replicas,
                          f"replica_cap allows at most {replica_cap} replicas; lower max_replicas or raise "
                          "replica_cap")
        self._check_env(c)
        self._check_probes(c)
        if self.redis is not None:
            c.require(workers_security_group_id is not None, "workers_security_group_id", workers_security_group_id,
                      "pass the security group of the cluster's nodes, or build the service in a stack whose "
                      "guardrails know it (KubernetesStack), so that the cache admits the pods")
            for name in sorted(set(self.env) | set(self.secrets)):
                c.require(not name.startswith("REDIS_"), f"env[{name!r}]" if name in self.env else f"secrets[{name!r}]",
                          name, "REDIS_* variables come from redis=...; remove it or rename it")
        self.alert_rules = service_alert_rules(
            self.alerts, name=self.name, namespace=self.namespace, checks=c,
            requests_metric=self.alerts.requests_metric or (_SPRING_REQUESTS if self.jvm else None),
        ) if self.alerts else []
        for i, path in enumerate(self.dashboards):
            c.require(_dashboard_problem(path) is None, f"dashboards[{i}]", str(path),
                      f"{_dashboard_problem(path)}; a dashboard is a Grafana JSON model with 'title' and 'panels'")
        names = [p.name for p in self.dashboards]
        c.require(len(set(names)) == len(names), "dashboards", [str(p) for p in self.dashboards],
                  "give every dashboard file its own name")
        c.require(0 <= pre_stop_seconds <= 60, "pre_stop_seconds", pre_stop_seconds, "use 0 to 60")
        if self.ingress_host is not None:
            c.require(bool(re.match(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$", self.ingress_host)),
                      "ingress_host", self.ingress_host, "use a DNS name such as 'checkout.example.com'")
            c.require(self.port is not None, "ingress_host", self.ingress_host,
                      "a worker (port=None) serves no HTTP port to route to; give it a port, or remove ingress_host")
        self._check_features(c)
        c.require(not self.allow_from or self.port is not None, "allow_from",
                  [getattr(o, "name", o) for o in self.allow_from],
                  "a worker (port=None) serves no port to admit anyone to; remove allow_from")
        if self.migration is not None:
            m = self.migration
            c.require(bool(m.command) and all(isinstance(a, str) and a for a in m.command), "migration.command",
                      list(m.command), "give the command and its arguments, e.g. ['./manage.py', 'migrate']")
            c.require(duration_seconds(m.timeout) is not None, "migration.timeout", m.timeout, DURATION_FIX)
            c.require(0 <= m.retries <= 5, "migration.retries", m.retries, "use 0 to 5")
        c.done()

    def _check_probes(self, c: Checks) -> None:
        probes = self.probes
        if probes.command:
            c.require(probes.readiness_path is None and probes.liveness_path is None, "probes", probes,
                      "give a command or HTTP paths, not both")
            c.require(all(isinstance(a, str) and a for a in probes.command), "probes.command", list(probes.command),
                      "give the command and its arguments as strings")
            return
        for path in (probes.readiness_path, probes.liveness_path):
            if path is None:
                c.require(False, "probes", probes, "give both readiness_path and liveness_path, or a command")
            else:
                c.require(bool(_PATH.match(path)), "probes", path, "use an absolute HTTP path such as '/readyz'")
        c.require(self.port is not None or self.metrics is not None, "probes", probes,
                  "a worker (port=None) without metrics has no port to probe: pass probes=Probes(command=[...]) "
                  "(a health-check command in the image), or metrics=MetricsEndpoint(port=...) to probe there")


def _within(host: str, domain: str) -> bool:
    """``shop.staging.example.com`` is within ``staging.example.com`` (and ``staging.example.com`` itself)."""
    return host == domain or host.endswith("." + domain)


def _dashboard_problem(path: Path) -> str | None:
    """What is wrong with a dashboard file, or None."""
    try:
        model = json.loads(path.read_text())
    except FileNotFoundError:
        return "no such file (relative paths are read from the current directory)"
    except (OSError, ValueError) as error:
        return f"not readable JSON ({error})"
    if not isinstance(model, dict) or not isinstance(model.get("title"), str) or not isinstance(
            model.get("panels"), list):
        return "not a dashboard"
    if not isinstance(model.get("uid"), str) or not re.match(r"^[\w-]{1,40}$", model["uid"]):
        return "needs a stable 'uid' (letters, digits, '-' and '_', at most 40), so links and alerts keep working"
    return None
