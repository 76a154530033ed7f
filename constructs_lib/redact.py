"""What must never be printed: credentials, recognised by name and by shape.

One rule for every place that shows a value to a person: error messages
(``validation.Problem``), the review (Markdown and JSON) and anything CI posts.
A value is masked when the name it sits under says it is secret, or when the
value itself looks like a credential, wherever it appears.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

__all__ = ["MASK", "looks_like_credential", "redact", "sensitive_name"]

#: What a masked value is shown as.
MASK = "(sensitive)"

#: Names (an env var, an argument, a key inside a document) that say their value is secret.
_SENSITIVE_NAME = re.compile(
    r"(passw(or)?d|passphrase|secret|token|credential|private[_-]?key|api[_-]?key|access[_-]?key|"
    r"routing[_-]?key|webhook|(^|[_-])auth([_-]|$)|authorization|dsn|signing[_-]?key|client[_-]?key|"
    r"session[_-]?key)", re.I)
#: Names that contain a sensitive word but name a reference, not a value.
_REFERENCE_NAME = re.compile(r"(_(name|names|arn|file|path|id|ref|prefix|secret_ref|url_secret|key_secret)$|"
                             r"^(secret_name|secret_names|existing_secret|secrets)$)", re.I)

#: Credential shapes, wherever they appear in a string.
_CREDENTIAL_SHAPES = [re.compile(p) for p in (
    r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@",                  # URL with a user and a password
    r"(AKIA|ASIA|AIDA|AROA)[0-9A-Z]{16}",                         # AWS access key id
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----",                        # PEM private key
    r"xox[abposr]-[0-9A-Za-z-]{10,}",                             # Slack token
    r"hooks\.slack\.com/(services|workflows|triggers)/\S+",       # Slack webhook
    r"discord(app)?\.com/api/webhooks/\S+",                       # Discord webhook
    r"outlook\.office\.com/webhook/\S+|\.webhook\.office\.com/\S+",  # Teams webhook
    r"events\.pagerduty\.com/\S*[0-9a-f]{32}",                   # PagerDuty integration URL
    r"gh[pousr]_[0-9A-Za-z]{36,}|github_pat_[0-9A-Za-z_]{40,}",   # GitHub token
    r"glpat-[0-9A-Za-z_-]{20,}",                                  # GitLab token
    r"sk_(live|test)_[0-9A-Za-z]{16,}|rk_live_[0-9A-Za-z]{16,}",  # Stripe key
    r"SG\.[0-9A-Za-z_-]{16,}\.[0-9A-Za-z_-]{16,}",                # SendGrid key
    r"eyJ[0-9A-Za-z_-]{8,}\.eyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]*",  # JWT
    r"AIza[0-9A-Za-z_-]{35}",                                     # Google API key
)]
#: A long run of key characters with no word separators: how generated keys and tokens look.
_TOKEN_LIKE = re.compile(r"^[A-Za-z0-9+/=_]{24,}$")
_HEX_KEY = re.compile(r"^[0-9a-f]{32,}$")


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_like_credential(value: object) -> bool:
    """True for a string shaped like a credential: a known token format, a URL with a password,
    or a long high-entropy string of mixed character classes."""
    if not isinstance(value, str) or len(value) < 8:
        return False
    if any(shape.search(value) for shape in _CREDENTIAL_SHAPES):
        return True
    if _HEX_KEY.match(value):
        return True
    if _TOKEN_LIKE.match(value):
        classes = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"\d"))
        return classes == 3 and _entropy(value) >= 3.5
    return False


def sensitive_name(name: str | None) -> bool:
    """True when a name (its last part: ``env.DB_PASSWORD`` -> ``DB_PASSWORD``) says its value is secret."""
    if not name:
        return False
    last = re.split(r"[.\[\]> ]+", name.strip("]"))[-1] or name
    return bool(_SENSITIVE_NAME.search(last)) and not _REFERENCE_NAME.search(last)


def redact(value: Any, *, name: str | None = None) -> Any:
    """``value`` with every secret in it replaced by ``MASK``: all of it under a sensitive ``name``,
    and any credential-shaped string anywhere inside dicts and lists."""
    if sensitive_name(name) and value not in (None, "", [], {}):
        return MASK
    if isinstance(value, dict):
        return {k: redact(v, name=str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(v) for v in value)
    return MASK if looks_like_credential(value) else value
