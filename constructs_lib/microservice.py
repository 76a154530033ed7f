"""One template for every service: zero-downtime, observable, self-healing Kubernetes workloads."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cdktf import Postcondition, TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.data_aws_ecr_repository import DataAwsEcrRepository
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
from cdktf_cdktf_provider_kubernetes.manifest import Manifest
from cdktf_cdktf_provider_kubernetes.pod_disruption_budget_v1 import (
    PodDisruptionBudgetV1,
    PodDisruptionBudgetV1Metadata,
    PodDisruptionBudgetV1Spec,
    PodDisruptionBudgetV1SpecSelector,
)
from cdktf_cdktf_provider_kubernetes.service_account_v1 import ServiceAccountV1, ServiceAccountV1Metadata
from cdktf_cdktf_provider_kubernetes.service_v1 import (
    ServiceV1,
    ServiceV1Metadata,
    ServiceV1Spec,
    ServiceV1SpecPort,
)
from constructs import Construct

from ._pod import PodTemplate, config_checksum, jvm_tool_options, to_struct
from ._quantities import MEMORY_FIX, cpu_problem, memory_bytes
from .capabilities import Capability, Need
from .contracts import CLUSTER_ISSUER, DASHBOARD_LABELS, INGRESS_CLASS, SCRAPE_LABELS, SECRET_STORE
from .external_secrets import SECRET_REF, SECRET_REF_FIX, external_secret
from .guardrails import Guardrails, suppress
from .node_group import EksNodeGroup, Taint
from .prometheus import Alerts, service_alert_rules
from .redis import ManagedRedis
from .validation import DNS_LABEL, Checks, checked_fields, checked_props

__all__ = ["DEFAULT_ALERTS", "Autoscaling", "JvmOptions", "MetricsEndpoint", "Microservice", "Probes"]

_IMAGE = re.compile(r"^[a-z0-9][a-z0-9.\-/_:]*[a-z0-9](:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$")
#: An image in an ECR repository: the registry (account) id, its region, the repository.
ECR_IMAGE = re.compile(r"^(?P<registry>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/"
                       r"(?P<repository>[a-z0-9][a-z0-9._/-]*?)(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PATH = re.compile(r"^/[\w\-./]*$")


@checked_fields
@dataclass(frozen=True, kw_only=True)
class MetricsEndpoint:
    """Where the service exposes Prometheus metrics; a ServiceMonitor scrapes it.

    :param port: container port of the metrics endpoint (may equal the app port).
    :param path: HTTP path; default ``/metrics``.
    :param interval: scrape interval; default ``30s``.
    """

    port: int
    path: str = "/metrics"
    interval: str = "30s"


@checked_fields
@dataclass(frozen=True, kw_only=True)
class JvmOptions:
    """A JVM service: the heap follows the container's memory limit.

    :param heap_percent: share of the memory limit for the heap (``-XX:MaxRAMPercentage``);
        default 75, at most 90 so that metaspace, threads and buffers fit.
    """

    heap_percent: int = 75


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
    """HTTP health endpoints. Defaults: ``/readyz`` and ``/livez``; with ``jvm``, Spring Boot's
    actuator groups ``/actuator/health/readiness`` and ``/actuator/health/liveness``."""

    readiness_path: str
    liveness_path: str


#: Every service's alerts unless it passes its own: pods not ready, restart loops, 5xx rate (with a request metric).
DEFAULT_ALERTS = Alerts()
#: Spring Boot (Micrometer) counts requests here, with a ``status`` label.
_SPRING_REQUESTS = "http_server_requests_seconds_count"

_DEFAULT_PROBES = Probes(readiness_path="/readyz", liveness_path="/livez")
_ACTUATOR_PROBES = Probes(readiness_path="/actuator/health/readiness", liveness_path="/actuator/health/liveness")


@checked_props
class Microservice(Construct):
    """A stateless HTTP service on Kubernetes, built the same way for every team.

    What every service gets: a Deployment that rolls out without downtime
    (``max_unavailable`` 0, readiness gates, preStop drain and a grace period),
    spread over zones and nodes; pods that run as non-root with a read-only
    root filesystem (``/tmp`` writable), no privilege escalation, all
    capabilities dropped and the RuntimeDefault seccomp profile; memory limit
    equal to the request (no CPU limit: throttling hurts latency more than a
    noisy neighbour); a ClusterIP Service with named ports; its own service
    account without an automounted token; a PodDisruptionBudget when it can
    run more than one pod. Optional parts follow from the props.

    :param image: container image with a tag or digest (never implicit ``latest``).
    :param port: container port of the app; default 8080.
    :param replicas: pod count; default 2. Ignored when ``autoscaling`` is set.
    :param cpu: CPU request; default ``250m``.
    :param memory: memory request and limit; default ``512Mi``.
    :param namespace: default: the stack's (``Guardrails.namespace``), else ``default``; pass
        ``NamespaceV1.metadata.name`` to order after it.
    :param env: plain environment variables; default none. Never secrets.
    :param secrets: env var -> ``"<Secrets Manager name>#<key>"``, synced by the External
        Secrets operator into a Kubernetes Secret the pods read; default none.
    :param metrics: Prometheus endpoint; adds a metrics port and a ServiceMonitor.
    :param jvm: JVM heap sizing; adds ``JAVA_TOOL_OPTIONS``, a startup probe and actuator probes.
    :param probes: health paths; default ``/readyz`` and ``/livez`` (actuator with ``jvm``).
    :param node_group: an EksNodeGroup to run on: its taints are tolerated, its labels selected.
    :param autoscaling: HorizontalPodAutoscaler settings; default none (fixed ``replicas``).
    :param ingress_host: public host name; adds a TLS Ingress.
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
    """

    def __init__(self, scope: Construct, id: str, *, image: str, port: int = 8080, replicas: int = 2,
                 cpu: str = "250m", memory: str = "512Mi", namespace: str | None = None,
                 env: Mapping[str, str] | None = None, secrets: Mapping[str, str] | None = None,
                 metrics: MetricsEndpoint | None = None, jvm: JvmOptions | None = None,
                 probes: Probes | None = None, node_group: EksNodeGroup | None = None,
                 autoscaling: Autoscaling | None = None, ingress_host: str | None = None,
                 ingress_class: str = INGRESS_CLASS, certificate_issuer: str = CLUSTER_ISSUER,
                 replica_cap: int | None = None, pre_stop_seconds: int = 5,
                 scrape_labels: Mapping[str, str] = SCRAPE_LABELS, redis: ManagedRedis | None = None,
                 workers_security_group_id: str | None = None, alerts: Alerts | None = DEFAULT_ALERTS,
                 dashboards: Sequence[str | Path] = ()) -> None:
        super().__init__(scope, id)
        guardrails = Guardrails.of(self)
        if guardrails is not None:
            namespace = namespace or guardrails.namespace
            workers_security_group_id = workers_security_group_id or guardrails.workers_security_group_id
        self.name = id
        self.namespace: str = namespace or "default"
        #: The namespace's name where it is known before apply (``namespace`` may be a reference).
        self.namespace_name: str | None = (
            guardrails.namespace_name if guardrails and namespace == guardrails.namespace else None) or (
            None if Token.is_unresolved(self.namespace) else self.namespace)
        namespace = self.namespace
        self.image = image
        self.port = port
        self.replicas = replicas
        self.cpu = cpu
        self.memory = memory
        self.env: Mapping[str, str] = dict(env or {})
        self.secrets: Mapping[str, str] = dict(secrets or {})
        self.metrics = metrics
        self.jvm = jvm
        self.probes = probes or (_ACTUATOR_PROBES if jvm else _DEFAULT_PROBES)
        self.autoscaling = autoscaling
        self.ingress_host = ingress_host
        self.scrape_labels: Mapping[str, str] = dict(scrape_labels)
        self.tolerations: tuple[Taint, ...] = node_group.taints if node_group else ()
        self.node_group_path = node_group.node.path if node_group else None
        self.node_selector: Mapping[str, str] = dict(node_group.labels) if node_group else {}
        self.redis = redis
        self.alerts = alerts
        self.dashboards = tuple(Path(d) for d in dashboards)
        self._validate(replica_cap, pre_stop_seconds, workers_security_group_id)
        if redis is not None:
            assert workers_security_group_id is not None  # validated
            redis.allow_from(workers_security_group_id, name="cluster-workers")

        self.selector = {"app.kubernetes.io/name": id, "app.kubernetes.io/instance": id}
        self.labels = {**self.selector, "app.kubernetes.io/version": _image_version(image),
                       "app.kubernetes.io/managed-by": "cdktf"}
        self.max_pods = autoscaling.max_replicas if autoscaling else replicas
        self.min_pods = autoscaling.min_replicas if autoscaling else replicas
        self.secret_refs: Mapping[str, str] = {
            **self.secrets, **({"REDIS_AUTH_TOKEN": f"{redis.secret_name}#auth_token"} if redis else {})}
        self.secret_name = f"{id}-secrets" if self.secret_refs else None

        self.service_account = ServiceAccountV1(
            self, "service-account", metadata=ServiceAccountV1Metadata(name=id, namespace=namespace,
                                                                       labels=self.labels),
            automount_service_account_token=False)
        self.external_secret = self._external_secret() if self.secret_refs else None
        self.image_repository = self._image_repository()
        self.deployment = self._deployment(pre_stop_seconds)
        # Deliberate, for every service (the reasons are what a reviewer reads in `pipenv run policy`).
        suppress(self.deployment, "CKV_K8S_11", reason="no CPU limit on purpose: CFS throttling hurts latency more "
                                                       "than a busy neighbour does; requests reserve the CPU")
        if self.image_pinned:
            why = ("the image is pinned by digest" if "@sha256:" in image else
                   "the image tag is immutable: its ECR repository is looked up at plan time and the plan fails "
                   "unless image_tag_mutability is IMMUTABLE (image-repository postcondition)")
            suppress(self.deployment, "CKV_K8S_43", reason=f"{why}, so a tag names one image for good")
            suppress(self.deployment, "CKV_K8S_15", reason=f"{why}, so IfNotPresent runs the same bytes as Always "
                                                           "without a registry round trip on every restart")
        self.service = ServiceV1(
            self, "service",
            metadata=ServiceV1Metadata(name=id, namespace=namespace, labels=self.labels),
            spec=ServiceV1Spec(type="ClusterIP", selector=self.selector, port=[
                ServiceV1SpecPort(name=name, port=number, target_port=name, protocol="TCP")
                for name, number in self._ports().items()]),
        )
        self.pod_disruption_budget = PodDisruptionBudgetV1(
            self, "pdb",
            metadata=PodDisruptionBudgetV1Metadata(name=id, namespace=namespace, labels=self.labels),
            spec=PodDisruptionBudgetV1Spec(max_unavailable="1",
                                           selector=PodDisruptionBudgetV1SpecSelector(match_labels=self.selector)),
        ) if self.max_pods > 1 else None
        self.autoscaler = self._autoscaler() if autoscaling else None
        self.service_monitor = self._service_monitor() if metrics else None
        self.prometheus_rule = self._prometheus_rule() if self.alert_rules else None
        self.dashboards_config_map = self._dashboards() if self.dashboards else None
        self.ingress_class = ingress_class
        self.certificate_issuer = certificate_issuer
        self.ingress = self._ingress(ingress_class) if ingress_host else None

    # -- resources -------------------------------------------------------------------------------

    def _ports(self) -> dict[str, int]:
        ports = {"http": self.port}
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
        plain = dict(self.env)
        if self.jvm:
            plain["JAVA_TOOL_OPTIONS"] = jvm_tool_options(self.jvm.heap_percent)
        if self.redis:
            plain.update(REDIS_HOST=self.redis.endpoint, REDIS_PORT=str(self.redis.port), REDIS_TLS="true")
        return plain

    def _config_checksum(self) -> str:
        """Changes whenever env or the secret mapping changes, so the pods roll."""
        config: dict[str, object] = {"env": dict(self.env), "secrets": dict(self.secret_refs),
                                     "jvm": self.jvm.heap_percent if self.jvm else None}
        if self.redis:  # only then, so that adding the option rolls no other service's pods
            config["redis"] = self.redis.replication_group_id
        return config_checksum(config)

    def _pod(self) -> PodTemplate:
        return PodTemplate(name=self.name, image=self.image, labels=self.labels, cpu=self.cpu, memory=self.memory,
                           checksum=self._config_checksum(), env=self.pod_env(), secret_env=tuple(self.secret_refs),
                           secret_name=self.secret_name, tolerations=self.tolerations,
                           node_selector=self.node_selector)

    def _deployment(self, pre_stop_seconds: int) -> DeploymentV1:
        http = "http"
        pod = self._pod()
        container = pod.container(
            port=[{"name": name, "container_port": number, "protocol": "TCP"}
                  for name, number in self._ports().items()],
            readiness_probe={"http_get": {"path": self.probes.readiness_path, "port": http},
                             "period_seconds": 5, "failure_threshold": 3, "timeout_seconds": 2},
            liveness_probe={"http_get": {"path": self.probes.liveness_path, "port": http},
                            "period_seconds": 10, "failure_threshold": 6, "timeout_seconds": 2,
                            "initial_delay_seconds": 0 if self.jvm else 10},
            # up to 3 minutes for a JVM to warm up
            startup_probe={"http_get": {"path": self.probes.liveness_path, "port": http},
                           "period_seconds": 5, "failure_threshold": 36} if self.jvm else None,
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
            # The pods read the Secret the ExternalSecret writes: create it first.
            depends_on=[self.service_account, *([self.external_secret] if self.external_secret else [])],
        )

    @property
    def image_pinned(self) -> bool:
        """True when the image can only ever mean one set of bytes: a digest, or a tag in an ECR
        repository whose tags are immutable (checked at plan time by ``image_repository``)."""
        return "@sha256:" in self.image or self.image_repository is not None

    def _image_repository(self) -> DataAwsEcrRepository | None:
        """The image's ECR repository, looked up at plan time: the plan fails unless its tags are immutable."""
        match = ECR_IMAGE.match(self.image)
        if not match or "@sha256:" in self.image:
            return None
        return DataAwsEcrRepository(
            self, "image-repository", name=match["repository"], registry_id=match["registry"], region=match["region"],
            lifecycle=TerraformResourceLifecycle(postcondition=[Postcondition(
                condition='${self.image_tag_mutability == "IMMUTABLE"}',
                error_message=f"{self.node.path}: image {self.image} is in an ECR repository whose tags can be "
                              "overwritten; set image_tag_mutability = IMMUTABLE on the repository (or pin the "
                              "image by digest), so that a tag always runs the same image")]))

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

    def _external_secret(self) -> Manifest:
        assert self.secret_name is not None
        return external_secret(self, "external-secret", name=self.secret_name, namespace=self.namespace,
                               labels=self.labels, data=self.secret_refs,
                               depends_on=[self.redis.secret_version] if self.redis else ())

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

    def _prometheus_rule(self) -> Manifest:
        return Manifest(self, "prometheus-rule", manifest={
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {"name": self.name, "namespace": self.namespace,
                         "labels": {**self.labels, **self.scrape_labels}},
            "spec": {"groups": [{"name": f"{self.name}.rules", "rules": self.alert_rules}]},
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

    # -- the capability contract ----------------------------------------------------------------

    def needs(self) -> list[Need]:
        """What each feature of this service needs the platform to have installed."""
        found: list[Need] = []
        if self.autoscaling:
            found.append(Need("autoscaling", self.autoscaling, Capability.METRICS_API,
                              fix="install MetricsServer in the platform, or use fixed replicas"))
        if self.ingress_host:
            host = self.ingress_host
            found += [
                Need("ingress_host", host, Capability.INGRESS_CLASS, self.ingress_class,
                     what=f"an ingress controller for class {self.ingress_class!r}",
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
            namespace = self.namespace_name
            found.append(Need(
                "secrets" if self.secrets else "redis",
                dict(self.secrets) if self.secrets else self.redis.node.path if self.redis else None,
                Capability.SECRET_STORE, SECRET_STORE,
                what=f"the ClusterSecretStore {SECRET_STORE!r}, serving namespace {namespace or self.namespace!r}",
                accepts=lambda offer: offer.name == SECRET_STORE and (
                    namespace is None or namespace in offer.scope.get("namespaces", (namespace,))),
                fix="create that store in the platform, or list the namespace in its conditions"))
        if self.service_monitor or self.prometheus_rule:
            labels = dict(self.scrape_labels)
            found.append(Need(
                "scrape_labels", labels, Capability.PROMETHEUS,
                what="a Prometheus that selects its ServiceMonitor and PrometheusRule",
                accepts=lambda offer: all(labels.get(k) == v for k, v in offer.scope.get("labels", {}).items()),
                fix="carry the labels the environment's Prometheus selects (constructs_lib.SCRAPE_LABELS is the "
                    "default)"))
        if self.node_group_path:
            found.append(Need("node_group", self.node_group_path, Capability.NODE_GROUP, self.node_group_path,
                              what="that node group in this environment's cluster",
                              fix="use a node group of this environment's cluster (stacks' node_groups)"))
        return found

    # -- validation ------------------------------------------------------------------------------

    def _validate(self, replica_cap: int | None, pre_stop_seconds: int,
                  workers_security_group_id: str | None) -> None:
        c = Checks(self.node.path)
        c.require(bool(DNS_LABEL.match(self.name)) and len(self.name) <= 53, "id", self.name,
                  "use lowercase letters, digits and hyphens, at most 53 characters (it names the "
                  "Deployment, Service and DNS entry)")
        c.require(not c.known(self.namespace) or (bool(DNS_LABEL.match(self.namespace)) and len(self.namespace) <= 63),
                  "namespace", self.namespace,
                  "use a DNS label: lowercase letters, digits and hyphens, at most 63 characters")
        c.require(bool(_IMAGE.match(self.image)) and not self.image.endswith(":latest"), "image", self.image,
                  "pin a tag or digest, e.g. 'registry.example.com/checkout:1.4.2' (not ':latest')")
        c.require(1 <= self.port <= 65535, "port", self.port, "use a port from 1 to 65535")
        if self.metrics:
            c.require(1 <= self.metrics.port <= 65535, "metrics.port", self.metrics.port, "use a port from 1 to 65535")
            c.require(bool(_PATH.match(self.metrics.path)), "metrics.path", self.metrics.path,
                      "use an absolute HTTP path such as '/metrics'")
            c.require(bool(re.match(r"^\d+[smh]$", self.metrics.interval)), "metrics.interval",
                      self.metrics.interval, "use a duration such as '30s' or '1m'")
        c.require(cpu_problem(self.cpu) is None, "cpu", self.cpu, cpu_problem(self.cpu) or "")
        c.require(memory_bytes(self.memory) is not None, "memory", self.memory, MEMORY_FIX)
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
        if self.jvm:
            c.require(0 < self.jvm.heap_percent <= 90, "jvm.heap_percent", self.jvm.heap_percent,
                      "use 1 to 90: metaspace, threads and direct buffers live outside the heap but inside "
                      "the memory limit")
        for name in (*self.env, *self.secrets):
            c.require(bool(_ENV_NAME.match(name)), f"env[{name!r}]" if name in self.env else f"secrets[{name!r}]",
                      name, "use letters, digits and '_', not starting with a digit")
        for name in sorted(set(self.env) & set(self.secrets)):
            c.require(False, f"secrets[{name!r}]", name, "is also in env; set each variable in one place")
        for var, ref in self.secrets.items():
            c.require(bool(SECRET_REF.match(ref)), f"secrets[{var!r}]", ref, SECRET_REF_FIX)
        for label in (self.probes.readiness_path, self.probes.liveness_path):
            c.require(bool(_PATH.match(label)), "probes", label, "use an absolute HTTP path such as '/readyz'")
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
        c.done()


def _within(host: str, domain: str) -> bool:
    """``shop.staging.example.com`` is within ``staging.example.com`` (and ``staging.example.com`` itself)."""
    return host == domain or host.endswith("." + domain)


def _image_version(image: str) -> str:
    """The tag (or the digest's first 12 hex) as a label value."""
    if "@sha256:" in image:
        return image.rsplit("@sha256:", 1)[1][:12]
    return image.rsplit(":", 1)[-1][:63]


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
