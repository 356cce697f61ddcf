"""Delivering the outbox: claim due events, hand each to every consumer, record the outcome.

A consumer is an implementation of the ``almacen_handle_event`` hook (plugins; the gateway's
own webhooks and blueprint rules are consumers of the same kind). Each consumer runs in a
savepoint of the delivery transaction, so its writes commit together with the event's new
status, or not at all: one savepoint per consumer for the whole batch while nothing fails,
one per event for a consumer that raised in the batch. A consumer that raises is rolled back
alone and retried later with exponential backoff; the others are not called again for that
event. The delivered events of a batch get their status in one UPDATE. An event whose
consumers keep failing becomes ``dead`` after ``delivery_max_attempts`` and waits for an
operator's replay.

On PostgreSQL the claim is ``SELECT … FOR UPDATE SKIP LOCKED``: any number of workers drain
one outbox without taking each other's rows, and a worker that dies mid-batch leaves its
rows locked only until its connection drops, undelivered (at least once, never lost).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import random
import threading
import traceback
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..db import Database, utcnow
from .models import Event

if TYPE_CHECKING:
    from ..plugins import PluginRegistry
    from ..settings import Settings

__all__ = ["Consumer", "Dispatcher", "InProcessDelivery", "backoff"]

logger = logging.getLogger("almacen.events")

ALL_TENANTS = {"all_tenants": True}
MAX_BACKOFF = dt.timedelta(hours=1)


@dataclasses.dataclass(frozen=True)
class Consumer:
    """One implementation of ``almacen_handle_event``: its plugin's name and function."""

    name: str
    function: Callable[..., Any]
    argnames: tuple[str, ...]

    def __call__(self, **kwargs: Any) -> Any:
        return self.function(**{arg: kwargs[arg] for arg in self.argnames})


def backoff(attempts: int, base_seconds: float, *, jitter: float = 0.1) -> dt.timedelta:
    """Delay before retry number ``attempts`` (1-based): ``base * 2**(attempts-1)``, ±10%."""
    delay = base_seconds * 2 ** max(attempts - 1, 0)
    delay *= 1 + random.uniform(-jitter, jitter)  # noqa: S311 - spreads retries, not secrets
    return min(dt.timedelta(seconds=delay), MAX_BACKOFF)


class Dispatcher:
    """Drains the outbox of one database for the consumers of one plugin registry."""

    def __init__(self, db: Database, registry: PluginRegistry, settings: Settings) -> None:
        self.db = db
        self.registry = registry
        self.settings = settings

    def consumers(self) -> list[Consumer]:
        """The event hook implementations of the plugins registered now, in pluggy's order."""
        caller = self.registry.hook.almacen_handle_event
        return [
            Consumer(impl.plugin_name, impl.function, tuple(impl.argnames))
            for impl in reversed(caller.get_hookimpls())
            if self.registry.manager.get_plugin(impl.plugin_name) is not None
        ]

    # -- claiming and delivering -------------------------------------------------------------

    def claim(
        self,
        session: Session,
        *,
        limit: int,
        ids: Sequence[str] | None = None,
        wait: bool = False,
    ) -> list[Event]:
        """Lock up to ``limit`` due pending events (or the pending ones among ``ids``).

        Rows another transaction holds are skipped, unless ``wait`` (with ``ids``): then the
        claim waits for that transaction and takes the rows it left pending. The queue's
        consumers wait, because the relay holds the rows it sent until the broker confirms.
        """
        statement = select(Event).where(Event.status == "pending")
        if ids is None:
            statement = statement.where(Event.next_attempt_at <= utcnow())
            statement = statement.order_by(Event.next_attempt_at, Event.id)
        else:
            # By id alone: claimers that wait lock in one order, so never in a cycle.
            statement = statement.where(Event.id.in_(ids)).order_by(Event.id)
        statement = statement.limit(limit)
        if not self.db.is_sqlite:
            # SQLite has no row locks; its BEGIN IMMEDIATE already serialises the claimers.
            statement = statement.with_for_update(skip_locked=not (wait and ids is not None))
        return list(session.scalars(statement.execution_options(**ALL_TENANTS)))

    def deliver_batch(
        self,
        *,
        limit: int | None = None,
        ids: Sequence[str] | None = None,
        wait: bool = False,
    ) -> int:
        """Claim and deliver one batch in one transaction; return how many events it held.

        :param limit: at most this many events (``delivery_batch_size`` by default).
        :param ids: only these events, due or not, if they are still pending.
        :param wait: with ``ids``, wait for rows another transaction holds (see :meth:`claim`).
        """
        limit = limit or self.settings.delivery_batch_size
        consumers = self.consumers()
        with self.db.transaction() as session:
            events = self.claim(session, limit=limit, ids=ids, wait=wait)
            if events:
                failures = self._deliver_all(session, events, consumers)
                # The consumers ran for each event's tenant; the status writes are the outbox's.
                session.info["tenant_id"] = None
                self._record_all(session, events, failures)
        return len(events)

    def drain(self, *, max_batches: int | None = None) -> int:
        """Deliver batches until none is due (or ``max_batches``); return the events handled."""
        total, batches = 0, 0
        while max_batches is None or batches < max_batches:
            handled = self.deliver_batch()
            total += handled
            batches += 1
            if handled == 0:
                break
        return total

    def _deliver_all(
        self, session: Session, events: Sequence[Event], consumers: Sequence[Consumer]
    ) -> dict[str, list[tuple[str, str]]]:
        """Hand each event to each consumer it owes; event id → [(consumer, error)] failed.

        Consumer by consumer, the batch runs in one savepoint (the events in their order), so
        a batch costs two savepoint statements per consumer, not per event. When a consumer
        raises, that savepoint is rolled back and the consumer runs again event by event,
        each in a savepoint of its own: only the events it fails on are retried later.
        """
        failures: dict[str, list[tuple[str, str]]] = {}
        for consumer in consumers:
            owing = [
                event
                for event in events
                if not event.failed_consumers or consumer.name in event.failed_consumers
            ]
            if not owing:
                continue
            savepoint = session.begin_nested()
            current = 0
            try:
                for event in owing:
                    session.info["tenant_id"] = event.tenant_id
                    consumer(session=session, event=event, settings=self.settings)
                    current += 1
                savepoint.commit()
                continue
            except Exception as exc:
                savepoint.rollback()
                culprit = owing[current]
                message = self._failed(culprit, consumer, exc)
                failures.setdefault(culprit.id, []).append((consumer.name, message))
            # The events before the culprit ran, but were rolled back; the ones after it never ran.
            for event in [*owing[:current], *owing[current + 1 :]]:
                error = self._deliver_one(session, event, consumer)
                if error is not None:
                    failures.setdefault(event.id, []).append((consumer.name, error))
        return failures

    def _deliver_one(self, session: Session, event: Event, consumer: Consumer) -> str | None:
        """Run one consumer for one event in a savepoint; the error message, if it raised."""
        session.info["tenant_id"] = event.tenant_id
        savepoint = session.begin_nested()
        try:
            consumer(session=session, event=event, settings=self.settings)
            savepoint.commit()
        except Exception as exc:
            savepoint.rollback()
            return self._failed(event, consumer, exc)
        return None

    def _failed(self, event: Event, consumer: Consumer, exc: Exception) -> str:
        message = "".join(traceback.format_exception_only(exc)).strip()
        logger.warning(
            "event %s (%s) failed in %s: %s",
            event.id,
            event.type,
            consumer.name,
            message,
            extra={"event_id": event.id, "tenant_id": event.tenant_id},
        )
        return message

    def _record_all(
        self,
        session: Session,
        events: Sequence[Event],
        failures: dict[str, list[tuple[str, str]]],
    ) -> None:
        """Write the outcome: one UPDATE for the delivered events, one per failed event."""
        now = utcnow()
        delivered = [event.id for event in events if event.id not in failures]
        if delivered:
            session.execute(
                update(Event)
                .where(Event.id.in_(delivered))
                .values(
                    status="delivered",
                    delivered_at=now,
                    failed_consumers=None,
                    attempts=Event.attempts + 1,
                )
                .execution_options(**ALL_TENANTS, synchronize_session=False)
            )
        for event in events:
            failed = failures.get(event.id)
            if failed:
                self._record_failure(session, event, failed, now)

    def _record_failure(
        self, session: Session, event: Event, failed: list[tuple[str, str]], now: dt.datetime
    ) -> None:
        attempts = event.attempts + 1
        dead = attempts >= self.settings.delivery_max_attempts
        values: dict[str, Any] = {
            "status": "dead" if dead else "pending",
            "attempts": attempts,
            "failed_consumers": [name for name, _ in failed],
            "last_error": "\n".join(f"{name}: {error}"[:1000] for name, error in failed),
            "next_attempt_at": now + backoff(attempts, self.settings.delivery_backoff_seconds),
        }
        if dead:
            logger.error(
                "event %s (%s) is dead after %d attempts",
                event.id,
                event.type,
                attempts,
                extra={"event_id": event.id, "tenant_id": event.tenant_id},
            )
        session.execute(
            update(Event)
            .where(Event.id == event.id)
            .values(**values)
            .execution_options(**ALL_TENANTS, synchronize_session=False)
        )

    # -- operators -------------------------------------------------------------------------

    def replay(self, session: Session, event_id: str) -> Event:
        """Put a dead event back in the outbox (see :func:`.service.replay_event`)."""
        from .service import replay_event

        return replay_event(session, event_id)

    def worker_tasks(self) -> list[Callable[[], int]]:
        """The outbox batch, then every plugin's ``almacen_worker_tasks``: one worker cycle."""
        tasks: list[Callable[[], int]] = [self.deliver_batch]
        for _plugin, provided in self.registry.call_each(
            "almacen_worker_tasks", db=self.db, settings=self.settings
        ):
            tasks.extend(provided)
        return tasks

    def run(self, stop: threading.Event, *, wake: threading.Event | None = None) -> None:
        """Work until ``stop`` is set: deliver, run tasks, then sleep until woken or polled."""
        tasks = self.worker_tasks()
        while not stop.is_set():
            done = run_tasks(tasks)
            if done:
                continue
            if wake is not None:
                wake.wait(self.settings.delivery_poll_seconds)
                wake.clear()
            else:
                stop.wait(self.settings.delivery_poll_seconds)


def run_tasks(tasks: Iterable[Callable[[], int]]) -> int:
    """Run one cycle of ``tasks``; a task that raises is logged and the others still run."""
    done = 0
    for task in tasks:
        try:
            done += task()
        except Exception:
            logger.exception("worker task %s failed", getattr(task, "__qualname__", task))
    return done


class InProcessDelivery:
    """The embedded default: a daemon thread of the app's process drains the outbox.

    It starts on the first commit that emitted events and then wakes on each such commit,
    polling every ``delivery_poll_seconds`` for retries.
    """

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def wake(self) -> None:
        """Tell the thread there is work, starting it the first time."""
        if self._thread is None:
            with self._lock:
                if self._thread is None and not self._stop.is_set():
                    self._thread = threading.Thread(
                        target=self.dispatcher.run,
                        args=(self._stop,),
                        kwargs={"wake": self._wake},
                        name="almacen-delivery",
                        daemon=True,
                    )
                    self._thread.start()
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread after its current cycle."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
