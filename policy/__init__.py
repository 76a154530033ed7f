"""Policy checks on the synthesized stacks: checkov, our checks, and the exceptions with their reasons.

``pipenv run policy`` (``python -m policy scan``) runs checkov's Terraform
checks and ours (``policy/checks``, ``policy/eks_access.py``) over
``cdktf.out``; ``policy/scanner.py`` says how it keeps from being blinded and how
suppressions are judged. An exception belongs on the construct it is about,
with its reason (``suppress(construct, "CKV_...", reason=...)``); a check
skipped here is skipped on every resource of every stack, present and future,
so it stays here only while its reason holds for every resource it could
ever apply to.
"""

from __future__ import annotations

from policy.cli import main
from policy.scanner import Coverage, Finding, Problem, Report, Resource, Suppression, known_checks, scan

__all__ = ["SKIPPED_CHECKS", "Coverage", "Finding", "Problem", "Report", "Resource", "Suppression", "known_checks",
           "main", "scan"]

#: check id -> why the platform does not follow it anywhere, for every resource of every stack. Empty: every
#: exception is a suppress() on the construct it is about, with its reason, listed per resource by the scan.
SKIPPED_CHECKS: dict[str, str] = {}
