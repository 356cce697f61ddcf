"""``/policy``: the tenant's versioned offer policy."""

from __future__ import annotations

from typing import Any

from almacen.gateway.errors import NotFoundError
from almacen.gateway.state import request_session

from ..policy import active_policy, put_policy
from ..schemas import PolicySchema

__all__ = ["get", "put"]

_policy = PolicySchema()


def put(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Store a new version of the policy (every fault reported at once) and activate it."""
    return dict(_policy.dump(put_policy(request_session(), body))), 201


def get() -> dict[str, Any]:
    """The active policy."""
    policy = active_policy(request_session())
    if policy is None:
        raise NotFoundError("The tenant has no offer policy yet; PUT /v1/offers/policy first.")
    return dict(_policy.dump(policy))
