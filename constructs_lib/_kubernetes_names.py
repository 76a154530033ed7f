"""Kubernetes naming rules, shared by every construct that writes labels, taints or names."""

from __future__ import annotations

import re

_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def is_qualified_name(key: str) -> bool:
    """A label or taint key: an optional DNS-subdomain prefix and '/', then a name of at most 63."""
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _PREFIX.match(prefix)):
        return False
    return 0 < len(name) <= 63 and bool(_NAME.match(name))


def is_label_value(value: str) -> bool:
    """A label or taint value: empty, or at most 63 alphanumerics, '-', '_' or '.' inside."""
    return value == "" or (len(value) <= 63 and bool(_NAME.match(value)))


QUALIFIED_NAME_FIX = ("use an optional DNS prefix and '/', then 1-63 letters, digits, '-', '_' or '.', "
                      "starting and ending with a letter or digit (e.g. 'workload' or 'example.com/tier')")
LABEL_VALUE_FIX = "use at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
