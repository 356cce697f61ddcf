"""The calendar's service: business-day arithmetic, settings, and the tenant's days off.

Dates are worked out by hand (see ``tests/functional/test_calendar.py`` for the Colombian
rules); the properties at the end hold for any country, weekend and set of days off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from almacen.gateway.errors import ConflictError, NotFoundError, UnprocessableError
from almacen_calendar import service
from almacen_calendar.models import CustomHoliday
from almacen_calendar.service import BusinessCalendar, CalendarSettings

D = dt.date


def colombia(**kwargs: Any) -> BusinessCalendar:
    return BusinessCalendar(country="CO", **kwargs)


# -- BusinessCalendar, without a database --------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (D(2026, 2, 6), 1, D(2026, 2, 9)),  # Fri + 1 over a plain weekend
        (D(2026, 2, 9), -1, D(2026, 2, 6)),  # and back
        (D(2026, 12, 23), 3, D(2026, 12, 29)),  # Thu 24 (1), Fri 25 Christmas, Mon 28, Tue 29
        (D(2026, 1, 9), 1, D(2026, 1, 13)),  # Mon 12 is the Epiphany, moved from Tue 6
        (D(2026, 1, 10), 1, D(2026, 1, 13)),  # from a Saturday, the next business day
        (D(2026, 1, 10), -1, D(2026, 1, 9)),  # ... or the previous one
        (D(2026, 1, 10), 0, D(2026, 1, 13)),  # zero rolls forward
        (D(2026, 1, 8), 0, D(2026, 1, 8)),  # ... and keeps a business day
        (D(2026, 4, 1), 1, D(2026, 4, 6)),  # Maundy Thursday, Good Friday, weekend
    ],
)
def test_add_in_colombia(start: dt.date, days: int, expected: dt.date) -> None:
    assert colombia().add(start, days) == expected


def test_weekend_is_configurable() -> None:
    calendar = colombia(weekend=frozenset({5}))  # Fridays off, weekends worked
    assert calendar.add(D(2026, 2, 5), 1) == D(2026, 2, 7)
    assert calendar.day_off(D(2026, 2, 6)) == ("weekend", None)
    assert calendar.day_off(D(2026, 2, 7)) is None


def test_tenant_days_count_and_are_loaded_once_per_year() -> None:
    asked: list[int] = []

    def tenant_days(year: int) -> Mapping[dt.date, str]:
        asked.append(year)
        return {D(2026, 12, 24): "Nochebuena"} if year == 2026 else {}

    calendar = colombia(tenant_days=tenant_days)
    assert calendar.add(D(2026, 12, 23), 3) == D(2026, 12, 30)
    assert calendar.add(D(2026, 12, 30), 2) == D(2027, 1, 4)  # Thu 31, Fri 1 Jan off, Mon 4
    assert calendar.day_off(D(2026, 12, 24)) == ("tenant_holiday", "Nochebuena")
    assert asked == [2026, 2027]


def test_a_holiday_on_a_weekend_is_reported_as_the_holiday() -> None:
    # 1 January 2022 was a Saturday.
    reason, name = colombia().day_off(D(2022, 1, 1)) or ("", None)
    assert reason == "holiday"
    assert name


def test_holiday_names_do_not_depend_on_the_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.setenv(variable, "en_US.UTF-8")
    service.official_holidays.cache_clear()
    try:
        assert service.official_holidays("CO", None, 2026)[D(2026, 1, 1)] == "Año Nuevo"
    finally:
        service.official_holidays.cache_clear()


def test_days_beyond_the_limit_are_refused() -> None:
    with pytest.raises(UnprocessableError) as error:
        colombia().add(D(2026, 1, 1), service.MAX_DAYS + 1)
    assert error.value.errors[0]["field"] == "days"


@pytest.mark.parametrize(("start", "days"), [(D(2200, 12, 20), 30), (D(1900, 1, 10), -30)])
def test_a_walk_off_the_calendar_is_refused(start: dt.date, days: int) -> None:
    with pytest.raises(UnprocessableError, match="outside the dates"):
        colombia().add(start, days)


def test_a_start_off_the_calendar_is_refused() -> None:
    with pytest.raises(UnprocessableError) as error:
        colombia().add(D(2201, 1, 1), 1)
    assert error.value.errors[0]["field"] == "date"


def test_an_unknown_country_is_refused() -> None:
    with pytest.raises(UnprocessableError) as error:
        BusinessCalendar(country="ZZ")
    assert error.value.errors[0]["field"] == "country"


def test_supported_countries_are_alpha_2_codes() -> None:
    countries = service.supported_countries()
    assert {"CO", "US", "GB", "MX"} <= set(countries)
    assert all(len(code) == 2 and code.isupper() for code in countries)
    assert "CA" in service.subdivisions("US")
    assert service.subdivisions("ZZ") == ()


# -- properties ----------------------------------------------------------------------------

calendars = st.builds(
    BusinessCalendar,
    country=st.sampled_from(["CO", "US", "GB", "MX", "JP"]),
    weekend=st.frozensets(st.integers(1, 7), max_size=6),
    tenant_days=st.frozensets(st.dates(D(2020, 1, 1), D(2031, 12, 31)), max_size=30).map(
        lambda days: lambda year: {day: "Own day" for day in days if day.year == year}
    ),
)
starts = st.dates(D(1990, 1, 1), D(2100, 12, 31))
counts = st.integers(-800, 800)


@settings(deadline=None, max_examples=150)
@given(calendar=calendars, start=starts, days=counts)
def test_adding_then_subtracting_comes_back(
    calendar: BusinessCalendar, start: dt.date, days: int
) -> None:
    business_day = calendar.add(start, 0)
    assert calendar.is_business_day(business_day)
    assert calendar.add(calendar.add(business_day, days), -days) == business_day


@settings(deadline=None, max_examples=150)
@given(calendar=calendars, start=starts, days=counts)
def test_the_result_is_days_business_days_away(
    calendar: BusinessCalendar, start: dt.date, days: int
) -> None:
    result = calendar.add(start, days)
    assert calendar.is_business_day(result)
    span = abs((result - start).days)
    if days > 0:  # the days in (start, result]
        counted = [start + dt.timedelta(days=i) for i in range(1, span + 1)]
    elif days < 0:  # the days in [result, start)
        counted = [result + dt.timedelta(days=i) for i in range(span)]
    else:  # start rolled forward: nothing before result is a business day
        counted = [start + dt.timedelta(days=i) for i in range(span)]
    assert sum(calendar.is_business_day(day) for day in counted) == abs(days)


# -- settings and days off, in the database ------------------------------------------------


def test_settings_default_without_a_subscription(new_tenant: Callable[..., Session]) -> None:
    assert service.settings_for(new_tenant(subscribed=False)) == CalendarSettings()


def test_settings_from_the_subscription(new_tenant: Callable[..., Session]) -> None:
    session = new_tenant(country="US", subdivision="CA", weekend=[7, 5])
    settings_ = service.settings_for(session)
    assert settings_ == CalendarSettings(country="US", subdivision="CA", weekend=frozenset({5, 7}))
    assert settings_.subdivision_of("US") == "CA"
    assert settings_.subdivision_of("MX") is None


def test_subdivision_applies_to_the_configured_country_only(
    new_tenant: Callable[..., Session],
) -> None:
    # California Government Code 6700: 31 March is Cesar Chavez Day (a Tuesday in 2026).
    california = new_tenant(country="US", subdivision="CA")
    check = service.check_business_day(california, day=D(2026, 3, 31))
    assert (check.business_day, check.reason, check.country) == (False, "holiday", "US")
    colombian = new_tenant()
    assert service.check_business_day(colombian, day=D(2026, 3, 31), country="US").business_day


def test_add_and_list_days_off(session: Session) -> None:
    holiday = service.add_holiday(session, day=D(2026, 12, 24), name="Nochebuena")
    service.add_holiday(session, day=D(2026, 12, 31), name="Fin de año", country="US")
    assert (holiday.country, len(holiday.id), holiday.created_at.tzinfo) == ("CO", 32, dt.UTC)
    listing = service.list_holidays(session, year=2026)
    own = [item for item in listing.items if item.source == "tenant"]
    assert own == [
        service.Holiday(date=D(2026, 12, 24), name="Nochebuena", source="tenant", id=holiday.id)
    ]
    assert [item.date for item in listing.items] == sorted(item.date for item in listing.items)
    result = service.add_business_days(session, start=D(2026, 12, 23), days=3)
    assert result == service.BusinessDaySum(
        date=D(2026, 12, 23), days=3, country="CO", result=D(2026, 12, 30)
    )


def test_a_second_day_off_on_a_date_is_a_conflict(session: Session) -> None:
    service.add_holiday(session, day=D(2026, 12, 24), name="Nochebuena")
    with pytest.raises(ConflictError):
        service.add_holiday(session, day=D(2026, 12, 24), name="Again")


def test_a_lost_race_is_a_conflict_and_the_transaction_survives(session: Session) -> None:
    tenant_id = session.info["tenant_id"]

    def concurrent_insert(flushing: Session, _context: Any, _instances: Any) -> None:
        # What a concurrent request would have written between our check and our flush.
        flushing.connection().execute(
            insert(CustomHoliday.__table__).values(
                id="f" * 32,
                tenant_id=tenant_id,
                country="CO",
                date=D(2026, 12, 24),
                name="Raced",
                created_at=dt.datetime.now(dt.UTC),
            )
        )

    event.listen(session, "before_flush", concurrent_insert, once=True)
    with pytest.raises(ConflictError):
        service.add_holiday(session, day=D(2026, 12, 24), name="Nochebuena")
    # The savepoint took the failed insert away; the request's transaction goes on.
    assert service.add_holiday(session, day=D(2026, 12, 25), name="Navidad").name == "Navidad"


def test_days_off_are_the_tenants_own(new_tenant: Callable[..., Session]) -> None:
    ours, theirs = new_tenant(), new_tenant()
    their_day = service.add_holiday(theirs, day=D(2026, 12, 24), name="Theirs")
    with pytest.raises(NotFoundError):
        service.get_holiday(ours, their_day.id)
    with pytest.raises(NotFoundError):
        service.delete_holiday(ours, their_day.id)
    assert service.get_holiday(theirs, their_day.id) is their_day
    assert service.check_business_day(ours, day=D(2026, 12, 24)).business_day
    assert list(service.list_custom_holidays(ours).items) == []
    # Both may have the same date: the unique constraint includes the tenant.
    service.add_holiday(ours, day=D(2026, 12, 24), name="Ours")


def test_delete_a_day_off(session: Session) -> None:
    holiday = service.add_holiday(session, day=D(2026, 12, 24), name="Nochebuena")
    service.delete_holiday(session, holiday.id)
    session.flush()
    assert session.scalar(select(CustomHoliday)) is None
    with pytest.raises(NotFoundError):
        service.get_holiday(session, holiday.id)


def test_custom_days_page_by_page(session: Session) -> None:
    made = [
        service.add_holiday(session, day=D(2026, 3, day), name=f"Day {day}").id for day in (2, 3, 4)
    ]
    first = service.list_custom_holidays(session, limit=2)
    assert first.next_cursor is not None
    second = service.list_custom_holidays(session, limit=2, cursor=first.next_cursor)
    assert second.next_cursor is None
    assert sorted(h.id for h in [*first.items, *second.items]) == sorted(made)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s: service.list_holidays(s, year=1899), "year"),
        (lambda s: service.list_holidays(s, year=2026, country="ZZ"), "country"),
        (lambda s: service.add_holiday(s, day=D(2026, 1, 2), name="x", country="ZZ"), "country"),
        (lambda s: service.add_holiday(s, day=D(1899, 1, 2), name="x"), "date"),
        (lambda s: service.check_business_day(s, day=D(2201, 1, 1)), "date"),
        (lambda s: service.add_business_days(s, start=D(2026, 1, 2), days=9999), "days"),
    ],
)
def test_bad_input_is_unprocessable(
    session: Session, call: Callable[[Session], Any], field: str
) -> None:
    with pytest.raises(UnprocessableError) as error:
        call(session)
    assert error.value.errors[0]["field"] == field
    assert session.scalar(select(CustomHoliday)) is None
