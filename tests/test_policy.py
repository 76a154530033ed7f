"""The policy scan: it passes on the app, catches what it is for, and cannot be blinded.

Our checks are tried on one stack of fixtures synthesized through cdktf (so
each resource has the shape the provider bindings write), bad and good side by
side, scanned once; the blinding and exception tests work on copies of the
app's own synthesized stacks.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cdktf import App, Fn, TerraformStack
from constructs import Construct

import policy
import policy.scanner
from policy import Report, cli, main, scan

ACCOUNT = "210987654321"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/platform-admin"
TEAM = f"arn:aws:iam::{ACCOUNT}:role/team-checkout"
STACK = "staging-fixtures"  # the environment prefix matters: staging/ secrets, staging's admin roles


def address_of(stack_json: dict, path: str) -> str:
    """The Terraform address of the resource synthesized for construct ``path``."""
    for kind in ("resource", "data"):
        for type_, group in stack_json.get(kind, {}).items():
            for name, body in group.items():
                if body.get("//", {}).get("metadata", {}).get("path") == path:
                    return f"{type_}.{name}" if kind == "resource" else f"data.{type_}.{name}"
    raise AssertionError(f"nothing synthesized for {path}")


def verdict(report: Report, stack: str, resource: str, check_id: str) -> tuple[bool, str]:
    """(passed, details) of one check on one resource; fails when the check did not run there."""
    if (stack, resource, check_id) in report.passed:
        return True, ""
    for finding in (*report.failed, *report.suppressed):
        if (finding.stack, finding.resource, finding.check_id) == (stack, resource, check_id):
            return False, " ".join(finding.details)
    raise AssertionError(f"{check_id} did not run on {resource}")


# --- the app -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app_report(synth_dir: Path) -> Report:
    return scan(synth_dir)


def test_policy_passes_on_every_stack(app_report: Report) -> None:
    assert [f.render() for f in app_report.failed] == []
    assert [p.render() for p in app_report.problems] == []
    assert len(app_report.passed) > 500


def test_every_key_policy_is_read_and_passes(app_report: Report, stacks: dict) -> None:
    """managed_key writes a JSON policy (not a jsonencode expression) and CKV_PLAT_1 reads every one."""
    keys = [(name, f"aws_kms_key.{key}") for name, stack in stacks.items()
            for key in stack.get("resource", {}).get("aws_kms_key", {})]
    assert len(keys) == 6
    for name, key in keys:
        assert verdict(app_report, name, key, "CKV_PLAT_1") == (True, "")


def test_coverage_names_the_types_no_check_looks_at(app_report: Report) -> None:
    uncovered = {(gap.kind, gap.type) for gap in app_report.uncovered}
    assert ("resource", "kubernetes_horizontal_pod_autoscaler_v2") in uncovered
    assert ("data", "aws_caller_identity") in uncovered
    for covered in ("kubernetes_manifest", "helm_release", "aws_eks_access_entry",
                    "aws_eks_access_policy_association", "aws_kms_key", "kubernetes_deployment_v1"):
        assert ("resource", covered) not in uncovered


def copy_stack(synth_dir: Path, tmp_path: Path, name: str, mutate: Callable[[dict], None]) -> Path:
    """A synthesis directory holding one stack of the app, changed by ``mutate``."""
    copy = tmp_path / "cdktf.out"
    shutil.copytree(synth_dir / "stacks" / name, copy / "stacks" / name)
    path = copy / "stacks" / name / "cdk.tf.json"
    stack = json.loads(path.read_text())
    mutate(stack)
    path.write_text(json.dumps(stack, indent=2))
    return copy


def failed_ids(report: Report) -> set[str]:
    return {f.check_id for f in report.failed}


def without_imdsv2(stack: dict) -> None:
    for template in stack["resource"]["aws_launch_template"].values():
        template["metadata_options"]["http_tokens"] = "optional"


def unencrypted(stack: dict) -> None:
    for group in stack["resource"]["aws_elasticache_replication_group"].values():
        group["at_rest_encryption_enabled"] = "false"
        group["transit_encryption_enabled"] = False
        group.pop("auth_token")
        group.pop("kms_key_id")


#: at rest, in transit, in transit with AUTH, customer-managed key
CACHE_CHECKS = {"CKV_AWS_29", "CKV_AWS_30", "CKV_AWS_31", "CKV_AWS_191"}


def test_checkov_flags_a_node_group_without_imdsv2(synth_dir: Path, tmp_path: Path) -> None:
    copy = copy_stack(synth_dir, tmp_path, "staging-cluster", without_imdsv2)
    assert "CKV_AWS_79" in failed_ids(scan(copy))


# --- a scan that cannot be blinded ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def moved_block() -> list[dict]:
    """The ``moved`` block cdktf writes for ``move_from_id`` (the rename our review recommends)."""
    from cdktf import Testing
    from cdktf_cdktf_provider_aws.provider import AwsProvider
    from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket

    stack = TerraformStack(Testing.app(), "moved")
    AwsProvider(stack, "aws", region="eu-west-1")
    S3Bucket(stack, "new-name").move_from_id("aws_s3_bucket.old-name")
    moved = json.loads(Testing.synth(stack))["moved"]
    assert moved == [{"from": "aws_s3_bucket.old-name", "to": "aws_s3_bucket.new-name"}]
    return moved


def test_a_moved_block_cannot_hide_an_unencrypted_cache(synth_dir: Path, tmp_path: Path, moved_block: list,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    def unencrypted_and_moved(stack: dict) -> None:
        unencrypted(stack)
        stack["moved"] = moved_block

    copy = copy_stack(synth_dir, tmp_path, "staging-services", unencrypted_and_moved)
    assert main(["--synth-dir", str(copy)]) == 1
    out = capsys.readouterr().out
    for check_id in CACHE_CHECKS:
        assert re.search(rf"^FAILED  staging-services  {check_id}  aws_elasticache_replication_group\.", out, re.M)
    assert re.search(r"^  moved: state moves .*; in staging-services$", out, re.M)


def test_a_stack_checkov_cannot_parse_fails_with_the_reason(synth_dir: Path, tmp_path: Path, moved_block: list,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Put back what blinded the old scan (the moved block handed to checkov): an error, never "0 failed"."""
    monkeypatch.setattr(policy.scanner, "SCANNED_BLOCKS", policy.scanner.SCANNED_BLOCKS | {"moved"})

    def unencrypted_and_moved(stack: dict) -> None:
        unencrypted(stack)
        stack["moved"] = moved_block

    report = scan(copy_stack(synth_dir, tmp_path, "staging-services", unencrypted_and_moved))
    assert not report.ok
    assert [(p.stack, p.kind) for p in report.problems] == [("staging-services", "parse")]
    assert re.search(r"could not parse main\.tf\.json, so none of its resources was checked: "
                     r"Exception: this method receives only dicts", report.problems[0].message)


def test_a_stack_with_no_result_fails(tmp_path: Path) -> None:
    stack_dir = tmp_path / "stacks" / "staging-random"
    stack_dir.mkdir(parents=True)
    (stack_dir / "cdk.tf.json").write_text(json.dumps({"resource": {"random_password": {"token": {"length": 32}}}}))
    report = scan(tmp_path)
    assert [(p.stack, p.kind) for p in report.problems] == [("staging-random", "no-result")]
    assert [(gap.type, gap.unchecked) for gap in report.uncovered] == [("random_password", 1)]


def test_a_block_the_scan_does_not_know_fails(synth_dir: Path, tmp_path: Path) -> None:
    report = scan(copy_stack(synth_dir, tmp_path, "staging-state",
                             lambda stack: stack.update(ephemeral={"random_password": {"x": {"length": 8}}})))
    assert [(p.kind, p.message[:40]) for p in report.problems] == [
        ("block", "top-level block 'ephemeral' is not one c")]


# --- exceptions: per resource, with reasons --------------------------------------------------------------


def suppress(type_: str, *suppressions: dict) -> Callable[[dict], None]:
    """Write suppressions into the metadata of every ``type_`` resource, as ``suppress()`` does."""
    def mutate(stack: dict) -> None:
        for body in stack["resource"][type_].values():
            body["//"]["suppressions"] = list(suppressions)
    return mutate


def test_a_suppression_accepts_its_finding_and_shows_the_reason(synth_dir: Path, tmp_path: Path) -> None:
    reason = "sessions are rebuilt on login; accepted by the platform team"
    suppression = {"rule": "CKV_AWS_29", "reason": reason, "scope": "staging-services/sessions"}

    def mutate(stack: dict) -> None:
        unencrypted(stack)
        suppress("aws_elasticache_replication_group", suppression)(stack)

    report = scan(copy_stack(synth_dir, tmp_path, "staging-services", mutate))
    assert failed_ids(report) == CACHE_CHECKS - {"CKV_AWS_29"}  # the other three still fail
    assert report.problems == []
    document = json.loads(cli._json(report))
    assert [(f["check_id"], f["suppression"]) for f in document["accepted"]
            if f["suppression"]["scope"] == "staging-services/sessions"] == [("CKV_AWS_29", suppression)]
    assert re.search(r"^  staging-services/sessions/replication-group \(aws_elasticache_replication_group\.\S+\)\n"
                     rf"    CKV_AWS_29: accepts .*; reason: {reason} \(on staging-services/sessions\)$",
                     cli._table(report), re.M)


#: resource type -> a suppression that is wrong on it, the error's kind and what it says
WRONG = {
    "aws_elasticache_replication_group": (
        {"rule": "CKV_AWS_29", "reason": "encrypted anyway", "scope": "staging-services/sessions"}, "stale",
        r"suppression of CKV_AWS_29 on staging-services/sessions matches no failure of CKV_AWS_29 on the 1 "
        r"resource\(s\) under it; remove it"),
    "aws_secretsmanager_secret": (
        {"rule": "CKV_AWS_99999", "reason": "typo", "scope": "staging-services/sessions/secret"}, "unknown-check",
        r"checkov has no Terraform check CKV_AWS_99999"),
    "aws_security_group": (
        {"rule": "CKV_AWS_23", "reason": "described", "scope": "staging-services/sessions/security-group"},
        "redundant", r"CKV_AWS_23 is also skipped everywhere"),
    "aws_cloudwatch_log_group": (
        {"rule": "CKV_AWS_158", "reason": " ", "scope": "staging-services/sessions/slow-log"}, "malformed",
        r"^staging-services/sessions/slow-log: suppression of CKV_AWS_158 has no reason"),
    "aws_kms_key": (
        {"rule": "CKV_AWS_7", "reason": "why"}, "malformed", r"suppression of CKV_AWS_7 has no scope"),
}


@pytest.fixture(scope="module")
def wrong_suppressions(synth_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Report:
    def mutate(stack: dict) -> None:
        for type_, (suppression, _, _) in WRONG.items():
            suppress(type_, suppression)(stack)
        suppress("aws_vpc_security_group_ingress_rule",
                 {"rule": "PROD-MULTI-AZ", "reason": "staging", "scope": "staging-services/sessions"})(stack)

    # No check is skipped everywhere any more; one is here, to show that suppressing it too is an error.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(policy, "SKIPPED_CHECKS", {"CKV_AWS_23": "skipped everywhere, for this test"})
        return scan(copy_stack(synth_dir, tmp_path_factory.mktemp("wrong"), "staging-services", mutate))


@pytest.mark.parametrize("type_", list(WRONG))
def test_a_wrong_suppression_is_an_error(wrong_suppressions: Report, type_: str) -> None:
    _, kind, message = WRONG[type_]
    found = [p for p in wrong_suppressions.problems if re.search(message, p.message)]
    assert [p.kind for p in found] == [kind], [p.render() for p in wrong_suppressions.problems]
    assert not wrong_suppressions.ok


def test_construct_rule_suppressions_are_listed_and_left_to_the_rules(wrong_suppressions: Report) -> None:
    assert len(wrong_suppressions.problems) == len(WRONG)  # none for PROD-MULTI-AZ
    assert [(u.suppression.rule, u.applied) for u in wrong_suppressions.suppressions
            if u.suppression.rule == "PROD-MULTI-AZ"] == [("PROD-MULTI-AZ", False)]


# --- our checks, on fixtures synthesized through cdktf ------------------------------------------------------


def iam(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


OPEN_KEY = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}
TRUST_EC2 = iam({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
SUPPRESSED_REASON = "a throw-away key for the test; accepted on purpose"


def build_fixtures(stack: TerraformStack) -> None:
    from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
        DataAwsIamPolicyDocument,
        DataAwsIamPolicyDocumentStatement,
        DataAwsIamPolicyDocumentStatementCondition,
        DataAwsIamPolicyDocumentStatementPrincipals,
    )
    from cdktf_cdktf_provider_aws.data_aws_region import DataAwsRegion
    from cdktf_cdktf_provider_aws.eks_access_entry import EksAccessEntry
    from cdktf_cdktf_provider_aws.eks_access_policy_association import (
        EksAccessPolicyAssociation,
        EksAccessPolicyAssociationAccessScope,
    )
    from cdktf_cdktf_provider_aws.eks_cluster import EksCluster, EksClusterAccessConfig, EksClusterVpcConfig
    from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
    from cdktf_cdktf_provider_aws.iam_role import IamRole, IamRoleInlinePolicy
    from cdktf_cdktf_provider_aws.kms_key import KmsKey
    from cdktf_cdktf_provider_aws.provider import AwsProvider
    from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
    from cdktf_cdktf_provider_helm.provider import HelmProvider
    from cdktf_cdktf_provider_helm.release import Release
    from cdktf_cdktf_provider_kubernetes.manifest import Manifest
    from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider

    from constructs_lib._kms import managed_key
    from constructs_lib._logs import logs_key_statement

    AwsProvider(stack, "aws", region="eu-west-1")
    KubernetesProvider(stack, "kubernetes")
    HelmProvider(stack, "helm")

    def key(id: str, *statements: dict, scope: Construct = stack, **kwargs: Any) -> KmsKey:
        return KmsKey(scope, id, enable_key_rotation=True, policy=iam(*statements), **kwargs)

    # CKV_PLAT_1
    key("kms-open", OPEN_KEY)
    KmsKey(stack, "kms-expression", enable_key_rotation=True, policy=Fn.jsonencode({"Statement": [OPEN_KEY]}))
    key("kms-any-account", {**OPEN_KEY, "Principal": {"AWS": "arn:aws:iam::*:root"}})
    region = DataAwsRegion(stack, "region")
    key("kms-logs-any-account", logs_key_statement(region.region, "/aws/eks/x/cluster")("*"))
    key("kms-via-service-only",
        {**OPEN_KEY, "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}})
    key("kms-caller-account", {**OPEN_KEY, "Action": ["kms:Decrypt"], "Condition": {"StringEquals": {
        "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com", "kms:CallerAccount": ACCOUNT}}})
    managed_key(stack, "kms-managed", description="the constructs' key",
                statements=[logs_key_statement(region.region, "/aws/eks/x/cluster")])

    # CKV_PLAT_2
    def policy(id: str, *statements: dict) -> None:
        IamPolicy(stack, id, policy=iam(*statements))

    policy("iam-service-wildcard", {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::bucket/*"})
    policy("iam-star-resource", {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"})
    policy("iam-not-action", {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    policy("iam-unrestrictable", {"Effect": "Allow", "Action": ["sts:GetCallerIdentity", "ec2:DescribeInstances"],
                                  "Resource": "*"})
    policy("iam-named", {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"})
    IamRole(stack, "role-inline-wildcard", assume_role_policy=TRUST_EC2, inline_policy=[IamRoleInlinePolicy(
        name="everything", policy=iam({"Effect": "Allow", "Action": "*", "Resource": "*"}))])

    # CKV_PLAT_3
    def document(id: str, **statement: Any) -> None:
        DataAwsIamPolicyDocument(stack, id, statement=[DataAwsIamPolicyDocumentStatement(**statement)])

    oidc = DataAwsIamPolicyDocumentStatementPrincipals(
        type="Federated", identifiers=[f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/X"])
    issuer = "oidc.eks.eu-west-1.amazonaws.com/id/X"
    audience = DataAwsIamPolicyDocumentStatementCondition(test="StringEquals", variable=f"{issuer}:aud",
                                                         values=["sts.amazonaws.com"])
    document("doc-oidc-no-sub", actions=["sts:AssumeRoleWithWebIdentity"], principals=[oidc], condition=[audience])
    document("doc-irsa", actions=["sts:AssumeRoleWithWebIdentity"], principals=[oidc], condition=[
        audience, DataAwsIamPolicyDocumentStatementCondition(
            test="StringEquals", variable=f"{issuer}:sub", values=["system:serviceaccount:shop:checkout"])])
    everyone = DataAwsIamPolicyDocumentStatementPrincipals(type="*", identifiers=["*"])
    document("doc-open-principal", actions=["s3:GetObject"], resources=["arn:aws:s3:::bucket/*"],
             principals=[everyone])
    document("doc-identity-wildcard", actions=["iam:*"], resources=["*"])
    document("doc-deny-plain-http", effect="Deny", actions=["s3:*"], resources=["arn:aws:s3:::bucket/*"],
             principals=[everyone], condition=[DataAwsIamPolicyDocumentStatementCondition(
                 test="Bool", variable="aws:SecureTransport", values=["false"])])

    # CKV_PLAT_4
    IamRole(stack, "role-open-trust", assume_role_policy=iam(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}))
    open_read = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    S3BucketPolicy(stack, "bucket-policy-open", bucket="b", policy=iam(open_read))
    S3BucketPolicy(stack, "bucket-policy-org", bucket="b", policy=iam(
        {**open_read, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}))

    # CKV_PLAT_5 .. CKV_PLAT_8
    def manifest(id: str, kind: str, spec: dict, api: str = "external-secrets.io/v1", namespace: str | None = "shop",
                 ) -> None:
        metadata = {"name": id, **({"namespace": namespace} if namespace else {})}
        Manifest(stack, id, manifest={"apiVersion": api, "kind": kind, "metadata": metadata, "spec": spec})

    def external_secret(store: dict, key: str = "staging/checkout", **extra: Any) -> dict:
        return {"secretStoreRef": store, "target": {"name": "checkout-secrets"},
                "data": [{"secretKey": "DB_PASSWORD", "remoteRef": {"key": key, "property": "db_password"}}], **extra}

    cluster_store = {"kind": "ClusterSecretStore", "name": "aws-secrets-manager"}
    manifest("es-namespaced-store", "ExternalSecret", external_secret({"kind": "SecretStore", "name": "mine"}))
    manifest("es-default-kind", "ExternalSecret", external_secret({"name": "mine"}))
    manifest("es-find", "ExternalSecret", external_secret(cluster_store, dataFrom=[{"find": {"name": {
        "regexp": ".*"}}}]))
    manifest("es-other-env", "ExternalSecret", external_secret(cluster_store, key="production/checkout"))
    manifest("es-good", "ExternalSecret", external_secret(cluster_store))
    aws = {"service": "SecretsManager", "region": "eu-west-1"}
    manifest("store-static-keys", "ClusterSecretStore", {"provider": {"aws": {**aws, "auth": {"secretRef": {
        "accessKeyIDSecretRef": {"name": "aws", "key": "id"}}}}}}, namespace=None)
    manifest("store-irsa", "ClusterSecretStore", {"provider": {"aws": aws}}, namespace=None)
    manifest("manifest-deployment", "Deployment", {"replicas": 1}, api="apps/v1")
    manifest("manifest-no-namespace", "PrometheusRule", {"groups": []}, api="monitoring.coreos.com/v1",
             namespace=None)
    manifest("manifest-cluster-issuer", "ClusterIssuer", {"selfSigned": {}}, api="cert-manager.io/v1",
             namespace=None)

    def monitor(id: str, selector: dict | None = None, endpoint: dict | None = None, **spec: Any) -> None:
        selector = {"matchLabels": {"app.kubernetes.io/name": "checkout"}} if selector is None else selector
        endpoint = {"port": "metrics", "path": "/metrics", **(endpoint or {})}
        manifest(id, "ServiceMonitor", {"selector": selector, "endpoints": [endpoint],
                                        "namespaceSelector": {"matchNames": ["shop"]}, **spec},
                 api="monitoring.coreos.com/v1")

    monitor("sm-empty-selector", selector={})
    monitor("sm-any-namespace", namespaceSelector={"any": True})
    monitor("sm-insecure-tls", endpoint={"scheme": "https", "tlsConfig": {"insecureSkipVerify": True}})
    monitor("sm-bearer-token", endpoint={"bearerTokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token"})
    monitor("sm-good")

    # CKV_PLAT_9 .. CKV_PLAT_11
    chart: dict[str, Any] = {"name": "external-secrets", "chart": "external-secrets",
             "repository": "https://charts.external-secrets.io", "version": "1.3.2", "atomic": True}
    Release(stack, "helm-unpinned", **{**chart, "version": None})
    Release(stack, "helm-range", **{**chart, "version": "^1.3.0"})
    Release(stack, "helm-not-atomic", **{**chart, "atomic": None})
    Release(stack, "helm-http", **{**chart, "repository": "http://charts.example.com"})
    Release(stack, "helm-good", **chart)

    # CKV_PLAT_12
    def cluster(id: str, access: EksClusterAccessConfig | None) -> EksCluster:
        return EksCluster(stack, id, name=id, role_arn=ADMIN, access_config=access,
                          vpc_config=EksClusterVpcConfig(subnet_ids=["subnet-1", "subnet-2"]))

    cluster("eks-open", None)
    eks = cluster("eks-good", EksClusterAccessConfig(authentication_mode="API",
                                                     bootstrap_cluster_creator_admin_permissions=False))

    def access(id: str, principal: str, policy: str, scope: str = "cluster", namespaces: list[str] | None = None,
               ) -> None:
        entry = EksAccessEntry(stack, f"{id}-entry", cluster_name=eks.name, principal_arn=principal)
        EksAccessPolicyAssociation(
            stack, id, cluster_name=eks.name, principal_arn=entry.principal_arn,
            policy_arn=f"arn:aws:eks::aws:cluster-access-policy/{policy}",
            access_scope=EksAccessPolicyAssociationAccessScope(type=scope, namespaces=namespaces))

    access("assoc-admin-listed", ADMIN, "AmazonEKSClusterAdminPolicy")
    access("assoc-admin-unlisted", TEAM, "AmazonEKSClusterAdminPolicy")
    access("assoc-view-cluster-unlisted", TEAM, "AmazonEKSViewPolicy")
    access("assoc-namespaced", TEAM, "AmazonEKSEditPolicy", scope="namespace", namespaces=["checkout"])
    EksAccessEntry(stack, "entry-masters", cluster_name=eks.name, principal_arn=TEAM,
                   kubernetes_groups=["system:masters"])

    # an exception, written on a parent construct and carried by the key under it
    accepted = Construct(stack, "accepted")
    key("key", OPEN_KEY, scope=accepted).add_override("//.suppressions", [
        {"rule": "CKV_PLAT_1", "reason": SUPPRESSED_REASON, "scope": f"{STACK}/accepted"}])


@dataclass(frozen=True)
class Case:
    construct: str
    check_id: str
    message: str | None  # what the failure says; None: the check passes

    def __str__(self) -> str:
        return f"{self.check_id}-{self.construct}"


CASES = [
    Case("kms-open", "CKV_PLAT_1", r"grants kms:\* to every principal \(\"\*\"\) without a condition"),
    Case("kms-expression", "CKV_PLAT_1", r"is not a JSON document .* write it as a JSON string"),
    Case("kms-any-account", "CKV_PLAT_1", r"principal arn:aws:iam::\*:root matches every account"),
    Case("kms-logs-any-account", "CKV_PLAT_1",
         r"condition kms:EncryptionContext:aws:logs:arn = arn:aws:logs:\$\{.*\}:\*:log-group:.* every account"),
    Case("kms-via-service-only", "CKV_PLAT_1", r"to every principal"),
    Case("kms-caller-account", "CKV_PLAT_1", None),
    Case("kms-managed", "CKV_PLAT_1", None),
    Case("iam-service-wildcard", "CKV_PLAT_2", r"Action s3:\* grants every s3 action"),
    Case("iam-star-resource", "CKV_PLAT_2", r"Resource \"\*\" for actions AWS lets limit to a resource "
                                            r"\(s3:GetObject\)"),
    Case("iam-not-action", "CKV_PLAT_2", r"Allow with NotAction grants every action not listed"),
    Case("iam-unrestrictable", "CKV_PLAT_2", None),
    Case("iam-named", "CKV_PLAT_2", None),
    Case("role-inline-wildcard", "CKV_PLAT_2", r"Action \"\*\" grants every action of every service"),
    Case("doc-oidc-no-sub", "CKV_PLAT_3", r"trusts an OIDC provider without a StringEquals condition on its :sub"),
    Case("doc-irsa", "CKV_PLAT_3", None),
    Case("doc-open-principal", "CKV_PLAT_3", r"grants s3:GetObject to every principal"),
    Case("doc-identity-wildcard", "CKV_PLAT_3", r"Action iam:\* grants every iam action"),
    Case("doc-deny-plain-http", "CKV_PLAT_3", None),
    Case("role-open-trust", "CKV_PLAT_4", r"grants sts:AssumeRole to every principal"),
    Case("role-inline-wildcard", "CKV_PLAT_4", None),
    Case("bucket-policy-open", "CKV_PLAT_4", r"grants s3:GetObject to every principal"),
    Case("bucket-policy-org", "CKV_PLAT_4", None),
    Case("es-namespaced-store", "CKV_PLAT_5", r"spec.secretStoreRef reads through SecretStore 'mine'"),
    Case("es-default-kind", "CKV_PLAT_5", r"spec.secretStoreRef reads through SecretStore 'mine'"),
    Case("es-find", "CKV_PLAT_5", r"spec.dataFrom\[0\].find copies every secret matching a pattern"),
    Case("es-other-env", "CKV_PLAT_5", r"remote key 'production/checkout' is outside staging/"),
    Case("es-good", "CKV_PLAT_5", None),
    Case("store-static-keys", "CKV_PLAT_6", r"spec.provider.aws.auth.secretRef authenticates with keys"),
    Case("store-irsa", "CKV_PLAT_6", None),
    Case("manifest-deployment", "CKV_PLAT_7", r"a Deployment written as kubernetes_manifest escapes .* use "
                                              r"kubernetes_deployment_v1"),
    Case("manifest-no-namespace", "CKV_PLAT_7", r"the PrometheusRule lands in the default namespace"),
    Case("manifest-cluster-issuer", "CKV_PLAT_7", None),
    Case("es-good", "CKV_PLAT_7", None),
    Case("sm-empty-selector", "CKV_PLAT_8", r"spec.selector is empty"),
    Case("sm-any-namespace", "CKV_PLAT_8", r"spec.namespaceSelector.any selects targets in every namespace"),
    Case("sm-insecure-tls", "CKV_PLAT_8", r"spec.endpoints\[0\].tlsConfig.insecureSkipVerify"),
    Case("sm-bearer-token", "CKV_PLAT_8", r"spec.endpoints\[0\].bearerTokenFile sends Prometheus's own token"),
    Case("sm-good", "CKV_PLAT_8", None),
    Case("helm-unpinned", "CKV_PLAT_9", r"no version: every apply installs the chart's latest release"),
    Case("helm-range", "CKV_PLAT_9", r"version '\^1.3.0' is a range"),
    Case("helm-good", "CKV_PLAT_9", None),
    Case("helm-not-atomic", "CKV_PLAT_10", r"atomic is not true"),
    Case("helm-good", "CKV_PLAT_10", None),
    Case("helm-http", "CKV_PLAT_11", r"repository 'http://charts.example.com' is not https:// or oci://"),
    Case("helm-good", "CKV_PLAT_11", None),
    Case("eks-open", "CKV_PLAT_12", r"authentication_mode CONFIG_MAP lets the aws-auth ConfigMap grant "
                                    r"cluster-admin.* the cluster creator gets cluster-admin implicitly"),
    Case("eks-good", "CKV_PLAT_12", None),
    Case("assoc-admin-listed", "CKV_PLAT_12", None),
    Case("assoc-admin-unlisted", "CKV_PLAT_12", rf"AmazonEKSClusterAdminPolicy at cluster scope for {TEAM}, which "
                                                r"is not one of the environment's admin roles"),
    Case("assoc-view-cluster-unlisted", "CKV_PLAT_12", r"AmazonEKSViewPolicy at cluster scope for .*team-checkout"),
    Case("assoc-namespaced", "CKV_PLAT_12", None),
    Case("entry-masters", "CKV_PLAT_12", r"kubernetes_groups system:masters is cluster-admin"),
]


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, dict]:
    """The fixture stack, synthesized like the app (the ``//`` metadata included) and scanned once."""
    outdir = tmp_path_factory.mktemp("fixtures") / "cdktf.out"
    app = App(outdir=str(outdir))
    build_fixtures(TerraformStack(app, STACK))
    app.synth()
    stack_json = json.loads((outdir / "stacks" / STACK / "cdk.tf.json").read_text())
    return scan(outdir, admins={"staging": {ADMIN}, "production": set()}), stack_json


@pytest.mark.parametrize("case", CASES, ids=str)
def test_check(fixtures: tuple[Report, dict], case: Case) -> None:
    report, stack_json = fixtures
    passed, details = verdict(report, STACK, address_of(stack_json, f"{STACK}/{case.construct}"), case.check_id)
    if case.message is None:
        assert passed, details
    else:
        assert not passed
        assert re.search(case.message, details), details


def test_every_check_of_ours_is_tried_both_ways() -> None:
    from policy.scanner import known_checks

    ours = {check_id for check_id in known_checks() if check_id.startswith("CKV_PLAT_")}
    assert {case.check_id for case in CASES if case.message} == ours
    assert {case.check_id for case in CASES if case.message is None} == ours


def test_an_exception_on_a_parent_construct_accepts_the_finding_with_its_reason(fixtures: tuple[Report, dict],
                                                                              ) -> None:
    report, stack_json = fixtures
    key = address_of(stack_json, f"{STACK}/accepted/key")
    assert [(f.check_id, f.suppression.reason if f.suppression else None) for f in report.suppressed
            if f.resource == key] == [("CKV_PLAT_1", SUPPRESSED_REASON)]
    assert not [f for f in report.failed if f.resource == key and f.check_id == "CKV_PLAT_1"]


# --- the command line -------------------------------------------------------------------------------------


def test_nothing_to_scan_exits_2_with_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--synth-dir", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"error: no synthesized stacks in {tmp_path}/stacks; run `pipenv run synth` first\n"


def test_an_unknown_stack_exits_2(synth_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--synth-dir", str(synth_dir), "--stack", "staging-nope"]) == 2
    assert capsys.readouterr().err.startswith("error: no stack staging-nope in ")


def test_a_clean_stack_exits_0_and_says_so_in_json(synth_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--synth-dir", str(synth_dir), "--stack", "staging-state", "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert summary["ok"] is True
    assert summary["failed"] == summary["errors"] == 0
    assert summary["passed"] > 30


def test_checks_lists_ours_with_their_reasons(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checks", "--format", "json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in listing["checks"]] == [f"CKV_PLAT_{n}" for n in range(1, 13)]
    assert all(c["name"] and len(c["reason"]) > 40 and c["types"] for c in listing["checks"])
