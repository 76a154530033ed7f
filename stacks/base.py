"""What every stack of an environment shares: naming, Terraform version, AWS provider, backend."""

from __future__ import annotations

from typing import ClassVar

from cdktf import Fn, S3Backend, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_eks_cluster import DataAwsEksCluster
from cdktf_cdktf_provider_aws.data_aws_eks_cluster_auth import DataAwsEksClusterAuth
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from cdktf_cdktf_provider_helm.provider import HelmProvider, HelmProviderKubernetes
from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider
from constructs import Construct

from constructs_lib import Guardrails
from environments import Environment

#: Terraform releases the synthesized JSON is written for. 1.10 brought S3-native
#: locking (``use_lockfile``); the pin keeps CI and laptops on one minor.
TERRAFORM_VERSION = "~> 1.11.0"

#: Tagged on every AWS resource so that anyone can find the code behind it.
REPOSITORY = "acme-shop/platform-infrastructure"

#: Where the product's services run; developers' access is scoped to it.
SERVICES_NAMESPACE = "shop"
#: Where the monitoring stack runs.
MONITORING_NAMESPACE = "monitoring"
#: The StorageClass the add-ons stack makes the default; the platform's volumes name it.
STORAGE_CLASS = "gp3"
#: The ClusterSecretStore of the platform's own namespaces, reading ``<env>/platform/`` only.
PLATFORM_SECRET_STORE = "platform-secrets"


def default_tags(env: Environment) -> dict[str, str]:
    """Tags on every AWS resource of ``env``: its own tags plus the three the platform owns."""
    return {**env.tags, "environment": env.name, "managed-by": "cdktf", "repository": REPOSITORY}


class EnvironmentStack(TerraformStack):
    """A stack of one environment, named ``<environment>-<layer>``.

    It pins the Terraform version and configures the AWS provider for the
    environment's account (``allowed_account_ids`` refuses to run against any
    other account, so staging credentials can never touch production).

    Its ``guardrails`` carry the environment's limits, conventions and rule packs
    to every construct added to it, by any file (``constructs_lib.Guardrails``).
    """

    layer: ClassVar[str]

    def __init__(self, scope: Construct, env: Environment) -> None:
        super().__init__(scope, f"{env.name}-{self.layer}")
        self.env = env
        self.guardrails = Guardrails(
            environment=env.name, rule_packs=env.rules,
            replica_cap=env.limits.max_replicas_per_service, node_cap=env.limits.max_nodes_per_group,
            secrets_prefix=env.secrets_prefix, vpc_id=env.network.vpc_id, subnet_ids=env.network.subnet_ids,
            protect_stateful=env.protect_stateful, alarm_topic_arn=env.alerts_topic_arn,
        ).attach(self)
        self.add_override("terraform.required_version", TERRAFORM_VERSION)
        self.aws = AwsProvider(
            self,
            "aws",
            region=env.region,
            allowed_account_ids=[env.account_id],
            default_tags=[AwsProviderDefaultTags(tags=default_tags(env))],
        )


class RemoteStateStack(EnvironmentStack):
    """A stack whose state lives in the environment's S3 bucket, locked.

    Each stack has its own key (``<environment>/<layer>/terraform.tfstate``).
    Locking uses both the DynamoDB table and S3-native lock files
    (``use_lockfile``): the table for Terraform before 1.10, the lock file for
    what comes after the table is deprecated.
    """

    def __init__(self, scope: Construct, env: Environment) -> None:
        super().__init__(scope, env)
        self.state_key = f"{env.name}/{self.layer}/terraform.tfstate"
        S3Backend(
            self,
            bucket=env.state.bucket,
            key=self.state_key,
            region=env.region,
            encrypt=True,
            dynamodb_table=env.state.lock_table,
        )
        # cdktf 0.21's S3Backend has no use_lockfile property yet.
        self.add_override("terraform.backend.s3.use_lockfile", True)


class KubernetesStack(RemoteStateStack):
    """A stack that manages things inside the environment's EKS cluster.

    The Kubernetes and Helm providers are configured from data sources looked
    up by cluster name, not from another stack's outputs: Terraform cannot
    reliably configure a provider from a resource created in the same run, and
    a lookup keeps the stacks independent of each other's state.
    """

    def __init__(self, scope: Construct, env: Environment) -> None:
        super().__init__(scope, env)
        cluster = DataAwsEksCluster(self, "cluster", name=env.cluster.name)
        #: The environment's EKS cluster, looked up by name.
        self.eks = cluster
        auth = DataAwsEksClusterAuth(self, "cluster-auth", name=env.cluster.name)
        endpoint = {
            "host": cluster.endpoint,
            "cluster_ca_certificate": Fn.base64decode(cluster.certificate_authority.get(0).data),
            "token": auth.token,
        }
        #: The cluster security group: EKS puts it on every managed node (our launch templates add
        #: none), so it is where pod traffic to AWS services such as ElastiCache comes from.
        self.workers_security_group_id = cluster.vpc_config.get(0).cluster_security_group_id
        self.guardrails.workers_security_group_id = self.workers_security_group_id
        self.kubernetes = KubernetesProvider(self, "kubernetes", **endpoint)
        self.helm = HelmProvider(self, "helm", kubernetes=HelmProviderKubernetes(**endpoint))
