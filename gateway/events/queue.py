"""The outbox feeding a distributed queue: Dramatiq on RabbitMQ, configured by one URL.

Beyond one machine, ``ALMACEN_DELIVERY=queue`` splits delivery in two roles, both run by
``almacen worker``:

- the **relay** claims due pending events (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), sends
  their ids in messages to the ``deliver_events`` actor, waits for the broker to confirm
  them, and commits, having moved each event's ``next_attempt_at`` one lease ahead;
- the **consumers** are Dramatiq workers: the actor calls
  :meth:`Dispatcher.deliver_batch` with the ids, which delivers the ones still pending
  (consumers in savepoints, failures retried with backoff, dead letters) exactly as the
  plain worker does.

Nothing is lost and nothing new is invented: a duplicate message finds its events delivered
and does nothing; a message the broker lost (or a consumer that died) leaves its events
pending, and the relay hands them over again once the lease runs out. Retries of failing
consumers go through the outbox (``next_attempt_at``), not through Dramatiq's own retries.

The broker is an object of this module's :class:`QueueBridge`, never Dramatiq's global
broker: importing this module changes nothing, and two bridges (tests) do not meet.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from sqlalchemy import select, update

from ..db import utcnow
from .dispatcher import ALL_TENANTS, Dispatcher
from .models import Event

__all__ = ["ACTOR_NAME", "QueueBridge"]

logger = logging.getLogger("almacen.events.queue")

ACTOR_NAME = "almacen_deliver_events"
#: How long a handed-over event waits for its message before the relay sends it again.
DEFAULT_LEASE_SECONDS = 60.0
#: Event ids per message: a consumer delivers one message in one transaction.
DEFAULT_MESSAGE_SIZE = 50


class QueueBridge:
    """The relay and the Dramatiq actor of one dispatcher, on the broker at ``queue_url``."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        *,
        url: str | None = None,
        queue_name: str | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        message_size: int = DEFAULT_MESSAGE_SIZE,
    ) -> None:
        settings = dispatcher.settings
        url = url or settings.queue_url
        if not url:
            raise ValueError("the queue bridge needs queue_url (the broker's URL)")
        self.dispatcher = dispatcher
        self.queue_name = queue_name or settings.queue_name
        self.lease = dt.timedelta(seconds=lease_seconds)
        self.message_size = message_size
        # confirm_delivery: send() returns once RabbitMQ has the message, so the relay commits
        # only what the broker holds.
        self.broker = RabbitmqBroker(url=url, confirm_delivery=True)
        self.actor: dramatiq.Actor[[list[str]], None] = dramatiq.Actor(
            self._consume,
            broker=self.broker,
            actor_name=ACTOR_NAME,
            queue_name=self.queue_name,
            priority=0,
            # Failing consumers are retried by the outbox; a message that raises (the database
            # is down) is dropped, and its events are relayed again after the lease.
            options={"max_retries": 0},
        )

    # -- the actor ------------------------------------------------------------------------

    def deliver_events(self, ids: list[str]) -> int:
        """Deliver the events of one message that are still pending; return how many."""
        return self.dispatcher.deliver_batch(limit=len(ids), ids=ids, wait=True)

    def _consume(self, ids: list[str]) -> None:
        self.deliver_events(ids)

    # -- the relay ------------------------------------------------------------------------

    def relay_batch(self, *, limit: int | None = None) -> int:
        """Hand one batch of due events over to the queue; return how many."""
        limit = limit or self.dispatcher.settings.delivery_batch_size
        db = self.dispatcher.db
        with db.transaction() as session:
            statement = (
                select(Event.id)
                .where(Event.status == "pending", Event.next_attempt_at <= utcnow())
                .order_by(Event.next_attempt_at, Event.id)
                .limit(limit)
            )
            if not db.is_sqlite:
                statement = statement.with_for_update(skip_locked=True)
            ids = list(session.scalars(statement.execution_options(**ALL_TENANTS)))
            if not ids:
                return 0
            session.execute(
                update(Event)
                .where(Event.id.in_(ids))
                .values(next_attempt_at=utcnow() + self.lease)
                .execution_options(**ALL_TENANTS)
            )
            for start in range(0, len(ids), self.message_size):
                self.send(ids[start : start + self.message_size])
        return len(ids)

    def send(self, ids: Sequence[str]) -> None:
        """Put one message for ``ids`` on the queue (confirmed by the broker)."""
        self.actor.send(list(ids))

    # -- running ----------------------------------------------------------------------------

    def worker(self, *, threads: int = 4) -> dramatiq.Worker:
        """A Dramatiq worker consuming this bridge's queue (call ``start()``/``stop()``)."""
        return dramatiq.Worker(self.broker, queues={self.queue_name}, worker_threads=threads)

    def purge(self) -> None:
        """Drop every message waiting on this bridge's queue."""
        self.broker.flush(self.queue_name)

    def delete_queues(self) -> None:
        """Delete this bridge's queues from the broker (tests, and tearing a deployment down)."""
        channel: Any = self.broker.channel
        for name in (self.queue_name, f"{self.queue_name}.DQ", f"{self.queue_name}.XQ"):
            channel.queue_delete(name)

    def close(self) -> None:
        """Close the broker's connections."""
        self.broker.close()
