"""``almacen worker`` and the dispatcher: drain, survive SIGKILL, retry, dead-letter, replay.

Each test works on a scratch database of its own (``tests/common/outbox.py``) and asserts
on its own tenants' events: workers drain the whole outbox.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from almacen import hookimpl
from almacen.gateway import create_app
from almacen.gateway.app import gateway_of
from almacen.gateway.db import utcnow
from almacen.gateway.events import Event, backoff
from almacen.gateway.state import Gateway
from tests.common.actors import Admin
from tests.common.outbox import (
    emit_probes,
    new_tenants,
    received,
    scratch_database,
    settings,
    start_worker,
    statuses,
    worker_env,
)
from tests.conftest import ADMIN_TOKEN
from tests.plugins import outbox_probe

DEADLINE = 60.0


@pytest.fixture(scope="module")
def outbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with scratch_database(tmp_path_factory.mktemp("outbox")) as url:
        yield url


@pytest.fixture
def gateway(outbox_url: str) -> Iterator[Gateway]:
    """An app on the scratch database with the probe consumer; delivery left to workers."""
    gateway = gateway_of(create_app(settings(outbox_url), plugins=[("outbox_probe", outbox_probe)]))
    yield gateway
    gateway.close()


def wait_for(condition: Callable[[], bool], *, what: str, deadline: float = DEADLINE) -> None:
    """Poll ``condition`` until it holds; fail after ``deadline`` seconds (not a timing test)."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def finish(process: subprocess.Popen[str], *, timeout: float = DEADLINE) -> tuple[int, str]:
    """Wait for a worker to exit; its status and stderr."""
    try:
        _, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
        raise AssertionError(f"worker did not exit: {err}") from None
    return process.returncode, err


# -- almacen worker ------------------------------------------------------------------------


def test_worker_once_delivers_pending_events(gateway: Gateway, outbox_url: str) -> None:
    tenants = new_tenants(gateway.db, 2)
    ids = [i for t in tenants for i in emit_probes(gateway.db, t, 30, per_transaction=7)]

    status, err = finish(start_worker(worker_env(outbox_url), "--once", "--batch-size", "8"))

    assert status == 0, err
    assert "Traceback" not in err
    assert Counter(received(gateway.db, tenants)) == Counter(ids)
    assert set(statuses(gateway.db, ids).values()) == {"delivered"}


def test_worker_stops_gracefully_on_sigterm(gateway: Gateway, outbox_url: str) -> None:
    tenants = new_tenants(gateway.db, 1)
    process = start_worker(worker_env(outbox_url))
    ids = emit_probes(gateway.db, tenants[0], 20)
    wait_for(lambda: len(received(gateway.db, tenants)) == len(ids), what="delivery")

    process.send_signal(signal.SIGTERM)
    status, err = finish(process)

    assert status == 0, err
    assert "worker done" in err
    assert set(statuses(gateway.db, ids).values()) == {"delivered"}


@pytest.mark.postgres
def test_sigkill_mid_batch_loses_nothing(
    gateway: Gateway, outbox_url: str, tmp_path: Path, is_postgres: bool
) -> None:
    if not is_postgres:
        pytest.skip("the fault test is about row locks and a dropped connection: PostgreSQL")
    tenants = new_tenants(gateway.db, 2)
    ids = [i for t in tenants for i in emit_probes(gateway.db, t, 1000)]
    effects = tmp_path / "effects.txt"
    batch = 50
    hang_after = 5 * batch + batch // 2  # certainly inside the sixth batch

    first = start_worker(
        worker_env(
            outbox_url,
            ALMACEN_TEST_PROBE_FILE=str(effects),
            ALMACEN_TEST_PROBE_HANG_AFTER=str(hang_after),
        ),
        "--batch-size",
        str(batch),
    )
    hang = Path(f"{effects}.hang")
    wait_for(lambda: hang.exists() or first.poll() is not None, what="the worker mid-batch")
    assert first.poll() is None, first.communicate()[1]
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=DEADLINE)  # reaps it and closes its pipes
    assert first.returncode == -signal.SIGKILL

    seen_by_first = effects.read_text().split()
    delivered_before = [i for i, s in statuses(gateway.db, ids).items() if s == "delivered"]
    # The killed batch ran consumers whose database writes never committed.
    assert len(seen_by_first) == hang_after
    assert len(delivered_before) == 5 * batch
    assert set(delivered_before) < set(seen_by_first)
    killed_batch = set(seen_by_first) - set(delivered_before)

    second = start_worker(worker_env(outbox_url, ALMACEN_TEST_PROBE_FILE=str(effects)))
    try:
        wait_for(
            lambda: set(statuses(gateway.db, ids).values()) == {"delivered"},
            what="every event delivered after the restart",
        )
    finally:
        second.send_signal(signal.SIGTERM)
    status, err = finish(second)
    assert status == 0, err

    # The database's record is exact: each event once, none lost.
    assert Counter(received(gateway.db, tenants)) == Counter(ids)
    # Effects outside the transaction are at least once; only the killed batch repeats.
    effects_count = Counter(effects.read_text().split())
    assert set(effects_count) == set(ids)
    assert {i for i, n in effects_count.items() if n > 1} == killed_batch


# -- retries, backoff and dead letters -----------------------------------------------------


class Flaky:
    """A consumer that fails its first ``failures`` calls per event, counting every call."""

    def __init__(self, failures: int, only: set[str] | None = None) -> None:
        self.failures = failures
        self.only = only
        self.calls: Counter[str] = Counter()

    @hookimpl
    def almacen_handle_event(self, session: Any, event: Event, settings: Any) -> None:
        self.calls[event.id] += 1
        if self.only is not None and event.id not in self.only:
            return
        if self.calls[event.id] <= self.failures:
            raise RuntimeError(f"flaky failure {self.calls[event.id]}")


def event_row(gateway: Gateway, event_id: str) -> Event:
    with gateway.db.session() as session:
        row = session.scalar(
            select(Event).where(Event.id == event_id).execution_options(all_tenants=True)
        )
        assert row is not None
        return row


def test_failing_consumer_backs_off_then_goes_dead_and_replays(outbox_url: str) -> None:
    flaky = Flaky(failures=3)
    config = settings(
        outbox_url,
        delivery_max_attempts=3,
        delivery_backoff_seconds=30.0,
        admin_token=ADMIN_TOKEN,
        validate_responses=True,
    )
    app = create_app(config, plugins=[("outbox_probe", outbox_probe), ("flaky", flaky)])
    gateway = gateway_of(app)
    operator = Admin(app.test_client(), ADMIN_TOKEN)
    try:
        [tenant] = new_tenants(gateway.db, 1)
        [event_id] = emit_probes(gateway.db, tenant, 1)

        delays = []
        for attempt in (1, 2):
            before = utcnow()
            assert gateway.dispatcher.deliver_batch(ids=[event_id]) == 1
            row = event_row(gateway, event_id)
            assert (row.status, row.attempts) == ("pending", attempt)
            assert row.failed_consumers == ["flaky"]
            assert "flaky failure" in (row.last_error or "")
            delays.append(row.next_attempt_at - before)
            # Not due yet: a worker's batch leaves it alone.
            assert gateway.dispatcher.drain() == 0
        # Exponential: about 30 s, then about 60 s (±10% jitter).
        assert dt.timedelta(seconds=26) < delays[0] < dt.timedelta(seconds=34)
        assert dt.timedelta(seconds=53) < delays[1] < dt.timedelta(seconds=67)
        assert backoff(2, 30.0) > backoff(1, 30.0, jitter=0)

        assert gateway.dispatcher.deliver_batch(ids=[event_id]) == 1
        row = event_row(gateway, event_id)
        assert (row.status, row.attempts) == ("dead", 3)
        # The probe succeeded on the first attempt and was never called again.
        assert received(gateway.db, [tenant]) == [event_id]
        assert flaky.calls[event_id] == 3
        assert gateway.dispatcher.deliver_batch(ids=[event_id]) == 0  # dead is not pending

        # The operators' dead letters list it, and replay puts it back in the outbox.
        listed = operator.request(
            "GET", "/v1/admin/events", params={"status": "dead", "tenant_id": tenant}
        )
        assert listed.status_code == 200, listed.text
        assert [item["id"] for item in listed.json()["items"]] == [event_id]
        replayed = operator.request("POST", f"/v1/admin/events/{event_id}/replay")
        assert replayed.status_code == 200, replayed.text
        assert replayed.json()["id"] == event_id
        assert statuses(gateway.db, [event_id]) == {event_id: "pending"}
        assert gateway.dispatcher.drain() == 1
        row = event_row(gateway, event_id)
        assert row.status == "delivered"
        assert flaky.calls[event_id] == 4
        assert received(gateway.db, [tenant]) == [event_id]  # only the failed consumer reran
    finally:
        gateway.close()


def test_a_failure_in_a_batch_holds_back_only_that_event_and_consumer(outbox_url: str) -> None:
    config = settings(outbox_url, delivery_backoff_seconds=3600.0)
    probe_first = [("outbox_probe", outbox_probe)]
    flaky = Flaky(failures=1)
    gateway = gateway_of(create_app(config, plugins=[*probe_first, ("flaky", flaky)]))
    try:
        [tenant] = new_tenants(gateway.db, 1)
        ids = emit_probes(gateway.db, tenant, 9)
        flaky.only = {ids[4]}
        flaky.calls.clear()

        assert gateway.dispatcher.deliver_batch(ids=ids) == 9

        states = statuses(gateway.db, ids)
        assert states.pop(ids[4]) == "pending"
        assert set(states.values()) == {"delivered"}
        row = event_row(gateway, ids[4])
        assert row.failed_consumers == ["flaky"] and row.attempts == 1
        # The probe's writes survive for every event, the failing one's included, once each.
        assert Counter(received(gateway.db, [tenant])) == Counter(ids)
        assert flaky.calls[ids[4]] == 1  # the failing call is not repeated in the attempt

        with gateway.db.transaction() as session:
            session.execute(
                update(Event)
                .where(Event.id == ids[4])
                .values(next_attempt_at=utcnow())
                .execution_options(all_tenants=True)
            )
        assert gateway.dispatcher.drain() == 1
        assert statuses(gateway.db, [ids[4]]) == {ids[4]: "delivered"}
        assert Counter(received(gateway.db, [tenant])) == Counter(ids)  # probe not rerun
    finally:
        gateway.close()


def test_due_retry_is_picked_up_by_the_worker_batch(gateway: Gateway) -> None:
    [tenant] = new_tenants(gateway.db, 1)
    [event_id] = emit_probes(gateway.db, tenant, 1)
    with gateway.db.transaction() as session:
        session.execute(
            update(Event)
            .where(Event.id == event_id)
            .values(next_attempt_at=utcnow() + dt.timedelta(hours=1))
            .execution_options(all_tenants=True)
        )
    gateway.dispatcher.drain()
    assert statuses(gateway.db, [event_id]) == {event_id: "pending"}

    with gateway.db.transaction() as session:
        session.execute(
            update(Event)
            .where(Event.id == event_id)
            .values(next_attempt_at=utcnow() - dt.timedelta(seconds=1))
            .execution_options(all_tenants=True)
        )
    gateway.dispatcher.drain()
    assert statuses(gateway.db, [event_id]) == {event_id: "delivered"}


# -- in-process delivery -------------------------------------------------------------------


def test_in_process_delivery_wakes_on_commit(outbox_url: str) -> None:
    gateway = gateway_of(
        create_app(
            settings(outbox_url, delivery="in-process", delivery_poll_seconds=30.0),
            plugins=[("outbox_probe", outbox_probe)],
        )
    )
    try:
        assert gateway.delivery is not None
        [tenant] = new_tenants(gateway.db, 1)
        ids: list[str] = []

        def delivered() -> bool:
            return set(statuses(gateway.db, ids).values()) == {"delivered"}

        for _ in range(2):  # the first commit starts the thread, the second wakes it
            ids.extend(emit_probes(gateway.db, tenant, 5))
            # The poll is 30 s: only the commit's wake-up delivers within the deadline.
            wait_for(delivered, what="in-process delivery", deadline=20.0)
        assert Counter(received(gateway.db, [tenant])) == Counter(ids)
    finally:
        gateway.close()


def test_worker_rejects_a_missing_plugin_module(outbox_url: str) -> None:
    env = worker_env(outbox_url, ALMACEN_EXTRA_PLUGINS="tests.plugins.no_such_module")
    status, err = finish(start_worker(env, "--once"))
    assert status != 0
    assert "no_such_module" in err
    assert os.path.basename(__file__) not in err  # one line, no traceback
