"""HTTP handlers of ``/v1/calendar``, named after the operationIds in ``openapi.yaml``.

connexion has already checked each request against the spec; a handler turns strings into
dates, checks the country against the ``holidays`` library (saying which parameter or body
member was wrong), calls the service on the request's session and dumps the answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from almacen.gateway.errors import RequestValidationError, UnprocessableError
from almacen.gateway.state import request_session

from . import service
from .schemas import (
    BusinessDaySumSchema,
    CustomHolidaySchema,
    DayCheckSchema,
    HolidayListSchema,
)

__all__ = [
    "add_business_days",
    "add_holiday",
    "check_business_day",
    "delete_custom_holiday",
    "get_custom_holiday",
    "list_custom_holidays",
    "list_holidays",
]

_listing = HolidayListSchema()
_custom = CustomHolidaySchema()
_sum = BusinessDaySumSchema()
_check = DayCheckSchema()


def list_holidays(year: int, country: str | None = None) -> dict[str, Any]:
    """Public holidays and the tenant's own days off of one country in one year."""
    listing = service.list_holidays(
        request_session(), year=year, country=_country(country, _query("country"))
    )
    return dict(_listing.dump(listing))


def add_holiday(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Add one of the tenant's own days off."""
    holiday = service.add_holiday(
        request_session(),
        day=_date(body["date"], {"pointer": "/date"}),
        name=body["name"],
        country=_country(body.get("country"), {"pointer": "/country"}),
    )
    return dict(_custom.dump(holiday)), 201


def list_custom_holidays(limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    """A page of the tenant's own days off."""
    page = service.list_custom_holidays(request_session(), limit=limit, cursor=cursor)
    return {"items": _custom.dump(page.items, many=True), "next": page.next_cursor}


def get_custom_holiday(holiday_id: str) -> dict[str, Any]:
    """One of the tenant's own days off."""
    return dict(_custom.dump(service.get_holiday(request_session(), holiday_id)))


def delete_custom_holiday(holiday_id: str) -> tuple[str, int]:
    """Remove one of the tenant's own days off."""
    service.delete_holiday(request_session(), holiday_id)
    return "", 204


def add_business_days(date: str, days: int, country: str | None = None) -> dict[str, Any]:
    """The business day ``days`` business days after (or before) ``date``."""
    answer = service.add_business_days(
        request_session(),
        start=_date(date, _query("date")),
        days=days,
        country=_country(country, _query("country")),
    )
    return dict(_sum.dump(answer))


def check_business_day(date: str, country: str | None = None) -> dict[str, Any]:
    """Whether ``date`` is a business day for the tenant, and if not, why."""
    answer = service.check_business_day(
        request_session(),
        day=_date(date, _query("date")),
        country=_country(country, _query("country")),
    )
    return dict(_check.dump(answer))


def _query(name: str) -> dict[str, str]:
    return {"parameter": name, "in": "query"}


def _date(value: str, location: Mapping[str, str]) -> dt.date:
    # Draft 4 JSON Schema (what connexion validates with) does not check `format: date`; the
    # spec's pattern only fixes the shape, so 2026-02-30 arrives here.
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise RequestValidationError(
            f"{value!r} is not a calendar date (YYYY-MM-DD).",
            errors=[{**location, "detail": "not a calendar date"}],
        ) from None
    if not service.MIN_DATE <= day <= service.MAX_DATE:
        raise UnprocessableError(
            f"{value} is outside the dates this calendar covers "
            f"({service.MIN_DATE.isoformat()}..{service.MAX_DATE.isoformat()}).",
            errors=[{**location, "detail": "out of range"}],
        )
    return day


def _country(value: str | None, location: Mapping[str, str]) -> str | None:
    if value is not None and not service.is_supported_country(value):
        raise UnprocessableError(
            f"country {value!r} has no public holidays in this calendar.",
            errors=[{**location, "detail": "unsupported country"}],
        )
    return value
