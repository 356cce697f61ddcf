"""Account services: opening entries, balances as of a date, adjustments, and the
``ledger.get_account`` action. Figures are the DOMAIN.md worked example, by hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from almacen.gateway.app import gateway_of
from almacen.gateway.db import UnscopedQueryError
from almacen.gateway.errors import NotFoundError, UnprocessableError
from almacen.gateway.money import Money
from almacen.modules.ledger import accounts, debtors, journal
from tests.common.ledger import LedgerWorld, ledger_world

D = Decimal
OPENED = dt.date(2026, 1, 15)


@pytest.fixture
def world(app: Any) -> Iterator[LedgerWorld]:
    with ledger_world(app) as world:
        yield world


def open_loan(session: Any, **overrides: Any) -> Any:
    debtor = debtors.create_debtor(session, {"external_ref": f"d{id(overrides)}", "name": "A"})
    args: dict[str, Any] = {
        "debtor_id": debtor.id,
        "external_ref": f"a{id(overrides)}",
        "product_type": "loan",
        "principal": Money(D("1000.00"), "COP"),
        "annual_rate": D("0.12"),
        "originated_on": OPENED,
        "schedule": {"generate": {"count": 12, "first_due": dt.date(2026, 2, 15)}},
        "on": dt.date(2026, 6, 1),
    }
    args.update(overrides)
    return accounts.open_account(session, **args)


def test_opening_posts_principal_fee_and_interest_by_due_date(world: LedgerWorld) -> None:
    session = world.new_tenant()
    account = open_loan(session, fees=Money(D("25.00"), "COP"))
    at_origination = journal.balances(session, account.id, as_of=OPENED)
    assert at_origination == {
        "receivable:principal": D("1000.00"),
        "funding": D("-1000.00"),
        "receivable:fees": D("25.00"),
        "income:fees": D("-25.00"),
    }
    everything = journal.balances(session, account.id)
    assert everything["receivable:interest"] == D("66.19")
    assert everything["income:interest"] == D("-66.19")
    assert sum(everything.values()) == 0
    # Interest of the first two instalments (10.00 and 9.21) is due by 15 March.
    # 1,000.00 − 78.85 = 921.15 outstanding after the first; 921.15 × 1 % = 9.2115 → 9.21.
    by_march = journal.balances(session, account.id, as_of=dt.date(2026, 3, 15))
    assert by_march["receivable:interest"] == D("19.21")


def test_summary_and_schedule_as_of(world: LedgerWorld) -> None:
    session = world.new_tenant()
    account = open_loan(session)
    config = accounts.settings_for(session)
    summary = accounts.summarise(session, account, as_of=dt.date(2026, 3, 20), config=config)
    assert summary.total == Money(D("1019.21"), "COP")
    assert summary.days_past_due == 33  # 15 February to 20 March
    assert summary.bucket == "31-60"
    assert summary.next_instalment is not None
    assert summary.next_instalment.due_on == dt.date(2026, 4, 15)
    rows = accounts.schedule(session, account, as_of=dt.date(2026, 3, 20))
    assert [r.due["interest"].amount for r in rows[:3]] == [D("10.00"), D("9.21"), D("0.00")]
    assert all(r.paid["principal"].amount == 0 for r in rows)


def test_configured_buckets_are_used(world: LedgerWorld) -> None:
    session = world.new_tenant(
        buckets=[{"name": "al_dia", "from_days": 0}, {"name": "mora", "from_days": 1}]
    )
    account = open_loan(session)
    config = accounts.settings_for(session)
    summary = accounts.summarise(session, account, as_of=dt.date(2026, 2, 16), config=config)
    assert (summary.days_past_due, summary.bucket) == (1, "mora")


@pytest.mark.parametrize(
    ("overrides", "pointer"),
    [
        ({"originated_on": dt.date(2026, 6, 2)}, "/originated_on"),
        ({"annual_rate": D("10.01")}, "/annual_rate"),
        ({"principal": Money(D("-1.00"), "COP")}, "/principal/amount"),
        ({"fees": Money(D("1.00"), "USD")}, "/fees/currency"),
        (
            {
                "schedule": {
                    "instalments": [
                        {
                            "due_on": dt.date(2026, 2, 1),
                            "principal": Money(D("600.00"), "COP"),
                            "interest": Money(D("0"), "COP"),
                        },
                        {
                            "due_on": dt.date(2026, 2, 1),
                            "principal": Money(D("400.00"), "COP"),
                            "interest": Money(D("0"), "COP"),
                        },
                    ]
                }
            },
            "/schedule/instalments/1/due_on",
        ),
    ],
)
def test_refused_openings(world: LedgerWorld, overrides: dict[str, Any], pointer: str) -> None:
    session = world.new_tenant()
    with pytest.raises(UnprocessableError) as caught:
        open_loan(session, **overrides)
    assert caught.value.errors[0]["pointer"] == pointer


def test_write_off_and_penalty(world: LedgerWorld) -> None:
    session = world.new_tenant()
    account = open_loan(session)
    day = dt.date(2026, 3, 1)
    accounts.adjust(
        session,
        account.id,
        kind="penalty",
        component="penalties",
        amount=Money(D("7.50"), "COP"),
        effective_on=day,
        on=day,
    )
    accounts.adjust(
        session,
        account.id,
        kind="write_off",
        component="interest",
        amount=Money(D("10.00"), "COP"),
        effective_on=day,
        on=day,
    )
    accounts.adjust(
        session,
        account.id,
        kind="adjustment",
        component="principal",
        amount=Money(D("-0.50"), "COP"),
        effective_on=day,
        on=day,
    )
    owed = journal.receivable(journal.balances(session, account.id, as_of=day))
    assert owed == {
        "principal": D("999.50"),
        "interest": D("0.00"),
        "fees": D("0"),
        "penalties": D("7.50"),
    }
    with pytest.raises(UnprocessableError):
        accounts.adjust(
            session,
            account.id,
            kind="discount",
            component="interest",
            amount=Money(D("0.01"), "COP"),
            effective_on=day,
            on=day,
        )


def test_get_account_action(app: Any, world: LedgerWorld) -> None:
    session = world.new_tenant()
    account = open_loan(session)
    action = gateway_of(app).registry.actions["ledger.get_account"]
    data = action.input_schema().load({"account_id": account.id, "as_of": "2026-02-14"})
    result = action.output_schema().dump(action.handler(session, session.info["tenant_id"], data))
    assert result["total"] == {"amount": "1000.00", "currency": "COP"}
    assert result["bucket"] == "current"
    with pytest.raises(UnscopedQueryError):
        action.handler(session, "0" * 32, data)
    other = world.new_tenant()
    with pytest.raises(NotFoundError):
        action.handler(other, other.info["tenant_id"], data)
