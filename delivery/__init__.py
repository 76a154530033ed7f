"""Delivery tooling: the offline review of a change, the Atlantis config, the stacks CI applies.

``pipenv run review --base <ref>`` compares what the base revision and the
working tree synthesize; ``pipenv run atlantis`` writes ``atlantis.yaml``.
The GitHub Actions workflows in ``.github/workflows/`` call only these and the
cdktf CLI.
"""
