"""Staging: production's shape at a smaller size, on spot capacity where it can be."""

from constructs_lib.node_group import CapacityType, Taint, TaintEffect

from .config import Cluster, DeveloperAccess, Dns, Environment, Limits, Network, NodePool, StateBackend, Subnet

STAGING = Environment(
    name="staging",
    account_id="210987654321",
    region="eu-west-1",
    network=Network(
        vpc_id="vpc-0a1b2c3d4e5f60718",
        private_subnets=[
            Subnet(id="subnet-0a11c0ffee0000001", availability_zone="eu-west-1a"),
            Subnet(id="subnet-0b22c0ffee0000002", availability_zone="eu-west-1b"),
        ],
        public_subnets=[
            Subnet(id="subnet-0c11c0ffee0000011", availability_zone="eu-west-1a"),
            Subnet(id="subnet-0d22c0ffee0000012", availability_zone="eu-west-1b"),
        ],
    ),
    cluster=Cluster(
        name="shop-staging",
        kubernetes_version="1.33",
        public_access_cidrs=["198.51.100.0/24"],  # office VPN egress
        admin_role_arns=[
            "arn:aws:iam::210987654321:role/platform-admin",
            "arn:aws:iam::210987654321:role/github-actions-deploy",
        ],
        developer_role_arns=["arn:aws:iam::210987654321:role/product-developer"],
        developer_access=DeveloperAccess.DEBUG,  # view, logs and port-forward
        node_pools=[
            NodePool(
                name="general",
                instance_types=["m7i.large", "m6i.large"],
                min_size=2,
                max_size=4,
            ),
            NodePool(
                name="batch",
                instance_types=["m7i.large", "m6i.large", "m5.large"],
                capacity_type=CapacityType.SPOT,
                min_size=0,
                max_size=3,
                labels={"workload": "batch"},
                taints=[Taint(key="workload", value="batch", effect=TaintEffect.NO_SCHEDULE)],
            ),
        ],
    ),
    limits=Limits(max_replicas_per_service=4, max_nodes_per_group=6),
    state=StateBackend(bucket="acme-shop-tfstate-staging-210987654321", lock_table="acme-shop-tflock-staging"),
    domain="staging.acme-shop.example",
    tags={"team": "platform", "cost-center": "cc-4100"},
    dns=Dns(hosted_zone_id="Z04173371S8FXAMPLE1ST", acme_email="platform-team@acme-shop.example"),
    alerts_topic_arn="arn:aws:sns:eu-west-1:210987654321:platform-alerts",
)
