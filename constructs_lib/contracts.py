"""Names the platform's parts agree on. Changing one changes both sides, visibly in snapshots."""

from __future__ import annotations

from types import MappingProxyType

#: Labels a ServiceMonitor or PrometheusRule carries so that the platform's Prometheus selects it,
#: in any namespace. PrometheusStack selects exactly these; Microservice puts them on.
SCRAPE_LABELS = MappingProxyType({"platform.acme-shop.io/monitoring": "prometheus"})

#: The ClusterSecretStore (External Secrets operator, AWS Secrets Manager) services read secrets through.
SECRET_STORE = "aws-secrets-manager"

#: Labels of a ConfigMap that holds Grafana dashboards (JSON files as keys); Grafana loads them from any namespace.
DASHBOARD_LABELS = MappingProxyType({"grafana_dashboard": "1"})

#: The IngressClass services' Ingresses name; the platform's ingress controller provides it.
INGRESS_CLASS = "nginx"

#: The cert-manager ClusterIssuer that signs services' TLS certificates (an Ingress names it in the
#: ``cert-manager.io/cluster-issuer`` annotation; cert-manager then writes the Ingress's TLS Secret).
CLUSTER_ISSUER = "letsencrypt"

#: Where the platform's ingress controller runs, and the labels of its pods (the nginx-ingress chart's
#: selector labels for release ``nginx-ingress``): a workload's NetworkPolicy admits exactly these pods.
INGRESS_NAMESPACE = "nginx-ingress"
INGRESS_POD_LABELS = MappingProxyType({"app.kubernetes.io/name": "nginx-ingress",
                                       "app.kubernetes.io/instance": "nginx-ingress"})

#: Where Prometheus runs, and the labels of its pods: kube-prometheus-stack 82.6.0 (release
#: ``kube-prometheus-stack``) names its Prometheus ``kube-prometheus-stack-prometheus``, and the operator
#: (v0.89, ``makeSelectorLabels``) labels that Prometheus' pods with these. A workload's NetworkPolicy
#: admits exactly these pods on its metrics port.
PROMETHEUS_NAMESPACE = "monitoring"
PROMETHEUS_POD_LABELS = MappingProxyType({"app.kubernetes.io/name": "prometheus",
                                          "operator.prometheus.io/name": "kube-prometheus-stack-prometheus"})

#: The label Kubernetes (1.22+) puts on every namespace: its name. NetworkPolicies select namespaces by it.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
