"""Tenant scoping in ``almacen.gateway.db``: a tenant's session sees and touches only its own
rows; a session without a tenant refuses tenant-owned tables unless told ``all_tenants``.

Run against the worker's real, migrated database (SQLite or PostgreSQL), on the gateway's own
tenant-owned table ``api_keys``.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, update

from almacen.gateway.app import gateway_of
from almacen.gateway.db import Database, UnscopedQueryError
from almacen.gateway.tenancy.models import ApiKey, Tenant


@dataclasses.dataclass(frozen=True)
class Owned:
    """A tenant and the id of one API key row it owns."""

    tenant_id: str
    key_id: str


def key_row(**fields: Any) -> dict[str, Any]:
    """Column values of a new ``api_keys`` row."""
    return {
        "id": uuid.uuid4().hex,
        "prefix": "alm_" + uuid.uuid4().hex[:12],
        "secret_hash": "0" * 64,
        "name": "row",
        **fields,
    }


@pytest.fixture(scope="module")
def db(app: Any) -> Database:
    return gateway_of(app).db


def make_owner(db: Database) -> Owned:
    with db.transaction() as session:
        tenant = Tenant(slug=f"scope-{uuid.uuid4().hex[:12]}", name="scope", status="active")
        session.add(tenant)
        session.flush()
        tenant_id = tenant.id
    with db.transaction(tenant_id=tenant_id) as session:
        key = ApiKey(**{k: v for k, v in key_row().items() if k != "id"})
        session.add(key)
        session.flush()
        key_id = key.id
    return Owned(tenant_id, key_id)


@pytest.fixture
def a(db: Database) -> Owned:
    return make_owner(db)


@pytest.fixture
def b(db: Database) -> Owned:
    return make_owner(db)


def names(db: Database, *key_ids: str) -> dict[str, str]:
    """Key names by id, read across tenants on purpose."""
    with db.transaction() as session:
        rows = session.execute(
            select(ApiKey.id, ApiKey.name)
            .where(ApiKey.id.in_(key_ids))
            .execution_options(all_tenants=True)
        )
        return {row.id: row.name for row in rows}


# -- reads ---------------------------------------------------------------------------------


def test_tenant_session_reads_only_its_rows(db: Database, a: Owned, b: Owned) -> None:
    with db.transaction(tenant_id=a.tenant_id) as session:
        ids = session.scalars(select(ApiKey.id).where(ApiKey.id.in_([a.key_id, b.key_id])))
        assert list(ids) == [a.key_id]
        entities = session.scalars(select(ApiKey).where(ApiKey.id.in_([a.key_id, b.key_id])))
        assert [(k.id, k.tenant_id) for k in entities] == [(a.key_id, a.tenant_id)]
    with db.transaction(tenant_id=b.tenant_id) as session:
        ids = session.scalars(select(ApiKey.id).where(ApiKey.id.in_([a.key_id, b.key_id])))
        assert list(ids) == [b.key_id]


def test_get_by_primary_key_of_another_tenant_is_none(db: Database, a: Owned, b: Owned) -> None:
    with db.transaction(tenant_id=a.tenant_id) as session:
        assert session.get(ApiKey, b.key_id) is None
        assert session.get(ApiKey, a.key_id) is not None


def test_even_filtering_on_the_other_tenant_finds_nothing(db: Database, a: Owned, b: Owned) -> None:
    with db.transaction(tenant_id=a.tenant_id) as session:
        stolen = session.scalars(select(ApiKey).where(ApiKey.tenant_id == b.tenant_id))
        assert list(stolen) == []


def test_joins_are_scoped(db: Database, a: Owned, b: Owned) -> None:
    statement = (
        select(Tenant.id, ApiKey.id)
        .join(ApiKey, ApiKey.tenant_id == Tenant.id)
        .where(Tenant.id.in_([a.tenant_id, b.tenant_id]))
    )
    with db.transaction(tenant_id=a.tenant_id) as session:
        assert [tuple(row) for row in session.execute(statement)] == [(a.tenant_id, a.key_id)]


def test_aggregate_over_entity_column_is_scoped(db: Database, a: Owned, b: Owned) -> None:
    with db.transaction(tenant_id=a.tenant_id) as session:
        count = session.scalar(
            select(func.count(ApiKey.id)).where(ApiKey.id.in_([a.key_id, b.key_id]))
        )
    assert count == 1


def test_count_with_select_from_is_scoped(db: Database, a: Owned, b: Owned) -> None:
    statement = select(func.count()).select_from(ApiKey).where(ApiKey.id.in_([a.key_id, b.key_id]))
    with db.transaction(tenant_id=a.tenant_id) as session:
        assert session.scalar(statement) == 1
    with db.transaction() as session, pytest.raises(UnscopedQueryError):
        session.scalar(statement)


def test_subqueries_are_scoped(db: Database, a: Owned, b: Owned) -> None:
    with_keys = select(ApiKey.tenant_id)
    statement = select(Tenant.id).where(
        Tenant.id.in_([a.tenant_id, b.tenant_id]), Tenant.id.in_(with_keys)
    )
    with db.transaction(tenant_id=a.tenant_id) as session:
        assert list(session.scalars(statement)) == [a.tenant_id]
    with db.transaction() as session, pytest.raises(UnscopedQueryError):
        session.scalars(statement)


# -- writes --------------------------------------------------------------------------------


def test_bulk_update_and_delete_do_not_reach_another_tenant(
    db: Database, a: Owned, b: Owned
) -> None:
    with db.transaction(tenant_id=a.tenant_id) as session:
        changed = session.execute(
            update(ApiKey).where(ApiKey.id.in_([a.key_id, b.key_id])).values(name="renamed")
        )
        assert changed.rowcount == 1
        removed = session.execute(delete(ApiKey).where(ApiKey.id == b.key_id))
        assert removed.rowcount == 0
    assert names(db, a.key_id, b.key_id) == {a.key_id: "renamed", b.key_id: "row"}


def test_new_row_is_stamped_with_the_session_tenant(db: Database, a: Owned) -> None:
    with db.transaction(tenant_id=a.tenant_id) as session:
        key = ApiKey(**key_row())
        session.add(key)
        session.flush()
        assert key.tenant_id == a.tenant_id
        key_id = key.id
    with db.transaction(tenant_id=a.tenant_id) as session:
        assert session.get(ApiKey, key_id) is not None


def test_writing_another_tenants_row_raises(db: Database, a: Owned, b: Owned) -> None:
    row = key_row(tenant_id=b.tenant_id)
    with db.session(tenant_id=a.tenant_id) as session:
        session.add(ApiKey(**row))
        with pytest.raises(UnscopedQueryError, match=b.tenant_id):
            session.flush()
    assert names(db, row["id"]) == {}


def test_moving_a_row_to_another_tenant_raises(db: Database, a: Owned, b: Owned) -> None:
    with db.session(tenant_id=a.tenant_id) as session:
        key = session.get(ApiKey, a.key_id)
        assert key is not None
        key.tenant_id = b.tenant_id
        with pytest.raises(UnscopedQueryError):
            session.flush()
    with db.transaction(tenant_id=a.tenant_id) as session:
        assert session.get(ApiKey, a.key_id) is not None


def test_row_without_tenant_in_unscoped_session_raises(db: Database) -> None:
    row = key_row()
    with db.session() as session:
        session.add(ApiKey(**row))
        with pytest.raises(UnscopedQueryError, match="without a tenant"):
            session.flush()
    assert names(db, row["id"]) == {}


def test_unscoped_session_may_write_a_row_naming_its_tenant(db: Database, a: Owned) -> None:
    row = key_row(tenant_id=a.tenant_id)
    with db.transaction() as session:
        session.add(ApiKey(**row))
    assert names(db, row["id"]) == {row["id"]: "row"}


def test_bulk_insert_of_another_tenants_row_raises(db: Database, a: Owned, b: Owned) -> None:
    row = key_row(tenant_id=b.tenant_id)
    # The session closes without a commit, so whatever happens nothing is kept.
    with db.session(tenant_id=a.tenant_id) as session, pytest.raises(UnscopedQueryError):
        session.execute(insert(ApiKey), [row])
    assert names(db, row["id"]) == {}


def test_insert_from_select_must_name_its_tenant(db: Database, a: Owned, b: Owned) -> None:
    """The rows of INSERT ... FROM SELECT cannot be checked one by one: it is refused unless
    the caller says it scoped the SELECT itself."""
    copy_of_b = insert(ApiKey).from_select(
        ["id", "prefix", "secret_hash", "name", "tenant_id", "created_at"],
        select(
            func.lower(ApiKey.id),  # a distinct expression, as the id is unique
            func.lower(ApiKey.prefix),
            ApiKey.secret_hash,
            ApiKey.name,
            ApiKey.tenant_id,
            ApiKey.created_at,
        ).where(ApiKey.id == b.key_id),
    )
    with db.session(tenant_id=a.tenant_id) as session, pytest.raises(UnscopedQueryError):
        session.execute(copy_of_b)


# -- sessions without a tenant -------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        select(ApiKey),
        select(ApiKey.id),
        select(func.count(ApiKey.id)),
        update(ApiKey).values(name="x"),
        delete(ApiKey),
    ],
    ids=["entity", "column", "aggregate", "update", "delete"],
)
def test_unscoped_session_refuses_tenant_rows(db: Database, statement: Any) -> None:
    with db.session() as session, pytest.raises(UnscopedQueryError, match="ApiKey"):
        session.execute(statement)


def test_unscoped_get_refuses_tenant_rows(db: Database, a: Owned) -> None:
    with db.session() as session, pytest.raises(UnscopedQueryError):
        session.get(ApiKey, a.key_id)


def test_all_tenants_reads_every_tenant(db: Database, a: Owned, b: Owned) -> None:
    with db.transaction() as session:
        rows = session.execute(
            select(ApiKey.id, ApiKey.tenant_id)
            .where(ApiKey.id.in_([a.key_id, b.key_id]))
            .order_by(ApiKey.id)
            .execution_options(all_tenants=True)
        )
        assert sorted(tuple(row) for row in rows) == sorted(
            [(a.key_id, a.tenant_id), (b.key_id, b.tenant_id)]
        )


def test_all_tenants_also_lifts_the_scope_of_a_tenant_session(
    db: Database, a: Owned, b: Owned
) -> None:
    with db.transaction(tenant_id=a.tenant_id) as session:
        ids = session.scalars(
            select(ApiKey.id)
            .where(ApiKey.id.in_([a.key_id, b.key_id]))
            .execution_options(all_tenants=True)
        )
        assert set(ids) == {a.key_id, b.key_id}


def test_shared_tables_need_no_tenant(db: Database, a: Owned, b: Owned) -> None:
    with db.transaction() as session:
        ids = session.scalars(select(Tenant.id).where(Tenant.id.in_([a.tenant_id, b.tenant_id])))
        assert set(ids) == {a.tenant_id, b.tenant_id}
    with db.transaction(tenant_id=a.tenant_id) as session:
        ids = session.scalars(select(Tenant.id).where(Tenant.id.in_([a.tenant_id, b.tenant_id])))
        assert set(ids) == {a.tenant_id, b.tenant_id}


def test_transaction_rolls_back_on_error(db: Database, a: Owned) -> None:
    row = key_row()

    def write_then_fail() -> None:
        with db.transaction(tenant_id=a.tenant_id) as session:
            session.add(ApiKey(**row))
            session.flush()
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError, match="abort"):
        write_then_fail()
    assert names(db, row["id"]) == {}
