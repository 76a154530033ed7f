"""AWS facts from botocore's service models, not from lists of our own."""

from __future__ import annotations

import difflib
import functools

import botocore
import botocore.loaders


@functools.cache
def ec2_instance_types() -> frozenset[str]:
    """Every EC2 instance type the pinned botocore's EC2 model knows (``InstanceType`` enum)."""
    model = botocore.loaders.Loader().load_service_model("ec2", "service-2")
    return frozenset(model["shapes"]["InstanceType"]["enum"])


def unknown_instance_type_fix(instance_type: str) -> str:
    """How to fix an instance type EC2 does not have: the closest real one, and where the list comes from."""
    close = difflib.get_close_matches(instance_type, sorted(ec2_instance_types()), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return (f"{hint}not an EC2 instance type (botocore {botocore.__version__}'s EC2 model; a type newer than "
            "that needs a botocore upgrade in Pipfile)")
