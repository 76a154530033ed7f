"""``pipenv run service``: new, list and secrets, on the real app and on a copy of the repository."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from constructs_lib.redact import MASK
from helpers import inputs_key, reused, tracked_sources
from service import cli
from service.scaffold import Spec, Transaction, render
from stacks.services import REGISTRY

REPO = Path(__file__).resolve().parent.parent
IMAGE = f"{REGISTRY}/inventory:1.0.0"
#: Every option of `service new`.
FULL = ["inventory", "--image", IMAGE, "--port", "8000", "--metrics-port", "9090", "--redis", "--public", "--jvm",
        "--node-pool", "batch", "--secret", "DB_PASSWORD=db_password", "API_KEY=api_key",
        "--owner", "@acme-shop/inventory-team"]
FULL_MODULE = '''\
"""The inventory service.

Keywords and their defaults: constructs_lib/microservice.py; a value per environment: ctx.per_env(...).
"""

from constructs_lib import JvmOptions, ManagedRedis, MetricsEndpoint, Microservice
from stacks.services import REGISTRY, ServiceContext


def service(ctx: ServiceContext) -> None:
    cache = ManagedRedis(ctx.stack, "inventory-cache")
    Microservice(
        ctx.stack, "inventory",
        image=f"{REGISTRY}/inventory:1.0.0",
        port=8000,
        metrics=MetricsEndpoint(port=9090, path="/actuator/prometheus"),
        jvm=JvmOptions(),
        node_group=ctx.node_groups["batch"],
        secrets={
            "DB_PASSWORD": ctx.secret("inventory", "db_password"),
            "API_KEY": ctx.secret("inventory", "api_key"),
        },
        redis=cache,
        ingress_host=f"inventory.{ctx.domain}",
    )
'''

JOB = ["nightly-report", "--image", f"{REGISTRY}/nightly-report:3.1.0", "--schedule", "30 2 * * *", "--timeout", "2h",
       "--command", "java -jar /app/report.jar --yesterday", "--jvm", "--node-pool", "batch",
       "--aws-permission", "s3:PutObject=arn:aws:s3:::acme-shop-reports/daily/*", "--owner", "@acme-shop/data-team"]
JOB_MODULE = '''\
"""The nightly-report scheduled job.

Keywords and their defaults: constructs_lib/scheduled_job.py; a value per environment: ctx.per_env(...).
"""

from constructs_lib import AwsPermission, JvmOptions, ScheduledJob
from stacks.services import REGISTRY, ServiceContext


def service(ctx: ServiceContext) -> None:
    ScheduledJob(
        ctx.stack, "nightly-report",
        image=f"{REGISTRY}/nightly-report:3.1.0",
        schedule="30 2 * * *",
        timeout="2h",
        command=["java", "-jar", "/app/report.jar", "--yesterday"],
        jvm=JvmOptions(),
        node_group=ctx.node_groups["batch"],
        aws_permissions=[
            AwsPermission(actions=["s3:PutObject"], resources=["arn:aws:s3:::acme-shop-reports/daily/*"]),
        ],
    )
'''
WORKER_MODULE = '''\
"""The order-consumer worker.

Keywords and their defaults: constructs_lib/microservice.py; a value per environment: ctx.per_env(...).
"""

from constructs_lib import AwsPermission, Microservice, Probes
from stacks.services import REGISTRY, ServiceContext


def service(ctx: ServiceContext) -> None:
    Microservice(
        ctx.stack, "order-consumer",
        image=f"{REGISTRY}/order-consumer:1.2.0",
        port=None,
        probes=Probes(command=["/app/healthcheck", "--queue"]),
        aws_permissions=[
            AwsPermission(actions=["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"],
                          resources=["arn:aws:sqs:eu-west-1:123456789012:orders-placed-by-the-shop-front"]),
        ],
    )
'''


# -- the module `service new` writes -----------------------------------------------------------------

def test_the_full_options_module_is_exactly_this() -> None:
    spec = Spec(name="inventory", image=IMAGE, port=8000, metrics_port=9090, redis=True, public=True, jvm=True,
                node_pool="batch", secrets=(("DB_PASSWORD", "db_password"), ("API_KEY", "api_key")))
    assert render(spec, registry=REGISTRY) == FULL_MODULE


def test_a_scheduled_job_and_a_worker_are_exactly_these() -> None:
    job = Spec(name="nightly-report", image=f"{REGISTRY}/nightly-report:3.1.0", schedule="30 2 * * *", timeout="2h",
               command=("java", "-jar", "/app/report.jar", "--yesterday"), jvm=True, node_pool="batch",
               aws_permissions=((("s3:PutObject",), "arn:aws:s3:::acme-shop-reports/daily/*"),))
    assert render(job, registry=REGISTRY) == JOB_MODULE
    worker = Spec(name="order-consumer", image=f"{REGISTRY}/order-consumer:1.2.0", worker=True,
                  health_command=("/app/healthcheck", "--queue"), aws_permissions=(
                      (("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"),
                       "arn:aws:sqs:eu-west-1:123456789012:orders-placed-by-the-shop-front"),))
    text = render(worker, registry=REGISTRY)
    assert text == WORKER_MODULE and all(len(line) <= 120 for line in text.splitlines())


def test_the_options_make_those_specs(monkeypatch, capsys) -> None:
    """The command line, parsed into what render is given (the build is not reached)."""
    specs: list[Spec] = []

    def stop(spec: Spec, **_: object) -> str:
        specs.append(spec)
        raise SystemExit(0)

    monkeypatch.setattr(cli, "build", lambda names=None: {})
    monkeypatch.setattr(cli.scaffold, "render", stop)
    with pytest.raises(SystemExit):
        cli.main(["new", *JOB])
    with pytest.raises(SystemExit):
        cli.main(["new", "order-consumer", "--image", f"{REGISTRY}/order-consumer:1.2.0", "--worker",
                  "--health-command", "/app/healthcheck --queue", "--aws-permission",
                  "sqs:ReceiveMessage, sqs:DeleteMessage,sqs:ChangeMessageVisibility="
                  "arn:aws:sqs:eu-west-1:123456789012:orders-placed-by-the-shop-front"])
    job, worker = specs
    assert render(job, registry=REGISTRY) == JOB_MODULE and job.kind == "job"
    assert render(worker, registry=REGISTRY) == WORKER_MODULE and worker.kind == "worker"


def test_a_service_with_a_cache_metrics_a_secret_and_an_ingress_takes_fewer_than_25_lines() -> None:
    text = render(Spec(name="inventory", image=IMAGE, metrics_port=9090, redis=True, public=True,
                       secrets=(("DB_PASSWORD", "db_password"),)), registry=REGISTRY)
    assert len(text.splitlines()) < 25
    assert "REGISTRY" in text and "ctx.domain" in text and 'ctx.secret("inventory", "db_password")' in text
    for detail in ("staging", "production", "shop", "acme-shop.example", "sg-", "123456789012"):
        assert detail not in text  # no environment detail spelled out


def test_the_readme_shows_what_its_command_writes() -> None:
    readme = (REPO / "README.md").read_text()
    assert (f"pipenv run service new inventory \\\n    --image {IMAGE} \\\n"
            "    --metrics-port 9090 --redis --public --secret DB_PASSWORD=db_password \\\n") in readme
    assert render(Spec(name="inventory", image=IMAGE, metrics_port=9090, redis=True, public=True,
                       secrets=(("DB_PASSWORD", "db_password"),)), registry=REGISTRY) in readme


def test_an_image_elsewhere_is_written_as_given_and_a_line_too_long_for_ruff_says_so() -> None:
    image = "210987654321.dkr.ecr.eu-west-1.amazonaws.com/team/api-server@sha256:" + "0" * 64
    text = render(Spec(name="api", image=image), registry=REGISTRY)
    assert "from stacks.services import ServiceContext\n" in text
    (line,) = [line for line in text.splitlines() if "image=" in line]
    assert line == f'        image="{image}",  # noqa: E501'
    assert all(len(line) <= 120 for line in render(Spec(name="api", image=IMAGE), registry=REGISTRY).splitlines())


def test_a_transaction_writes_whole_files_and_takes_them_all_back(tmp_path: Path) -> None:
    module, owners = tmp_path / "inventory.py", tmp_path / "CODEOWNERS"
    owners.write_text("before\n")
    transaction = Transaction()
    transaction.write(module, "new\n", new=True)
    transaction.write(owners, "after\n")
    assert (module.read_text(), owners.read_text()) == ("new\n", "after\n")
    transaction.rollback()
    assert not module.exists() and owners.read_text() == "before\n"
    with pytest.raises(FileExistsError):  # a file that appeared since the name was checked is never replaced
        Transaction().write(owners, "x\n", new=True)
    assert owners.read_text() == "before\n" and [p.name for p in tmp_path.iterdir()] == ["CODEOWNERS"]


# -- service new: refusals, exit 2, one line, nothing written --------------------------------------

def tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` (names and contents), to show that nothing was written."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and ".git" not in p.parts[len(root.parts):][:1]}


@pytest.fixture
def unchanged():
    """Asserts, after the test, that the repository's services and CODEOWNERS are as they were."""
    watched = [REPO / "stacks" / "services", REPO / ".github"]
    before = [tree(path) for path in watched]
    yield
    assert [tree(path) for path in watched] == before


@pytest.mark.parametrize(("argv", "message"), [
    (["Inventory"], "'Inventory' is not a DNS label: use lowercase letters, digits and '-', starting with a letter"),
    (["inventory_v2"], "'inventory_v2' is not a DNS label"),
    (["9lives"], "'9lives' is not a DNS label"),
    (["inventory-"], "'inventory-' is not a DNS label"),
    (["../etc/passwd"], "'../etc/passwd' is not a DNS label"),
    (["a" * 64], f"{'a' * 64!r} is not a DNS label: use lowercase letters, digits and '-', starting with a letter "
                 "and ending with a letter or digit, at most 63 characters"),
    (["import"], "'import' is a Python keyword, which cannot name its module; choose another name"),
    (["checkout"], "'checkout' is taken: stacks/services/checkout.py exists; choose another name, or edit that file"),
    (["edge-gateway"], "'edge-gateway' is taken: stacks/services/edge_gateway.py exists"),
    (["inventory", "--secret", "DB_PASSWORD"], "--secret 'DB_PASSWORD': use VAR=KEY, e.g. DB_PASSWORD=db_password"),
    (["inventory", "--secret", "=db_password"], "--secret '=db_password': use VAR=KEY"),
    (["inventory", "--secret", "A=a", "A=b"], "--secret 'A=b': A is given twice; give each variable once"),
    (["inventory", "--owner", "inventory-team"], "--owner 'inventory-team': use a team '@org/team', a user"),
    (["inventory", "--node-pool", "gpu"], "--node-pool 'gpu': not a node pool of every environment (staging, "
                                          "production); choose from batch, general"),
    # kinds of workload: the options that do not go together, before anything is built
    (["nightly", "--schedule", "0 3 * * *"], "--schedule needs --command and --timeout: what each run runs and how "
                                             "long it may take, e.g. --command './report --yesterday' --timeout 1h"),
    (["nightly", "--schedule", "0 3 * * *", "--command", "./r"], "--schedule needs --timeout: "),
    (["nightly", "--schedule", "0 3 * * *", "--command", "./r", "--timeout", "1h", "--port", "8000", "--redis"],
     "--schedule makes a scheduled job, which serves nothing and holds no cache: drop --port, --redis"),
    (["nightly", "--schedule", "0 3 * * *", "--command", "./r 'unclosed", "--timeout", "1h"],
     "--command \"./r 'unclosed\": No closing quotation; quote it as a shell would"),
    (["inventory", "--command", "./r"], "--command is for a scheduled job: add --schedule CRON, or drop --command"),
    (["inventory", "--timeout", "1h"], "--timeout is for a scheduled job: add --schedule CRON"),
    (["consumer", "--worker"], "--worker has no HTTP port to probe: give --health-command CMD (a check in the "
                               "image), or --metrics-port N to probe there"),
    (["consumer", "--worker", "--metrics-port", "9100", "--public"], "--worker serves no HTTP port: drop --public"),
    (["inventory", "--health-command", "/hc"], "--health-command probes a worker: add --worker"),
    (["inventory", "--aws-permission", "s3:GetObject"], "--aws-permission 's3:GetObject': use "
                                                        "ACTION[,ACTION...]=RESOURCE_ARN, e.g. s3:GetObject="),
    (["inventory", "--aws-permission", "=arn:aws:s3:::b/k"], "--aws-permission '=arn:aws:s3:::b/k': use ACTION"),
    (["inventory", "--aws-permission", "s3:GetObject,=arn:aws:s3:::b/k"], "--aws-permission 's3:GetObject,="),
])
def test_a_bad_or_taken_name_and_bad_options_are_refused_in_one_line(
        argv: list[str], message: str, unchanged, capsys) -> None:
    assert cli.main(["new", *argv[:1], "--image", IMAGE, *argv[1:]]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith(f"service new: error: {message}"), err


def test_argument_mistakes_are_one_line_too(unchanged, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["new", "inventory", "--image", IMAGE, "--port", "http"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == ("service new: error: argument --port: invalid int value: 'http' "
                                       "(see service new --help)\n")


@pytest.fixture
def real_app(built_environments: dict, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The CLI builds the app in process; here it gets the session's build of the real app (read-only)."""
    monkeypatch.setattr(cli, "build", lambda names=None: {n: built_environments[n] for n in (names or
                                                                                             built_environments)})
    return built_environments


@pytest.mark.parametrize(("argv", "message"), [
    (["sessions"], "'sessions' is taken: staging-services/sessions is declared in stacks/services/checkout.py; "
                   "choose another name"),
    (["namespace"], "'namespace' is taken: staging-services/namespace is declared in stacks/services/__init__.py; "
                    "choose another name"),
    (["inventory", "--redis", "--port", "8000"], None),  # free
    (["sessions-cache-x"], None),
])
def test_a_name_a_construct_of_the_services_stack_has_is_taken(argv: list[str], message: str | None, real_app,
                                                               monkeypatch, unchanged, capsys) -> None:
    def written(*_: object, **__: object) -> None:
        raise AssertionError("free")

    monkeypatch.setattr(cli.scaffold.Transaction, "write", written)
    if message is None:
        with pytest.raises(AssertionError, match="free"):
            cli.main(["new", argv[0], "--image", IMAGE, *argv[1:]])
        return
    assert cli.main(["new", argv[0], "--image", IMAGE, *argv[1:]]) == 2
    assert capsys.readouterr().err == f"service new: error: {message}\n"


def test_a_mistake_in_a_service_module_is_one_line_and_ours_a_traceback(monkeypatch, capsys) -> None:
    """As synth says it (fastsynth.errors): a typo in a file users edit is one line, exit 2; in our code, ours."""
    namespace: dict = {}
    source = "def build(names=None):\n    # a typo\n    Microservce(None)\n"
    exec(compile(source, str(REPO / "stacks" / "services" / "broken.py"), "exec"), namespace)
    monkeypatch.setattr(cli, "build", namespace["build"])
    for argv in (["list"], ["secrets", "--env", "staging"]):
        assert cli.main(argv) == 2
        assert capsys.readouterr().err == (f"service {argv[0]}: error: stacks/services/broken.py:3: NameError: name "
                                           "'Microservce' is not defined\n")

    def ours(names: object = None) -> None:
        raise ZeroDivisionError("a bug of ours")

    monkeypatch.setattr(cli, "build", ours)
    with pytest.raises(ZeroDivisionError):
        cli.main(["list"])


# -- service list, on the real app ---------------------------------------------------------------------

def test_list_as_json_is_every_service_of_every_environment(real_app, capsys) -> None:
    assert cli.main(["list", "--format", "json"]) == 0
    out = capsys.readouterr().out
    rows = json.loads(out)
    assert MASK not in out
    assert [(r["environment"], r["name"]) for r in rows] == [
        (env, name) for env in ("staging", "production") for name in ("checkout", "edge-gateway", "report-worker")]
    by = {(r["environment"], r["name"]): r for r in rows}
    assert by["production", "checkout"] == {
        "environment": "production", "name": "checkout", "kind": "service", "schedule": None,
        "image": f"{REGISTRY}/checkout:1.4.2", "replicas": None,
        "autoscaling": {"min_replicas": 3, "max_replicas": 10, "cpu_percent": 70}, "cpu": "500m", "memory": "1Gi",
        "node_pool": None, "cache": {"name": "sessions", "node_type": "cache.r7g.large", "replicas": 2,
                                     "secret_name": "production/redis/sessions"},
        "ingress_host": None, "metrics_port": 8081, "metrics_path": "/actuator/prometheus",
        "secrets": [{"variable": "DB_PASSWORD", "secret_name": "production/checkout", "key": "db_password"},
                    {"variable": "PAYMENT_API_KEY", "secret_name": "production/checkout", "key": "payment_api_key"}],
        "file": "stacks/services/checkout.py", "owners": ["@acme-shop/checkout-team"]}
    assert by["staging", "checkout"]["cache"]["node_type"] == "cache.t4g.small"  # per_env, resolved
    assert by["staging", "checkout"]["autoscaling"]["max_replicas"] == 4
    assert by["staging", "edge-gateway"]["ingress_host"] == "shop.staging.acme-shop.example"
    assert by["production", "edge-gateway"]["autoscaling"]["max_replicas"] == 20
    worker = by["staging", "report-worker"]
    assert (worker["kind"], worker["schedule"], worker["replicas"], worker["node_pool"]) == (
        "job", "0 3 * * *", None, "batch")
    assert {by[env, "edge-gateway"]["kind"] for env in ("staging", "production")} == {"service"}


def test_list_as_a_table_for_one_environment(real_app, capsys) -> None:
    assert cli.main(["list", "--env", "production"]) == 0
    header, *lines = capsys.readouterr().out.splitlines()
    assert header.split() == ["ENVIRONMENT", "SERVICE", "KIND", "SCHEDULE", "IMAGE", "PODS", "CPU", "MEMORY", "NODE",
                              "POOL", "CACHE", "INGRESS", "METRICS", "SECRETS", "FILE", "OWNERS"]
    assert [line.split()[:3] for line in lines] == [["production", "checkout", "service"],
                                                    ["production", "edge-gateway", "service"],
                                                    ["production", "report-worker", "job"]]
    checkout = lines[0]
    for cell in ("3-10 (cpu 70%)", "sessions (cache.r7g.large, 2 replicas)", ":8081/actuator/prometheus",
                 "production/checkout: db_password, payment_api_key", "stacks/services/checkout.py",
                 "@acme-shop/checkout-team"):
        assert cell in checkout
    assert "shop.acme-shop.example" in lines[1] and " batch " in lines[2]
    assert " 0 3 * * *  " in lines[2] and " 1 per run " in lines[2]


# -- service secrets, on the real app -------------------------------------------------------------------

def test_secrets_are_the_services_and_the_receivers_not_the_caches(real_app, capsys) -> None:
    assert cli.main(["secrets", "--env", "production", "--format", "json"]) == 0
    secrets = json.loads(capsys.readouterr().out)
    assert [(s["name"], [k["key"] for k in s["keys"]]) for s in secrets] == [
        ("production/checkout", ["db_password", "payment_api_key"]),
        ("production/platform/alertmanager", ["pagerduty_routing_key", "slack_webhook_url"])]
    assert {(s["environment"], s["account_id"], s["region"]) for s in secrets} == {
        ("production", "345678901234", "eu-west-1")}
    assert secrets[0]["keys"][0]["needed_by"] == ["production-services/checkout"]
    # The receivers' keys are what the platform's Alertmanager reads; the cache's secret is the stack's own.
    receivers = real_app["production"].platform.monitoring.receiver_keys()
    assert [k["key"] for k in secrets[1]["keys"]] == [key for keys in receivers.values() for key in keys]
    checkout = real_app["production"].services.services[0]
    assert checkout.secret_refs["REDIS_AUTH_TOKEN"] == "production/redis/sessions#auth_token"  # read, but created


def test_secrets_as_a_table(real_app, capsys) -> None:
    assert cli.main(["secrets", "--env", "staging"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ("staging: account 210987654321, region eu-west-1. Create each secret as a JSON object with "
                        "these keys before the first apply:")
    assert [line.split() for line in lines[1:]] == [
        ["SECRET", "KEY", "NEEDED", "BY"],
        ["staging/checkout", "db_password", "staging-services/checkout"],
        ["payment_api_key", "staging-services/checkout"],
        ["staging/platform/alertmanager", "slack_webhook_url", "staging-platform/monitoring"]]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    """Secrets Manager and STS, offline (moto), as staging's account."""
    from moto import mock_aws

    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "210987654321")
    with mock_aws():
        import boto3

        yield boto3.session.Session(region_name="eu-west-1").client("secretsmanager")


#: Values shaped like real credentials: none may ever be printed.
WEBHOOK = "https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/" + "x1Y2z3" * 4
PASSWORD = "pA55w0rd-" + "Zq8Lm3Vx" * 3


def test_check_reports_what_is_missing_and_never_a_value(real_app, aws, capsys) -> None:
    aws.create_secret(Name="staging/checkout", SecretString=json.dumps({"db_password": PASSWORD}))
    assert cli.main(["secrets", "--env", "staging", "--check"]) == 3
    out, err = capsys.readouterr()
    assert PASSWORD not in out + err
    assert [line.split()[-3:] if "(" not in line else line.split("  ")[-1].strip() for line in out.splitlines()[2:5]
            ] == [["db_password", "staging-services/checkout", "present"],
                  ["payment_api_key", "staging-services/checkout", "missing"],
                  "missing (no such secret)"]
    assert out.splitlines()[-1] == "2 of 3 keys missing or not checked"

    aws.put_secret_value(SecretId="staging/checkout", SecretString=json.dumps(
        {"db_password": PASSWORD, "payment_api_key": PASSWORD}))
    aws.create_secret(Name="staging/platform/alertmanager", SecretString=json.dumps({"slack_webhook_url": WEBHOOK}))
    assert cli.main(["secrets", "--env", "staging", "--check", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert PASSWORD not in out + err and WEBHOOK not in out + err and "hooks.slack.com" not in out + err
    assert [k["status"] for s in json.loads(out) for k in s["keys"]] == ["present"] * 3


def test_check_refuses_another_accounts_credentials(real_app, aws, capsys) -> None:
    assert cli.main(["secrets", "--env", "production", "--check"]) == 2
    assert capsys.readouterr().err == ("service secrets: error: --check: your AWS credentials are for account "
                                       "210987654321, production is account 345678901234; use production's "
                                       "credentials\n")


def test_check_without_credentials_is_a_mistake_in_one_line(real_app, monkeypatch, tmp_path, capsys) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert cli.main(["secrets", "--env", "staging", "--check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("service secrets: error: --check needs AWS credentials for staging's account "
                          "210987654321") and err.count("\n") == 1


def test_a_secret_whose_value_cannot_be_read_is_not_reported_present(real_app) -> None:
    """AccessDenied on the value (botocore's Stubber): the secret exists, its keys are unknown, exit 3."""
    import boto3
    from botocore.stub import Stubber

    from service.secrets import KeyStatus, check, required

    client = boto3.session.Session(region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
                                   ).client("secretsmanager")
    sts = boto3.session.Session(region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
                                ).client("sts")
    needed = required(real_app["staging"])
    with Stubber(client) as secrets, Stubber(sts) as identity:
        identity.add_response("get_caller_identity", {"Account": "210987654321", "Arn": "arn:aws:iam::210987654321:"
                                                      "user/dev", "UserId": "AIDAEXAMPLE"})
        secrets.add_client_error("get_secret_value", "AccessDeniedException", expected_params={
            "SecretId": "staging/checkout"})
        secrets.add_response("describe_secret", {"Name": "staging/checkout"}, {"SecretId": "staging/checkout"})
        secrets.add_response("get_secret_value", {"Name": "staging/platform/alertmanager", "SecretString": json.dumps(
            {"slack_webhook_url": WEBHOOK})}, {"SecretId": "staging/platform/alertmanager"})
        assert check(needed, account_id="210987654321", client=client, sts=sts) is False
    assert [(s.name, dict(s.status), s.note) for s in needed] == [
        ("staging/checkout", {"db_password": KeyStatus.UNKNOWN, "payment_api_key": KeyStatus.UNKNOWN},
         "keys not checked: its value is not readable with your credentials (AccessDeniedException)"),
        ("staging/platform/alertmanager", {"slack_webhook_url": KeyStatus.PRESENT}, None)]
    assert WEBHOOK not in repr(needed)


# -- service new, then synth, in a copy of the repository ------------------------------------------------

@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def run(root: Path, *argv: str, **env: str) -> Run:
    """``python *argv`` in ``root``, in its own process group (an interrupt there stays there)."""
    environ = {name: value for name, value in os.environ.items() if name not in ("NODE_OPTIONS", "CDKTF_INTERRUPT_AT")}
    done = subprocess.run([sys.executable, *argv], cwd=root, capture_output=True, text=True, timeout=600,
                          start_new_session=True,
                          env={**environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", **env})
    return Run(done.returncode, done.stdout, done.stderr)


@dataclass(frozen=True)
class Scaffolded:
    root: Path
    refused: Run
    interrupted: Run
    untouched: bool
    created: Run
    synthesized: Run
    listed: Run
    refused_jobs: tuple[Run, Run]
    created_job: Run


@pytest.fixture(scope="module")
def scaffolded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Scaffolded:
    """On a copy of the tracked files: a refused `service new` (a bad image), one interrupted while it builds,
    then the full-options one, then `python main.py` and `service list`, with no edit in between.

    Eight processes that each build every environment, about 70 s of CPU: the copy and what they said are
    kept in pytest's cache under a key of every file the copy holds (``helpers.tracked_sources``: all
    tracked files but the tests) and the installed packages (``helpers.reused``), so a run that changed
    only tests reads them. ``-p no:cacheprovider`` (CI's clean clone has no cache) runs them again."""
    sources = tracked_sources()

    def make(work: Path) -> None:
        root = work / "repo"
        for name in sources:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, root / name)
        before = tree(root)
        runs = {"refused": run(root, "-m", "service", "new", "inventory", "--image", "docker.io/library/nginx:1.27"),
                "interrupted": run(root, "-m", "service", *["new", *FULL], CDKTF_INTERRUPT_AT="service-written"),
                "bad_schedule": run(root, "-m", "service", "new",
                                    *[a if a != "30 2 * * *" else "every night" for a in JOB]),
                "wildcard": run(root, "-m", "service", "new", *JOB[:-4], "--aws-permission",
                                "s3:PutObject=arn:aws:s3:::*")}
        untouched = tree(root) == before
        runs["created"] = run(root, "-m", "service", "new", *FULL)
        runs["created_job"] = run(root, "-m", "service", "new", *JOB)
        runs["synthesized"] = run(root, "main.py")
        runs["listed"] = run(root, "-m", "service", "list", "--env", "staging", "--format", "json")
        (work / "runs.json").write_text(json.dumps({"untouched": untouched,
                                                    "runs": {k: dataclasses.astuple(v) for k, v in runs.items()}}))

    results = reused(request.config, "scaffolded", inputs_key(sources=sources), make,
                     tmp_path_factory.getbasetemp())
    said = json.loads((results / "runs.json").read_text())
    runs = {name: Run(*values) for name, values in said["runs"].items()}
    return Scaffolded(results / "repo", runs["refused"], runs["interrupted"], said["untouched"], runs["created"],
                      runs["synthesized"], runs["listed"], (runs["bad_schedule"], runs["wildcard"]),
                      runs["created_job"])


def test_a_module_the_constructs_refuse_is_not_kept(scaffolded: Scaffolded) -> None:
    assert scaffolded.refused.code == 2 and scaffolded.refused.out == ""
    assert scaffolded.refused.err.startswith("service new: error: 2 problems; nothing written\n"
                                             "  - staging-services/inventory: image = 'docker.io/library/nginx:1.27': "
                                             "[IMG-IMMUTABLE]")
    assert scaffolded.interrupted.code == 130 and "interrupted; nothing written" in scaffolded.interrupted.err
    assert scaffolded.untouched  # none left a file, a line of CODEOWNERS or bytecode behind


def test_a_bad_schedule_or_a_wildcard_permission_is_one_line_and_not_kept(scaffolded: Scaffolded) -> None:
    bad_schedule, wildcard = scaffolded.refused_jobs
    assert (bad_schedule.code, bad_schedule.out) == (2, "")
    assert bad_schedule.err == ("service new: error: staging-services/nightly-report: schedule = 'every night': has 2 "
                                "fields; Kubernetes takes five fields: minute hour day-of-month month day-of-week, "
                                "e.g. '0 3 * * *' (03:00 every day); nothing written\n")
    assert (wildcard.code, wildcard.out) == (2, "")
    assert wildcard.err.startswith("service new: error: 2 problems; nothing written\n"
                                   "  - staging-services/nightly-report: aws_permissions[0].resources[0] = "
                                   "'arn:aws:s3:::*': [IAM-NO-WILDCARD]")


def test_service_new_writes_the_module_and_its_owner_and_says_what_comes_next(scaffolded: Scaffolded) -> None:
    assert scaffolded.created.code == 0, scaffolded.created.err
    assert (scaffolded.root / "stacks" / "services" / "inventory.py").read_text() == FULL_MODULE
    owners = (scaffolded.root / ".github" / "CODEOWNERS").read_text().splitlines()
    assert "/stacks/services/inventory.py       @acme-shop/inventory-team" in owners
    out = scaffolded.created.out.splitlines()
    assert out[0] == ("wrote stacks/services/inventory.py (25 lines): the inventory service with a cache, metrics "
                      "on port 9090, 2 secrets, an ingress at inventory.<domain>")
    assert [line.split() for line in out if "/inventory " in line and "keys" in line] == [
        ["staging/inventory", "keys", "api_key,", "db_password", "account", "210987654321", "(staging),",
         "eu-west-1"],
        ["production/inventory", "keys", "api_key,", "db_password", "account", "345678901234", "(production),",
         "eu-west-1"]]
    assert "pipenv run synth" in scaffolded.created.out and "pipenv run review" in scaffolded.created.out


def test_the_new_module_is_lint_and_type_clean(scaffolded: Scaffolded, tmp_path: Path) -> None:
    module = "stacks/services/inventory.py"
    lint = run(scaffolded.root, "-m", "ruff", "check", "--no-cache", module)
    assert (lint.code, lint.out) == (0, "All checks passed!\n")
    types = run(scaffolded.root, "-m", "mypy", "--no-error-summary", "--cache-dir", str(tmp_path / "mypy"), module)
    assert (types.code, types.out) == (0, "")


def test_synth_then_has_the_service_with_everything_asked_in_every_environment(scaffolded: Scaffolded) -> None:
    from environments import ENVIRONMENTS

    assert scaffolded.synthesized.code == 0, scaffolded.synthesized.err
    for name, env in ENVIRONMENTS.items():
        stack = json.loads((scaffolded.root / "cdktf.out" / "stacks" / f"{name}-services" / "cdk.tf.json").read_text())
        resources = stack["resource"]

        def of(type_: str, prefix: str, resources: dict = resources) -> dict:
            (found,) = [r for key, r in resources[type_].items() if key.startswith(prefix)]
            return found

        container = of("kubernetes_deployment_v1", "inventory_")["spec"]["template"]["spec"]
        assert container["container"][0]["image"] == IMAGE
        assert container["node_selector"] == {"workload": "batch"}
        assert {p["container_port"] for p in container["container"][0]["port"]} == {8000, 9090}
        assert of("aws_elasticache_replication_group", "inventory-cache_")["replication_group_id"] == "inventory-cache"
        assert of("kubernetes_ingress_v1", "inventory_")["spec"]["rule"][0]["host"] == f"inventory.{env.domain}"
        monitor = of("kubernetes_manifest", "inventory_service-monitor")["manifest"]
        assert monitor["spec"]["endpoints"][0]["path"] == "/actuator/prometheus"
        external = of("kubernetes_manifest", "inventory_external-secret")["manifest"]["spec"]["data"]
        assert {(d["secretKey"], d["remoteRef"]["key"], d["remoteRef"].get("property")) for d in external} == {
            ("API_KEY", f"{name}/inventory", "api_key"), ("DB_PASSWORD", f"{name}/inventory", "db_password"),
            ("REDIS_AUTH_TOKEN", f"{name}/redis/inventory-cache", "auth_token")}
        assert of("kubernetes_pod_disruption_budget_v1", "inventory_")  # two pods, within every cap
    listed = json.loads(scaffolded.listed.out)
    assert [row["name"] for row in listed] == ["checkout", "edge-gateway", "inventory", "nightly-report",
                                               "report-worker"]
    (inventory,) = [row for row in listed if row["name"] == "inventory"]
    assert (inventory["cache"]["name"], inventory["file"], inventory["owners"]) == (
        "inventory-cache", "stacks/services/inventory.py", ["@acme-shop/inventory-team"])


def test_service_new_schedule_then_synth_has_the_job_in_every_environment(scaffolded: Scaffolded) -> None:
    from environments import ENVIRONMENTS

    assert scaffolded.created_job.code == 0, scaffolded.created_job.err
    assert scaffolded.created_job.out.splitlines()[0] == (
        "wrote stacks/services/nightly_report.py (22 lines): the nightly-report scheduled job with schedule "
        "'30 2 * * *', its own AWS role (1 permission)")
    assert (scaffolded.root / "stacks" / "services" / "nightly_report.py").read_text() == JOB_MODULE
    assert scaffolded.synthesized.code == 0, scaffolded.synthesized.err
    for name in ENVIRONMENTS:
        stack = json.loads((scaffolded.root / "cdktf.out" / "stacks" / f"{name}-services" / "cdk.tf.json").read_text())
        (cron,) = [r for key, r in stack["resource"]["kubernetes_cron_job_v1"].items() if key.startswith("nightly")]
        assert cron["spec"]["schedule"] == "30 2 * * *" and cron["spec"]["concurrency_policy"] == "Forbid"
        (container,) = cron["spec"]["job_template"]["spec"]["template"]["spec"]["container"]
        assert container["command"] == ["java", "-jar", "/app/report.jar", "--yesterday"]
        (role,) = [r for key, r in stack["resource"]["aws_iam_role"].items() if key.startswith("nightly")]
        assert json.loads(role["inline_policy"][0]["policy"])["Statement"][0]["Action"] == ["s3:PutObject"]
    (job,) = [row for row in json.loads(scaffolded.listed.out) if row["name"] == "nightly-report"]
    assert (job["kind"], job["schedule"], job["node_pool"], job["owners"]) == (
        "job", "30 2 * * *", "batch", ["@acme-shop/data-team"])


def test_the_new_job_module_is_lint_and_type_clean(scaffolded: Scaffolded, tmp_path: Path) -> None:
    module = "stacks/services/nightly_report.py"
    lint = run(scaffolded.root, "-m", "ruff", "check", "--no-cache", module)
    assert (lint.code, lint.out) == (0, "All checks passed!\n")
    types = run(scaffolded.root, "-m", "mypy", "--no-error-summary", "--cache-dir", str(tmp_path / "mypy"), module)
    assert (types.code, types.out) == (0, "")
