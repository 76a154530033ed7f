"""``service secrets``: the Secrets Manager secrets an environment reads but does not create.

Read from the built app, not from a list kept by hand: every ExternalSecret of
the environment's stacks names the secrets and keys it reads (a service's
``secrets=``, the Alertmanager receivers' ``<env>/platform/alertmanager``, and
whatever comes next); the secrets the stacks create themselves (a cache's
connection secret) are left out. People create the rest, before the first
apply, in the environment's account and region; until then the ExternalSecret
cannot sync and the pods that read it do not start.

``check`` asks Secrets Manager, with the caller's credentials, which of them
exist and hold their keys. It reads a secret's value to learn its keys, keeps
only the key names and never prints or returns a value.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stacks import EnvironmentStacks

__all__ = ["MISSING_EXIT", "AccountMismatch", "KeyStatus", "RequiredSecret", "check", "required"]

#: ``service secrets --check`` exits with this when a secret or key is missing or could not be checked.
MISSING_EXIT = 3


class KeyStatus(StrEnum):
    PRESENT = "present"
    MISSING = "missing"
    UNKNOWN = "unknown"  # the secret exists but its value could not be read


@dataclass
class RequiredSecret:
    """One secret the environment reads, its keys and who reads each (construct paths).

    After ``check``: ``status`` per key, and ``note`` saying why a secret is missing or unknown.
    """

    name: str
    keys: dict[str, list[str]] = field(default_factory=dict)
    status: dict[str, KeyStatus] = field(default_factory=dict)
    note: str | None = None

    @property
    def needed_by(self) -> list[str]:
        return sorted({path for paths in self.keys.values() for path in paths})

    def as_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "name": self.name,
            "keys": [{"key": key, "needed_by": paths, **({"status": str(self.status[key])} if self.status else {})}
                     for key, paths in self.keys.items()]}
        if self.status:
            document["note"] = self.note
        return document


def required(stacks: EnvironmentStacks) -> list[RequiredSecret]:
    """The secrets ``stacks`` (one environment) read through ExternalSecrets and do not create, by name."""
    from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
    from cdktf_cdktf_provider_kubernetes.manifest import Manifest

    roots = (stacks.cluster, stacks.addons, stacks.platform, stacks.services)
    constructs = [c for root in roots for c in root.node.find_all()]
    created = {c.name_input for c in constructs if isinstance(c, SecretsmanagerSecret)}
    found: dict[str, RequiredSecret] = {}
    for construct in constructs:
        if not isinstance(construct, Manifest):
            continue
        manifest = construct.manifest_input
        if not isinstance(manifest, Mapping) or manifest.get("kind") != "ExternalSecret":
            continue
        reader = construct.node.scope.node.path if construct.node.scope else construct.node.path
        for name, key in _references(manifest.get("spec", {})):
            if name in created:
                continue
            secret = found.setdefault(name, RequiredSecret(name))
            readers = secret.keys.setdefault(key, [])
            if reader not in readers:
                readers.append(reader)
    for secret in found.values():
        secret.keys = {key: sorted(paths) for key, paths in sorted(secret.keys.items())}
    return [found[name] for name in sorted(found)]


def _references(spec: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    """``(secret name, key)`` of every remote reference of an ExternalSecret spec; ``*`` for a whole secret."""
    for entry in spec.get("data", ()):
        ref = entry.get("remoteRef", {})
        yield ref["key"], ref.get("property", "*")
    for entry in spec.get("dataFrom", ()):
        if "extract" in entry:
            yield entry["extract"]["key"], "*"


class AccountMismatch(Exception):
    """The caller's credentials are for another account than the environment's."""


def check(secrets: list[RequiredSecret], *, account_id: str, client: Any, sts: Any) -> bool:
    """Fill in each secret's ``status`` from Secrets Manager (``client``); True when everything is present.

    ``sts`` tells the caller's account first: credentials of another account would report every
    secret missing, so that is refused (``AccountMismatch``).
    """
    caller = sts.get_caller_identity()["Account"]
    if caller != account_id:
        raise AccountMismatch(caller)
    errors = client.exceptions
    for secret in secrets:
        try:
            response = client.get_secret_value(SecretId=secret.name)
        except errors.ResourceNotFoundException:
            secret.status, secret.note = dict.fromkeys(secret.keys, KeyStatus.MISSING), "no such secret"
            continue
        except errors.InvalidRequestException:  # scheduled for deletion
            secret.status = dict.fromkeys(secret.keys, KeyStatus.MISSING)
            secret.note = "scheduled for deletion: restore it (restore-secret) or create it again"
            continue
        except errors.ClientError as error:  # not allowed to read it (or to decrypt it): does it exist?
            code = error.response.get("Error", {}).get("Code", "error")
            try:
                client.describe_secret(SecretId=secret.name)
            except errors.ResourceNotFoundException:
                secret.status, secret.note = dict.fromkeys(secret.keys, KeyStatus.MISSING), "no such secret"
                continue
            except errors.ClientError:
                pass
            secret.status = dict.fromkeys(secret.keys, KeyStatus.UNKNOWN)
            secret.note = f"keys not checked: its value is not readable with your credentials ({code})"
            continue
        keys = _keys(response.get("SecretString"))
        del response  # the value goes no further than this line
        if keys is None:
            secret.status = dict.fromkeys(secret.keys, KeyStatus.MISSING)
            secret.note = "its value is not a JSON object; store one key per entry, e.g. {\"key\": \"...\"}"
            continue
        secret.status = {key: KeyStatus.PRESENT if key == "*" or key in keys else KeyStatus.MISSING
                         for key in secret.keys}
        secret.note = None
    return all(status is KeyStatus.PRESENT for secret in secrets for status in secret.status.values())


def _keys(value: str | None) -> set[str] | None:
    """The top-level keys of a JSON object secret; None for anything else."""
    try:
        document = json.loads(value) if value is not None else None
    except ValueError:
        return None
    return set(document) if isinstance(document, dict) else None
