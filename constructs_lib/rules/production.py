"""The rules production adds: nothing single, nothing unprotected."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cdktf import TerraformResource

from ..guardrails import Finding, RulePack, rule
from ..microservice import Microservice
from ..redis import ManagedRedis
from .baseline import _body

__all__ = ["PRODUCTION", "PROTECTED_TYPES"]

#: Resources whose loss loses data or the environment: production keeps them from being destroyed.
PROTECTED_TYPES = frozenset({
    "aws_elasticache_replication_group", "aws_s3_bucket", "aws_dynamodb_table", "aws_eks_cluster",
    "aws_kms_key", "aws_secretsmanager_secret",
})


@rule("PROD-TWO-PODS", "one pod is one outage: a node drain, a deploy or a crash takes the service down",
      fix="replicas=2 or more, or autoscaling with min_replicas=2 or more", applies_to=Microservice)
def two_pods(service: Microservice, guardrails: Any) -> Iterable[Finding]:
    if service.min_pods < 2:
        field = "autoscaling.min_replicas" if service.autoscaling else "replicas"
        yield field, service.min_pods
    elif service.pod_disruption_budget is None:
        yield "pod_disruption_budget", None, "a service with two or more pods needs its PodDisruptionBudget"


@rule("PROD-CACHE-HA", "a cache without a replica in another zone loses its data with one node",
      fix="replicas=1 or more and multi_az=True (the defaults)", applies_to=ManagedRedis)
def cache_ha(cache: ManagedRedis, guardrails: Any) -> Iterable[Finding]:
    if cache.replicas < 1:
        yield "replicas", cache.replicas
    if not cache.multi_az:
        yield "multi_az", cache.multi_az


@rule("PROD-PROTECT-STATEFUL", "a stateful resource destroyed by a plan is data lost for good",
      fix="protect it: the construct's protect=True (default in production), or lifecycle prevent_destroy",
      applies_to=(ManagedRedis, TerraformResource))
def protect_stateful(construct: ManagedRedis | TerraformResource, guardrails: Any) -> Iterable[Finding]:
    if isinstance(construct, ManagedRedis):
        if not construct.protect:
            yield "protect", construct.protect, "leave protect out (production protects by default) or pass True"
        return
    if any(isinstance(scope, ManagedRedis) for scope in construct.node.scopes):
        return  # reported once, on the construct's own keyword
    resource = construct
    type_ = resource.terraform_resource_type
    if type_ not in PROTECTED_TYPES:
        return
    body = _body(resource)
    protected = (body.get("lifecycle") or {}).get("prevent_destroy") is True
    if type_ == "aws_eks_cluster":
        protected = protected or body.get("deletion_protection") is True
    if not protected:
        yield "lifecycle.prevent_destroy", (body.get("lifecycle") or {}).get("prevent_destroy")


#: Production: at least two pods and a disruption budget, caches that fail over, stateful resources protected.
PRODUCTION = RulePack("production", (two_pods, cache_ha, protect_stateful))
