"""What a stack promises every construct in it: the environment's limits, conventions and rules.

Rules are small named things, in the manner of cdk-nag: an id, a one-line
rationale, a fix, the kind of construct they look at, and a function that
returns what is wrong (``rule``). Packs group them (``rules.BASELINE``,
``rules.PRODUCTION``); an environment chooses its packs. An exception
(``suppress``) names one rule (ours, or a checkov check id) on one construct
and everything below it, with a written reason; it is recorded in the
synthesized JSON (the ``//`` metadata of every resource it covers), listed by
``pipenv run policy`` and shown by ``pipenv run review``.

A stack attaches one ``Guardrails`` (``guardrails.attach(stack)``). Constructs
then take their defaults from it at construction time, wherever they are added
and by whichever file: the replica cap, the node cap, the secrets prefix, the
namespace, the workers' security group, the network and protection of caches, the
cluster's OIDC provider (for workloads' own IAM roles) and whether workloads get NetworkPolicies.
A keyword passed explicitly is a choice, but can only tighten a limit
(``replica_cap=3`` under an environment cap of 20 caps at 3; ``replica_cap=50``
still caps at 20).

At synthesis the same object is a cdktf aspect: it visits every construct of
the stack, applies the environment's rule packs to each (``rules/``), and
records every exception (``suppress``) in the ``//`` metadata of the resources
it covers. ``stacks.check(app)`` runs the rules before anything is written, so
that all problems come out as one ``ConfigError``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsii
from cdktf import IAspect, TerraformDataSource, TerraformResource
from constructs import IConstruct

from .validation import ConfigError, Problem

__all__ = ["CHECKOV_ID", "RULES", "Guardrails", "Rule", "RulePack", "Suppression", "rule", "suppress",
           "suppressions_of"]

#: checkov check ids (``CKV_AWS_39``, ``CKV2_AWS_62``, ``CKV_K8S_11``, ...), suppressible like our rules.
CHECKOV_ID = re.compile(r"^CKV2?_[A-Z0-9]+_\d+$")
_RULE_ID = re.compile(r"^[A-Z]+(-[A-Z0-9]+)+$")
_MIN_REASON_WORDS = 4

Finding = tuple[str, Any] | tuple[str, Any, str]


@dataclass(frozen=True)
class Rule:
    """One rule: ``check(construct, guardrails)`` yields ``(field, value)`` or ``(field, value, fix)``
    for what is wrong; ``fix`` is the default remedy."""

    id: str
    rationale: str
    fix: str
    applies_to: type | tuple[type, ...]
    check: Callable[[Any, Any], Iterable[Finding]]

    def problems(self, construct: Any, guardrails: Any) -> list[Problem]:
        found = []
        for finding in self.check(construct, guardrails):
            field, value, fix = (*finding, self.fix) if len(finding) == 2 else finding
            found.append(Problem(field, value, f"[{self.id}] {self.rationale}: {fix} (or suppress("
                                               f"<construct>, {self.id!r}, reason=...) with a reason)"))
        return found


#: Every rule by id: what ``suppress`` accepts besides checkov ids.
RULES: dict[str, Rule] = {}


def rule(id: str, rationale: str, *, fix: str, applies_to: type | tuple[type, ...]
         ) -> Callable[[Callable[[Any, Any], Iterable[Finding]]], Rule]:
    """Register a rule: ``@rule("PROD-TWO-PODS", "one pod is one outage", fix=..., applies_to=Microservice)``."""
    assert _RULE_ID.match(id) and id not in RULES, id

    def register(check: Callable[[Any, Any], Iterable[Finding]]) -> Rule:
        RULES[id] = Rule(id, rationale, fix, applies_to, check)
        return RULES[id]

    return register


@dataclass(frozen=True)
class RulePack:
    """A named set of rules an environment chooses, like a cdk-nag pack."""

    name: str
    rules: tuple[Rule, ...]

    def __repr__(self) -> str:
        return f"RulePack({self.name!r})"


@dataclass(frozen=True)
class Suppression:
    """An exception to one rule on one construct (``scope``) and everything below it."""

    rule: str
    reason: str
    scope: str

    def as_json(self) -> dict[str, str]:
        return {"rule": self.rule, "reason": self.reason, "scope": self.scope}


_SUPPRESSIONS = "_platform_suppressions"


def suppress(construct: IConstruct, rule_id: str, *, reason: str) -> Suppression:
    """Except ``construct`` and its children from ``rule_id`` (ours or a checkov id), for ``reason``.

    The reason is what a reviewer reads; it must say why the rule does not apply
    here. An unknown rule or a missing reason is refused.
    """
    path = construct.node.path
    problems = []
    if not isinstance(rule_id, str) or not (rule_id in RULES or CHECKOV_ID.match(rule_id)):
        problems.append(Problem("suppress", rule_id, "name a platform rule (" + ", ".join(sorted(RULES))
                                + ") or a checkov check id such as 'CKV_AWS_39'"))
    if not isinstance(reason, str) or len(reason.split()) < _MIN_REASON_WORDS:
        problems.append(Problem(f"suppress({rule_id!r}).reason", reason,
                                f"say why the rule does not apply here, in at least {_MIN_REASON_WORDS} words"))
    if problems:
        raise ConfigError(path, problems)
    own: dict[str, Suppression] = construct.__dict__.setdefault(_SUPPRESSIONS, {})
    own[rule_id] = Suppression(rule_id, " ".join(reason.split()), path)
    return own[rule_id]


def suppressions_of(construct: IConstruct) -> Mapping[str, Suppression]:
    """The exceptions that hold for ``construct``: its own and its ancestors' (the nearest wins)."""
    found: dict[str, Suppression] = {}
    for scope in construct.node.scopes:
        found.update(getattr(scope, "__dict__", {}).get(_SUPPRESSIONS, {}))
    return found


_ATTRIBUTE = "platform_guardrails"


@jsii.implements(IAspect)
class Guardrails:
    """The environment's limits and conventions, and the rule packs applied to every construct.

    Every field is optional: ``None`` leaves the construct's own default.

    :param environment: the environment's name (messages say which rules hold where).
    :param rule_packs: the packs applied at synthesis (``constructs_lib.rules.BASELINE``, ``PRODUCTION``).
    :param replica_cap: the most pods one service may run.
    :param node_cap: the most nodes one node group may run.
    :param secrets_prefix: every Secrets Manager name a construct reads or writes starts with it.
    :param namespace: the Kubernetes namespace services go to (a token orders them after it).
    :param namespace_name: that namespace's name, where ``namespace`` is a reference.
    :param workers_security_group_id: what caches admit their clients from (the nodes' security group).
    :param vpc_id: the VPC caches are created in.
    :param subnet_ids: the private subnets caches are created in.
    :param protect_stateful: ``prevent_destroy`` on stateful resources by default.
    :param alarm_topic_arn: the SNS topic alarms notify by default.
    :param oidc_provider_arn: the cluster's IAM OIDC provider, through which a workload's own IAM role
        (``aws_permissions``) trusts its service account.
    :param oidc_issuer_url: that provider's issuer URL (``https://oidc.eks...``).
    :param network_policies: every workload gets its own NetworkPolicy admitting only what it needs; set
        where the stack denies ingress in the namespace by default (``default_deny_ingress``).
    """

    def __init__(self, *, environment: str, rule_packs: Sequence[RulePack] = (), replica_cap: int | None = None,
                 node_cap: int | None = None, secrets_prefix: str | None = None, namespace: str | None = None,
                 namespace_name: str | None = None,
                 workers_security_group_id: str | None = None, vpc_id: str | None = None,
                 subnet_ids: Sequence[str] = (), protect_stateful: bool = False,
                 alarm_topic_arn: str | None = None, oidc_provider_arn: str | None = None,
                 oidc_issuer_url: str | None = None, network_policies: bool = False) -> None:
        self.environment = environment
        self.rule_packs = tuple(rule_packs)
        self.replica_cap = replica_cap
        self.node_cap = node_cap
        self.secrets_prefix = secrets_prefix
        self.namespace = namespace
        self.namespace_name = namespace_name
        self.workers_security_group_id = workers_security_group_id
        self.vpc_id = vpc_id
        self.subnet_ids = tuple(subnet_ids)
        self.protect_stateful = protect_stateful
        self.alarm_topic_arn = alarm_topic_arn
        self.oidc_provider_arn = oidc_provider_arn
        self.oidc_issuer_url = oidc_issuer_url
        self.network_policies = network_policies

    @staticmethod
    def of(scope: IConstruct) -> Guardrails | None:
        """The guardrails that hold at ``scope``: those of its nearest enclosing stack, if any."""
        for construct in reversed(scope.node.scopes):
            found = getattr(construct, _ATTRIBUTE, None)
            if isinstance(found, Guardrails):
                return found
        return None

    def attach(self, stack: IConstruct) -> Guardrails:
        """Make these the guardrails of ``stack`` and everything in it; returns self."""
        setattr(stack, _ATTRIBUTE, self)
        from cdktf import Aspects

        Aspects.of(stack).add(self)
        return self

    @staticmethod
    def cap(explicit: int | None, limit: int | None) -> int | None:
        """The tighter of an explicit limit and the environment's (None: no limit)."""
        limits = [v for v in (explicit, limit) if v is not None]
        return min(limits) if limits else None

    # -- rules -------------------------------------------------------------------------------------

    def violations(self, construct: IConstruct) -> list[Problem]:
        """What the rule packs find wrong with ``construct`` itself, minus its reasoned exceptions."""
        problems: list[Problem] = []
        exempt = None
        for pack in self.rule_packs:
            for rule in pack.rules:
                if not isinstance(construct, rule.applies_to):
                    continue
                exempt = suppressions_of(construct) if exempt is None else exempt
                if rule.id not in exempt:
                    problems += rule.problems(construct, self)
        return problems

    def check(self, root: IConstruct) -> list[ConfigError]:
        """Every rule on every construct under ``root`` (a stack): one ConfigError per construct at fault."""
        errors = []
        for construct in root.node.find_all():
            problems = self.violations(construct)
            if problems:
                errors.append(ConfigError(construct.node.path, problems))
        return errors

    def visit(self, node: IConstruct) -> None:
        """The aspect: record exceptions on resources; refuse a construct that breaks a rule (a backstop
        for a synthesis that skipped ``stacks.check``)."""
        if isinstance(node, TerraformResource | TerraformDataSource):
            exempt = suppressions_of(node)
            if exempt:
                node.add_override("//.suppressions", [s.as_json() for _, s in sorted(exempt.items())])
        problems = self.violations(node)
        if problems:
            raise ConfigError(node.node.path, problems)
