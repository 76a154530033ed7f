"""Microservice: snapshots of a minimal and a fully loaded service, each default and contract, bad input."""

from __future__ import annotations

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from constructs_lib import (
    SCRAPE_LABELS,
    Autoscaling,
    JvmOptions,
    MetricsEndpoint,
    Microservice,
    Probes,
    Taint,
    TaintEffect,
)
from helpers import assert_config_error, batch_nodes, only, resources, synth

IMAGE = "registry.example.com/checkout:1.4.2"


def full(stack) -> Microservice:
    return Microservice(
        stack, "checkout", image=IMAGE, port=8080, cpu="500m", memory="1Gi", namespace="shop",
        env={"SPRING_PROFILES_ACTIVE": "prod"}, secrets={"DB_PASSWORD": "prod/checkout#db_password"},
        metrics=MetricsEndpoint(port=8081, path="/actuator/prometheus"), jvm=JvmOptions(heap_percent=75),
        node_group=batch_nodes(stack, Taint(key="dedicated", effect=TaintEffect.NO_EXECUTE)),
        autoscaling=Autoscaling(min_replicas=2, max_replicas=10, cpu_percent=70),
        ingress_host="checkout.example.com", replica_cap=20)


@pytest.fixture(scope="module")
def minimal() -> dict:
    return synth(lambda s: Microservice(s, "hello", image="registry.example.com/hello:1.0.0"))


@pytest.fixture(scope="module")
def loaded() -> dict:
    return synth(full)


def pod_spec(stack: dict) -> dict:
    return only(stack, "kubernetes_deployment_v1")["spec"]["template"]["spec"]


def container(stack: dict) -> dict:
    (c,) = pod_spec(stack)["container"]
    return c


def manifest(stack: dict, kind: str) -> dict:
    manifests = [m["manifest"] for m in resources(stack, "kubernetes_manifest").values()]
    (found,) = [m for m in manifests if m["kind"] == kind]
    return found


@pytest.mark.parametrize("name", ["minimal", "loaded"])
def test_snapshot(name: str, request, snapshot) -> None:
    assert request.getfixturevalue(name) == snapshot.use_extension(JSONSnapshotExtension)


def test_minimal_service_has_the_standard_parts(minimal) -> None:
    assert sorted(minimal["resource"]) == ["kubernetes_deployment_v1", "kubernetes_manifest",
                                           "kubernetes_pod_disruption_budget_v1", "kubernetes_service_account_v1",
                                           "kubernetes_service_v1"]
    assert [m["manifest"]["kind"] for m in resources(minimal, "kubernetes_manifest").values()] == ["PrometheusRule"]
    deployment = only(minimal, "kubernetes_deployment_v1")
    assert deployment["metadata"]["namespace"] == "default"
    assert deployment["spec"]["replicas"] == "2"
    assert deployment["metadata"]["labels"] == {
        "app.kubernetes.io/name": "hello", "app.kubernetes.io/instance": "hello",
        "app.kubernetes.io/version": "1.0.0", "app.kubernetes.io/managed-by": "cdktf"}


def test_rollout_never_drops_below_desired(minimal) -> None:
    strategy = only(minimal, "kubernetes_deployment_v1")["spec"]["strategy"]
    assert strategy == {"type": "RollingUpdate", "rolling_update": {"max_unavailable": "0", "max_surge": "25%"}}
    c = container(minimal)
    assert c["readiness_probe"]["http_get"] == {"path": "/readyz", "port": "http"}
    assert c["liveness_probe"]["http_get"] == {"path": "/livez", "port": "http"}
    assert "startup_probe" not in c
    assert c["lifecycle"]["pre_stop"] == [{"exec": {"command": ["sleep", "5"]}}]
    assert pod_spec(minimal)["termination_grace_period_seconds"] == 35


def test_requests_and_memory_limit(minimal) -> None:
    assert container(minimal)["resources"] == {"requests": {"cpu": "250m", "memory": "512Mi"},
                                               "limits": {"memory": "512Mi"}}


def test_spread_over_zones_and_hosts(minimal) -> None:
    spread = {t["topology_key"]: t["when_unsatisfiable"] for t in pod_spec(minimal)["topology_spread_constraint"]}
    assert spread == {"topology.kubernetes.io/zone": "DoNotSchedule", "kubernetes.io/hostname": "ScheduleAnyway"}


def test_secure_pod_defaults(minimal) -> None:
    pod = pod_spec(minimal)
    assert pod["security_context"]["run_as_non_root"] is True
    assert pod["security_context"]["seccomp_profile"] == {"type": "RuntimeDefault"}
    assert pod["automount_service_account_token"] is False
    sc = container(minimal)["security_context"]
    assert sc["read_only_root_filesystem"] is True
    assert sc["allow_privilege_escalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert container(minimal)["volume_mount"] == [{"name": "tmp", "mount_path": "/tmp"}]
    assert pod["volume"] == [{"name": "tmp", "empty_dir": {"size_limit": "256Mi"}}]


def test_named_ports_on_container_and_service(minimal, loaded) -> None:
    assert container(minimal)["port"] == [{"name": "http", "container_port": 8080, "protocol": "TCP"}]
    ports = only(loaded, "kubernetes_service_v1")["spec"]["port"]
    assert [(p["name"], p["port"], p["target_port"]) for p in ports] == [("http", 8080, "http"),
                                                                        ("metrics", 8081, "metrics")]
    assert only(loaded, "kubernetes_service_v1")["spec"]["type"] == "ClusterIP"


def test_pdb_only_when_more_than_one_pod_can_run() -> None:
    single = synth(lambda s: Microservice(s, "one", image=IMAGE, replicas=1))
    assert resources(single, "kubernetes_pod_disruption_budget_v1") == {}
    scaled = synth(lambda s: Microservice(s, "many", image=IMAGE, replicas=1,
                                          autoscaling=Autoscaling(min_replicas=1, max_replicas=3)))
    assert only(scaled, "kubernetes_pod_disruption_budget_v1")["spec"]["max_unavailable"] == "1"


def test_autoscaling_owns_the_replica_count(loaded) -> None:
    assert "replicas" not in only(loaded, "kubernetes_deployment_v1")["spec"]
    hpa = only(loaded, "kubernetes_horizontal_pod_autoscaler_v2")["spec"]
    assert (hpa["min_replicas"], hpa["max_replicas"]) == (2, 10)
    assert hpa["scale_target_ref"] == {"api_version": "apps/v1", "kind": "Deployment", "name": "checkout"}
    assert hpa["metric"][0]["resource"] == {"name": "cpu", "target": {"type": "Utilization",
                                                                      "average_utilization": 70}}


def test_jvm_heap_follows_the_memory_limit_and_gets_a_startup_probe(loaded) -> None:
    env = {e["name"]: e.get("value") for e in container(loaded)["env"]}
    assert env["JAVA_TOOL_OPTIONS"].startswith("-XX:MaxRAMPercentage=75 ")
    c = container(loaded)
    assert c["startup_probe"]["http_get"]["path"] == "/actuator/health/liveness"
    assert c["readiness_probe"]["http_get"]["path"] == "/actuator/health/readiness"


def test_secrets_come_from_an_external_secret_never_a_literal(loaded) -> None:
    external = manifest(loaded, "ExternalSecret")
    assert external["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "aws-secrets-manager"}
    assert external["spec"]["data"] == [{"secretKey": "DB_PASSWORD",
                                         "remoteRef": {"key": "prod/checkout", "property": "db_password"}}]
    (db,) = [e for e in container(loaded)["env"] if e["name"] == "DB_PASSWORD"]
    assert db == {"name": "DB_PASSWORD", "value_from": {"secret_key_ref": {"name": "checkout-secrets",
                                                                           "key": "DB_PASSWORD"}}}


def test_config_change_rolls_the_pods() -> None:
    def checksum(**props) -> str:
        stack = synth(lambda s: Microservice(s, "svc", image=IMAGE, **props))
        return only(stack, "kubernetes_deployment_v1")["spec"]["template"]["metadata"]["annotations"][
            "platform.acme-shop.io/config-checksum"]
    base = checksum(env={"A": "1"})
    assert checksum(env={"A": "1"}) == base
    assert checksum(env={"A": "2"}) != base
    assert checksum(env={"A": "1"}, secrets={"B": "x/y#z"}) != base


def test_service_monitor_carries_the_scrape_contract(loaded) -> None:
    monitor = manifest(loaded, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"].items() >= SCRAPE_LABELS.items()
    assert monitor["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "checkout",
                                                          "app.kubernetes.io/instance": "checkout"}
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == "metrics" and endpoint["path"] == "/actuator/prometheus"
    service_ports = [p["name"] for p in only(loaded, "kubernetes_service_v1")["spec"]["port"]]
    assert endpoint["port"] in service_ports


def test_custom_resources_match_their_crd_schemas(loaded, validate_custom_resources) -> None:
    manifests = [manifest(loaded, "ExternalSecret"), manifest(loaded, "ServiceMonitor")]
    assert validate_custom_resources(manifests) == [[], []]


def test_schema_validation_catches_a_malformed_custom_resource(loaded, validate_custom_resources) -> None:
    monitor = manifest(loaded, "ServiceMonitor")
    broken = {**monitor, "spec": {**monitor["spec"], "endpoints": [{"port": 8081, "interval": 30}]}}
    (errors,) = validate_custom_resources([broken])
    assert "data/spec/endpoints/0/port must be string" in errors[0]


def test_node_group_contract_tolerates_exactly_its_taints(loaded) -> None:
    pod = pod_spec(loaded)
    assert pod["toleration"] == [
        {"key": "workload", "operator": "Equal", "value": "batch", "effect": "NoSchedule"},
        {"key": "dedicated", "operator": "Exists", "effect": "NoExecute"},
    ]
    assert pod["node_selector"] == {"workload": "batch"}


def test_tls_ingress(loaded) -> None:
    spec = only(loaded, "kubernetes_ingress_v1")["spec"]
    assert spec["tls"] == [{"hosts": ["checkout.example.com"], "secret_name": "checkout-tls"}]
    assert spec["rule"][0]["host"] == "checkout.example.com"
    assert spec["rule"][0]["http"]["path"][0]["backend"]["service"] == {"name": "checkout", "port": {"name": "http"}}


BAD_INPUT = {
    "name not DNS-1123": (dict(id="Checkout_API"), r"id = 'Checkout_API': use lowercase letters"),
    "name too long": (dict(id="a" * 60), r"at most 53 characters"),
    "image without tag": (dict(image="registry.example.com/checkout"), r"image = .*: pin a tag or digest"),
    "image on latest": (dict(image="checkout:latest"), r"image = 'checkout:latest': pin a tag or digest"),
    "port out of range": (dict(port=70000), r"port = 70000: use a port from 1 to 65535"),
    "metrics port out of range": (dict(metrics=MetricsEndpoint(port=0)), r"metrics.port = 0"),
    "memory in MB": (dict(memory="512MB"), r"memory = '512MB': use a binary quantity such as '512Mi'"),
    "cpu in cores with a unit": (dict(cpu="0.5cores"), r"cpu = '0.5cores': use millicores"),
    "zero replicas": (dict(replicas=0), r"replicas = 0: use 1 or more"),
    "min above max replicas": (dict(autoscaling=Autoscaling(min_replicas=5, max_replicas=3)),
                               r"autoscaling.min_replicas = 5: must not exceed max_replicas \(3\)"),
    "more replicas than the environment allows": (
        dict(replicas=50, replica_cap=20), r"replicas = 50: replica_cap allows at most 20 replicas"),
    "autoscaling above the cap": (dict(autoscaling=Autoscaling(max_replicas=100), replica_cap=20),
                                  r"autoscaling.max_replicas = 100: replica_cap allows at most 20"),
    "heap leaves no room": (dict(jvm=JvmOptions(heap_percent=95)), r"jvm.heap_percent = 95: use 1 to 90"),
    "heap zero": (dict(jvm=JvmOptions(heap_percent=0)), r"jvm.heap_percent = 0: use 1 to 90"),
    "secret without #key": (dict(secrets={"DB_PASSWORD": "prod/checkout"}),
                            r"secrets\['DB_PASSWORD'\] = '\(sensitive\)': use '<Secrets Manager secret name>#<key>'"),
    "variable in env and secrets": (dict(env={"TOKEN": "x"}, secrets={"TOKEN": "a/b#c"}), r"is also in env"),
    "invalid env name": (dict(env={"1BAD": "x"}), r"env\['1BAD'\] = '1BAD'"),
    "namespace not a DNS label": (dict(namespace="Shop"), r"namespace = 'Shop': use a DNS label"),
    "relative metrics path": (dict(metrics=MetricsEndpoint(port=8081, path="metrics")),
                              r"metrics.path = 'metrics': use an absolute HTTP path"),
    "scrape interval without unit": (dict(metrics=MetricsEndpoint(port=8081, interval="30")),
                                     r"metrics.interval = '30': use a duration"),
    "relative probe path": (dict(probes=Probes(readiness_path="ready", liveness_path="/livez")),
                            r"probes = 'ready': use an absolute HTTP path"),
    "cpu target of 0%": (dict(autoscaling=Autoscaling(cpu_percent=0)), r"autoscaling.cpu_percent = 0: use 1 to 100"),
    "preStop longer than a minute": (dict(pre_stop_seconds=120), r"pre_stop_seconds = 120: use 0 to 60"),
    "bad ingress host": (dict(ingress_host="https://checkout"), r"ingress_host = 'https://checkout'"),
    # types: checked against the annotations before anything is created
    "replicas as a string": (dict(replicas="3"),
                             r"replicas = '3': expected int, got a string \(write 3 without quotes\)"),
    "port as a string": (dict(port="8080"), r"port = '8080': expected int or None, got a string"),
    "replicas as a bool": (dict(replicas=True), r"replicas = True: expected int, got a bool"),
    "cpu as a number": (dict(cpu=1), r"cpu = 1: expected str, got an int"),
    "env as a string": (dict(env="A=1"), r"env = 'A=1': expected a mapping of str to str or None, got a string"),
    "env value as a number": (dict(env={"WORKERS": 4}), r"env\['WORKERS'\] = 4: expected str, got an int"),
    "dashboards as one string": (dict(dashboards="checkout.json"),
                                 r"dashboards = 'checkout.json': expected a list of str or Path, got a string"),
    "option group field as a string": (dict(autoscaling=Autoscaling(max_replicas="10")),  # type: ignore[arg-type]
                                       r"autoscaling.max_replicas = '10': expected int, got a string"),
    "a fraction where a percentage goes": (dict(jvm=JvmOptions(heap_percent=0.75)),  # type: ignore[arg-type]
                                           r"jvm.heap_percent = 0.75: expected int, got a float \(a percentage is a "
                                           r"whole number: 75, not 0.75\)"),
    "an option group as a dict": (dict(metrics={"port": 9090}), r"metrics = \{'port': 9090\}: expected MetricsEndpoint "
                                                               r"or None, got a dict"),
    "unknown keyword": (dict(replica=3),
                        r"replica = 3: Microservice has no keyword 'replica'; did you mean 'replicas'\?"),
    "missing image": (dict(image=None), r"image = None: expected str, got None"),
    # units
    "cpu without its unit": (dict(cpu="250"), r"cpu = '250': 250 cores is more than any node has; did you mean '250m'"),
    "memory without its unit": (dict(memory="512"), r"memory = '512': use a binary quantity"),
    # credentials are never echoed
    "a credential where a secret reference goes": (
        dict(secrets={"STRIPE": "sk_live_4eC39HqLyjWDarjtT1zdp7dc"}), r"secrets\['STRIPE'\] = '\(sensitive\)'"),
}


@pytest.mark.parametrize("props, message", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_names_path_field_value_and_fix(props: dict, message: str) -> None:
    props = {"id": "checkout", "image": IMAGE, **props}
    name = props.pop("id")
    assert_config_error(lambda: synth(lambda s: Microservice(s, name, **props)), rf"test/{name}: ", message)


def test_a_missing_required_keyword_is_named() -> None:
    assert_config_error(lambda: synth(lambda s: Microservice(s, "checkout")),  # type: ignore[call-arg]
                        r"test/checkout: ", r"image = None: is required \(str\)")


def test_a_duplicate_id_is_one_line_not_a_javascript_trace() -> None:
    def build(stack) -> None:
        Microservice(stack, "checkout", image=IMAGE)
        Microservice(stack, "checkout", image=IMAGE)

    assert_config_error(lambda: synth(build), r"test/checkout: ",
                        r"^test/checkout: id = 'checkout': is already used by another construct in 'test'; give each "
                        r"construct its own id$")


@pytest.mark.parametrize("env_name", ["staging", "production"])
def test_services_stack_honours_the_environment(stacks: dict, env_name: str) -> None:
    from environments import ENVIRONMENTS
    env = ENVIRONMENTS[env_name]
    stack = stacks[f"{env_name}-services"]
    cap = env.limits.max_replicas_per_service
    for hpa in resources(stack, "kubernetes_horizontal_pod_autoscaler_v2").values():
        assert hpa["spec"]["max_replicas"] <= cap
    for deployment in resources(stack, "kubernetes_deployment_v1").values():
        assert int(deployment["spec"].get("replicas", "1")) <= cap
    (worker,) = [d for d in resources(stack, "kubernetes_cron_job_v1").values()
                 if d["metadata"]["name"] == "report-worker"]
    (batch,) = [p for p in env.cluster.node_pools if p.name == "batch"]
    pod = worker["spec"]["job_template"]["spec"]["template"]["spec"]
    assert [(t["key"], t["value"], t["effect"]) for t in pod["toleration"]] == [
        (t.key, t.value, t.effect.kubernetes) for t in batch.taints]
    assert pod["node_selector"] == dict(batch.labels)
    for monitor in (m["manifest"] for m in resources(stack, "kubernetes_manifest").values()
                    if m["manifest"]["kind"] == "ServiceMonitor"):
        assert monitor["metadata"]["labels"].items() >= SCRAPE_LABELS.items()
