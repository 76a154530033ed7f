"""What product developers may do in the cluster: see and run what runs their service, and no more.

The talk this platform follows: developers must be able to see their service
(describe it, read its logs) and, where it is safe, reach it (port-forward),
without asking an ops person; every change still goes through a pull request.
EKS access entries give the view (``EksCluster(developer_role_arns=...)``,
namespace-scoped ``AmazonEKSViewPolicy``, which is Kubernetes' ``view`` role:
every object but Secrets, and pod logs); port-forward is a Role of its own,
bound to the group the access entries carry.
"""

from __future__ import annotations

from enum import StrEnum

from cdktf_cdktf_provider_kubernetes.role_binding_v1 import (
    RoleBindingV1,
    RoleBindingV1Metadata,
    RoleBindingV1RoleRef,
    RoleBindingV1Subject,
)
from cdktf_cdktf_provider_kubernetes.role_v1 import RoleV1, RoleV1Metadata, RoleV1Rule
from constructs import Construct

__all__ = ["DEVELOPERS_GROUP", "DeveloperAccess", "developer_port_forward"]

#: The Kubernetes group developers' access entries carry; RBAC beyond the view policy binds to it.
DEVELOPERS_GROUP = "platform:developers"


class DeveloperAccess(StrEnum):
    """What developers may do in their services' namespaces.

    ``VIEW``: read every object but Secrets, and read logs. ``DEBUG``: that, plus
    ``kubectl port-forward`` to a pod. Neither can change, exec into or delete anything.
    """

    VIEW = "view"
    DEBUG = "debug"


def developer_port_forward(scope: Construct, id: str, *, namespace: str,
                           group: str = DEVELOPERS_GROUP) -> RoleBindingV1:
    """A Role that lets ``group`` port-forward to pods of ``namespace`` (nothing else), bound; returns the binding.

    Port-forward needs ``get`` on the pod and ``create`` on ``pods/portforward``; exec
    (``pods/exec``) and attach stay out: they run commands in production data's reach.
    """
    role = RoleV1(scope, f"{id}-port-forward", metadata=RoleV1Metadata(name="developers-port-forward",
                                                                         namespace=namespace),
                  rule=[RoleV1Rule(api_groups=[""], resources=["pods"], verbs=["get", "list"]),
                        RoleV1Rule(api_groups=[""], resources=["pods/portforward"], verbs=["create"])])
    return RoleBindingV1(
        scope, f"{id}-port-forward-binding",
        metadata=RoleBindingV1Metadata(name="developers-port-forward", namespace=namespace),
        role_ref=RoleBindingV1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name=role.metadata.name),
        subject=[RoleBindingV1Subject(kind="Group", name=group, api_group="rbac.authorization.k8s.io")])
