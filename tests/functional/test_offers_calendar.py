"""Due dates on business days when the tenant has the calendar module (through the
``calendar.add_business_days`` action): a worked example on Colombian holidays, and every
monthly due date of a menu through HTTP is a business day by the calendar's own answer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from almacen.gateway.app import gateway_of
from almacen.gateway.money import Money
from almacen.modules.offers.service import menu_for
from tests.common.actors import TenantHandle
from tests.common.ledger import money

BASE = "/v1/offers"


def policy() -> dict[str, Any]:
    """COP terms: no upfront, plans of 3 and 6 months."""
    terms = {
        "max_discount": "0.10",
        "instalment_counts": [3, 6],
        "min_instalment": money("10.00"),
        "max_term_months": 6,
        "refinancing_rate": "0.12",
        "validity_days": 7,
    }
    return {"currency": "COP", "rules": [], "default": terms}


def _request(balance: str) -> dict[str, Any]:
    return {
        "account_id": None,
        "balance": Money(Decimal(balance), "COP"),
        "bucket": None,
        "days_past_due": None,
        "segment": None,
        "score": None,
    }


@pytest.mark.modules("offers", "calendar")
def test_worked_example_on_colombian_holidays(app: Any, tenant: TenantHandle) -> None:
    assert tenant.put(f"{BASE}/policy", json=policy()).status_code == 201
    # Today Tuesday 7 July 2026; monthly from 7 August:
    #   Fri 2026-08-07 is the Battle of Boyacá (a holiday) → Mon 2026-08-10
    #   Mon 2026-09-07, Wed 2026-10-07 are business days → unchanged
    #   Sat 2026-11-07 → Mon 2026-11-09; Mon 2026-12-07 and Thu 2027-01-07 unchanged
    with gateway_of(app).db.transaction(tenant_id=tenant.id) as session:
        menu = menu_for(session, _request("600.00"), today=dt.date(2026, 7, 7))
    plans = {item.term_months: item.offer for item in menu.items if item.offer.kind == "plan"}
    assert [row.due_on.isoformat() for row in plans[3].instalments] == [
        "2026-08-10",
        "2026-09-07",
        "2026-10-07",
    ]
    assert [row.due_on.isoformat() for row in plans[6].instalments] == [
        "2026-08-10",
        "2026-09-07",
        "2026-10-07",
        "2026-11-09",
        "2026-12-07",
        "2027-01-07",
    ]
    # Amounts do not move with the dates: 600.00 in 3 × 200.00 and 6 × 100.00.
    assert [row.amount for row in plans[3].instalments] == [Decimal("200.00")] * 3
    assert [row.amount for row in plans[6].instalments] == [Decimal("100.00")] * 6
    paid_today = [item.offer for item in menu.items if item.offer.kind == "pay_in_full"]
    assert [row.due_on for row in paid_today[0].schedule] == [dt.date(2026, 7, 7)]


@pytest.mark.modules("offers")
def test_without_the_calendar_dates_are_plain_months(app: Any, tenant: TenantHandle) -> None:
    assert tenant.put(f"{BASE}/policy", json=policy()).status_code == 201
    with gateway_of(app).db.transaction(tenant_id=tenant.id) as session:
        menu = menu_for(session, _request("600.00"), today=dt.date(2026, 7, 7))
    plans = {item.term_months: item.offer for item in menu.items if item.offer.kind == "plan"}
    assert plans[3].instalments[0].due_on == dt.date(2026, 8, 7)  # the holiday itself


@pytest.mark.modules("offers", "calendar")
def test_every_due_date_of_a_menu_is_a_business_day(tenant: TenantHandle) -> None:
    assert tenant.put(f"{BASE}/policy", json=policy()).status_code == 201
    response = tenant.post(f"{BASE}/menu", json={"balance": money("600.00")})
    assert response.status_code == 200, response.text
    dates = {
        row["due_on"]
        for offer in response.json()["offers"]
        for row in offer["schedule"]
        if row["number"] > 0
    }
    assert dates
    for day in sorted(dates):
        check = tenant.get("/v1/calendar/business-days/check", params={"date": day})
        assert check.status_code == 200, check.text
        assert check.json()["business_day"] is True, (day, check.json())
