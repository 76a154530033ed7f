"""Which arguments of a resource hold secrets, by position: what the review masks whatever their value.

Three sources, because no single one covers the resource types this library emits:

- the providers' schemas: every argument a provider marks ``sensitive`` or
  ``write_only`` (``sensitive_arguments.json``). The prebuilt bindings do not
  carry that flag (neither their jsii assemblies, ``_jsii/*.jsii.tgz``, nor the
  generated Python), and no installed package holds the schemas, so the table is
  generated from ``terraform providers schema -json`` (``python -m
  delivery.sensitive schema.json``) and kept in the repository; its header says
  from which provider builds. A test checks every entry against the installed
  bindings (a type or argument the pinned provider does not have fails), and,
  where botocore's service models (installed) mark the matching API member
  sensitive (``SecretString``, SSM ``Value``...), that the table has it too;
- what Kubernetes, AWS and Terraform keep secret by design: a Secret's ``data``
  and ``stringData`` (also in a ``kubernetes_manifest``), a Secrets Manager
  value and every key inside it (often a JSON document or a ``jsonencode(...)``
  expression), SSM parameter values, and write-only arguments (``*_wo``), which
  exist only to carry secrets;
- names and shapes (``constructs_lib.redact``), applied to every leaf anyway.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["TABLE", "from_schema", "secret_argument"]

TABLE = Path(__file__).resolve().parent / "sensitive_arguments.json"

#: Arguments secret by design, whatever the provider's schema says: resource type -> top-level arguments.
_BY_DESIGN = {
    "aws_secretsmanager_secret_version": ("secret_string", "secret_binary", "secret_string_wo"),
    "aws_ssm_parameter": ("value", "insecure_value", "value_wo"),
    "kubernetes_secret_v1": ("data", "binary_data", "data_wo", "binary_data_wo"),
    "kubernetes_secret": ("data", "binary_data", "data_wo", "binary_data_wo"),
    "kubernetes_secret_v1_data": ("data",),  # not marked sensitive by the provider (2.38.0), secret all the same
}
#: In a ``kubernetes_manifest`` of kind Secret.
_MANIFEST_SECRET_FIELDS = ("manifest.data", "manifest.stringData")


@cache
def _table() -> dict[str, tuple[str, ...]]:
    resources = json.loads(TABLE.read_text())["resources"]
    return {type_: tuple(paths) for type_, paths in resources.items()}


def _plain(path: str) -> str:
    """``user[0].password`` and ``user.password`` are the same argument (blocks are lists of one)."""
    return re.sub(r"\[\d+\]", "", path)


def secret_argument(resource_type: str, path: str, body: Mapping[str, Any] | None = None) -> bool:
    """True when ``path`` (``secret_string``, ``user[0].password``, ``manifest.data.token``) of a
    ``resource_type`` holds a secret by position: provider-sensitive, write-only, or secret by design."""
    plain = _plain(path)
    top = plain.split(".", 1)[0].split(" > ", 1)[0]
    if top.endswith("_wo"):
        return True
    arguments = _table().get(resource_type, ()) + _BY_DESIGN.get(resource_type, ())
    if any(plain == a or plain.startswith((a + ".", a + " > ")) for a in arguments):
        return True
    if resource_type == "kubernetes_manifest" and body is not None:
        manifest = body.get("manifest")
        if isinstance(manifest, Mapping) and manifest.get("kind") == "Secret":
            return any(plain == f or plain.startswith(f + ".") for f in _MANIFEST_SECRET_FIELDS)
    return False


# -- generating the table from a provider schema -----------------------------------------------------

def _sensitive_paths(block: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for name, attribute in sorted(block.get("attributes", {}).items()):
        configurable = attribute.get("optional") or attribute.get("required")
        if configurable and (attribute.get("sensitive") or attribute.get("write_only")):
            yield prefix + name
    for name, nested in sorted(block.get("block_types", {}).items()):
        yield from _sensitive_paths(nested["block"], f"{prefix}{name}.")


def from_schema(schema: Mapping[str, Any]) -> dict[str, list[str]]:
    """Resource type -> configurable arguments marked sensitive or write-only, from the JSON of
    ``terraform providers schema -json``."""
    table: dict[str, list[str]] = {}
    for provider in schema["provider_schemas"].values():
        for type_, resource in provider.get("resource_schemas", {}).items():
            paths = list(_sensitive_paths(resource["block"]))
            if paths:
                table[type_] = paths
    return dict(sorted(table.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Merge a provider schema's sensitive arguments into "
                                                 f"{TABLE.name}.")
    parser.add_argument("schema", type=Path, help="output of `terraform providers schema -json`")
    parser.add_argument("--provider", required=True, help="provider name and version, e.g. aws=6.25.0")
    args = parser.parse_args(argv)
    name, _, version = args.provider.partition("=")
    data = json.loads(TABLE.read_text())
    generated = from_schema(json.loads(args.schema.read_text()))
    resources = {t: p for t, p in data["resources"].items() if not t.startswith(f"{name}_")}
    resources.update({t: p for t, p in generated.items() if t.startswith(f"{name}_")})
    data["resources"] = dict(sorted(resources.items()))
    data["providers"][name] = {"version": version, "source": f"terraform providers schema -json ({name} {version})"}
    TABLE.write_text(json.dumps(data, indent=2) + "\n")
    print(f"{TABLE.name}: {sum(t.startswith(name + '_') for t in resources)} {name} resource types")
    return 0


if __name__ == "__main__":
    sys.exit(main())
