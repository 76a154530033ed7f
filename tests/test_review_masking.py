"""Nothing secret is printed by the review (issue 14, item 1), in Markdown and in JSON.

One change puts every credential of the catalogue (``credential_shapes.py``) where
developers put them by mistake: plain env values, Helm values, a JSON document in a
ConfigMap, a new resource; and changes values that are secret by position (Secret
data and stringData, a Secrets Manager string and its keys, SSM parameter values,
provider-sensitive and write-only arguments). The review must show the changes and
never the values; ordinary values must stay readable.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import botocore.session
import pytest
from credential_shapes import CREDENTIALS, ORDINARY
from review_helpers import binding_has, both_formats, make_repo, resource, strings

from delivery import review as review_module
from delivery.sensitive import TABLE, secret_argument

STACK = "staging-services"

#: Values secret only by where they are: made-up words that must not be shown (none looks like a credential).
BY_POSITION = {
    "SSM parameter value": "ssm-value-orange",
    "Secret data": "secret-data-lemon",
    "Secret stringData in a manifest": "manifest-string-data-plum",
    "secret_string key": "secret-string-key-fig",
    "secret_string in jsonencode": "jsonencode-key-kiwi",
    "provider-sensitive argument": "db-password-grape",
    "write-only argument": "write-only-melon",
    "Helm set_sensitive": "set-sensitive-pear",
}


def stacks(*, head: bool) -> dict:
    def pick(index: int, value: str) -> str:
        return value if head else f"placeholder-{index}"

    plain = [{"name": f"PLAIN_{i}", "value": value if head else f"before-{i}"} for i, value in enumerate(ORDINARY)]
    leaking = [{"name": f"TARGET_{i}", "value": pick(i, c.value)} for i, c in enumerate(CREDENTIALS)]
    by_position = {k: (v if head else f"old-{i}") for i, (k, v) in enumerate(BY_POSITION.items())}
    helm_values = {"alerting": {f"target{i}": pick(i, c.value) for i, c in enumerate(CREDENTIALS)},
                   "replicas": 2}
    document = {f"endpoint{i}": pick(i, c.value) for i, c in enumerate(CREDENTIALS)}
    secret_string = (f'${{jsonencode({{"host" = aws_elasticache_replication_group.x.primary_endpoint_address, '
                     f'"token" = "{by_position["secret_string in jsonencode"]}"}})}}')
    resources = {
        "kubernetes_deployment_v1": {"notify_deployment_1": resource(
            f"{STACK}/notify/deployment", metadata={"name": "notify"},
            spec={"template": {"spec": {"container": [{"name": "notify", "env": plain + leaking}]}}})},
        "helm_release": {"alerts_release_2": resource(
            f"{STACK}/alerts/release", chart="alerts", values=[json.dumps(helm_values)],
            set_sensitive=[{"name": "grafana.admin", "value": by_position["Helm set_sensitive"]}])},
        "kubernetes_config_map_v1": {"notify_settings_3": resource(
            f"{STACK}/notify/settings", data={"settings.json": json.dumps(document)})},
        "aws_ssm_parameter": {"notify_flag_4": resource(f"{STACK}/notify/flag", name="/notify/region",
                                                        value=by_position["SSM parameter value"])},
        "kubernetes_secret_v1": {"notify_secret_5": resource(f"{STACK}/notify/secret", metadata={"name": "notify"},
                                                             data={"user": by_position["Secret data"]})},
        "kubernetes_manifest": {"notify_manifest_6": resource(f"{STACK}/notify/manifest", manifest={
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "notify-2"},
            "stringData": {"user": by_position["Secret stringData in a manifest"]}})},
        "aws_secretsmanager_secret_version": {
            "notify_value_7": resource(f"{STACK}/notify/value", secret_id="x", secret_string=json.dumps(
                {"host": "cache.internal", "user": by_position["secret_string key"]})),
            "notify_value_8": resource(f"{STACK}/notify/value-2", secret_id="y", secret_string=secret_string,
                                       secret_string_wo=by_position["write-only argument"])},
        "aws_db_instance": {"notify_db_9": resource(f"{STACK}/notify/db", instance_class="db.t4g.micro",
                                                    password=by_position["provider-sensitive argument"])},
    }
    if head:  # and a new resource holding them all
        resources["kubernetes_deployment_v1"]["notify-2_deployment_10"] = resource(
            f"{STACK}/notify-2/deployment", metadata={"name": "notify-2"},
            spec={"template": {"spec": {"container": [{"name": "notify-2", "env": leaking}]}}})
    return {STACK: {"resource": resources}}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict, str, str]:
    root = tmp_path_factory.mktemp("masking")
    tempfile.tempdir, saved = str(root), tempfile.tempdir
    try:
        repo = make_repo(root / "repo", stacks(head=False))
        (repo / "stacks.json").write_text(json.dumps(stacks(head=True)))
        result = review_module.review(repo, "main")
    finally:
        tempfile.tempdir = saved
    raw_json = review_module.render_json(result)
    return result.exit_code, json.loads(raw_json), raw_json, review_module.render_markdown(result)


def shown(value: str, text: str) -> bool:
    return value in text or json.dumps(value)[1:-1] in text


@pytest.mark.parametrize("credential", CREDENTIALS, ids=[c.kind for c in CREDENTIALS])
def test_no_credential_in_any_output(outputs, credential) -> None:
    _, report, raw_json, markdown = outputs
    assert not shown(credential.secret, markdown)
    assert not shown(credential.secret, raw_json)
    assert not [s for s in strings(report) if credential.secret in s]


@pytest.mark.parametrize("where", BY_POSITION)
def test_values_secret_by_position_are_masked(outputs, where: str) -> None:
    _, _, raw_json, markdown = outputs
    assert not shown(BY_POSITION[where], markdown) and not shown(BY_POSITION[where], raw_json)


def test_the_changes_are_shown_masked(outputs) -> None:
    code, report, _, markdown = outputs
    assert code == review_module.CHANGE
    changes = {c["address"]: c for c in report["environments"]["staging"]["changes"]}
    env = {a["path"]: a for a in changes["kubernetes_deployment_v1.notify_deployment_1"]["changes"]}
    first = len(ORDINARY)  # the first TARGET_ entry
    assert env[f"spec.template.spec.container[0].env[{first}].value"] == {
        "path": f"spec.template.spec.container[0].env[{first}].value", "before": "placeholder-0",
        "after": "(sensitive)"}
    secret = changes["aws_secretsmanager_secret_version.notify_value_7"]["changes"]
    assert secret == [{"path": "secret_string > user", "before": "(sensitive)", "after": "(sensitive)"}]
    assert '    data.user: "(sensitive)" -> "(sensitive)"' not in markdown  # masks are not quoted
    assert "    data.user: (sensitive) -> (sensitive)" in markdown
    assert '    values[0] > alerting.target0: "placeholder-0" -> (sensitive)' in markdown
    assert '    data.settings.json > endpoint0: "placeholder-0" -> (sensitive)' in markdown


@pytest.mark.parametrize("value", ORDINARY)
def test_ordinary_values_stay_readable(outputs, value: str) -> None:
    _, report, _, markdown = outputs
    assert shown(value, markdown)
    assert value in strings(report)


def test_without_masking_the_credentials_would_show(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys) -> None:
    """The checks above can fail: with shape detection and the final scan off, credentials are printed."""
    monkeypatch.setattr(review_module, "looks_like_credential", lambda value: False)
    monkeypatch.setattr(review_module, "redact_text", lambda text: text)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    repo = make_repo(tmp_path / "repo", stacks(head=False))
    _, report, markdown = both_formats(repo, stacks(head=True), capsys)
    leaked = [c.kind for c in CREDENTIALS if any(c.secret in s for s in strings(report))]
    assert leaked == [c.kind for c in CREDENTIALS]
    assert shown(CREDENTIALS[0].secret, markdown)


# -- the sources of "secret by position" ------------------------------------------------------------

def test_the_sensitive_table_names_real_arguments_of_the_installed_bindings() -> None:
    """Generated from a provider schema: every type and argument (each level of a nested one) must exist in
    the pinned bindings, so a table from another provider version cannot silently mask nothing."""
    table = json.loads(TABLE.read_text())["resources"]
    missing = [(type_, path) for type_, paths in table.items() for path in paths if not binding_has(type_, path)]
    assert missing == []
    # ... which would catch an entry of a type or argument the pinned provider does not have:
    assert not binding_has("aws_opsworks_stack", "custom_cookbooks_source.password")  # gone in provider 6
    assert not binding_has("aws_db_instance", "master_password")  # it is ``password``
    assert table["aws_elasticache_replication_group"] == ["auth_token"]
    assert "value" in table["aws_ssm_parameter"] and "secret_string" in table["aws_secretsmanager_secret_version"]


#: (resource type, argument) <- (botocore service, operation, member) for the same value.
_BOTOCORE = {
    ("aws_secretsmanager_secret_version", "secret_string"): ("secretsmanager", "PutSecretValue", "SecretString"),
    ("aws_secretsmanager_secret_version", "secret_binary"): ("secretsmanager", "PutSecretValue", "SecretBinary"),
    ("aws_ssm_parameter", "value"): ("ssm", "PutParameter", "Value"),
    ("aws_redshift_cluster", "master_password"): ("redshift", "CreateCluster", "MasterUserPassword"),
    ("aws_acm_certificate", "private_key"): ("acm", "ImportCertificate", "PrivateKey"),
    ("aws_opensearch_domain", "advanced_security_options.master_user_options.master_user_password"): (
        "opensearch", "CreateDomain", "AdvancedSecurityOptions.MasterUserOptions.MasterUserPassword"),
}


@pytest.mark.parametrize(("argument", "api"), _BOTOCORE.items(), ids=[a for _, a in _BOTOCORE])
def test_botocore_agrees(argument: tuple[str, str], api: tuple[str, str, str]) -> None:
    """botocore, an installed package, marks the same API members sensitive."""
    service, operation, member = api
    shape = botocore.session.get_session().get_service_model(service).operation_model(operation).input_shape
    for part in member.split("."):
        shape = shape.members[part]
    assert shape.metadata.get("sensitive") is True
    assert secret_argument(*argument)


def test_secret_by_design_and_write_only() -> None:
    assert secret_argument("kubernetes_secret_v1", "data.password")
    assert secret_argument("kubernetes_secret_v1_data", "data.token")
    assert secret_argument("aws_secretsmanager_secret_version", "secret_string > auth_token")
    assert secret_argument("aws_anything", "password_wo")
    assert secret_argument("kubernetes_manifest", "manifest.stringData.x", {"manifest": {"kind": "Secret"}})
    assert not secret_argument("kubernetes_manifest", "manifest.stringData.x", {"manifest": {"kind": "ConfigMap"}})
    assert not secret_argument("kubernetes_secret_v1", "metadata.name")
    assert not secret_argument("aws_secretsmanager_secret", "name")
