"""CloudWatch Logs rules shared by constructs that ship logs to an encrypted log group."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: The retention periods CloudWatch Logs accepts, in days.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
                      2557, 2922, 3288, 3653)
LOG_RETENTION_FIX = f"use a CloudWatch retention period: {', '.join(map(str, LOG_RETENTION_DAYS))}"


def logs_key_statement(region: str, log_group_name: str) -> Callable[[str], dict[str, Any]]:
    """The KMS key policy statement that lets CloudWatch Logs encrypt one log group with the key.

    A function of the key's account id (``managed_key`` passes it): the condition names the log group in
    that account, so CloudWatch Logs cannot use the key for a same-named group in another account.
    """
    def statement(account_id: str) -> dict[str, Any]:
        return {
            "Sid": "CloudWatchLogsEncryptLogGroup",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{region}.amazonaws.com"},
            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            "Resource": "*",
            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                      f"arn:aws:logs:{region}:{account_id}:log-group:{log_group_name}"}},
        }

    return statement
