"""The state bootstrap stack: the bucket and lock table every other stack of the environment uses."""

from __future__ import annotations

from cdktf import LocalBackend, TerraformOutput
from constructs import Construct

from constructs_lib.state_store import TerraformStateStore
from environments import Environment

from .base import EnvironmentStack


class StateStack(EnvironmentStack):
    """``<env>-state``: applied once per account, by hand, before anything else.

    It cannot keep its own state in the bucket it creates, so it uses a local
    backend whose path is relative to the stack's directory under
    ``cdktf.out/stacks/`` and lands at the repository root (git-ignored); the
    README shows how to move it into the bucket afterwards.
    """

    layer = "state"

    def __init__(self, scope: Construct, env: Environment) -> None:
        super().__init__(scope, env)
        LocalBackend(self, path=f"../../../terraform.{self.node.id}.tfstate")
        self.store = TerraformStateStore(self, "terraform-state", bucket_name=env.state.bucket,
                                         lock_table_name=env.state.lock_table)
        TerraformOutput(self, "bucket", value=self.store.bucket.bucket)
        TerraformOutput(self, "lock-table", value=self.store.lock_table.name)
