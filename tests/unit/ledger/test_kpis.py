"""KPIs against the worker's real database, from rows written here; oracles by hand.

The roll-rate example: four USD accounts W, X, Y, Z with aging snapshots on 15 January
(all current: the earlier snapshot of the month, which must be ignored), 31 January and
28 February:

  acct  31 Jan: DPD bucket  balance   28 Feb: DPD bucket  balance
  W      0  current  100.00             5  1-30     90.00
  X     10  1-30     200.00             0  current   0.00
  Y     20  1-30     300.00            40  31-60   300.00
  Z     45  31-60    400.00            (no snapshot: charged off)

Roll rates January → February: current→1-30 1/1 of the accounts and 100/100 of the balance;
1-30→current 1/2 and 200/500 = 0.4000; 1-30→31-60 1/2 and 300/500 = 0.6000; 31-60→(gone)
1/1. Cure rate: X, Y and Z were late (900.00); X is current (1/3 = 0.3333), Z exited.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from almacen.gateway.errors import UnprocessableError
from almacen.modules.ledger import kpis
from almacen.modules.ledger.config import DEFAULT_BUCKETS
from almacen.modules.ledger.models import Account, AgingSnapshot, Debtor, Promise
from tests.common.ledger import LedgerWorld, ledger_world

D = Decimal
CONFIG = {"buckets": DEFAULT_BUCKETS}
JAN15, JAN31, FEB28 = dt.date(2026, 1, 15), dt.date(2026, 1, 31), dt.date(2026, 2, 28)


@pytest.fixture
def world(app: Any) -> Iterator[LedgerWorld]:
    with ledger_world(app) as world:
        yield world


def account(session: Session, currency: str = "USD") -> Account:
    debtor = Debtor(external_ref=uuid.uuid4().hex, name="Ana")
    session.add(debtor)
    session.flush()
    row = Account(
        debtor_id=debtor.id,
        external_ref=uuid.uuid4().hex,
        product_type="loan",
        currency=currency,
        originated_on=dt.date(2025, 12, 1),
        principal=D("500.00"),
    )
    session.add(row)
    session.flush()
    return row


def snapshot(
    session: Session, owner: Account, day: dt.date, dpd: int, bucket: str, bal: str
) -> None:
    session.add(
        AgingSnapshot(
            account_id=owner.id, as_of=day, days_past_due=dpd, bucket=bucket, balance=D(bal)
        )
    )
    session.flush()


def four_accounts(session: Session) -> None:
    w, x, y, z = (account(session) for _ in range(4))
    for row in (w, x, y, z):
        snapshot(session, row, JAN15, 0, "current", "500.00")
    snapshot(session, w, JAN31, 0, "current", "100.00")
    snapshot(session, x, JAN31, 10, "1-30", "200.00")
    snapshot(session, y, JAN31, 20, "1-30", "300.00")
    snapshot(session, z, JAN31, 45, "31-60", "400.00")
    snapshot(session, w, FEB28, 5, "1-30", "90.00")
    snapshot(session, x, FEB28, 0, "current", "0.00")
    snapshot(session, y, FEB28, 40, "31-60", "300.00")


def test_month() -> None:
    month = kpis.Month.parse("2024-02")
    assert (month.first, month.last) == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert str(kpis.Month.parse("2026-12").next()) == "2027-01"
    assert [str(m) for m in kpis.Month.parse("2026-11").until(kpis.Month(2027, 2))] == [
        "2026-11",
        "2026-12",
        "2027-01",
        "2027-02",
    ]
    assert kpis.Month.of(dt.date(2026, 3, 9)) == kpis.Month(2026, 3)
    for bad in (
        "2026-13",
        "2026-00",
        "2026-1",
        "26-01",
        "2026/01",
        "abcd-ef",
        "0000-01",
        "9999-12",
    ):
        with pytest.raises(ValueError, match="not a month"):
            kpis.Month.parse(bad)


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (1, 3, "0.3333"),
        (2, 3, "0.6667"),
        (1, 8, "0.1250"),
        (D("0.00005"), 1, "0.0001"),  # half-up, not half-even
        (D("-1"), 12, "-0.0833"),
        (0, 5, "0.0000"),
    ],
)
def test_rate_rounds_half_up_to_four_places(
    numerator: Any, denominator: Any, expected: str
) -> None:
    assert str(kpis.rate(numerator, denominator)) == expected


def test_rate_over_nothing_is_none() -> None:
    assert kpis.rate(5, 0) is None
    assert kpis.rate(D(0), D("0.00")) is None


def test_roll_rates_worked_example(world: LedgerWorld) -> None:
    session = world.new_tenant()
    four_accounts(session)
    # Another tenant's snapshots on the same days count for nothing here.
    other = world.new_tenant()
    snapshot(other, account(other), JAN31, 10, "1-30", "999.00")

    report = kpis.roll_rates(
        session, start=kpis.Month(2026, 1), end=kpis.Month(2026, 2), config=CONFIG
    )
    assert (report.start_on, report.end_on) == (JAN31, FEB28)
    got = [
        (
            c.currency,
            c.from_bucket,
            c.to_bucket,
            c.accounts,
            str(c.account_share),
            c.balance,
            str(c.balance_share),
            c.balance_at_end,
        )
        for c in report.cells
    ]
    assert got == [
        ("USD", "current", "1-30", 1, "1.0000", D("100.00"), "1.0000", D("90.00")),
        ("USD", "1-30", "current", 1, "0.5000", D("200.00"), "0.4000", D("0.00")),
        ("USD", "1-30", "31-60", 1, "0.5000", D("300.00"), "0.6000", D("300.00")),
        ("USD", "31-60", None, 1, "1.0000", D("400.00"), "1.0000", D("0.00")),
    ]

    start_on, end_on, cures = kpis.cure_rate(
        session, start=kpis.Month(2026, 1), end=kpis.Month(2026, 2)
    )
    assert (start_on, end_on) == (JAN31, FEB28)
    assert cures == [
        kpis.CureRate(
            currency="USD",
            delinquent=3,
            delinquent_balance=D("900.00"),
            cured=1,
            cured_balance=D("200.00"),
            exited=1,
            cure_rate=D("0.3333"),
        )
    ]


def test_roll_rates_need_two_months_with_snapshots(world: LedgerWorld) -> None:
    session = world.new_tenant()
    four_accounts(session)
    with pytest.raises(UnprocessableError, match="2026-03"):
        kpis.roll_rates(session, start=kpis.Month(2026, 2), end=kpis.Month(2026, 3), config=CONFIG)
    with pytest.raises(UnprocessableError, match="must be after"):
        kpis.roll_rates(session, start=kpis.Month(2026, 2), end=kpis.Month(2026, 1), config=CONFIG)


def test_portfolio_from_the_latest_snapshot_on_or_before(world: LedgerWorld) -> None:
    session = world.new_tenant()
    four_accounts(session)
    cop = account(session, "COP")
    # A bucket the tenant no longer configures is still reported, after the configured ones.
    snapshot(session, cop, FEB28, 400, "legacy", "12.50")

    report = kpis.portfolio(session, as_of=dt.date(2026, 3, 10), config=CONFIG)
    assert (report.source, report.snapshot_on) == ("snapshot", FEB28)
    found = {(b.currency, b.bucket): (b.accounts, b.balance) for b in report.buckets if b.accounts}
    assert found == {
        ("COP", "legacy"): (1, D("12.50")),
        ("USD", "current"): (1, D("0.00")),
        ("USD", "1-30"): (1, D("90.00")),
        ("USD", "31-60"): (1, D("300.00")),
    }
    assert [b.bucket for b in report.buckets if b.currency == "COP"][-1] == "legacy"
    january = kpis.portfolio(session, as_of=dt.date(2026, 2, 27), config=CONFIG)
    assert january.snapshot_on == JAN31
    # Nothing that early: auto computes live (these accounts have no journal: balance 0),
    # snapshot refuses.
    live = kpis.portfolio(session, as_of=dt.date(2026, 1, 1), config=CONFIG)
    assert (live.source, live.snapshot_on) == ("live", None)
    assert {(b.currency, b.bucket, b.accounts, b.balance) for b in live.buckets if b.accounts} == {
        ("COP", "current", 1, D(0)),
        ("USD", "current", 4, D(0)),
    }
    with pytest.raises(UnprocessableError, match="no snapshot"):
        kpis.portfolio(session, as_of=dt.date(2026, 1, 1), config=CONFIG, source="snapshot")


def test_promise_kept_rate_counts_by_status(world: LedgerWorld) -> None:
    """Due in February: kept 100.00 (paid 100.00), partially kept 50.00 (paid 20.00), broken
    30.00, pending 10.00, cancelled 99.00; one kept promise due in March is outside.
    Came due 4: kept 1/4 = 0.2500, partially 0.2500; promised 190.00, paid 120.00."""
    session = world.new_tenant()
    owner = account(session)
    for status, amount, paid, due in (
        ("kept", "100.00", "100.00", dt.date(2026, 2, 1)),
        ("partially_kept", "50.00", "20.00", dt.date(2026, 2, 14)),
        ("broken", "30.00", "0", dt.date(2026, 2, 28)),
        ("pending", "10.00", "0", dt.date(2026, 2, 27)),
        ("cancelled", "99.00", "0", dt.date(2026, 2, 10)),
        ("kept", "77.00", "77.00", dt.date(2026, 3, 1)),
    ):
        session.add(
            Promise(
                account_id=owner.id,
                amount=D(amount),
                currency="USD",
                due_on=due,
                status=status,
                paid=D(paid),
                created_on=dt.date(2026, 1, 20),
            )
        )
    session.flush()
    assert kpis.promise_kept_rate(session, start=dt.date(2026, 2, 1), end=dt.date(2026, 2, 28)) == [
        kpis.PromiseRate(
            currency="USD",
            came_due=4,
            kept=1,
            partially_kept=1,
            broken=1,
            pending=1,
            cancelled=1,
            kept_rate=D("0.2500"),
            partially_kept_rate=D("0.2500"),
            promised=D("190.00"),
            paid=D("120.00"),
        )
    ]
    with pytest.raises(UnprocessableError):
        kpis.promise_kept_rate(session, start=dt.date(2026, 2, 2), end=dt.date(2026, 2, 1))


def test_recovery_window_is_bounded(world: LedgerWorld) -> None:
    session = world.new_tenant()
    with pytest.raises(UnprocessableError, match="at most 36"):
        kpis.recovery(session, start=kpis.Month(2020, 1), end=kpis.Month(2023, 1))
    with pytest.raises(UnprocessableError, match="before"):
        kpis.recovery(session, start=kpis.Month(2020, 2), end=kpis.Month(2020, 1))
    assert kpis.recovery(session, start=kpis.Month(2020, 1), end=kpis.Month(2022, 12)) == []
