"""A message's status changes: each one a history row, and the event it announces."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from almacen import EventType, emit
from almacen.gateway.db import utcnow

from .. import events
from ..message_tables import Message, MessageHistory

__all__ = ["EVENT_OF", "TERMINAL", "announce", "hold", "transition"]

#: Statuses a message never leaves (a bounce may still follow a delivery receipt).
TERMINAL = frozenset({"failed", "bounced", "blocked"})
#: The event each status announces.
EVENT_OF: dict[str, EventType] = {
    "sent": events.MESSAGE_SENT,
    "delivered": events.MESSAGE_DELIVERED,
    "failed": events.MESSAGE_FAILED,
    "bounced": events.MESSAGE_FAILED,
    "blocked": events.MESSAGE_BLOCKED,
}


def transition(
    session: Session,
    message: Message,
    to: str,
    *,
    note: str | None = None,
    reasons: Sequence[str] | None = None,
) -> None:
    """Move ``message`` to ``to`` (or record a step that keeps it there), with a history row
    and, for a new status, its event."""
    now = utcnow()
    previous = message.status if message.history else None
    message.history.append(
        MessageHistory(
            seq=len(message.history) + 1,
            from_status=previous,
            to_status=to,
            note=note,
            at=now,
        )
    )
    message.status = to
    message.updated_at = now
    if reasons is not None:
        message.reasons = list(reasons)
    if to in EVENT_OF and previous != to:
        announce(session, EVENT_OF[to], message)


def announce(session: Session, event_type: EventType, message: Message) -> None:
    """Emit ``event_type`` for ``message`` in the session's transaction."""
    emit(
        session,
        event_type,
        {
            "message_id": message.id,
            "debtor_id": message.debtor_id,
            "channel": message.channel,
            "status": message.status,
            "reasons": list(message.reasons or []),
        },
        subject=("message", message.id),
    )


def hold(
    session: Session,
    message: Message,
    codes: Sequence[str],
    next_allowed_at: dt.datetime | None,
) -> None:
    """The contact policy refuses ``message`` now: drop it (``blocked``) when it asked to be
    dropped or no time will ever allow it (an opt-out), else let it wait until the next
    allowed time. Either way ``notifications.blocked`` says so."""
    if message.on_blocked == "drop" or next_allowed_at is None:
        transition(session, message, "blocked", note="contact policy", reasons=codes)
        return
    message.next_attempt_at = max(message.next_attempt_at, next_allowed_at)
    transition(
        session,
        message,
        "queued",
        note=f"waiting until {next_allowed_at.isoformat()} ({', '.join(codes)})",
        reasons=codes,
    )
    announce(session, events.MESSAGE_BLOCKED, message)
