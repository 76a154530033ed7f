"""Turns each environment's config into its stacks, with their dependencies."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from constructs import Construct

from constructs_lib import ConfigError, Microservice
from environments import Environment

from .base import REPOSITORY, TERRAFORM_VERSION, EnvironmentStack, KubernetesStack, RemoteStateStack, default_tags
from .cluster import ClusterStack
from .platform import PlatformStack
from .services import ServicesStack
from .state import StateStack

__all__ = [
    "REPOSITORY",
    "TERRAFORM_VERSION",
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
    platform: PlatformStack
    services: ServicesStack


def build_environment(scope: Construct, env: Environment) -> EnvironmentStacks:
    """Create every stack of ``env`` under ``scope`` (the app).

    The state stack is bootstrapped by hand once per account and is not a
    dependency of the others: CI never applies it (its state is local).
    """
    cluster = ClusterStack(scope, env)
    platform = PlatformStack(scope, env)
    platform.add_dependency(cluster)
    services = ServicesStack(scope, env, node_groups=cluster.node_groups, monitoring=platform.monitoring)
    services.add_dependency(platform)
    return EnvironmentStacks(state=StateStack(scope, env), cluster=cluster, platform=platform, services=services)


def check(app: Construct) -> None:
    """Apply every environment's rules to every construct under ``app``; raise ``ConfigError`` with all
    problems. Call after the last construct is added and before ``app.synth()``."""
    errors = [error for stack in app.node.children if isinstance(stack, EnvironmentStack)
              for error in stack.guardrails.check(stack)]
    # The metrics contract: every ServiceMonitor and PrometheusRule is one the platform's Prometheus selects.
    # Every Microservice in the services stack, added by whichever file.
    for stack in app.node.children:
        if isinstance(stack, ServicesStack):
            for service in stack.node.find_all():
                if isinstance(service, Microservice):
                    try:
                        stack.monitoring.check_selects(service)
                    except ConfigError as error:
                        errors.append(error)
    if errors:
        raise ConfigError.merge(errors)


def build_environments(scope: Construct, envs: Iterable[Environment]) -> dict[str, EnvironmentStacks]:
    """Create the stacks of every environment in ``envs``, keyed by environment name."""
    return {env.name: build_environment(scope, env) for env in envs}
