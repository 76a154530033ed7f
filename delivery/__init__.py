"""Delivery tooling: the offline review of a change, the Atlantis config, the stacks CI applies, and the
check a pull request's synthesized stacks pass before they are planned with credentials.

``pipenv run review --base <ref>`` compares what the base revision and the
working tree synthesize; ``pipenv run atlantis`` writes ``atlantis.yaml``;
``python -m delivery.plan_guard`` decides what a pull-request plan may run.
The GitHub Actions workflows in ``.github/workflows/`` call only these, the
cdktf CLI and Terraform.
"""
