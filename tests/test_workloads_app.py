"""The new kinds of workload through a whole environment (``tests/workloads_app.py``): the apply order, the
policy scan, the custom-resource schemas and the review's one-line summaries hold for them, and each of those
checks fails on the defect it is for, put back on purpose."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import workloads_app

from delivery import review as review_module
from helpers import resources
from policy import apply_order, scan

STACK = "staging-services"


def construct(stack: dict, type_: str, path: str) -> tuple[str, dict]:
    """(address, body) of the one ``type_`` resource synthesized for construct ``path``."""
    (found,) = [(address, body) for address, body in resources(stack, type_).items()
                if body["//"]["metadata"]["path"] == path]
    return found


# -- the apply order ----------------------------------------------------------------------------------------

def test_the_apply_order_holds(workloads_synth_dir: Path) -> None:
    report = apply_order.check(workloads_synth_dir)
    assert [p.render() for p in report.problems] == []


def test_a_jobs_secret_not_ordered_first_and_one_nothing_makes_are_caught(tmp_path: Path) -> None:
    """The CronJob's pod reads the Secret its ExternalSecret writes: without depends_on, a first run could start
    before the Secret exists. The apply-order proof reads the pod inside the job template, env_from included."""
    def unordered(built, workloads) -> None:
        job = workloads["nightly-report"]
        job.cron_job.depends_on = [job.service_account.fqn]  # not the ExternalSecret any more
        job.cron_job.add_override("spec.job_template.spec.template.spec.container.0.env_from",
                                  [{"secret_ref": {"name": "nowhere"}}])

    app, _, workloads = workloads_app.build(tmp_path, "staging", unordered)
    app.synth()
    external_secret = workloads["nightly-report"].external_secret.friendly_unique_id
    rendered = [p.render() for p in apply_order.check(tmp_path).problems]
    assert sorted(rendered) == [
        "staging-services: staging-services/nightly-report/cron-job needs Secret shop/nightly-report-secrets, which "
        f"kubernetes_manifest.{external_secret} in the same stack makes, but nothing orders it first: add depends_on, "
        "or refer to its attributes",
        "staging-services: staging-services/nightly-report/cron-job needs Secret shop/nowhere, which no earlier stack "
        "makes"]


# -- the policy scan ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def report(workloads_synth_dir: Path):
    return scan(workloads_synth_dir, [STACK])


def test_the_policy_scan_passes(report) -> None:
    assert [f.render() for f in report.failed] == []
    assert [p.render() for p in report.problems] == []


def test_the_workloads_roles_are_checked_for_wildcards(report, workload_stacks: dict) -> None:
    """checkov (CKV_PLAT_2) reads the inline policy of each workload's role, besides rule IAM-NO-WILDCARD."""
    address, _ = construct(workload_stacks[STACK], "aws_iam_role", f"{STACK}/order-consumer/aws-role")
    assert (STACK, f"aws_iam_role.{address}", "CKV_PLAT_2") in report.passed


def as_deployment(name: str, pod_template: dict, suppressions: list) -> dict:
    """A pod template in a Deployment: checkov 3.3 runs its pod checks (CKV_K8S_*) on Deployments only, not on
    a CronJob's job template or a Job."""
    return {"metadata": [{"name": name, "namespace": "shop"}],
            "spec": [{"selector": [{"match_labels": pod_template["metadata"]["labels"]}],
                      "template": [pod_template]}],
            "//": {"metadata": {"path": f"{STACK}/{name}/deployment"}, "suppressions": suppressions}}


def scan_pods(tmp: Path, stack: dict, change=None) -> tuple[set[str], list]:
    """The checks that fail on the scheduled job's and the migration's pods, scanned as Deployments with the
    exceptions a service's Deployment carries; and the report."""
    _, service = construct(stack, "kubernetes_deployment_v1", f"{STACK}/catalog/deployment")
    suppressions = service["//"]["suppressions"]
    _, cron = construct(stack, "kubernetes_cron_job_v1", f"{STACK}/nightly-report/cron-job")
    _, job = construct(stack, "kubernetes_job_v1", f"{STACK}/catalog/migration")
    pods = {"nightly-report": copy.deepcopy(cron["spec"]["job_template"]["spec"]["template"]),
            "catalog-migration": copy.deepcopy(job["spec"]["template"])}
    for pod in pods.values():
        if change:
            change(pod)
    document = {"resource": {"kubernetes_deployment_v1": {
        name.replace("-", "_"): as_deployment(name, pod, suppressions) for name, pod in pods.items()}}}
    folder = tmp / "stacks" / STACK
    folder.mkdir(parents=True)
    (folder / "cdk.tf.json").write_text(json.dumps(document))
    found = scan(tmp, [STACK])
    assert found.problems == []
    return {f.check_id for f in found.failed}, found.suppressed


def test_a_jobs_pod_passes_every_check_a_services_pod_passes(tmp_path: Path, workload_stacks: dict) -> None:
    failed, accepted = scan_pods(tmp_path, workload_stacks[STACK])
    # A pod that runs to completion has nothing to probe: readiness and liveness are a long-running pod's.
    assert failed == {"CKV_K8S_8", "CKV_K8S_9"}
    # Accepted by the service's own exceptions (no CPU limit; immutable tags), each used: none is stale.
    assert {f.check_id for f in accepted} == {"CKV_K8S_11", "CKV_K8S_15", "CKV_K8S_43"}


def test_a_weakened_jobs_pod_fails_that_scan(tmp_path: Path, workload_stacks: dict) -> None:
    def writable(pod: dict) -> None:
        pod["spec"]["container"][0]["security_context"]["read_only_root_filesystem"] = False
        pod["spec"]["container"][0]["security_context"]["allow_privilege_escalation"] = True

    failed, _ = scan_pods(tmp_path, workload_stacks[STACK], writable)
    assert {"CKV_K8S_20", "CKV_K8S_22"} <= failed


# -- custom resources ---------------------------------------------------------------------------------------

def test_every_custom_resource_matches_its_crd_schema(workload_stacks: dict, validate_custom_resources) -> None:
    found = [(address, m["manifest"])
             for address, m in resources(workload_stacks[STACK], "kubernetes_manifest").items()]
    assert {m["kind"] for _, m in found} >= {"PodMonitor", "PrometheusRule", "ExternalSecret", "ServiceMonitor"}
    results = validate_custom_resources([m for _, m in found])
    assert {address: errors for (address, _), errors in zip(found, results, strict=True) if errors} == {}


# -- the review ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def components(workloads_synth_dir: Path) -> dict[str, review_module.Component]:
    review = review_module.compare(None, workloads_synth_dir)
    return {c.name: c for c in review.components if c.stack == STACK}


def test_the_review_summarizes_a_scheduled_job_in_one_line(components: dict) -> None:
    assert components["nightly-report"].summary == (
        "CronJob 30 2 * * * \u00d7 500m/1Gi, timeout 2h, config files report.yaml, AWS s3:PutObject, "
        "network policy admits nothing")


def test_the_review_summarizes_a_worker_in_one_line(components: dict) -> None:
    assert components["order-consumer"].summary == (
        "worker Deployment 2 pods \u00d7 250m/512Mi, AWS sqs:ChangeMessageVisibility, sqs:DeleteMessage, "
        "sqs:ReceiveMessage, network policy admits monitoring/prometheus:9100")


def test_the_review_summarizes_a_migration_config_and_admissions(components: dict) -> None:
    assert components["catalog"].summary == (
        "Deployment 2 pods \u00d7 250m/512Mi, migration Job before each new image, timeout 15m, config files "
        "application.yaml, logback.xml, AWS s3:GetObject, network policy admits monitoring/prometheus:9090, "
        "edge-gateway:8080, order-consumer:8080, nightly-report:8080")


# -- what the services stack gives -------------------------------------------------------------------------

def test_a_workloads_role_trusts_the_clusters_oidc_provider_looked_up_from_the_cluster(workload_stacks: dict) -> None:
    stack = workload_stacks[STACK]
    assert stack["data"]["aws_iam_openid_connect_provider"]["oidc-provider"]["url"] == \
        "${data.aws_eks_cluster.cluster.identity[0].oidc[0].issuer}"
    trusts = {body["//"]["metadata"]["path"]: body for body in stack["data"]["aws_iam_policy_document"].values()}
    (statement,) = trusts[f"{STACK}/nightly-report/aws-role-trust"]["statement"]
    assert statement["principals"] == [{"type": "Federated",
                                        "identifiers": ["${data.aws_iam_openid_connect_provider.oidc-provider.arn}"]}]
    sub = next(c for c in statement["condition"] if c["variable"].endswith(":sub"))
    assert sub["values"] == ["system:serviceaccount:shop:nightly-report"]
    assert sub["variable"] == '${replace(data.aws_iam_openid_connect_provider.oidc-provider.url, "https://", "")}:sub'
