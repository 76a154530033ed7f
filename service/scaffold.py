"""``service new``: the module of a new service, from a template, written whole or not at all.

The module is what a careful developer writes by hand: the imports it uses, one
``service(ctx)`` function, only what is specific to the service; the
environment's details come from the context (``ctx.domain``, ``ctx.secret``,
``ctx.node_groups``) and from the stack's guardrails. Whether it is right is
left to the constructs: the command builds the app with the module in it and
keeps it only if every environment builds (``cli.new``).
"""

from __future__ import annotations

import json
import keyword
import os
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MAX_LINE", "NAME", "SERVICES_DIR", "Spec", "Transaction", "module_file", "name_problem", "render"]

#: Where service modules live, relative to the repository.
SERVICES_DIR = Path("stacks/services")
#: A name is an RFC 1035 label: it names a Kubernetes Service, whose name must start with a letter.
NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_NAME_MAX = 63
#: ruff's line length (pyproject.toml).
MAX_LINE = 120

TEMPLATE = string.Template('''\
"""The $name $what.

Keywords and their defaults: constructs_lib/$reference; a value per environment: ctx.per_env(...).
"""

from constructs_lib import $constructs
from stacks.services import $context


def service(ctx: ServiceContext) -> None:
$body''')


@dataclass(frozen=True, kw_only=True)
class Spec:
    """What ``service new`` was asked for.

    :param secrets: ``(variable, key)`` pairs: key ``key`` of the secret ``<env>/<name>`` as ``variable``.
    :param worker: no HTTP port (``port=None``): probed by ``health_command``, else on ``metrics_port``.
    :param health_command: the command that probes a worker (``Probes(command=...)``).
    :param schedule: a cron schedule: a ``ScheduledJob`` running ``command`` for at most ``timeout``.
    :param aws_permissions: ``(actions, resource)`` pairs, an ``AwsPermission`` each.
    """

    name: str
    image: str
    port: int | None = None
    metrics_port: int | None = None
    redis: bool = False
    public: bool = False
    jvm: bool = False
    node_pool: str | None = None
    secrets: tuple[tuple[str, str], ...] = ()
    worker: bool = False
    health_command: tuple[str, ...] = ()
    schedule: str | None = None
    command: tuple[str, ...] = ()
    timeout: str | None = None
    aws_permissions: tuple[tuple[tuple[str, ...], str], ...] = ()

    @property
    def kind(self) -> str:
        """``service``, ``worker`` or ``job`` (as ``service list`` says it)."""
        return "job" if self.schedule is not None else "worker" if self.worker else "service"

    @property
    def cache_id(self) -> str | None:
        """The construct id of its ManagedRedis, with ``redis``."""
        return f"{self.name}-cache" if self.redis else None


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a service (and its module), or None."""
    if not NAME.match(name) or len(name) > _NAME_MAX:
        return ("is not a DNS label: use lowercase letters, digits and '-', starting with a letter and ending with "
                f"a letter or digit, at most {_NAME_MAX} characters (it names the Deployment, Service and DNS entry)")
    if keyword.iskeyword(name.replace("-", "_")):
        return "is a Python keyword, which cannot name its module; choose another name"
    return None


def module_file(name: str) -> Path:
    """``stacks/services/edge_gateway.py`` for ``edge-gateway``."""
    return SERVICES_DIR / f"{name.replace('-', '_')}.py"


def render(spec: Spec, *, registry: str) -> str:
    """The module's text. ``registry``: an image under it is written ``f"{REGISTRY}/<repository>:<tag>"``."""
    job = spec.kind == "job"
    constructs = {"ScheduledJob" if job else "Microservice"}
    context = {"ServiceContext"}
    body = []
    if spec.redis:
        constructs.add("ManagedRedis")
        body.append(f"cache = ManagedRedis(ctx.stack, {_str(spec.cache_id or '')})")
    keywords = [f"ctx.stack, {_str(spec.name)}"]
    image = _image(spec.image, registry)
    if image.startswith("f"):
        context.add("REGISTRY")
    keywords.append(f"image={image}")
    if job:
        keywords += [f"schedule={_str(spec.schedule or '')}", f"timeout={_str(spec.timeout or '')}",
                     f"command={_list(spec.command)}"]
    if spec.worker:
        keywords.append("port=None")
    if spec.health_command:
        constructs.add("Probes")
        keywords.append(f"probes=Probes(command={_list(spec.health_command)})")
    if spec.port is not None:
        keywords.append(f"port={spec.port}")
    if spec.metrics_port is not None:
        constructs.add("MetricsEndpoint")
        # A JVM service is a Spring Boot one to the construct (actuator probes): Micrometer serves metrics there.
        path = ', path="/actuator/prometheus"' if spec.jvm else ""
        keywords.append(f"metrics=MetricsEndpoint(port={spec.metrics_port}{path})")
    if spec.jvm:
        constructs.add("JvmOptions")
        keywords.append("jvm=JvmOptions()")
    if spec.node_pool is not None:
        keywords.append(f"node_group=ctx.node_groups[{_str(spec.node_pool)}]")
    if spec.secrets:
        keywords.append("secrets=" + _mapping([(_str(var), f"ctx.secret({_str(spec.name)}, {_str(key)})")
                                               for var, key in spec.secrets], indent=8))
    if spec.aws_permissions:
        constructs.add("AwsPermission")
        keywords.append("aws_permissions=[\n" + "".join(
            _indented(_permission(actions, resource, indent=12) + ",", 12) for actions, resource in spec.aws_permissions
        ) + " " * 8 + "]")
    if spec.redis:
        keywords.append("redis=cache")
    if spec.public:
        keywords.append(f'ingress_host=f"{spec.name}.{{ctx.domain}}"')
    body.append(("ScheduledJob" if job else "Microservice") + "(\n" + "".join(_indented(f"{k},", 8) for k in keywords)
                + " " * 4 + ")")
    text = TEMPLATE.substitute(
        name=spec.name, what={"job": "scheduled job", "worker": "worker", "service": "service"}[spec.kind],
        reference="scheduled_job.py" if job else "microservice.py", constructs=", ".join(sorted(constructs)),
        context=", ".join(sorted(context, key=lambda n: (not n.isupper(), n))),
        body="".join(_indented(statement, 4) for statement in body))
    # A line that cannot be shorter (a long image, pinned by digest) says so to ruff.
    return "".join(f"{line[:-1]}  # noqa: E501\n" if len(line) > MAX_LINE + 1 else line
                   for line in text.splitlines(keepends=True))


def _indented(text: str, indent: int) -> str:
    """``text``'s first line indented (the lines after it carry their own indentation), ending the line."""
    return " " * indent + text + "\n"


def _str(value: str) -> str:
    """A Python string literal (double quotes, as ruff prefers); JSON's escapes are Python's."""
    return json.dumps(value)


def _list(items: Sequence[str]) -> str:
    return "[" + ", ".join(_str(item) for item in items) + "]"


def _permission(actions: Sequence[str], resource: str, *, indent: int) -> str:
    """``AwsPermission(actions=[...], resources=[...])``, on one line if it fits, else resources on the next."""
    head = f"AwsPermission(actions={_list(actions)},"
    tail = f"resources={_list([resource])})"
    if indent + len(head) + 1 + len(tail) + 1 <= MAX_LINE:
        return f"{head} {tail}"
    return f"{head}\n{' ' * (indent + len('AwsPermission('))}{tail}"


def _image(image: str, registry: str) -> str:
    rest = image.removeprefix(f"{registry}/")
    if rest != image and not re.search(r"[{}\"'\\]", rest):
        return f'f"{{REGISTRY}}/{rest}"'
    return _str(image)


def _mapping(items: Sequence[tuple[str, str]], *, indent: int) -> str:
    """A dict literal: one entry on one line if it fits, else one entry per line."""
    one_line = "{" + ", ".join(f"{k}: {v}" for k, v in items) + "}"
    if len(items) == 1 and indent + len("secrets=") + len(one_line) + 1 <= MAX_LINE:
        return one_line
    inner = " " * (indent + 4)
    return "{\n" + "".join(f"{inner}{k}: {v},\n" for k, v in items) + " " * indent + "}"


class Transaction:
    """Files written together or not at all: ``write`` each, then ``commit()``, or ``rollback()``.

    Each file is written beside its target under a name no import or CODEOWNERS reader picks up, then
    renamed into place (whole, never half-written); ``rollback`` puts every earlier content back.
    """

    def __init__(self) -> None:
        self._before: list[tuple[Path, bytes | None]] = []

    def write(self, path: Path, text: str, *, new: bool = False) -> None:
        """Write ``text`` to ``path``; with ``new``, only if nothing is there (``FileExistsError``)."""
        temporary = path.with_name(f".{path.name}.new")
        temporary.write_text(text)
        try:
            if new:
                os.link(temporary, path)  # fails if another process made the file meanwhile
                self._before.append((path, None))
            else:
                self._before.append((path, path.read_bytes() if path.exists() else None))
                os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)

    def rollback(self) -> None:
        for path, content in reversed(self._before):
            if content is None:
                path.unlink(missing_ok=True)
            else:
                temporary = path.with_name(f".{path.name}.old")
                temporary.write_bytes(content)
                os.replace(temporary, path)
        self._before.clear()

    def commit(self) -> None:
        self._before.clear()
