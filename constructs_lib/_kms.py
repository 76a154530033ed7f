"""Customer-managed KMS keys with an explicit key policy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct


def managed_key(scope: Construct, id: str, *, description: str, statements: Sequence[dict[str, Any]] = (),
                protect: bool = False) -> KmsKey:
    """A rotating KMS key whose policy is written down, not left to the default.

    The account administers the key (IAM policies then decide who uses it);
    ``statements`` grant AWS services what they need on top.
    """
    account = DataAwsCallerIdentity(scope, f"{id}-account")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministersKey",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account.account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            *statements,
        ],
    }
    return KmsKey(scope, id, description=description, enable_key_rotation=True, deletion_window_in_days=30,
                  policy=Fn.jsonencode(policy),
                  lifecycle=TerraformResourceLifecycle(prevent_destroy=True) if protect else None)
