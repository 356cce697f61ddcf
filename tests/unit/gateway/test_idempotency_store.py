"""``IdempotencyStore``: claiming, completing and releasing keys in the real database."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from typing import Any

import pytest
from sqlalchemy import select, update

from almacen.gateway.app import gateway_of
from almacen.gateway.db import Database, utcnow
from almacen.gateway.errors import IdempotencyInFlightError, IdempotencyMismatchError
from almacen.gateway.idempotency.models import IdempotencyRecord
from almacen.gateway.idempotency.store import ABANDONED_AFTER, IdempotencyStore, StoredResponse
from almacen.gateway.tenancy.models import Tenant

DAY = dt.timedelta(days=1)
RESPONSE = StoredResponse(
    201, [("content-type", "application/json"), ("location", "/v1/x/1")], b'{"id": "1"}'
)


@pytest.fixture(scope="module")
def db(app: Any) -> Database:
    return gateway_of(app).db


@pytest.fixture
def store(db: Database) -> IdempotencyStore:
    return IdempotencyStore(db, ttl=DAY)


@pytest.fixture
def owner(db: Database) -> str:
    """A real tenant's id: idempotency records of a tenant refer to it."""
    with db.transaction() as session:
        tenant = Tenant(slug=f"idem-{uuid.uuid4().hex[:12]}", name="idem", status="active")
        session.add(tenant)
        session.flush()
        return tenant.id


@pytest.fixture
def key() -> str:
    return f"key-{uuid.uuid4().hex}"


def claim(store: IdempotencyStore, owner: str, key: str, fingerprint: str = "f" * 64) -> Any:
    return store.claim(owner=owner, tenant_id=owner, key=key, fingerprint=fingerprint)


def records(db: Database, owner: str, key: str) -> list[IdempotencyRecord]:
    with db.transaction() as session:
        return list(
            session.scalars(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.owner == owner, IdempotencyRecord.key == key
                )
            )
        )


def test_first_claim_runs_the_request(
    db: Database, store: IdempotencyStore, owner: str, key: str
) -> None:
    assert claim(store, owner, key) is None
    [record] = records(db, owner, key)
    assert record.tenant_id == owner
    assert record.completed_at is None
    assert record.status_code is None
    assert abs(record.expires_at - (record.created_at + DAY)) < dt.timedelta(seconds=1)


def test_retry_in_flight_is_refused(store: IdempotencyStore, owner: str, key: str) -> None:
    claim(store, owner, key)
    with pytest.raises(IdempotencyInFlightError) as caught:
        claim(store, owner, key)
    assert caught.value.status == 409
    assert caught.value.headers["Retry-After"] == "1"


def test_completed_claim_is_replayed(store: IdempotencyStore, owner: str, key: str) -> None:
    claim(store, owner, key)
    store.complete(owner=owner, key=key, response=RESPONSE)
    for _ in range(2):
        assert claim(store, owner, key) == RESPONSE


def test_body_bytes_round_trip(store: IdempotencyStore, owner: str, key: str) -> None:
    body = bytes(range(256))
    claim(store, owner, key)
    store.complete(owner=owner, key=key, response=StoredResponse(200, [], body))
    assert claim(store, owner, key) == StoredResponse(200, [], body)


def test_other_request_under_the_key_is_refused(
    store: IdempotencyStore, owner: str, key: str
) -> None:
    claim(store, owner, key, "a" * 64)
    with pytest.raises(IdempotencyMismatchError) as in_flight:
        claim(store, owner, key, "b" * 64)
    store.complete(owner=owner, key=key, response=RESPONSE)
    with pytest.raises(IdempotencyMismatchError) as completed:
        claim(store, owner, key, "b" * 64)
    for caught in (in_flight, completed):
        assert caught.value.status == 422
        assert caught.value.errors[0]["header"] == "Idempotency-Key"


def test_release_lets_a_retry_run(
    db: Database, store: IdempotencyStore, owner: str, key: str
) -> None:
    claim(store, owner, key)
    store.release(owner=owner, key=key)
    assert records(db, owner, key) == []
    assert claim(store, owner, key) is None


def test_release_keeps_a_completed_response(store: IdempotencyStore, owner: str, key: str) -> None:
    claim(store, owner, key)
    store.complete(owner=owner, key=key, response=RESPONSE)
    store.release(owner=owner, key=key)
    assert claim(store, owner, key) == RESPONSE


def test_complete_of_a_released_key_stores_nothing(
    db: Database, store: IdempotencyStore, owner: str, key: str
) -> None:
    store.complete(owner=owner, key=key, response=RESPONSE)
    assert records(db, owner, key) == []


def test_owners_do_not_share_keys(
    db: Database, store: IdempotencyStore, owner: str, key: str
) -> None:
    other = f"other-{uuid.uuid4().hex[:8]}"
    claim(store, owner, key)
    store.complete(owner=owner, key=key, response=RESPONSE)
    assert store.claim(owner=other, tenant_id=None, key=key, fingerprint="e" * 64) is None
    assert store.claim(owner="admin", tenant_id=None, key=key, fingerprint="d" * 64) is None
    assert claim(store, owner, key) == RESPONSE
    store.release(owner=other, key=key)
    store.release(owner="admin", key=key)
    assert len(records(db, owner, key)) == 1


def test_expired_response_gives_way(db: Database, owner: str, key: str) -> None:
    short = IdempotencyStore(db, ttl=dt.timedelta(seconds=-1))
    claim(short, owner, key, "a" * 64)
    short.complete(owner=owner, key=key, response=RESPONSE)
    # Expired: a new request, even a different one, runs again under the key.
    assert claim(short, owner, key, "b" * 64) is None
    [record] = records(db, owner, key)
    assert record.fingerprint == "b" * 64


def test_abandoned_claim_gives_way(
    db: Database, store: IdempotencyStore, owner: str, key: str
) -> None:
    claim(store, owner, key)
    with db.transaction() as session:
        session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.owner == owner, IdempotencyRecord.key == key)
            .values(created_at=utcnow() - ABANDONED_AFTER - dt.timedelta(seconds=1))
        )
    assert claim(store, owner, key) is None


def test_recent_claim_is_not_abandoned(
    db: Database, store: IdempotencyStore, owner: str, key: str
) -> None:
    claim(store, owner, key)
    with db.transaction() as session:
        session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.owner == owner, IdempotencyRecord.key == key)
            .values(created_at=utcnow() - ABANDONED_AFTER + dt.timedelta(seconds=30))
        )
    with pytest.raises(IdempotencyInFlightError):
        claim(store, owner, key)


def test_concurrent_claims_let_exactly_one_run(
    db: Database, store: IdempotencyStore, owner: str, key: str
) -> None:
    start = threading.Barrier(4, timeout=10)
    outcomes: list[str] = []
    lock = threading.Lock()

    def contender() -> None:
        start.wait()
        try:
            result = claim(store, owner, key)
            outcome = "ran" if result is None else "replayed"
        except IdempotencyInFlightError:
            outcome = "in-flight"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=contender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert sorted(outcomes) == ["in-flight", "in-flight", "in-flight", "ran"]
    assert len(records(db, owner, key)) == 1
