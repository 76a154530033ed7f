"""Customer-managed KMS keys with an explicit key policy."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

#: A key policy statement, or a function of the key's account id that returns one (for a statement
#: that must name the account, e.g. a service's encryption context).
KeyStatement = Mapping[str, Any] | Callable[[str], Mapping[str, Any]]


def managed_key(scope: Construct, id: str, *, description: str, statements: Sequence[KeyStatement] = (),
                protect: bool = False) -> KmsKey:
    """A rotating KMS key whose policy is written down, not left to the default.

    The account administers the key (IAM policies then decide who uses it);
    ``statements`` grant AWS services what they need on top.

    The policy is a JSON string with Terraform interpolations inside its
    values, not an HCL ``jsonencode(...)`` expression: the policy scan
    (``policy/checks``) reads the synthesized document, and an expression is
    something no checker can read, so it would pass whatever it granted.
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
            *(dict(statement(account.account_id) if callable(statement) else statement)
              for statement in statements),
        ],
    }
    return KmsKey(scope, id, description=description, enable_key_rotation=True, deletion_window_in_days=30,
                  policy=json.dumps(policy),
                  lifecycle=TerraformResourceLifecycle(prevent_destroy=True) if protect else None)
