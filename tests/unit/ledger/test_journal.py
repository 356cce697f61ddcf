"""The journal's properties, checked by hypothesis against the worker's real database:
every entry balances, every balance is the sum of its postings, a reversal restores the
balances exactly. The oracle is arithmetic done here on the legs the test generated.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from almacen.gateway.bulk import bulk_insert
from almacen.modules.ledger import journal
from almacen.modules.ledger.models import Account, Debtor, Instalment, JournalEntry, Posting
from tests.common.ledger import ledger_world

BOOKS = ["receivable:principal", "receivable:interest", "receivable:fees", "cash", "credit"]
DAY = dt.date(2026, 3, 1)
amounts = (
    st.integers(min_value=-(10**9), max_value=10**9).filter(bool).map(lambda c: Decimal(c) / 100)
)
legs = st.lists(st.tuples(st.sampled_from(BOOKS), amounts), min_size=1, max_size=6)
# Each entry: its legs (balanced by a last leg the test adds) and a day offset.
entries = st.lists(st.tuples(legs, st.integers(min_value=0, max_value=60)), min_size=1, max_size=5)


def _account(session: Any) -> Account:
    debtor = Debtor(external_ref="d", name="D")
    account = Account(
        external_ref="a",
        product_type="loan",
        currency="COP",
        originated_on=DAY,
        principal=Decimal("100.00"),
    )
    session.add(debtor)
    session.flush()
    account.debtor_id = debtor.id
    account.instalments = [Instalment(number=1, due_on=DAY, principal=Decimal("100.00"))]
    session.add(account)
    session.flush()
    return account


def _balanced(raw: list[tuple[str, Decimal]]) -> list[journal.Leg]:
    total = sum((amount for _, amount in raw), Decimal(0))
    result = [journal.Leg(book, amount) for book, amount in raw]
    if total:
        result.append(journal.Leg("funding", -total))
    return result


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(generated=entries)
def test_entries_balance_and_balances_are_sums(app: Any, generated: Any) -> None:
    with ledger_world(app) as world:
        session = world.new_tenant()
        account = _account(session)
        expected: Counter[str] = Counter()
        by_day: dict[int, Counter[str]] = {}
        for raw, offset in generated:
            posted_legs = _balanced(raw)
            if not [leg for leg in posted_legs if leg.amount]:
                continue
            entry = journal.post_entry(
                session,
                account,
                kind="adjustment",
                effective_on=DAY + dt.timedelta(days=offset),
                legs=posted_legs,
            )
            assert sum(p.amount for p in entry.postings) == 0
            for leg in posted_legs:
                expected[leg.book] += leg.amount
                by_day.setdefault(offset, Counter())[leg.book] += leg.amount
        got = journal.balances(session, account.id)
        assert {b: v for b, v in got.items() if v} == {b: v for b, v in expected.items() if v}
        # As of a date: only entries effective by then.
        cut = sorted(by_day)[len(by_day) // 2] if by_day else 0
        partial: Counter[str] = Counter()
        for offset, books in by_day.items():
            if offset <= cut:
                partial.update(books)
        got = journal.balances(session, account.id, as_of=DAY + dt.timedelta(days=cut))
        assert {b: v for b, v in got.items() if v} == {b: v for b, v in partial.items() if v}
        # And each balance is the sum of the stored postings, read independently.
        stored: Counter[str] = Counter()
        for posting in session.scalars(select(Posting).where(Posting.account_id == account.id)):
            stored[posting.book] += posting.amount
        assert {b: v for b, v in stored.items() if v} == {
            b: v for b, v in journal.balances(session, account.id).items() if v
        }


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(first=legs, second=legs)
def test_a_reversal_restores_the_balances_exactly(app: Any, first: Any, second: Any) -> None:
    with ledger_world(app) as world:
        session = world.new_tenant()
        account = _account(session)
        base_legs = _balanced(first)
        if any(leg.amount for leg in base_legs):
            journal.post_entry(session, account, kind="charge", effective_on=DAY, legs=base_legs)
        before = journal.balances(session, account.id)
        undo_legs = _balanced(second)
        if not any(leg.amount for leg in undo_legs):
            return
        entry = journal.post_entry(
            session, account, kind="payment", effective_on=DAY, legs=undo_legs
        )
        reversal = journal.reverse_entry(session, entry, effective_on=DAY)
        assert reversal.reverses_id == entry.id
        after = journal.balances(session, account.id)
        assert {b: v for b, v in after.items() if v} == {b: v for b, v in before.items() if v}
        with pytest.raises(ValueError, match="already reversed"):
            journal.reverse_entry(session, entry, effective_on=DAY)
        with pytest.raises(ValueError, match="cannot itself be reversed"):
            journal.reverse_entry(session, reversal, effective_on=DAY)


def test_an_unbalanced_entry_is_refused_and_writes_nothing(app: Any) -> None:
    with ledger_world(app) as world:
        session = world.new_tenant()
        account = _account(session)
        with pytest.raises(journal.UnbalancedEntryError):
            journal.post_entry(
                session,
                account,
                kind="fee",
                effective_on=DAY,
                legs=[
                    journal.Leg("receivable:fees", Decimal("1.00")),
                    journal.Leg("income:fees", Decimal("-0.99")),
                ],
            )
        with pytest.raises(journal.UnbalancedEntryError):
            journal.post_entry(session, account, kind="fee", effective_on=DAY, legs=[])
        assert journal.balances(session, account.id) == {}


def _stray(entry: Any, **changes: Any) -> dict[str, Any]:
    """A posting row added to ``entry`` after the fact, with ``changes``."""
    return {
        "tenant_id": entry.tenant_id,
        "entry_id": entry.id,
        "account_id": entry.account_id,
        "instalment_id": None,
        "book": "cash",
        "amount": Decimal("1.00"),
        "currency": "COP",
        "effective_on": DAY,
        "position": 9,
        **changes,
    }


def test_a_posting_on_another_account_than_its_entrys_is_refused(app: Any) -> None:
    """The database itself keeps a posting on its entry's account (migration led0005)."""
    with ledger_world(app) as world:
        session = world.new_tenant()
        account = _account(session)
        other = Account(
            debtor_id=account.debtor_id,
            external_ref="b",
            product_type="loan",
            currency="COP",
            originated_on=DAY,
            principal=Decimal("50.00"),
        )
        session.add(other)
        session.flush()
        entry = journal.post_entry(
            session,
            account,
            kind="fee",
            effective_on=DAY,
            legs=[
                journal.Leg("receivable:fees", Decimal("1.00")),
                journal.Leg("income:fees", Decimal("-1.00")),
            ],
        )
        stray = _stray(entry, account_id=other.id)
        with pytest.raises(IntegrityError), session.begin_nested():
            session.execute(insert(Posting), [stray])
        assert journal.balances(session, other.id) == {}
        assert journal.balances(session, account.id) == {
            "receivable:fees": Decimal("1.00"),
            "income:fees": Decimal("-1.00"),
        }


def _fee(session: Any, account: Account) -> Any:
    return journal.post_entry(
        session,
        account,
        kind="fee",
        effective_on=DAY,
        legs=[
            journal.Leg("receivable:fees", Decimal("1.00"), account.instalments[0].id),
            journal.Leg("income:fees", Decimal("-1.00")),
        ],
    )


@pytest.mark.parametrize(
    "fault",
    [
        {"entry_id": "0" * 32},  # no such entry
        {"instalment_id": "0" * 32},  # no such instalment
    ],
)
def test_a_posting_without_its_entry_or_instalment_is_refused(
    app: Any, fault: dict[str, str]
) -> None:
    """Checked by the database: row by row on SQLite, once per statement on PostgreSQL
    (led0007), in a COPY as in an INSERT."""
    with ledger_world(app) as world:
        session = world.new_tenant()
        account = _account(session)
        entry = _fee(session, account)
        stray = _stray(entry, **fault)
        with pytest.raises(IntegrityError), session.begin_nested():
            session.execute(insert(Posting), [stray])
        with pytest.raises(IntegrityError), session.begin_nested():
            bulk_insert(session, Posting, [stray])
        assert journal.balances(session, account.id) == {
            "receivable:fees": Decimal("1.00"),
            "income:fees": Decimal("-1.00"),
        }


@pytest.mark.parametrize(
    "change",
    [
        lambda entry: update(Posting).where(Posting.entry_id == entry.id).values(amount=5),
        lambda entry: delete(Posting).where(Posting.entry_id == entry.id),
        lambda entry: delete(JournalEntry).where(JournalEntry.id == entry.id),
        lambda entry: (
            update(JournalEntry).where(JournalEntry.id == entry.id).values(account_id="0" * 32)
        ),
        lambda entry: delete(Instalment).where(Instalment.account_id == entry.account_id),
    ],
    ids=["edit posting", "delete posting", "delete entry", "re-key entry", "delete instalment"],
)
def test_the_journal_is_append_only_in_the_database(app: Any, change: Any) -> None:
    """What the code never does, the database refuses too (led0007): a posting is never
    edited or deleted, an entry never deleted or moved, an instalment never deleted."""
    with ledger_world(app) as world:
        session = world.new_tenant()
        account = _account(session)
        entry = _fee(session, account)
        with pytest.raises(DBAPIError, match="refused"), session.begin_nested():
            session.execute(change(entry))
        assert journal.balances(session, account.id)["receivable:fees"] == Decimal("1.00")
        # What plans do is allowed: deactivating an instalment.
        session.execute(
            update(Instalment).where(Instalment.account_id == account.id).values(active=False)
        )
