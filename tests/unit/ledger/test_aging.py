"""Days past due, aging buckets and the aging job, against the worker's real database.

Oracles are worked out by hand in the comments: 2026 is not a leap year, so from the
31 January to the 3 March is 28 (rest of January and February) + 3 = 31 days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from almacen.modules.ledger.aging import (
    AgingReport,
    BucketChange,
    bucket_for,
    days_past_due,
    run_aging,
)
from almacen.modules.ledger.config import DEFAULT_BUCKETS
from almacen.modules.ledger.journal import Leg, post_entry
from almacen.modules.ledger.models import Account, AgingSnapshot
from tests.common.ledger_rows import config, open_account

D = Decimal
JAN31 = dt.date(2026, 1, 31)
FEB28 = dt.date(2026, 2, 28)
MAR03 = dt.date(2026, 3, 3)


def pay(session: Session, account: Account, on: dt.date, *parts: tuple[int, str, str]) -> None:
    """A payment effective ``on``, paying (instalment number, component, amount) parts."""
    by_number = {i.number: i for i in account.instalments}
    legs = [Leg(f"receivable:{c}", -D(a), by_number[n].id) for n, c, a in parts]
    legs.append(Leg("cash", sum((D(a) for _, _, a in parts), D(0))))
    post_entry(session, account, kind="payment", effective_on=on, legs=legs)


def state(session: Session, account: Account) -> tuple[int, str, dt.date | None, str]:
    """An account's aging columns as stored."""
    session.refresh(account)
    return account.days_past_due, account.bucket, account.aged_on, account.status


def snapshots(session: Session, as_of: dt.date) -> dict[str, tuple[int, str, Decimal]]:
    rows = session.scalars(select(AgingSnapshot).where(AgingSnapshot.as_of == as_of))
    return {s.account_id: (s.days_past_due, s.bucket, s.balance) for s in rows}


# -- days past due ---------------------------------------------------------------------------


def test_an_unpaid_instalment_ages_from_the_day_after_it_falls_due(session: Session) -> None:
    account = open_account(session, (JAN31, "100.00"))

    def dpd(as_of: dt.date) -> int:
        return days_past_due(session, [account.id], as_of=as_of)[account.id]

    assert dpd(dt.date(2026, 1, 30)) == 0
    assert dpd(JAN31) == 0  # due today is not yet past due
    assert dpd(dt.date(2026, 2, 1)) == 1
    assert dpd(MAR03) == 31  # 28 + 3
    assert bucket_for(dpd(MAR03), DEFAULT_BUCKETS) == "31-60"


def test_paid_in_full_is_current_from_the_payment_on(session: Session) -> None:
    account = open_account(session, (JAN31, "85.00"), fees="5.00", interest="10.00")
    pay(
        session,
        account,
        dt.date(2026, 2, 10),
        (1, "fees", "5.00"),
        (1, "interest", "10.00"),
        (1, "principal", "85.00"),
    )

    assert days_past_due(session, [account.id], as_of=MAR03) == {account.id: 0}
    # Asked as of a day before the payment, the account was still 5 days past due.
    assert days_past_due(session, [account.id], as_of=dt.date(2026, 2, 5)) == {account.id: 5}


def test_partially_paid_is_still_past_due(session: Session) -> None:
    account = open_account(session, (JAN31, "85.00"), fees="5.00", interest="10.00")
    # 99.99 of 100.00: one cent of principal still owed.
    pay(
        session,
        account,
        dt.date(2026, 2, 10),
        (1, "fees", "5.00"),
        (1, "interest", "10.00"),
        (1, "principal", "84.99"),
    )

    assert days_past_due(session, None, as_of=MAR03) == {account.id: 31}


def test_the_oldest_unpaid_instalment_counts(session: Session) -> None:
    both_unpaid = open_account(session, (JAN31, "50.00"), (FEB28, "50.00"))
    first_paid = open_account(session, (JAN31, "50.00"), (FEB28, "50.00"))
    pay(session, first_paid, dt.date(2026, 2, 2), (1, "principal", "50.00"))
    not_yet_due = open_account(session, (dt.date(2026, 3, 31), "50.00"))

    # On 3 March: from 31 January, 31 days; from 28 February, 3 days; nothing due yet, 0.
    assert days_past_due(session, None, as_of=MAR03) == {
        both_unpaid.id: 31,
        first_paid.id: 3,
        not_yet_due.id: 0,
    }


def test_an_inactive_instalment_no_longer_ages_the_account(session: Session) -> None:
    account = open_account(session, (JAN31, "50.00"), (FEB28, "50.00"))
    account.instalments[0].active = False  # replaced by a plan
    session.flush()

    assert days_past_due(session, [account.id], as_of=MAR03) == {account.id: 3}


def test_days_past_due_sees_only_the_tenants_accounts(
    new_tenant: Callable[[], Session],
) -> None:
    ours, theirs = new_tenant(), new_tenant()
    mine = open_account(ours, (JAN31, "10.00"))
    other = open_account(theirs, (JAN31, "10.00"))

    assert days_past_due(ours, None, as_of=MAR03) == {mine.id: 31}
    assert days_past_due(ours, [mine.id, other.id], as_of=MAR03) == {mine.id: 31}
    assert days_past_due(ours, [], as_of=MAR03) == {}


# -- buckets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (0, "current"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "91-120"),
        (120, "91-120"),
        (121, "121-180"),
        (180, "121-180"),
        (181, "180+"),
        (4000, "180+"),
    ],
)
def test_default_bucket_edges(days: int, bucket: str) -> None:
    assert bucket_for(days, DEFAULT_BUCKETS) == bucket


METRO2 = [
    {"name": "current", "from_days": 0},
    {"name": "1-29", "from_days": 1},
    {"name": "30-59", "from_days": 30},
    {"name": "60-89", "from_days": 60},
    {"name": "90+", "from_days": 90},
]


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(0, "current"), (29, "1-29"), (30, "30-59"), (59, "30-59"), (60, "60-89"), (90, "90+")],
)
def test_custom_bucket_edges(days: int, bucket: str) -> None:
    assert bucket_for(days, METRO2) == bucket


def test_no_bucket_below_the_first_edge() -> None:
    with pytest.raises(ValueError, match="no aging bucket"):
        bucket_for(-1, DEFAULT_BUCKETS)


# -- the aging job ---------------------------------------------------------------------------


def test_run_aging_moves_accounts_writes_snapshots_and_is_idempotent(session: Session) -> None:
    late = open_account(session, (JAN31, "85.00"), fees="5.00", interest="10.00")
    paid = open_account(session, (JAN31, "100.00"))
    pay(session, paid, JAN31, (1, "principal", "100.00"))
    half = open_account(session, (FEB28, "100.00"))
    pay(session, half, FEB28, (1, "principal", "40.00"))
    settings = config()

    report = run_aging(session, as_of=MAR03, config=settings)

    # late: 31 days → 31-60, owing 100.00; paid: current, 0.00; half: 3 days → 1-30, 60.00.
    assert report == AgingReport(
        as_of=MAR03,
        counts={
            "current": 1,
            "1-30": 1,
            "31-60": 1,
            "61-90": 0,
            "91-120": 0,
            "121-180": 0,
            "180+": 0,
        },
        changed=sorted(
            [
                BucketChange(late.id, "current", "31-60", 31),
                BucketChange(half.id, "current", "1-30", 3),
            ],
            key=lambda c: c.account_id,
        ),
        charged_off=[],
    )
    assert state(session, late) == (31, "31-60", MAR03, "open")
    assert state(session, paid) == (0, "current", MAR03, "open")
    assert state(session, half) == (3, "1-30", MAR03, "open")
    expected = {
        late.id: (31, "31-60", D("100.00")),
        paid.id: (0, "current", D("0")),
        half.id: (3, "1-30", D("60.00")),
    }
    assert snapshots(session, MAR03) == expected

    again = run_aging(session, as_of=MAR03, config=settings)

    assert again.changed == []
    assert again.counts == report.counts
    assert snapshots(session, MAR03) == expected
    assert session.scalar(select(AgingSnapshot.id).where(AgingSnapshot.as_of == MAR03).limit(1))
    assert len(session.scalars(select(AgingSnapshot.id)).all()) == 3


def test_run_aging_reports_a_cure(session: Session) -> None:
    account = open_account(session, (JAN31, "100.00"))
    settings = config()
    run_aging(session, as_of=MAR03, config=settings)
    pay(session, account, dt.date(2026, 3, 4), (1, "principal", "100.00"))

    report = run_aging(session, as_of=dt.date(2026, 3, 4), config=settings)

    assert report.changed == [BucketChange(account.id, "31-60", "current", 0)]
    assert state(session, account) == (0, "current", dt.date(2026, 3, 4), "open")
    # Both days keep their own snapshot.
    assert snapshots(session, MAR03) == {account.id: (31, "31-60", D("100.00"))}
    assert snapshots(session, dt.date(2026, 3, 4)) == {account.id: (0, "current", D("0"))}


def test_run_aging_uses_the_tenants_buckets(session: Session) -> None:
    account = open_account(session, (JAN31, "100.00"))
    # 30 days on 2 March: Metro 2's 30-59, where the default edges say 1-30.
    report = run_aging(session, as_of=dt.date(2026, 3, 2), config=config(buckets=METRO2))

    assert report.changed == [BucketChange(account.id, "current", "30-59", 30)]
    assert report.counts == {"current": 0, "1-29": 0, "30-59": 1, "60-89": 0, "90+": 0}


def test_run_aging_charges_off_at_the_products_threshold(session: Session) -> None:
    card = open_account(session, (JAN31, "100.00"), product_type="card")
    loan = open_account(session, (JAN31, "100.00"), product_type="loan")
    settings = config(charge_off_days={"card": 31, "loan": 32})

    # 30 days on 2 March: below both thresholds.
    assert run_aging(session, as_of=dt.date(2026, 3, 2), config=settings).charged_off == []
    # 31 days on 3 March: the card's threshold, not yet the loan's.
    report = run_aging(session, as_of=MAR03, config=settings)

    assert report.charged_off == [card.id]
    assert state(session, card) == (31, "31-60", MAR03, "charged_off")
    assert state(session, loan) == (31, "31-60", MAR03, "open")
    # Re-running the day keeps the card's snapshot though it is no longer open.
    rerun = run_aging(session, as_of=MAR03, config=settings)
    assert rerun.charged_off == []
    assert set(snapshots(session, MAR03)) == {card.id, loan.id}
    # A charged-off account is aged no more: on 4 March only the loan is, 32 days past due.
    later = run_aging(session, as_of=dt.date(2026, 3, 4), config=settings)
    assert sum(later.counts.values()) == 1
    assert later.charged_off == [loan.id]
    assert state(session, card) == (31, "31-60", MAR03, "charged_off")
    assert set(snapshots(session, dt.date(2026, 3, 4))) == {loan.id}


def test_a_backfill_writes_snapshots_but_keeps_the_current_state(session: Session) -> None:
    account = open_account(session, (JAN31, "100.00"))
    settings = config()
    run_aging(session, as_of=MAR03, config=settings)

    report = run_aging(session, as_of=dt.date(2026, 2, 10), config=settings)

    assert report.changed == []
    assert snapshots(session, dt.date(2026, 2, 10)) == {account.id: (10, "1-30", D("100.00"))}
    assert state(session, account) == (31, "31-60", MAR03, "open")


def test_run_aging_ignores_other_tenants(new_tenant: Callable[[], Session]) -> None:
    ours, theirs = new_tenant(), new_tenant()
    open_account(ours, (JAN31, "10.00"))
    other = open_account(theirs, (JAN31, "10.00"))

    report = run_aging(ours, as_of=MAR03, config=config())

    assert report.counts["31-60"] == 1
    assert state(theirs, other) == (0, "current", None, "open")
    assert snapshots(theirs, MAR03) == {}


EDGES = [0, 1, 30, 31, 60, 61, 90, 91, 120, 121, 180, 181, 400]


def test_run_aging_places_each_edge_in_its_bucket(session: Session) -> None:
    # One account per edge, each owing an instalment due ``days`` before the last of 2026.
    as_of = dt.date(2026, 12, 31)
    accounts = {
        days: open_account(session, (as_of - dt.timedelta(days=days), "10.00")) for days in EDGES
    }

    run_aging(session, as_of=as_of, config=config())

    got = snapshots(session, as_of)
    # The same table as test_default_bucket_edges, computed by the database this time.
    assert {days: got[a.id][:2] for days, a in accounts.items()} == {
        0: (0, "current"),
        1: (1, "1-30"),
        30: (30, "1-30"),
        31: (31, "31-60"),
        60: (60, "31-60"),
        61: (61, "61-90"),
        90: (90, "61-90"),
        91: (91, "91-120"),
        120: (120, "91-120"),
        121: (121, "121-180"),
        180: (180, "121-180"),
        181: (181, "180+"),
        400: (400, "180+"),
    }


def test_a_single_bucket_holds_everyone(session: Session) -> None:
    account = open_account(session, (JAN31, "10.00"))

    report = run_aging(
        session, as_of=MAR03, config=config(buckets=[{"name": "all", "from_days": 0}])
    )

    assert report.counts == {"all": 1}
    assert state(session, account) == (31, "all", MAR03, "open")


def test_days_count_across_a_leap_february(session: Session) -> None:
    # 2028 is a leap year: from 31 January to 3 March is 29 + 3 = 32 days.
    account = open_account(session, (dt.date(2028, 1, 31), "10.00"))
    as_of = dt.date(2028, 3, 3)

    assert days_past_due(session, None, as_of=as_of) == {account.id: 32}
    run_aging(session, as_of=as_of, config=config())
    assert state(session, account)[:2] == (32, "31-60")


def test_the_snapshot_balance_counts_postings_without_an_instalment(session: Session) -> None:
    account = open_account(session, (JAN31, "85.00"), fees="5.00", interest="10.00")
    # A penalty charged to the account as a whole, on 15 February.
    post_entry(
        session,
        account,
        kind="penalty",
        effective_on=dt.date(2026, 2, 15),
        legs=[Leg("receivable:penalties", D("7.50")), Leg("income:penalties", D("-7.50"))],
    )

    run_aging(session, as_of=dt.date(2026, 2, 14), config=config())
    run_aging(session, as_of=MAR03, config=config())

    # 85 + 5 + 10 = 100.00 before the penalty; 107.50 from 15 February on.
    assert snapshots(session, dt.date(2026, 2, 14))[account.id][2] == D("100.00")
    assert snapshots(session, MAR03)[account.id] == (31, "31-60", D("107.50"))
