"""The pod every workload runs, built once as data and rendered into any workload's struct types.

A service's Deployment, a worker's, a scheduled job's CronJob and a migration's
Job all run the same pod: non-root with a fixed uid, read-only root filesystem
with a writable ``/tmp``, no privilege escalation, every capability dropped,
the RuntimeDefault seccomp profile, its own service account without an
automounted token, secrets read from the Kubernetes Secret the workload's
ExternalSecret writes, the node group's tolerations and selector, the JVM heap
sized from the memory limit, and a checksum of its configuration that rolls
the pods when it changes. ``PodTemplate`` says that once.

The provider's structs are generated per resource type
(``DeploymentV1SpecTemplateSpecContainer``, ``CronJobV1SpecJobTemplateSpecTemplateSpecContainer``,
``JobV1SpecTemplateSpecContainer``...), with the same fields. So the template is
written as data keyed by Terraform argument names and ``to_struct`` turns it into
the structs of whichever resource holds it, reading the field types from the
generated classes: a list element is always a struct, never a plain dict, which
cdktf could write without its multi-word keys.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .node_group import Taint

__all__ = ["CHECKSUM_ANNOTATION", "CONFIG_DIR", "RUN_AS", "PodTemplate", "config_checksum", "jvm_tool_options",
           "to_struct"]

#: Where a workload's ``config_files`` are mounted, read-only: ``/etc/config/<file name>``.
CONFIG_DIR = "/etc/config"
#: The pod template annotation that changes whenever the workload's configuration does.
CHECKSUM_ANNOTATION = "platform.acme-shop.io/config-checksum"
#: The uid and gid every container runs as (not root, not a uid any image's ``/etc/passwd`` gives a shell).
RUN_AS = "10001"
#: The writable ``/tmp`` of a read-only root filesystem.
TMP_SIZE = "256Mi"
_CONFIG_VOLUME = "config"

_T = TypeVar("_T")


def jvm_tool_options(heap_percent: int) -> str:
    """``JAVA_TOOL_OPTIONS`` of a JVM workload: the heap is a share of the container's memory limit."""
    return (f"-XX:MaxRAMPercentage={heap_percent} -XX:InitialRAMPercentage={heap_percent} "
            "-XX:+ExitOnOutOfMemoryError")


def config_checksum(config: Mapping[str, object]) -> str:
    """A short digest of a workload's configuration (sorted keys: the same input, the same digest)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True, kw_only=True)
class PodTemplate:
    """What every workload's pod gets; the workload adds its own parts (ports, probes, restart policy).

    :param name: the container's and the service account's name (the workload's).
    :param labels: the pod's labels.
    :param env: plain environment variables (tokens allowed), written sorted by name.
    :param secret_env: variables read from ``secret_name`` (the key is the variable's name).
    :param secret_name: the Kubernetes Secret the workload's ExternalSecret writes.
    :param checksum: the configuration checksum (``config_checksum``), an annotation of the pod.
    :param tolerations: the node group's taints, tolerated.
    :param node_selector: the node group's labels, selected.
    :param config_map: the ConfigMap mounted read-only at ``CONFIG_DIR`` (a name, or its name attribute,
        which orders the workload after it).
    """

    name: str
    image: str
    labels: Mapping[str, str]
    cpu: str
    memory: str
    checksum: str
    env: Mapping[str, str] = field(default_factory=dict)
    secret_env: Sequence[str] = ()
    secret_name: str | None = None
    tolerations: Sequence[Taint] = ()
    node_selector: Mapping[str, str] = field(default_factory=dict)
    config_map: str | None = None

    def container(self, **more: Any) -> dict[str, Any]:
        """The workload's container; ``more`` adds arguments (ports, probes, command, lifecycle)."""
        env: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in sorted(self.env.items())]
        env += [{"name": var, "value_from": {"secret_key_ref": {"name": self.secret_name, "key": var}}}
                for var in sorted(self.secret_env)]
        mounts: list[dict[str, Any]] = [{"name": "tmp", "mount_path": "/tmp"}]
        if self.config_map is not None:
            mounts.append({"name": _CONFIG_VOLUME, "mount_path": CONFIG_DIR, "read_only": True})
        return {
            "name": self.name,
            "image": self.image,
            "image_pull_policy": "IfNotPresent",
            "env": env or None,
            # No CPU limit: throttling hurts latency more than a busy neighbour; the memory limit is the request.
            "resources": {"requests": {"cpu": self.cpu, "memory": self.memory}, "limits": {"memory": self.memory}},
            "security_context": {"allow_privilege_escalation": False, "read_only_root_filesystem": True,
                                 "run_as_non_root": True, "privileged": False, "capabilities": {"drop": ["ALL"]}},
            "volume_mount": mounts,
            **more,
        }

    def spec(self, container: Mapping[str, Any], **more: Any) -> dict[str, Any]:
        """The pod spec around ``container``; ``more`` adds arguments (restart policy, spread, grace period)."""
        volumes: list[dict[str, Any]] = [{"name": "tmp", "empty_dir": {"size_limit": TMP_SIZE}}]
        if self.config_map is not None:
            volumes.append({"name": _CONFIG_VOLUME, "config_map": {"name": self.config_map}})
        return {
            "service_account_name": self.name,
            "automount_service_account_token": False,
            "security_context": {"run_as_non_root": True, "run_as_user": RUN_AS, "run_as_group": RUN_AS,
                                 "fs_group": RUN_AS, "seccomp_profile": {"type": "RuntimeDefault"}},
            "container": [container],
            "volume": volumes,
            "toleration": [{"key": t.key, "operator": "Equal" if t.value is not None else "Exists",
                            "value": t.value, "effect": t.effect.kubernetes} for t in self.tolerations] or None,
            "node_selector": dict(self.node_selector) or None,
            **more,
        }

    def template(self, container: Mapping[str, Any], **more: Any) -> dict[str, Any]:
        """``{"metadata": ..., "spec": ...}``: a pod template, as a Deployment, Job or CronJob holds it."""
        return {"metadata": {"labels": dict(self.labels), "annotations": {CHECKSUM_ANNOTATION: self.checksum}},
                "spec": self.spec(container, **more)}


# -- data -> the provider's generated structs --------------------------------------------------------------

_HINTS: dict[type, tuple[dict[str, Any], frozenset[str]]] = {}


def _fields(cls: type) -> tuple[dict[str, Any], frozenset[str]]:
    if cls not in _HINTS:
        init: Any = vars(cls)["__init__"]  # the generated struct's own, keyword-only
        _HINTS[cls] = (typing.get_type_hints(init), frozenset(inspect.signature(init).parameters) - {"self"})
    return _HINTS[cls]


def _struct_in(hint: Any) -> type | None:
    """The generated struct class a field's type hint admits (``Union[Struct, Dict]``, ``Sequence[...]``)."""
    if isinstance(hint, type) and hasattr(hint, "__jsii_struct_bases__"):
        return hint
    for arg in typing.get_args(hint):
        found = _struct_in(arg)
        if found is not None:
            return found
    return None


def to_struct(cls: type[_T], data: Mapping[str, Any]) -> _T:
    """``data`` (Terraform argument names, nested) as an instance of the generated struct ``cls``.

    ``None`` leaves an argument out; a mapping or a list of mappings under a block becomes its struct(s);
    maps of strings (labels, requests) stay maps. An argument the struct does not have is a ``KeyError``:
    a typo here must fail, not vanish from the output.
    """
    hints, params = _fields(cls)
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue
        arg = key if key in params else f"{key}_"  # ``from`` is ``from_`` in Python
        if arg not in params:
            raise KeyError(f"{cls.__name__} has no argument {key!r}")
        struct = _struct_in(hints[arg])
        if struct is not None and isinstance(value, Mapping):
            value = to_struct(struct, value)
        elif struct is not None and isinstance(value, list | tuple):
            value = [to_struct(struct, item) if isinstance(item, Mapping) else item for item in value]
        kwargs[arg] = value
    return cls(**kwargs)
