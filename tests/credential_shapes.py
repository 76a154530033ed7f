"""A catalogue of credential shapes, and of ordinary values that look a little like them.

Each credential is assembled from pieces at import time, so that no credential-shaped
literal sits in the repository for a secret scanner (or a reader) to trip on; all
are made up. ``secret`` is the part that must never be printed.
"""

from __future__ import annotations

import base64
import random
import string
from dataclasses import dataclass

_RANDOM = random.Random(20261127)  # fixed: the catalogue is the same on every run


def _chars(alphabet: str, count: int) -> str:
    return "".join(_RANDOM.choice(alphabet) for _ in range(count))


_ALNUM = string.ascii_letters + string.digits
_HEX = "0123456789abcdef"


@dataclass(frozen=True)
class Credential:
    kind: str
    value: str
    secret: str  # the part that must not appear anywhere in the output


def _whole(kind: str, value: str) -> Credential:
    return Credential(kind, value, value)


_PASSWORD = "Tr0ub4dor" + "-and-3"
_SLACK = "/".join(("https://hooks.slack.com/services", "T" + _chars(string.ascii_uppercase + string.digits, 8),
                   "B" + _chars(string.ascii_uppercase + string.digits, 10), _chars(_ALNUM, 24)))
_TEAMS_ID = f"{_chars(_HEX, 8)}-{_chars(_HEX, 4)}-{_chars(_HEX, 4)}-{_chars(_HEX, 4)}-{_chars(_HEX, 12)}"
_TEAMS = (f"https://contoso.webhook.office.com/webhookb2/{_TEAMS_ID}@{_TEAMS_ID}/IncomingWebhook/"
          f"{_chars(_HEX, 32)}/{_TEAMS_ID}")
_TEAMS_WORKFLOW = (f"https://prod-12.westeurope.logic.azure.com:443/workflows/{_chars(_HEX, 32)}/triggers/manual/"
                   f"paths/invoke?api-version=2016-06-01&sig={_chars(_ALNUM, 43)}")
_DISCORD = f"https://discord.com/api/webhooks/{_chars(string.digits, 18)}/{_chars(_ALNUM + '-_', 68)}"
_PAGERDUTY_KEY = _chars(_HEX, 32)
_JWT = ".".join(base64.urlsafe_b64encode(part.encode()).decode().rstrip("=") for part in (
    '{"alg":"HS256","typ":"JWT"}', '{"sub":"1234567890","name":"ci","iat":1516239022}', _chars(_ALNUM, 32)))
_PEM_BODY = _chars(_ALNUM + "+/", 64)

CREDENTIALS: tuple[Credential, ...] = (
    Credential("URL with a user and password", f"postgres://app:{_PASSWORD}@db.internal:5432/shop", _PASSWORD),
    Credential("URL with a password only", f"redis://:{_PASSWORD}x@cache.internal:6379/0", f"{_PASSWORD}x"),
    _whole("Slack webhook", _SLACK),
    _whole("Slack bot token", "xox" + "b-" + _chars(string.digits, 12) + "-" + _chars(string.digits, 13) + "-"
           + _chars(_ALNUM, 24)),
    _whole("Microsoft Teams webhook", _TEAMS),
    _whole("Microsoft Teams workflow URL", _TEAMS_WORKFLOW),
    _whole("Discord webhook", _DISCORD),
    _whole("PagerDuty integration URL", f"https://events.pagerduty.com/integration/{_PAGERDUTY_KEY}/enqueue"),
    _whole("PagerDuty routing key", _chars(_HEX, 32)),
    _whole("AWS access key id", "AK" + "IA" + _chars(string.ascii_uppercase + "234567", 16)),
    _whole("AWS secret access key", _chars(_ALNUM + "+/", 40)),
    Credential("PEM RSA private key", f"-----BEGIN RSA PRIVATE KEY-----\n{_PEM_BODY}\n-----END RSA PRIVATE KEY-----",
               _PEM_BODY),
    Credential("PEM OpenSSH private key", f"-----BEGIN OPENSSH PRIVATE KEY-----\n{_PEM_BODY}x\n"
                                          "-----END OPENSSH PRIVATE KEY-----", f"{_PEM_BODY}x"),
    _whole("GitHub personal access token", "gh" + "p_" + _chars(_ALNUM, 36)),
    _whole("GitHub fine-grained token", "github" + "_pat_" + _chars(_ALNUM, 22) + "_" + _chars(_ALNUM, 59)),
    _whole("GitHub app token", "gh" + "s_" + _chars(_ALNUM, 36)),
    _whole("GitLab personal access token", "gl" + "pat-" + _chars(_ALNUM + "-_", 20)),
    _whole("Stripe secret key", "sk" + "_live_" + _chars(_ALNUM, 24)),
    _whole("Stripe restricted key", "rk" + "_live_" + _chars(_ALNUM, 24)),
    _whole("Stripe webhook secret", "wh" + "sec_" + _chars(_ALNUM, 32)),
    _whole("SendGrid API key", "S" + "G." + _chars(_ALNUM + "-_", 22) + "." + _chars(_ALNUM + "-_", 43)),
    _whole("JSON Web Token", _JWT),
    _whole("Google API key", "AI" + "za" + _chars(_ALNUM + "-_", 35)),
    _whole("npm token", "np" + "m_" + _chars(_ALNUM, 36)),
    _whole("Datadog API key", _chars(_HEX, 32)),
    _whole("random token (base62)", _chars(_ALNUM, 40)),
    _whole("random token (base64)", base64.b64encode(bytes(_RANDOM.randrange(256) for _ in range(30))).decode()),
    Credential("password in a connection string", f"Server=db;User Id=app;Password={_PASSWORD}y;", f"{_PASSWORD}y"),
    Credential("bearer token", "Bearer " + (token := _chars(_ALNUM, 32)), token),
    Credential("AWS credentials file line", "aws_secret_access_key = " + (aws_secret := _chars(_ALNUM + "+/", 40)),
               aws_secret),
    _whole("Twilio API key", "S" + "K" + _chars(_HEX, 32)),
    _whole("Mailchimp API key", _chars(_HEX, 32) + "-us21"),
    Credential("Azure storage connection string",
               "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey="
               + (azure_key := base64.b64encode(bytes(_RANDOM.randrange(256) for _ in range(64))).decode())
               + ";EndpointSuffix=core.windows.net", azure_key),
)

#: Values a reviewer must see: ids, ARNs, images, names, hosts, versions and digests, identifiers.
ORDINARY: tuple[str, ...] = (
    "arn:aws:iam::345678901234:role/platform-admin",
    "arn:aws:secretsmanager:eu-west-1:345678901234:secret:production/*",
    "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    "vpc-0f9e8d7c6b5a40312",
    "subnet-0c33beef00000a001",
    "sg-0123456789abcdef0",
    "345678901234",
    "6f1c2b3a-4d5e-6f70-8192-a3b4c5d6e7f8",
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout:1.4.2",
    "ghcr.io/acme/report-worker@sha256:" + "4c1e0d2b9a8f7e6d5c4b3a291807f6e5d4c3b2a1908f7e6d5c4b3a2918070f6e",
    "registry.k8s.io/ingress-nginx/controller:v1.11.2",
    "acme-shop-tfstate-production-345678901234",
    "shop.acme-shop.example",
    "sessions.abc123.ng.0001.euw1.cache.amazonaws.com",
    "https://prometheus-community.github.io/helm-charts",
    "https://events.pagerduty.com/v2/enqueue",
    "3f1c2a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39",  # a git commit used as a version
    "4c1e0d2b9a8f7e6d5c4b3a291807f6e5d4c3b2a1908f7e6d5c4b3a2918070f6e",  # a sha256 digest
    "3ce53b5da8379129",
    "AL2023_x86_64_STANDARD",
    "AmazonEC2ContainerRegistryReadOnly",
    "DatabaseMemoryUsagePercentage",
    "eks_cluster_55B0C966",
    "-XX:MaxRAMPercentage=75 -XX:InitialRAMPercentage=75 -XX:+ExitOnOutOfMemoryError",
    'sum(rate(http_server_requests_seconds_count{status=~"5.."}[5m]))',
    "production/redis/sessions",
    "cache.r7g.large",
    "m7i.xlarge",
)
