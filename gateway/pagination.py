"""Cursor pagination: ``limit`` and an opaque ``cursor`` in, ``items`` and ``next`` out.

The cursor encodes the sort key of the last row served (keyset pagination), so pages stay
stable while rows are added and no ``OFFSET`` scan grows with the page number.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from .errors import RequestValidationError

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "Page", "paginate"]

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclasses.dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows and the cursor of the next page (None on the last)."""

    items: Sequence[T]
    next_cursor: str | None


def _encode(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, dt.datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _decode(cursor: str, width: int) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != width:
        raise RequestValidationError(
            "The cursor is not one this API issued.",
            errors=[{"parameter": "cursor", "detail": "malformed or foreign cursor"}],
        )
    return values


def paginate(
    session: Session,
    statement: Select[Any],
    *,
    keys: tuple[InstrumentedAttribute[Any], InstrumentedAttribute[Any]],
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[Any]:
    """Run ``statement`` ordered by ``keys`` (a timestamp and a unique id), one page of it."""
    first, second = keys
    if cursor:
        after_first, after_second = _decode(cursor, 2)
        try:
            after_first = dt.datetime.fromisoformat(after_first)
        except (TypeError, ValueError):
            after_first = None
        if (
            after_first is None
            or after_first.tzinfo is None
            or not isinstance(after_second, str | int)
            or isinstance(after_second, bool)
        ):
            raise RequestValidationError(
                "The cursor is not one this API issued.",
                errors=[{"parameter": "cursor", "detail": "malformed cursor"}],
            )
        statement = statement.where(
            or_(first > after_first, and_(first == after_first, second > after_second))
        )
    rows = list(session.scalars(statement.order_by(first, second).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode([getattr(last, first.key), getattr(last, second.key)])
    return Page(items=rows, next_cursor=next_cursor)
