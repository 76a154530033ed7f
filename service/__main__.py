"""``python -m service`` (``pipenv run service``): see ``service/cli.py``."""

import os
import sys

# Before jsii starts its Node process (on the first cdktf import), as main.py does.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CHECKPOINT_DISABLE", "1")

from fastsynth import cleanup, lazy_providers

if lazy_providers.enabled():
    lazy_providers.install()
cleanup.install(message="interrupted; nothing written")
# `service new` imports the module it writes, to build it: no bytecode of it is left if it is refused.
sys.dont_write_bytecode = True

from service.cli import main  # noqa: E402 - after the import hooks

sys.exit(main())
