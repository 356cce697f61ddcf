"""Keyset pagination (``almacen.gateway.pagination``) on the worker's real database.

Each test makes its own tenants, with the timestamps it needs, under a slug prefix of its own,
and pages through just those rows.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Select, select

from almacen.gateway.app import gateway_of
from almacen.gateway.db import Database
from almacen.gateway.errors import RequestValidationError
from almacen.gateway.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, paginate
from almacen.gateway.tenancy.models import Tenant

T0 = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
KEYS = (Tenant.created_at, Tenant.id)


@pytest.fixture(scope="module")
def db(app: Any) -> Database:
    return gateway_of(app).db


def add_tenant(db: Database, slug: str, when: dt.datetime) -> str:
    """Insert a tenant made at ``when``; return its id."""
    tenant_id = uuid.uuid4().hex
    with db.transaction() as session:
        session.add(Tenant(id=tenant_id, slug=slug, name="page", status="active", created_at=when))
    return tenant_id


@pytest.fixture
def rows(db: Database) -> Callable[..., tuple[Select[Any], list[str]]]:
    """Make tenants at the given times; return a statement selecting only them, and their ids
    in the order pagination must serve them (time, then id)."""

    def make(*times: dt.datetime, prefix: str | None = None) -> tuple[Select[Any], list[str]]:
        prefix = prefix or f"pg-{uuid.uuid4().hex[:10]}"
        made = [
            (when, add_tenant(db, f"{prefix}-{number}", when)) for number, when in enumerate(times)
        ]
        statement = select(Tenant).where(Tenant.slug.startswith(prefix + "-"))
        return statement, [tenant_id for _, tenant_id in sorted(made)]

    return make


def walk(db: Database, statement: Select[Any], limit: int) -> list[Page[Any]]:
    pages = []
    cursor = None
    with db.transaction() as session:
        for _ in range(100):
            page = paginate(session, statement, keys=KEYS, limit=limit, cursor=cursor)
            pages.append(page)
            cursor = page.next_cursor
            if cursor is None:
                return pages
    raise AssertionError("pagination never ended")


def served(pages: list[Page[Any]]) -> list[str]:
    return [tenant.id for page in pages for tenant in page.items]


def test_pages_serve_every_row_once_in_order(db: Database, rows: Any) -> None:
    statement, expected = rows(*(T0 + dt.timedelta(seconds=s) for s in (5, 1, 4, 2, 3)))
    pages = walk(db, statement, limit=2)
    assert [len(page.items) for page in pages] == [2, 2, 1]
    assert served(pages) == expected
    assert pages[-1].next_cursor is None
    assert all(page.next_cursor for page in pages[:-1])


def test_rows_sharing_a_timestamp_are_ordered_by_id(db: Database, rows: Any) -> None:
    statement, expected = rows(*([T0] * 5), T0 - dt.timedelta(microseconds=1))
    for limit in (1, 2, 3, 5, 6, 7):
        assert served(walk(db, statement, limit=limit)) == expected, limit


def test_microseconds_survive_the_cursor(db: Database, rows: Any) -> None:
    statement, expected = rows(*(T0 + dt.timedelta(microseconds=us) for us in (3, 1, 2)))
    assert served(walk(db, statement, limit=1)) == expected


def test_timezones_of_the_input_do_not_matter(db: Database, rows: Any) -> None:
    bogota = dt.timezone(dt.timedelta(hours=-5))
    statement, expected = rows(
        T0.astimezone(bogota) + dt.timedelta(seconds=2), T0 + dt.timedelta(seconds=1)
    )
    assert served(walk(db, statement, limit=1)) == expected


def test_full_last_page_has_no_next(db: Database, rows: Any) -> None:
    statement, expected = rows(T0, T0 + dt.timedelta(seconds=1))
    pages = walk(db, statement, limit=2)
    assert len(pages) == 1
    assert served(pages) == expected


def test_empty_result(db: Database) -> None:
    with db.transaction() as session:
        page = paginate(
            session, select(Tenant).where(Tenant.slug == "no-such-slug-ever"), keys=KEYS
        )
    assert (list(page.items), page.next_cursor) == ([], None)


def test_rows_added_later_appear_on_later_pages(db: Database, rows: Any) -> None:
    prefix = f"pg-{uuid.uuid4().hex[:10]}"
    statement, expected = rows(T0, T0 + dt.timedelta(seconds=1), prefix=prefix)
    with db.transaction() as session:
        first = paginate(session, statement, keys=KEYS, limit=1)
    # Rows added after the first page: one later than every row is served, one earlier is
    # behind the cursor (keyset pages never shift or repeat).
    late_id = add_tenant(db, f"{prefix}-late", T0 + dt.timedelta(seconds=2))
    add_tenant(db, f"{prefix}-early", T0 - dt.timedelta(seconds=1))
    with db.transaction() as session:
        rest = paginate(session, statement, keys=KEYS, limit=10, cursor=first.next_cursor)
    assert [t.id for t in first.items] + [t.id for t in rest.items] == [*expected, late_id]


def test_cursor_is_opaque_url_safe_text(db: Database, rows: Any) -> None:
    statement, _ = rows(T0, T0 + dt.timedelta(seconds=1))
    with db.transaction() as session:
        cursor = paginate(session, statement, keys=KEYS, limit=1).next_cursor
    assert cursor is not None
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(cursor) <= 512  # the Cursor parameter's maxLength


def test_limits_are_those_documented() -> None:
    assert (DEFAULT_LIMIT, MAX_LIMIT) == (50, 500)


def encoded(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "a",
        encoded({"created_at": "x"}),
        encoded([]),
        encoded(["2026-01-01T00:00:00+00:00"]),
        encoded(["2026-01-01T00:00:00+00:00", "a", "b"]),
        encoded(["not a date", "x"]),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        "ñ",
    ],
    ids=[
        "not-base64",
        "short",
        "object",
        "empty",
        "one-value",
        "three-values",
        "not-a-date",
        "not-utf8",
        "not-ascii",
    ],
)
def test_foreign_cursor_is_a_validation_error(db: Database, cursor: str) -> None:
    with db.transaction() as session, pytest.raises(RequestValidationError) as caught:
        paginate(session, select(Tenant), keys=KEYS, cursor=cursor)
    assert caught.value.status == 400
    assert caught.value.errors[0]["parameter"] == "cursor"


@pytest.mark.parametrize(
    "values",
    [[1, 2], ["2026-01-01T00:00:00", "x"], [None, None], [True, "x"]],
    ids=["numbers", "naive-date", "nulls", "boolean"],
)
def test_cursor_of_wrong_types_is_a_validation_error(db: Database, values: list[Any]) -> None:
    with db.transaction() as session, pytest.raises(RequestValidationError):
        paginate(session, select(Tenant), keys=KEYS, cursor=encoded(values))
