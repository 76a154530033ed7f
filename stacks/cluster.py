"""The cluster stack: the EKS cluster, its node groups and their IAM. AWS provider only."""

from __future__ import annotations

from constructs import Construct

from constructs_lib import EksCluster, EksNodeGroup
from environments import Environment

from .base import SERVICES_NAMESPACE, RemoteStateStack, default_tags


class ClusterStack(RemoteStateStack):
    """``<env>-cluster``: applied first; everything in-cluster depends on it.

    The cluster and one managed node group per node pool of the environment;
    every group is capped by the environment's ``limits.max_nodes_per_group``.
    """

    layer = "cluster"

    def __init__(self, scope: Construct, env: Environment) -> None:
        super().__init__(scope, env)
        self.cluster = EksCluster(
            self, "eks",
            name=env.cluster.name,
            kubernetes_version=env.cluster.kubernetes_version,
            subnet_ids=env.network.subnet_ids,
            public_access_cidrs=env.cluster.public_access_cidrs,
            admin_role_arns=env.cluster.admin_role_arns,
            developer_role_arns=env.cluster.developer_role_arns,
            developer_namespaces=[SERVICES_NAMESPACE] if env.cluster.developer_role_arns else [],
            developer_access=env.cluster.developer_access,
            deletion_protection=env.protect_stateful,
        )
        self.node_groups: dict[str, EksNodeGroup] = {
            pool.name: self.cluster.add_node_group(
                pool.name,
                subnet_ids=env.network.subnet_ids,
                instance_types=pool.instance_types,
                min_size=pool.min_size,
                max_size=pool.max_size,
                desired_size=pool.desired_size,
                capacity_type=pool.capacity_type,
                ami_type=pool.ami_type,
                disk_size_gib=pool.disk_size_gib,
                labels=pool.labels,
                taints=pool.taints,
                tags=default_tags(env),
            )
            for pool in env.cluster.node_pools
        }
