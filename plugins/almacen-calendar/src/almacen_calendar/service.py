"""The calendar's domain logic: public holidays, tenants' own days off, business-day sums.

Plain functions over a SQLAlchemy session opened for one tenant (the gateway scopes every
query on :class:`~almacen_calendar.models.CustomHoliday` to it); the caller owns the
transaction. Public holidays come from the ``holidays`` library, in each country's own
language so that names do not depend on the server's locale.

A day is a *business day* when it is none of: a public holiday of the country (and of the
tenant's subdivision, for its configured country), one of the tenant's own days off in that
country, or one of the tenant's weekend days.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Literal

import holidays
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from almacen.gateway.errors import ConflictError, NotFoundError, UnprocessableError
from almacen.gateway.pagination import DEFAULT_LIMIT, Page, paginate
from almacen.gateway.tenancy.models import Subscription

from .models import CustomHoliday

__all__ = [
    "DEFAULT_COUNTRY",
    "DEFAULT_WEEKEND",
    "MAX_DATE",
    "MAX_DAYS",
    "MIN_DATE",
    "MODULE",
    "BusinessCalendar",
    "BusinessDaySum",
    "CalendarSettings",
    "DayCheck",
    "Holiday",
    "HolidayList",
    "add_business_days",
    "add_holiday",
    "calendar_for",
    "check_business_day",
    "delete_holiday",
    "get_holiday",
    "is_supported_country",
    "list_custom_holidays",
    "list_holidays",
    "official_holidays",
    "settings_for",
    "subdivisions",
    "supported_countries",
]

#: The module's name: its URL segment, subscription key and action/event prefix.
MODULE = "calendar"
DEFAULT_COUNTRY = "CO"
#: ISO weekday numbers (1 = Monday … 7 = Sunday).
DEFAULT_WEEKEND: tuple[int, ...] = (6, 7)
#: The calendar answers for dates in this range only (the spec's year range).
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2200, 12, 31)
#: The largest number of business days one sum may add or subtract (about 14 years).
MAX_DAYS = 3660

Reason = Literal["weekend", "holiday", "tenant_holiday"]
Source = Literal["official", "tenant"]


# -- the holidays library ------------------------------------------------------------------


@functools.cache
def supported_countries() -> Mapping[str, tuple[str, ...]]:
    """ISO 3166-1 alpha-2 codes the ``holidays`` library knows, each with its subdivisions."""
    countries = holidays.list_supported_countries(include_aliases=False)
    return MappingProxyType(
        {code: tuple(subdivs) for code, subdivs in countries.items() if len(code) == 2}
    )


def is_supported_country(country: str) -> bool:
    """True when ``country`` is an alpha-2 code with public holidays in the library."""
    return country in supported_countries()


def subdivisions(country: str) -> tuple[str, ...]:
    """The subdivision codes the library knows for ``country`` (empty when none or unknown)."""
    return supported_countries().get(country, ())


@functools.lru_cache(maxsize=2048)
def official_holidays(country: str, subdivision: str | None, year: int) -> Mapping[dt.date, str]:
    """Public holidays of one country (and subdivision) in one year, by date.

    Observed days are included (a holiday moved to a Monday is listed on that Monday); names
    are in the country's own language. Cached: the library's answer only changes with its
    version.

    :raises UnprocessableError: when the library does not know the country.
    """
    _require_country(country)
    entity = holidays.country_holidays(
        country, subdiv=subdivision, years=year, language=_language(country)
    )
    return MappingProxyType(dict(entity.items()))


@functools.cache
def _language(country: str) -> str | None:
    # Left unset, the library picks the language from the process's locale (LANG and so
    # on): the same request would name holidays differently on two servers.
    return type(holidays.country_holidays(country)).default_language


def _require_country(country: str) -> None:
    if not is_supported_country(country):
        raise UnprocessableError(
            f"country {country!r} has no public holidays in this calendar",
            errors=[{"field": "country", "detail": "unsupported country"}],
        )


# -- configuration -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class CalendarSettings:
    """A tenant's calendar configuration, with the defaults filled in.

    :param country: the country used when a request names none.
    :param subdivision: the tenant's region of ``country``; it does not apply to others.
    :param weekend: ISO weekday numbers that are never business days.
    """

    country: str = DEFAULT_COUNTRY
    subdivision: str | None = None
    weekend: frozenset[int] = frozenset(DEFAULT_WEEKEND)

    def subdivision_of(self, country: str) -> str | None:
        """The subdivision to use for ``country``: the configured one, for its country only."""
        return self.subdivision if country == self.country else None


def settings_for(session: Session) -> CalendarSettings:
    """The calendar configuration of the session's tenant (defaults when it has none)."""
    subscription = session.scalar(select(Subscription).where(Subscription.module == MODULE))
    config: Mapping[str, Any] = subscription.config if subscription is not None else {}
    return CalendarSettings(
        country=config.get("country") or DEFAULT_COUNTRY,
        subdivision=config.get("subdivision"),
        weekend=frozenset(config.get("weekend", DEFAULT_WEEKEND)),
    )


# -- which days are business days ----------------------------------------------------------


class BusinessCalendar:
    """Which days are business days for one tenant in one country.

    :param country: ISO 3166-1 alpha-2 code.
    :param subdivision: a subdivision of ``country`` whose holidays also apply, or None.
    :param weekend: ISO weekday numbers that are never business days.
    :param tenant_days: ``tenant_days(year)`` gives the tenant's own days off in ``country``
        that year, by date; each year is asked for once.
    """

    def __init__(
        self,
        *,
        country: str,
        subdivision: str | None = None,
        weekend: frozenset[int] = frozenset(DEFAULT_WEEKEND),
        tenant_days: Callable[[int], Mapping[dt.date, str]] = lambda _year: {},
    ) -> None:
        _require_country(country)
        self.country = country
        self.subdivision = subdivision
        self.weekend = weekend
        self._load_tenant_days = tenant_days
        self._tenant_days: dict[int, Mapping[dt.date, str]] = {}

    def tenant_days(self, year: int) -> Mapping[dt.date, str]:
        """The tenant's own days off in ``year``."""
        days = self._tenant_days.get(year)
        if days is None:
            days = self._tenant_days[year] = self._load_tenant_days(year)
        return days

    def day_off(self, day: dt.date) -> tuple[Reason, str | None] | None:
        """Why ``day`` is not a business day, and the holiday's name; None on a business day.

        A public holiday is named first, then a tenant's day off, then the weekend: a
        holiday that falls on a Saturday is reported as the holiday.
        """
        name = official_holidays(self.country, self.subdivision, day.year).get(day)
        if name is not None:
            return "holiday", name
        name = self.tenant_days(day.year).get(day)
        if name is not None:
            return "tenant_holiday", name
        if day.isoweekday() in self.weekend:
            return "weekend", None
        return None

    def is_business_day(self, day: dt.date) -> bool:
        """True when ``day`` is a business day."""
        return self.day_off(day) is None

    def add(self, start: dt.date, days: int) -> dt.date:
        """The business day ``days`` business days after ``start`` (before it when negative).

        Counting starts from the day after (before) ``start``, so a Saturday plus one is the
        next business day and a Saturday minus one the previous one. With ``days == 0`` the
        answer is ``start`` when it is a business day, else the next business day. From a
        business day, adding ``n`` and then ``-n`` comes back to it.

        :raises UnprocessableError: when ``|days|`` exceeds :data:`MAX_DAYS`, or the walk
            leaves the dates the calendar covers.
        """
        if abs(days) > MAX_DAYS:
            raise UnprocessableError(
                f"days must be between -{MAX_DAYS} and {MAX_DAYS}",
                errors=[{"field": "days", "detail": "out of range"}],
            )
        _require_date(start, "date")
        day = start
        if days == 0:
            while not self.is_business_day(day):
                day = _shift(day, 1)
            return day
        step = 1 if days > 0 else -1
        remaining = abs(days)
        while remaining:
            day = _shift(day, step)
            if self.is_business_day(day):
                remaining -= 1
        return day


def _require_date(day: dt.date, field: str) -> None:
    if not MIN_DATE <= day <= MAX_DATE:
        raise UnprocessableError(
            f"{field} {day.isoformat()} is outside {MIN_DATE.isoformat()}..{MAX_DATE.isoformat()}",
            errors=[{"field": field, "detail": "out of range"}],
        )


def _shift(day: dt.date, step: int) -> dt.date:
    # Bounded walk: even a tenant that marks every remaining weekday as a day off cannot keep
    # a request looping; it ends at the edge of the calendar with a 422.
    following = day + dt.timedelta(days=step)
    if not MIN_DATE <= following <= MAX_DATE:
        raise UnprocessableError(
            "the result falls outside the dates this calendar covers "
            f"({MIN_DATE.isoformat()}..{MAX_DATE.isoformat()})",
            errors=[{"field": "days", "detail": "result out of range"}],
        )
    return following


def calendar_for(session: Session, *, country: str | None = None) -> BusinessCalendar:
    """The business calendar of the session's tenant for ``country`` (its own by default).

    :raises UnprocessableError: when the library does not know ``country``.
    """
    settings = settings_for(session)
    country = country or settings.country
    _require_country(country)

    def tenant_days(year: int) -> Mapping[dt.date, str]:
        rows = session.execute(
            select(CustomHoliday.date, CustomHoliday.name).where(
                CustomHoliday.country == country,
                CustomHoliday.date >= dt.date(year, 1, 1),
                CustomHoliday.date <= dt.date(year, 12, 31),
            )
        )
        return {day: name for day, name in rows}

    return BusinessCalendar(
        country=country,
        subdivision=settings.subdivision_of(country),
        weekend=settings.weekend,
        tenant_days=tenant_days,
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class BusinessDaySum:
    """The answer to "which business day is ``days`` business days from ``date``"."""

    date: dt.date
    days: int
    country: str
    result: dt.date


@dataclasses.dataclass(frozen=True, kw_only=True)
class DayCheck:
    """Whether one day is a business day, and if not, why."""

    date: dt.date
    country: str
    business_day: bool
    reason: Reason | None
    holiday: str | None


def add_business_days(
    session: Session, *, start: dt.date, days: int, country: str | None = None
) -> BusinessDaySum:
    """Add (or, when negative, subtract) ``days`` business days to ``start``.

    See :meth:`BusinessCalendar.add` for the counting rule.

    :raises UnprocessableError: for an unsupported country or a date out of range.
    """
    calendar = calendar_for(session, country=country)
    result = calendar.add(start, days)
    return BusinessDaySum(date=start, days=days, country=calendar.country, result=result)


def check_business_day(session: Session, *, day: dt.date, country: str | None = None) -> DayCheck:
    """Say whether ``day`` is a business day for the session's tenant.

    :raises UnprocessableError: for an unsupported country or a date out of range.
    """
    _require_date(day, "date")
    calendar = calendar_for(session, country=country)
    off = calendar.day_off(day)
    return DayCheck(
        date=day,
        country=calendar.country,
        business_day=off is None,
        reason=off[0] if off is not None else None,
        holiday=off[1] if off is not None else None,
    )


# -- listing and keeping days off ----------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Holiday:
    """A day off as listed: a public holiday (``official``) or the tenant's own (``tenant``)."""

    date: dt.date
    name: str
    source: Source
    id: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class HolidayList:
    """Every day off of one country in one year, sorted by date."""

    country: str
    year: int
    items: Sequence[Holiday]


def list_holidays(session: Session, *, year: int, country: str | None = None) -> HolidayList:
    """Public holidays and the tenant's own days off in ``year``, by date (public first).

    :raises UnprocessableError: when the library does not know ``country``.
    """
    if not MIN_DATE.year <= year <= MAX_DATE.year:
        raise UnprocessableError(
            f"year must be between {MIN_DATE.year} and {MAX_DATE.year}",
            errors=[{"field": "year", "detail": "out of range"}],
        )
    calendar = calendar_for(session, country=country)
    official = official_holidays(calendar.country, calendar.subdivision, year)
    items = [Holiday(date=day, name=name, source="official") for day, name in official.items()]
    rows = session.scalars(
        select(CustomHoliday).where(
            CustomHoliday.country == calendar.country,
            CustomHoliday.date >= dt.date(year, 1, 1),
            CustomHoliday.date <= dt.date(year, 12, 31),
        )
    )
    items += [Holiday(date=r.date, name=r.name, source="tenant", id=r.id) for r in rows]
    items.sort(key=lambda h: (h.date, h.source != "official", h.name))
    return HolidayList(country=calendar.country, year=year, items=items)


def add_holiday(
    session: Session, *, day: dt.date, name: str, country: str | None = None
) -> CustomHoliday:
    """Add one of the tenant's own days off.

    :raises UnprocessableError: for an unsupported country or a date out of range.
    :raises ConflictError: when the tenant already has a day off on that date in that country.
    """
    _require_date(day, "date")
    country = country or settings_for(session).country
    _require_country(country)
    existing = session.scalar(
        select(CustomHoliday.id).where(CustomHoliday.country == country, CustomHoliday.date == day)
    )
    if existing is not None:
        raise _duplicate(day, country)
    holiday = CustomHoliday(date=day, name=name, country=country)
    try:
        # Added inside the savepoint, so that its rollback also takes the row out of the
        # session: added before it, the row would stay pending and fail again on the next
        # autoflush, this time taking the whole transaction down.
        with session.begin_nested():
            session.add(holiday)
    except IntegrityError:
        # Lost a race with a concurrent request adding the same day: the unique constraint
        # on (tenant_id, country, date) caught what the check above could not.
        raise _duplicate(day, country) from None
    from .events import holiday_added  # its schemas module imports this one

    holiday_added(session, holiday)
    return holiday


def _duplicate(day: dt.date, country: str) -> ConflictError:
    return ConflictError(
        f"the tenant already has a day off on {day.isoformat()} in {country}",
        errors=[{"pointer": "/date", "detail": "duplicate day off"}],
    )


def list_custom_holidays(
    session: Session, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[CustomHoliday]:
    """The tenant's own days off, in the order they were added, a page at a time."""
    return paginate(
        session,
        select(CustomHoliday),
        keys=(CustomHoliday.created_at, CustomHoliday.id),
        limit=limit,
        cursor=cursor,
    )


def get_holiday(session: Session, holiday_id: str) -> CustomHoliday:
    """One of the tenant's own days off. :raises NotFoundError: when the tenant has none."""
    holiday = session.scalar(select(CustomHoliday).where(CustomHoliday.id == holiday_id))
    if holiday is None:
        raise NotFoundError(f"no day off {holiday_id!r} for this tenant")
    return holiday


def delete_holiday(session: Session, holiday_id: str) -> None:
    """Remove one of the tenant's own days off. :raises NotFoundError: when there is none."""
    session.delete(get_holiday(session, holiday_id))
