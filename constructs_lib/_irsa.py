"""IAM roles for Kubernetes service accounts (IRSA), shared by the cluster and the operators."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from cdktf import Fn
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.iam_role import IamRole, IamRoleInlinePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct


def service_account_role(scope: Construct, id: str, *, oidc_provider_arn: str, oidc_issuer_url: str,
                         namespace: str, service_account: str, policy_arns: Sequence[str] = (),
                         name_prefix: str | None = None, description: str | None = None,
                         statements: Sequence[Mapping[str, Any]] = ()) -> IamRole:
    """An IAM role that only ``namespace/service_account`` of one cluster can assume; returns it.

    :param name_prefix: default ``<id>-`` (at most 38 characters, as IAM allows a prefix).
    :param statements: an inline policy of exactly these statements (a JSON string: ``policy/checks``
        read it), named ``permissions``; default none.
    """
    issuer = Fn.replace(oidc_issuer_url, "https://", "")
    # A policy document, not jsonencode: condition keys built from tokens get lost in a jsii map key.
    trust = DataAwsIamPolicyDocument(scope, f"{id}-trust", statement=[DataAwsIamPolicyDocumentStatement(
        effect="Allow",
        actions=["sts:AssumeRoleWithWebIdentity"],
        principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="Federated", identifiers=[oidc_provider_arn])],
        condition=[
            DataAwsIamPolicyDocumentStatementCondition(
                test="StringEquals", variable=f"{issuer}:sub",
                values=[f"system:serviceaccount:{namespace}:{service_account}"]),
            DataAwsIamPolicyDocumentStatementCondition(
                test="StringEquals", variable=f"{issuer}:aud", values=["sts.amazonaws.com"]),
        ],
    )])
    inline = [IamRoleInlinePolicy(name="permissions", policy=json.dumps(
        {"Version": "2012-10-17", "Statement": list(statements)}))] if statements else None
    role = IamRole(scope, id, name_prefix=(name_prefix or f"{id}-")[:38], description=description,
                   assume_role_policy=trust.json, inline_policy=inline)
    for i, arn in enumerate(policy_arns):
        IamRolePolicyAttachment(scope, f"{id}-policy-{i}", role=role.name, policy_arn=arn)
    return role


def permissions_policy(scope: Construct, id: str, *, name_prefix: str, description: str,
                       statements: Sequence[Mapping[str, Any]]) -> IamPolicy:
    """An IAM policy whose document is a JSON string (tokens only inside values); returns it.

    A JSON string, not ``jsonencode(...)``: the policy scan (``policy/checks``) reads the synthesized
    document, and an expression is something no checker can read.
    """
    return IamPolicy(scope, id, name_prefix=name_prefix, description=description,
                     policy=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))
