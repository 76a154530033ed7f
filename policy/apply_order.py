"""Apply order, proven offline: everything a resource refers to exists no later than the resource.

A first apply of an environment must not hang on a missing object: a pod
mounting a Secret nobody made yet, a volume claim on a StorageClass that does
not exist, an Ingress of a class no controller serves, a custom resource whose
CRD comes in a later stack. This check walks each environment's synthesized
stacks in the order they are applied (``manifest.json``'s dependencies) with a
model of what exists after each one:

- before the first: what a new EKS cluster has (its namespaces, the ``gp2``
  StorageClass, every namespace's ``default`` ServiceAccount, the API's own kinds
  and the CRDs its add-ons install);
- each stack then adds what it creates: namespaces, Secrets (and what an
  ExternalSecret or a certificate issuer writes), ConfigMaps, ServiceAccounts,
  StorageClasses, NetworkPolicies, workloads, custom resources, and what each
  Helm release installs (its chart's declaration in ``constructs_lib._helm``:
  CRDs, an IngressClass).

A pod spec, wherever it sits (a Deployment's template, a Job's, a CronJob's job
template), needs its ServiceAccount, the Secrets and ConfigMaps it mounts or
reads variables from (``env``, ``env_from``), in its namespace.

A reference to something made in an earlier stack, or at the start, holds. One
to something made in the same stack holds only when the referring resource
depends on the maker (``depends_on`` or a reference to one of its attributes),
so that Terraform creates it first. Anything else is a problem that names the
stack, the resource, the object and where (or that nowhere) it is made. Helm
values are read through the same declarations, so that a storage class or a
Secret named inside a release's values is checked too.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from constructs_lib._helm import PLATFORM_COMPONENTS, ObjectRef

__all__ = ["INITIAL", "Problem", "Report", "check"]

_CRD = "CustomResourceDefinition"
#: API groups the Kubernetes API serves without a CRD.
_BUILTIN_GROUPS = frozenset({
    "", "apps", "batch", "autoscaling", "policy", "networking.k8s.io", "rbac.authorization.k8s.io",
    "storage.k8s.io", "apiextensions.k8s.io", "admissionregistration.k8s.io", "coordination.k8s.io",
    "scheduling.k8s.io", "node.k8s.io", "discovery.k8s.io", "certificates.k8s.io", "events.k8s.io",
})
_SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")

#: What a new EKS cluster (1.33, with the add-ons ``EksCluster`` pins) has before any stack of ours runs.
INITIAL: frozenset[ObjectRef] = frozenset({
    *(ObjectRef("Namespace", ns) for ns in _SYSTEM_NAMESPACES),
    # EKS still creates the gp2 class (no longer the default one since 1.30).
    ObjectRef("StorageClass", "gp2"),
    # The VPC CNI's CRDs.
    ObjectRef(_CRD, "crd.k8s.amazonaws.com/ENIConfig"), ObjectRef(_CRD, "networking.k8s.aws/PolicyEndpoint"),
})

_INTERPOLATION = re.compile(r"\$\{([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)")
_NAME_OF = re.compile(r"^\$\{([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)\.metadata\[0\]\.name\}$")


@dataclass(frozen=True)
class Problem:
    """One reference that would not hold on a first apply."""

    stack: str
    resource: str  # construct path, or the address where the construct path is unknown
    needs: ObjectRef
    why: str

    def render(self) -> str:
        return f"{self.stack}: {self.resource} needs {self.needs}, {self.why}"


@dataclass
class Report:
    """The check's result: every problem, and how many references it proved."""

    problems: list[Problem] = field(default_factory=list)
    references: int = 0
    stacks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Resource:
    address: str
    path: str
    body: dict[str, Any]
    creates: list[ObjectRef] = field(default_factory=list)
    needs: list[ObjectRef] = field(default_factory=list)


def check(synth_dir: Path) -> Report:
    """Walk every environment's stacks under ``synth_dir`` in apply order; report what would not exist in time."""
    manifest = json.loads((synth_dir / "manifest.json").read_text())
    graph = {name: list(stack.get("dependencies", [])) for name, stack in manifest["stacks"].items()}
    report = Report()
    for environment in _environments(graph):
        existing: dict[ObjectRef, str] = {obj: "the new cluster" for obj in INITIAL}
        for stack in environment:
            body = json.loads((synth_dir / "stacks" / stack / "cdk.tf.json").read_text())
            resources = _resources(body)
            if not any(address.startswith(("kubernetes_", "helm_")) for address in resources):
                continue
            report.stacks.append(stack)
            for resource in resources.values():
                _model(resource, resources)
            _check_stack(stack, resources, existing, report)
            for resource in resources.values():
                for obj in resource.creates:
                    existing.setdefault(obj, f"{stack} ({resource.path})")
    return report


def _environments(graph: Mapping[str, list[str]]) -> Iterator[list[str]]:
    """Each connected group of stacks, in apply order (dependencies first, ties by name)."""
    seen: set[str] = set()
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for dependency in sorted(graph[name]):
            visit(dependency)
        ordered.append(name)

    for name in sorted(graph):
        visit(name)
    groups: dict[str, list[str]] = defaultdict(list)
    for name in ordered:
        groups[name.rsplit("-", 1)[0]].append(name)
    yield from groups.values()


def _resources(stack: dict[str, Any]) -> dict[str, _Resource]:
    return {f"{type_}.{name}": _Resource(f"{type_}.{name}", body.get("//", {}).get("metadata", {}).get("path", ""),
                                         body)
            for type_, named in stack.get("resource", {}).items() for name, body in named.items()}


def _check_stack(stack: str, resources: dict[str, _Resource], existing: Mapping[ObjectRef, str],
                 report: Report) -> None:
    made_here: dict[ObjectRef, list[str]] = defaultdict(list)
    for resource in resources.values():
        for obj in resource.creates:
            made_here[obj].append(resource.address)
    for resource in resources.values():
        before = _dependencies(resource.address, resources)
        for obj in dict.fromkeys(resource.needs):
            report.references += 1
            if obj in existing or (obj.kind == "ServiceAccount" and obj.name == "default"
                                   and ObjectRef("Namespace", obj.namespace or "") in existing):
                continue
            makers = made_here.get(obj, [])
            if obj.kind == "ServiceAccount" and obj.name == "default":
                makers = made_here.get(ObjectRef("Namespace", obj.namespace or ""), [])
            if any(maker in before for maker in makers) or resource.address in makers:
                continue
            where = resource.path or resource.address
            if makers:
                why = (f"which {', '.join(makers)} in the same stack makes, but nothing orders it first: add "
                       "depends_on, or refer to its attributes")
            else:
                why = "which no earlier stack makes" + _made_later(obj)
            report.problems.append(Problem(stack, where, obj, why))


def _made_later(obj: ObjectRef) -> str:
    return {"StorageClass": " (EKS creates only gp2)", _CRD: " (install its operator in an earlier stack)"}.get(
        obj.kind, "")


def _dependencies(address: str, resources: Mapping[str, _Resource]) -> set[str]:
    """Every resource ``address`` waits for in its stack, directly or through others."""
    found: set[str] = set()
    pending = [address]
    while pending:
        for dependency in _direct(resources[pending.pop()], resources):
            if dependency not in found:
                found.add(dependency)
                pending.append(dependency)
    return found


def _direct(resource: _Resource, resources: Mapping[str, _Resource]) -> set[str]:
    text = json.dumps({k: v for k, v in resource.body.items() if k != "//"})
    found = {f"{t}.{n}" for t, n in _INTERPOLATION.findall(text) if t not in ("data", "var", "local")}
    found |= set(resource.body.get("depends_on", []))
    return {a for a in found if a in resources and a != resource.address}


# -- what each kind of resource makes and needs --------------------------------------------------------------

def _model(resource: _Resource, resources: Mapping[str, _Resource]) -> None:
    type_ = resource.address.split(".", 1)[0]
    body = resource.body
    name_of = _namer(resources)
    if type_ == "kubernetes_manifest":
        _manifest(resource, body["manifest"], name_of)
        return
    if type_ == "helm_release":
        _release(resource, name_of)
        return
    if not type_.startswith("kubernetes_"):
        return
    meta = body.get("metadata") or {}
    if isinstance(meta, list):
        meta = meta[0] if meta else {}
    name, namespace = name_of(meta.get("name")), name_of(meta.get("namespace"))
    kind = _KINDS.get(type_)
    if kind == "Namespace":
        if name:
            resource.creates.append(ObjectRef("Namespace", name))
        return
    if namespace is not None:
        resource.needs.append(ObjectRef("Namespace", namespace))
    if kind and name:
        resource.creates.append(ObjectRef(kind, name, None if kind in _CLUSTER_SCOPED else namespace))
    spec = body.get("spec") or {}
    if type_ in ("kubernetes_deployment_v1", "kubernetes_stateful_set_v1", "kubernetes_cron_job_v1",
                 "kubernetes_job_v1", "kubernetes_daemon_set_v1"):
        for pod in _pod_specs(spec):
            resource.needs += _pod_needs(pod, namespace or "default", name_of)
    elif type_ == "kubernetes_ingress_v1":
        issuer = (meta.get("annotations") or {}).get("cert-manager.io/cluster-issuer")
        if spec.get("ingress_class_name"):
            resource.needs.append(ObjectRef("IngressClass", spec["ingress_class_name"]))
        if issuer:
            resource.needs.append(ObjectRef("ClusterIssuer", issuer))
        for tls in spec.get("tls", []) or []:
            secret = ObjectRef("Secret", tls.get("secret_name", ""), namespace)
            # cert-manager writes the Secret an Ingress with an issuer asks for; without one it must exist.
            (resource.creates if issuer else resource.needs).append(secret)
    elif type_ == "kubernetes_annotations":
        # Annotating an object that must already be there (e.g. the gp2 StorageClass EKS makes).
        resource.needs.append(ObjectRef(body.get("kind", ""), name or "", namespace))
    elif type_ == "kubernetes_role_binding_v1":
        for ref in body.get("role_ref", []) if isinstance(body.get("role_ref"), list) else [body.get("role_ref")]:
            if ref and ref.get("kind") == "Role":
                resource.needs.append(ObjectRef("Role", name_of(ref["name"]) or "", namespace))


_KINDS = {
    "kubernetes_namespace_v1": "Namespace", "kubernetes_secret_v1": "Secret",
    "kubernetes_config_map_v1": "ConfigMap", "kubernetes_service_account_v1": "ServiceAccount",
    "kubernetes_storage_class_v1": "StorageClass", "kubernetes_ingress_class_v1": "IngressClass",
    "kubernetes_role_v1": "Role", "kubernetes_cluster_role_v1": "ClusterRole",
    "kubernetes_network_policy_v1": "NetworkPolicy", "kubernetes_deployment_v1": "Deployment",
    "kubernetes_cron_job_v1": "CronJob", "kubernetes_job_v1": "Job",
}
_CLUSTER_SCOPED = frozenset({"StorageClass", "IngressClass", "ClusterRole", "ClusterIssuer", "ClusterSecretStore",
                             "ClusterGenerator", _CRD, "Namespace"})


def _namer(resources: Mapping[str, _Resource]) -> Callable[[Any], str | None]:
    """Resolve ``${<type>.<name>.metadata[0].name}`` to the literal name that resource gives."""
    def name_of(value: Any) -> str | None:
        if not isinstance(value, str):
            return None
        match = _NAME_OF.match(value)
        if not match:
            return value
        target = resources.get(f"{match[1]}.{match[2]}")
        meta = (target.body.get("metadata") or {}) if target else {}
        if isinstance(meta, list):
            meta = meta[0] if meta else {}
        return meta.get("name") if isinstance(meta.get("name"), str) else value
    return name_of


def _pod_specs(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The pod specs inside a workload's spec (deployment, job, or a cron job's job template)."""
    template = spec.get("template") or {}
    if isinstance(template, list):
        template = template[0] if template else {}
    if "spec" in template:
        pod = template["spec"]
        yield pod[0] if isinstance(pod, list) else pod
    job = spec.get("job_template") or {}
    if isinstance(job, list):
        job = job[0] if job else {}
    if job:
        yield from _pod_specs(job.get("spec") or {})


def _pod_needs(pod: Mapping[str, Any], namespace: str, name_of: Any) -> list[ObjectRef]:
    needs = [ObjectRef("ServiceAccount", pod.get("service_account_name") or "default", namespace)]
    for volume in pod.get("volume", []) or []:
        if volume.get("secret"):
            needs.append(ObjectRef("Secret", name_of(volume["secret"].get("secret_name")) or "", namespace))
        if volume.get("config_map"):
            needs.append(ObjectRef("ConfigMap", name_of(volume["config_map"].get("name")) or "", namespace))
    for container in [*(pod.get("container") or []), *(pod.get("init_container") or [])]:
        for source in container.get("env_from", []) or []:
            if source.get("secret_ref"):
                needs.append(ObjectRef("Secret", name_of(source["secret_ref"].get("name")) or "", namespace))
            if source.get("config_map_ref"):
                needs.append(ObjectRef("ConfigMap", name_of(source["config_map_ref"].get("name")) or "", namespace))
        for env in container.get("env", []) or []:
            source = env.get("value_from") or {}
            if source.get("secret_key_ref"):
                needs.append(ObjectRef("Secret", name_of(source["secret_key_ref"].get("name")) or "", namespace))
            if source.get("config_map_key_ref"):
                needs.append(ObjectRef("ConfigMap", name_of(source["config_map_key_ref"].get("name")) or "",
                                       namespace))
    return needs


def _manifest(resource: _Resource, manifest: Mapping[str, Any], name_of: Any) -> None:
    api_version, kind = str(manifest.get("apiVersion", "")), str(manifest.get("kind", ""))
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    meta = manifest.get("metadata") or {}
    name, namespace = name_of(meta.get("name")) or "", name_of(meta.get("namespace"))
    if group not in _BUILTIN_GROUPS:
        resource.needs.append(ObjectRef(_CRD, f"{group}/{kind}"))
    if namespace:
        resource.needs.append(ObjectRef("Namespace", namespace))
    resource.creates.append(ObjectRef(kind, name, None if kind in _CLUSTER_SCOPED else namespace))
    spec = manifest.get("spec") or {}
    if kind == "ExternalSecret":
        store = spec.get("secretStoreRef") or {}
        if store:
            resource.needs.append(ObjectRef(store.get("kind", "SecretStore"), store.get("name", ""),
                                            None if store.get("kind") == "ClusterSecretStore" else namespace))
        for source in spec.get("dataFrom", []) or []:
            generator = (source.get("sourceRef") or {}).get("generatorRef")
            if generator:
                resource.needs.append(ObjectRef(generator["kind"], generator["name"],
                                                None if generator["kind"] == "ClusterGenerator" else namespace))
        target = (spec.get("target") or {}).get("name") or name
        resource.creates.append(ObjectRef("Secret", target, namespace))


def _release(resource: _Resource, name_of: Any) -> None:
    body = resource.body
    namespace = name_of(body.get("namespace")) or "default"
    if not body.get("create_namespace"):
        resource.needs.append(ObjectRef("Namespace", namespace))
    declaration = PLATFORM_COMPONENTS.get(body.get("chart", ""))
    if declaration is None:
        return
    values: dict[str, Any] = {}
    for document in body.get("values", []) or []:
        try:
            parsed = json.loads(document)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            values = _merge(values, parsed)
    resource.creates += declaration.created(values, namespace)
    resource.needs += declaration.referenced(values, namespace)


def _merge(base: dict[str, Any], more: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in more.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, Mapping) and isinstance(
            merged.get(key), dict) else value
    return merged


