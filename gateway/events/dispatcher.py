"""Delivering the outbox: claim due events, hand each to every consumer, record the outcome.

A consumer is an implementation of the ``almacen_handle_event`` hook (plugins; the gateway's
own webhooks and blueprint rules are consumers of the same kind). Each consumer runs in a
savepoint of the delivery transaction, so its writes commit together with the event's new
status, or not at all. A consumer that raises is rolled back alone and retried later with
exponential backoff; the others are not called again for that event. An event whose
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
        self, session: Session, *, limit: int, ids: Sequence[str] | None = None
    ) -> list[Event]:
        """Lock up to ``limit`` due pending events (or the pending ones among ``ids``)."""
        statement = select(Event).where(Event.status == "pending")
        if ids is None:
            statement = statement.where(Event.next_attempt_at <= utcnow())
        else:
            statement = statement.where(Event.id.in_(ids))
        statement = statement.order_by(Event.next_attempt_at, Event.id).limit(limit)
        if not self.db.is_sqlite:
            # SQLite has no row locks; its BEGIN IMMEDIATE already serialises the claimers.
            statement = statement.with_for_update(skip_locked=True)
        return list(session.scalars(statement.execution_options(**ALL_TENANTS)))

    def deliver_batch(self, *, limit: int | None = None, ids: Sequence[str] | None = None) -> int:
        """Claim and deliver one batch in one transaction; return how many events it held."""
        limit = limit or self.settings.delivery_batch_size
        consumers = self.consumers()
        with self.db.transaction() as session:
            events = self.claim(session, limit=limit, ids=ids)
            for event in events:
                self._deliver(session, event, consumers)
            # The consumers ran for each event's tenant; the status writes are the outbox's.
            session.info["tenant_id"] = None
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

    def _deliver(self, session: Session, event: Event, consumers: Sequence[Consumer]) -> None:
        owed = set(event.failed_consumers) if event.failed_consumers else None
        failed: list[str] = []
        errors: list[str] = []
        session.info["tenant_id"] = event.tenant_id
        for consumer in consumers:
            if owed is not None and consumer.name not in owed:
                continue
            savepoint = session.begin_nested()
            try:
                consumer(session=session, event=event, settings=self.settings)
                savepoint.commit()
            except Exception as exc:
                savepoint.rollback()
                failed.append(consumer.name)
                message = "".join(traceback.format_exception_only(exc)).strip()
                errors.append(f"{consumer.name}: {message}"[:1000])
                logger.warning(
                    "event %s (%s) failed in %s: %s",
                    event.id,
                    event.type,
                    consumer.name,
                    message,
                    extra={"event_id": event.id, "tenant_id": event.tenant_id},
                )
        self._record(session, event, failed, errors)

    def _record(self, session: Session, event: Event, failed: list[str], errors: list[str]) -> None:
        now = utcnow()
        values: dict[str, Any]
        if not failed:
            values = {
                "status": "delivered",
                "delivered_at": now,
                "failed_consumers": None,
                "attempts": event.attempts + 1,
            }
        else:
            attempts = event.attempts + 1
            dead = attempts >= self.settings.delivery_max_attempts
            values = {
                "status": "dead" if dead else "pending",
                "attempts": attempts,
                "failed_consumers": failed,
                "last_error": "\n".join(errors),
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
            .execution_options(**ALL_TENANTS)
        )

    # -- operators -------------------------------------------------------------------------

    def replay(self, session: Session, event_id: str) -> Event | None:
        """Put a dead (or delivered) event back in the outbox; only its failed consumers rerun.

        A delivered event reruns every consumer: they must ignore an id they have seen.
        """
        event = session.get(Event, event_id)
        if event is None:
            return None
        event.status = "pending"
        event.attempts = 0
        event.next_attempt_at = utcnow()
        event.delivered_at = None
        return event

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
