"""checkov's policies pass on everything the app synthesizes, and would catch a regression."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from policy import scan


@pytest.fixture(scope="module")
def findings(synth_dir: Path) -> tuple:
    return scan(synth_dir)


def test_checkov_passes_on_every_stack(findings) -> None:
    failed, passed = findings
    assert [f.render() for f in failed] == []
    assert passed > 150


def scan_mutated(synth_dir: Path, tmp_path: Path, stack_name: str, mutate) -> set[str]:
    """The checks that fail once ``mutate`` has changed a copy of one synthesized stack."""
    copy = tmp_path / "cdktf.out"
    shutil.copytree(synth_dir / "stacks" / stack_name, copy / "stacks" / stack_name)
    path = copy / "stacks" / stack_name / "cdk.tf.json"
    stack = json.loads(path.read_text())
    mutate(stack)
    path.write_text(json.dumps(stack))
    failed, _ = scan(copy)
    return {f.check_id for f in failed}


def test_checkov_flags_a_node_group_without_imdsv2(synth_dir: Path, tmp_path: Path) -> None:
    def without_imdsv2(stack: dict) -> None:
        for template in stack["resource"]["aws_launch_template"].values():
            template["metadata_options"]["http_tokens"] = "optional"

    assert scan_mutated(synth_dir, tmp_path, "staging-cluster", without_imdsv2) >= {"CKV_AWS_79"}


def test_checkov_flags_an_unencrypted_cache(synth_dir: Path, tmp_path: Path) -> None:
    """The ElastiCache checks really run on the services stacks (they pass above)."""
    def unencrypted(stack: dict) -> None:
        for group in stack["resource"]["aws_elasticache_replication_group"].values():
            group["at_rest_encryption_enabled"] = "false"
            group["transit_encryption_enabled"] = False
            group.pop("auth_token")
            group.pop("kms_key_id")

    # at rest, in transit, in transit with AUTH, customer-managed key
    assert scan_mutated(synth_dir, tmp_path, "staging-services", unencrypted) >= {
        "CKV_AWS_29", "CKV_AWS_30", "CKV_AWS_31", "CKV_AWS_191"}
