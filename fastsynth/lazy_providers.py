"""Import only the provider submodules a program uses.

A prebuilt provider package's ``__init__.py`` loads its jsii assembly and then
imports all of its submodules (``from . import eks_cluster`` ...). This module
installs an import hook that runs that ``__init__.py`` without those imports,
adds a module ``__getattr__`` that imports a submodule on first access (PEP
562), and registers every submodule's jsii name with the jsii runtime, whose
``_try_import_type_module`` then imports a submodule on demand when Node hands
back an object of a type that Python has not loaded yet. Installed packages are
not modified.

It also memoizes ``typing.get_type_hints`` for the generated
``_typecheckingstub__*`` functions, whose annotations never change: jsii's
generated code asks for them on every property it type-checks. The type
checks themselves still run.

On the Node side: the provider's JavaScript ``lib/index.js`` requires all of
its submodules too. ``fastsynth/lazy_index.cjs`` is preloaded into jsii's Node
processes (``NODE_OPTIONS=--require``) and compiles that one file with each
submodule behind a getter that requires it on first use; files on disk are not
changed. ``CDKTF_FAST_NODE=0`` leaves Node alone.

Switch it off with ``CDKTF_FAST_IMPORTS=0`` (the stock path, e.g. for
``pipenv run bench`` or to rule the hook out when debugging).
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.machinery
import os
import re
import sys
import typing
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

__all__ = ["LAZY_INDEX_PRELOAD", "PROVIDER_PACKAGES", "enabled", "install", "installed", "jsii_submodule_name",
           "node_enabled"]

#: The prebuilt provider packages this project uses.
PROVIDER_PACKAGES = (
    "cdktf_cdktf_provider_aws",
    "cdktf_cdktf_provider_kubernetes",
    "cdktf_cdktf_provider_helm",
    "cdktf_cdktf_provider_random",
)
_SUBMODULE_IMPORT = re.compile(r"^from \. import (\w+)[ \t]*\n", re.MULTILINE)
_finder: _LazyProviderFinder | None = None


def enabled() -> bool:
    """False when ``CDKTF_FAST_IMPORTS=0`` asks for the stock import path."""
    return os.environ.get("CDKTF_FAST_IMPORTS", "1") != "0"


def node_enabled() -> bool:
    """False when ``CDKTF_FAST_NODE=0`` asks Node to load the providers' indexes eagerly."""
    return os.environ.get("CDKTF_FAST_NODE", "1") != "0"


def installed() -> bool:
    return _finder is not None


def jsii_submodule_name(python_name: str) -> str:
    """``eks_cluster`` -> ``eksCluster``: jsii-pacmak names Python submodules in snake case."""
    head, *rest = python_name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def install(packages: Sequence[str] = PROVIDER_PACKAGES) -> bool:
    """Install the hook (idempotent); returns False if a provider was already imported the stock way."""
    global _finder
    if _finder is not None:
        return True
    if any(name in sys.modules for name in packages):
        return False
    _finder = _LazyProviderFinder(frozenset(packages))
    sys.meta_path.insert(0, _finder)
    _memoize_stub_type_hints()
    if node_enabled():
        _preload_lazy_javascript_indexes()
    return True


def _memoize_stub_type_hints() -> None:
    original = typing.get_type_hints
    cache: dict[tuple[object, bool], dict[str, object]] = {}

    @functools.wraps(original)
    def get_type_hints(obj, globalns=None, localns=None, include_extras=False):
        if globalns is None and localns is None and getattr(obj, "__name__", "").startswith("_typecheckingstub__"):
            key = (obj, include_extras)
            if key not in cache:
                cache[key] = original(obj, include_extras=include_extras)
            return cache[key]
        return original(obj, globalns, localns, include_extras)

    typing.get_type_hints = get_type_hints


class _LazyPackageLoader(importlib.machinery.SourceFileLoader):
    """Runs a provider package's ``__init__.py`` without its eager submodule imports."""

    def exec_module(self, module: ModuleType) -> None:
        source = self.get_data(self.path).decode("utf-8")
        submodules = tuple(_SUBMODULE_IMPORT.findall(source))
        code = compile(_SUBMODULE_IMPORT.sub("", source), self.path, "exec", dont_inherit=True)
        exec(code, module.__dict__)
        # The package may have replaced itself in sys.modules (``publication.publish()``): the
        # module importers see is the one that must import submodules on attribute access.
        public = sys.modules[module.__name__]
        lazy = _lazy_getattr(module.__name__, frozenset(submodules))
        for target in {id(public): public, id(module): module}.values():
            target.__dict__.setdefault("__getattr__", lazy)
        _register_submodules(module.__name__, submodules)


def _lazy_getattr(package: str, submodules: frozenset[str]):
    def __getattr__(name: str) -> ModuleType:
        if name in submodules:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__


def _register_submodules(package: str, submodules: Sequence[str]) -> None:
    """Tell the jsii runtime which Python module holds each jsii submodule of ``package``."""
    from jsii import _reference_map

    assembly = sys.modules[f"{package}._jsii"].__jsii_assembly__.name
    _reference_map._submodule_fqn_map.update(
        {f"{assembly}.{jsii_submodule_name(name)}": f"{package}.{name}" for name in submodules})


class _LazyProviderFinder(importlib.abc.MetaPathFinder):
    def __init__(self, packages: frozenset[str]) -> None:
        self.packages = packages

    def find_spec(self, fullname: str, path, target=None):
        if fullname not in self.packages:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.origin is None:
            return None
        spec.loader = _LazyPackageLoader(fullname, spec.origin)
        return spec


# -- Node side -------------------------------------------------------------------------------------

#: Compiles the providers' lib/index.js lazily inside the jsii kernel's Node processes.
LAZY_INDEX_PRELOAD = Path(__file__).with_name("lazy_index.cjs")


def _preload_lazy_javascript_indexes() -> None:
    """Add the preload to NODE_OPTIONS, which jsii's Node processes inherit when they start.

    Has no effect on a kernel that is already running: install before the first cdktf import.
    """
    if not LAZY_INDEX_PRELOAD.is_file():  # a partial copy of the tooling: Node would refuse to start
        return
    option = f'--require "{LAZY_INDEX_PRELOAD}"'
    current = os.environ.get("NODE_OPTIONS", "")
    if option not in current:
        os.environ["NODE_OPTIONS"] = f"{current} {option}".strip()
