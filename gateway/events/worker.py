"""``almacen worker``: one process draining the outbox, or relaying it to the queue.

Run as many as the load needs (``almacen worker`` N times, or N replicas): on PostgreSQL
they claim with ``FOR UPDATE SKIP LOCKED`` and never take each other's events. SIGTERM or
SIGINT lets the current batch finish, then the process exits 0.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from .dispatcher import Dispatcher, run_tasks

__all__ = ["ROLES", "run_worker", "stop_on_signals"]

logger = logging.getLogger("almacen.worker")

#: What a worker does under ``delivery = queue``: relay the outbox to the queue, consume the
#: queue, or both (the default). Other deliveries have one role: drain the outbox.
ROLES = ("all", "relay", "consume")


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set ``stop`` on SIGTERM and SIGINT inside the block (main thread only)."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        logger.info("worker stopping after its current batch (signal %d)", signum)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_worker(
    dispatcher: Dispatcher,
    stop: threading.Event,
    *,
    once: bool = False,
    role: str = "all",
    threads: int = 4,
    on_ready: Callable[[str], Any] | None = None,
) -> int:
    """Work until ``stop`` is set (or, with ``once``, until nothing is due); return the count.

    With ``delivery = queue`` the relay replaces the outbox batch among the worker tasks, and
    the Dramatiq consumers run on ``threads`` threads of this process.
    """
    settings = dispatcher.settings
    if settings.delivery != "queue":
        return _drain_or_run(dispatcher, dispatcher.worker_tasks(), stop, once=once, ready=on_ready)

    from .queue import QueueBridge

    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    bridge = QueueBridge(dispatcher)
    consumer = bridge.worker(threads=threads) if role in ("all", "consume") else None
    try:
        if consumer is not None:
            consumer.start()
        if role == "consume":
            if on_ready is not None:
                on_ready(f"consuming queue {bridge.queue_name}")
            while not once and not stop.wait(settings.delivery_poll_seconds):
                pass
            return 0
        tasks = [
            bridge.relay_batch,
            *(task for task in dispatcher.worker_tasks() if task != dispatcher.deliver_batch),
        ]
        return _drain_or_run(dispatcher, tasks, stop, once=once, ready=on_ready)
    finally:
        if consumer is not None:
            if once and not stop.is_set():
                # Until the queue is empty; messages this process holds are finished, the ones
                # it fetched ahead go back to the queue.
                bridge.broker.join(bridge.queue_name)
            consumer.stop()
        bridge.close()


def _drain_or_run(
    dispatcher: Dispatcher,
    tasks: list[Callable[[], int]],
    stop: threading.Event,
    *,
    once: bool,
    ready: Callable[[str], Any] | None,
) -> int:
    if ready is not None:
        ready(f"worker draining the outbox ({dispatcher.settings.delivery})")
    total = 0
    while not stop.is_set():
        done = run_tasks(tasks)
        total += done
        if done:
            continue
        if once:
            break
        stop.wait(dispatcher.settings.delivery_poll_seconds)
    return total
