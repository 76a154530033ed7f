"""The rules every environment applies: its limits and conventions, and what is never safe."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

from cdktf import TerraformResource, Token

from ..eks_cluster import EksCluster
from ..external_secrets import SECRET_REF
from ..guardrails import Finding, RulePack, rule
from ..microservice import Microservice
from ..node_group import EksNodeGroup
from ..redact import looks_like_credential, redact_text, sensitive_name
from ..redis import ManagedRedis
from ..workload import Workload

__all__ = ["BASELINE", "MAX_PUBLIC_ADDRESSES", "public_addresses"]

#: The most internet addresses a public endpoint may admit, all its CIDRs together: a /16.
#: Office and VPN egress ranges are /32 to /20; more than this is "much of the internet".
MAX_PUBLIC_ADDRESSES = 2**16


@rule("ENV-REPLICA-CAP", "one service must not scale the environment by accident",
      fix="lower replicas or autoscaling.max_replicas, or raise limits.max_replicas_per_service in a reviewed "
          "change to the environment", applies_to=Microservice)
def replica_cap(service: Microservice, guardrails: Any) -> Iterable[Finding]:
    cap = guardrails.replica_cap
    if cap is not None and service.max_pods > cap:
        field = "autoscaling.max_replicas" if service.autoscaling else "replicas"
        yield field, service.max_pods, (f"the environment allows at most {cap} pods per service; lower {field} or "
                                        "raise limits.max_replicas_per_service in a reviewed change")


@rule("ENV-NODE-CAP", "one node group must not scale the environment by accident",
      fix="lower max_size, or raise limits.max_nodes_per_group in a reviewed change", applies_to=EksNodeGroup)
def node_cap(group: EksNodeGroup, guardrails: Any) -> Iterable[Finding]:
    cap = guardrails.node_cap
    if cap is not None and group.max_size > cap:
        yield "max_size", group.max_size, (f"the environment caps a node group at {cap} nodes; lower max_size, or "
                                           "raise limits.max_nodes_per_group in a reviewed change")


def _outside(prefix: str | None, name: str) -> bool:
    return prefix is not None and not Token.is_unresolved(name) and not name.startswith(prefix)


@rule("ENV-SECRET-PREFIX", "the External Secrets operator may read only the environment's own secrets",
      fix="name Secrets Manager secrets under the environment's prefix", applies_to=(Workload, ManagedRedis))
def secret_prefix(construct: Workload | ManagedRedis, guardrails: Any) -> Iterable[Finding]:
    prefix = guardrails.secrets_prefix
    fix = f"use a name under {prefix!r} (e.g. '{prefix}<service>#<key>'); the pods could never read it"
    if isinstance(construct, ManagedRedis):
        if _outside(prefix, construct.secret_name):
            yield "secret_name", construct.secret_name, (f"use a name under {prefix!r}, or leave secret_name out "
                                                         f"(default '{prefix}redis/<id>')")
        return
    for var, ref in sorted(construct.secrets.items()):
        match = SECRET_REF.match(ref)
        if match and _outside(prefix, match["name"]):
            yield f"secrets[{var!r}]", ref, fix


@rule("SEC-PLAIN-CREDENTIAL", "a credential in a plain env value or a config file is in the code, the JSON and "
                               "every review",
      fix="put it in Secrets Manager and pass secrets={...} instead of env", applies_to=Workload)
def plain_credential(service: Workload, guardrails: Any) -> Iterable[Finding]:
    prefix = guardrails.secrets_prefix or ""
    for name, value in sorted(service.env.items()):
        if Token.is_unresolved(value) or not value:
            continue
        if sensitive_name(name) or looks_like_credential(value):
            yield f"env[{name!r}]", value, (f"store it in Secrets Manager (e.g. '{prefix}{service.name}') and pass "
                                            f"secrets={{{name!r}: '{prefix}{service.name}#<key>'}} instead of env")
    for name, text in sorted(service.config_files.items()):
        lines = [i for i, line in enumerate(text.splitlines(), 1) if _credential_line(line)]
        if lines:
            where = ", ".join(map(str, lines[:5])) + (" ..." if len(lines) > 5 else "")
            yield f"config_files[{name!r}]", f"line {where}", (
                "looks like a credential; config files are for settings: store the value in Secrets Manager, "
                f"pass secrets={{'<VAR>': '{prefix}{service.name}#<key>'}} and refer to ${{<VAR>}} in the file")


def _credential_line(line: str) -> bool:
    """A line that holds something credential-shaped: a known token format, ``password: <value>``, a long
    random string (what ``redact_text`` would mask)."""
    return looks_like_credential(line.strip()) or redact_text(line) != line


@rule("SEC-METRICS-PUBLIC", "metrics reveal internals and must not be reachable from the internet",
      fix="serve metrics on their own port: metrics=MetricsEndpoint(port=9090)", applies_to=Microservice)
def metrics_public(service: Microservice, guardrails: Any) -> Iterable[Finding]:
    if service.ingress_host and service.metrics and service.metrics.port == service.port:
        yield "metrics.port", service.metrics.port, (
            f"the ingress at {service.ingress_host} serves port {service.port}, so {service.metrics.path} is public; "
            "serve metrics on another port (e.g. MetricsEndpoint(port=9090)), which the ingress never routes")


def public_addresses(cidrs: Sequence[str]) -> int:
    """How many internet (global) addresses the CIDRs admit together, overlaps counted once."""
    networks: dict[int, list[Any]] = {4: [], 6: []}
    for cidr in cidrs:
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            continue
        networks[network.version].append(network)
    total = 0
    for version, found in networks.items():
        private = [n for n in _NON_GLOBAL if n.version == version]
        for network in ipaddress.collapse_addresses(found):
            size = network.num_addresses
            for reserved in private:
                if network.overlaps(reserved):
                    size -= (reserved if reserved.subnet_of(network) else network).num_addresses
            # An IPv6 /64 is one site; count IPv6 in /64s so that the limit means the same.
            total += max(size, 0) >> 64 if version == 6 else max(size, 0)
    return total


_NON_GLOBAL = [ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "fc00::/7", "fe80::/10", "::1/128")]


@rule("NET-PUBLIC-CIDR", "an endpoint open to much of the internet is open to all of it",
      fix=f"admit at most {MAX_PUBLIC_ADDRESSES:,} addresses in all (your office or VPN ranges)",
      applies_to=(EksCluster, TerraformResource))
def public_cidrs(construct: EksCluster | TerraformResource, guardrails: Any) -> Iterable[Finding]:
    if isinstance(construct, EksCluster):
        field, cidrs = "public_access_cidrs", list(construct.public_access_cidrs)
    elif construct.terraform_resource_type == "aws_vpc_security_group_ingress_rule":
        body = _body(construct)
        field, cidrs = "cidr_ipv4", [c for c in (body.get("cidr_ipv4"), body.get("cidr_ipv6")) if c]
    elif construct.terraform_resource_type == "aws_security_group":
        field = "ingress.cidr_blocks"
        cidrs = [c for block in _body(construct).get("ingress", []) or []
                 for c in (block.get("cidr_blocks") or []) + (block.get("ipv6_cidr_blocks") or [])]
    else:
        return
    count = public_addresses([c for c in cidrs if isinstance(c, str) and not Token.is_unresolved(c)])
    if count > MAX_PUBLIC_ADDRESSES:
        yield field, cidrs, (f"together they admit {count:,} internet addresses; list only the ranges that need "
                             f"access, at most {MAX_PUBLIC_ADDRESSES:,} addresses in all")


def _body(resource: TerraformResource) -> dict[str, Any]:
    """The resource's arguments as they will be synthesized (overrides included)."""
    rendered = resource.to_terraform().get("resource", {})
    return next(iter(next(iter(rendered.values()), {}).values()), {})


@rule("IMG-IMMUTABLE", "a tag that can be overwritten deploys code nobody reviewed, and rollbacks lie",
      fix="pin the image by digest (…@sha256:…), or use an ECR repository with immutable tags", applies_to=Workload)
def immutable_image(service: Workload, guardrails: Any) -> Iterable[Finding]:
    if not service.image_pinned:
        yield "image", service.image, ("use an image from an ECR repository (<account>.dkr.ecr.<region>.amazonaws.com/"
                                       "<repository>:<tag>, whose tags the plan checks are immutable) or pin it by "
                                       "digest (<image>@sha256:<digest>)")


@rule("IAM-NO-WILDCARD", "a wildcard grants actions AWS adds later and resources nobody named, in this "
                          "environment and others",
      fix="name each action ('s3:GetObject') and each resource (its ARN); a wildcard only where AWS gives no "
          "name (S3 keys under a named bucket, parts of a named resource)", applies_to=Workload)
def no_wildcard(workload: Workload, guardrails: Any) -> Iterable[Finding]:
    for i, permission in enumerate(workload.aws_permissions):
        for field, value, why in permission.wildcards():
            yield f"aws_permissions[{i}].{field}", value, why


#: Every environment: its limits and conventions, and what is never safe.
BASELINE = RulePack("baseline", (replica_cap, node_cap, secret_prefix, plain_credential, metrics_public, public_cidrs,
                                 immutable_image, no_wildcard))
