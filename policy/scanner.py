"""The scan: checkov and our own rules over a copy of the synthesized stacks, and what the results mean.

A scan must not be blinded by what it reads, so:

- the copy holds only the blocks checkov reads (resources, data sources,
  providers, modules, variables, locals, outputs). ``terraform`` (settings,
  backend), ``moved``/``import``/``removed`` (what cdktf's ``move_to`` and
  ``import_from`` write) and ``check`` carry no resource configuration and are
  stripped, each named in the report; checkov's Terraform JSON parser fails
  the whole file on them. A block this module does not know is an error, not
  something to drop quietly;
- each stack is one directory (one Terraform module), one file per resource
  type: checkov names a resource ``resource.<name>`` in its Python checks'
  results, without the type, and the file says which it is;
- a file checkov cannot parse, a stack that yields no result and a checkov
  failure are errors, never "0 failed". (checkov reads no inline
  ``checkov:skip`` in Terraform JSON, so a suppression has one road: ``//``.)

Exceptions are per resource, from the ``//`` metadata the constructs write
(``"suppressions": [{"rule", "reason", "scope"}]``, see
``constructs_lib/rules``). The scan owns the ids that start with ``CKV``
(checkov's, ours in ``policy/checks``, ``CKV_PLAT_12``); others are the
construct rules' and are left to them. A suppression names a check checkov
knows, carries a reason, and must still match a failure under its scope: a
stale suppression is an error, because it would silently cover the next real
defect of its kind there (as ``warn_unused_ignores`` does for mypy).
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policy import apply_order, eks_access

__all__ = ["CHECKS_DIR", "Coverage", "Finding", "Problem", "Report", "Resource", "Stripped", "Suppression",
           "SuppressionUse", "known_checks", "scan"]

CHECKS_DIR = Path(__file__).with_name("checks")

#: Top-level blocks checkov reads, copied as they are.
SCANNED_BLOCKS = frozenset({"resource", "data", "provider", "module", "variable", "locals", "output"})
#: Top-level blocks that configure no resource: what they are, for the report.
STRIPPED_BLOCKS = {
    "//": "cdktf metadata",
    "terraform": "Terraform settings and backend",
    "moved": "state moves (move_to/move_from_id) name resources, configure none",
    "import": "imports (import_from) name resources, configure none",
    "removed": "removals name resources, configure none",
    "check": "assertions (check blocks) configure no resource",
}


@dataclass(frozen=True)
class Suppression:
    """An exception written on a construct: every resource under ``scope`` carries it."""

    rule: str
    reason: str
    scope: str


@dataclass(frozen=True)
class Resource:
    """A resource, data source or provider of a synthesized stack."""

    stack: str
    kind: str  # "resource", "data", "provider" or "module"
    type: str
    name: str
    path: str = ""
    suppressions: tuple[Suppression, ...] = ()

    @property
    def address(self) -> str:
        if self.kind == "resource":
            return f"{self.type}.{self.name}"
        return f"{self.kind}.{self.type}" if self.kind == "provider" else f"{self.kind}.{self.type}.{self.name}"


@dataclass(frozen=True)
class Finding:
    """A failed check on one resource; ``suppression`` says why it is accepted, if it is."""

    stack: str
    check_id: str
    check_name: str
    resource: str
    path: str = ""
    details: tuple[str, ...] = ()
    suppression: Suppression | None = None

    def render(self) -> str:
        return f"{self.stack}: {self.check_id} {self.check_name} ({self.resource})"


@dataclass(frozen=True)
class Problem:
    """Something that makes the scan's verdict untrustworthy or an exception wrong: always a failure."""

    stack: str
    kind: str  # parse, block, no-result, checkov, malformed, unknown-check, redundant, stale, apply-order
    message: str

    def render(self) -> str:
        return f"{self.stack}: {self.message}" if self.stack else self.message


@dataclass(frozen=True)
class Coverage:
    """A resource type some of whose resources no check looked at."""

    kind: str
    type: str
    resources: int
    unchecked: int


@dataclass(frozen=True)
class Stripped:
    """Top-level blocks of a stack left out of the scanned copy, and why that hides nothing."""

    stack: str
    block: str
    count: int
    why: str


@dataclass(frozen=True)
class SuppressionUse:
    """A suppression a resource carries, and whether it accepted a failure there."""

    stack: str
    resource: str
    path: str
    suppression: Suppression
    applied: bool


@dataclass
class Report:
    """What ``pipenv run policy`` prints: ``ok`` when nothing failed and nothing went wrong."""

    stacks: list[str]
    passed: list[tuple[str, str, str]] = field(default_factory=list)  # (stack, resource, check id)
    failed: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    suppressions: list[SuppressionUse] = field(default_factory=list)
    uncovered: list[Coverage] = field(default_factory=list)
    stripped: list[Stripped] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    order_references: int = 0  # references the apply-order check proved (whole-app scans only)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.problems


@dataclass
class _Result:
    check_id: str
    check_name: str
    passed: bool
    details: tuple[str, ...]


class _LogCapture(logging.Handler):
    """checkov reports a file it cannot parse only in its log: keep those records for the report."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def reason(self, file: str) -> str | None:
        for record in self.records:
            if file in record.getMessage() and record.exc_info and record.exc_info[1] is not None:
                error = record.exc_info[1]
                return f"{type(error).__name__}: {error}"
        return None


def _read_suppressions(config: dict[str, Any]) -> tuple[list[Suppression], list[str]]:
    """The well-formed suppressions of one resource, and what is wrong with the others."""
    raw = (config.get("//") or {}).get("suppressions") if isinstance(config.get("//"), dict) else None
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        return [], [f"suppressions is a {type(raw).__name__}, not a list of {{rule, reason, scope}}"]
    found, wrong = [], []
    for entry in raw:
        if not isinstance(entry, dict):
            wrong.append(f"suppression {entry!r} is not an object with rule, reason and scope")
            continue
        rule, reason, scope = entry.get("rule"), entry.get("reason"), entry.get("scope")
        if not isinstance(rule, str) or not rule.strip():
            wrong.append(f"suppression {entry!r} names no rule")
        elif not isinstance(reason, str) or not reason.strip():
            wrong.append(f"suppression of {rule} has no reason; say why the exception is acceptable")
        elif not isinstance(scope, str) or not scope.strip():
            wrong.append(f"suppression of {rule} has no scope (the construct path it was made on)")
        else:
            found.append(Suppression(rule=rule.strip(), reason=reason.strip(), scope=scope.strip()))
    return found, wrong


def _resources(stack: str, config: dict[str, Any]) -> Iterator[tuple[Resource, list[str]]]:
    for kind in ("resource", "data"):
        for type_, group in (config.get(kind) or {}).items():
            if not isinstance(group, dict):
                continue
            for name, body in group.items():
                if name == "//" or not isinstance(body, dict):
                    continue
                metadata = body.get("//", {}).get("metadata", {}) if isinstance(body.get("//"), dict) else {}
                found, wrong = _read_suppressions(body)
                yield Resource(stack, kind, type_, name, str(metadata.get("path", "")), tuple(found)), wrong


def _write_copy(stack: str, config: dict[str, Any], directory: Path) -> tuple[list[Stripped], list[Problem]]:
    """Write what checkov reads of one stack; return what was stripped and the blocks that cannot be scanned."""
    stripped, problems = [], []
    directory.mkdir(parents=True)
    rest = {}
    for block, value in config.items():
        if block in ("resource", "data") and isinstance(value, dict):
            for type_, group in value.items():
                (directory / f"{block}.{type_}.tf.json").write_text(json.dumps({block: {type_: group}}, indent=1))
        elif block in SCANNED_BLOCKS:
            rest[block] = value
        elif block in STRIPPED_BLOCKS:
            if block != "//":
                count = len(value) if isinstance(value, list) else 1
                stripped.append(Stripped(stack, block, count, STRIPPED_BLOCKS[block]))
        else:
            problems.append(Problem(stack, "block", f"top-level block {block!r} is not one checkov reads, and the "
                                    "scan does not know whether it configures resources; add it to SCANNED_BLOCKS "
                                    "or STRIPPED_BLOCKS in policy/scanner.py"))
    if rest:  # checkov counts an empty file as one it could not parse
        (directory / "main.tf.json").write_text(json.dumps(rest, indent=1))
    return stripped, problems


def _run_checkov(root: Path, skip: Collection[str]) -> tuple[Any, _LogCapture]:
    """checkov's Terraform JSON runner over ``root``, our checks loaded; its report and its log."""
    from checkov.runner_filter import RunnerFilter
    from checkov.terraform_json.runner import TerraformJsonRunner

    capture = _LogCapture()
    root_logger = logging.getLogger()
    root_logger.addHandler(capture)
    try:
        runner = TerraformJsonRunner()
        report = runner.run(root_folder=str(root), external_checks_dir=[str(CHECKS_DIR)],
                            runner_filter=RunnerFilter(framework=["terraform_json"], skip_checks=sorted(skip),
                                                       show_progress_bar=False))
    finally:
        root_logger.removeHandler(capture)
    return report, capture


def known_checks() -> dict[str, str]:
    """Every check id the scan can run (checkov's Terraform checks, ours) -> its name."""
    from checkov.common.checks_infra.registry import get_graph_checks_registry
    from checkov.terraform.checks.data.registry import data_registry
    from checkov.terraform.checks.module.registry import module_registry
    from checkov.terraform.checks.provider.registry import provider_registry
    from checkov.terraform.checks.resource.registry import resource_registry

    resource_registry.load_external_checks(str(CHECKS_DIR))  # loads the data checks beside them too
    names: dict[str, str] = {eks_access.CHECK_ID: eks_access.NAME}
    for registry in (resource_registry, data_registry, provider_registry, module_registry):
        for checks in (*registry.checks.values(), *registry.wildcard_checks.values()):
            names.update((check.id, check.name) for check in checks)
    graph = get_graph_checks_registry("terraform")
    if not graph.checks:
        graph.load_checks()
    names.update((check.id, check.name) for check in graph.checks)
    return names


def _locate(record: Any, root: Path) -> tuple[str, str, str, str]:
    """(stack, kind, type, name) of a checkov record, from the file it came from."""
    file = Path(record.file_abs_path or root / str(record.file_path).lstrip("/"))
    stack = file.parent.name
    name = str(record.resource).rsplit(".", 1)[-1]
    stem = file.name.removesuffix(".tf.json")
    if stem == "main":
        kind, _, rest = str(record.resource).partition(".")
        return stack, kind, rest.split(".", 1)[0], name
    kind, _, type_ = stem.partition(".")
    return stack, kind, type_, name


def scan(synth_dir: Path, stacks: list[str] | None = None, *,
         admins: Mapping[str, Collection[str]] | None = None) -> Report:
    """Scan ``synth_dir/stacks/*`` (or the named stacks) with checkov and our rules.

    :param admins: environment name -> its cluster admin role ARNs, for CKV_PLAT_12; default: read from
        ``environments/`` when a stack holds EKS access resources.
    """
    from policy import SKIPPED_CHECKS

    names = stacks or sorted(p.name for p in (synth_dir / "stacks").iterdir() if p.is_dir())
    report = Report(stacks=names, skipped=dict(SKIPPED_CHECKS))
    configs: dict[str, dict[str, Any]] = {}
    for name in names:
        path = synth_dir / "stacks" / name / "cdk.tf.json"
        try:
            config = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            report.problems.append(Problem(name, "parse", f"cannot read {path}: {error}"))
            continue
        if not isinstance(config, dict):
            report.problems.append(Problem(name, "parse", f"{path} is not a JSON object"))
            continue
        configs[name] = config

    results: dict[tuple[str, str, str, str], list[_Result]] = defaultdict(list)
    scanned: set[str] = set()  # stacks checkov returned at least one result for
    with tempfile.TemporaryDirectory(prefix="policy.") as tmp:
        root = Path(tmp)
        for name, config in configs.items():
            stripped, problems = _write_copy(name, config, root / name)
            report.stripped.extend(stripped)
            report.problems.extend(problems)
        try:
            checkov_report, log = _run_checkov(root, SKIPPED_CHECKS)
        except Exception as error:  # a crashing check must fail the scan, not shorten it
            report.problems.append(Problem("", "checkov", f"checkov failed, nothing was checked: "
                                           f"{type(error).__name__}: {error}"))
            return report
        for file in checkov_report.parsing_errors:
            stack = Path(file).parent.name
            reason = log.reason(file) or "see checkov's log"
            report.problems.append(Problem(stack, "parse", f"checkov could not parse {Path(file).name}, so none "
                                           f"of its resources was checked: {reason}"))
        for record in (*checkov_report.passed_checks, *checkov_report.failed_checks):
            key = _locate(record, root)
            scanned.add(key[0])
            results[key].append(_Result(record.check_id, record.check_name,
                                        record.check_result["result"].name == "PASSED", tuple(record.details or ())))

    if any(config.get("resource", {}).get(t) for config in configs.values() for t in eks_access.RESOURCE_TYPES):
        if admins is None:
            admins = eks_access.environment_admins()
        for name, config in configs.items():
            for result in eks_access.check_stack(name, config, admins):
                results[(name, "resource", result.type, result.name)].append(
                    _Result(eks_access.CHECK_ID, eks_access.NAME, result.passed, result.details))

    _judge(report, configs, results, scanned)
    if stacks is None and (synth_dir / "manifest.json").is_file():
        # The whole app: prove the apply order too (policy/apply_order.py).
        order = apply_order.check(synth_dir)
        report.order_references = order.references
        report.problems += [Problem(p.stack, "apply-order", f"{p.resource} needs {p.needs}, {p.why}")
                            for p in order.problems]
    return report


def _judge(report: Report, configs: dict[str, dict[str, Any]],
           results: dict[tuple[str, str, str, str], list[_Result]], scanned: set[str]) -> None:
    """Apply the suppressions to the results; fill in failures, problems, coverage."""
    known = known_checks()
    used: set[tuple[str, Suppression]] = set()
    carried: dict[tuple[str, Suppression], list[Resource]] = defaultdict(list)
    resources: dict[tuple[str, str, str, str], Resource] = {}
    for stack, config in configs.items():
        for resource, wrong in _resources(stack, config):
            resources[(stack, resource.kind, resource.type, resource.name)] = resource
            where = resource.path or resource.address
            report.problems.extend(Problem(stack, "malformed", f"{where}: {message}") for message in wrong)
            for suppression in resource.suppressions:
                carried[(stack, suppression)].append(resource)

    for key, checks in sorted(results.items()):
        stack, kind, type_, name = key
        resource = resources.get(key, Resource(stack, kind, type_, name))
        for result in checks:
            if result.passed:
                report.passed.append((stack, resource.address, result.check_id))
                continue
            matching = [s for s in resource.suppressions if s.rule == result.check_id]
            narrowest = max(matching, key=lambda s: len(s.scope), default=None)
            finding = Finding(stack, result.check_id, result.check_name, resource.address, resource.path,
                              result.details, narrowest)
            if narrowest is None:
                report.failed.append(finding)
            else:
                report.suppressed.append(finding)
                used.add((stack, narrowest))

    for stack in configs:
        in_stack = [r for (s, *_), r in resources.items() if s == stack]
        if in_stack and stack not in scanned:
            report.problems.append(Problem(stack, "no-result", f"checkov returned no result for any of its "
                                           f"{len(in_stack)} resources, so the stack was not really scanned"))
    # where part of a stack went unread, an unmatched suppression says nothing
    unread = {p.stack for p in report.problems if p.kind in ("parse", "block", "no-result")}
    for (stack, suppression), holders in sorted(carried.items(), key=lambda item: (item[0][0], item[0][1].scope,
                                                                                     item[0][1].rule)):
        for resource in holders:
            applied = any(f.suppression == suppression and f.resource == resource.address and f.stack == stack
                          for f in report.suppressed)
            report.suppressions.append(SuppressionUse(stack, resource.address, resource.path, suppression, applied))
        if not suppression.rule.startswith("CKV"):
            continue  # a construct rule's: constructs_lib.rules checks it
        where = f"suppression of {suppression.rule} on {suppression.scope}"
        if suppression.rule not in known:
            report.problems.append(Problem(stack, "unknown-check", f"{where}: checkov has no Terraform check "
                                           f"{suppression.rule}; `python -m policy checks` lists ours, "
                                           "`checkov --list` checkov's"))
        elif suppression.rule in report.skipped:
            report.problems.append(Problem(stack, "redundant", f"{where}: {suppression.rule} is also skipped "
                                           "everywhere (policy SKIPPED_CHECKS); remove the global skip"))
        elif (stack, suppression) not in used and stack not in unread:
            report.problems.append(Problem(stack, "stale", f"{where} matches no failure of {suppression.rule} on "
                                           f"the {len(holders)} resource(s) under it; remove it (left in place it "
                                           "would accept the next such defect there without review)"))


    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for key, resource in resources.items():
        counts = totals[(resource.kind, resource.type)]
        counts[0] += 1
        counts[1] += key not in results
    report.uncovered = [Coverage(kind, type_, total, unchecked)
                        for (kind, type_), (total, unchecked) in sorted(totals.items()) if unchecked]
    report.failed.sort(key=lambda f: (f.stack, f.check_id, f.resource))
    report.suppressed.sort(key=lambda f: (f.stack, f.check_id, f.resource))
