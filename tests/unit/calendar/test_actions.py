"""The calendar's actions and event type, as registered on the app and called in-process."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.orm import Session

from almacen.gateway.app import gateway_of
from almacen.gateway.db import UnscopedQueryError
from almacen_calendar import service


@pytest.fixture
def registry(app: Any) -> Any:
    return gateway_of(app).registry


def run(registry: Any, name: str, session: Session, data: dict[str, Any]) -> Any:
    """Call an action the way a caller would: load the input, run, dump the output."""
    action = registry.actions[name]
    loaded = action.input_schema().load(data)
    result = action.handler(session, session.info["tenant_id"], loaded)
    return action.output_schema().dump(result)


def test_add_business_days(registry: Any, session: Session) -> None:
    service.add_holiday(session, day=dt.date(2026, 12, 24), name="Nochebuena")
    # Thu 24 (own day off), Fri 25 (Christmas), weekend: Mon 28, Tue 29, Wed 30.
    answer = run(registry, "calendar.add_business_days", session, {"date": "2026-12-23", "days": 3})
    assert answer == {"date": "2026-12-23", "days": 3, "country": "CO", "result": "2026-12-30"}


def test_is_business_day(registry: Any, session: Session) -> None:
    answer = run(registry, "calendar.is_business_day", session, {"date": "2026-01-12"})
    assert (answer["business_day"], answer["reason"]) == (False, "holiday")
    answer = run(
        registry, "calendar.is_business_day", session, {"date": "2026-07-04", "country": "US"}
    )
    assert (answer["business_day"], answer["reason"]) == (False, "holiday")


def test_actions_refuse_a_session_of_another_tenant(registry: Any, session: Session) -> None:
    action = registry.actions["calendar.is_business_day"]
    with pytest.raises(UnscopedQueryError):
        action.handler(session, "0" * 32, {"date": dt.date(2026, 1, 12)})


def test_event_type_is_registered(registry: Any) -> None:
    event = registry.event_types["calendar.holiday_added"]
    assert event.module == "calendar"
    assert event.version == 1
    payload = {"id": "a" * 32, "date": "2026-12-24", "name": "Nochebuena", "country": "CO"}
    assert event.schema().dump(event.schema().load(payload)) == payload
