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


def test_checkov_flags_a_node_group_without_imdsv2(synth_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "cdktf.out"
    shutil.copytree(synth_dir / "stacks" / "staging-cluster", copy / "stacks" / "staging-cluster")
    path = copy / "stacks" / "staging-cluster" / "cdk.tf.json"
    stack = json.loads(path.read_text())
    for template in stack["resource"]["aws_launch_template"].values():
        template["metadata_options"]["http_tokens"] = "optional"
    path.write_text(json.dumps(stack))
    failed, _ = scan(copy)
    assert {f.check_id for f in failed} >= {"CKV_AWS_79"}
