"""The journal's properties, checked by hypothesis against the worker's real database:
every entry balances, every balance is the sum of its postings, a reversal restores the
balances exactly.

Two kinds of test. The first ones post legs the test generated straight into the journal,
and their oracle is arithmetic done here on those legs. ``test_the_services_keep_...``
drives the ledger's own services (accounts opened with their schedules, payments,
reversals, adjustments, in three currencies) and reads everything back with plain SQL.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    Date,
    Integer,
    String,
    TextClause,
    bindparam,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from almacen.gateway.bulk import bulk_insert
from almacen.gateway.errors import ConflictError, UnprocessableError
from almacen.gateway.money import Money, currency_exponent
from almacen.modules.ledger import accounts, debtors, journal, payment_sql, payments
from almacen.modules.ledger.models import (
    MONEY,
    Account,
    Debtor,
    Instalment,
    JournalEntry,
    Payment,
    Posting,
)
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
        lambda entry: (
            update(JournalEntry)
            .where(JournalEntry.id == entry.id)
            .values(effective_on=dt.date(2020, 1, 1))
        ),
        lambda entry: update(JournalEntry).where(JournalEntry.id == entry.id).values(memo="x"),
        lambda entry: (
            update(Instalment)
            .where(Instalment.account_id == entry.account_id)
            .values(due_on=dt.date(2099, 1, 1))
        ),
        lambda entry: (
            update(Instalment).where(Instalment.account_id == entry.account_id).values(principal=0)
        ),
    ],
    ids=[
        "edit posting",
        "delete posting",
        "delete entry",
        "re-key entry",
        "delete instalment",
        "backdate entry",
        "edit entry memo",
        "move instalment",
        "edit instalment amount",
    ],
)
def test_the_journal_is_append_only_in_the_database(app: Any, change: Any) -> None:
    """What the code never does, the database refuses too (led0007, led0008): a posting or
    an entry is never edited or deleted, an instalment never deleted, re-keyed, moved or
    re-scheduled (only deactivated)."""
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


# -- through the services, read back with plain SQL ----------------------------------------

TODAY = dt.date(2026, 11, 1)  # what the services are told today is (``on=``)
OPENED = dt.date(2026, 1, 15)
FAR = dt.date(2100, 1, 1)  # after every effective date: balances of everything
#: One loan per currency: principal, annual rate, instalments (monthly from 15 February).
LOANS = {
    "COP": ("1000000.00", "0.24", 12),
    "USD": ("250000.00", "0.09", 6),
    "CLP": ("90000000", "0.30", 9),
}
RECEIVABLES = journal.RECEIVABLE_BOOKS
#: (kind, component, sign) of the adjustments the API takes.
ADJUSTMENTS = [
    ("fee", "fees", 1),
    ("penalty", "penalties", 1),
    *(("adjustment", c, s) for c in RECEIVABLES for s in (1, -1)),
    *((kind, c, 1) for kind in ("discount", "write_off") for c in RECEIVABLES),
]
# Amounts in minor units, at most 10,000.00 (1,000,000 CLP): ten of them never pay off
# nor forgive a whole loan, so a payment settles its account only when it is meant to (a
# "bounce" with payoff: everything owed on its date, and more).
minor_units = st.integers(min_value=1, max_value=1_000_000)
currencies = st.sampled_from(sorted(LOANS))
days = st.integers(min_value=0, max_value=(TODAY - OPENED).days).map(
    lambda n: OPENED + dt.timedelta(days=n)
)
delays = st.integers(min_value=0, max_value=90)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), currencies, minor_units, days),
        st.tuples(st.just("bounce"), currencies, minor_units, days, delays, st.booleans()),
        st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=50), delays),
        st.tuples(st.just("adjust"), currencies, st.sampled_from(ADJUSTMENTS), minor_units, days),
    ),
    min_size=1,
    max_size=10,
)

_BOOKS = (
    text(
        "SELECT book, SUM(amount) AS total FROM ledger_postings"
        " WHERE tenant_id = :tenant AND account_id = :account AND effective_on <= :day"
        " GROUP BY book"
    )
    .bindparams(bindparam("day", type_=Date()))
    .columns(book=String(), total=MONEY)
)
_BY_INSTALMENT = (
    text(
        "SELECT instalment_id, book, SUM(amount) AS total FROM ledger_postings"
        " WHERE tenant_id = :tenant AND account_id = :account AND effective_on <= :day"
        " GROUP BY instalment_id, book"
    )
    .bindparams(bindparam("day", type_=Date()))
    .columns(instalment_id=String(), book=String(), total=MONEY)
)
_LEGS = text(
    "SELECT book, instalment_id, amount FROM ledger_postings"
    " WHERE tenant_id = :tenant AND entry_id = :entry ORDER BY position"
).columns(book=String(), instalment_id=String(), amount=MONEY)
_ENTRY_TOTALS = text(
    "SELECT e.id AS entry_id, p.currency AS currency, SUM(p.amount) AS total,"
    " COUNT(p.entry_id) AS legs"
    " FROM ledger_journal_entries e LEFT JOIN ledger_postings p"
    " ON p.tenant_id = e.tenant_id AND p.entry_id = e.id"
    " WHERE e.tenant_id = :tenant GROUP BY e.id, p.currency"
).columns(entry_id=String(), currency=String(), total=MONEY, legs=Integer())
_FOREIGN_POSTINGS = text(
    "SELECT COUNT(*) FROM ledger_postings p JOIN ledger_accounts a"
    " ON a.tenant_id = p.tenant_id AND a.id = p.account_id"
    " WHERE p.tenant_id = :tenant AND p.currency <> a.currency"
)
_STATUS = text("SELECT status FROM ledger_accounts WHERE tenant_id = :tenant AND id = :account")
_ROWS = text(
    "SELECT (SELECT COUNT(*) FROM ledger_journal_entries WHERE tenant_id = :tenant),"
    " (SELECT COUNT(*) FROM ledger_postings WHERE tenant_id = :tenant),"
    " (SELECT COUNT(*) FROM ledger_payments WHERE tenant_id = :tenant)"
)


def _sql(session: Session, statement: TextClause | Any, **params: Any) -> list[Any]:
    """Rows of a plain SQL statement on the session's connection, scoped to its tenant."""
    session.flush()
    return list(
        session.connection().execute(statement, {"tenant": session.info["tenant_id"], **params})
    )


def _books(session: Session, account: Account, day: dt.date) -> dict[str, Decimal]:
    """Sum of postings per book as of ``day``, by plain SQL."""
    return {row.book: row.total for row in _sql(session, _BOOKS, account=account.id, day=day)}


def _by_instalment(
    session: Session, account: Account, day: dt.date = FAR
) -> dict[tuple[str | None, str], Decimal]:
    """Sum of postings per (instalment, book) as of ``day``, zeros left out, by plain SQL."""
    rows = _sql(session, _BY_INSTALMENT, account=account.id, day=day)
    return {(row.instalment_id, row.book): row.total for row in rows if row.total}


def _legs(session: Session, entry_id: str) -> list[tuple[str, str | None, Decimal]]:
    return [(r.book, r.instalment_id, r.amount) for r in _sql(session, _LEGS, entry=entry_id)]


def _written(session: Session) -> tuple[int, int, int]:
    """How many entries, postings and payments the tenant has."""
    entries, postings, paid = _sql(session, _ROWS)[0]
    return int(entries), int(postings), int(paid)


def _moved(before: dict[str, Decimal], after: dict[str, Decimal]) -> defaultdict[str, Decimal]:
    """What each book moved by from ``before`` to ``after`` (0 for a book in neither)."""
    moved: defaultdict[str, Decimal] = defaultdict(Decimal, after)
    for book, total in before.items():
        moved[book] -= total
    return moved


def _status(session: Session, account: Account) -> str:
    return str(_sql(session, _STATUS, account=account.id)[0][0])


def _minus(
    before: dict[tuple[str | None, str], Decimal], legs: list[tuple[str, str | None, Decimal]]
) -> dict[tuple[str | None, str], Decimal]:
    """``before`` without the effect of ``legs``, zeros left out."""
    result: defaultdict[tuple[str | None, str], Decimal] = defaultdict(Decimal, before)
    for book, instalment_id, amount in legs:
        result[(instalment_id, book)] -= amount
    return {key: value for key, value in result.items() if value}


def _open_loan(session: Session, currency: str) -> Account:
    principal, rate, count = LOANS[currency]
    debtor = debtors.create_debtor(session, {"external_ref": f"d-{currency}", "name": "Ana"})
    return accounts.open_account(
        session,
        debtor_id=debtor.id,
        external_ref=f"a-{currency}",
        product_type="loan",
        principal=Money(Decimal(principal), currency),
        annual_rate=Decimal(rate),
        originated_on=OPENED,
        schedule={"generate": {"count": count, "first_due": dt.date(2026, 2, 15)}},
        on=TODAY,
    )


def _amount(currency: str, minor: int) -> Decimal:
    return Decimal(minor).scaleb(-currency_exponent(currency))


class _Run:
    """What one hypothesis example does to the ledger, each step checked against SQL."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.config = accounts.settings_for(session)
        self.loans = {currency: _open_loan(session, currency) for currency in LOANS}
        self.posted: list[Payment] = []
        self.reversed: set[str] = set()
        # Per account, its latest payment's or payment reversal's date: a payment dated
        # before it is refused (allocated in date order).
        self.latest: dict[str, dt.date] = {}
        # Per account, the dates its balances are checked on: those of its entries, and more.
        self.days: dict[str, set[dt.date]] = {
            account.id: {OPENED - dt.timedelta(days=1), OPENED, TODAY, FAR}
            for account in self.loans.values()
        }

    def _post(self, account: Account, amount: Decimal, day: dt.date) -> Payment | None:
        """The payment posted, or None when it is dated before the account's latest payment
        or reversal: then it is refused, naming ``received_on``, and writes nothing."""

        def post(external_id: str) -> payments.PaymentResult:
            return payments.post_payment(
                self.session,
                account.id,
                external_id=external_id,
                amount=Money.exact(amount, account.currency),
                received_on=day,
                config=self.config,
                on=TODAY,
            )

        latest = self.latest.get(account.id)
        if latest is not None and day < latest:
            event("a payment dated before the latest one, refused")
            written = _written(self.session)
            with pytest.raises(UnprocessableError, match="received_on"):
                post(f"p{len(self.posted)}-refused")
            assert _written(self.session) == written
            return None
        self.latest[account.id] = day
        result = post(f"p{len(self.posted)}")
        assert not result.replayed
        assert (
            sum(part.amount.amount for part in result.view.allocations)
            + (result.view.credit.amount)
            == amount
        )
        self.posted.append(result.view.payment)
        self.days[account.id].add(day)
        return result.view.payment

    def pay(self, currency: str, minor: int, day: dt.date) -> Payment | None:
        """A payment of less than the loan owes: cash in, exactly that much off the
        receivables, none of it credit; nothing else moves."""
        account, amount = self.loans[currency], _amount(currency, minor)
        before = _books(self.session, account, FAR)
        payment = self._post(account, amount, day)
        if payment is None:
            return None
        moved = _moved(before, _books(self.session, account, FAR))
        assert moved["cash"] == amount
        assert sum(moved[book] for book in RECEIVABLES.values()) == -amount
        assert all(moved[book] <= 0 for book in RECEIVABLES.values()), moved
        assert {book for book, value in moved.items() if value} <= {
            "cash",
            *RECEIVABLES.values(),
        }
        assert _status(self.session, account) == "open"
        return payment

    def pay_off(self, currency: str, minor: int, day: dt.date) -> Payment | None:
        """A payment of everything owed on ``day`` and ``minor - 1`` minor units more: the
        account is settled, the excess is credit."""
        account = self.loans[currency]
        owed = sum(
            (_books(self.session, account, day).get(b, Decimal(0)) for b in RECEIVABLES.values()),
            Decimal(0),
        )
        excess = _amount(currency, minor - 1)
        credit = _books(self.session, account, FAR).get("credit", Decimal(0))
        payment = self._post(account, owed + excess, day)
        if payment is None:
            return None
        assert _status(self.session, account) == "settled"
        assert _books(self.session, account, FAR).get("credit", Decimal(0)) - credit == -excess
        return payment

    def reverse(self, payment: Payment, delay: int, *, reopens: bool = False) -> None:
        """Reverse ``payment`` ``delay`` days after it was received (today at the latest).

        Unless the reversal ``reopens`` the account the payment settled (which charges
        again the interest settling cancelled: ``bounce`` checks that), every balance
        moves by the payment's postings negated, on the reversal's date.
        """
        account = self.loans[payment.currency]
        effective_on = min(payment.received_on + dt.timedelta(days=delay), TODAY)
        self.days[account.id].add(effective_on)
        self.latest[account.id] = max(self.latest[account.id], effective_on)
        before = _by_instalment(self.session, account)
        eve = effective_on - dt.timedelta(days=1)
        on_the_eve = _books(self.session, account, eve)
        view = payments.reverse_payment(
            self.session, payment.id, effective_on=effective_on, on=TODAY
        )
        assert view.status == "reversed"
        assert view.payment.reversal_entry_id is not None
        self.reversed.add(payment.id)
        paid = _legs(self.session, payment.entry_id)
        assert paid, "a payment's entry has postings"
        # The reversal is the payment's entry negated, leg by leg...
        assert _legs(self.session, view.payment.reversal_entry_id) == [
            (book, instalment_id, -amount) for book, instalment_id, amount in paid
        ]
        if not reopens:
            # ... so every (instalment, book) balance is what it would be without the
            # payment, and nothing changes before the reversal's date.
            assert _by_instalment(self.session, account) == _minus(before, paid)
            assert _books(self.session, account, eve) == on_the_eve
        # A second reversal is refused and writes nothing.
        written = _written(self.session)
        with pytest.raises(ConflictError):
            payments.reverse_payment(self.session, payment.id, effective_on=TODAY, on=TODAY)
        assert _written(self.session) == written

    def bounce(self, currency: str, minor: int, day: dt.date, delay: int, payoff: bool) -> None:
        """A payment (one that pays the account off, when ``payoff``), then its reversal:
        every balance of every instalment is back exactly where it was, the account open."""
        account = self.loans[currency]
        before = _by_instalment(self.session, account)
        summary = accounts.summarise(self.session, account, as_of=FAR, config=self.config)
        event("a payment paying the account off, reversed" if payoff else "a payment, reversed")
        payment = self.pay_off(currency, minor, day) if payoff else self.pay(currency, minor, day)
        if payment is not None:
            self.reverse(payment, delay, reopens=payoff)
        assert _by_instalment(self.session, account) == before
        again = accounts.summarise(self.session, account, as_of=FAR, config=self.config)
        assert (again.balances, again.total, again.credit) == (
            summary.balances,
            summary.total,
            summary.credit,
        )
        assert _status(self.session, account) == "open"

    def adjust(
        self, currency: str, adjustment: tuple[str, str, int], minor: int, day: dt.date
    ) -> None:
        account = self.loans[currency]
        kind, component, sign = adjustment
        value = sign * _amount(currency, minor)
        book = RECEIVABLES[component]
        forgives = kind in ("discount", "write_off") or value < 0
        # What the adjustment may forgive: the component owed on ``day``, instalment by
        # instalment (an instalment owing nothing, or less than nothing, gives nothing).
        owed = sum(
            (
                max(total, Decimal(0))
                for (instalment_id, of), total in _by_instalment(self.session, account, day).items()
                if of == book and instalment_id is not None
            ),
            Decimal(0),
        )
        before, written = _books(self.session, account, FAR), _written(self.session)
        try:
            entry = accounts.adjust(
                self.session,
                account.id,
                kind=kind,
                component=component,
                amount=Money(value, currency),
                effective_on=day,
                on=TODAY,
            )
        except UnprocessableError:
            event("an adjustment refused: more forgiven than is owed")
            assert forgives and abs(value) > owed, (kind, component, value, owed)
            assert _written(self.session) == written
            assert _books(self.session, account, FAR) == before
            return
        assert not forgives or abs(value) <= owed, (kind, component, value, owed)
        self.days[account.id].add(day)
        change = -abs(value) if forgives else value
        moved = _moved(before, _books(self.session, account, FAR))
        [counter] = {b for b in moved if moved[b] and b != book}
        assert (moved[book], moved[counter]) == (change, -change), moved
        assert sum(amount for _, _, amount in _legs(self.session, entry.id)) == 0

    def check(self) -> None:
        """The journal as the database holds it, against every balance the code reports."""
        session = self.session
        totals = _sql(session, _ENTRY_TOTALS)
        assert totals
        for row in totals:
            # Every entry has postings, and they sum to zero in each currency.
            assert row.currency is not None and row.legs > 0, row
            assert row.total == 0, row
        assert _sql(session, _FOREIGN_POSTINGS)[0][0] == 0
        for account in self.loans.values():
            for day in sorted(self.days[account.id]):
                books = _books(session, account, day)
                assert journal.balances(session, account.id, as_of=day) == books
                summary = accounts.summarise(session, account, as_of=day, config=self.config)
                owed = {c: books.get(b, Decimal(0)) for c, b in RECEIVABLES.items()}
                assert {c: m.amount for c, m in summary.balances.items()} == owed
                assert summary.total.amount == sum(owed.values())
                assert summary.credit.amount == -books.get("credit", Decimal(0))
                assert {m.currency for m in summary.balances.values()} == {account.currency}


@settings(max_examples=20, deadline=None)
@given(steps=operations)
def test_the_services_keep_every_entry_balanced_and_every_balance_a_sum(
    app: Any, steps: list[tuple[Any, ...]]
) -> None:
    """Accounts in COP, USD and CLP, opened by the service with their French schedules;
    then payments (any date, in any order: one dated before the account's latest payment or
    reversal is refused and writes nothing), reversals of earlier payments, payments
    reversed at once (some paying the account off, which settles it), and every kind of
    adjustment, random Decimal amounts. Read back with plain SQL: every entry sums to zero
    per currency; ``journal.balances`` and the account summary equal the SQL sums as of
    every date involved; a reversal is its payment's postings negated, and a payment
    reversed at once leaves every balance of every instalment as it was (interest a payoff
    cancelled included) and the account open; a refused adjustment or second reversal
    writes nothing."""
    with ledger_world(app) as world:
        run = _Run(world.new_tenant())
        for step in steps:
            match step:
                case ("pay", currency, minor, day):
                    run.pay(currency, minor, day)
                case ("bounce", currency, minor, day, delay, payoff):
                    run.bounce(currency, minor, day, delay, payoff)
                case ("reverse", index, delay):
                    standing = [p for p in run.posted if p.id not in run.reversed]
                    if standing:
                        run.reverse(standing[index % len(standing)], delay)
                case ("adjust", currency, adjustment, minor, day):
                    run.adjust(currency, adjustment, minor, day)
        run.check()


def _small_loan(session: Session) -> Account:
    """300.00 COP at 12 % over 3 months from 15 February: interest 3.00, 2.01 and 1.01."""
    debtor = debtors.create_debtor(session, {"external_ref": "d", "name": "Ana"})
    return accounts.open_account(
        session,
        debtor_id=debtor.id,
        external_ref="a",
        product_type="loan",
        principal=Money(Decimal("300.00"), "COP"),
        annual_rate=Decimal("0.12"),
        originated_on=OPENED,
        schedule={"generate": {"count": 3, "first_due": dt.date(2026, 2, 15)}},
        on=TODAY,
    )


def _paid(session: Session, account: Account, external_id: str, amount: str, day: str) -> Payment:
    return payments.post_payment(
        session,
        account.id,
        external_id=external_id,
        amount=Money(Decimal(amount), "COP"),
        received_on=dt.date.fromisoformat(day),
        config=accounts.settings_for(session),
        on=TODAY,
    ).view.payment


def test_reversing_a_payment_that_paid_an_account_off_restores_it(app: Any) -> None:
    """The small loan paid off with 500.00 on 1 March, when 303.00 is owed (instalment 1's
    interest is due, that of 2 and 3 is not: cancelled, 3.02; 197.00 of credit), then the
    payment bounces: every instalment owes what it owed before, the account is open again."""
    with ledger_world(app) as world:
        session = world.new_tenant()
        account = _small_loan(session)
        before = _by_instalment(session, account)
        payoff = _paid(session, account, "payoff", "500.00", "2026-03-01")
        assert _status(session, account) == "settled"
        settled = _books(session, account, FAR)
        assert [settled[b] for b in ("receivable:interest", "credit")] == [0, Decimal("-197.00")]
        payments.reverse_payment(session, payoff.id, effective_on=dt.date(2026, 3, 2), on=TODAY)
        assert _by_instalment(session, account) == before
        assert _status(session, account) == "open"


def test_a_payment_dated_before_a_payoffs_reversal_is_refused(app: Any) -> None:
    """303.00 pays the small loan off on 1 March; it bounces, reversed on 10 March (the
    account is open again, 306.02 owed). 0.01 received 5 March, when the payoff still
    counted, would find nothing owed and settle the account: it is refused, and writes
    nothing; dated 10 March it is allocated and the account stays open."""
    with ledger_world(app) as world:
        session = world.new_tenant()
        account = _small_loan(session)
        payoff = _paid(session, account, "payoff", "303.00", "2026-03-01")
        payments.reverse_payment(session, payoff.id, effective_on=dt.date(2026, 3, 10), on=TODAY)
        assert _status(session, account) == "open"
        written = _written(session)
        with pytest.raises(UnprocessableError, match="received_on: must not be before 2026-03-10"):
            _paid(session, account, "small", "0.01", "2026-03-05")
        assert _written(session) == written
        _paid(session, account, "small", "0.01", "2026-03-10")
        assert _status(session, account) == "open"
        # 6.02 of interest owed in all (none cancelled), 0.01 of it paid (instalment 1's).
        assert _books(session, account, FAR)["receivable:interest"] == Decimal("6.01")


def test_a_backdated_payment_is_refused_and_no_receivable_turns_negative(app: Any) -> None:
    """The small loan: instalment 1 is 102.01 (3.00 interest). 102.01 received 1 April pays
    it; a second 102.01 received 20 February, posted after, would read instalment 1 as owed
    on its date and pay it again (its receivables negative from 1 April on): refused."""
    with ledger_world(app) as world:
        session = world.new_tenant()
        account = _small_loan(session)
        _paid(session, account, "later", "102.01", "2026-04-01")
        written = _written(session)
        with pytest.raises(UnprocessableError, match="received_on"):
            _paid(session, account, "earlier", "102.01", "2026-02-20")
        assert _written(session) == written
        _paid(session, account, "same day", "102.01", "2026-04-01")
        for day in (dt.date(2026, 2, 20), dt.date(2026, 4, 1), FAR):
            negative = {
                key: total
                for key, total in _by_instalment(session, account, day).items()
                if key[1] in RECEIVABLES.values() and total < 0
            }
            assert negative == {}, (day, negative)


@pytest.mark.parametrize("path", ["post_entry", "payment"])
def test_an_unbalanced_entry_is_refused_on_every_path_and_writes_nothing(
    app: Any, path: str
) -> None:
    """``journal.post_entry`` (every entry but payments) and the payment hot path's Core
    INSERTs (one folded statement on PostgreSQL) both refuse legs that do not sum to zero,
    before writing anything."""
    with ledger_world(app) as world:
        session = world.new_tenant()
        account = _open_loan(session, "USD")
        instalment = account.instalments[0].id
        legs = [
            journal.Leg("cash", Decimal("10.00")),
            journal.Leg("receivable:principal", Decimal("-9.99"), instalment),
        ]
        written = _written(session)
        books = _books(session, account, FAR)
        payment = Payment(
            account_id=account.id,
            external_id="unbalanced",
            amount=Decimal("10.00"),
            currency="USD",
            received_on=TODAY,
            channel=None,
            fingerprint="0" * 64,
            reversal_entry_id=None,
        )

        def post() -> object:
            if path == "post_entry":
                return journal.post_entry(
                    session, account, kind="payment", effective_on=TODAY, legs=legs
                )
            return payment_sql.insert_payment(
                session, payment, currency="USD", legs=legs, memo="unbalanced"
            )

        with pytest.raises(journal.UnbalancedEntryError):
            post()
        assert _written(session) == written
        assert _books(session, account, FAR) == books
