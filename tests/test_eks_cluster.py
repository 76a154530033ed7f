"""EksCluster and the cluster stacks built from each environment's node pools."""

from __future__ import annotations

import json

import pytest

from constructs_lib import ADDON_VERSIONS, Capability, EksCluster
from environments import ENVIRONMENTS
from helpers import assert_config_error, only, resources, synth

SUBNETS = ["subnet-0a11c0ffee0000001", "subnet-0b22c0ffee0000002"]
ADMIN = "arn:aws:iam::210987654321:role/platform-admin"


def cluster(**props) -> dict:
    def build(stack):
        eks = EksCluster(stack, "eks", **{"name": "shop-staging", "kubernetes_version": "1.33",
                                          "subnet_ids": SUBNETS, "admin_role_arns": [ADMIN], **props})
        eks.add_node_group("general", subnet_ids=SUBNETS, instance_types=["m7i.large"])
    return synth(build)


@pytest.fixture(scope="module")
def eks() -> dict:
    return cluster()


def test_endpoint_is_private_unless_cidrs_are_listed(eks) -> None:
    vpc = only(eks, "aws_eks_cluster")["vpc_config"]
    assert vpc["endpoint_private_access"] is True
    assert vpc["endpoint_public_access"] is False
    assert "public_access_cidrs" not in vpc
    public = only(cluster(public_access_cidrs=["198.51.100.0/24"]), "aws_eks_cluster")["vpc_config"]
    assert public["endpoint_public_access"] is True
    assert public["public_access_cidrs"] == ["198.51.100.0/24"]


def test_secrets_are_envelope_encrypted_with_a_rotating_key(eks) -> None:
    config = only(eks, "aws_eks_cluster")["encryption_config"]
    assert config["resources"] == ["secrets"]
    (key_name,) = resources(eks, "aws_kms_key")
    assert config["provider"]["key_arn"] == f"${{aws_kms_key.{key_name}.arn}}"
    assert resources(eks, "aws_kms_key")[key_name]["enable_key_rotation"] is True


def test_every_control_plane_log_goes_to_an_encrypted_log_group(eks) -> None:
    assert only(eks, "aws_eks_cluster")["enabled_cluster_log_types"] == [
        "api", "audit", "authenticator", "controllerManager", "scheduler"]
    group = only(eks, "aws_cloudwatch_log_group")
    assert group["name"] == "/aws/eks/shop-staging/cluster"
    assert group["retention_in_days"] == 365
    assert group["kms_key_id"].startswith("${aws_kms_key.")


def test_access_entries_only_for_listed_admins(eks) -> None:
    access = only(eks, "aws_eks_cluster")["access_config"]
    assert access == {"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": False}
    assert only(eks, "aws_eks_access_entry")["principal_arn"] == ADMIN
    association = only(eks, "aws_eks_access_policy_association")
    assert association["policy_arn"].endswith("AmazonEKSClusterAdminPolicy")
    assert association["access_scope"] == {"type": "cluster"}


def test_oidc_provider_for_irsa(eks) -> None:
    provider = only(eks, "aws_iam_openid_connect_provider")
    assert provider["client_id_list"] == ["sts.amazonaws.com"]
    assert provider["url"].endswith(".identity[0].oidc[0].issuer}")
    (ebs_role,) = [r for name, r in resources(eks, "aws_iam_role").items() if "ebs-csi" in name]
    (trust_name,) = [n for n in eks["data"]["aws_iam_policy_document"] if "ebs-csi-role-trust" in n]
    assert ebs_role["assume_role_policy"] == f"${{data.aws_iam_policy_document.{trust_name}.json}}"
    (statement,) = eks["data"]["aws_iam_policy_document"][trust_name]["statement"]
    (provider_name,) = resources(eks, "aws_iam_openid_connect_provider")
    assert statement["principals"] == [{"type": "Federated",
                                        "identifiers": [f"${{aws_iam_openid_connect_provider.{provider_name}.arn}}"]}]
    conditions = {c["variable"].rsplit(":", 1)[1]: c["values"] for c in statement["condition"]}
    assert conditions == {"sub": ["system:serviceaccount:kube-system:ebs-csi-controller-sa"],
                          "aud": ["sts.amazonaws.com"]}
    assert all(c["variable"].startswith('${replace(aws_eks_cluster.') for c in statement["condition"])


def test_core_addons_are_pinned_and_wait_for_nodes(eks) -> None:
    addons = {a["addon_name"]: a for a in resources(eks, "aws_eks_addon").values()}
    assert {name: a["addon_version"] for name, a in addons.items()} == ADDON_VERSIONS["1.33"]
    (group_name,) = resources(eks, "aws_eks_node_group")
    for name in ("coredns", "aws-ebs-csi-driver"):
        assert addons[name]["depends_on"] == [f"aws_eks_node_group.{group_name}"]
    assert "depends_on" not in addons["vpc-cni"]
    assert addons["aws-ebs-csi-driver"]["service_account_role_arn"].startswith("${aws_iam_role.")


def test_the_vpc_cni_enforces_network_policies(eks) -> None:
    addons = {a["addon_name"]: a for a in resources(eks, "aws_eks_addon").values()}
    assert json.loads(addons["vpc-cni"]["configuration_values"]) == {"enableNetworkPolicy": "true"}
    assert [name for name, a in addons.items() if "configuration_values" in a] == ["vpc-cni"]


def test_network_policy_is_offered_exactly_when_the_agent_is_on() -> None:
    found = {}

    def build(stack, **props) -> None:
        found[bool(props)] = EksCluster(stack, "eks", name="shop-staging", kubernetes_version="1.33",
                                        subnet_ids=SUBNETS, **props)

    on, off = synth(build), synth(lambda s: build(s, network_policy=False))
    assert [(o.capability, o.name) for o in found[False].offers()] == [(Capability.NETWORK_POLICY, "vpc-cni")]
    assert found[True].offers() == []
    (cni_on,) = [a for a in resources(on, "aws_eks_addon").values() if a["addon_name"] == "vpc-cni"]
    (cni_off,) = [a for a in resources(off, "aws_eks_addon").values() if a["addon_name"] == "vpc-cni"]
    assert "configuration_values" in cni_on and "configuration_values" not in cni_off


BAD_INPUT = {
    "version without pinned add-ons": (
        dict(kubernetes_version="1.40"),
        r"kubernetes_version = '1.40': no pinned add-on versions for it \(pinned: 1.32, 1.33\)"),
    "API open to the internet": (
        dict(public_access_cidrs=["0.0.0.0/0"]), r"public_access_cidrs\[0\] = '0.0.0.0/0': never open the API"),
    "admin that is not a role ARN": (
        dict(admin_role_arns=["platform-admin"]), r"admin_role_arns\[0\] = 'platform-admin': use an IAM role ARN"),
    "one subnet": (dict(subnet_ids=SUBNETS[:1]), r"subnet_ids = .*: EKS needs subnets in at least two"),
    "retention CloudWatch does not offer": (dict(log_retention_days=100), r"log_retention_days = 100: use a"),
    "version as a number": (dict(kubernetes_version=1.33), r"kubernetes_version = 1.33: expected str, got a float"),
    "CIDRs as one string": (dict(public_access_cidrs="198.51.100.0/24"),
                            r"public_access_cidrs = '198.51.100.0/24': expected a list of str, got a string"),
}


@pytest.mark.parametrize("props, message", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input(props: dict, message: str) -> None:
    assert_config_error(lambda: cluster(**props), r"test/eks: ", message)


@pytest.mark.parametrize("env", ENVIRONMENTS.values(), ids=ENVIRONMENTS.keys())
def test_cluster_stack_has_a_node_group_per_pool(stacks: dict, env) -> None:
    stack = stacks[f"{env.name}-cluster"]
    eks = only(stack, "aws_eks_cluster")
    assert eks["name"] == env.cluster.name
    assert eks["version"] == env.cluster.kubernetes_version
    assert eks["deletion_protection"] is env.protect_stateful
    groups = {g["node_group_name_prefix"].rstrip("-"): g for g in resources(stack, "aws_eks_node_group").values()}
    assert sorted(groups) == sorted(p.name for p in env.cluster.node_pools)
    for pool in env.cluster.node_pools:
        group = groups[pool.name]
        assert group["instance_types"] == list(pool.instance_types)
        assert group["scaling_config"]["max_size"] == pool.max_size <= env.limits.max_nodes_per_group
        assert group["capacity_type"] == pool.capacity_type.value
        assert group["taint"] if pool.taints else "taint" not in group


def test_environments_differ_in_size_and_instances(stacks: dict) -> None:
    def shape(env: str) -> str:
        groups = resources(stacks[f"{env}-cluster"], "aws_eks_node_group").values()
        return json.dumps(sorted((g["instance_types"], g["scaling_config"]["max_size"]) for g in groups))
    assert shape("staging") != shape("production")
