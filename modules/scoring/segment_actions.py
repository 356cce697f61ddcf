"""``scoring.segment``: segment one account with the tenant's active rules, in process.

Blueprints and other modules call it through :func:`almacen.run_action`; it stores the
assignment (with history) and emits ``scoring.segment_changed`` when the segment changes, in
the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from almacen import Action
from almacen.gateway.db import UnscopedQueryError

from . import segments
from .segment_schemas import AccountInputSchema, AssignedSchema

__all__ = ["ACTIONS", "segment"]


def segment(
    session: Session, tenant_id: str, data: Mapping[str, Any] | segments.AccountInput
) -> segments.Assigned:
    """``scoring.segment``: the account's segment and treatments, stored with history."""
    if session.info.get("tenant_id") != tenant_id:
        # the rules and assignments are read through the session: it must be the tenant's
        raise UnscopedQueryError(f"scoring.segment for tenant {tenant_id} needs its session")
    account = data if isinstance(data, segments.AccountInput) else segments.AccountInput(**data)
    _, (outcome,) = segments.assign(session, [account])
    return outcome


ACTIONS = [
    Action(
        name="scoring.segment",
        input_schema=AccountInputSchema,
        output_schema=AssignedSchema,
        handler=segment,
        description=(
            "Segment an account with the tenant's active rules (score, features, bucket, "
            "balance; missing values read from the ledger and scoring when subscribed)."
        ),
    )
]
