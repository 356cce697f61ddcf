"""The HTTP contracts: the gateway's OpenAPI document and the components every module shares."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

__all__ = ["COMPONENTS", "GATEWAY", "spec_file"]


def spec_file(name: str) -> Traversable:
    """The packaged OpenAPI file ``name`` (e.g. ``gateway.yaml``)."""
    return files(__name__) / name


#: Shared components (Money, Problem, pagination, security), injected into every module spec.
COMPONENTS = spec_file("components.yaml")
#: The gateway's own API: health, plugins, tenants, keys, subscriptions, the merged spec.
GATEWAY = spec_file("gateway.yaml")
