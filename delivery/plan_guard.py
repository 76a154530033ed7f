"""``python -m delivery.plan_guard``: which of a pull request's synthesized stacks may be planned with credentials.

A pull request's code never runs where credentials are: its workflow
synthesizes ``cdktf.out`` with no token and no AWS role and uploads it. A
workflow from ``main`` then downloads that output and, after this check (code
from ``main`` too), plans it with the read-only plan role. Terraform JSON is
code, so the check is an allowlist, compared with what ``main`` itself
synthesizes for the same environment (``--base``):

- only ``stacks/<stack>/cdk.tf.json`` of the stacks ``main`` plans is read,
  as a regular file (no symlink), and copied re-serialized into a fresh
  ``--output``: a provider binary, a lock file, ``*.tf`` or ``*.tfvars`` in the
  artifact is never seen by Terraform;
- the ``terraform`` block (backend, providers, their sources and versions) and
  the ``provider`` blocks equal ``main``'s, and so do the data sources those
  blocks read: the plan talks to the same state file, registry and endpoints;
- top-level blocks, resource types (by provider), data source and ephemeral
  types come from short lists: no ``module``, no ``external`` or
  ``terraform_remote_state`` data source, no ``check`` block;
- no ``provisioner`` or ``connection`` (``local-exec`` runs a program);
- no function that reads the runner's files (``file``, ``templatefile``, ...)
  or strips sensitivity (``nonsensitive``), and no provider-defined function;
- a value that holds a secret in state (a generated password, a secret's
  value, an auth token, Helm values...) is referred to only where ``main``
  already refers to it, with the same expression: a pull request cannot route
  one into a name, a URL or an error message.

Exit 0 (stacks printed, dependencies first), 2 refused (one line per problem
on stderr, nothing written). What this cannot see, and so what stays trusted,
is in the README ("What remains trusted").
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .stacks import ci_stacks, stack_graph

__all__ = ["DATA_SOURCES", "SECRET_ATTRIBUTES", "GuardError", "check_stack", "guard", "main"]

#: Top-level blocks a stack may have. ``module`` (code from elsewhere), ``check`` (its own data sources)
#: and anything else are refused.
BLOCKS = frozenset({"//", "terraform", "provider", "resource", "data", "ephemeral", "output", "locals",
                    "variable", "moved", "import", "removed"})
#: Data sources a pull-request plan may read: the ones the stacks use, each of which reads only
#: descriptions (no object body, no secret value, no other state file). A new one is added here,
#: in a reviewed change to ``main``, after checking what it reads.
DATA_SOURCES = frozenset({"aws_caller_identity", "aws_region", "aws_iam_policy_document", "aws_eks_cluster",
                          "aws_eks_cluster_auth", "aws_iam_openid_connect_provider",
                          "aws_ecr_repository"})  # name, URL, scanning settings, recent tags
#: Ephemeral resources: only ones that make a fresh value (nothing read from anywhere).
EPHEMERAL = frozenset({"random_password"})
#: Attributes that hold a secret in state, per type; a reference to the whole object counts too.
SECRET_ATTRIBUTES: dict[str, frozenset[str]] = {
    "random_password": frozenset({"result", "bcrypt_hash"}),
    "random_string": frozenset({"result"}),
    "aws_secretsmanager_secret_version": frozenset({"secret_string", "secret_binary"}),
    "aws_elasticache_replication_group": frozenset({"auth_token"}),
    "aws_elasticache_user": frozenset({"passwords", "authentication_mode"}),
    "aws_ssm_parameter": frozenset({"value", "insecure_value"}),
    "aws_iam_access_key": frozenset({"secret", "ses_smtp_password_v4"}),
    "aws_eks_cluster_auth": frozenset({"token"}),
    "kubernetes_secret": frozenset({"data", "binary_data"}),
    "kubernetes_secret_v1": frozenset({"data", "binary_data"}),
    "kubernetes_manifest": frozenset({"manifest", "object"}),
    "helm_release": frozenset({"values", "set", "set_sensitive", "set_list", "metadata"}),
}
#: Functions that read the runner's files or strip sensitivity from a value.
FORBIDDEN_FUNCTIONS = ("file", "fileexists", "fileset", "filebase64", "filebase64sha256", "filebase64sha512",
                       "filemd5", "filesha1", "filesha256", "filesha512", "templatefile", "nonsensitive")
_FUNCTION_CALL = re.compile(rf"(?<![\w.:-])({'|'.join(FORBIDDEN_FUNCTIONS)})\s*\(|provider\s*::")
_SECRET_TYPES = "|".join(sorted(SECRET_ATTRIBUTES, key=len, reverse=True))  # longest first: `_v1` wins
#: ``[data.]type.name[index...][.attribute]``, spaces allowed around dots as HCL allows them.
_SECRET_REFERENCE = re.compile(rf"(?<![\w.-])(data\s*\.\s*)?({_SECRET_TYPES})\s*\.\s*([A-Za-z_][\w-]*)"
                               r"((?:\s*\[[^\]]*\])*)(?:\s*\.\s*(\*|[A-Za-z_][\w-]*))?")
_DATA_REFERENCE = re.compile(r"(?<![\w.-])data\s*\.\s*([A-Za-z_]\w*)\s*\.\s*([A-Za-z_][\w-]*)")
_STACK_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
#: Larger than any stack here by two orders of magnitude; refuses a file meant to exhaust the runner.
MAX_BYTES = 50 * 1024 * 1024

Path_ = tuple[str, ...]


class GuardError(Exception):
    """A mistake in how the command was called (missing directory, output already there)."""


def _problem(stack: str, where: str, what: str, fix: str) -> str:
    """One refusal, on one line: ``<stack>: <where>: <what>; <fix>``."""
    return f"{stack}: {where}: {what}; {fix}"


def _strings(value: Any, path: Path_ = ()) -> Iterator[tuple[Path_, str]]:
    """Every string (object keys too) under ``value`` with its path; list indices are ``[]`` so that a list
    growing in front of a value does not move it. ``//`` is not skipped: Terraform ignores it in a block
    body, but in a map it is a key like any other, and its value is evaluated."""
    stack: list[tuple[Path_, Any]] = [(path, value)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, str):
            yield where, node
        elif isinstance(node, dict):
            for key, child in node.items():
                yield where, key
                stack.append(((*where, key), child))
        elif isinstance(node, list):
            stack.extend(((*where, "[]"), child) for child in node)


def _where(address: str, path: Path_) -> str:
    """``kubernetes_deployment_v1.app.spec.template.spec.container[].env[].value``"""
    return "".join([address, *(part if part == "[]" else f".{part}" for part in path)])


def _is_template(text: str) -> bool:
    """Terraform evaluates only what is inside ``${...}`` or ``%{...}``; a plain string is a literal."""
    return "${" in text or "%{" in text


def _malformed(doc: dict) -> str | None:
    """What in ``doc`` is not the shape cdktf writes. Terraform's JSON syntax also takes arrays where cdktf
    writes objects (a block body as a one-element array, say): those would slip past the checks below."""
    for kind in ("resource", "data", "ephemeral"):
        section = doc.get(kind, {})
        if not (isinstance(section, dict) and all(isinstance(named, dict) and all(isinstance(body, dict)
                                                  for body in named.values()) for named in section.values())):
            return f"`{kind}` is not an object of types, of names, of block bodies"
    for kind in ("output", "locals", "variable"):
        if not isinstance(doc.get(kind, {}), dict):
            return f"`{kind}` is not an object"
    for kind in ("output", "variable"):
        if not all(isinstance(body, dict) for body in doc.get(kind, {}).values()):
            return f"a `{kind}` body is not an object"
    for kind in ("moved", "import", "removed"):
        entries = doc.get(kind, [])
        if not (isinstance(entries, list) and all(isinstance(entry, dict) for entry in entries)):
            return f"`{kind}` is not a list of blocks"
    return None


def _blocks(doc: dict) -> Iterator[tuple[str, str, Any]]:
    """``(kind, address, body)`` of every block whose expressions Terraform evaluates (``doc`` well-formed)."""
    for kind in ("resource", "data", "ephemeral"):
        for type_, named in doc.get(kind, {}).items():
            for name, body in named.items():
                prefix = "" if kind == "resource" else f"{kind}."
                yield kind, f"{prefix}{type_}.{name}", body
    for kind in ("output", "locals", "variable"):
        for name, body in doc.get(kind, {}).items():
            yield kind, f"{kind}.{name}", body
    for kind in ("moved", "import", "removed"):
        for i, body in enumerate(doc.get(kind, [])):
            yield kind, f"{kind}[{body.get('to') or body.get('from') or i}]", body


def _secret_references(text: str) -> Iterator[str]:
    """The addresses (``type.name`` or ``data.type.name``) of secret-holding values ``text`` refers to."""
    for match in _SECRET_REFERENCE.finditer(text):
        data, type_, name, _index, attribute = match.groups()
        if attribute is None or attribute == "*" or attribute in SECRET_ATTRIBUTES[type_]:
            yield f"{'data.' if data else ''}{type_}.{name}"


def _existing_addresses(base: dict, doc: dict) -> set[str]:
    """Resources whose values are known at plan time: the ones ``main`` has (so in state), and the targets of
    the pull request's ``moved`` and ``import`` blocks (which bind state to a new address)."""
    addresses = {f"{type_}.{name}" for type_, named in base.get("resource", {}).items() for name in named}
    for kind in ("moved", "import"):
        for body in doc.get(kind, []):
            addresses |= {".".join(m.group(2, 3)) for m in _SECRET_REFERENCE.finditer(str(body.get("to", "")))}
    return addresses


def check_stack(stack: str, doc: Any, base: dict) -> list[str]:
    """Everything in one stack's pull-request JSON (``doc``) that must not be planned with credentials,
    judged against what ``main`` synthesizes for the same stack (``base``)."""
    malformed = _malformed(doc) if isinstance(doc, dict) else "not a JSON object"
    if malformed:
        return [_problem(stack, "cdk.tf.json", malformed, "synthesize it with `pipenv run synth`")]
    problems: list[str] = []
    for key in sorted(set(doc) - BLOCKS):
        problems.append(_problem(stack, key, f"a top-level `{key}` block is not planned from a pull request",
                                 "remove it, or have it planned after merge"))
    for key, what in (("terraform", "backend, provider sources and versions"),
                      ("provider", "accounts, regions, endpoints, credentials")):
        if doc.get(key) != base.get(key):
            problems.append(_problem(stack, key, f"the {key} block ({what}) differs from main's",
                                     "a change to it is planned after merge, by deploy"))
    providers = set(base.get("terraform", {}).get("required_providers", {}))
    provider_data = {".".join(m.groups()) for m in _DATA_REFERENCE.finditer(json.dumps(base.get("provider")))}
    for kind, address, body in _blocks(doc):
        type_ = address.split(".")[-2] if kind in ("resource", "data", "ephemeral") else ""
        if kind == "resource" and type_.split("_")[0] not in providers:
            problems.append(_problem(stack, address, f"resource type `{type_}` is not from the stack's providers "
                                     f"({', '.join(sorted(providers))})", "use a resource of those providers"))
        if kind == "data" and type_ not in DATA_SOURCES:
            problems.append(_problem(stack, address, f"data source `{type_}` is not one a pull-request plan may read",
                                     "add it to delivery/plan_guard.py DATA_SOURCES on main first, or plan after "
                                     "merge"))
        if kind == "ephemeral" and type_ not in EPHEMERAL:
            problems.append(_problem(stack, address, f"ephemeral resource `{type_}` is not one a pull-request plan "
                                     "may open", "plan after merge"))
        if kind == "data" and address.removeprefix("data.") in provider_data \
                and body != base.get("data", {}).get(type_, {}).get(address.split(".")[-1]):
            problems.append(_problem(stack, address, "configures a provider and differs from main's",
                                     "a change to it is planned after merge"))
        if kind in ("resource", "data", "ephemeral", "removed"):
            for key in ("provisioner", "connection"):
                if key in body:
                    problems.append(_problem(stack, address, f"`{key}` runs programs or connects to hosts",
                                             "remove it: the platform's constructs never need one"))
            meta_provider = body.get("provider")
            if meta_provider is not None and str(meta_provider).split(".")[0] not in providers:
                problems.append(_problem(stack, address, f"provider `{meta_provider}` is not configured by main",
                                         "use one of the stack's providers"))
    return problems + _check_expressions(stack, doc, base)


def _check_expressions(stack: str, doc: dict, base: dict) -> list[str]:
    problems: list[str] = []
    reported: set[tuple[str, str]] = set()
    base_strings = {(address, where, text) for _, address, body in _blocks(base) for where, text in _strings(body)}
    existing = _existing_addresses(base, doc)
    for _, address, body in _blocks(doc):
        for where, text in _strings(body):
            if not _is_template(text):
                continue
            if match := _FUNCTION_CALL.search(text):
                name = match.group(1) or "provider::"
                problems.append(_problem(stack, _where(address, where), f"calls `{name}`, which "
                                         + ("reads files on the runner" if name.startswith(("file", "template"))
                                            else "reveals sensitive values" if name == "nonsensitive"
                                            else "is a provider-defined function"),
                                         "remove it: a pull-request plan must not see the runner's files or secrets"))
            for reference in _secret_references(text):
                if (reference.startswith("data.") or reference in existing) \
                        and (address, where, text) not in base_strings and (address, reference) not in reported:
                    reported.add((address, reference))
                    problems.append(_problem(stack, _where(address, where), f"uses the secret value of "
                                             f"`{reference}` where main does not",
                                             "keep secret values where main passes them; plan after merge"))
    return problems


def _read_json(path: Path) -> Any:
    """Parse a file the pull request produced, refusing symlinks, special files and oversized input."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file")
        if info.st_size > MAX_BYTES:
            raise ValueError(f"larger than {MAX_BYTES // 2**20} MiB")
        return json.loads(handle.read())


def _real_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def guard(base: Path, pull_request: Path, env: str) -> tuple[list[str], dict[str, dict], list[str]]:
    """``(stacks, accepted JSON by stack, problems)`` for environment ``env``. The stack list and order come
    from ``main``'s synthesis; the pull request's manifest is never read."""
    if not (base / "manifest.json").is_file():
        raise GuardError(f"--base {base}: no manifest.json; run `pipenv run synth --env {env}` on main first")
    if not _real_dir(pull_request) or not _real_dir(pull_request / "stacks"):
        raise GuardError(f"--pull-request {pull_request}: no stacks/ directory; download the pull request's "
                         "cdktf.out artifact there")
    stacks = ci_stacks(stack_graph(base), env)
    if not stacks:
        raise GuardError(f"--env {env}: main synthesizes no stacks for this environment")
    problems: list[str] = []
    for entry in sorted(os.listdir(pull_request / "stacks")):
        if entry.startswith(f"{env}-") and not entry.endswith("-state") and entry not in stacks:
            shown = entry if _STACK_NAME.match(entry) else repr(entry)
            problems.append(_problem(shown, "stack", "is new: its backend and providers cannot be compared "
                                     "with main's", "it is planned after merge, by deploy"))
    accepted: dict[str, dict] = {}
    for stack in stacks:
        folder = pull_request / "stacks" / stack
        if not folder.exists() and not folder.is_symlink():
            continue  # the pull request removes the stack: nothing to plan
        base_doc = json.loads((base / "stacks" / stack / "cdk.tf.json").read_text())
        try:
            if not _real_dir(folder):
                raise ValueError("not a directory")
            doc = _read_json(folder / "cdk.tf.json")
        except (OSError, ValueError, RecursionError) as error:
            problems.append(_problem(stack, "cdk.tf.json", f"unreadable ({error})",
                                     "synthesize it with `pipenv run synth`"))
            continue
        found = check_stack(stack, doc, base_doc)
        problems += found
        if not found:
            accepted[stack] = doc
    return [s for s in stacks if s in accepted], accepted, problems


def _write(output: Path, accepted: dict[str, dict]) -> None:
    """Write every accepted stack into a fresh directory at once: refusing writes nothing."""
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".plan_guard.", dir=output.parent))
    try:
        for stack, doc in accepted.items():
            (staging / "stacks" / stack).mkdir(parents=True)
            (staging / "stacks" / stack / "cdk.tf.json").write_text(json.dumps(doc, indent=2))
        staging.rename(output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip("`"))
    parser.add_argument("--base", type=Path, required=True, help="main's synthesis (cdktf.out) of the environment")
    parser.add_argument("--pull-request", type=Path, required=True, help="the pull request's cdktf.out artifact")
    parser.add_argument("--env", required=True, help="the environment to plan")
    parser.add_argument("--output", type=Path, required=True,
                        help="new directory for the accepted stacks (<output>/stacks/<stack>/cdk.tf.json)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    args = parser.parse_args(argv)
    try:
        if args.output.exists():
            raise GuardError(f"--output {args.output}: already exists; give a new directory")
        stacks, accepted, problems = guard(args.base, args.pull_request, args.env)
    except GuardError as error:
        print(f"plan_guard: {error}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps({"stacks": [] if problems else stacks, "problems": problems}, indent=2))
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"plan refused: {len(problems)} problem(s); nothing planned", file=sys.stderr)
        return 2
    _write(args.output, accepted)
    if args.format == "table":
        print("\n".join(stacks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
