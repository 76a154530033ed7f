"""CKV_PLAT_12: EKS access is cluster-wide only for the environment's admin roles, namespace-scoped otherwise.

Our own rule rather than a checkov check: it needs what a check on one
resource cannot see, the access entry a policy association points at
(``${aws_eks_access_entry.<name>.principal_arn}``) and the roles the
environment lists (``environments/*.py``: ``cluster.admin_role_arns``).
Its results join checkov's: same report, same suppressions, same coverage.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["CHECK_ID", "NAME", "REASON", "RESOURCE_TYPES", "Result", "check_stack", "environment_admins"]

CHECK_ID = "CKV_PLAT_12"
NAME = "EKS access is cluster-wide only for the environment's admin roles, namespace-scoped otherwise"
REASON = ("Cluster-admin reads every Secret and can change every workload; the environment lists the roles that "
          "hold it, and every other principal gets access to named namespaces only. The other roads to "
          "cluster-admin (the aws-auth ConfigMap, the cluster creator's implicit admin, system:masters) are closed "
          "so that the list is the whole truth.")
RESOURCE_TYPES = ("aws_eks_cluster", "aws_eks_access_entry", "aws_eks_access_policy_association")

_CLUSTER_ADMIN = re.compile(r"^arn:aws[a-z-]*:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy$")
_ENTRY_REFERENCE = re.compile(r"^\$\{aws_eks_access_entry\.([A-Za-z0-9_-]+)\.principal_arn\}$")
_ADMINS_FIX = "list the role in the environment's cluster.admin_role_arns (environments/*.py)"


@dataclass(frozen=True)
class Result:
    """One rule's verdict on one resource of one stack."""

    stack: str
    type: str
    name: str
    passed: bool
    details: tuple[str, ...] = ()


def _object(value: Any) -> dict[str, Any]:
    """A nested block, written by cdktf as an object (or a list of one)."""
    if isinstance(value, list):
        value = value[0] if value else {}
    return value if isinstance(value, dict) else {}


def _admins_of(stack: str, admins: Mapping[str, Collection[str]]) -> Collection[str] | None:
    """The admin roles of the environment a stack belongs to (stacks are named ``<env>-<part>``)."""
    env = max((name for name in admins if stack.startswith(f"{name}-")), key=len, default=None)
    return None if env is None else admins[env]


def check_stack(stack: str, config: dict[str, Any], admins: Mapping[str, Collection[str]]) -> Iterator[Result]:
    """CKV_PLAT_12 on every EKS cluster, access entry and access policy association of one stack."""
    resources = config.get("resource") or {}
    listed = _admins_of(stack, admins)

    for name, cluster in (resources.get("aws_eks_cluster") or {}).items():
        access = _object(cluster.get("access_config"))
        problems = []
        mode = access.get("authentication_mode", "CONFIG_MAP")
        if mode != "API":
            problems.append(f"authentication_mode {mode} lets the aws-auth ConfigMap grant cluster-admin, which no "
                            "check sees; set access_config authentication_mode API")
        if access.get("bootstrap_cluster_creator_admin_permissions", True) not in (False, "false"):
            problems.append("the cluster creator gets cluster-admin implicitly; set "
                            "bootstrap_cluster_creator_admin_permissions False and " + _ADMINS_FIX)
        yield Result(stack, "aws_eks_cluster", name, not problems, tuple(problems))

    entries = resources.get("aws_eks_access_entry") or {}
    for name, entry in entries.items():
        groups = entry.get("kubernetes_groups") or []
        problems = ["kubernetes_groups system:masters is cluster-admin that no access policy shows; associate "
                    "an access policy instead"] if "system:masters" in groups else []
        yield Result(stack, "aws_eks_access_entry", name, not problems, tuple(problems))

    for name, association in (resources.get("aws_eks_access_policy_association") or {}).items():
        principal = str(association.get("principal_arn", ""))
        reference = _ENTRY_REFERENCE.match(principal)
        if reference and reference.group(1) in entries:
            principal = str(entries[reference.group(1)].get("principal_arn", principal))
        scope = _object(association.get("access_scope"))
        scope_type = scope.get("type")
        policy = str(association.get("policy_arn", ""))
        problems = []
        if _CLUSTER_ADMIN.match(policy) or scope_type != "namespace":
            what = f"{policy.rsplit('/', 1)[-1]} at {scope_type} scope"
            if listed is None:
                problems.append(f"{what}, and no environment names stack {stack}'s admin roles; " + _ADMINS_FIX)
            elif principal not in listed:
                problems.append(f"{what} for {principal}, which is not one of the environment's admin roles; "
                                "scope it to namespaces (access_scope type namespace) or " + _ADMINS_FIX)
        elif not scope.get("namespaces"):
            problems.append("namespace scope without namespaces; list the namespaces")
        yield Result(stack, "aws_eks_access_policy_association", name, not problems, tuple(problems))


def environment_admins() -> dict[str, frozenset[str]]:
    """Every environment's cluster admin roles, from ``environments/`` (imports the constructs: ~2 s)."""
    from fastsynth import lazy_providers

    if lazy_providers.enabled():
        lazy_providers.install()
    from environments import ENVIRONMENTS

    return {name: frozenset(env.cluster.admin_role_arns) for name, env in ENVIRONMENTS.items()}
