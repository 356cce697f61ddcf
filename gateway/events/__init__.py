"""Events: the outbox modules emit into, and the dispatcher that delivers it."""

from .dispatcher import Consumer, Dispatcher, InProcessDelivery, backoff, run_tasks
from .models import STATUSES, Event
from .outbox import (
    Causation,
    EventPayloadError,
    caused_by,
    emit,
    emit_many,
    serialise_payload,
    session_memo,
)

__all__ = [
    "STATUSES",
    "Causation",
    "Consumer",
    "Dispatcher",
    "Event",
    "EventPayloadError",
    "InProcessDelivery",
    "backoff",
    "caused_by",
    "emit",
    "emit_many",
    "run_tasks",
    "serialise_payload",
    "session_memo",
]
