"""Every environment's stacks, as synthesized: snapshots, backends, providers, dependencies."""

from __future__ import annotations

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from environments import ENVIRONMENTS
from helpers import only, resources
from stacks import REPOSITORY, TERRAFORM_VERSION

LAYERS = ("state", "cluster", "addons", "platform", "services")
STACKS = [f"{env}-{layer}" for env in ENVIRONMENTS for layer in LAYERS]
REMOTE_STATE_STACKS = [name for name in STACKS if not name.endswith("-state")]


def env_of(stack_name: str):
    return ENVIRONMENTS[stack_name.rsplit("-", 1)[0]]


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def test_every_environment_has_its_stacks(stacks: dict) -> None:
    assert sorted(stacks) == sorted(STACKS)


@pytest.mark.parametrize("name", STACKS)
def test_stack_snapshot(stacks: dict, name: str, snapshot_json) -> None:
    assert stacks[name] == snapshot_json


@pytest.mark.parametrize("name", STACKS)
def test_terraform_version_is_pinned(stacks: dict, name: str) -> None:
    assert stacks[name]["terraform"]["required_version"] == TERRAFORM_VERSION


@pytest.mark.parametrize("name", REMOTE_STATE_STACKS)
def test_remote_state_is_encrypted_locked_and_keyed_per_stack(stacks: dict, name: str) -> None:
    env = env_of(name)
    layer = name.rsplit("-", 1)[1]
    assert stacks[name]["terraform"]["backend"] == {"s3": {
        "bucket": env.state.bucket,
        "key": f"{env.name}/{layer}/terraform.tfstate",
        "region": env.region,
        "encrypt": True,
        "dynamodb_table": env.state.lock_table,
        "use_lockfile": True,
    }}


def test_state_keys_are_unique(stacks: dict) -> None:
    keys = [(s["terraform"]["backend"]["s3"]["bucket"], s["terraform"]["backend"]["s3"]["key"])
            for name, s in stacks.items() if name in REMOTE_STATE_STACKS]
    assert len(set(keys)) == len(keys) == len(REMOTE_STATE_STACKS)


@pytest.mark.parametrize("name", STACKS)
def test_aws_provider_is_tagged_and_bound_to_the_account(stacks: dict, name: str) -> None:
    env = env_of(name)
    (aws,) = stacks[name]["provider"]["aws"]
    assert aws["region"] == env.region
    assert aws["allowed_account_ids"] == [env.account_id]
    tags = aws["default_tags"][0]["tags"]
    assert tags["environment"] == env.name
    assert tags["managed-by"] == "cdktf"
    assert tags["repository"] == REPOSITORY
    assert tags.items() >= dict(env.tags).items()


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_stack_dependencies_follow_apply_order(manifest: dict, env: str) -> None:
    deps = {name: manifest["stacks"][name]["dependencies"] for name in manifest["stacks"] if name.startswith(env)}
    assert deps == {
        f"{env}-state": [],
        f"{env}-cluster": [],
        f"{env}-addons": [f"{env}-cluster"],
        f"{env}-platform": [f"{env}-addons"],
        f"{env}-services": [f"{env}-platform"],
    }


@pytest.mark.parametrize("layer", ["addons", "platform", "services"])
def test_in_cluster_providers_come_from_a_lookup_by_cluster_name(stacks: dict, layer: str) -> None:
    stack = stacks[f"production-{layer}"]
    assert stack["data"]["aws_eks_cluster"]["cluster"]["name"] == "shop-production"
    (kubernetes,) = stack["provider"]["kubernetes"]
    assert kubernetes["host"] == "${data.aws_eks_cluster.cluster.endpoint}"
    assert kubernetes["token"] == "${data.aws_eks_cluster_auth.cluster-auth.token}"
    assert stack["provider"]["helm"][0]["kubernetes"] == kubernetes


class TestStateBootstrap:
    @pytest.fixture(params=list(ENVIRONMENTS))
    def state(self, request, stacks: dict) -> tuple:
        return ENVIRONMENTS[request.param], stacks[f"{request.param}-state"]

    def test_local_backend_with_relative_path(self, state) -> None:
        env, stack = state
        assert stack["terraform"]["backend"] == {"local": {"path": f"../../../terraform.{env.name}-state.tfstate"}}

    def test_bucket_is_versioned_encrypted_private_and_protected(self, state) -> None:
        env, stack = state
        bucket = only(stack, "aws_s3_bucket")
        assert bucket["bucket"] == env.state.bucket
        assert bucket["lifecycle"]["prevent_destroy"] is True
        versioning = only(stack, "aws_s3_bucket_versioning")
        assert versioning["versioning_configuration"]["status"] == "Enabled"
        (rule,) = only(stack, "aws_s3_bucket_server_side_encryption_configuration")["rule"]
        assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"
        assert rule["apply_server_side_encryption_by_default"]["kms_master_key_id"].startswith("${aws_kms_key.")
        assert only(stack, "aws_kms_key")["enable_key_rotation"] is True
        block = only(stack, "aws_s3_bucket_public_access_block")
        assert all(block[k] is True for k in ("block_public_acls", "block_public_policy",
                                               "ignore_public_acls", "restrict_public_buckets"))

    def test_bucket_policy_denies_plain_http(self, state) -> None:
        _, stack = state
        policy = only(stack, "aws_s3_bucket_policy")
        (document_name,) = stack["data"]["aws_iam_policy_document"]
        assert policy["policy"] == f"${{data.aws_iam_policy_document.{document_name}.json}}"
        (statement,) = stack["data"]["aws_iam_policy_document"][document_name]["statement"]
        assert statement["effect"] == "Deny"
        assert statement["actions"] == ["s3:*"]
        assert statement["condition"] == [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}]

    def test_lock_table(self, state) -> None:
        env, stack = state
        table = only(stack, "aws_dynamodb_table")
        assert table["name"] == env.state.lock_table
        assert table["hash_key"] == "LockID"
        assert table["attribute"] == [{"name": "LockID", "type": "S"}]
        assert table["point_in_time_recovery"] == {"enabled": True}
        assert table["deletion_protection_enabled"] is True
        assert table["lifecycle"]["prevent_destroy"] is True

    def test_outputs_name_bucket_and_table(self, state) -> None:
        _, stack = state
        assert {o["value"] for o in stack["output"].values()} == {
            "${" + f"aws_s3_bucket.{name}.bucket" + "}" for name in resources(stack, "aws_s3_bucket")
        } | {"${" + f"aws_dynamodb_table.{name}.name" + "}" for name in resources(stack, "aws_dynamodb_table")}


def test_state_store_keeps_old_versions_for_at_least_a_day() -> None:
    from constructs_lib import TerraformStateStore
    from helpers import assert_config_error, synth
    assert_config_error(
        lambda: synth(lambda s: TerraformStateStore(s, "state", bucket_name="b-1", lock_table_name="t-1",
                                                    noncurrent_days=0)),
        r"test/state: ", r"noncurrent_days = 0: keep old state versions for at least 1 day")


def test_every_custom_resource_matches_its_crd_schema(stacks: dict, validate_custom_resources) -> None:
    found = [(name, address, m["manifest"]) for name, stack in stacks.items()
             for address, m in resources(stack, "kubernetes_manifest").items()]
    assert {m["kind"] for _, _, m in found} >= {"ExternalSecret", "ServiceMonitor"}
    results = validate_custom_resources([m for _, _, m in found])
    assert {f"{name}: {address}": errors for (name, address, _), errors in zip(found, results, strict=True)
            if errors} == {}
