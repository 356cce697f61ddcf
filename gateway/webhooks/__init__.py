"""Tenant webhooks: signed (Standard Webhooks) deliveries of a tenant's events to its URLs.

An essential gateway plugin: it consumes every event (``almacen_handle_event``), owing it to
each matching endpoint, and adds the sender to each worker cycle (``almacen_worker_tasks``).
The tenant API is in :mod:`almacen.gateway.api.webhooks`; see ``docs/webhooks.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session

from ..db import Database
from ..events.models import Event
from ..markers import hookimpl
from ..settings import Settings
from .delivery import RETRY_SCHEDULE as RETRY_SCHEDULE
from .delivery import Sender as Sender
from .models import WebhookAttempt as WebhookAttempt
from .models import WebhookDelivery as WebhookDelivery
from .models import WebhookEndpoint as WebhookEndpoint
from .service import fan_out
from .targets import TargetRefusedError as TargetRefusedError

__all__ = [
    "RETRY_SCHEDULE",
    "Sender",
    "TargetRefusedError",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]


@hookimpl
def almacen_handle_event(session: Session, event: Event) -> None:
    """Owe the event to every enabled endpoint of its tenant whose filters match it."""
    fan_out(session, event)


@hookimpl
def almacen_worker_tasks(db: Database, settings: Settings) -> Iterable[Callable[[], int]]:
    """Send due webhook deliveries each worker cycle."""
    return [Sender(db, settings)]
