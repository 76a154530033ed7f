"""``constructs_lib.redact``: every credential shape is masked, in values, documents, text and errors;
ordinary values stay readable."""

from __future__ import annotations

import json

import pytest
from credential_shapes import CREDENTIALS, ORDINARY, Credential

from constructs_lib import redact as redact_module
from constructs_lib.redact import (
    CREDENTIAL_SHAPES,
    MASK,
    looks_like_credential,
    redact,
    redact_text,
    secret_under,
    sensitive_name,
)
from constructs_lib.validation import Checks, ConfigError, Problem

IDS = [c.kind for c in CREDENTIALS]


def leaks(credential: Credential, output: str) -> bool:
    """The secret is in ``output``, as it is or as JSON text writes it."""
    return credential.secret in output or json.dumps(credential.secret)[1:-1] in output


@pytest.mark.parametrize("credential", CREDENTIALS, ids=IDS)
def test_each_credential_shape_is_recognised(credential: Credential) -> None:
    assert looks_like_credential(credential.value)
    assert redact(credential.value) == MASK


@pytest.mark.parametrize("value", ORDINARY)
def test_ordinary_values_are_not_masked(value: str) -> None:
    assert not looks_like_credential(value)
    assert redact(value) == value
    assert redact_text(f"value {value} here") == f"value {value} here"
    assert redact({"config": {"value": value}}) == {"config": {"value": value}}


@pytest.mark.parametrize("credential", CREDENTIALS, ids=IDS)
def test_masked_wherever_it_appears(credential: Credential) -> None:
    """An env value under a plain name, a Helm value, a JSON document in a string, an error, free text."""
    env = [{"name": "NOTIFY_TARGET", "value": credential.value}, {"name": "LOG_LEVEL", "value": "info"}]
    helm_values = json.dumps({"alerting": {"target": credential.value, "replicas": 2}})
    document = {"data": {"settings.json": json.dumps({"endpoint": credential.value, "region": "eu-west-1"})}}
    outputs = {
        "env": json.dumps(redact(env)),
        "helm values": json.dumps(redact({"values": [helm_values]})),
        "JSON document": json.dumps(redact(document)),
        "free text": redact_text(f"error: cannot reach {credential.value} (timeout)"),
        "JSON text": redact_text(json.dumps({"target": credential.value, "next": "kept"})),
    }
    for where, output in outputs.items():
        assert not leaks(credential, output), where
    assert "info" in outputs["env"] and "eu-west-1" in outputs["JSON document"]
    assert json.loads(outputs["JSON text"])["next"] == "kept"  # masking text keeps JSON valid


@pytest.mark.parametrize("credential", CREDENTIALS, ids=IDS)
def test_config_errors_never_print_a_credential(credential: Credential) -> None:
    checks = Checks("staging-services/checkout")
    checks.require(False, "env['NOTIFY_TARGET']", credential.value, "use a Secrets Manager reference")
    checks.require(False, "env", {"NOTIFY_TARGET": credential.value, "LOG_LEVEL": "info"}, "move it to secrets=")
    checks.require(False, "webhook", "x", f"the fix quotes it: {credential.value}")
    with pytest.raises(ConfigError) as caught:
        checks.done()
    message = str(caught.value)
    assert not leaks(credential, message)
    assert "LOG_LEVEL" in message and "use a Secrets Manager reference" in message


def test_names_that_hold_secrets_and_names_that_refer_to_them() -> None:
    secret = ["DB_PASSWORD", "env['DB_PASSWORD']", "auth_token", "PAYMENT_API_KEY", "apiKey", "clientSecret",
              "secret_string", "slack_webhook_url", "SENTRY_DSN", "private_key", "routing_key", "user_password"]
    reference = ["secret_name", "existingSecret", "secretKeyRef", "passwordFile", "passwordKey",
                 "routing_key_file", "webhook_url_secret", "DB_PASSWORD_REF", "auth_token_update_strategy",
                 "http_tokens", "secrets", "name_prefix", "value"]
    assert [n for n in secret if not sensitive_name(n)] == []
    assert [n for n in reference if sensitive_name(n)] == []


def test_a_sensitive_name_masks_the_value_but_not_a_flag_or_a_component() -> None:
    assert redact({"password": "hunter2", "password_enabled": True}) == {"password": MASK, "password_enabled": True}
    assert redact({"automount_service_account_token": False}) == {"automount_service_account_token": False}
    # ``webhook:`` of a chart names a component: its settings are searched, not hidden.
    assert redact({"webhook": {"replicaCount": 2, "token": "abc"}}) == {"webhook": {"replicaCount": 2,
                                                                                     "token": MASK}}
    assert secret_under("webhook", "https://example.com/hook") and not secret_under("webhook", {"port": 443})
    # A name/value entry: the name decides for the value.
    assert redact([{"name": "API_TOKEN", "value": "plain"}]) == [{"name": "API_TOKEN", "value": MASK}]


def test_every_shape_is_in_the_catalogue() -> None:
    """A shape added to redact.py without an example in the catalogue fails here."""
    unused = [kind for kind, shape in CREDENTIAL_SHAPES if not any(shape.search(c.value) for c in CREDENTIALS)]
    assert unused == []


def test_the_catalogue_fails_without_masking(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks above can fail: with shape detection off, every credential under a plain name leaks."""
    monkeypatch.setattr(redact_module, "looks_like_credential", lambda value: False)
    monkeypatch.setattr(redact_module, "CREDENTIAL_SHAPES", ())
    monkeypatch.setattr(redact_module, "_KEY_VALUE", redact_module.re.compile(r"(?!x)x()()()"))
    monkeypatch.setattr(redact_module, "_secret_word", lambda word: False)
    leaked = [c.kind for c in CREDENTIALS if leaks(c, json.dumps(redact([{"name": "TARGET", "value": c.value}])))
              and leaks(c, redact_text(c.value)) and leaks(c, Problem("target", c.value, "fix").render())]
    assert leaked == IDS
