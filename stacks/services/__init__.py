"""The services stack: the platform's plumbing here, one module per service beside it.

It is applied after the platform stack, so the custom resources it holds
(ServiceMonitor, ExternalSecret) find their CRDs at plan time.

A service is a module of this package, ``stacks/services/<name>.py`` (``-`` in
the name becomes ``_``), owned by its team (``.github/CODEOWNERS``), defining
one function::

    def service(ctx: ServiceContext) -> None:
        Microservice(ctx.stack, "checkout", image=f"{REGISTRY}/checkout:1.4.2", ...)

``pipenv run service new NAME --image ...`` writes one. The stack imports every
module of the package, in name order, and calls its ``service`` once per
environment; modules whose name starts with ``_`` are helpers, not services.
Two teams adding services never touch the same file. What the environment
promises (namespace, replica cap, secrets prefix, workers' security group,
network, protection, alarm topic, the cluster's OIDC provider for a service's
own AWS permissions, a NetworkPolicy per workload in a namespace that denies
ingress by default) the stack applies to every construct: a module holds only
what is specific to its service. Keyword reference:
``constructs_lib/microservice.py`` and the README.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from cdktf_cdktf_provider_aws.data_aws_iam_openid_connect_provider import DataAwsIamOpenidConnectProvider
from cdktf_cdktf_provider_kubernetes.namespace_v1 import NamespaceV1, NamespaceV1Metadata
from cdktf_cdktf_provider_random.provider import RandomProvider
from constructs import Construct

from constructs_lib import (
    ConfigError,
    DeveloperAccess,
    EksNodeGroup,
    PrometheusStack,
    Workload,
    default_deny_ingress,
    developer_port_forward,
)
from constructs_lib.validation import Problem
from environments import Environment

from .. import per_env as _per_env
from ..base import SERVICES_NAMESPACE, KubernetesStack

__all__ = ["DASHBOARDS", "REGISTRY", "ServiceContext", "ServiceModule", "ServicesStack", "discover"]

#: Grafana dashboards the service teams own, one JSON model per file (export from Grafana, keep the uid).
DASHBOARDS = Path(__file__).resolve().parent.parent / "dashboards"
#: The shop's container registry (ECR, tags immutable).
REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"

_ROOT = Path(__file__).resolve().parent.parent.parent
T = TypeVar("T")


@dataclass(frozen=True)
class ServiceContext:
    """What a service module is given for the environment being built.

    :param stack: the services stack: the scope of the service's constructs.
    :param environment: the environment's name (``staging``, ``production``).
    :param domain: its DNS zone; a public service's host is ``f"<name>.{ctx.domain}"``.
    :param node_groups: the cluster's node groups by pool name (``ctx.node_groups["batch"]``).
    :param secrets_prefix: the environment's Secrets Manager prefix; ``secret()`` applies it.
    """

    stack: ServicesStack
    environment: str
    domain: str
    node_groups: Mapping[str, EksNodeGroup]
    secrets_prefix: str

    def per_env(self, **values: T) -> T:
        """The value for this environment of ``per_env(staging=..., production=...)``; every environment
        needs one (``stacks/per_env.py``)."""
        return _per_env.make(values, caller=sys._getframe(1)).resolve(self.environment)

    def secret(self, name: str, key: str) -> str:
        """``key`` of the environment's Secrets Manager secret ``name``: ``"<env>/<name>#<key>"``, for
        ``Microservice(secrets={...})``. The secret holds a JSON object; create it before the first apply
        (``pipenv run service secrets --env <env>`` lists them)."""
        return f"{self.secrets_prefix}{name}#{key}"


@dataclass(frozen=True)
class ServiceModule:
    """One service module: its name, its file (relative to the repository) and its ``service`` function."""

    name: str
    file: str
    service: Callable[[ServiceContext], None]


def discover() -> list[ServiceModule]:
    """Every service module of this package, in name order.

    A mistake in a module (a typo, a bad import) comes out as the module's own exception, which
    ``pipenv run synth`` shows as one line naming the file and line; a module without a ``service``
    function is a ConfigError naming the file.
    """
    importlib.invalidate_caches()  # a module written since the last look (service new, watch mode)
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        file = _relative(Path(module.__file__ or info.name))
        service = getattr(module, "service", None)
        if not callable(service):
            raise ConfigError(file, [Problem("service", service, "define the service in one function, "
                                                                 "`def service(ctx: ServiceContext) -> None`; "
                                                                 "a helper module's name starts with '_'")])
        found.append(ServiceModule(info.name, file, service))
    return found


def _relative(path: Path) -> str:
    try:
        return path.resolve().relative_to(_ROOT).as_posix()
    except ValueError:
        return str(path)


class ServicesStack(KubernetesStack):
    """``<env>-services``: the microservices and the managed caches they use, one module each.

    :param node_groups: the cluster stack's node groups by pool name; services pick one
        to run on (its taints are tolerated, its labels selected).
    :param monitoring: the platform stack's PrometheusStack, which selects the services' monitors.
    """

    layer = "services"

    def __init__(self, scope: Construct, env: Environment, *, node_groups: Mapping[str, EksNodeGroup],
                 monitoring: PrometheusStack) -> None:
        super().__init__(scope, env)
        self.monitoring = monitoring
        self.node_groups = node_groups
        namespace = NamespaceV1(self, "namespace", metadata=NamespaceV1Metadata(
            name=SERVICES_NAMESPACE, labels={"pod-security.kubernetes.io/enforce": "restricted"}))
        # Referencing the namespace (not its literal name) orders every service after it.
        self.guardrails.namespace = namespace.metadata.name
        self.guardrails.namespace_name = SERVICES_NAMESPACE
        # A workload's own IAM role (aws_permissions) trusts its service account through the cluster's OIDC
        # provider, looked up from the cluster: the developer never names it.
        oidc = DataAwsIamOpenidConnectProvider(self, "oidc-provider", url=self.eks.identity.get(0).oidc.get(0).issuer)
        self.guardrails.oidc_provider_arn = oidc.arn
        self.guardrails.oidc_issuer_url = oidc.url
        # Nothing reaches a pod of the namespace unless its own workload's NetworkPolicy admits it (the ingress
        # controller, Prometheus, the workloads it names in allow_from).
        self.guardrails.network_policies = True
        default_deny_ingress(self, "default-deny-ingress", namespace=namespace.metadata.name)
        if env.cluster.developer_role_arns and env.cluster.developer_access is DeveloperAccess.DEBUG:
            developer_port_forward(self, "developers", namespace=namespace.metadata.name)
        RandomProvider(self, "random")  # generates cache AUTH tokens

        context = ServiceContext(stack=self, environment=env.name, domain=env.domain, node_groups=node_groups,
                                 secrets_prefix=env.secrets_prefix)
        #: The file that declared each construct at the top of this stack, by construct id.
        self.declared_in: dict[str, str] = {}
        for module in discover():
            before = {child.node.id for child in self.node.children}
            module.service(context)
            self.declared_in.update({child.node.id: module.file for child in self.node.children
                                     if child.node.id not in before})
        #: Every workload of the environment (services, workers, scheduled jobs), in the order the modules
        #: declared them.
        self.services = [c for c in self.node.find_all() if isinstance(c, Workload)]
