"""``constructs_lib.redact`` for the delivery tools, without importing the ``constructs_lib`` package.

The package imports every construct and, through them, the provider bindings: a
minute of imports without the lazy import hook (``fastsynth/lazy_providers.py``),
and a Node process, for a module that needs neither. ``redact.py`` imports only
the standard library, so it is loaded from its file; when the package is already
imported (tests, ``main.py``), its module is used, so there is one set of rules.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

__all__ = ["CREDENTIAL_SHAPES", "MASK", "entry_name", "looks_like_credential", "redact", "redact_text",
           "secret_under", "sensitive_name"]

_PATH = Path(__file__).resolve().parent.parent / "constructs_lib" / "redact.py"


def _load() -> ModuleType:
    loaded = sys.modules.get("constructs_lib.redact")
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location("_delivery_redact", _PATH)
    assert spec is not None and spec.loader is not None, _PATH
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    from constructs_lib.redact import (
        CREDENTIAL_SHAPES,
        MASK,
        entry_name,
        looks_like_credential,
        redact,
        redact_text,
        secret_under,
        sensitive_name,
    )
else:
    _module = _load()
    CREDENTIAL_SHAPES = _module.CREDENTIAL_SHAPES
    MASK = _module.MASK
    entry_name = _module.entry_name
    looks_like_credential = _module.looks_like_credential
    redact = _module.redact
    redact_text = _module.redact_text
    secret_under = _module.secret_under
    sensitive_name = _module.sensitive_name
