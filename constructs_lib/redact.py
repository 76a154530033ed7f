"""What must never be printed: credentials, recognised by name and by shape.

One rule for every place that shows a value to a person: error messages
(``validation.Problem``), the review (Markdown and JSON) and anything CI posts.
A value is masked when the name it sits under says it is secret (``DB_PASSWORD``,
``auth_token``, the ``value`` of a ``{"name": "SLACK_WEBHOOK_URL", "value": ...}``
pair), or when the value itself looks like a credential (a known token format, a
URL with a password, a webhook URL of a chat or paging service, a long random
string), wherever it appears: inside lists and mappings, and inside strings that
hold a JSON document.

``redact`` masks whole values (what a structured output shows); ``redact_text``
masks the credential-shaped parts of free text (an error message, a log line, a
rendered comment), leaving the words around them readable.

The shapes are the documented formats of each issuer (prefixes, lengths); a test
catalogue (``tests/test_redact.py``) holds one example of each, together with
ordinary values (ARNs, ids, image names, hosts, digests) that must stay visible.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

__all__ = ["CREDENTIAL_SHAPES", "MASK", "entry_name", "looks_like_credential", "redact", "redact_text",
           "secret_under", "sensitive_name"]

#: What a masked value is shown as.
MASK = "(sensitive)"

#: Names (an env var, an argument, a key inside a document) that say their value is secret.
_SENSITIVE_NAME = re.compile(
    r"(passw(or)?d|passphrase|secret|token|credential|private[_-]?key|api[_-]?key|access[_-]?key|"
    r"routing[_-]?key|webhook|(^|[_-])auth([_-]|$)|authorization|dsn|signing[_-]?key|client[_-]?key|"
    r"session[_-]?key|connection[_-]?string|(^|[_-])pwd$|(^|[_-])salt$|cookie)", re.I)
#: Names that contain a sensitive word but name a reference, not a value.
_REFERENCE_NAME = re.compile(r"(_(name|names|arn|file|path|id|ref|prefix|secret_ref|url_secret|key_secret)$|"
                             r"^(secret_name|secret_names|existing_secret|secrets|http_tokens)$|"
                             r"_(revision|version|strategy|enabled|length|ttl|type|mode)$)", re.I)
#: ``existingSecret``, ``secretKeyRef``, ``passwordFile``, ``passwordKey`` (the key of a Secret that holds
#: the password): camelCase references (Helm values, manifests). ``apiKey``, ``secretKey`` hold values.
_CAMEL_REFERENCE = re.compile(r"^(existing|use|create|enable|disable)[A-Z]|"
                              r"(Ref|Name|Names|Arn|File|Path|Id|Keys|Enabled|Store|Selector)$|"
                              r"^(admin|user)?([Pp]assword|[Pp]asswd|[Tt]oken|[Uu]ser|[Uu]sername)Key$")
#: Sensitive words that, as the whole key of a mapping, name a component (``webhook:`` of a Helm chart,
#: ``auth:`` settings) rather than a secret: such a mapping is searched, not masked whole.
_COMPONENT_NAME = re.compile(r"^(webhooks?|auth|oauth2?|authentication|authorization|session|cookie|tokens?)$",
                             re.I)

_QUOTE = "\"'`\\\\"
_NOT_URL_END = rf"[^\s{_QUOTE}<>)\]]"

#: Credential shapes, wherever they appear in a string: (what it is, pattern).
CREDENTIAL_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((kind, re.compile(pattern)) for kind, pattern in (
    ("URL with a password", rf"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@{_QUOTE}]*:[^/\s@{_QUOTE}]+@"),
    ("Slack webhook", rf"hooks\.slack\.com/(services|workflows|triggers)/{_NOT_URL_END}+"),
    ("Slack token", r"\bxox[abposre]-[0-9A-Za-z-]{10,}|\bxapp-\d-[0-9A-Za-z-]{10,}"),
    ("Microsoft Teams webhook", rf"\.webhook\.office\.com/{_NOT_URL_END}+|outlook\.office(365)?\.com/webhook/"
                                rf"{_NOT_URL_END}+|\.logic\.azure\.com(:443)?/workflows/{_NOT_URL_END}+"),
    ("Discord webhook", rf"discord(app)?\.com/api/webhooks/{_NOT_URL_END}+"),
    ("PagerDuty integration URL", rf"events\.(eu\.)?pagerduty\.com/(integration|x-ere)/{_NOT_URL_END}+"),
    ("AWS access key id", r"\b(AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    ("AWS secret access key", r"(?i)aws.{0,20}secret.{0,20}[=:]\s*[\"']?[A-Za-z0-9/+=]{40}\b"),
    # The whole block, up to its END line (or a quote: the end of a string in JSON text).
    ("PEM private key", r"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----[^\"']*?"
                        r"(-----END ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----|(?=[\"'])|$)"),
    ("GitHub token", r"\b(gh[pousr]_[0-9A-Za-z]{36,255}|github_pat_[0-9A-Za-z_]{22,255})\b"),
    ("GitLab token", r"\bgl(pat|dt|rt|ptt|ft|cbt|oas|soat|imt|agent)-[0-9A-Za-z_-]{20,}"),
    ("Stripe key", r"\b(sk|rk)_(live|test)_[0-9A-Za-z]{16,}|\bwhsec_[0-9A-Za-z]{24,}"),
    ("SendGrid key", r"\bSG\.[0-9A-Za-z_-]{16,}\.[0-9A-Za-z_-]{16,}"),
    ("JSON Web Token", r"\beyJ[0-9A-Za-z_-]{8,}\.eyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]{8,}"),
    ("Google API key", r"\bAIza[0-9A-Za-z_-]{35}\b"),
    ("npm token", r"\bnpm_[0-9A-Za-z]{36}\b"),
    ("Twilio API key", r"\bSK[0-9a-f]{32}\b"),
    ("Mailchimp API key", r"\b[0-9a-f]{32}-us\d{1,2}\b"),
    ("Azure storage key", r"AccountKey=[A-Za-z0-9+/=]{40,}"),
    ("HTTP credentials", r"\b(Basic|Bearer)\s+[A-Za-z0-9._~+/-]{16,}=*"),
))

#: ``password=hunter2``, ``"api_key": "…"``, ``Password=…;`` in a connection string: the value after the name.
_KEY_VALUE = re.compile(
    r"(?i)(?<![A-Za-z0-9:/._-])(passw(or)?d|pwd|passphrase|secret|client_secret|secret_key|token|access_token|"
    r"api[_-]?key|access[_-]?key|auth[_-]?token|private[_-]?key)([\"']?\s*[=:]\s*[\"']?)"
    r"(?!\$\{|\(sensitive\)|(None|null|true|false|True|False)\b)([^\s&\"',;)}\]]{4,})")

_HEX = re.compile(r"^[0-9a-f]+$|^[0-9A-F]+$")
#: A run of key characters in free text, and the hash suffix of a cdktf logical id (``eks_admin-0_CED4B653``),
#: which is random-looking but names a resource.
_WORD = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/=_-]{20,}(?![A-Za-z0-9+/=_-])")
_LOGICAL_ID = re.compile(r"_[0-9A-F]{8}$")
#: Lengths of digests used as versions (git SHA-1, SHA-256): a bare hex string of these lengths stays visible.
_DIGEST_LENGTHS = frozenset({40, 64})
_TOKEN_CHARS = re.compile(r"^[A-Za-z0-9+/=_-]{20,}$")
_LOWER_RUN = re.compile(r"[a-z]{7,}")


def _entropy_ratio(text: str) -> float:
    """Shannon entropy of ``text`` over the most it could have at its length (1.0: every character differs)."""
    counts = Counter(text)
    entropy = -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())
    return entropy / math.log2(min(len(text), 64))


def _class_switch_rate(text: str) -> float:
    """How often consecutive characters change class (lower, upper, digit, other): high for random text,
    low for identifiers made of words (``AmazonEC2ContainerRegistryReadOnly``)."""
    def kind(c: str) -> str:
        return "l" if c.islower() else "u" if c.isupper() else "d" if c.isdigit() else "o"

    kinds = [kind(c) for c in text]
    return sum(a != b for a, b in itertools.pairwise(kinds)) / (len(text) - 1)


def _random_looking(value: str) -> bool:
    """A generated key or token with no known prefix: 20+ key characters mixing lower, upper and digits,
    changing class often, with no run of seven lowercase letters (a word), and near-maximal entropy."""
    if not _TOKEN_CHARS.match(value) or _LOWER_RUN.search(value):
        return False
    if not (re.search(r"[a-z]", value) and re.search(r"[A-Z]", value) and re.search(r"\d", value)):
        return False
    return _class_switch_rate(value) >= 0.4 and _entropy_ratio(value) >= 0.8


def looks_like_credential(value: object) -> bool:
    """True for a string shaped like a credential: a known token or key format, a URL with a password, a
    chat or paging webhook, ``password=…`` inside it, a 32-character hex key (PagerDuty, Datadog), or a
    long random-looking string. A bare 40- or 64-character hex string is taken for a digest (a version)."""
    if not isinstance(value, str) or len(value) < 8:
        return False
    if any(shape.search(value) for _, shape in CREDENTIAL_SHAPES) or _KEY_VALUE.search(value):
        return True
    if len(value) >= 32 and _HEX.match(value):
        return len(value) not in _DIGEST_LENGTHS
    return _random_looking(value)


def _last_name(name: str) -> str:
    """``env['DB_PASSWORD']`` -> ``DB_PASSWORD``; ``spec.values > auth.token`` -> ``token``."""
    parts = [p for p in re.split(r"[.\[\]> ]+", name.replace("'", "").replace('"', "")) if p]
    return parts[-1] if parts else name


def sensitive_name(name: str | None) -> bool:
    """True when a name (its last part: ``env.DB_PASSWORD`` -> ``DB_PASSWORD``) says its value is secret,
    and it does not name a reference to a secret (``secret_name``, ``passwordSecretRef``)."""
    if not name:
        return False
    last = _last_name(name)
    if not _SENSITIVE_NAME.search(last):
        return False
    return not (_REFERENCE_NAME.search(last) or _CAMEL_REFERENCE.search(last))


def entry_name(mapping: Mapping[str, Any]) -> str | None:
    """The name a ``{"name": "DB_PASSWORD", "value": "…"}`` entry gives its ``value`` (env vars, Helm
    ``set`` blocks, parameter lists), or None when the mapping is not such an entry."""
    name = mapping.get("name")
    return name if isinstance(name, str) and "value" in mapping else None


def _document(value: str) -> Any:
    """The JSON document a string holds (Helm values, a policy, a secret's JSON), or None."""
    if value[:1] not in "{[":
        return None
    try:
        inner = json.loads(value)
    except ValueError:
        return None
    return inner if isinstance(inner, dict | list) else None


def secret_under(name: str | None, value: Any) -> bool:
    """True when ``value``, found under ``name``, is to be masked whole because of that name: a sensitive
    name, unless the value is empty or a flag, or a mapping under a name that labels a component
    (``webhook: {replicaCount: 2}``), which is searched instead."""
    if not sensitive_name(name) or value in (None, "", [], {}) or isinstance(value, bool):
        return False
    return not (isinstance(value, Mapping) and _COMPONENT_NAME.match(_last_name(name or "")))


def redact(value: Any, *, name: str | None = None) -> Any:
    """``value`` with every secret in it replaced by ``MASK``: all of it under a sensitive ``name``, and
    inside dicts, lists and JSON documents held in strings, every value under a sensitive key and every
    credential-shaped string."""
    if secret_under(name, value):
        return MASK
    if isinstance(value, Mapping):
        pair = entry_name(value)
        return {k: redact(v, name=pair if k == "value" and pair else str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(v) for v in value)
    if isinstance(value, str):
        document = _document(value)
        if document is not None:
            return json.dumps(redact(document))
    return MASK if looks_like_credential(value) else value


def _secret_word(word: str) -> bool:
    if len(word) >= 32 and _HEX.match(word):
        return len(word) not in _DIGEST_LENGTHS
    return _random_looking(word) and not _LOGICAL_ID.search(word)


def redact_text(text: str) -> str:
    """``text`` with every credential-shaped part replaced by ``MASK`` (the value only, after
    ``password=``), for free text: error messages, logs, a rendered review."""
    for _, shape in CREDENTIAL_SHAPES:
        text = shape.sub(MASK, text)
    text = _KEY_VALUE.sub(lambda m: f"{m.group(1)}{m.group(3)}{MASK}", text)
    return _WORD.sub(lambda m: MASK if _secret_word(m.group(0)) else m.group(0), text)
