"""The outbox feeding Dramatiq on the real RabbitMQ: relay, consumers, duplicates, leases.

Each test has a queue of its own on the broker (deleted afterwards) and works on a scratch
database (``tests/common/outbox.py``). The broker is ``ALMACEN_TEST_QUEUE_URL`` (default the
local RabbitMQ); without a reachable broker these tests skip.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest

from almacen.gateway import create_app
from almacen.gateway.app import gateway_of
from almacen.gateway.events.queue import QueueBridge
from almacen.gateway.state import Gateway
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
from tests.plugins import outbox_probe

QUEUE_URL = os.environ.get("ALMACEN_TEST_QUEUE_URL", "amqp://guest:guest@127.0.0.1:5672/")
DEADLINE = 60.0


def _broker_reachable() -> bool:
    parts = urlsplit(QUEUE_URL)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5672), 2).close()
    except OSError:
        return False
    return True


# CI (``.ci/run``) starts the broker and sets ALMACEN_REQUIRE_QUEUE: there, no broker is a
# failure, not a skip.
pytestmark = pytest.mark.skipif(
    not os.environ.get("ALMACEN_REQUIRE_QUEUE") and not _broker_reachable(),
    reason=f"no RabbitMQ at {QUEUE_URL} (ALMACEN_TEST_QUEUE_URL)",
)


@pytest.fixture(scope="module")
def outbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with scratch_database(tmp_path_factory.mktemp("queue")) as url:
        yield url


@pytest.fixture
def queue_name() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"almacen-test-{worker}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def gateway(outbox_url: str, queue_name: str) -> Iterator[Gateway]:
    config = settings(outbox_url, delivery="queue", queue_url=QUEUE_URL, queue_name=queue_name)
    gateway = gateway_of(create_app(config, plugins=[("outbox_probe", outbox_probe)]))
    yield gateway
    gateway.close()


@pytest.fixture
def bridge(gateway: Gateway) -> Iterator[QueueBridge]:
    bridge = QueueBridge(gateway.dispatcher, lease_seconds=0.5, message_size=20)
    yield bridge
    bridge.delete_queues()
    bridge.close()


def wait_for(condition: Callable[[], bool], *, what: str) -> None:
    """Poll ``condition`` until it holds; fail after the deadline (not a timing test)."""
    end = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def all_delivered(gateway: Gateway, ids: list[str]) -> Callable[[], bool]:
    return lambda: set(statuses(gateway.db, ids).values()) == {"delivered"}


def test_relay_and_dramatiq_workers_deliver_every_event(
    gateway: Gateway, bridge: QueueBridge
) -> None:
    tenants = new_tenants(gateway.db, 2)
    ids = [i for t in tenants for i in emit_probes(gateway.db, t, 150)]
    worker = bridge.worker(threads=2)
    worker.start()
    try:
        relayed = 0
        while relayed < len(ids):
            relayed += bridge.relay_batch(limit=40)
        wait_for(all_delivered(gateway, ids), what="delivery through the queue")
    finally:
        worker.stop()
    assert relayed == len(ids)
    assert Counter(received(gateway.db, tenants)) == Counter(ids)
    assert bridge.relay_batch() == 0


def test_duplicate_messages_are_harmless(gateway: Gateway, bridge: QueueBridge) -> None:
    [tenant] = new_tenants(gateway.db, 1)
    ids = emit_probes(gateway.db, tenant, 10)
    bridge.send(ids)
    bridge.send(ids)
    bridge.send(ids[:3])
    worker = bridge.worker(threads=2)
    worker.start()
    try:
        wait_for(all_delivered(gateway, ids), what="delivery through the queue")
        bridge.broker.join(bridge.queue_name, timeout=int(DEADLINE * 1000))
    finally:
        worker.stop()
    assert Counter(received(gateway.db, [tenant])) == Counter(ids)


def test_a_lost_message_is_relayed_again_after_the_lease(
    gateway: Gateway, bridge: QueueBridge
) -> None:
    [tenant] = new_tenants(gateway.db, 1)
    ids = emit_probes(gateway.db, tenant, 5)
    assert bridge.relay_batch() >= len(ids)
    # Handed over: not due again until the lease runs out.
    assert bridge.relay_batch() == 0
    bridge.purge()  # the broker lost the message
    assert set(statuses(gateway.db, ids).values()) == {"pending"}

    relayed = 0

    def relay() -> bool:
        nonlocal relayed
        relayed += bridge.relay_batch()
        return relayed >= len(ids)

    wait_for(relay, what="the lease to run out")
    worker = bridge.worker(threads=1)
    worker.start()
    try:
        wait_for(all_delivered(gateway, ids), what="delivery after the lease")
    finally:
        worker.stop()
    assert Counter(received(gateway.db, [tenant])) == Counter(ids)


def test_almacen_worker_relays_and_consumes(
    gateway: Gateway, bridge: QueueBridge, outbox_url: str, queue_name: str
) -> None:
    tenants = new_tenants(gateway.db, 2)
    env = worker_env(
        outbox_url,
        ALMACEN_DELIVERY="queue",
        ALMACEN_QUEUE_URL=QUEUE_URL,
        ALMACEN_QUEUE_NAME=queue_name,
    )
    relay = start_worker(env, "--role", "relay")
    consumers = start_worker(env, "--role", "consume", "--threads", "2")
    processes = [relay, consumers]
    try:
        ids = [i for t in tenants for i in emit_probes(gateway.db, t, 60)]
        wait_for(all_delivered(gateway, ids), what="delivery by almacen worker")
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            _, err = process.communicate(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
        assert process.returncode == 0, err
    assert Counter(received(gateway.db, tenants)) == Counter(ids)


def test_almacen_worker_once_with_the_queue(
    gateway: Gateway, bridge: QueueBridge, outbox_url: str, queue_name: str
) -> None:
    tenants = new_tenants(gateway.db, 1)
    ids = emit_probes(gateway.db, tenants[0], 40)
    env = worker_env(
        outbox_url,
        ALMACEN_DELIVERY="queue",
        ALMACEN_QUEUE_URL=QUEUE_URL,
        ALMACEN_QUEUE_NAME=queue_name,
    )
    process = start_worker(env, "--once", "--threads", "2")
    _, err = process.communicate(timeout=DEADLINE)
    assert process.returncode == 0, err
    # Everything due was handed over; what this process consumed is delivered, the rest is
    # on the queue or comes back after the lease: either way, nothing is lost.
    worker = bridge.worker(threads=2)
    worker.start()
    try:
        wait_for(all_delivered(gateway, ids), what="delivery")
    finally:
        worker.stop()
    assert Counter(received(gateway.db, tenants)) == Counter(ids)
