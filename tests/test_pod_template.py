"""The shared pod template: one set of data, rendered into any workload's generated structs, keys intact."""

from __future__ import annotations

import pytest
from cdktf_cdktf_provider_kubernetes.cron_job_v1 import (
    CronJobV1,
    CronJobV1Metadata,
    CronJobV1Spec,
    CronJobV1SpecJobTemplate,
    CronJobV1SpecJobTemplateSpec,
    CronJobV1SpecJobTemplateSpecTemplate,
)
from cdktf_cdktf_provider_kubernetes.deployment_v1 import (
    DeploymentV1,
    DeploymentV1Metadata,
    DeploymentV1Spec,
    DeploymentV1SpecSelector,
    DeploymentV1SpecTemplate,
)
from cdktf_cdktf_provider_kubernetes.job_v1 import JobV1, JobV1Metadata, JobV1Spec, JobV1SpecTemplate

from constructs_lib import Taint, TaintEffect
from constructs_lib._pod import CONFIG_DIR, PodTemplate, to_struct
from helpers import only, synth

POD = PodTemplate(name="report", image="registry.example.com/report:1.0.0", labels={"app": "report"},
                  cpu="250m", memory="512Mi", checksum="0123456789abcdef", env={"B": "2", "A": "1"},
                  secret_env=("TOKEN",), secret_name="report-secrets", config_map="report-config",
                  tolerations=(Taint(key="workload", value="batch", effect=TaintEffect.NO_SCHEDULE),),
                  node_selector={"workload": "batch"})


def rendered() -> dict:
    """The same template in a Deployment, a CronJob and a Job."""
    template = POD.template(POD.container())

    def build(stack) -> None:
        DeploymentV1(stack, "deployment", metadata=DeploymentV1Metadata(name="report"), spec=DeploymentV1Spec(
            selector=DeploymentV1SpecSelector(match_labels={"app": "report"}),
            template=to_struct(DeploymentV1SpecTemplate, template)))
        CronJobV1(stack, "cron-job", metadata=CronJobV1Metadata(name="report"), spec=CronJobV1Spec(
            schedule="0 3 * * *", job_template=CronJobV1SpecJobTemplate(
                metadata={}, spec=CronJobV1SpecJobTemplateSpec(
                    template=to_struct(CronJobV1SpecJobTemplateSpecTemplate, template)))))
        JobV1(stack, "job", metadata=JobV1Metadata(name="report"),
              spec=JobV1Spec(template=to_struct(JobV1SpecTemplate, template)))

    return synth(build)


@pytest.fixture(scope="module")
def stack() -> dict:
    return rendered()


def pod_templates(stack: dict) -> dict[str, dict]:
    return {
        "deployment": only(stack, "kubernetes_deployment_v1")["spec"]["template"],
        "cron job": only(stack, "kubernetes_cron_job_v1")["spec"]["job_template"]["spec"]["template"],
        "job": only(stack, "kubernetes_job_v1")["spec"]["template"],
    }


def test_every_workload_kind_gets_the_same_pod(stack: dict) -> None:
    templates = pod_templates(stack)
    assert templates["cron job"] == templates["deployment"] == templates["job"]


def test_multi_word_keys_survive_inside_lists(stack: dict) -> None:
    """The pitfall DESIGN.md names: plain dicts in lists can lose ``security_context``; structs do not."""
    for kind, template in pod_templates(stack).items():
        (container,) = template["spec"]["container"]
        assert container["security_context"] == {
            "allow_privilege_escalation": False, "read_only_root_filesystem": True, "run_as_non_root": True,
            "privileged": False, "capabilities": {"drop": ["ALL"]}}, kind
        assert container["image_pull_policy"] == "IfNotPresent", kind
        assert container["volume_mount"] == [{"name": "tmp", "mount_path": "/tmp"},
                                             {"name": "config", "mount_path": CONFIG_DIR, "read_only": True}], kind
        assert container["env"] == [
            {"name": "A", "value": "1"}, {"name": "B", "value": "2"},
            {"name": "TOKEN", "value_from": {"secret_key_ref": {"name": "report-secrets", "key": "TOKEN"}}}], kind
        spec = template["spec"]
        assert spec["automount_service_account_token"] is False and spec["service_account_name"] == "report", kind
        assert spec["toleration"] == [{"key": "workload", "operator": "Equal", "value": "batch",
                                       "effect": "NoSchedule"}], kind
        assert spec["volume"][1] == {"name": "config", "config_map": {"name": "report-config"}}, kind
        assert template["metadata"]["annotations"] == {"platform.acme-shop.io/config-checksum": "0123456789abcdef"}


def test_plain_dicts_in_lists_are_what_loses_the_keys() -> None:
    """Shows the defect the struct conversion prevents: the same container as a plain dict in the list."""
    container = POD.container()

    def build(stack) -> None:
        JobV1(stack, "job", metadata=JobV1Metadata(name="report"), spec=JobV1Spec(template=JobV1SpecTemplate(
            metadata={}, spec={"container": [container]})))

    (written,) = only(synth(build), "kubernetes_job_v1")["spec"]["template"]["spec"]["container"]
    assert sorted(written) == ["env", "image", "name", "resources"]  # security_context, volume_mount... gone
    assert {"name": "TOKEN"} in written["env"]  # and the secret reference with them


def test_an_argument_the_struct_lacks_is_an_error_not_a_silent_drop() -> None:
    with pytest.raises(KeyError, match="JobV1SpecTemplateSpec has no argument 'restart_polcy'"):
        to_struct(JobV1SpecTemplate, POD.template(POD.container(), restart_polcy="Never"))
