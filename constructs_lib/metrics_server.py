"""metrics-server: the resource metrics API (``metrics.k8s.io``) every HorizontalPodAutoscaler reads.

Without it an HPA has nothing to compare with its target and never scales.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_helm.release import Release
from constructs import Construct

from ._addons import BUDGET, compute, zone_spread
from ._helm import CHART_VERSION, CHART_VERSION_FIX, ActiveActive, HelmComponent, Key, Workload, declare, helm_values
from .capabilities import Capability, Offer
from .validation import DNS_LABEL, Checks, checked_props

__all__ = ["METRICS_SERVER", "METRICS_SERVER_CHART_VERSION", "MetricsServer"]

#: metrics-server chart (kubernetes-sigs.github.io/metrics-server); serves metrics-server 0.8.1.
METRICS_SERVER_CHART_VERSION = "3.13.1"
_RELEASE = "metrics-server"

#: What the chart runs (read from its templates, tag metrics-server-helm-chart-3.13.1): one Deployment,
#: ``replicas`` (default 1), its budget behind ``podDisruptionBudget.enabled`` (default false).
METRICS_SERVER = declare(HelmComponent(
    chart="metrics-server", repository="https://kubernetes-sigs.github.io/metrics-server/", read_from="3.13.1",
    workloads=(
        Workload(name="metrics-server", replicas=Key("replicas", 1), pdb=Key("podDisruptionBudget.enabled", False),
                 coordination=ActiveActive(
                     "each replica scrapes every kubelet itself and serves the Metrics API from its own memory; "
                     "the API server's aggregation layer sends each request to any one replica, and no replica "
                     "writes anything (upstream's high-availability manifest runs two the same way)")),
    ),
))


@checked_props
class MetricsServer(Construct):
    """metrics-server, replicated across zones, so that autoscaling keeps working through a zone's loss.

    Runs in ``kube-system`` (it exists from the start, and the chart's priority class,
    ``system-cluster-critical``, belongs with it). Two replicas by default, spread over zones,
    with a PodDisruptionBudget (``maxUnavailable: 1``); both serve (``METRICS_SERVER`` says why
    that is safe). The API server reaches it on 10250, which the EKS cluster security group
    already opens to the nodes. Its serving certificate is self-signed, as upstream ships it.

    No AWS permissions: it reads only the kubelets.

    :param replicas: default 2.
    :param namespace: default ``kube-system``.
    :param chart_version: the metrics-server chart, pinned; default ``METRICS_SERVER_CHART_VERSION``.
    :param depends_on: what the release waits for; default nothing.
    """

    def __init__(self, scope: Construct, id: str, *, replicas: int = 2, namespace: str = "kube-system",
                 chart_version: str = METRICS_SERVER_CHART_VERSION,
                 depends_on: Sequence[ITerraformDependable] = ()) -> None:
        super().__init__(scope, id)
        c = Checks(self.node.path)
        c.require(replicas >= 1, "replicas", replicas, "use 1 or more (2 keeps autoscaling through a zone's loss)")
        c.require(bool(DNS_LABEL.match(namespace)), "namespace", namespace, "use a DNS label")
        c.require(bool(CHART_VERSION.match(chart_version)), "chart_version", chart_version, CHART_VERSION_FIX)
        c.done()
        self.namespace = namespace
        self.replicas = replicas
        self.values = {
            "replicas": replicas,
            "podDisruptionBudget": dict(BUDGET),
            "topologySpreadConstraints": zone_spread(
                {"app.kubernetes.io/name": "metrics-server", "app.kubernetes.io/instance": _RELEASE}, replicas),
            # The chart's request (upstream's sizing for up to 100 nodes), and a limit.
            "resources": compute("100m", "200Mi", "400Mi"),
        }
        self.release = Release(
            self, "release", name=_RELEASE, namespace=namespace,
            repository=METRICS_SERVER.repository, chart=METRICS_SERVER.chart, version=chart_version,
            atomic=True, cleanup_on_fail=True, timeout=600, max_history=5,
            values=[helm_values(self.values)], depends_on=list(depends_on) or None)

    def offers(self) -> list[Offer]:
        """The resource metrics API, which HorizontalPodAutoscalers read CPU from."""
        return [Offer(Capability.METRICS_API, "", self.node.path)]
