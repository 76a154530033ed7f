"""CKV_PLAT_7: kubernetes_manifest holds custom resources, in a namespace of their own."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from policy.checks._hcl import block, scalar, verdict

REASON = ("checkov's Kubernetes checks (security context, probes, RBAC...) read the typed resources "
          "(kubernetes_deployment_v1...); the same object written as kubernetes_manifest is checked by none of "
          "them. A namespaced object without a namespace lands in default, outside every quota and policy.")

#: Kinds of the built-in API groups that have a typed provider resource.
TYPED = {
    "Pod": "kubernetes_pod_v1", "Deployment": "kubernetes_deployment_v1",
    "StatefulSet": "kubernetes_stateful_set_v1", "DaemonSet": "kubernetes_daemon_set_v1",
    "ReplicationController": "kubernetes_replication_controller_v1", "Job": "kubernetes_job_v1",
    "CronJob": "kubernetes_cron_job_v1", "Role": "kubernetes_role_v1", "ClusterRole": "kubernetes_cluster_role_v1",
    "RoleBinding": "kubernetes_role_binding_v1", "ClusterRoleBinding": "kubernetes_cluster_role_binding_v1",
    "ServiceAccount": "kubernetes_service_account_v1", "Secret": "kubernetes_secret_v1",
    "ConfigMap": "kubernetes_config_map_v1", "Service": "kubernetes_service_v1", "Ingress": "kubernetes_ingress_v1",
    "NetworkPolicy": "kubernetes_network_policy_v1", "Namespace": "kubernetes_namespace_v1",
}
_BUILT_IN_GROUPS = ("v1", "apps/", "batch/", "rbac.authorization.k8s.io/", "networking.k8s.io/")

#: Cluster-scoped kinds (every other kind must name its namespace).
CLUSTER_SCOPED = frozenset({
    "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "StorageClass", "IngressClass",
    "PriorityClass", "PersistentVolume", "RuntimeClass", "APIService", "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    "ClusterSecretStore", "ClusterExternalSecret", "ClusterGenerator", "ClusterIssuer", "ClusterPolicy",
})


class KubernetesManifest(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(name="kubernetes_manifest holds custom resources, each in a namespace of its own",
                         id="CKV_PLAT_7", categories=[CheckCategories.KUBERNETES],
                         supported_resources=["kubernetes_manifest"], guideline=REASON)

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        manifest = block(conf, "manifest")
        kind, api_version = scalar(manifest, "kind"), str(scalar(manifest, "apiVersion") or "")
        if not kind:
            return verdict(self.details, ["the manifest has no kind"])
        problems = []
        if kind in TYPED and api_version.startswith(_BUILT_IN_GROUPS):
            problems.append(f"a {kind} written as kubernetes_manifest escapes checkov's checks for {TYPED[kind]}; "
                            f"use {TYPED[kind]}")
        namespace = scalar(block(manifest, "metadata"), "namespace")
        if kind not in CLUSTER_SCOPED and namespace in (None, "", "default"):
            problems.append(f"the {kind} lands in the default namespace; set metadata.namespace "
                            "(a cluster-scoped kind belongs in CLUSTER_SCOPED in policy/checks/kubernetes_manifest.py)")
        return verdict(self.details, problems)


check = KubernetesManifest()
