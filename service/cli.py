"""``pipenv run service``: create, list and prepare the secrets of services, without an ops person.

    pipenv run service new inventory --image 123456789012.dkr.ecr.eu-west-1.amazonaws.com/inventory:1.0.0 \\
        --metrics-port 9090 --redis --public --secret DB_PASSWORD=db_password --owner @acme-shop/inventory-team
    pipenv run service new order-consumer --image ... --worker --metrics-port 9100 \\
        --aws-permission sqs:ReceiveMessage,sqs:DeleteMessage=arn:aws:sqs:eu-west-1:123456789012:orders
    pipenv run service new nightly-report --image ... --schedule "30 2 * * *" --timeout 2h \\
        --command "java -jar /app/report.jar --yesterday"
    pipenv run service list [--env staging] [--format table|json]
    pipenv run service secrets --env staging [--format table|json] [--check]

Exit 0 on success; 2 on a mistake (one line, nothing written); 1 on a failure
of ours (a traceback); ``secrets --check`` exits 3 when a secret or key is
missing or could not be checked.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from . import codeowners, scaffold

if TYPE_CHECKING:
    from environments import Environment
    from stacks import EnvironmentStacks

__all__ = ["ROOT", "UserError", "build", "main"]

ROOT = Path(__file__).resolve().parent.parent


class UserError(Exception):
    """A mistake of the user's: one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """argparse's mistakes in one line, like every other mistake."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build(env_names: Sequence[str] | None = None) -> dict[str, EnvironmentStacks]:
    """The named (default: every) environment's stacks, built and checked in this process, not synthesized."""
    import tempfile

    from cdktf import App

    from environments import ENVIRONMENTS
    from stacks import build_environments, check

    with tempfile.TemporaryDirectory(prefix="service.") as outdir:
        app = App(outdir=outdir)
        built = build_environments(app, [ENVIRONMENTS[name] for name in env_names or ENVIRONMENTS])
        check(app)
    return built


def _environments() -> dict[str, Environment]:
    from environments import ENVIRONMENTS

    return ENVIRONMENTS


def _print_table(rows: list[list[str]], out: Callable[[str], None] = print) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _print_json(document: Any) -> None:
    from constructs_lib.redact import redact

    print(json.dumps(redact(document), indent=2))


# -- service new -----------------------------------------------------------------------------------

def _parse_secrets(pairs: Sequence[str]) -> tuple[tuple[str, str], ...]:
    found: dict[str, str] = {}
    for pair in pairs:
        variable, equals, key = pair.partition("=")
        if not (equals and variable and key):
            raise UserError(f"--secret {pair!r}: use VAR=KEY, e.g. DB_PASSWORD=db_password (the pods' variable "
                            "VAR reads key KEY of the secret <env>/NAME)")
        if variable in found:
            raise UserError(f"--secret {pair!r}: {variable} is given twice; give each variable once")
        found[variable] = key
    return tuple(found.items())


_PERMISSION_FORMAT = "use ACTION[,ACTION...]=RESOURCE_ARN, e.g. s3:GetObject=arn:aws:s3:::reports/*"


def _parse_permissions(pairs: Sequence[str]) -> tuple[tuple[tuple[str, ...], str], ...]:
    """``--aws-permission sqs:ReceiveMessage,sqs:DeleteMessage=arn:...``: actions before the first ``=``
    (an action never holds one), the resource after. The constructs check both, and refuse wildcards."""
    found = []
    for pair in pairs:
        actions, equals, resource = pair.partition("=")
        names = tuple(a.strip() for a in actions.split(","))
        if not (equals and resource and all(names)):
            raise UserError(f"--aws-permission {pair!r}: {_PERMISSION_FORMAT}")
        found.append((names, resource))
    return tuple(found)


def _parse_command(flag: str, text: str | None) -> tuple[str, ...]:
    """A command line, split as a shell would (``"./report --day 'last week'"``), never run by one."""
    if text is None:
        return ()
    try:
        words = tuple(shlex.split(text))
    except ValueError as error:
        raise UserError(f"{flag} {text!r}: {error}; quote it as a shell would") from None
    if not words:
        raise UserError(f"{flag} {text!r}: give the command and its arguments")
    return words


def _kind_problem(args: argparse.Namespace) -> str | None:
    """Options that do not go together, as the fix to make."""
    if args.schedule is not None:
        serving = [flag for flag, given in (("--port", args.port is not None), ("--metrics-port",
                   args.metrics_port is not None), ("--redis", args.redis), ("--public", args.public),
                   ("--worker", args.worker), ("--health-command", args.health_command is not None)) if given]
        if serving:
            return (f"--schedule makes a scheduled job, which serves nothing and holds no cache: drop "
                    f"{', '.join(serving)}")
        missing = [flag for flag, value in (("--command", args.run_command), ("--timeout", args.timeout))
                   if value is None]
        if missing:
            return (f"--schedule needs {' and '.join(missing)}: what each run runs and how long it may take, e.g. "
                    "--command './report --yesterday' --timeout 1h")
        return None
    given = [flag for flag, value in (("--command", args.run_command), ("--timeout", args.timeout))
             if value is not None]
    if given:
        return f"{given[0]} is for a scheduled job: add --schedule CRON, or drop {given[0]}"
    if args.worker:
        serving = [flag for flag, given_ in (("--port", args.port is not None), ("--public", args.public)) if given_]
        if serving:
            return f"--worker serves no HTTP port: drop {', '.join(serving)}"
        if args.metrics_port is None and args.health_command is None:
            return ("--worker has no HTTP port to probe: give --health-command CMD (a check in the image), or "
                    "--metrics-port N to probe there")
    elif args.health_command is not None:
        return "--health-command probes a worker: add --worker (a service is probed on its HTTP port)"
    return None


def new(args: argparse.Namespace) -> int:
    problem = scaffold.name_problem(args.name)
    if problem:
        raise UserError(f"{args.name!r} {problem}")
    problem = _kind_problem(args)
    if problem:
        raise UserError(problem)
    spec = scaffold.Spec(name=args.name, image=args.image, port=args.port, metrics_port=args.metrics_port,
                         redis=args.redis, public=args.public, jvm=args.jvm, node_pool=args.node_pool,
                         secrets=_parse_secrets(args.secret or ()), worker=args.worker,
                         health_command=_parse_command("--health-command", args.health_command),
                         schedule=args.schedule, command=_parse_command("--command", args.run_command),
                         timeout=args.timeout, aws_permissions=_parse_permissions(args.aws_permission or ()))
    module = scaffold.module_file(spec.name)
    for existing in (module, module.with_suffix("")):  # a module, or a package
        if (ROOT / existing).exists():
            raise UserError(f"{spec.name!r} is taken: {existing} exists; choose another name, or edit that file")
    owners = codeowners.CodeOwners.read(ROOT)
    owner = tuple(args.owner or owners.default_owners)
    if not owner:
        raise UserError(f"--owner: {codeowners.CODEOWNERS} has no '*' line to take a default owner from; pass "
                        "--owner @org/team")
    bad = [o for o in owner if not codeowners.OWNER.match(o)]
    if bad:
        raise UserError(f"--owner {bad[0]!r}: use a team '@org/team', a user '@user' or an e-mail address")
    environments = _environments()
    if spec.node_pool is not None:
        pools = [{pool.name for pool in env.cluster.node_pools} for env in environments.values()]
        common = sorted(set.intersection(*pools))
        if spec.node_pool not in common:
            raise UserError(f"--node-pool {spec.node_pool!r}: not a node pool of every environment "
                            f"({', '.join(environments)}); choose from {', '.join(common)}")

    from stacks.services import REGISTRY

    try:
        before = build()
    except Exception as error:
        raise _as_user_error(error, "the project does not build as it is, so nothing was added; fix this first: "
                             ) from None
    for stacks in before.values():
        for id in filter(None, (spec.name, spec.cache_id)):
            taken = stacks.services.node.try_find_child(id)
            if taken is not None:
                by = stacks.services.declared_in.get(id, "stacks/services/__init__.py")
                raise UserError(f"{spec.name!r} is taken: {taken.node.path} is declared in {by}; choose another "
                                "name")

    text = scaffold.render(spec, registry=REGISTRY)
    owners_text = owners.with_service(module.as_posix(), owner)
    transaction = scaffold.Transaction()
    from fastsynth import cleanup

    cleanup.on_interrupt(transaction.rollback)
    try:
        transaction.write(ROOT / module, text, new=True)
        transaction.write(ROOT / codeowners.CODEOWNERS, owners_text)
        cleanup.checkpoint("service-written")  # where the tests interrupt it
        after = build()
    except BaseException as error:
        transaction.rollback()
        sys.modules.pop(f"stacks.services.{module.stem}", None)  # a later build must not find it imported
        if isinstance(error, FileExistsError):
            raise UserError(f"{spec.name!r} is taken: {module} was written meanwhile; nothing written") from None
        if isinstance(error, Exception):
            raise _as_user_error(error, "", suffix="; nothing written") from None
        raise
    transaction.commit()
    _report_new(spec, module, text, owner, after, environments)
    return 0


def _as_user_error(error: Exception, prefix: str, *, suffix: str = "") -> Exception:
    """A build's exception as synth would say it: a UserError (its one line) or, for our bug, itself."""
    from fastsynth.errors import describe

    failure = describe(error, ROOT)
    if failure.exit_code != 2:
        return error
    first, newline, rest = failure.message.removeprefix("error: ").partition("\n")
    return UserError(prefix + first + suffix + newline + rest)  # several problems: the suffix ends the first line


def _report_new(spec: scaffold.Spec, module: Path, text: str, owner: tuple[str, ...],
                after: dict[str, EnvironmentStacks], environments: dict[str, Environment]) -> None:
    parts = []
    if spec.schedule is not None:
        parts.append(f"schedule {spec.schedule!r}")
    if spec.redis:
        parts.append("a cache")
    if spec.metrics_port is not None:
        parts.append(f"metrics on port {spec.metrics_port}")
    if spec.secrets:
        parts.append(f"{len(spec.secrets)} secret{'s' * (len(spec.secrets) > 1)}")
    if spec.public:
        parts.append(f"an ingress at {spec.name}.<domain>")
    if spec.aws_permissions:
        count = len(spec.aws_permissions)
        parts.append(f"its own AWS role ({count} permission{'s' * (count > 1)})")
    what = {"service": "service", "worker": "worker", "job": "scheduled job"}[spec.kind]
    print(f"wrote {module} ({text.count(chr(10))} lines): the {spec.name} {what}"
          + (f" with {', '.join(parts)}" if parts else ""))
    print(f"added to {codeowners.CODEOWNERS}: /{module} {' '.join(owner)}")
    print()
    print("next:")
    print(f"  1. pipenv run synth                       the service in every environment ({', '.join(after)})")
    print("  2. pipenv run review --base origin/main   what the change does, as reviewers will read it")
    steps = 3
    if spec.secrets:
        print(f"  {steps}. before the first apply, create these Secrets Manager secrets (a JSON object each):")
        rows = []
        for name, stacks in after.items():
            env = environments[name]
            by_secret: dict[str, list[str]] = {}
            service = next(s for s in stacks.services.services if s.name == spec.name)
            for ref in service.secrets.values():
                secret, _, key = ref.rpartition("#")
                by_secret.setdefault(secret, []).append(key)
            rows += [[secret, f"keys {', '.join(sorted(keys))}", f"account {env.account_id} ({name}), {env.region}"]
                     for secret, keys in sorted(by_secret.items())]
        _print_table(rows, lambda line: print("       " + line))
        print(f"     `pipenv run service secrets --env {next(iter(after))} --check` says what is still missing")
        steps += 1
    print(f"  {steps}. open a pull request: CODEOWNERS asks {' '.join(owner)} to review {module}")


# -- service list ----------------------------------------------------------------------------------

def list_services(args: argparse.Namespace) -> int:
    from .listing import rows, table

    found = rows(build([args.env] if args.env else None), codeowners.CodeOwners.read(ROOT))
    if args.format == "json":
        _print_json([row.as_json() for row in found])
    else:
        _print_table(table(found))
    return 0


# -- service secrets -------------------------------------------------------------------------------

def secrets(args: argparse.Namespace) -> int:
    from .secrets import MISSING_EXIT, AccountMismatch, check, required

    env = _environments()[args.env]
    needed = required(build([args.env])[args.env])
    complete = True
    if args.check:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, PartialCredentialsError

        session = boto3.session.Session(region_name=env.region)
        try:
            complete = check(needed, account_id=env.account_id, client=session.client("secretsmanager"),
                             sts=session.client("sts"))
        except (NoCredentialsError, PartialCredentialsError) as error:
            raise UserError(f"--check needs AWS credentials for {env.name}'s account {env.account_id} ({error}); "
                            "set AWS_PROFILE or sign in first") from None
        except AccountMismatch as error:
            raise UserError(f"--check: your AWS credentials are for account {error}, {env.name} is account "
                            f"{env.account_id}; use {env.name}'s credentials") from None
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "error")
            raise UserError(f"--check: AWS refused the request ({code}): {error}") from None
        except BotoCoreError as error:
            print(f"service secrets: error: could not reach AWS: {error}", file=sys.stderr)
            return 1
    if args.format == "json":
        _print_json([{"environment": env.name, "account_id": env.account_id, "region": env.region,
                      **secret.as_json()} for secret in needed])
    else:
        print(f"{env.name}: account {env.account_id}, region {env.region}. Create each secret as a JSON object with "
              "these keys before the first apply:")
        header = ["SECRET", "KEY", "NEEDED BY", *(["STATUS"] if args.check else [])]
        rows = [header]
        for secret in needed:
            for i, (key, paths) in enumerate(secret.keys.items()):
                status = [f"{secret.status[key]}" + (f" ({secret.note})" if secret.note and i == 0 else "")
                          ] if args.check else []
                rows.append([secret.name if i == 0 else "", key, ", ".join(paths), *status])
        _print_table(rows)
        if args.check:
            missing = sum(s != "present" for secret in needed for s in secret.status.values())
            total = sum(len(secret.keys) for secret in needed)
            print("every key is there" if complete else f"{missing} of {total} keys missing or not checked")
    return 0 if complete else MISSING_EXIT


# -- the command line ------------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    root = _Parser(prog="service", description=__doc__.split("\n\n")[0],
                   formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = root.add_subparsers(dest="command", required=True, metavar="{new,list,secrets}")
    create = commands.add_parser("new", help="write the module of a new service, stacks/services/<name>.py")
    create.add_argument("name", metavar="NAME", help="the service's name, a DNS label (e.g. inventory)")
    create.add_argument("--image", required=True, help="its image with a tag or digest, in ECR")
    create.add_argument("--port", type=int, help="the port it serves HTTP on; default 8080")
    create.add_argument("--metrics-port", type=int, metavar="N", help="scrape Prometheus metrics on this port")
    create.add_argument("--redis", action="store_true", help="give it its own ManagedRedis, wired in")
    create.add_argument("--public", action="store_true", help="an Ingress with TLS at NAME.<environment domain>")
    create.add_argument("--jvm", action="store_true", help="a JVM (Spring Boot) service: heap from memory, actuator")
    create.add_argument("--node-pool", metavar="POOL", help="run on this node pool (tolerate its taints)")
    create.add_argument("--secret", action="extend", nargs="+", metavar="VAR=KEY",
                        help="variable VAR reads key KEY of Secrets Manager <env>/NAME, in every environment")
    create.add_argument("--worker", action="store_true",
                        help="a worker (a queue consumer): no HTTP port, no Service, no Ingress")
    create.add_argument("--health-command", metavar="CMD", help="a worker's health check, a command in the image")
    create.add_argument("--schedule", metavar="CRON",
                        help="a scheduled job (a CronJob) on this cron schedule, e.g. '30 2 * * *'; with --command "
                             "and --timeout")
    create.add_argument("--command", dest="run_command", metavar="CMD",  # not "command": the subcommand's dest
                        help="what each run of a scheduled job runs, e.g. './report --day'")
    create.add_argument("--timeout", metavar="DURATION", help="how long a run may take, e.g. 45m or 2h")
    create.add_argument("--aws-permission", action="append", metavar="ACTION[,ACTION...]=ARN",
                        help="its own IAM role may do ACTION on the resource ARN (repeatable); no wildcards")
    create.add_argument("--owner", action="append", metavar="@ORG/TEAM",
                        help="who owns the file (CODEOWNERS); default: the owners of '*' (the platform team)")
    create.set_defaults(run=new)
    environments = list(_environments())
    listing = commands.add_parser("list", help="every service of every (or one) environment")
    listing.add_argument("--env", choices=environments, help="only this environment")
    listing.add_argument("--format", choices=("table", "json"), default="table")
    listing.set_defaults(run=list_services)
    needed = commands.add_parser("secrets", help="the secrets an environment needs before its first apply")
    needed.add_argument("--env", choices=environments, required=True)
    needed.add_argument("--format", choices=("table", "json"), default="table")
    needed.add_argument("--check", action="store_true",
                        help="ask Secrets Manager (your credentials) which are missing; exit 3 if any")
    needed.set_defaults(run=secrets)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a mistake (ours to refuse, or one in a file users edit) is one line and exit 2."""
    prog = "service"
    try:
        args = parser().parse_args(argv)
        prog = f"service {args.command}"
        return int(args.run(args))
    except UserError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # e.g. a typo in a service module, found while building the app
        mistake = _as_user_error(error, "")
        if not isinstance(mistake, UserError):
            raise
        print(f"{prog}: error: {mistake}", file=sys.stderr)
        return 2
