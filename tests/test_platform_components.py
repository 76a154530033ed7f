"""The platform's replica rule, over every Helm release and workload of every platform stack.

A platform component that runs more than one replica must coordinate them
(leader election, or an active-active design it documents) and must have a
PodDisruptionBudget, or a node drain can stop every replica at once. Helm
releases are read through the declaration their construct makes
(``constructs_lib._helm.HelmComponent``); a Deployment or StatefulSet created
without Helm states its coordination in ``COORDINATION_ANNOTATION``.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import pytest
import yaml

from constructs_lib import Autoscaling, Microservice
from constructs_lib._helm import COORDINATION_ANNOTATION, PLATFORM_COMPONENTS, Key
from helpers import resources, synth

WORKLOADS = ("kubernetes_deployment_v1", "kubernetes_deployment", "kubernetes_stateful_set_v1",
             "kubernetes_stateful_set")
BUDGETS = ("kubernetes_pod_disruption_budget_v1", "kubernetes_pod_disruption_budget")
AUTOSCALERS = ("kubernetes_horizontal_pod_autoscaler_v2", "kubernetes_horizontal_pod_autoscaler_v2beta2",
               "kubernetes_horizontal_pod_autoscaler_v1", "kubernetes_horizontal_pod_autoscaler")
IMAGE = "registry.example.com/platform-tool:1.0.0"


def merged(documents: list[str]) -> dict[str, Any]:
    """A release's values documents merged as the Helm provider merges them: later maps win, key by key."""
    def merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
        for key, value in top.items():
            base[key] = (merge(dict(base[key]), value)
                         if isinstance(value, Mapping) and isinstance(base.get(key), Mapping) else value)
        return base

    result: dict[str, Any] = {}
    for document in documents:
        result = merge(result, yaml.safe_load(document) or {})
    return result


def release_values(release: dict) -> dict[str, Any]:
    """What the chart's templates see from us: the values documents, then every ``set`` on top."""
    values = merged(release.get("values", []))
    for entry in [*release.get("set", []), *release.get("set_sensitive", [])]:
        *parents, leaf = re.split(r"(?<!\\)\.", entry["name"])
        node = values
        for part in parents:
            node = node.setdefault(part.replace("\\.", "."), {})
        text = str(entry["value"])
        node[leaf.replace("\\.", ".")] = text if entry.get("type") == "string" else yaml.safe_load(text)
    return values


def helm_problems(stack: dict) -> list[str]:
    problems = []
    for name, release in sorted(resources(stack, "helm_release").items()):
        at, chart = f"helm_release.{name}", release["chart"]
        component = PLATFORM_COMPONENTS.get(chart)
        if component is None:
            problems.append(f"{at}: chart {chart!r} declares nothing about its workloads: "
                            "declare a HelmComponent for it (constructs_lib._helm.declare)")
            continue
        if release.get("repository") != component.repository:
            problems.append(f"{at}: {chart} from {release.get('repository')}, "
                            f"but its declaration is of {component.repository}")
        if release.get("version") != component.read_from:
            problems.append(f"{at}: {chart} {release.get('version')}, but its declaration was read from "
                            f"{component.read_from}: re-read the chart's templates, then update it")
        problems += [f"{at}: {problem}" for problem in component.problems(release_values(release))]
    return problems


def workload_problems(stack: dict) -> list[str]:
    budgets = [b for type_ in BUDGETS for b in resources(stack, type_).values()]
    autoscalers = [a for type_ in AUTOSCALERS for a in resources(stack, type_).values()]
    problems = []
    for type_ in WORKLOADS:
        for name, workload in sorted(resources(stack, type_).items()):
            meta, spec = workload["metadata"], workload["spec"]
            namespace = meta.get("namespace", "default")
            pods = max([int(spec.get("replicas", 1))] + [
                int(a["spec"]["max_replicas"]) for a in autoscalers
                if a["metadata"].get("namespace", "default") == namespace
                and a["spec"]["scale_target_ref"]["name"] == meta["name"]])
            if pods <= 1:
                continue
            runs = f"{type_}.{name} runs up to {pods} replicas"
            claim = meta.get("annotations", {}).get(COORDINATION_ANNOTATION, "")
            if claim != "leader-election" and not re.match(r"^active-active: \S", claim):
                problems.append(f"{runs} without saying how they coordinate: annotate it "
                                f"{COORDINATION_ANNOTATION}: 'leader-election' or 'active-active: <why it is safe>'")
            labels = spec["template"]["metadata"].get("labels", {})
            if not any(b["metadata"].get("namespace", "default") == namespace
                       and b["spec"]["selector"].get("match_labels", {}).items() <= labels.items()
                       for b in budgets):
                problems.append(f"{runs} without a PodDisruptionBudget selecting its pods: add one (max_unavailable 1)")
    return problems


def platform_problems(stack: dict) -> list[str]:
    """Every breach of the replica rule in one synthesized stack, one line each."""
    return helm_problems(stack) + workload_problems(stack)


#: The layers that install platform components: the add-ons (operators, controllers) and the platform.
PLATFORM_LAYERS = ("addons", "platform")


def platform_stacks(stacks: dict) -> dict[str, dict]:
    found = {name: stack for name, stack in stacks.items() if name.rsplit("-", 1)[1] in PLATFORM_LAYERS}
    assert found, "no platform stack synthesized"
    return found


def platform_of(stacks: dict, env: str) -> dict:
    """An environment's platform layers as one stack (their resources together): each release is in one."""
    combined: dict = {"resource": {}}
    for layer in PLATFORM_LAYERS:
        for type_, named in stacks[f"{env}-{layer}"].get("resource", {}).items():
            combined["resource"].setdefault(type_, {}).update(copy.deepcopy(named))
    return combined


def test_every_platform_stack_keeps_the_replica_rule(stacks: dict) -> None:
    for name, stack in platform_stacks(stacks).items():
        assert platform_problems(stack) == [], name
    for env in ("staging", "production"):
        # Not vacuous: the releases are the ones read through a declaration.
        charts = {r["chart"] for r in resources(platform_of(stacks, env), "helm_release").values()}
        assert charts == {"external-secrets", "kube-prometheus-stack", "prometheus-operator-crds", "metrics-server",
                          "cluster-autoscaler", "nginx-ingress", "cert-manager", "external-dns"}, env


def test_production_runs_replicated_components(stacks: dict) -> None:
    """The rule has something to check: production runs these components with two replicas."""
    replicated = set()
    for release in resources(platform_of(stacks, "production"), "helm_release").values():
        component = PLATFORM_COMPONENTS[release["chart"]]
        values = release_values(release)
        replicated |= {f"{component.chart}/{w.name}" for w in component.workloads if w.replicas.read(values) == 2}
    assert replicated == {"external-secrets/controller", "external-secrets/webhook",
                          "external-secrets/cert-controller", "kube-prometheus-stack/prometheus",
                          "kube-prometheus-stack/alertmanager", "metrics-server/metrics-server",
                          "cluster-autoscaler/cluster-autoscaler", "nginx-ingress/controller",
                          "cert-manager/controller", "cert-manager/webhook", "cert-manager/cainjector"}


@pytest.mark.parametrize("values, on", [
    ({}, False),  # absent: the chart's default
    ({"pdb": {"enabled": True}}, True),
    ({"pdb": {"enabled": "true"}}, True),  # a --set string
    ({"pdb": {"enabled": False}}, False),
    ({"pdb": {"enabled": None}}, False),  # null removes the key, default included
    ({"pdb": {"enabled": {"maxUnavailable": 1}}}, True),  # charts that test a map: {{ if .Values.pdb }}
    ({"pdb": {"enabled": {}}}, False),
    ({"pdb": "off"}, False),
])
def test_a_switch_is_on_as_a_template_tests_it(values: dict, on: bool) -> None:
    assert Key("pdb.enabled", False).is_on(values) is on


def change_values(stack: dict, chart: str, change: Callable[[dict], object]) -> dict:
    """A copy of ``stack`` whose ``chart`` release has values changed by ``change`` (in place)."""
    stack = copy.deepcopy(stack)
    (release,) = [r for r in resources(stack, "helm_release").values() if r["chart"] == chart]
    values = release_values(release)
    change(values)
    release["values"] = [json.dumps(values)]
    return stack


ESO, KPS = "external-secrets", "kube-prometheus-stack"
DEFECTS: dict[str, tuple[str, Callable[[dict], object], str]] = {
    "controller leader election off": (
        ESO, lambda v: v.update(leaderElect=False),
        r"external-secrets: controller runs 2 replicas \(replicaCount\) without leader election, "
        r"so every replica acts: set leaderElect: true"),
    "cert-controller leader election left to the chart": (
        ESO, lambda v: v["certController"].pop("extraArgs"),
        r"cert-controller runs 2 replicas \(certController.replicaCount\) without leader election.*"
        r"set certController.extraArgs.enable-leader-election: true"),
    "controller PDB off": (
        ESO, lambda v: v["podDisruptionBudget"].update(enabled=False),
        r"controller runs 2 replicas \(replicaCount\) without a PodDisruptionBudget.*"
        r"set podDisruptionBudget.enabled: true"),
    "webhook PDB off": (
        ESO, lambda v: v["webhook"]["podDisruptionBudget"].update(enabled=False),
        r"webhook runs 2 replicas .* set webhook.podDisruptionBudget.enabled: true"),
    "cert-controller PDB left to the chart": (
        ESO, lambda v: v["certController"].pop("podDisruptionBudget"),
        r"cert-controller runs 2 replicas .* set certController.podDisruptionBudget.enabled: true"),
    "prometheus PDB off": (
        KPS, lambda v: v["prometheus"]["podDisruptionBudget"].update(enabled=False),
        r"kube-prometheus-stack: prometheus runs 2 replicas .* set prometheus.podDisruptionBudget.enabled: true"),
    "alertmanager PDB off": (
        KPS, lambda v: v["alertmanager"].pop("podDisruptionBudget"),
        r"alertmanager runs 2 replicas .* set alertmanager.podDisruptionBudget.enabled: true"),
    "grafana scaled out": (
        KPS, lambda v: v["grafana"].update(replicas=2),
        r"grafana runs 2 replicas \(grafana.replicas\) but must run one: .*SQLite.*; set grafana.replicas: 1"),
    "a disabled workload scaled out and turned on": (
        KPS, lambda v: v.update(thanosRuler={"enabled": True, "thanosRulerSpec": {"replicas": 2}}),
        r"thanos-ruler runs 2 replicas .* set thanosRuler.podDisruptionBudget.enabled: true"),
    "replica count not a number": (
        ESO, lambda v: v["webhook"].update(replicaCount="two"),
        r"webhook: webhook.replicaCount = 'two' is not a number of replicas"),
}


@pytest.mark.parametrize("chart, change, message", DEFECTS.values(), ids=DEFECTS.keys())
def test_the_rule_fails_on_each_defect(stacks: dict, chart: str, change: Callable[[dict], object],
                                       message: str) -> None:
    problems = platform_problems(change_values(platform_of(stacks, "production"), chart, change))
    assert len(problems) == 1, problems
    assert re.search(message, problems[0]), problems[0]
    assert problems[0].startswith("helm_release.")


def test_a_set_entry_is_read_like_the_values(stacks: dict) -> None:
    stack = platform_of(stacks, "production")
    (release,) = [r for r in resources(stack, "helm_release").values() if r["chart"] == ESO]
    release["set"] = [{"name": "webhook.podDisruptionBudget.enabled", "value": "false"}]
    (problem,) = platform_problems(stack)
    assert "webhook runs 2 replicas" in problem and "PodDisruptionBudget" in problem


def test_an_undeclared_or_re_versioned_chart_fails(stacks: dict) -> None:
    stack = platform_of(stacks, "staging")
    releases = resources(stack, "helm_release")
    ((name, eso),) = [(n, r) for n, r in releases.items() if r["chart"] == ESO]
    eso["version"] = "1.4.0"
    ((kps_name, kps),) = [(n, r) for n, r in releases.items() if r["chart"] == KPS]
    kps["repository"] = "https://charts.example.com/fork"
    releases["ingress"] = {"chart": "ingress-nginx", "repository": "https://kubernetes.github.io/ingress-nginx",
                           "version": "4.12.0", "values": ["{}"]}
    assert platform_problems(stack) == [
        f"helm_release.{name}: external-secrets 1.4.0, but its declaration was read from 1.3.2: "
        "re-read the chart's templates, then update it",
        "helm_release.ingress: chart 'ingress-nginx' declares nothing about its workloads: "
        "declare a HelmComponent for it (constructs_lib._helm.declare)",
        f"helm_release.{kps_name}: kube-prometheus-stack from https://charts.example.com/fork, "
        "but its declaration is of https://prometheus-community.github.io/helm-charts",
    ]


def annotated(service: Microservice, claim: str) -> Microservice:
    service.deployment.add_override("metadata.annotations", {COORDINATION_ANNOTATION: claim})
    return service


def test_a_workload_without_helm_follows_the_same_rule() -> None:
    ok = synth(lambda s: annotated(Microservice(s, "tool", image=IMAGE, replicas=2), "leader-election"))
    assert workload_problems(ok) == []
    (name,) = resources(ok, "kubernetes_deployment_v1")

    unsaid = synth(lambda s: Microservice(s, "tool", image=IMAGE, replicas=2))
    assert workload_problems(unsaid) == [
        f"kubernetes_deployment_v1.{name} runs up to 2 replicas without saying how they coordinate: annotate it "
        f"{COORDINATION_ANNOTATION}: 'leader-election' or 'active-active: <why it is safe>'"]

    unbudgeted = copy.deepcopy(ok)
    del unbudgeted["resource"]["kubernetes_pod_disruption_budget_v1"]
    assert workload_problems(unbudgeted) == [
        f"kubernetes_deployment_v1.{name} runs up to 2 replicas without a PodDisruptionBudget selecting its pods: "
        "add one (max_unavailable 1)"]

    vague = synth(lambda s: annotated(Microservice(s, "tool", image=IMAGE, replicas=2), "active-active:"))
    assert len(workload_problems(vague)) == 1  # the reason is not optional


def test_an_autoscaled_workload_counts_its_maximum() -> None:
    def build(stack) -> None:
        Microservice(stack, "tool", image=IMAGE, autoscaling=Autoscaling(min_replicas=2, max_replicas=4))

    out = synth(build)
    assert "replicas" not in next(iter(resources(out, "kubernetes_deployment_v1").values()))["spec"]
    (problem,) = workload_problems(out)
    assert "runs up to 4 replicas without saying how they coordinate" in problem
    single = synth(lambda s: Microservice(s, "tool", image=IMAGE, replicas=1))
    assert workload_problems(single) == []
