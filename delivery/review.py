"""``pipenv run review --base <ref>``: what a change does to every environment, before anything is applied.

Synthesizes the base revision (in a temporary git worktree) and the working
tree, side by side, and compares every stack's ``cdk.tf.json`` resource by
resource. Prints Markdown for a pull-request comment (or JSON with
``--format json``):

- risks first, each with its fix: a stateful resource destroyed or replaced, a
  protected (``prevent_destroy``) resource the plan would refuse to destroy, a
  Secrets Manager name deleted and created again, a serving resource deleted,
  an argument forcing a replacement, a likely construct rename, an access
  broadened, a monthly cost increase above the environment's limit;
- per environment, the worst-case monthly cost before and after (estimates
  from ``delivery/prices.json``);
- the security section: IAM statements, security-group rules, public CIDRs,
  EKS access, KMS key policies added, widened or removed;
- guardrail suppressions added, changed or removed, with their reasons;
- every change grouped by construct: a one-line summary of a new service,
  cache or node group (its sizing), expandable to its resources, each created
  or destroyed one with its key attributes and each changed one with its
  attribute-level differences.

Nothing secret is printed: values are masked by position (provider-sensitive
arguments, Secret data, secret strings, SSM parameters), by name and by shape
(``constructs_lib/redact.py``), and the whole output is scanned once more.

A base that does not synthesize does not stop the review: it says so and shows
everything the working tree synthesizes as new (the change that repairs the base
can be reviewed too).

Exit codes: 0 no change, 2 change, 3 risky change; 1 means the review itself
failed (the working tree does not synthesize). No cloud credentials needed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ._redact import MASK, entry_name, looks_like_credential, redact, redact_text, secret_under
from .attributes import key_attributes, phrase_diff, summary_phrases
from .cost import DEFAULT_LIMITS, EnvironmentCost, estimate, prices
from .documents import open_document
from .risks import SERVING_TYPES, STATEFUL_TYPES, forces_replacement
from .security import Finding, compare_security
from .sensitive import secret_argument

__all__ = ["CHANGE", "NO_CHANGE", "RISKY", "Review", "compare", "main", "render_json", "render_markdown", "review"]

NO_CHANGE, CHANGE, RISKY, FAILED = 0, 2, 3, 1
MINUS = "\u2212"
_RENAME_SIMILARITY = 0.9
_STATEFUL_NAMES = {"aws_elasticache_replication_group": "ElastiCache", "aws_s3_bucket": "S3 bucket",
                   "aws_dynamodb_table": "DynamoDB table", "aws_eks_cluster": "EKS cluster",
                   "aws_eks_node_group": "EKS node group", "aws_kms_key": "KMS key",
                   "aws_secretsmanager_secret": "Secrets Manager secret"}
#: Risks in the order a reviewer should read them.
_RISK_ORDER = ("base-unavailable", "protected", "destroy-stateful", "secret-name-reused", "cost", "broadens-access",
               "remove-serving", "replace", "rename")


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
    component: str = ""  # the construct it belongs to (``checkout``, ``eks/general``), as grouped in the review
    attributes: list[AttributeChange] = field(default_factory=list)  # key attributes of a created/deleted one


@dataclass(frozen=True)
class Risk:
    kind: str  # one of _RISK_ORDER
    stack: str
    address: str
    message: str
    fix: str


@dataclass
class Component:
    """A construct with changes: one block in the review, with its one-line summary."""

    stack: str
    name: str
    status: str  # new | removed | changed
    summary: str
    members: list[str] = field(default_factory=list)  # new constructs shown inside this one (a service's cache)


@dataclass(frozen=True)
class Suppression:
    """A guardrail suppression added, changed or removed (``//`` metadata ``suppressions``)."""

    stack: str
    scope: str
    rule: str
    change: str  # added | changed | removed
    reason: str
    previous_reason: str | None = None


@dataclass
class Review:
    base: str
    changes: list[ResourceChange]
    risks: list[Risk]
    environments: list[str]
    seconds: float = 0.0
    components: list[Component] = field(default_factory=list)
    security: list[Finding] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)
    costs: dict[str, EnvironmentCost] = field(default_factory=dict)
    base_error: str | None = None  # why the base could not be synthesized

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


# -- leaves: every value of a resource by path, and whether it is secret ---------------------------

@dataclass(frozen=True)
class _Leaf:
    value: Any
    secret: bool


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


_MISSING = _Missing()
_ABSENT = _Leaf(_MISSING, False)


def _environment(stack: str) -> str:
    return stack.rsplit("-", 1)[0]


def _stacks(synth_dir: Path | None) -> dict[str, dict]:
    if synth_dir is None or not (synth_dir / "stacks").is_dir():
        return {}
    return {p.parent.name: json.loads(p.read_text()) for p in sorted((synth_dir / "stacks").glob("*/cdk.tf.json"))}


def _resources(stack: Mapping[str, Any]) -> dict[str, dict]:
    return {f"{type_}.{name}": body for type_, named in stack.get("resource", {}).items()
            for name, body in named.items()}


def _child(path: str, key: str) -> str:
    """``spec`` + ``replicas`` -> ``spec.replicas``; inside an opened document, ``values[0] > key``."""
    return f"{path}{key}" if not path or path.endswith("> ") else f"{path}.{key}"


def _walk(type_: str, body: Mapping[str, Any], value: Any, path: str, secret: bool) -> Iterator[tuple[str, _Leaf]]:
    """Leaves of a value by path. Documents held in strings (Helm values, policies, a secret's JSON or
    ``jsonencode``) are opened; secrecy is inherited: by position (``delivery.sensitive``), by name
    (``DB_PASSWORD``, the ``value`` of a ``{"name": "API_TOKEN", "value": ...}`` entry) and by shape."""
    if isinstance(value, str):
        document = open_document(value)
        if document is not None:
            yield from _walk(type_, body, document, f"{path} > " if path else "", secret)
            return
    if isinstance(value, Mapping):
        if not value:
            yield path, _Leaf({}, secret)
        pair = entry_name(value)
        for key, item in value.items():
            if key == "//" and not path:
                continue  # cdktf's metadata: the construct path and suppressions, not an argument
            child = _child(path, str(key))
            named = secret_under(pair if key == "value" and pair else str(key), item)
            hidden = secret or named or secret_argument(type_, child, body)
            yield from _walk(type_, body, item, child, hidden)
    elif isinstance(value, list):
        if not value:
            yield path, _Leaf([], secret)
        for index, item in enumerate(value):
            yield from _walk(type_, body, item, f"{path}[{index}]", secret)
    else:
        yield path, _Leaf(value, secret or looks_like_credential(value))


def _leaves(type_: str, body: Mapping[str, Any]) -> dict[str, _Leaf]:
    return dict(_walk(type_, body, body, "", False))


def _masked(type_: str, path: str, value: Any, body: Mapping[str, Any]) -> Any:
    """A value (maybe a whole block) as it may be shown: masked where its position, names or shape say so."""
    if value is _MISSING:
        return value
    if secret_argument(type_, path, body) or secret_under(path, value):
        return MASK
    document = value if isinstance(value, Mapping | list) else open_document(value)
    if document is None:
        return MASK if looks_like_credential(value) else value
    leaves = dict(_walk(type_, body, document, "", False))
    if any(leaf.secret for leaf in leaves.values()):
        return redact(_mask_leaves(document, leaves))
    return value


def _mask_leaves(value: Any, leaves: Mapping[str, _Leaf], path: str = "") -> Any:
    if isinstance(value, Mapping):
        return {k: _mask_leaves(v, leaves, _child(path, str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_leaves(v, leaves, f"{path}[{i}]") for i, v in enumerate(value)]
    leaf = leaves.get(path)
    return MASK if leaf is not None and leaf.secret else value


def _attribute_changes(type_: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[AttributeChange]:
    """Changed leaves, each side masked where it is secret (a secret that changes shows as changed)."""
    old, new = _leaves(type_, before), _leaves(type_, after)
    changes = []
    for path in sorted(old.keys() | new.keys()):
        left, right = old.get(path, _ABSENT), new.get(path, _ABSENT)
        if left.value != right.value:
            changes.append(AttributeChange(path, _shown(left), _shown(right)))
    return changes


def _shown(leaf: _Leaf) -> Any:
    return MASK if leaf.secret and leaf.value not in (None, "", [], {}) else leaf.value


def _similarity(type_: str, a: Mapping[str, Any], b: Mapping[str, Any]) -> float:
    """The share of arguments two resources have in common; 0 when they share no text: equal numbers and
    flags alone (two ``random_password`` of length 64) do not make two resources the same."""
    left, right = _leaves(type_, a), _leaves(type_, b)
    if not left and not right:
        return 1.0
    same = [path for path, leaf in left.items() if path in right and right[path].value == leaf.value]
    if not any(isinstance(left[path].value, str) and left[path].value for path in same):
        return 0.0
    return len(same) / max(len(left), len(right))


def _metadata(body: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = body.get("//", {})
    return meta if isinstance(meta, Mapping) else {}


def _construct_path(body: Mapping[str, Any]) -> str:
    return str(_metadata(body).get("metadata", {}).get("path", ""))


def _component(stack: str, address: str, body: Mapping[str, Any]) -> str:
    """The construct a resource belongs to, relative to its stack: ``staging-services/checkout/deployment``
    -> ``checkout``; a resource made directly in the stack is its own component."""
    parts = _construct_path(body).split("/")
    if len(parts) > 2:
        return "/".join(parts[1:-1])
    return parts[1] if len(parts) == 2 else address


def _protected(body: Mapping[str, Any]) -> bool:
    lifecycle = body.get("lifecycle", {})
    return isinstance(lifecycle, Mapping) and lifecycle.get("prevent_destroy") in (True, "true")


def _type(address: str) -> str:
    return address.split(".", 1)[0]


# -- comparing two synthesized trees ---------------------------------------------------------------

def compare(base_dir: Path | None, head_dir: Path, *, base: str = "base",
            limits: Mapping[str, Mapping[str, Any]] | None = None, base_error: str | None = None) -> Review:
    """The review of going from ``base_dir``'s synthesized stacks to ``head_dir``'s (``base_dir`` None: the
    base has none, every resource is new). ``limits``: environment -> ``Limits`` fields of the head."""
    old_stacks, new_stacks = _stacks(base_dir), _stacks(head_dir)
    changes: list[ResourceChange] = []
    risks: list[Risk] = []
    security: list[Finding] = []
    for stack in sorted(old_stacks.keys() | new_stacks.keys()):
        old, new = _resources(old_stacks.get(stack, {})), _resources(new_stacks.get(stack, {}))
        changes += _compare_stack(stack, old, new, risks)
        security += compare_security(stack, old_stacks.get(stack, {}), new_stacks.get(stack, {}))
    environments = sorted({_environment(s) for s in old_stacks.keys() | new_stacks.keys()})
    risks += _reused_secret_names(old_stacks, new_stacks, changes)
    risks += [_broadening_risk(f) for f in security if f.broadens]
    costs = _costs(old_stacks if base_dir is not None else None, new_stacks, environments, limits or {})
    risks += _cost_risks(costs)
    if base_error is not None:
        risks.append(Risk("base-unavailable", "", "", f"the base `{base}` does not synthesize, so nothing could be "
                          "compared: destroys, replacements, renames and cost increases are not detected, and every "
                          "resource below is shown as new.",
                          "review against the last revision that synthesizes (`pipenv run review --base <commit>`), "
                          "or merge the repair first"))
    risks = _deduplicated(risks)
    risks.sort(key=lambda r: (_RISK_ORDER.index(r.kind), r.stack, r.address, r.message))
    result = Review(base, changes, risks, environments, costs=costs, security=security, base_error=base_error)
    result.components = _components(old_stacks, new_stacks, changes)
    result.suppressions = _suppressions(old_stacks, new_stacks)
    return result


def _compare_stack(stack: str, old: dict[str, dict], new: dict[str, dict], risks: list[Risk]) -> list[ResourceChange]:
    changes: list[ResourceChange] = []
    removed = sorted(old.keys() - new.keys())
    added = sorted(new.keys() - old.keys())
    renames = _likely_renames(removed, added, old, new)
    for before, after in renames:
        type_ = _type(after)
        changes.append(ResourceChange(stack, after, "rename", _construct_path(new[after]),
                                      _attribute_changes(type_, old[before], new[after]), renamed_from=before,
                                      component=_component(stack, after, new[after])))
        risks.append(Risk(
            "rename", stack, after,
            f"`{before}` disappears and `{after}` appears with near-identical arguments: a renamed or moved "
            f"construct. Terraform would destroy the old {type_} and create a new one"
            + (" (and the old one is protected: the plan fails)." if _protected(old[before]) else "."),
            f"keep the old id, or move the state: in the new code call "
            f"`<resource>.move_from_id(\"{before}\")` (cdktf), or add a Terraform `moved` block from "
            f"`{before}` to `{after}`"))
    renamed = {b for b, _ in renames} | {a for _, a in renames}
    for address in added:
        if address not in renamed:
            changes.append(_created_or_deleted(stack, address, "create", new[address]))
    for address in removed:
        if address in renamed:
            continue
        changes.append(_created_or_deleted(stack, address, "delete", old[address]))
        risks.extend(_deletion_risks(stack, address, old[address]))
    for address in sorted(old.keys() & new.keys()):
        type_ = _type(address)
        attribute_changes = _attribute_changes(type_, old[address], new[address])
        if not attribute_changes:
            continue
        forcing = forces_replacement(type_, [c.path for c in attribute_changes])
        changes.append(ResourceChange(stack, address, "replace" if forcing else "update",
                                      _construct_path(new[address]), attribute_changes, replaced_by=forcing,
                                      component=_component(stack, address, new[address])))
        if forcing:
            risks.extend(_replacement_risks(stack, address, old[address], forcing))
    return changes


def _created_or_deleted(stack: str, address: str, action: str, body: Mapping[str, Any]) -> ResourceChange:
    type_ = _type(address)
    shown = [AttributeChange(path, _MISSING if action == "create" else _masked(type_, path, value, body),
                             _masked(type_, path, value, body) if action == "create" else _MISSING)
             for path, value in key_attributes(type_, body)]
    return ResourceChange(stack, address, action, _construct_path(body),
                          _attribute_changes(type_, {}, body) if action == "create" else
                          _attribute_changes(type_, body, {}),
                          component=_component(stack, address, body), attributes=shown)


def _protection_risk(stack: str, address: str, doing: str) -> Risk:
    return Risk("protected", stack, address,
                f"`{address}` has `prevent_destroy` and this change {doing} it: **the plan will fail** "
                "(\"Instance cannot be destroyed\"), in every environment that protects it.",
                "if the destroy is not intended, restore the construct or revert the argument; if it is, "
                "first merge and apply a change that lifts the protection (`protect=False` on the construct, "
                "or remove `prevent_destroy`), then destroy it in a second change")


def _deletion_risks(stack: str, address: str, body: Mapping[str, Any]) -> list[Risk]:
    type_ = _type(address)
    if _protected(body):
        return [_protection_risk(stack, address, "destroys")]
    if type_ in STATEFUL_TYPES:
        return [Risk("destroy-stateful", stack, address,
                     f"{_STATEFUL_NAMES[type_]} `{address}` is **destroyed**, and its data with it.",
                     "if this is not intended, restore the construct; if it is, say so in the pull request")]
    if type_ in SERVING_TYPES:
        return [Risk("remove-serving", stack, address,
                     f"{SERVING_TYPES[type_]} `{address}` is **deleted**: whatever it serves stops.",
                     "if the service moves to a new name, add the new one and merge, then remove the "
                     "old one in a later change, so that both serve in between")]
    return []


def _replacement_risks(stack: str, address: str, body: Mapping[str, Any], forcing: list[str]) -> list[Risk]:
    type_ = _type(address)
    if _protected(body):
        return [_protection_risk(stack, address, f"replaces (because {', '.join(f'`{p}`' for p in forcing)} changed)")]
    stateful = type_ in STATEFUL_TYPES
    return [Risk("destroy-stateful" if stateful else "replace", stack, address,
                 f"`{address}` is **replaced** (destroyed and created again) because "
                 f"{', '.join(f'`{p}`' for p in forcing)} changed"
                 + (f"; it is stateful ({_STATEFUL_NAMES[type_]})." if stateful else "."),
                 "revert that argument if the replacement is not intended; otherwise plan it "
                 "(create_before_destroy, a maintenance window) and say so in the pull request")]


def _likely_renames(removed: list[str], added: list[str], old: dict, new: dict) -> list[tuple[str, str]]:
    candidates = []
    for before in removed:
        for after in added:
            if _type(before) == _type(after):
                score = _similarity(_type(before), old[before], new[after])
                if score >= _RENAME_SIMILARITY:
                    candidates.append((score, before, after))
    pairs, used = [], set()
    for _, before, after in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
        if before not in used and after not in used:
            pairs.append((before, after))
            used |= {before, after}
    return sorted(pairs)


def _secret_names(stacks: Mapping[str, Mapping[str, Any]], env: str) -> dict[str, tuple[str, str, Any]]:
    """Secrets Manager name -> (stack, address, recovery window) of an environment's secrets."""
    found = {}
    for stack, document in stacks.items():
        if _environment(stack) != env:
            continue
        for address, body in _resources(document).items():
            if _type(address) == "aws_secretsmanager_secret" and isinstance(body.get("name"), str):
                found[body["name"]] = (stack, address, body.get("recovery_window_in_days", 30))
    return found


def _reused_secret_names(old_stacks: Mapping[str, Any], new_stacks: Mapping[str, Any],
                         changes: list[ResourceChange]) -> list[Risk]:
    """A Secrets Manager secret destroyed (deleted, replaced, renamed) while a secret of the same name is
    created: Secrets Manager keeps a deleted name for its recovery window, so the create fails."""
    gone = {(c.stack, c.renamed_from or c.address) for c in changes if c.action in ("delete", "replace", "rename")}
    made = {(c.stack, c.address) for c in changes if c.action in ("create", "replace", "rename")}
    risks = []
    for env in sorted({_environment(s) for s in old_stacks.keys() | new_stacks.keys()}):
        before, after = _secret_names(old_stacks, env), _secret_names(new_stacks, env)
        for name in sorted(before.keys() & after.keys()):
            old_stack, old_address, window = before[name]
            new_stack, new_address, _ = after[name]
            if (old_stack, old_address) in gone and (new_stack, new_address) in made:
                risks.append(Risk(
                    "secret-name-reused", new_stack, new_address,
                    f"Secrets Manager secret `{name}` is deleted (`{old_address}`) and created again "
                    f"(`{new_address}`): a deleted name stays reserved for its recovery window "
                    f"({window} days), so the create fails and the apply stops half-way.",
                    "keep the secret: move its state (`move_from_id` / a `moved` block) instead of recreating it, "
                    "or give the new secret another name; if it must be recreated, first apply a change with "
                    "`recovery_window_in_days = 0` on the old one (deleted at once, unrecoverable)"))
    return risks


def _broadening_risk(finding: Finding) -> Risk:
    why = {"added": "new grant" + (" " + finding.detail if finding.detail else ""),
           "widened": "widened: " + finding.detail, "removed": "a deny removed"}.get(finding.change, finding.change)
    return Risk("broadens-access", finding.stack, finding.address,
                f"access is **broadened**: {finding.summary} ({why}).",
                "check that the wider access is needed and scoped as narrowly as it can be (actions, resources, "
                "principals, CIDRs); say why in the pull request")


def _deduplicated(risks: list[Risk]) -> list[Risk]:
    """One risk per address: a protected resource's failure says more than its destroy."""
    protected = {(r.stack, r.address) for r in risks if r.kind == "protected"}
    seen: set[Risk] = set()
    result = []
    for risk in risks:
        if risk.kind == "destroy-stateful" and (risk.stack, risk.address) in protected:
            continue
        if risk not in seen:
            seen.add(risk)
            result.append(risk)
    return result


# -- cost ------------------------------------------------------------------------------------------

def _costs(old_stacks: Mapping[str, Any] | None, new_stacks: Mapping[str, Any], environments: list[str],
           limits: Mapping[str, Mapping[str, Any]]) -> dict[str, EnvironmentCost]:
    costs = {}
    for env in environments:
        old = {s: d for s, d in (old_stacks or {}).items() if _environment(s) == env}
        new = {s: d for s, d in new_stacks.items() if _environment(s) == env}
        lines_before, lines_after = estimate(old), estimate(new)
        env_limits = {**DEFAULT_LIMITS, **{k: v for k, v in limits.get(env, {}).items() if v is not None}}
        costs[env] = EnvironmentCost(
            env, _region(new or old), sum(line.monthly for line in lines_before) if old_stacks is not None and old
            else None, sum(line.monthly for line in lines_after), lines_before, lines_after,
            float(env_limits["max_cost_increase_percent"]), float(env_limits["max_cost_increase_usd"]))
    return costs


def _region(stacks: Mapping[str, Mapping[str, Any]]) -> str | None:
    for document in stacks.values():
        for provider in document.get("provider", {}).get("aws", []):
            if isinstance(provider, Mapping) and provider.get("region"):
                return str(provider["region"])
    return None


def _money(amount: float, *, sign: bool = False) -> str:
    """``$12,345``; cents below $10, so that a secret's $0.40 does not read as free."""
    text = f"${abs(amount):,.2f}" if 0 < abs(amount) < 10 else f"${abs(amount):,.0f}"
    return (("+" if amount >= 0 else MINUS) + text) if sign else text


def _cost_risks(costs: Mapping[str, EnvironmentCost]) -> list[Risk]:
    risks = []
    for env, cost in costs.items():
        if cost.over_limit:
            assert cost.before is not None and cost.difference is not None
            percent = f", {cost.percent:+.0f} %" if cost.percent is not None else ""
            risks.append(Risk(
                "cost", f"{env}", "",
                f"**{env}**'s worst-case monthly cost rises from {_money(cost.before)} to {_money(cost.after)} "
                f"({_money(cost.difference, sign=True)}{percent}), above the environment's limit "
                f"(+{cost.limit_percent:g} % or +{_money(cost.limit_usd)} a month).",
                "check the sizes (node group max_size, cache node type and replicas, volumes); if the increase is "
                "intended, say so in the pull request and have it approved by whoever owns the budget"))
        if cost.new_unpriced:
            risks.append(Risk(
                "cost", env, "",
                f"**{env}**: no price in `delivery/prices.json` for {', '.join(f'`{u}`' for u in cost.new_unpriced)}: "
                "the cost estimate cannot see it (counted as $0).",
                "add its eu-west-1 on-demand price to `delivery/prices.json`, with the source page"))
    return risks


# -- constructs and suppressions -------------------------------------------------------------------

def _by_component(stack: str, resources: Mapping[str, dict]) -> dict[str, dict[str, dict]]:
    grouped: dict[str, dict[str, dict]] = {}
    for address, body in resources.items():
        grouped.setdefault(_component(stack, address, body), {})[address] = body
    return grouped


def _references(resources: Mapping[str, Mapping[str, Any]]) -> set[str]:
    text = json.dumps(list(resources.values()))
    return set(re.findall(r"\$\{([a-z][a-z0-9_]*\.[A-Za-z0-9_-]+)", text))


def _components(old_stacks: Mapping[str, Any], new_stacks: Mapping[str, Any],
                changes: list[ResourceChange]) -> list[Component]:
    result = []
    changed = {(c.stack, c.component) for c in changes}
    for stack in sorted(old_stacks.keys() | new_stacks.keys()):
        old = _by_component(stack, _resources(old_stacks.get(stack, {})))
        new = _by_component(stack, _resources(new_stacks.get(stack, {})))
        names = sorted(n for n in old.keys() | new.keys() if (stack, n) in changed)
        folded = _folded(names, old, new)
        old_resources = _resources(old_stacks.get(stack, {}))
        # A renamed resource was there before, under its old address: its construct is not new.
        moved = {c.address: old_resources[c.renamed_from] for c in changes
                 if c.stack == stack and c.renamed_from in old_resources}
        for name in names:
            if name in folded:
                continue
            members = sorted(m for m, host in folded.items() if host == name)
            before = {a: b for n in [name, *members] for a, b in old.get(n, {}).items()}
            before.update({a: moved[a] for n in [name, *members] for a in new.get(n, {}) if a in moved})
            after = {a: b for n in [name, *members] for a, b in new.get(n, {}).items()}
            status = "new" if not before else "removed" if not after else "changed"
            result.append(Component(stack, name, status, _summary(before, after), members))
    return result


def _folded(names: list[str], old: Mapping[str, dict], new: Mapping[str, dict]) -> dict[str, str]:
    """New constructs used by exactly one other new construct (a service's own cache), shown inside it."""
    fresh = [n for n in names if n not in old and n in new]
    uses = {n: _references(resources) for n, resources in new.items()}
    folded: dict[str, str] = {}
    for name in fresh:
        users = [other for other in new if other != name and uses[other] & set(new[name])]
        if (len(users) == 1 and users[0] in fresh and users[0] not in folded
                and not uses[name] & set(new[users[0]])):
            folded[name] = users[0]
    return folded


def _summary(before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]]) -> str:
    old, new = summary_phrases(before), summary_phrases(after)
    parts = []
    for address in [*new, *(a for a in old if a not in new)]:
        if address not in old:
            parts.append(f"{new[address]} (added)" if before else new[address])
        elif address not in new:
            parts.append(f"{old[address]} (removed)" if after else old[address])
        elif old[address] != new[address]:
            parts.append(phrase_diff(old[address], new[address]))
    return ", ".join(str(redact(p)) for p in parts)


def _suppression_set(stacks: Mapping[str, Any]) -> dict[tuple[str, str, str], str]:
    found = {}
    for stack, document in stacks.items():
        for body in _resources(document).values():
            for item in _metadata(body).get("suppressions", []) or []:
                if isinstance(item, Mapping):
                    key = (stack, str(item.get("scope", _construct_path(body))), str(item.get("rule")))
                    found[key] = str(item.get("reason", ""))
    return found


def _suppressions(old_stacks: Mapping[str, Any], new_stacks: Mapping[str, Any]) -> list[Suppression]:
    before, after = _suppression_set(old_stacks), _suppression_set(new_stacks)
    result = []
    for key in sorted(before.keys() | after.keys()):
        stack, scope, rule = key
        if key not in before:
            result.append(Suppression(stack, scope, rule, "added", after[key]))
        elif key not in after:
            result.append(Suppression(stack, scope, rule, "removed", before[key]))
        elif before[key] != after[key]:
            result.append(Suppression(stack, scope, rule, "changed", after[key], before[key]))
    return result


# -- rendering -------------------------------------------------------------------------------------

_SYMBOL = {"create": "+", "delete": "-", "update": "~", "replace": "-/+", "rename": "->"}
_STATUS = {"new": "new", "removed": "removed", "changed": "changed"}


def _show(value: Any) -> str:
    if value is _MISSING:
        return "(absent)"
    text = value if value == MASK else json.dumps(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _summary_line(review: Review, env: str) -> str:
    counts = review.summary(env)
    parts = [f"{n} to {word}" for word, n in counts.items() if n]
    risky = sum(1 for r in review.risks if _environment(r.stack) == env or r.stack == env)
    text = ", ".join(parts) if parts else "no change"
    line = f"**{env}**: {text}" + (f" · **{risky} risk{'s' if risky != 1 else ''}**" if risky else "")
    cost = review.costs.get(env)
    if cost is not None:
        if cost.before is None or cost.difference is None:
            line += f" · worst case {_money(cost.after)}/month"
        elif abs(cost.difference) < 0.5:
            line += f" · worst case {_money(cost.after)}/month, unchanged"
        else:
            line += f" · worst case {_money(cost.before)} → {_money(cost.after)}/month " \
                    f"({_money(cost.difference, sign=True)})"
    return line


def _cost_section(review: Review) -> list[str]:
    table = prices()
    lines = ["### Cost (worst case, per month)", "",
             "| environment | before | after | difference | limit |", "|---|---:|---:|---:|---|"]
    for env in review.environments:
        cost = review.costs[env]
        before = _money(cost.before) if cost.before is not None else "unknown"
        if cost.difference is None:
            difference = "—"
        else:
            percent = f" ({cost.percent:+.0f} %)" if cost.percent is not None else ""
            difference = _money(cost.difference, sign=True) + percent
            if cost.over_limit:
                difference = f"**{difference}** :warning:"
        lines.append(f"| {env} | {before} | {_money(cost.after)} | {difference} | "
                     f"+{cost.limit_percent:g} % or +{_money(cost.limit_usd)} |")
    regions = sorted({c.region for c in review.costs.values() if c.region and c.region != table["region"]})
    lines += ["", f"_Estimates from the price table `delivery/prices.json` ({table['region']} on-demand list prices "
              f"in {table['currency']}, dated {table['date']}; sources: the AWS pricing pages it lists), not a bill: "
              "node groups at max_size (SPOT at the on-demand price), caches with every replica, volumes, "
              "load balancers, EKS control planes, KMS keys, secrets and alarms; no data transfer, requests or "
              "usage-based storage._"]
    if regions:
        lines.append(f"_The table holds {table['region']} prices; priced as such: {', '.join(regions)}._")
    for env in review.environments:
        cost = review.costs[env]
        changed = _changed_lines(cost)
        if changed:
            lines += ["", f"<details><summary>{env}: what changes the figure</summary>", "",
                      "| stack | resource | what | before | after |", "|---|---|---|---:|---:|"]
            for stack, address, what, old, new in changed:
                lines.append(f"| {stack} | `{address}` | {what} | {old} | {new} |")
            lines += ["", "</details>"]
    return [*lines, ""]


def _changed_lines(cost: EnvironmentCost) -> list[tuple[str, str, str, str, str]]:
    old = {(line.stack, line.address): line for line in cost.lines_before}
    new = {(line.stack, line.address): line for line in cost.lines_after}
    rows = []
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key), new.get(key)
        if before and after and abs(before.monthly - after.monthly) < 0.005 and before.what == after.what:
            continue
        shown = after if after is not None else before
        assert shown is not None  # the key comes from one side or the other
        what = f"{before.what} → {shown.what}" if before is not None and before.what != shown.what else shown.what
        rows.append((key[0], key[1], what, _money(before.monthly) if before else "—",
                     _money(after.monthly) if after else "—"))
    return rows


def _security_section(review: Review) -> list[str]:
    if not review.security:
        return []
    symbol = {"added": "+", "removed": "-", "widened": "~", "narrowed": "~", "changed": "~"}
    lines = ["### Security", "", "| | stack | resource | grant |", "|---|---|---|---|"]
    for finding in sorted(review.security, key=lambda f: (not f.broadens, f.stack, f.address, f.summary)):
        mark = ":warning: broadens" if finding.broadens else finding.change
        detail = f" ({finding.change}: {finding.detail})" if finding.detail and finding.change != "added" else ""
        lines.append(f"| {symbol[finding.change]} {mark} | {finding.stack} | `{finding.address}` | "
                     f"{finding.summary}{detail} |")
    return [*lines, ""]


def _suppression_section(review: Review) -> list[str]:
    if not review.suppressions:
        return []
    lines = ["### Guardrail suppressions", ""]
    for s in review.suppressions:
        was = f" (was: \"{s.previous_reason}\")" if s.previous_reason is not None else ""
        lines.append(f"- {s.change} **{s.rule}** on `{s.scope}` ({s.stack}): \"{s.reason}\"{was}")
    return [*lines, ""]


def _component_block(component: Component, changes: list[ResourceChange]) -> list[str]:
    symbol = {"new": "+", "removed": "-", "changed": "~"}[component.status]
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.action] = counts.get(change.action, 0) + 1
    tally = ", ".join(f"{n} to {a}" for a, n in sorted(counts.items()))
    summary = f": {component.summary}" if component.summary else ""
    inside = f" (with {', '.join(component.members)})" if component.members else ""
    lines = [f"<details><summary>{symbol} <b>{component.name}</b>{inside} · {_STATUS[component.status]}{summary} "
             f"· {tally} · <code>{component.stack}</code></summary>", "", "```diff"]
    for change in changes:
        where = f"  ({change.construct_path})" if change.construct_path else ""
        origin = f" (was {change.renamed_from})" if change.renamed_from else ""
        lines.append(f"{_SYMBOL[change.action]} {change.address}{origin}{where}")
        if change.action in ("create", "delete"):
            for attribute in change.attributes:
                value = attribute.after if change.action == "create" else attribute.before
                lines.append(f"    {attribute.path}: {_show(value)}")
        else:
            for attribute in change.changes:
                forcing = "  # forces replacement" if attribute.path in change.replaced_by else ""
                lines.append(f"    {attribute.path}: {_show(attribute.before)} -> {_show(attribute.after)}{forcing}")
    return [*lines, "```", "", "</details>", ""]


def render_markdown(review: Review) -> str:
    lines = [f"## Infrastructure review: `{review.base}` → working tree", ""]
    if review.base_error is not None:
        lines += [f"> :warning: **The base `{review.base}` does not synthesize**; everything the working tree "
                  "synthesizes is shown as new. Its error:", ">", *[f"> {line}" if line else ">" for line in
                                                                  review.base_error.splitlines()], ""]
    verdict = {NO_CHANGE: "No change.", CHANGE: "Changes, none risky.",
               RISKY: f"**{len(review.risks)} risk{'s' if len(review.risks) != 1 else ''}: read these first.**"}
    lines += [verdict[review.exit_code], ""]
    lines += [f"- {_summary_line(review, env)}" for env in review.environments]
    lines.append("")
    if review.risks:
        lines += ["### Risks", ""]
        for risk in review.risks:
            where = f"**{risk.stack}** `{risk.address}`: " if risk.address else ""
            lines.append(f"- :warning: {where}{risk.message}  \n  Fix: {risk.fix}")
        lines.append("")
    if review.changes or review.base_error is not None:
        lines += _cost_section(review)
    lines += _security_section(review)
    lines += _suppression_section(review)
    for env in review.environments:
        components = [c for c in review.components if _environment(c.stack) == env]
        if not components:
            continue
        lines += [f"### {env}", ""]
        for component in components:
            names = {component.name, *component.members}
            members = [c for c in review.changes if c.stack == component.stack and c.component in names]
            lines += _component_block(component, members)
    lines.append(f"_Synthesized and compared in {review.seconds:.1f} s by `pipenv run review`._")
    return redact_text("\n".join(lines) + "\n")


def render_json(review: Review) -> str:
    def value(item: Any) -> Any:
        return None if item is _MISSING else item

    def change(c: ResourceChange) -> dict:
        data = asdict(c)
        data["changes"] = [{"path": a.path, "before": value(a.before), "after": value(a.after)} for a in c.changes]
        data["attributes"] = {a.path: value(a.after if c.action == "create" else a.before) for a in c.attributes}
        return data

    def cost(c: EnvironmentCost) -> dict:
        return {"region": c.region, "before": None if c.before is None else round(c.before, 2),
                "after": round(c.after, 2),
                "difference": None if c.difference is None else round(c.difference, 2),
                "percent": None if c.percent is None else round(c.percent, 1),
                "limit_percent": c.limit_percent, "limit_usd": c.limit_usd, "over_limit": c.over_limit,
                "unpriced": sorted({u for line in c.lines_after for u in line.unpriced}),
                "lines": [asdict(line) for line in c.lines_after]}

    table = prices()
    document = {
        "base": review.base, "base_error": review.base_error, "exit_code": review.exit_code,
        "seconds": round(review.seconds, 2),
        "risks": [asdict(r) for r in review.risks],
        "security": [asdict(f) for f in review.security],
        "suppressions": [asdict(s) for s in review.suppressions],
        "prices": {k: table[k] for k in ("region", "currency", "date", "sources")},
        "environments": {env: {"summary": review.summary(env),
                               "cost": cost(review.costs[env]),
                               "components": [asdict(c) for c in review.components if _environment(c.stack) == env],
                               "changes": [change(c) for c in review.changes if _environment(c.stack) == env]}
                         for env in review.environments},
    }
    return redact_text(json.dumps(document, indent=2)) + "\n"


# -- synthesizing both sides ----------------------------------------------------------------------

#: Runs a revision's ``main.py`` as ``python main.py --outdir OUT`` would, then writes the ``limits`` of the
#: environments it imported: the environments of that very revision, at no extra import cost.
_SYNTHESIZE = """
import dataclasses, json, runpy, sys
out, limits_file = sys.argv[1], sys.argv[2]
sys.argv = ["main.py", "--outdir", out]
code = 0
try:
    runpy.run_path("main.py", run_name="__main__")
except SystemExit as exit:
    if exit.code is None or isinstance(exit.code, int):
        code = exit.code or 0
    else:
        print(exit.code, file=sys.stderr)
        code = 1
environments = getattr(sys.modules.get("environments"), "ENVIRONMENTS", None) or {}
limits = {}
for name, env in environments.items():
    found = getattr(env, "limits", None)
    limits[name] = {field: getattr(found, field, None)
                    for field in ("max_cost_increase_percent", "max_cost_increase_usd")}
with open(limits_file, "w") as handle:
    json.dump(limits, handle)
sys.exit(code)
"""


def _synthesize(tree: Path, outdir: Path) -> subprocess.Popen:
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CHECKPOINT_DISABLE": "1"}
    env.pop("CDKTF_OUTDIR", None)
    env.pop("ENVIRONMENT", None)
    return subprocess.Popen([sys.executable, "-c", _SYNTHESIZE, str(outdir), str(outdir) + ".limits.json"],
                            cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ReviewError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


class ReviewError(RuntimeError):
    pass


# -- cleaning up after a review that was killed ----------------------------------------------------
#
# A review owns two things: a folder ``<tmp>/review.*`` holding ``OWNER`` (who made it), and a git
# worktree inside it, registered in the repository and *locked* with a reason naming the review's process.
# A review that is killed (SIGKILL, a cancelled CI job) leaves both. The next review removes those whose
# process is gone, on this host, and nothing else: not a folder without the marker, not one whose review
# still runs, not a worktree someone else registered (a global ``git worktree prune`` would also drop a
# user's worktree whose disk is not mounted; ours are found by their lock reason instead).

OWNER = "delivery-review-owner.json"
_LOCK_REASON = re.compile(r"^pipenv run review: pid (\d+) on (\S+)$")


def _lock_reason() -> str:
    return f"pipenv run review: pid {os.getpid()} on {socket.gethostname()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stale(pid: int, host: str) -> bool:
    return host == socket.gethostname() and pid != os.getpid() and not _alive(pid)


def _clean_leftovers(repo: Path) -> list[str]:
    """Remove what killed reviews left: their locked worktrees in ``repo`` and their marked folders."""
    removed = []
    listing = _git(repo, "worktree", "list", "--porcelain")
    for block in listing.split("\n\n"):
        fields = dict(line.partition(" ")[::2] for line in block.splitlines())
        match = _LOCK_REASON.match(fields.get("locked", ""))
        if match and _stale(int(match.group(1)), match.group(2)):
            _git(repo, "worktree", "remove", "--force", "--force", fields["worktree"])
            removed.append(fields["worktree"])
    for folder in sorted(Path(tempfile.gettempdir()).glob("review.*")):
        try:
            owner = json.loads((folder / OWNER).read_text())
        except (OSError, ValueError):
            continue  # not ours
        if owner.get("tool") == "delivery.review" and _stale(int(owner.get("pid", 0)), str(owner.get("host"))):
            worktree = folder / "base"
            if owner.get("repo") and Path(owner["repo"]).is_dir() and worktree.exists():
                subprocess.run(["git", "-C", owner["repo"], "worktree", "remove", "--force", "--force",
                                str(worktree)], capture_output=True, check=False)
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(str(folder))
    return removed


def _first_lines(text: str, limit: int = 20) -> str:
    lines = text.strip().splitlines()
    kept = lines[-limit:]
    return ("…\n" if len(lines) > limit else "") + "\n".join(kept)


def review(repo: Path, base: str) -> Review:
    """Synthesize ``base`` and the working tree of ``repo`` in parallel and compare them."""
    start = time.perf_counter()
    repo = Path(_git(repo, "rev-parse", "--show-toplevel"))
    commit = _git(repo, "rev-parse", "--verify", f"{base}^{{commit}}")
    _clean_leftovers(repo)
    work = Path(tempfile.mkdtemp(prefix="review."))
    jobs: dict[str, subprocess.Popen] = {}
    worktree = work / "base"
    try:
        (work / OWNER).write_text(json.dumps({"tool": "delivery.review", "pid": os.getpid(),
                                              "host": socket.gethostname(), "repo": str(repo)}))
        _git(repo, "worktree", "add", "--detach", "--quiet", "--lock", "--reason", _lock_reason(), str(worktree),
             commit)
        jobs["working tree"] = _synthesize(repo, work / "head.out")
        if (worktree / "main.py").is_file():
            jobs[base] = _synthesize(worktree, work / "base.out")
        errors = {}
        for name, job in jobs.items():
            _, stderr = job.communicate()
            if job.returncode != 0:
                errors[name] = f"(exit {job.returncode}):\n{redact_text(_first_lines(stderr))}"
        if "working tree" in errors:
            raise ReviewError(f"synthesis of the working tree failed {errors['working tree']}")
        limits_file = work / "head.out.limits.json"
        limits = json.loads(limits_file.read_text()) if limits_file.is_file() else {}
        base_ok = base in jobs and base not in errors
        result = compare(work / "base.out" if base_ok else None, work / "head.out", base=base, limits=limits,
                         base_error=errors.get(base))
    finally:
        for job in jobs.values():
            if job.poll() is None:
                job.kill()
                job.wait()
        # Never raises: an error here would hide the one that brought us here.
        subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", "--force", str(worktree)],
                       capture_output=True, check=False)
        shutil.rmtree(work, ignore_errors=True)
    result.seconds = time.perf_counter() - start
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Review what a change does to every environment (offline).")
    parser.add_argument("--base", default="origin/main", help="git revision to compare against; default origin/main")
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")
    parser.add_argument("--repo", default=".", help="the repository; default the current directory")
    args = parser.parse_args(argv)
    # A cancelled CI job is sent SIGTERM first: clean up as for Ctrl-C (SIGKILL is handled by the next run).
    previous = signal.signal(signal.SIGTERM, _terminate) if argv is None else None
    try:
        result = review(Path(args.repo), args.base)
    except ReviewError as error:
        print(redact_text(f"review: {error}"), file=sys.stderr)
        return FAILED
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    sys.stdout.write(render_json(result) if args.format == "json" else render_markdown(result))
    return result.exit_code


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
