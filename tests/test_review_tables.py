"""The review's curated tables, checked against what this project really synthesizes."""

from __future__ import annotations

import dataclasses

import pytest
from review_helpers import binding_has

from delivery.attributes import KEY_ATTRIBUTES, resolve
from delivery.cost import DEFAULT_LIMITS, estimate, prices
from environments import ENVIRONMENTS
from environments.config import Limits


def emitted(stacks: dict, type_: str) -> list[dict]:
    return [body for stack in stacks.values() for body in stack.get("resource", {}).get(type_, {}).values()]


@pytest.mark.parametrize("resource_type", sorted(KEY_ATTRIBUTES))
def test_every_key_attribute_is_set_on_some_emitted_resource(stacks: dict, workload_stacks: dict,
                                                             resource_type: str) -> None:
    """A typo in a path, or an argument the constructs stopped setting, would show nothing: it fails here.
    (The kinds of workload the stacks do not hold yet are looked for in ``workload_stacks`` too.)"""
    bodies = emitted(stacks, resource_type) + emitted(workload_stacks, resource_type)
    assert bodies, f"{resource_type} is not emitted; drop it from KEY_ATTRIBUTES"
    unset = [pattern for pattern in KEY_ATTRIBUTES[resource_type] if not any(resolve(b, pattern) for b in bodies)]
    # Not set by this project's constructs (a CIDR rule, a named role), but a real argument of the binding.
    assert [pattern for pattern in unset if not binding_has(resource_type, pattern)] == []


def test_a_misspelt_key_attribute_would_be_caught(stacks: dict) -> None:
    bodies = emitted(stacks, "kubernetes_deployment_v1")
    assert not any(resolve(b, "spec.replicaz") for b in bodies)
    assert not binding_has("kubernetes_deployment_v1", "spec.replicaz")
    assert binding_has("kubernetes_deployment_v1", "spec.template.spec.container[*].image")


def test_every_environment_is_priced_in_full(stacks: dict) -> None:
    """Each instance type, cache node type and volume type the environments use has a price."""
    for env in ENVIRONMENTS:
        lines = estimate({name: stack for name, stack in stacks.items() if name.startswith(f"{env}-")})
        assert [line.unpriced for line in lines if line.unpriced] == [], env
        assert {line.what.split(":")[0] for line in lines} >= {"EKS control plane", "node group", "cache"}


def test_the_price_table_says_where_its_figures_come_from() -> None:
    table = prices()
    assert table["region"] == "eu-west-1" == ENVIRONMENTS["production"].region == ENVIRONMENTS["staging"].region
    assert table["date"] and table["currency"] == "USD"
    priced = {k for k, v in table.items() if isinstance(v, int | float | dict)} - {"hours_per_month", "sources"}
    assert priced <= set(table["sources"]), "every price needs its source page"
    assert all(url.startswith("https://aws.amazon.com/") for url in table["sources"].values())


def test_default_limits_are_the_environments() -> None:
    defaults = {f.name: f.default for f in dataclasses.fields(Limits) if f.name in DEFAULT_LIMITS}
    assert defaults == DEFAULT_LIMITS
