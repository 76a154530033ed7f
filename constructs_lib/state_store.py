"""S3 bucket and DynamoDB table that hold Terraform state and its locks."""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
)
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct

from ._kms import managed_key
from .guardrails import suppress
from .validation import Checks, checked_props

__all__ = ["TerraformStateStore"]


@checked_props
class TerraformStateStore(Construct):
    """Where the other stacks keep their Terraform state, and their locks.

    The bucket is versioned (a bad apply can be rolled back to an earlier
    state), encrypted with a customer-managed KMS key that rotates, closed to
    the public, reachable over TLS only, and keeps old state versions for
    ``noncurrent_days``. The lock table has a ``LockID`` hash key, point-in-time
    recovery and deletion protection. Both are ``prevent_destroy``: losing
    state orphans every resource it tracks.

    Not built in, on purpose (checkov's CKV_AWS_18, CKV_AWS_144, CKV2_AWS_62):
    access logging, cross-region replication and event notifications. State
    reads and writes are audited by CloudTrail, versions make it recoverable,
    and each would add a bucket of its own to bootstrap.

    :param bucket_name: S3 bucket for state files.
    :param lock_table_name: DynamoDB table for state locks.
    :param noncurrent_days: how long superseded state versions are kept; default 90.
    """

    def __init__(self, scope: Construct, id: str, *, bucket_name: str, lock_table_name: str,
                 noncurrent_days: int = 90) -> None:
        super().__init__(scope, id)
        checks = Checks(self.node.path)
        checks.require(noncurrent_days >= 1, "noncurrent_days", noncurrent_days,
                       "keep old state versions for at least 1 day")
        checks.done()

        keep = TerraformResourceLifecycle(prevent_destroy=True)
        self.key = managed_key(self, "key", description=f"Encrypts Terraform state in {bucket_name}", protect=True)
        self.bucket = S3Bucket(self, "bucket", bucket=bucket_name, lifecycle=keep)
        for check, reason in (
                ("CKV_AWS_18", "state access is audited by CloudTrail; an access-log bucket would need a bootstrap "
                               "of its own before this one"),
                ("CKV_AWS_144", "versioning makes state recoverable; a replica in a second region is a disaster-"
                                "recovery decision per account, not a default"),
                ("CKV2_AWS_62", "nothing consumes events of the state bucket")):
            suppress(self.bucket, check, reason=reason)
        S3BucketVersioningA(self, "versioning", bucket=self.bucket.id,
                            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"))
        S3BucketServerSideEncryptionConfigurationA(
            self, "encryption", bucket=self.bucket.id,
            rule=[S3BucketServerSideEncryptionConfigurationRuleA(
                apply_server_side_encryption_by_default=(
                    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm="aws:kms", kms_master_key_id=self.key.arn)),
                bucket_key_enabled=True,
            )],
        )
        S3BucketPublicAccessBlock(self, "public-access-block", bucket=self.bucket.id,
                                  block_public_acls=True, block_public_policy=True,
                                  ignore_public_acls=True, restrict_public_buckets=True)
        S3BucketOwnershipControls(self, "ownership", bucket=self.bucket.id,
                                  rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"))
        S3BucketLifecycleConfiguration(
            self, "lifecycle", bucket=self.bucket.id,
            rule=[S3BucketLifecycleConfigurationRule(
                id="expire-old-state-versions",
                status="Enabled",
                filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                noncurrent_version_expiration=[
                    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=noncurrent_days)],
                abort_incomplete_multipart_upload=[
                    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=7)],
            )],
        )
        tls_only = DataAwsIamPolicyDocument(
            self, "tls-only",
            statement=[DataAwsIamPolicyDocumentStatement(
                sid="DenyInsecureTransport",
                effect="Deny",
                actions=["s3:*"],
                resources=[self.bucket.arn, f"{self.bucket.arn}/*"],
                principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="*", identifiers=["*"])],
                condition=[DataAwsIamPolicyDocumentStatementCondition(
                    test="Bool", variable="aws:SecureTransport", values=["false"])],
            )],
        )
        self.bucket_policy = S3BucketPolicy(self, "policy", bucket=self.bucket.id, policy=tls_only.json)
        self.lock_table = DynamodbTable(
            self, "locks",
            name=lock_table_name,
            billing_mode="PAY_PER_REQUEST",
            hash_key="LockID",
            attribute=[DynamodbTableAttribute(name="LockID", type="S")],
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=self.key.arn),
            deletion_protection_enabled=True,
            lifecycle=keep,
        )
