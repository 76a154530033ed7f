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
