"""What every workload construct shares, so that a service, a worker and a scheduled job cannot drift apart.

``Workload`` is the base of ``Microservice`` and ``ScheduledJob``: the pod
(``_pod.PodTemplate``), its service account, secrets through the External
Secrets operator, the image check, AWS permissions of its own (IRSA), config
files, its NetworkPolicy, the PrometheusRule of its alerts, and the needs of
those features in the capability contract. The rules of the environment
(``rules/``) that concern a pod apply to every ``Workload``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from cdktf import ITerraformDependable, Postcondition, TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.data_aws_ecr_repository import DataAwsEcrRepository
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_kubernetes.config_map_v1 import ConfigMapV1, ConfigMapV1Metadata
from cdktf_cdktf_provider_kubernetes.manifest import Manifest
from cdktf_cdktf_provider_kubernetes.network_policy_v1 import NetworkPolicyV1
from cdktf_cdktf_provider_kubernetes.service_account_v1 import ServiceAccountV1, ServiceAccountV1Metadata
from constructs import Construct, IConstruct

from ._irsa import service_account_role
from ._pod import CONFIG_DIR, PodTemplate, config_checksum, jvm_tool_options
from ._quantities import MEMORY_FIX, cpu_problem, memory_bytes
from .capabilities import Capability, Need, Offer
from .contracts import SECRET_STORE
from .external_secrets import SECRET_REF, SECRET_REF_FIX, external_secret
from .guardrails import Guardrails, suppress
from .network_policy import Peer, network_policy
from .node_group import EksNodeGroup, Taint
from .validation import DNS_LABEL, Checks, checked_fields

__all__ = ["CONFIG_DIR", "ECR_IMAGE", "AwsPermission", "JvmOptions", "Workload", "image_version", "load_config_files",
           "selector_of"]

_IMAGE = re.compile(r"^[a-z0-9][a-z0-9.\-/_:]*[a-z0-9](:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$")
#: An image in an ECR repository: the registry (account) id, its region, the repository.
ECR_IMAGE = re.compile(r"^(?P<registry>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/"
                       r"(?P<repository>[a-z0-9][a-z0-9._/-]*?)(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: ``service:Action``, as IAM writes it (``s3:GetObject``, ``sqs:ReceiveMessage``).
_ACTION = re.compile(r"^(\*|[a-z0-9][a-z0-9-]*:[A-Za-z0-9*?]+)$")
#: ``arn:<partition>:<service>:<region>:<account>:<resource>`` (region and account empty where the service
#: has none, as S3's; ``aws`` as the account of AWS-managed resources).
_RESOURCE_ARN = re.compile(r"^arn:(?P<partition>aws|aws-cn|aws-us-gov):(?P<service>[a-z0-9][a-z0-9-]*):"
                           r"(?P<region>[a-z0-9*?-]*):(?P<account>\d{12}|aws|[*?\d]*):(?P<resource>.+)$")
_CONDITION_OPERATOR = re.compile(
    r"^(ForAnyValue:|ForAllValues:)?("
    r"(String(Not)?Equals(IgnoreCase)?|String(Not)?Like|Numeric(Not)?Equals|Numeric(Less|Greater)Than(Equals)?|"
    r"Date(Not)?Equals|Date(Less|Greater)Than(Equals)?|Bool|BinaryEquals|(Not)?IpAddress|Arn(Not)?(Equals|Like))"
    r"(IfExists)?|Null)$")
_CONDITION_KEY = re.compile(r"^[a-zA-Z0-9-]+:[\w/.:-]+$")
#: The six characters Secrets Manager appends to a secret's name in its ARN, which no one can know beforehand.
_SECRET_SUFFIX = re.compile(r"^secret:[\w/+=.@-]+-\?{6}$")
_PERMISSION_FIX = "see AwsPermission: actions 'service:Action', resources full ARNs"

#: ConfigMap keys (file names): letters, digits, '-', '_' and '.'.
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")
#: What a config file's value looks like when someone meant the path of a file.
_PATH_LIKE = re.compile(r"^[\w./-]+\.(ya?ml|json|xml|properties|conf|toml|ini|txt|cfg)$")
_CONFIG_MAP_LIMIT = 1024 * 1024


@checked_fields
@dataclass(frozen=True, kw_only=True)
class JvmOptions:
    """A JVM workload: the heap follows the container's memory limit.

    :param heap_percent: share of the memory limit for the heap (``-XX:MaxRAMPercentage``);
        default 75, at most 90 so that metaspace, threads and buffers fit.
    """

    heap_percent: int = 75


@checked_fields
@dataclass(frozen=True, kw_only=True)
class AwsPermission:
    """One statement of a workload's own IAM role: ``actions`` on ``resources``, under ``conditions``.

    No wildcards (rule IAM-NO-WILDCARD): name each action, and each resource where AWS lets you name it.
    A wildcard is accepted, without exception, only where AWS gives nothing to name: S3 object keys under
    a named bucket (``arn:aws:s3:::reports/*``), the parts of a named resource (``table/orders/index/*``)
    and the six random characters Secrets Manager appends (``secret:production/checkout-??????``).

    :param actions: IAM actions, ``service:Action`` (``s3:GetObject``).
    :param resources: full ARNs (or another resource's ``arn`` attribute).
    :param conditions: an IAM condition block, operator -> key -> value(s); default none.
    """

    actions: Sequence[str]
    resources: Sequence[str]
    conditions: Mapping[str, Mapping[str, str | Sequence[str]]] = field(default_factory=dict)

    def statement(self, sid: str) -> dict[str, Any]:
        found: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": list(self.actions),
                                 "Resource": list(self.resources)}
        if self.conditions:
            found["Condition"] = {op: {key: v if isinstance(v, str) else list(v) for key, v in pairs.items()}
                                  for op, pairs in self.conditions.items()}
        return found

    def wildcards(self) -> list[tuple[str, str, str]]:
        """``(field, value, why)`` for every action or resource that a wildcard widens beyond what AWS
        requires (tokens are references to named resources and pass)."""
        found = []
        for i, action in enumerate(self.actions):
            if not Token.is_unresolved(action) and ("*" in action or "?" in action):
                found.append((f"actions[{i}]", action, "matches every action it fits, including those AWS adds "
                                                       "later; list the actions the workload calls"))
        for i, resource in enumerate(self.resources):
            if Token.is_unresolved(resource) or not ("*" in resource or "?" in resource):
                continue
            if not _named_wildcard(resource):
                found.append((f"resources[{i}]", resource, "matches every resource it fits, in this account and "
                                                           "environment and others; name the resources (their ARNs)"))
        return found

    def problems(self, at: str) -> list[tuple[str, object, str]]:
        """Syntax: ``(field, value, fix)`` for what IAM would refuse or misread."""
        found: list[tuple[str, object, str]] = []
        if not self.actions:
            found.append((f"{at}.actions", [], "list at least one action, e.g. 's3:GetObject'"))
        if not self.resources:
            found.append((f"{at}.resources", [], "list at least one resource ARN"))
        for i, action in enumerate(self.actions):
            if not Token.is_unresolved(action) and not _ACTION.match(action):
                found.append((f"{at}.actions[{i}]", action, "write an action as 'service:Action', e.g. "
                                                            "'s3:GetObject' or 'sqs:ReceiveMessage'"))
        for i, resource in enumerate(self.resources):
            if not Token.is_unresolved(resource) and resource != "*" and not _RESOURCE_ARN.match(resource):
                found.append((f"{at}.resources[{i}]", resource, "write a full ARN, e.g. 'arn:aws:s3:::reports/*' "
                                                                "or 'arn:aws:sqs:eu-west-1:123456789012:orders'"))
        for operator, pairs in self.conditions.items():
            if not _CONDITION_OPERATOR.match(operator):
                found.append((f"{at}.conditions", operator, "use an IAM condition operator such as "
                                                            "'StringEquals', 'ArnLike' or 'Bool'"))
            for key, values in pairs.items():
                if not _CONDITION_KEY.match(key):
                    found.append((f"{at}.conditions[{operator!r}]", key, "use a condition key such as "
                                                                         "'aws:SourceVpc' or 's3:prefix'"))
                if not isinstance(values, str) and not values:
                    found.append((f"{at}.conditions[{operator!r}][{key!r}]", [], "give at least one value"))
        return found


def selector_of(name: str) -> dict[str, str]:
    """The labels that select a workload's pods (its Service's, budget's and NetworkPolicy's selector), from its
    name alone: so that ``allow_from`` can admit a workload declared in another module, by name."""
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": name}


def image_version(image: str) -> str:
    """The tag (or the digest's first 12 hex) as a label value."""
    if "@sha256:" in image:
        return image.rsplit("@sha256:", 1)[1][:12]
    return image.rsplit(":", 1)[-1][:63]


def _named_wildcard(resource: str) -> bool:
    """A wildcard AWS leaves no name for: S3 keys under a named bucket, parts of a named resource
    (``<type>/<name>/...``), Secrets Manager's random suffix."""
    match = _RESOURCE_ARN.match(resource)
    if not match or any(c in match[f] for f in ("partition", "service", "region", "account") for c in "*?"):
        return False
    service, part = match["service"], match["resource"]
    if service == "secretsmanager":
        return bool(_SECRET_SUFFIX.match(part))
    segments = part.split("/")
    literal = 1 if service == "s3" else 2  # a bucket; else a resource type and its name
    return len(segments) > literal and not any(c in s for s in segments[:literal] for c in "*?")


def load_config_files(files: Mapping[str, str | Path], c: Checks) -> dict[str, str]:
    """The content of each config file (a ``Path`` is read; a string is the content itself), validated
    into ``c``: names that are ConfigMap keys, files that exist and are text, at most 1 MiB in all."""
    loaded: dict[str, str] = {}
    for name, source in files.items():
        at = f"config_files[{name!r}]"
        c.require(bool(_CONFIG_KEY.match(name)) and name not in (".", ".."), "config_files", name,
                  "name each file with letters, digits, '-', '_' and '.' (it is a ConfigMap key and the file's "
                  f"name under {CONFIG_DIR})")
        if isinstance(source, Path):
            try:
                loaded[name] = source.read_text(encoding="utf-8")
            except FileNotFoundError:
                c.require(False, at, str(source), "no such file (relative paths are read from the current "
                                                  "directory; from a stack, pass Path(__file__).parent / ...)")
            except UnicodeDecodeError:
                c.require(False, at, str(source), "not UTF-8 text; a config file is text")
            except OSError as error:
                c.require(False, at, str(source), f"cannot be read ({error.strerror})")
            continue
        if c.require("\n" in source or not _PATH_LIKE.match(source), at, source,
                     f"looks like a file's path; pass Path({source!r}) to read the file (a string is the "
                     "file's content)"):
            loaded[name] = source
    size = sum(len(text.encode()) for text in loaded.values())
    c.require(size <= _CONFIG_MAP_LIMIT, "config_files", sorted(loaded),
              f"{size:,} bytes in all; a ConfigMap holds at most 1 MiB: mount large files from the image")
    return loaded


class Workload(Construct):
    """The base of every workload construct (``Microservice``, ``ScheduledJob``); not used directly.

    What it holds, once resolved (read-only attributes): ``name``, ``namespace`` (and
    ``namespace_name`` where it is known before apply), ``image``, ``cpu``, ``memory``, ``env``,
    ``secrets``, ``jvm``, the node group's ``tolerations`` and ``node_selector``, ``labels`` and
    ``selector``, ``aws_permissions``, ``config_files`` (name -> content), ``allow_from``.
    """

    #: How messages name this kind of workload.
    kind: ClassVar[str] = "workload"

    name: str
    namespace: str
    namespace_name: str | None
    labels: dict[str, str]
    selector: dict[str, str]
    secret_refs: Mapping[str, str]
    secret_name: str | None
    aws_role: IamRole | None
    service_account: ServiceAccountV1
    external_secret: Manifest | None
    config_map: ConfigMapV1 | None
    image_repository: DataAwsEcrRepository | None
    network_policy: NetworkPolicyV1 | None
    prometheus_rule: Manifest | None

    def _resolve(self, guardrails: Guardrails | None, *, id: str, image: str, namespace: str | None, cpu: str,
                 memory: str, env: Mapping[str, str] | None, secrets: Mapping[str, str] | None,
                 jvm: JvmOptions | None, node_group: EksNodeGroup | None,
                 aws_permissions: Sequence[AwsPermission], config_files: Mapping[str, str | Path] | None,
                 network_policy: bool | None, allow_from: Sequence[Any], scrape_labels: Mapping[str, str]) -> None:
        """Set the shared attributes from the keywords and the stack's guardrails."""
        if guardrails is not None:
            namespace = namespace or guardrails.namespace
        self.name = id
        self.namespace = namespace or "default"
        #: The namespace's name where it is known before apply (``namespace`` may be a reference).
        self.namespace_name = (
            guardrails.namespace_name if guardrails and namespace == guardrails.namespace else None) or (
            None if Token.is_unresolved(self.namespace) else self.namespace)
        self.image = image
        self.cpu = cpu
        self.memory = memory
        self.env: Mapping[str, str] = dict(env or {})
        self.secrets: Mapping[str, str] = dict(secrets or {})
        self.jvm = jvm
        self.tolerations: tuple[Taint, ...] = node_group.taints if node_group else ()
        self.node_group_path = node_group.node.path if node_group else None
        self.node_selector: Mapping[str, str] = dict(node_group.labels) if node_group else {}
        self.scrape_labels: Mapping[str, str] = dict(scrape_labels)
        self.aws_permissions = tuple(aws_permissions)
        self.oidc_provider_arn = guardrails.oidc_provider_arn if guardrails else None
        self.oidc_issuer_url = guardrails.oidc_issuer_url if guardrails else None
        self.config_file_sources: Mapping[str, str | Path] = dict(config_files or {})
        self.config_files: Mapping[str, str] = {}
        self.allow_from = tuple(allow_from)
        #: Whether the workload gets its own NetworkPolicy: the keyword, else the stack's guardrails, else
        #: whether ``allow_from`` names anyone.
        self.isolated = network_policy if network_policy is not None else bool(
            (guardrails is not None and guardrails.network_policies) or self.allow_from)
        self._network_policy_keyword = network_policy

    # -- validation shared by every kind -----------------------------------------------------------

    def _check_pod(self, c: Checks) -> None:
        """Image, namespace, compute, JVM, environment and secrets: what every pod is checked for."""
        c.require(not c.known(self.namespace) or (bool(DNS_LABEL.match(self.namespace)) and len(self.namespace) <= 63),
                  "namespace", self.namespace,
                  "use a DNS label: lowercase letters, digits and hyphens, at most 63 characters")
        c.require(bool(_IMAGE.match(self.image)) and not self.image.endswith(":latest"), "image", self.image,
                  "pin a tag or digest, e.g. 'registry.example.com/checkout:1.4.2' (not ':latest')")
        c.require(cpu_problem(self.cpu) is None, "cpu", self.cpu, cpu_problem(self.cpu) or "")
        c.require(memory_bytes(self.memory) is not None, "memory", self.memory, MEMORY_FIX)

    def _check_env(self, c: Checks) -> None:
        if self.jvm:
            c.require(0 < self.jvm.heap_percent <= 90, "jvm.heap_percent", self.jvm.heap_percent,
                      "use 1 to 90: metaspace, threads and direct buffers live outside the heap but inside "
                      "the memory limit")
        for name in (*self.env, *self.secrets):
            c.require(bool(_ENV_NAME.match(name)), f"env[{name!r}]" if name in self.env else f"secrets[{name!r}]",
                      name, "use letters, digits and '_', not starting with a digit")
        for name in sorted(set(self.env) & set(self.secrets)):
            c.require(False, f"secrets[{name!r}]", name, "is also in env; set each variable in one place")
        for var, ref in self.secrets.items():
            c.require(bool(SECRET_REF.match(ref)), f"secrets[{var!r}]", ref, SECRET_REF_FIX)

    def _check_features(self, c: Checks) -> None:
        """AWS permissions, config files and network admissions."""
        if self.aws_permissions:
            c.require(self.oidc_provider_arn is not None and self.oidc_issuer_url is not None, "aws_permissions",
                      f"{len(self.aws_permissions)} permission(s)",
                      "needs the cluster's OIDC provider, which the stack gives (Guardrails.oidc_provider_arn and "
                      "oidc_issuer_url are not set): add the workload to the services stack, whose guardrails "
                      "know it")
            c.require(self.namespace_name is not None, "namespace", self.namespace,
                      "aws_permissions trust the service account by its namespace's name, which is not known "
                      "before apply: pass the namespace's name (or set Guardrails.namespace_name)")
            for i, permission in enumerate(self.aws_permissions):
                for at, value, fix in permission.problems(f"aws_permissions[{i}]"):
                    c.require(False, at, value, fix)
        self.config_files = load_config_files(self.config_file_sources, c)
        for i, other in enumerate(self.allow_from):
            if isinstance(other, str):
                c.require(bool(DNS_LABEL.match(other)) and other != self.name, f"allow_from[{i}]", other,
                          "name another workload of this namespace by its id (e.g. 'edge-gateway'), or pass the "
                          "Microservice or ScheduledJob object")
                c.require(self.namespace_name is not None, f"allow_from[{i}]", other,
                          "a workload named here is looked for in this workload's namespace, whose name is not "
                          "known before apply; pass the object, or give this workload a literal namespace")
            elif not isinstance(other, Workload):
                c.require(False, f"allow_from[{i}]", other if isinstance(other, int) else repr(other),
                          "not a workload: pass the Microservice or ScheduledJob object (allow_from=[checkout]), "
                          "or its id (allow_from=['checkout'])")
            elif other is self:
                c.require(False, f"allow_from[{i}]", other.node.path, "a workload always reaches itself; remove it")
            elif other.namespace_name is None:
                c.require(False, f"allow_from[{i}]", other.node.path,
                          "its namespace's name is not known before apply; give it a literal namespace")
        c.require(not self.allow_from or self._network_policy_keyword is not False, "allow_from",
                  [getattr(o, "name", o) for o in self.allow_from],
                  "admits workloads through the NetworkPolicy network_policy=False turns off; remove one")

    # -- resources ----------------------------------------------------------------------------------

    def pod_env(self) -> dict[str, str]:
        """The plain environment of the pods: ``env`` and the JVM's options."""
        plain = dict(self.env)
        if self.jvm:
            plain["JAVA_TOOL_OPTIONS"] = jvm_tool_options(self.jvm.heap_percent)
        return plain

    def _checksum_extra(self) -> dict[str, object]:
        """What a kind adds to the configuration checksum (only when used: adding an option must not roll
        the pods of every workload that does not use it)."""
        return {}

    def _config_checksum(self) -> str:
        """Changes whenever env, the secret mapping or a config file changes, so the pods roll."""
        config: dict[str, object] = {"env": dict(self.env), "secrets": dict(self.secret_refs),
                                     "jvm": self.jvm.heap_percent if self.jvm else None, **self._checksum_extra()}
        if self.config_files:
            config["config_files"] = {name: hashlib.sha256(text.encode()).hexdigest()
                                      for name, text in sorted(self.config_files.items())}
        return config_checksum(config)

    def _make_common(self, *, extra_secrets: Mapping[str, str] | None = None,
                     secret_depends_on: Sequence[ITerraformDependable] = ()) -> None:
        """After validation: what every kind names and makes the same way, in this order: its labels and
        selector, the Secret its pods read (``secrets`` and ``extra_secrets``), its AWS role, service account,
        ExternalSecret, image-repository check and ConfigMap."""
        self.selector = selector_of(self.name)
        self.labels = {**self.selector, "app.kubernetes.io/version": image_version(self.image),
                       "app.kubernetes.io/managed-by": "cdktf"}
        self.secret_refs: Mapping[str, str] = {**self.secrets, **(extra_secrets or {})}
        self.secret_name = f"{self.name}-secrets" if self.secret_refs else None
        self.aws_role = self._aws_role()
        self.service_account = self._service_account()
        self.external_secret = self._external_secret(depends_on=secret_depends_on)
        self.image_repository = self._image_repository()
        self.config_map = self._config_map()

    def _pod(self, *, labels: Mapping[str, str] | None = None) -> PodTemplate:
        return PodTemplate(name=self.name, image=self.image, labels=dict(labels or self.labels), cpu=self.cpu,
                           memory=self.memory, checksum=self._config_checksum(), env=self.pod_env(),
                           secret_env=tuple(self.secret_refs), secret_name=self.secret_name,
                           tolerations=self.tolerations, node_selector=self.node_selector,
                           config_map=self.config_map.metadata.name if self.config_map else None)

    def _aws_role(self) -> IamRole | None:
        """The workload's own IAM role, which only its service account can assume, with exactly its statements."""
        if not self.aws_permissions:
            return None
        assert self.oidc_provider_arn and self.oidc_issuer_url and self.namespace_name  # validated
        return service_account_role(
            self, "aws-role", oidc_provider_arn=self.oidc_provider_arn, oidc_issuer_url=self.oidc_issuer_url,
            namespace=self.namespace_name, service_account=self.name, name_prefix=f"{self.namespace_name}-{self.name}-",
            description=f"{self.kind} {self.namespace_name}/{self.name}: its own AWS permissions",
            statements=[p.statement(f"Permission{i}") for i, p in enumerate(self.aws_permissions)])

    def _service_account(self) -> ServiceAccountV1:
        annotations = {"eks.amazonaws.com/role-arn": self.aws_role.arn} if self.aws_role else None
        return ServiceAccountV1(
            self, "service-account", metadata=ServiceAccountV1Metadata(
                name=self.name, namespace=self.namespace, labels=self.labels, annotations=annotations),
            automount_service_account_token=False)

    def _external_secret(self, depends_on: Sequence[ITerraformDependable] = ()) -> Manifest | None:
        if not self.secret_name:
            return None
        return external_secret(self, "external-secret", name=self.secret_name, namespace=self.namespace,
                               labels=self.labels, data=self.secret_refs, depends_on=depends_on)

    def _config_map(self) -> ConfigMapV1 | None:
        """The config files, mounted read-only at ``CONFIG_DIR`` (``/etc/config/<name>``)."""
        if not self.config_files:
            return None
        return ConfigMapV1(self, "config", metadata=ConfigMapV1Metadata(
            name=f"{self.name}-config", namespace=self.namespace, labels=self.labels), data=dict(self.config_files))

    @property
    def image_pinned(self) -> bool:
        """True when the image can only ever mean one set of bytes: a digest, or a tag in an ECR
        repository whose tags are immutable (checked at plan time by ``image_repository``)."""
        return "@sha256:" in self.image or self.image_repository is not None

    def _image_repository(self) -> DataAwsEcrRepository | None:
        """The image's ECR repository, looked up at plan time: the plan fails unless its tags are immutable."""
        match = ECR_IMAGE.match(self.image)
        if not match or "@sha256:" in self.image:
            return None
        return DataAwsEcrRepository(
            self, "image-repository", name=match["repository"], registry_id=match["registry"], region=match["region"],
            lifecycle=TerraformResourceLifecycle(postcondition=[Postcondition(
                condition='${self.image_tag_mutability == "IMMUTABLE"}',
                error_message=f"{self.node.path}: image {self.image} is in an ECR repository whose tags can be "
                              "overwritten; set image_tag_mutability = IMMUTABLE on the repository (or pin the "
                              "image by digest), so that a tag always runs the same image")]))

    def _suppress_pod_checks(self, resource: IConstruct) -> None:
        """The checkov findings every workload's pod answers the same way (the reasons are what a reviewer
        reads in ``pipenv run policy``)."""
        suppress(resource, "CKV_K8S_11", reason="no CPU limit on purpose: CFS throttling hurts latency more "
                                                "than a busy neighbour does; requests reserve the CPU")
        if self.image_pinned:
            why = ("the image is pinned by digest" if "@sha256:" in self.image else
                   "the image tag is immutable: its ECR repository is looked up at plan time and the plan fails "
                   "unless image_tag_mutability is IMMUTABLE (image-repository postcondition)")
            suppress(resource, "CKV_K8S_43", reason=f"{why}, so a tag names one image for good")
            suppress(resource, "CKV_K8S_15", reason=f"{why}, so IfNotPresent runs the same bytes as Always "
                                                    "without a registry round trip on every restart")

    def _prometheus_rule(self, rules: Sequence[Mapping[str, Any]]) -> Manifest | None:
        if not rules:
            return None
        return Manifest(self, "prometheus-rule", manifest={
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {"name": self.name, "namespace": self.namespace,
                         "labels": {**self.labels, **self.scrape_labels}},
            "spec": {"groups": [{"name": f"{self.name}.rules", "rules": list(rules)}]},
        })

    # -- network isolation ----------------------------------------------------------------------------

    def peers(self) -> list[Peer]:
        """Who may connect to this workload's pods, and on which ports; a kind adds its own."""
        return []

    def _peer_from(self, other: Workload | str, ports: Sequence[int]) -> Peer:
        if isinstance(other, str):  # a workload of this namespace, by name (the contract checks it exists)
            return (None, selector_of(other), ports, other)
        same = other.namespace_name == self.namespace_name or other.namespace == self.namespace
        return (None if same else other.namespace_name, other.selector, ports, other.node.path)

    def _network_policy(self) -> NetworkPolicyV1 | None:
        if not self.isolated:
            return None
        return network_policy(self, "network-policy", name=self.name, namespace=self.namespace, labels=self.labels,
                              selector=self.selector, peers=self.peers())

    # -- the capability contract ----------------------------------------------------------------------

    def _secrets_need(self, feature: str, value: object) -> Need:
        namespace = self.namespace_name
        return Need(
            feature, value, Capability.SECRET_STORE, SECRET_STORE,
            what=f"the ClusterSecretStore {SECRET_STORE!r}, serving namespace {namespace or self.namespace!r}",
            accepts=lambda offer: offer.name == SECRET_STORE and (
                namespace is None or namespace in offer.scope.get("namespaces", (namespace,))),
            fix="create that store in the platform, or list the namespace in its conditions")

    def _prometheus_need(self, *, scraped_from: tuple[str, Mapping[str, str]] | None) -> Need:
        """A Prometheus that selects the workload's monitors and rules; with ``scraped_from`` (a namespace and
        pod labels its NetworkPolicy admits), one that runs there."""
        labels = dict(self.scrape_labels)

        def accepts(offer: Offer) -> bool:
            selected = all(labels.get(k) == v for k, v in offer.scope.get("labels", {}).items())
            return selected and (scraped_from is None or _runs_in(offer, *scraped_from))

        what = "a Prometheus that selects its " + " and ".join(self._monitor_kinds())
        if scraped_from is not None:
            what += f", running in namespace {scraped_from[0]!r} (its NetworkPolicy admits Prometheus from there)"
        return Need("scrape_labels", labels, Capability.PROMETHEUS, what=what, accepts=accepts,
                    fix="carry the labels the environment's Prometheus selects (constructs_lib.SCRAPE_LABELS is the "
                        "default)" + ("; and run the platform's PrometheusStack in that namespace"
                                      if scraped_from else ""))

    def _monitor_kinds(self) -> list[str]:
        return ["PrometheusRule"]

    def _node_group_need(self) -> Need:
        assert self.node_group_path is not None
        return Need("node_group", self.node_group_path, Capability.NODE_GROUP, self.node_group_path,
                    what="that node group in this environment's cluster",
                    fix="use a node group of this environment's cluster (stacks' node_groups)")

    def offers(self) -> list[Offer]:
        """Itself, as a workload ``allow_from`` can name (``<namespace>/<name>``)."""
        return [Offer(Capability.WORKLOAD, f"{self.namespace_name or self.namespace}/{self.name}", self.node.path)]

    def _allow_from_needs(self) -> list[Need]:
        """Each workload ``allow_from`` names by id exists in this workload's namespace and environment."""
        namespace = self.namespace_name
        return [Need("allow_from", name, Capability.WORKLOAD, f"{namespace}/{name}",
                     what=f"a workload {name!r} in namespace {namespace!r} to admit",
                     fix="name a Microservice or ScheduledJob of this environment by its id (`pipenv run service "
                         "list` shows them)")
                for name in self.allow_from if isinstance(name, str)]

    def _network_policy_need(self) -> Need:
        return Need("network_policy", True, Capability.NETWORK_POLICY,
                    what="a CNI that enforces NetworkPolicy (the VPC CNI's network policy agent), or its policy is "
                         "silently ignored",
                    accepts=lambda offer: True,
                    fix="enable it on the environment's cluster (EksCluster(network_policy=True), the default)")


def _runs_in(offer: Offer, namespace: str, pod_labels: Mapping[str, str]) -> bool:
    """Whether the offering component's pods are those a policy admitting ``namespace``/``pod_labels`` admits."""
    offered = offer.scope.get("pod_labels", {})
    return offer.scope.get("namespace") == namespace and all(offered.get(k) == v for k, v in pod_labels.items())
