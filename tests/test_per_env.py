"""per_env: one value per environment, resolved for the one being built; a gap is one line naming the call."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from constructs_lib import ConfigError
from environments import ENVIRONMENTS
from stacks.per_env import PerEnv, per_env
from stacks.services import ServiceContext

HERE = Path(__file__).name


def line_of(text: str) -> int:
    """The line of this file that holds ``text`` (once, besides the line asking)."""
    (found,) = [n for n, line in enumerate(Path(__file__).read_text().splitlines(), 1)
                if text in line and "line_of(" not in line]
    return found


def test_a_value_per_environment_resolves_for_each() -> None:
    sizes = per_env(staging="cache.t4g.small", production="cache.r7g.large")
    assert isinstance(sizes, PerEnv)
    assert [sizes.resolve(name) for name in ENVIRONMENTS] == ["cache.t4g.small", "cache.r7g.large"]
    assert repr(sizes) == "per_env(staging='cache.t4g.small', production='cache.r7g.large')"


def test_the_examples_differ_per_environment_only_through_per_env(stacks: dict) -> None:
    """checkout's sessions cache and autoscaling bounds, resolved per environment in the synthesized stacks."""
    def cache(env: str) -> dict:
        (group,) = stacks[f"{env}-services"]["resource"]["aws_elasticache_replication_group"].values()
        return group

    def bounds(env: str) -> tuple[int, int]:
        scalers = stacks[f"{env}-services"]["resource"]["kubernetes_horizontal_pod_autoscaler_v2"]
        (checkout,) = [s for name, s in scalers.items() if name.startswith("checkout_")]
        return checkout["spec"]["min_replicas"], checkout["spec"]["max_replicas"]

    assert (cache("staging")["node_type"], cache("staging")["num_cache_clusters"]) == ("cache.t4g.small", 2)
    assert (cache("production")["node_type"], cache("production")["num_cache_clusters"]) == ("cache.r7g.large", 3)
    assert (bounds("staging"), bounds("production")) == ((2, 4), (3, 10))
    for module in (Path(__file__).parent.parent / "stacks" / "services").glob("*.py"):
        assert not re.search(r"\bif\b.*\belse\b", module.read_text()), module  # no conditionals left


@pytest.mark.parametrize(("write", "marker", "field", "fix"), [
    (lambda: dict(replicas=per_env(staging=1)), "replicas=per_env(staging=1))",
     "replicas", "per_env has no value for 'production'; give one value per environment: staging=..., production=..."),
    (lambda: dict(replicas=per_env(staging=1, production=2, prod=2)), "production=2, prod=2)",
     "replicas", "per_env has 'prod' is not an environment; give one value per environment"),
    (lambda: dict(node_type=per_env(staging="a", prod="b")), 'node_type=per_env(staging="a", prod="b")',
     "node_type", "per_env has no value for 'production' and 'prod' is not an environment"),
])
def test_a_missing_or_unknown_environment_is_one_line_naming_the_file_the_field_and_the_environment(
        write, marker: str, field: str, fix: str) -> None:
    with pytest.raises(ConfigError) as error:
        write()
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"tests/{HERE}:{line_of(marker)}: {field} = {{")
    assert fix in message


def test_two_values_on_one_line_are_told_apart_by_their_keyword() -> None:
    with pytest.raises(ConfigError) as error:
        dict(low=per_env(staging=1, production=2), high=per_env(staging=4))  # the second lacks production
    assert str(error.value).startswith(f"tests/{HERE}:{line_of('the second lacks production')}: high = ")


def test_a_value_for_an_environment_nobody_gave_is_refused_when_resolved() -> None:
    with pytest.raises(ConfigError, match=r"per_env has no value for environment 'qa'; add qa=\.\.\.$"):
        per_env(staging=1, production=2).resolve("qa")


def test_the_service_context_resolves_for_its_environment_and_names_the_service_file() -> None:
    """``ctx.per_env`` names the module that called it, not the context's own file."""
    contexts = {name: ServiceContext(stack=SimpleNamespace(), environment=name, domain=env.domain,  # type: ignore[arg-type]
                                     node_groups={}, secrets_prefix=env.secrets_prefix)
                for name, env in ENVIRONMENTS.items()}
    assert [ctx.per_env(staging=2, production=3) for ctx in contexts.values()] == [2, 3]
    assert contexts["production"].secret("checkout", "db_password") == "production/checkout#db_password"
    with pytest.raises(ConfigError) as error:
        contexts["staging"].per_env(staging=2)  # from a service module
    assert str(error.value).startswith(f"tests/{HERE}:{line_of('# from a service module')}: per_env = ")
