"""A person's work on the handover queue: take an item, then resolve it.

``waiting`` → ``taken`` (by one agent; taking it again is a no-op for the same agent and a
409 for another) → ``resolved`` (with a resolution and a note). Resolving announces
``bots.handover_resolved`` so that other modules (or an integrator) can act on the result.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from almacen import emit
from almacen.gateway.db import utcnow
from almacen.gateway.errors import ConflictError, NotFoundError

from . import events
from .conversation_tables import Conversation, HandoverItem
from .turn import about

__all__ = ["RESOLUTIONS", "get_handover", "resolve", "take"]

#: How a person may close a handover.
RESOLUTIONS = (
    "promise",
    "plan",
    "payment_confirmed",
    "payment_not_found",
    "dispute_logged",
    "hardship_arranged",
    "identity_confirmed",
    "wrong_person",
    "unreachable",
    "other",
)


def get_handover(session: Session, handover_id: str) -> HandoverItem:
    """One of the tenant's queue items. :raises NotFoundError: unknown (or another's)."""
    item = session.get(HandoverItem, handover_id)
    if item is None:
        raise NotFoundError(f"no handover {handover_id!r}")
    return item


def take(session: Session, handover_id: str, *, agent: str) -> HandoverItem:
    """Assign a waiting item to ``agent``.

    :raises ConflictError: another agent has it, or it is resolved.
    """
    item = get_handover(session, handover_id)
    if item.status == "taken" and item.taken_by == agent:
        return item
    if item.status != "waiting":
        raise ConflictError(
            f"handover {item.id} is {item.status}"
            + (f" by {item.taken_by}" if item.status == "taken" else ""),
            status_now=item.status,
            taken_by=item.taken_by,
        )
    item.status, item.taken_by, item.taken_at = "taken", agent, utcnow()
    session.flush()
    return item


def resolve(
    session: Session, handover_id: str, *, resolution: str, agent: str | None, note: str | None
) -> HandoverItem:
    """Close an item (waiting or taken) with how it was resolved, and announce it.

    :raises ConflictError: it is resolved already, or another agent has it.
    """
    item = get_handover(session, handover_id)
    if item.status == "resolved":
        raise ConflictError(f"handover {item.id} is resolved already", status_now=item.status)
    if item.status == "taken" and agent is not None and agent != item.taken_by:
        raise ConflictError(
            f"handover {item.id} is taken by {item.taken_by}",
            status_now=item.status,
            taken_by=item.taken_by,
        )
    now = utcnow()
    if item.taken_by is None:
        item.taken_by, item.taken_at = agent, now if agent else None
    item.status, item.resolution, item.note, item.resolved_at = "resolved", resolution, note, now
    conversation = session.get(Conversation, item.conversation_id)
    if conversation is not None:
        emit(
            session,
            events.HANDOVER_RESOLVED,
            {
                **about(conversation),
                "handover_id": item.id,
                "reason": item.reason,
                "resolution": resolution,
                "agent": item.taken_by,
            },
            subject=("conversation", conversation.id),
        )
    session.flush()
    return item
