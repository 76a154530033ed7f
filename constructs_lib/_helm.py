"""Helm releases: values rendered from typed Python, charts pinned."""

from __future__ import annotations

import json
import re
from typing import Any

#: An exact chart version: ranges, ``latest`` or an empty version would change what a re-apply installs.
CHART_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
CHART_VERSION_FIX = "pin an exact chart version such as '82.6.0' (no ranges, no 'latest')"


def helm_values(values: dict[str, Any]) -> str:
    """Values as a Helm values document: JSON (a subset of YAML), keys sorted, so output is stable.

    Token strings (e.g. a role ARN) stay inside the text and become Terraform interpolations.
    """
    return json.dumps(values, indent=2, sort_keys=True)
