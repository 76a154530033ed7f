"""Production: three availability zones, on-demand for serving, stateful resources protected."""

from constructs_lib import rules
from constructs_lib.node_group import CapacityType, Taint, TaintEffect

from .config import Cluster, DeveloperAccess, Dns, Environment, Limits, Network, NodePool, StateBackend, Subnet

PRODUCTION = Environment(
    name="production",
    account_id="345678901234",
    region="eu-west-1",
    network=Network(
        vpc_id="vpc-0f9e8d7c6b5a40312",
        private_subnets=[
            Subnet(id="subnet-0c33beef00000a001", availability_zone="eu-west-1a"),
            Subnet(id="subnet-0d44beef00000b002", availability_zone="eu-west-1b"),
            Subnet(id="subnet-0e55beef00000c003", availability_zone="eu-west-1c"),
        ],
        public_subnets=[
            Subnet(id="subnet-0f66beef00000a011", availability_zone="eu-west-1a"),
            Subnet(id="subnet-0a77beef00000b012", availability_zone="eu-west-1b"),
            Subnet(id="subnet-0b88beef00000c013", availability_zone="eu-west-1c"),
        ],
    ),
    cluster=Cluster(
        name="shop-production",
        kubernetes_version="1.33",
        public_access_cidrs=["198.51.100.0/24"],  # office VPN egress
        admin_role_arns=[
            "arn:aws:iam::345678901234:role/platform-admin",
            "arn:aws:iam::345678901234:role/github-actions-deploy",
        ],
        developer_role_arns=["arn:aws:iam::345678901234:role/product-developer"],
        developer_access=DeveloperAccess.VIEW,  # view and logs
        node_pools=[
            NodePool(
                name="general",
                instance_types=["m7i.xlarge", "m6i.xlarge"],
                min_size=3,
                max_size=12,
                disk_size_gib=100,
            ),
            NodePool(
                name="batch",
                instance_types=["m7i.xlarge", "m6i.xlarge", "m5.xlarge", "m6a.xlarge"],
                capacity_type=CapacityType.SPOT,
                min_size=0,
                max_size=10,
                disk_size_gib=100,
                labels={"workload": "batch"},
                taints=[Taint(key="workload", value="batch", effect=TaintEffect.NO_SCHEDULE)],
            ),
        ],
    ),
    limits=Limits(max_replicas_per_service=20, max_nodes_per_group=15),
    state=StateBackend(bucket="acme-shop-tfstate-production-345678901234", lock_table="acme-shop-tflock-production"),
    domain="acme-shop.example",
    tags={"team": "platform", "cost-center": "cc-4100"},
    protect_stateful=True,
    rules=[rules.BASELINE, rules.PRODUCTION],
    dns=Dns(hosted_zone_id="Z07921461PRDEXAMPLE2P", acme_email="platform-team@acme-shop.example"),
    alerts_topic_arn="arn:aws:sns:eu-west-1:345678901234:platform-alerts",
)
