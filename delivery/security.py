"""The security section of the review, as ``cdk diff`` has one: who may now do what, from where.

From both sides' synthesized stacks it reads

- IAM policy statements: identity policies, role trust policies, KMS key
  policies, bucket and secret policies, whether written as JSON, as a
  ``jsonencode(...)`` expression or as an ``aws_iam_policy_document`` data source;
- managed policies attached to roles;
- security-group rules, and every CIDR that is not private (RFC 1918, CGNAT, ULA);
- the EKS API endpoint's public CIDRs, EKS access entries and their access policies;
- Kubernetes RBAC: Roles' rules (verbs on resources) and who they are bound to;
- Kubernetes Services of type LoadBalancer (public unless annotated internal),

and reports each grant added, removed, widened or narrowed. **Broadening is a
risk**: a grant widened (more actions, resources, principals, ports or a larger
network; a condition dropped), any grant added to something that already
existed (a statement on an existing role, a rule on an existing security group,
an access entry on an existing cluster), and anything that opens to the world
(principal ``*``, ``Action: *`` on ``*``, a public CIDR, an admin managed policy),
new or not. A new component's own grants are listed, for review, without being
called risky.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .documents import open_document

__all__ = ["Finding", "compare_security"]

#: (resource type, argument) -> what the document is, for the types that hold a policy.
_POLICY_ARGUMENTS = {
    ("aws_iam_policy", "policy"): "IAM policy",
    ("aws_iam_role_policy", "policy"): "IAM role policy",
    ("aws_iam_user_policy", "policy"): "IAM user policy",
    ("aws_iam_group_policy", "policy"): "IAM group policy",
    ("aws_iam_role", "assume_role_policy"): "trust policy",
    ("aws_kms_key", "policy"): "KMS key policy",
    ("aws_kms_key_policy", "policy"): "KMS key policy",
    ("aws_s3_bucket_policy", "policy"): "bucket policy",
    ("aws_secretsmanager_secret", "policy"): "secret policy",
    ("aws_secretsmanager_secret_policy", "policy"): "secret policy",
    ("aws_sqs_queue_policy", "policy"): "queue policy",
    ("aws_sns_topic_policy", "policy"): "topic policy",
    ("aws_ecr_repository_policy", "policy"): "repository policy",
}
#: Managed policies that grant (nearly) everything.
_ADMIN_POLICY = re.compile(r":policy/(AdministratorAccess|PowerUserAccess|IAMFullAccess|[A-Za-z]*FullAccess)$")
_ADMIN_ACCESS_POLICY = re.compile(r"cluster-access-policy/AmazonEKS(ClusterAdmin|Admin)Policy$")
_MINUS = "\u2212"
_PRIVATE_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "fc00::/7", "fe80::/10", "::1/128"))


@dataclass(frozen=True)
class Finding:
    """One grant that changes: ``added``, ``removed``, ``widened``, ``narrowed`` or ``changed``."""

    kind: str  # iam | kms | managed-policy | security-group | public-endpoint | eks-access | kubernetes-rbac
    #            | load-balancer
    stack: str
    address: str
    change: str
    summary: str
    broadens: bool
    detail: str = ""


@dataclass(frozen=True)
class _Grant:
    """One statement, rule or entry, with the sets whose growth widens it."""

    kind: str
    address: str
    summary: str
    sets: Mapping[str, frozenset[str]] = field(default_factory=dict)
    wide_open: bool = False  # opens to the world by itself
    inverted: bool = False  # a Deny: fewer is broader


def _set(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, list | tuple | set | frozenset):
        return frozenset(str(v) for v in value)
    return frozenset({str(value)})


def is_public(cidr: str) -> bool:
    """True for a network outside the private ranges (``0.0.0.0/0``, an office's public range...)."""
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False  # an unresolved reference: unknown, not reported as public
    return not any(network.version == p.version and network.subnet_of(p)  # type: ignore[arg-type]
                   for p in _PRIVATE_NETWORKS)


# -- reading policies --------------------------------------------------------------------------------

def _principals(statement: Mapping[str, Any], key: str) -> frozenset[str]:
    value = statement.get(key)
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset({f"AWS:{value}"})
    return frozenset(f"{kind}:{item}" for kind, items in value.items() for item in _set(items))


def _from_json_statement(statement: Mapping[str, Any]) -> dict[str, Any]:
    conditions = frozenset(f"{test} {variable} {sorted(_set(values))}"
                           for test, pairs in (statement.get("Condition") or {}).items()
                           for variable, values in pairs.items())
    return {"sid": statement.get("Sid"), "effect": statement.get("Effect", "Allow"),
            "principals": _principals(statement, "Principal"), "not_principals": _principals(statement, "NotPrincipal"),
            "actions": _set(statement.get("Action")), "not_actions": _set(statement.get("NotAction")),
            "resources": _set(statement.get("Resource")), "not_resources": _set(statement.get("NotResource")),
            "conditions": conditions}


def _from_document_statement(statement: Mapping[str, Any]) -> dict[str, Any]:
    """A statement block of an ``aws_iam_policy_document`` data source, in the policy's own terms."""
    def principals(key: str) -> frozenset[str]:
        return frozenset(f"{p.get('type')}:{i}" for p in statement.get(key, []) for i in _set(p.get("identifiers")))

    conditions = frozenset(f"{c.get('test')} {c.get('variable')} {sorted(_set(c.get('values')))}"
                           for c in statement.get("condition", []))
    return {"sid": statement.get("sid"), "effect": statement.get("effect", "Allow"),
            "principals": principals("principals"), "not_principals": principals("not_principals"),
            "actions": _set(statement.get("actions")), "not_actions": _set(statement.get("not_actions")),
            "resources": _set(statement.get("resources")), "not_resources": _set(statement.get("not_resources")),
            "conditions": conditions}


def _statements(value: Any, data: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The statements of a policy argument: a JSON document, a ``jsonencode`` expression, or a reference
    to an ``aws_iam_policy_document`` data source of the same stack. None when it cannot be read."""
    reference = re.match(r"^\$\{data\.aws_iam_policy_document\.([^.}]+)\.(json|minified_json)\}$", str(value))
    if reference:
        source = data.get("aws_iam_policy_document", {}).get(reference.group(1))
        if not isinstance(source, Mapping):
            return None
        return [_from_document_statement(s) for s in source.get("statement", []) if isinstance(s, Mapping)]
    document = open_document(value)
    if not isinstance(document, Mapping):
        return None
    statements = document.get("Statement", [])
    statements = [statements] if isinstance(statements, Mapping) else statements
    return [_from_json_statement(s) for s in statements if isinstance(s, Mapping)]


def _short(values: Iterable[str], limit: int = 4) -> str:
    items = sorted(values)
    text = ", ".join(f"`{v}`" for v in items[:limit])
    return text + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _statement_grant(kind: str, address: str, what: str, statement: Mapping[str, Any]) -> _Grant:
    actions = statement["actions"] or {f"all but {_short(statement['not_actions'])}"}
    resources = statement["resources"] or ({f"all but {_short(statement['not_resources'])}"}
                                           if statement["not_resources"] else set())
    who = f" to {_short(statement['principals'])}" if statement["principals"] else ""
    label = f" `{statement['sid']}`" if statement["sid"] else ""
    summary = (f"{what}{label}: {statement['effect']} {_short(actions)}"
               + (f" on {_short(resources)}" if resources else "") + who
               + (" (with conditions)" if statement["conditions"] else ""))
    principals = statement["principals"]
    open_principal = any(p.split(":", 1)[1] == "*" for p in principals)
    admin = "*" in statement["actions"] and "*" in statement["resources"]
    allow = statement["effect"] == "Allow"
    return _Grant(kind, address, summary,
                  sets={"actions": statement["actions"], "resources": statement["resources"],
                        "principals": principals, "-conditions": statement["conditions"],
                        "-not_actions": statement["not_actions"], "-not_resources": statement["not_resources"]},
                  wide_open=allow and (open_principal or admin), inverted=not allow)


# -- reading every grant of a stack ------------------------------------------------------------------

def _rule_grant(address: str, rule: Mapping[str, Any], direction: str, group: str) -> _Grant:
    protocol = str(rule.get("ip_protocol", rule.get("protocol", "-1")))
    low, high = rule.get("from_port"), rule.get("to_port")
    ports = "all ports" if protocol in ("-1", "all") else (f"{protocol} {low}" if low == high else
                                                           f"{protocol} {low}-{high}")
    sources = (_set(rule.get("cidr_ipv4")) | _set(rule.get("cidr_ipv6")) | _set(rule.get("cidr_blocks"))
               | _set(rule.get("ipv6_cidr_blocks")))
    groups = (_set(rule.get("referenced_security_group_id")) | _set(rule.get("source_security_group_id"))
              | _set(rule.get("security_groups")) | _set(rule.get("prefix_list_id"))
              | _set(rule.get("prefix_list_ids")))
    if rule.get("self"):
        groups |= {"itself"}
    public = sorted(c for c in sources if is_public(c))
    where = "from" if direction == "ingress" else "to"
    summary = (f"security group {group}: {direction} {ports} {where} {_short(sources | groups) or 'nowhere'}"
               + (f" (**public**: {', '.join(public)})" if public else ""))
    port_set = frozenset({"all"}) if protocol in ("-1", "all") else frozenset({f"{protocol}:{low}-{high}"})
    return _Grant("security-group", address, summary, sets={"ports": port_set, "sources": sources | groups},
                  wide_open=bool(public) and direction == "ingress")


def _grants(stack: Mapping[str, Any]) -> dict[tuple[str, ...], _Grant]:
    """Every grant a stack makes, by a key that stays the same when the grant is edited."""
    resources = stack.get("resource", {})
    data = stack.get("data", {})
    grants: dict[tuple[str, ...], _Grant] = {}
    for type_, named in resources.items():
        for name, body in named.items():
            address = f"{type_}.{name}"
            for (policy_type, argument), what in _POLICY_ARGUMENTS.items():
                if type_ == policy_type and argument in body:
                    kind = "kms" if type_.startswith("aws_kms") else "iam"
                    grants.update(_document_grants(kind, address, (argument,), what, body[argument], data))
            if type_ == "aws_iam_role":  # a role's own identity policies, written inline (a workload's role)
                for block in body.get("inline_policy", []) or []:
                    if isinstance(block, Mapping) and "policy" in block:
                        name_ = str(block.get("name", ""))
                        grants.update(_document_grants("iam", address, ("inline_policy", name_),
                                                       f"inline policy `{name_}`", block["policy"], data))
            grants.update(_other_grants(type_, address, body, resources))
    return grants


def _document_grants(kind: str, address: str, where: tuple[str, ...], what: str, document: Any,
                     data: Mapping[str, Any]) -> Iterator[tuple[tuple[str, ...], _Grant]]:
    """The grants of one policy document, each by a key that stays the same when the statement is edited
    (its Sid, else its effect and principals, numbered when repeated)."""
    seen: dict[str, int] = {}
    for statement in _statements(document, data) or []:
        key = statement["sid"] or f"{statement['effect']} {sorted(statement['principals'])}"
        seen[key] = seen.get(key, 0) + 1
        yield (address, *where, key, str(seen[key])), _statement_grant(kind, address, what, statement)


def _other_grants(type_: str, address: str, body: Mapping[str, Any],
                  resources: Mapping[str, Any]) -> Iterator[tuple[tuple[str, ...], _Grant]]:
    if type_ == "aws_iam_role_policy_attachment":
        policy = str(body.get("policy_arn", ""))
        yield (address,), _Grant("managed-policy", address, f"attach `{policy}` to role `{body.get('role')}`",
                                 sets={"policy": frozenset({policy})}, wide_open=bool(_ADMIN_POLICY.search(policy)))
    elif type_ in ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule",
                   "aws_security_group_rule"):
        direction = ("egress" if type_.endswith("egress_rule") or body.get("type") == "egress" else "ingress")
        yield (address,), _rule_grant(address, body, direction, f"`{body.get('security_group_id')}`")
    elif type_ == "aws_security_group":
        for direction in ("ingress", "egress"):
            for index, rule in enumerate(body.get(direction, []) or []):
                yield (address, direction, str(index)), _rule_grant(address, rule, direction, f"`{address}`")
    elif type_ == "aws_eks_cluster":
        vpc = body.get("vpc_config", {})
        vpc = vpc[0] if isinstance(vpc, list) and vpc else vpc
        if isinstance(vpc, Mapping) and vpc.get("endpoint_public_access", True) not in (False, "false"):
            cidrs = _set(vpc.get("public_access_cidrs")) or frozenset({"0.0.0.0/0"})
            public = sorted(c for c in cidrs if is_public(c))
            yield (address, "endpoint"), _Grant(
                "public-endpoint", address, f"EKS API endpoint public from {_short(cidrs)}",
                sets={"sources": cidrs}, wide_open="0.0.0.0/0" in public or "::/0" in public)
    elif type_ == "aws_eks_access_entry":
        principal = str(body.get("principal_arn"))
        yield (address,), _Grant("eks-access", address, f"EKS access entry for `{principal}`"
                                 + (f" in groups {_short(_set(body.get('kubernetes_groups')))}"
                                    if body.get("kubernetes_groups") else ""),
                                 sets={"principals": frozenset({principal}),
                                       "groups": _set(body.get("kubernetes_groups"))})
    elif type_ == "aws_eks_access_policy_association":
        principal = _resolve_principal(str(body.get("principal_arn")), resources)
        scope = body.get("access_scope", {})
        scope = scope[0] if isinstance(scope, list) and scope else scope
        namespaces = _set(scope.get("namespaces")) if isinstance(scope, Mapping) else frozenset()
        where = f"namespaces {_short(namespaces)}" if namespaces else "the whole cluster"
        policy = str(body.get("policy_arn"))
        yield (address,), _Grant("eks-access", address, f"EKS access policy `{policy.rsplit('/', 1)[-1]}` for "
                                 f"`{principal}` on {where}",
                                 sets={"policy": frozenset({policy}), "scope": namespaces or frozenset({"*"})},
                                 wide_open=bool(_ADMIN_ACCESS_POLICY.search(policy)) and not namespaces)
    elif type_ in ("kubernetes_role_v1", "kubernetes_cluster_role_v1"):
        meta = body.get("metadata", {}) or {}
        where = f"namespace `{meta.get('namespace')}`" if type_ == "kubernetes_role_v1" else "the whole cluster"
        for index, rule in enumerate(body.get("rule", []) or []):
            resources_, verbs = _set(rule.get("resources")), _set(rule.get("verbs"))
            yield (address, str(index)), _Grant(
                "kubernetes-rbac", address,
                f"Role `{meta.get('name')}` in {where}: {_short(verbs)} on {_short(resources_)}",
                sets={"resources": resources_, "verbs": verbs, "groups": _set(rule.get("api_groups"))},
                wide_open="*" in verbs and "*" in resources_)
    elif type_ in ("kubernetes_role_binding_v1", "kubernetes_cluster_role_binding_v1"):
        ref = body.get("role_ref", {})
        ref = ref[0] if isinstance(ref, list) and ref else ref
        subjects = frozenset(f"{s.get('kind')} {s.get('name')}" for s in body.get("subject", []) or [])
        role = str(ref.get("name")) if isinstance(ref, Mapping) else "?"
        yield (address,), _Grant("kubernetes-rbac", address, f"bind `{role}` to {_short(subjects)}",
                                 sets={"subjects": subjects, "role": frozenset({role})},
                                 wide_open=role in ("cluster-admin", "admin"))
    elif type_ == "kubernetes_service_v1":
        spec = body.get("spec", {})
        annotations = body.get("metadata", {}).get("annotations", {}) or {}
        internal = any("internal" in str(v) for k, v in annotations.items() if "load-balancer" in k)
        if spec.get("type") == "LoadBalancer" and not internal:
            ranges = _set(spec.get("load_balancer_source_ranges")) or frozenset({"0.0.0.0/0"})
            yield (address,), _Grant("load-balancer", address, f"Service `{body.get('metadata', {}).get('name')}`: "
                                     f"internet-facing load balancer from {_short(ranges)}",
                                     sets={"sources": ranges}, wide_open=any(is_public(r) for r in ranges))


def _resolve_principal(value: str, resources: Mapping[str, Any]) -> str:
    """``${aws_eks_access_entry.x.principal_arn}`` -> the entry's principal ARN."""
    match = re.match(r"^\$\{aws_eks_access_entry\.([^.}]+)\.principal_arn\}$", value)
    if match:
        entry = resources.get("aws_eks_access_entry", {}).get(match.group(1), {})
        return str(entry.get("principal_arn", value))
    return value


def _referenced(value: Any) -> set[str]:
    return set(re.findall(r"\$\{([a-z0-9_]+\.[^.}\[]+)", str(value)))


def _holders(stack: Mapping[str, Any]) -> dict[str, set[str]]:
    """address of a rule, attachment or access resource -> the addresses it attaches to."""
    found: dict[str, set[str]] = {}
    for type_, named in stack.get("resource", {}).items():
        for name, body in named.items():
            argument = {"aws_iam_role_policy_attachment": "role", "aws_iam_role_policy": "role",
                        "aws_vpc_security_group_ingress_rule": "security_group_id",
                        "aws_vpc_security_group_egress_rule": "security_group_id",
                        "aws_security_group_rule": "security_group_id", "aws_eks_access_entry": "cluster_name",
                        "aws_eks_access_policy_association": "cluster_name",
                        "aws_s3_bucket_policy": "bucket", "aws_kms_key_policy": "key_id",
                        "aws_secretsmanager_secret_policy": "secret_arn"}.get(type_)
            if argument:
                found[f"{type_}.{name}"] = _referenced(body.get(argument))
    return found


# -- comparing -------------------------------------------------------------------------------------

def _existed(address: str, holders: Mapping[str, set[str]], old_resources: set[str]) -> bool:
    """The thing a grant is made on existed before this change (so the grant widens someone's access)."""
    if address in old_resources:
        return True
    targets = holders.get(address)
    if targets is None:
        return False
    # Attached to something this stack does not create (a looked-up cluster, a group by id): it exists.
    return not targets or any(t in old_resources or t.startswith("data.") for t in targets)


def compare_security(stack: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Finding]:
    """Every grant added, removed, widened or narrowed between two versions of one stack."""
    before, after = _grants(old), _grants(new)
    old_resources = {f"{t}.{n}" for t, named in old.get("resource", {}).items() for n in named}
    holders = _holders(new)
    findings = []
    for key in sorted(before.keys() | after.keys()):
        if key not in before:
            grant = after[key]
            existed = _existed(grant.address, holders, old_resources)
            findings.append(Finding(grant.kind, stack, grant.address, "added", grant.summary,
                                    broadens=grant.wide_open or (existed and not grant.inverted),
                                    detail="on something that already exists" if existed else ""))
        elif key not in after:
            grant = before[key]
            findings.append(Finding(grant.kind, stack, grant.address, "removed", grant.summary,
                                    broadens=grant.inverted))
        elif before[key] != after[key]:
            findings.append(_changed(stack, before[key], after[key]))
    return findings


def _changed(stack: str, old: _Grant, new: _Grant) -> Finding:
    grew, shrank = [], []
    for name in sorted(old.sets.keys() | new.sets.keys()):
        label = name.lstrip("-")
        added = new.sets.get(name, frozenset()) - old.sets.get(name, frozenset())
        removed = old.sets.get(name, frozenset()) - new.sets.get(name, frozenset())
        # A condition or an exclusion dropped widens the grant; one added narrows it.
        wider, narrower = (removed, added) if name.startswith("-") else (added, removed)
        if wider:
            grew.append(f"{_MINUS if name.startswith('-') else '+'} {label} {_short(wider)}")
        if narrower:
            shrank.append(f"{'+' if name.startswith('-') else _MINUS} {label} {_short(narrower)}")
    widened = bool(grew) if not new.inverted else bool(shrank)
    widened = widened or (new.wide_open and not old.wide_open)
    change = "widened" if widened else ("narrowed" if grew or shrank else "changed")
    return Finding(new.kind, stack, new.address, change, new.summary, broadens=widened,
                   detail="; ".join(grew + shrank))
