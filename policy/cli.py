"""``pipenv run policy``: scan the synthesized stacks; ``python -m policy checks``: list our checks.

    pipenv run policy                                 # policy scan: every stack in cdktf.out
    pipenv run policy scan --stack staging-services --format json
    pipenv run policy checks                          # our checks and the checks skipped everywhere, with reasons

Exit 0 when nothing failed, 1 on a failure (a finding, a scan that could not
read a stack, a wrong or stale exception), 2 when there is nothing to scan.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any

from policy.scanner import Report


def _table(report: Report) -> str:
    lines: list[str] = []
    for finding in report.failed:
        lines.append(f"FAILED  {finding.stack}  {finding.check_id}  {finding.resource}")
        lines.append(f"        {finding.check_name}" + (f"  [{finding.path}]" if finding.path else ""))
        lines.extend(f"        - {detail}" for detail in finding.details)
    for problem in report.problems:
        lines.append(f"ERROR   {problem.render()}")
    if report.suppressions:
        lines.append("")
        lines.append("exceptions, per resource:")
        accepted = {(f.stack, f.resource, f.suppression): f for f in report.suppressed}
        current = None
        for use in sorted(report.suppressions, key=lambda u: (u.stack, u.path, u.resource, u.suppression.rule)):
            if (use.stack, use.resource) != current:
                current = (use.stack, use.resource)
                lines.append(f"  {use.path or use.stack} ({use.resource})")
            match = accepted.get((use.stack, use.resource, use.suppression))
            what = f"accepts {match.check_name}" if match else "nothing to accept here"
            lines.append(f"    {use.suppression.rule}: {what}; reason: {use.suppression.reason} "
                         f"(on {use.suppression.scope})")
    if report.uncovered:
        lines.append("")
        lines.append("resource types no check looks at:")
        for gap in report.uncovered:
            label = gap.type if gap.kind == "resource" else f"{gap.kind}.{gap.type}"
            count = f"{gap.unchecked}" if gap.unchecked == gap.resources else f"{gap.unchecked} of {gap.resources}"
            lines.append(f"  {label} ({count})")
    if report.stripped:
        lines.append("")
        lines.append("left out of the scanned copy (they configure no resource):")
        by_block: dict[tuple[str, str], list[str]] = {}
        for note in report.stripped:
            by_block.setdefault((note.block, note.why), []).append(
                note.stack if note.count == 1 else f"{note.stack} ({note.count})")
        for (block, why), where in sorted(by_block.items()):
            lines.append(f"  {block}: {why}; in {', '.join(where)}")
    if report.skipped:
        lines.append("")
        lines.append("skipped everywhere (policy/__init__.py):")
        lines.extend(f"  {check_id}: {reason}" for check_id, reason in report.skipped.items())
    lines.append("")
    count = f"{len(report.stacks)} stack{'s' * (len(report.stacks) != 1)}"
    lines.append(f"policy: {count}, {len(report.passed)} passed, {len(report.failed)} failed, "
                 f"{len(report.suppressed)} accepted by exceptions, {len(report.problems)} errors")
    if report.order_references:
        late = sum(p.kind == "apply-order" for p in report.problems)
        lines.append(f"apply order: {report.order_references} references between resources, {late} to something "
                     "that would not exist yet (policy/apply_order.py)")
    return "\n".join(lines)


def _json(report: Report) -> str:
    document = {
        "summary": {"stacks": report.stacks, "passed": len(report.passed), "failed": len(report.failed),
                    "accepted": len(report.suppressed), "errors": len(report.problems), "ok": report.ok},
        "failed": [dataclasses.asdict(f) for f in report.failed],
        "errors": [dataclasses.asdict(p) for p in report.problems],
        "accepted": [dataclasses.asdict(f) for f in report.suppressed],
        "exceptions": [dataclasses.asdict(u) for u in report.suppressions],
        "uncovered": [dataclasses.asdict(c) for c in report.uncovered],
        "not_scanned": [dataclasses.asdict(s) for s in report.stripped],
        "skipped_everywhere": report.skipped,
        "passed": [{"stack": stack, "resource": resource, "check_id": check_id}
                   for stack, resource, check_id in report.passed],
    }
    return json.dumps(document, indent=2)


def _checks(output: str) -> int:
    from checkov.terraform.checks.data.registry import data_registry
    from checkov.terraform.checks.resource.registry import resource_registry

    from policy import SKIPPED_CHECKS, eks_access
    from policy.scanner import known_checks

    known_checks()  # loads ours into checkov's registries
    ours: dict[str, dict[str, Any]] = {}
    for registry in (resource_registry, data_registry):
        for types in registry.checks.values():
            for check in types:
                if check.id.startswith("CKV_PLAT_"):
                    entry = ours.setdefault(check.id, {"id": check.id, "name": check.name, "reason": check.guideline,
                                                       "types": []})
                    entry["types"] = sorted({*entry["types"], *check.supported_entities})
    ours[eks_access.CHECK_ID] = {"id": eks_access.CHECK_ID, "name": eks_access.NAME, "reason": eks_access.REASON,
                                 "types": list(eks_access.RESOURCE_TYPES)}
    listing = sorted(ours.values(), key=lambda c: int(c["id"].rsplit("_", 1)[1]))
    if output == "json":
        print(json.dumps({"checks": listing, "skipped": SKIPPED_CHECKS}, indent=2))
        return 0
    for entry in listing:
        print(f"{entry['id']}  {entry['name']}\n    on: {', '.join(entry['types'])}\n    why: {entry['reason']}")
    print("\nskipped everywhere:")
    for check_id, reason in SKIPPED_CHECKS.items():
        print(f"  {check_id}: {reason}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("scan", "checks", "-h", "--help"):
        argv.insert(0, "scan")  # `pipenv run policy` scans
    parser = argparse.ArgumentParser(prog="policy", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    scan_parser = commands.add_parser("scan", help="scan the synthesized stacks (the default)")
    scan_parser.add_argument("--synth-dir", type=Path, default=Path(os.environ.get("CDKTF_OUTDIR", "cdktf.out")),
                             help="the synthesized app; default: $CDKTF_OUTDIR or cdktf.out")
    scan_parser.add_argument("--stack", action="append", dest="stacks", metavar="NAME",
                             help="scan only this stack (repeatable); default: all")
    scan_parser.add_argument("--format", choices=("table", "json"), default="table")
    checks_parser = commands.add_parser("checks", help="list our checks and the checks skipped everywhere")
    checks_parser.add_argument("--format", choices=("table", "json"), default="table")
    args = parser.parse_args(argv)

    if args.command == "checks":
        return _checks(args.format)

    stacks_dir = args.synth_dir / "stacks"
    present = sorted(p.name for p in stacks_dir.iterdir() if p.is_dir()) if stacks_dir.is_dir() else []
    if not present:
        print(f"error: no synthesized stacks in {stacks_dir}; run `pipenv run synth` first", file=sys.stderr)
        return 2
    unknown = sorted(set(args.stacks or ()) - set(present))
    if unknown:
        print(f"error: no stack {', '.join(unknown)} in {stacks_dir}; choose from {', '.join(present)}",
              file=sys.stderr)
        return 2

    from policy.scanner import scan

    report = scan(args.synth_dir, args.stacks)
    print(_json(report) if args.format == "json" else _table(report))
    return 0 if report.ok else 1
