"""``pipenv run review --base <ref>``: what a change does to every environment, before anything is applied.

Synthesizes the base revision (in a temporary git worktree) and the working
tree, side by side, and compares every stack's ``cdk.tf.json`` resource by
resource. Prints Markdown for a pull-request comment (or JSON with
``--format json``): risks first (destroyed stateful resources, arguments that
force a replacement, likely construct renames, each with its fix), a line per
environment, then every added, removed and changed resource with its
attribute-level differences. Values under sensitive names are masked.

Exit codes: 0 no change, 2 change, 3 risky change; 1 means the review itself
failed (e.g. a revision does not synthesize). No cloud credentials needed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .risks import SERVING_TYPES, STATEFUL_TYPES, forces_replacement

__all__ = ["CHANGE", "NO_CHANGE", "RISKY", "Review", "compare", "main", "render_markdown", "review"]

NO_CHANGE, CHANGE, RISKY, FAILED = 0, 2, 3, 1
#: An argument whose name says it holds a secret (matched on the last part of the path).
_SENSITIVE = re.compile(r"(password|secret_string|secret_binary|token|private|credential|api_?key|routing_key|"
                        r"webhook|passphrase)", re.I)
#: Resource types whose whole ``data`` is secret.
_SECRET_DATA_TYPES = ("kubernetes_secret_v1", "kubernetes_secret")
_SECRET_VALUE = re.compile(r"(AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----|xox[bpas]-[0-9A-Za-z-]+)")
_RENAME_SIMILARITY = 0.9
_STATEFUL_NAMES = {"aws_elasticache_replication_group": "ElastiCache", "aws_s3_bucket": "S3 bucket",
                   "aws_dynamodb_table": "DynamoDB table", "aws_eks_cluster": "EKS cluster",
                   "aws_eks_node_group": "EKS node group", "aws_kms_key": "KMS key",
                   "aws_secretsmanager_secret": "Secrets Manager secret"}


@dataclass(frozen=True)
class AttributeChange:
    path: str
    before: Any
    after: Any


@dataclass
class ResourceChange:
    """One resource address in one stack: ``create``, ``delete``, ``update``, ``replace`` or ``rename``."""

    stack: str
    address: str
    action: str
    construct_path: str = ""
    changes: list[AttributeChange] = field(default_factory=list)
    replaced_by: list[str] = field(default_factory=list)  # the changed paths that force replacement
    renamed_from: str | None = None


@dataclass(frozen=True)
class Risk:
    kind: str  # destroy-stateful | remove-serving | replace | rename
    stack: str
    address: str
    message: str
    fix: str


@dataclass
class Review:
    base: str
    changes: list[ResourceChange]
    risks: list[Risk]
    environments: list[str]
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        if self.risks:
            return RISKY
        return CHANGE if self.changes else NO_CHANGE

    def summary(self, env: str) -> dict[str, int]:
        counts = {"create": 0, "update": 0, "replace": 0, "delete": 0, "rename": 0}
        for change in self.changes:
            if _environment(change.stack) == env:
                counts[change.action] += 1
        return counts


# -- comparing two synthesized trees --------------------------------------------------------------

def _environment(stack: str) -> str:
    return stack.rsplit("-", 1)[0]


def _stacks(synth_dir: Path | None) -> dict[str, dict]:
    if synth_dir is None or not (synth_dir / "stacks").is_dir():
        return {}
    return {p.parent.name: json.loads(p.read_text()) for p in sorted((synth_dir / "stacks").glob("*/cdk.tf.json"))}


def _resources(stack: dict) -> dict[str, dict]:
    return {f"{type_}.{name}": body for type_, named in stack.get("resource", {}).items()
            for name, body in named.items()}


def _flatten(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Leaves of a JSON value by path; strings holding JSON documents (Helm values, policies) are opened."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            inner = json.loads(value)
        except ValueError:
            inner = None
        if isinstance(inner, dict | list):
            yield from _flatten(inner, f"{path} > " if path else "")
            return
    if isinstance(value, dict):
        if not value:
            yield path, {}
        for key, item in value.items():
            if key == "//" and not path:
                continue  # cdktf's metadata: the construct path, not an argument
            yield from _flatten(item, _child(path, key))
    elif isinstance(value, list):
        if not value:
            yield path, []
        for index, item in enumerate(value):
            yield from _flatten(item, f"{path}[{index}]")
    else:
        yield path, value


def _child(path: str, key: str) -> str:
    """``spec`` + ``replicas`` -> ``spec.replicas``; inside an opened JSON string, ``values[0] > key``."""
    return f"{path}{key}" if not path or path.endswith("> ") else f"{path}.{key}"


def _leaves(body: dict) -> dict[str, Any]:
    return dict(_flatten(body))


def _sensitive(path: str, value: Any, resource_type: str = "") -> bool:
    last = re.split(r"\.| > ", path)[-1]
    if resource_type in _SECRET_DATA_TYPES and re.match(r"^(data|binary_data)\b", path):
        return True
    return bool(_SENSITIVE.search(last)) or (isinstance(value, str) and bool(_SECRET_VALUE.search(value)))


def _attribute_changes(before: dict, after: dict) -> list[AttributeChange]:
    old, new = _leaves(before), _leaves(after)
    changes = []
    for path in sorted(old.keys() | new.keys()):
        if old.get(path, _MISSING) != new.get(path, _MISSING):
            changes.append(AttributeChange(path, old.get(path, _MISSING), new.get(path, _MISSING)))
    return changes


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


_MISSING = _Missing()


def _similarity(a: dict, b: dict) -> float:
    left, right = _leaves(a), _leaves(b)
    if not left and not right:
        return 1.0
    same = sum(1 for path, value in left.items() if path in right and right[path] == value)
    return same / max(len(left), len(right))


def _construct_path(body: dict) -> str:
    return body.get("//", {}).get("metadata", {}).get("path", "")


def compare(base_dir: Path | None, head_dir: Path, *, base: str = "base") -> Review:
    """The review of going from ``base_dir``'s synthesized stacks to ``head_dir``'s."""
    old_stacks, new_stacks = _stacks(base_dir), _stacks(head_dir)
    changes: list[ResourceChange] = []
    risks: list[Risk] = []
    for stack in sorted(old_stacks.keys() | new_stacks.keys()):
        old, new = _resources(old_stacks.get(stack, {})), _resources(new_stacks.get(stack, {}))
        removed = sorted(old.keys() - new.keys())
        added = sorted(new.keys() - old.keys())
        renames = _likely_renames(removed, added, old, new)
        for before, after in renames:
            change = ResourceChange(stack, after, "rename", _construct_path(new[after]),
                                    _attribute_changes(old[before], new[after]), renamed_from=before)
            changes.append(change)
            type_ = after.split(".", 1)[0]
            risks.append(Risk(
                "rename", stack, after,
                f"`{before}` disappears and `{after}` appears with near-identical arguments: a renamed or moved "
                f"construct. Terraform would destroy the old {type_} and create a new one.",
                f"keep the old id, or move the state: in the new code call "
                f"`<resource>.move_from_id(\"{before}\")` (cdktf), or add a Terraform `moved` block from "
                f"`{before}` to `{after}`"))
        renamed = {b for b, _ in renames} | {a for _, a in renames}
        for address in added:
            if address not in renamed:
                changes.append(ResourceChange(stack, address, "create", _construct_path(new[address]),
                                              _attribute_changes({}, new[address])))
        for address in removed:
            if address in renamed:
                continue
            changes.append(ResourceChange(stack, address, "delete", _construct_path(old[address]),
                                          _attribute_changes(old[address], {})))
            type_ = address.split(".", 1)[0]
            if type_ in STATEFUL_TYPES:
                risks.append(Risk("destroy-stateful", stack, address,
                                  f"{_STATEFUL_NAMES[type_]} `{address}` is **destroyed**, and its data with it.",
                                  "if this is not intended, restore the construct; if it is, say so in the pull "
                                  "request (protected resources also need `prevent_destroy` lifted first)"))
            elif type_ in SERVING_TYPES:
                risks.append(Risk("remove-serving", stack, address,
                                  f"{SERVING_TYPES[type_]} `{address}` is **deleted**: whatever it serves stops.",
                                  "if the service moves to a new name, add the new one and merge, then remove the "
                                  "old one in a later change, so that both serve in between"))
        for address in sorted(old.keys() & new.keys()):
            attribute_changes = _attribute_changes(old[address], new[address])
            if not attribute_changes:
                continue
            type_ = address.split(".", 1)[0]
            forcing = forces_replacement(type_, [c.path for c in attribute_changes])
            changes.append(ResourceChange(stack, address, "replace" if forcing else "update",
                                          _construct_path(new[address]), attribute_changes, replaced_by=forcing))
            if forcing:
                stateful = type_ in STATEFUL_TYPES
                risks.append(Risk(
                    "destroy-stateful" if stateful else "replace", stack, address,
                    f"`{address}` is **replaced** (destroyed and created again) because "
                    f"{', '.join(f'`{p}`' for p in forcing)} changed"
                    + (f"; it is stateful ({_STATEFUL_NAMES[type_]})." if stateful else "."),
                    "revert that argument if the replacement is not intended; otherwise plan it "
                    "(create_before_destroy, a maintenance window) and say so in the pull request"))
    order = {"destroy-stateful": 0, "remove-serving": 1, "replace": 2, "rename": 3}
    risks.sort(key=lambda r: (order[r.kind], r.stack, r.address))
    environments = sorted({_environment(s) for s in old_stacks.keys() | new_stacks.keys()})
    return Review(base, changes, risks, environments)


def _likely_renames(removed: list[str], added: list[str], old: dict, new: dict) -> list[tuple[str, str]]:
    candidates = []
    for before in removed:
        for after in added:
            if before.split(".", 1)[0] == after.split(".", 1)[0]:
                score = _similarity(old[before], new[after])
                if score >= _RENAME_SIMILARITY:
                    candidates.append((score, before, after))
    pairs, used = [], set()
    for _, before, after in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
        if before not in used and after not in used:
            pairs.append((before, after))
            used |= {before, after}
    return sorted(pairs)


# -- rendering -------------------------------------------------------------------------------------

_SYMBOL = {"create": "+", "delete": "-", "update": "~", "replace": "-/+", "rename": "->"}


def _show(path: str, value: Any, resource_type: str) -> str:
    if value is _MISSING:
        return "(absent)"
    if _sensitive(path, value, resource_type):
        return "(sensitive)"
    text = json.dumps(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _summary_line(review: Review, env: str) -> str:
    counts = review.summary(env)
    parts = [f"{n} to {word}" for word, n in (("create", counts["create"]), ("update", counts["update"]),
                                                ("replace", counts["replace"]), ("delete", counts["delete"]),
                                                ("rename", counts["rename"])) if n]
    risky = sum(1 for r in review.risks if _environment(r.stack) == env)
    text = ", ".join(parts) if parts else "no change"
    return f"**{env}**: {text}" + (f" · **{risky} risk{'s' if risky != 1 else ''}**" if risky else "")


def render_markdown(review: Review) -> str:
    lines = [f"## Infrastructure review: `{review.base}` → working tree", ""]
    verdict = {NO_CHANGE: "No change.", CHANGE: "Changes, none risky.",
               RISKY: f"**{len(review.risks)} risky change{'s' if len(review.risks) != 1 else ''}: read these first.**"}
    lines += [verdict[review.exit_code], ""]
    lines += [f"- {_summary_line(review, env)}" for env in review.environments]
    lines.append("")
    if review.risks:
        lines += ["### Risks", ""]
        for risk in review.risks:
            lines.append(f"- :warning: **{risk.stack}** `{risk.address}`: {risk.message}  \n  Fix: {risk.fix}")
        lines.append("")
    for env in review.environments:
        env_changes = [c for c in review.changes if _environment(c.stack) == env]
        if not env_changes:
            continue
        lines += [f"### {env}", ""]
        for stack in sorted({c.stack for c in env_changes}):
            stack_changes = [c for c in env_changes if c.stack == stack]
            lines += [f"<details><summary><code>{stack}</code>: {len(stack_changes)} resource(s)</summary>", "",
                      "```diff"]
            for change in stack_changes:
                where = f"  ({change.construct_path})" if change.construct_path else ""
                origin = f" (was {change.renamed_from})" if change.renamed_from else ""
                lines.append(f"{_SYMBOL[change.action]} {change.address}{origin}{where}")
                shown = change.changes if change.action in ("update", "replace", "rename") else []
                type_ = change.address.split(".", 1)[0]
                for attribute in shown:
                    forcing = "  # forces replacement" if attribute.path in change.replaced_by else ""
                    lines.append(f"    {attribute.path}: {_show(attribute.path, attribute.before, type_)} -> "
                                 f"{_show(attribute.path, attribute.after, type_)}{forcing}")
            lines += ["```", "", "</details>", ""]
    lines.append(f"_Synthesized and compared in {review.seconds:.1f} s by `pipenv run review`._")
    return "\n".join(lines) + "\n"


def render_json(review: Review) -> str:
    def value(path: str, item: Any, type_: str) -> Any:
        if item is _MISSING:
            return None
        return "(sensitive)" if _sensitive(path, item, type_) else item

    def masked(change: ResourceChange) -> dict:
        data = asdict(change)
        type_ = change.address.split(".", 1)[0]
        data["changes"] = [{"path": a.path, "before": value(a.path, a.before, type_),
                            "after": value(a.path, a.after, type_)} for a in change.changes]
        return data

    return json.dumps({
        "base": review.base, "exit_code": review.exit_code, "seconds": round(review.seconds, 2),
        "risks": [asdict(r) for r in review.risks],
        "environments": {env: {"summary": review.summary(env),
                               "changes": [masked(c) for c in review.changes if _environment(c.stack) == env]}
                         for env in review.environments},
    }, indent=2) + "\n"


# -- synthesizing both sides ----------------------------------------------------------------------

def _synthesize(tree: Path, outdir: Path) -> subprocess.Popen:
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    env.pop("CDKTF_OUTDIR", None)
    env.pop("ENVIRONMENT", None)
    return subprocess.Popen([sys.executable, "main.py", "--outdir", str(outdir)], cwd=tree, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ReviewError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


class ReviewError(RuntimeError):
    pass


def review(repo: Path, base: str) -> Review:
    """Synthesize ``base`` and the working tree of ``repo`` in parallel and compare them."""
    start = time.perf_counter()
    repo = Path(_git(repo, "rev-parse", "--show-toplevel"))
    commit = _git(repo, "rev-parse", "--verify", f"{base}^{{commit}}")
    with tempfile.TemporaryDirectory(prefix="review.") as tmp:
        work = Path(tmp)
        worktree = work / "base"
        _git(repo, "worktree", "add", "--detach", "--quiet", str(worktree), commit)
        try:
            base_has_app = (worktree / "main.py").is_file()
            jobs = {"working tree": _synthesize(repo, work / "head.out")}
            if base_has_app:
                jobs[base] = _synthesize(worktree, work / "base.out")
            for name, job in jobs.items():
                _, stderr = job.communicate()
                if job.returncode != 0:
                    raise ReviewError(f"synthesis of the {name} failed (exit {job.returncode}):\n{stderr.strip()}")
            result = compare(work / "base.out" if base_has_app else None, work / "head.out", base=base)
        finally:
            _git(repo, "worktree", "remove", "--force", str(worktree))
            shutil.rmtree(worktree, ignore_errors=True)
    result.seconds = time.perf_counter() - start
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Review what a change does to every environment (offline).")
    parser.add_argument("--base", default="origin/main", help="git revision to compare against; default origin/main")
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")
    parser.add_argument("--repo", default=".", help="the repository; default the current directory")
    args = parser.parse_args(argv)
    try:
        result = review(Path(args.repo), args.base)
    except ReviewError as error:
        print(f"review: {error}", file=sys.stderr)
        return FAILED
    sys.stdout.write(render_json(result) if args.format == "json" else render_markdown(result))
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
