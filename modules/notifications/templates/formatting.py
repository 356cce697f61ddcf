"""Template filters that format money, numbers and dates for the message's locale (Babel).

Amounts are Decimal, never float: a filter given a float refuses it rather than print a
binary approximation of a debt. Money is shown with its currency's ISO 4217 decimals (COP 2,
JPY 0), the same as everywhere in Almacén, in the locale's CLDR currency pattern — CLDR's
own "cash" digits (0 for COP) would round a debt. The locale, default currency and time zone
of the message being rendered are held in a context variable while it renders.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import dataclasses
import datetime as dt
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_decimal

from almacen.gateway.money import Money, currency_exponent

__all__ = ["FILTERS", "FilterError", "Formatting", "formatting"]


class FilterError(ValueError):
    """Raised by a filter given a value it cannot format (a float, an unknown currency)."""


@dataclasses.dataclass(frozen=True)
class Formatting:
    """How the message being rendered formats values."""

    locale: Locale
    #: The message's currency (``data["currency"]``), used when an amount names none.
    currency: str | None = None
    #: The recipient's time zone, for ``datetime`` and ``time``.
    time_zone: str | None = None


_current: contextvars.ContextVar[Formatting] = contextvars.ContextVar("notifications_formatting")


@contextlib.contextmanager
def formatting(value: Formatting) -> Iterator[None]:
    """Let the filters format for ``value`` while the block renders."""
    token = _current.set(value)
    try:
        yield
    finally:
        _current.reset(token)


def _decimal(value: Any) -> Decimal:
    if isinstance(value, float):
        raise FilterError(f"{value!r} is a binary float; give amounts as decimal strings")
    if isinstance(value, bool):
        raise FilterError(f"{value!r} is not a number")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise FilterError(f"{value!r} is not a decimal number") from None
        if number.is_finite():
            return number
    raise FilterError(f"{value!r} is not a decimal number")


def money(value: Any, currency: str | None = None) -> str:
    """``{{ balance|money }}``: an amount in the locale's currency format.

    ``value`` is Money, a ``{"amount": "…", "currency": "…"}`` object, a Decimal, an int or
    a decimal string; the currency is the argument, else the value's, else the message's.
    """
    here = _current.get()
    code: Any
    if isinstance(value, Money):
        amount, code = value.amount, currency or value.currency
    elif isinstance(value, Mapping):
        amount = _decimal(value.get("amount"))
        code = currency or value.get("currency")
    else:
        amount, code = _decimal(value), currency or here.currency
    if not isinstance(code, str) or not code:
        raise FilterError("no currency: give the amount as Money or set data.currency")
    try:
        exponent = currency_exponent(code)
    except ValueError as exc:
        raise FilterError(str(exc)) from None
    pattern = copy.copy(here.locale.currency_formats["standard"])
    pattern.frac_prec = (exponent, exponent)
    # No quantization: an amount with more decimals than its currency shows them all.
    return str(
        pattern.apply(
            amount, here.locale, currency=code, currency_digits=False, decimal_quantization=False
        )
    )


def number(value: Any) -> str:
    """``{{ days|number }}``: a decimal number with the locale's separators."""
    return format_decimal(_decimal(value), locale=_current.get().locale, decimal_quantization=False)


def _datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise FilterError(f"{value!r} is not an ISO 8601 date-time") from None
    else:
        raise FilterError(f"{value!r} is not a date-time")
    if moment.tzinfo is None:
        raise FilterError(f"{value!r} has no time zone offset")
    return moment


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise FilterError(f"{value!r} is not an ISO 8601 date")


def _zone() -> ZoneInfo:
    name = _current.get().time_zone or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise FilterError(f"unknown time zone {name!r}") from None


_FORMATS = ("short", "medium", "long", "full")


def _format_name(form: str) -> str:
    # Only CLDR's named formats: a free pattern would be one more language to sandbox.
    if form not in _FORMATS:
        raise FilterError(f"format must be one of {', '.join(_FORMATS)}")
    return form


def date(value: Any, form: str = "medium") -> str:
    """``{{ due_on|date('long') }}``: a date in the locale (``5 de marzo de 2026``)."""
    return format_date(_date(value), _format_name(form), locale=_current.get().locale)


def datetime(value: Any, form: str = "medium") -> str:
    """``{{ at|datetime }}``: a date and time in the recipient's time zone."""
    return format_datetime(
        _datetime(value), _format_name(form), tzinfo=_zone(), locale=_current.get().locale
    )


def time(value: Any, form: str = "short") -> str:
    """``{{ at|time }}``: a time of day in the recipient's time zone."""
    return format_time(
        _datetime(value), _format_name(form), tzinfo=_zone(), locale=_current.get().locale
    )


#: The filters every template environment adds to Jinja2's own.
FILTERS: dict[str, Any] = {
    "money": money,
    "number": number,
    "date": date,
    "datetime": datetime,
    "time": time,
}
