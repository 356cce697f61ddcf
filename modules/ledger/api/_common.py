"""What every ledger handler needs: dates and Money from the wire, pages to the wire."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError

from almacen.gateway.errors import RequestValidationError, UnprocessableError
from almacen.gateway.money import Money, MoneyField
from almacen.gateway.pagination import Page

_MONEY = MoneyField()


def query(name: str) -> dict[str, str]:
    """The location of a query parameter, for a problem's ``errors``."""
    return {"parameter": name, "in": "query"}


def pointer(path: str) -> dict[str, str]:
    """The location of a body member, for a problem's ``errors``."""
    return {"pointer": path}


def date(value: str, location: Mapping[str, str]) -> dt.date:
    """A ``YYYY-MM-DD`` string as a date.

    Draft 4 JSON Schema (what connexion validates with) does not check ``format: date``; the
    spec's pattern only fixes the shape, so 2026-02-30 arrives here.
    """
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise RequestValidationError(
            f"{value!r} is not a calendar date (YYYY-MM-DD).",
            errors=[{**location, "detail": "not a calendar date"}],
        ) from None


def query_date(value: str | None, name: str) -> dt.date | None:
    """An optional date query parameter ``name``: None when absent (see :func:`date`)."""
    return date(value, query(name)) if value else None


def money(value: Mapping[str, Any], path: str) -> Money:
    """A Money member of the body; an unknown currency or too many decimals is a 422."""
    try:
        return _MONEY.deserialize(value)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, list) else [str(exc.messages)]
        detail = "; ".join(str(m) for m in messages)
        raise UnprocessableError(
            f"{path}: {detail}", errors=[{"pointer": path, "detail": detail}]
        ) from None


def decimal(value: str) -> Decimal:
    """A decimal string the spec's pattern already checked."""
    return Decimal(value)


def page(schema: Schema, found: Page[Any]) -> dict[str, Any]:
    """A page as the API shows it: ``items`` and the ``next`` cursor."""
    return {"items": schema.dump(found.items, many=True), "next": found.next_cursor}
