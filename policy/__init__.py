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

#: check id -> why the platform does not follow it, anywhere. Each entry is on its way to a per-resource
#: suppression on the construct it is about (issue 12); remove the entry in the change that adds the suppress().
SKIPPED_CHECKS: dict[str, str] = {
    "CKV_AWS_39": "EKS public endpoint: reachable only from listed CIDRs (EksCluster rejects /0); "
                  "CI and people reach the API without a VPN into the VPC",
    "CKV_AWS_18": "state bucket access logging: CloudTrail audits state access; a log bucket would need "
                  "bootstrapping of its own",
    "CKV_AWS_144": "state bucket cross-region replication: versioning makes state recoverable; a second-region "
                   "bucket is a disaster-recovery decision per account",
    "CKV2_AWS_62": "state bucket event notifications: nothing consumes them",
    "CKV2_AWS_57": "Redis connection secrets: Terraform owns the AUTH token (random_password, applied to ElastiCache "
                   "with the ROTATE strategy); a rotation Lambda would fight Terraform. Rotate by replacing "
                   "the random_password in a reviewed change",
    "CKV_K8S_11": "CPU limits: Microservice sets requests and a memory limit but no CPU limit on purpose; "
                  "CFS throttling hurts latency more than a busy neighbour does",
    "CKV_K8S_15": "imagePullPolicy Always: Microservice pins images by tag and pulls IfNotPresent. Not yet true "
                  "that this pulls the same bytes: a tag can be pushed again. Goes away when Microservice "
                  "requires a digest (name:tag@sha256:...) and leaves the pull policy to Kubernetes",
    "CKV_K8S_43": "image digests: Microservice accepts a pinned tag (never 'latest'), which a registry may let be "
                  "overwritten. Goes away when Microservice requires a digest (name:tag@sha256:...)",
}
