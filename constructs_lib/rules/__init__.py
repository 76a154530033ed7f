"""The platform's rules and their packs. The mechanism (``rule``, ``suppress``) is in ``guardrails``.

``BASELINE`` holds in every environment; ``PRODUCTION`` adds what production
promises. An environment lists its packs (``Environment.rules``); its stacks
apply them to every construct (``constructs_lib.Guardrails``).
"""

from .baseline import BASELINE, MAX_PUBLIC_ADDRESSES, public_addresses
from .production import PRODUCTION, PROTECTED_TYPES

__all__ = ["BASELINE", "MAX_PUBLIC_ADDRESSES", "PRODUCTION", "PROTECTED_TYPES", "public_addresses"]
