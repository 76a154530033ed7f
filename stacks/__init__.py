"""Turns each environment's config into its stacks, with their dependencies."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from constructs import Construct

from constructs_lib import ConfigError, capabilities
from environments import Environment

from .addons import AddonsStack
from .base import REPOSITORY, TERRAFORM_VERSION, EnvironmentStack, KubernetesStack, RemoteStateStack, default_tags
from .cluster import ClusterStack
from .platform import PlatformStack
from .services import ServicesStack
from .state import StateStack

__all__ = [
    "REPOSITORY",
    "TERRAFORM_VERSION",
    "AddonsStack",
    "ClusterStack",
    "EnvironmentStack",
    "EnvironmentStacks",
    "KubernetesStack",
    "PlatformStack",
    "RemoteStateStack",
    "ServicesStack",
    "StateStack",
    "build_environment",
    "build_environments",
    "check",
    "default_tags",
]


@dataclass(frozen=True)
class EnvironmentStacks:
    """The stacks of one environment, in the order they are applied."""

    state: StateStack
    cluster: ClusterStack
    addons: AddonsStack
    platform: PlatformStack
    services: ServicesStack


def build_environment(scope: Construct, env: Environment) -> EnvironmentStacks:
    """Create every stack of ``env`` under ``scope`` (the app).

    The state stack is bootstrapped by hand once per account and is not a
    dependency of the others: CI never applies it (its state is local). The
    others are applied in the order they depend on each other: the cluster, its
    add-ons (operators and their CRDs), the platform's custom resources and
    monitoring, then the services.
    """
    cluster = ClusterStack(scope, env)
    addons = AddonsStack(scope, env)
    addons.add_dependency(cluster)
    platform = PlatformStack(scope, env)
    platform.add_dependency(addons)
    services = ServicesStack(scope, env, node_groups=cluster.node_groups, monitoring=platform.monitoring)
    services.add_dependency(platform)
    return EnvironmentStacks(state=StateStack(scope, env), cluster=cluster, addons=addons, platform=platform,
                             services=services)


def check(app: Construct) -> None:
    """Apply every environment's rules to every construct under ``app``; raise ``ConfigError`` with all
    problems. Call after the last construct is added and before ``app.synth()``."""
    stacks = [stack for stack in app.node.children if isinstance(stack, EnvironmentStack)]
    errors = [error for stack in stacks for error in stack.guardrails.check(stack)]
    # The capability contract: whatever a workload uses, its environment's platform installs.
    for name in dict.fromkeys(stack.env.name for stack in stacks):
        errors += capabilities.check(name, [stack for stack in stacks if stack.env.name == name])
    if errors:
        raise ConfigError.merge(errors)


def build_environments(scope: Construct, envs: Iterable[Environment]) -> dict[str, EnvironmentStacks]:
    """Create the stacks of every environment in ``envs``, keyed by environment name."""
    return {env.name: build_environment(scope, env) for env in envs}
