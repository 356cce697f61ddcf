"""Accounts: opening a debt with its schedule, reading balances and schedules as of a date,
the journal of an account, and manual adjustments.

Opening an account writes its whole history-to-be into the journal at once: a ``charge`` of
the principal on the origination date (per instalment), an opening ``fee`` when there is one,
and one ``interest`` entry per instalment effective on its due date. Every balance is a sum of
postings ``as_of`` a date, so interest counts only once it has fallen due.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, selectinload

from almacen.gateway.amortisation import french_schedule
from almacen.gateway.errors import ConflictError, NotFoundError, UnprocessableError
from almacen.gateway.money import Money, currency_exponent
from almacen.gateway.pagination import DEFAULT_LIMIT, Page, paginate
from almacen.gateway.tenancy.service import module_config

from . import aging, events, journal
from .config import COMPONENTS, LedgerConfigSchema
from .debtors import get_debtor
from .models import Account, Instalment, JournalEntry, Posting

__all__ = [
    "ADJUSTMENT_KINDS",
    "MODULE",
    "AccountSummary",
    "InstalmentState",
    "NextInstalment",
    "adjust",
    "currency_mismatch",
    "get_account",
    "journal_page",
    "list_accounts",
    "lock_account",
    "money",
    "open_account",
    "schedule",
    "settings_for",
    "summarise",
    "today",
]

#: The module's name: its URL segment, subscription key and action/event prefix.
MODULE = "ledger"
#: Kinds of manual adjustment, and the receivable components each may touch.
ADJUSTMENT_KINDS: Mapping[str, tuple[str, ...]] = {
    "fee": ("fees",),
    "penalty": ("penalties",),
    "adjustment": COMPONENTS,
    "discount": COMPONENTS,
    "write_off": COMPONENTS,
}
#: The book opposite each receivable component when the firm charges it (or takes it back).
_INCOME_BOOKS = {
    "principal": "funding",
    "interest": "income:interest",
    "fees": "income:fees",
    "penalties": "income:penalties",
}
_MAX_INSTALMENTS = 600


def today() -> dt.date:
    """The latest calendar date anywhere on Earth (UTC+14).

    Dates sent by clients are local to them; "not in the future" must not refuse a payment
    received this morning in Kiribati.
    """
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=14)).date()


def money(amount: Decimal, currency: str) -> Money:
    """``amount`` as :class:`Money`, rounded to the currency's exponent (the database keeps
    four decimals for every currency)."""
    return Money.rounded(amount, currency)


def _fault(pointer: str, detail: str) -> UnprocessableError:
    return UnprocessableError(
        f"{pointer}: {detail}", errors=[{"pointer": pointer, "detail": detail}]
    )


def settings_for(session: Session) -> dict[str, Any]:
    """The ledger configuration of the session's tenant, defaults filled in."""
    return module_config(session, MODULE, LedgerConfigSchema)


# -- opening -------------------------------------------------------------------------------


def currency_mismatch(given: str, expected: str, pointer: str) -> UnprocessableError:
    """The error for an amount in ``given`` on an account kept in ``expected``."""
    return _fault(pointer, f"{given} differs from the account's currency {expected}")


def _same_currency(value: Money, currency: str, pointer: str) -> Decimal:
    if value.currency != currency:
        raise currency_mismatch(value.currency, currency, f"{pointer}/currency")
    return value.amount


def _planned(
    *,
    principal: Money,
    annual_rate: Decimal,
    originated_on: dt.date,
    plan: Mapping[str, Any],
) -> list[tuple[dt.date, Decimal, Decimal]]:
    """``(due_on, principal, interest)`` per instalment, generated or as given."""
    currency = principal.currency
    if "generate" in plan:
        generate = plan["generate"]
        count, first_due = generate["count"], generate["first_due"]
        if not 1 <= count <= _MAX_INSTALMENTS:
            raise _fault("/schedule/generate/count", f"must be 1 to {_MAX_INSTALMENTS}")
        if first_due <= originated_on:
            raise _fault("/schedule/generate/first_due", "must be after originated_on")
        rows = french_schedule(
            principal.amount,
            annual_rate=annual_rate,
            count=count,
            first_due=first_due,
            exponent=currency_exponent(currency),
        )
        return [(row.due_on, row.principal, row.interest) for row in rows]
    given = plan["instalments"]
    if not 1 <= len(given) <= _MAX_INSTALMENTS:
        raise _fault("/schedule/instalments", f"must list 1 to {_MAX_INSTALMENTS} instalments")
    planned = []
    previous = originated_on
    for position, item in enumerate(given):
        pointer = f"/schedule/instalments/{position}"
        part = _same_currency(item["principal"], currency, f"{pointer}/principal")
        interest = _same_currency(item["interest"], currency, f"{pointer}/interest")
        if part < 0:
            raise _fault(f"{pointer}/principal/amount", "must not be negative")
        if interest < 0:
            raise _fault(f"{pointer}/interest/amount", "must not be negative")
        if item["due_on"] <= previous:
            raise _fault(
                f"{pointer}/due_on", "must be after originated_on and the previous due date"
            )
        previous = item["due_on"]
        planned.append((item["due_on"], part, interest))
    total = sum((part for _, part, _ in planned), Decimal(0))
    if total != principal.amount:
        raise _fault(
            "/schedule/instalments",
            f"principals sum to {total}, not to the principal {principal.amount}",
        )
    return planned


def open_account(
    session: Session,
    *,
    debtor_id: str,
    external_ref: str,
    product_type: str,
    principal: Money,
    annual_rate: Decimal,
    originated_on: dt.date,
    schedule: Mapping[str, Any],
    fees: Money | None = None,
    on: dt.date | None = None,
) -> Account:
    """Open an account with its schedule and write its opening entries.

    :param schedule: ``{"generate": {"count", "first_due"}}`` (French amortisation) or
        ``{"instalments": [{"due_on", "principal", "interest"}]}`` (given; principals must
        sum to ``principal``).
    :param fees: an opening fee, charged on instalment 1 at origination.
    :param on: today's date (default :func:`today`); origination may not be later.
    :raises NotFoundError: when the tenant has no debtor ``debtor_id``.
    :raises UnprocessableError: for a non-positive principal, a rate outside 0..10, a future
        origination, a currency mismatch or an inconsistent schedule.
    :raises ConflictError: when the tenant already has an account with ``external_ref``.
    """
    debtor = get_debtor(session, debtor_id)
    currency = principal.currency
    if principal.amount <= 0:
        raise _fault("/principal/amount", "must be positive")
    if not Decimal(0) <= annual_rate <= Decimal(10):
        raise _fault("/annual_rate", "must be between 0 and 10 (a fraction: 0.12 is 12 %)")
    if originated_on > (on or today()):
        raise _fault("/originated_on", "must not be in the future")
    fee = Decimal(0)
    if fees is not None:
        fee = _same_currency(fees, currency, "/fees")
        if fee < 0:
            raise _fault("/fees/amount", "must not be negative")
    planned = _planned(
        principal=principal, annual_rate=annual_rate, originated_on=originated_on, plan=schedule
    )
    if session.scalar(select(Account.id).where(Account.external_ref == external_ref)):
        raise _duplicate(external_ref)
    account = Account(
        debtor_id=debtor.id,
        external_ref=external_ref,
        product_type=product_type,
        currency=currency,
        originated_on=originated_on,
        principal=principal.amount,
        annual_rate=annual_rate,
    )
    account.instalments = [
        Instalment(
            number=number,
            due_on=due_on,
            principal=part,
            interest=interest,
            fees=fee if number == 1 else Decimal(0),
        )
        for number, (due_on, part, interest) in enumerate(planned, start=1)
    ]
    try:
        with session.begin_nested():
            session.add(account)
            session.flush()
    except IntegrityError:
        raise _duplicate(external_ref) from None
    instalments = account.instalments
    journal.post_entry(
        session,
        account,
        kind="charge",
        effective_on=originated_on,
        legs=[
            *(journal.Leg("receivable:principal", i.principal, i.id) for i in instalments),
            journal.Leg(_INCOME_BOOKS["principal"], -principal.amount),
        ],
        memo="principal",
    )
    if fee:
        journal.post_entry(
            session,
            account,
            kind="fee",
            effective_on=originated_on,
            legs=[
                journal.Leg("receivable:fees", fee, instalments[0].id),
                journal.Leg("income:fees", -fee),
            ],
            memo="opening fee",
        )
    for instalment in instalments:
        if instalment.interest:
            journal.post_entry(
                session,
                account,
                kind="interest",
                effective_on=instalment.due_on,
                legs=[
                    journal.Leg("receivable:interest", instalment.interest, instalment.id),
                    journal.Leg("income:interest", -instalment.interest),
                ],
                memo=f"interest of instalment {instalment.number}",
            )
    events.account_opened(session, account)
    return account


def _duplicate(external_ref: str) -> ConflictError:
    return ConflictError(
        f"an account with external_ref {external_ref!r} already exists",
        errors=[{"pointer": "/external_ref", "detail": "already in use"}],
    )


# -- reading -------------------------------------------------------------------------------


def get_account(session: Session, account_id: str) -> Account:
    """One of the tenant's accounts. :raises NotFoundError: when there is none of that id."""
    account = session.scalar(select(Account).where(Account.id == account_id))
    if account is None:
        raise NotFoundError(f"no account {account_id}")
    return account


def lock_account(session: Session, account_id: str) -> Account:
    """The account, its row locked until the transaction ends (``SELECT … FOR UPDATE``).

    Everything that reads balances to write entries locks first, so two payments to one
    account serialise on PostgreSQL (SQLite serialises whole write transactions already).

    :raises NotFoundError: when the tenant has no such account.
    """
    account = session.scalar(
        select(Account)
        .where(Account.id == account_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if account is None:
        raise NotFoundError(f"no account {account_id}")
    return account


def list_accounts(
    session: Session,
    *,
    debtor_id: str | None = None,
    bucket: str | None = None,
    status: str | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[Account]:
    """A page of the tenant's accounts, oldest first, filtered as asked.

    ``bucket`` is the one the aging job last set.
    """
    statement = select(Account)
    if debtor_id is not None:
        statement = statement.where(Account.debtor_id == debtor_id)
    if bucket is not None:
        statement = statement.where(Account.bucket == bucket)
    if status is not None:
        statement = statement.where(Account.status == status)
    return paginate(
        session, statement, keys=(Account.created_at, Account.id), limit=limit, cursor=cursor
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class NextInstalment:
    """The first instalment due on or after the ``as_of`` date."""

    number: int
    due_on: dt.date
    amount: Money


@dataclasses.dataclass(frozen=True, kw_only=True)
class AccountSummary:
    """An account and its balances as of a date."""

    account: Account
    as_of: dt.date
    balances: dict[str, Money]
    total: Money
    credit: Money
    days_past_due: int
    bucket: str
    next_instalment: NextInstalment | None


def summarise(
    session: Session, account: Account, *, as_of: dt.date, config: Mapping[str, Any]
) -> AccountSummary:
    """Balances by component, days past due and bucket of ``account`` as of ``as_of``."""
    books = journal.balances(session, account.id, as_of=as_of)
    owed = journal.receivable(books)
    currency = account.currency
    days = aging.days_past_due(session, [account.id], as_of=as_of).get(account.id, 0)
    following = session.scalar(
        select(Instalment)
        .where(
            Instalment.account_id == account.id,
            Instalment.active.is_(True),
            Instalment.due_on >= as_of,
        )
        .order_by(Instalment.due_on, Instalment.number)
        .limit(1)
    )
    return AccountSummary(
        account=account,
        as_of=as_of,
        balances={component: money(owed[component], currency) for component in COMPONENTS},
        total=money(sum(owed.values(), Decimal(0)), currency),
        credit=money(-books.get("credit", Decimal(0)), currency),
        days_past_due=days,
        bucket=aging.bucket_for(days, config["buckets"]),
        next_instalment=None
        if following is None
        else NextInstalment(
            number=following.number,
            due_on=following.due_on,
            amount=money(following.principal + following.interest + following.fees, currency),
        ),
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class InstalmentState:
    """One instalment as of a date: what has fallen due, what was paid, what is owed.

    ``due`` counts what was charged to the instalment by that date (interest only once it
    has fallen due; adjustments included), ``paid`` what payments took off it, and
    ``outstanding`` the difference still owed.
    """

    number: int
    due_on: dt.date
    scheduled: Money
    due: dict[str, Money]
    paid: dict[str, Money]
    outstanding: dict[str, Money]


def _paid_by_instalment(
    session: Session, account_id: str, *, as_of: dt.date
) -> dict[str, dict[str, Decimal]]:
    """What payments (net of their reversals) took off each instalment, by component."""
    reversed_entry = aliased(JournalEntry)
    books = {book: component for component, book in journal.RECEIVABLE_BOOKS.items()}
    rows = session.execute(
        select(Posting.instalment_id, Posting.book, Posting.amount)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .outerjoin(reversed_entry, reversed_entry.id == JournalEntry.reverses_id)
        .where(
            Posting.account_id == account_id,
            Posting.instalment_id.is_not(None),
            Posting.book.in_(list(books)),
            Posting.effective_on <= as_of,
            or_(
                JournalEntry.kind == "payment",
                (JournalEntry.kind == "reversal") & (reversed_entry.kind == "payment"),
            ),
        )
    )
    paid: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for instalment_id, book, amount in rows:
        if instalment_id is not None:
            paid[instalment_id][books[book]] -= Decimal(amount)
    return paid


def schedule(session: Session, account: Account, *, as_of: dt.date) -> list[InstalmentState]:
    """Every active instalment of ``account`` with its due, paid and outstanding amounts."""
    currency = account.currency
    owed = journal.outstanding_by_instalment(session, [account.id], as_of=as_of)[account.id]
    paid = _paid_by_instalment(session, account.id, as_of=as_of)
    scheduled = {i.id: i.principal + i.interest + i.fees for i in account.instalments}
    states = []
    for row in owed:
        took = paid.get(row.instalment_id, {})
        states.append(
            InstalmentState(
                number=row.number,
                due_on=row.due_on,
                scheduled=money(scheduled[row.instalment_id], currency),
                due={
                    c: money(row.components[c] + took.get(c, Decimal(0)), currency)
                    for c in COMPONENTS
                },
                paid={c: money(took.get(c, Decimal(0)), currency) for c in COMPONENTS},
                outstanding={c: money(row.components[c], currency) for c in COMPONENTS},
            )
        )
    return states


def journal_page(
    session: Session,
    account: Account,
    *,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
    as_of: dt.date | None = None,
) -> Page[JournalEntry]:
    """A page of the account's journal entries with their postings, in posting order (only
    those effective by ``as_of``, when given)."""
    statement = (
        select(JournalEntry)
        .where(JournalEntry.account_id == account.id)
        .options(selectinload(JournalEntry.postings))
    )
    if as_of is not None:
        statement = statement.where(JournalEntry.effective_on <= as_of)
    return paginate(
        session,
        statement,
        keys=(JournalEntry.posted_at, JournalEntry.id),
        limit=limit,
        cursor=cursor,
    )


# -- adjustments ---------------------------------------------------------------------------


def _target_instalment(
    rows: Sequence[journal.Outstanding], effective_on: dt.date
) -> journal.Outstanding:
    # A new charge goes on the oldest instalment still owing something (so the waterfall
    # collects it first); when all is paid, on the first one due after the date, else the last.
    for row in rows:
        if row.total > 0:
            return row
    for row in rows:
        if row.due_on >= effective_on:
            return row
    return rows[-1]


def adjust(
    session: Session,
    account_id: str,
    *,
    kind: str,
    component: str,
    amount: Money,
    effective_on: dt.date,
    memo: str = "",
    on: dt.date | None = None,
) -> JournalEntry:
    """Post a manual change to a receivable component.

    ``fee`` and ``penalty`` charge the debtor (a positive amount, on the oldest instalment
    still owing); ``discount`` and ``write_off`` forgive (a positive amount, taken off
    instalments oldest first, never more than is owed); ``adjustment`` corrects in either
    direction (a negative amount forgives, against the component's income book).

    :raises NotFoundError: when the tenant has no such account.
    :raises UnprocessableError: for a component the kind cannot touch, a currency mismatch,
        a zero (or wrongly signed) amount, a future date or forgiving more than is owed.
    """
    account = lock_account(session, account_id)
    if component not in ADJUSTMENT_KINDS[kind]:
        raise _fault("/component", f"a {kind} applies to {', '.join(ADJUSTMENT_KINDS[kind])}")
    value = _same_currency(amount, account.currency, "/amount")
    if value == 0 or (kind != "adjustment" and value < 0):
        raise _fault("/amount/amount", "must be positive" if kind != "adjustment" else "not 0")
    if effective_on > (on or today()):
        raise _fault("/effective_on", "must not be in the future")
    if effective_on < account.originated_on:
        raise _fault("/effective_on", "must not be before the account's origination")
    rows = journal.outstanding_by_instalment(session, [account.id], as_of=effective_on)[account.id]
    if not rows:
        raise _fault("/effective_on", "the account has no active instalment")
    receivable_book = journal.RECEIVABLE_BOOKS[component]
    if kind in ("discount", "write_off") or value < 0:
        counter = kind if kind in ("discount", "write_off") else _INCOME_BOOKS[component]
        remaining = abs(value)
        legs: list[journal.Leg] = []
        for row in rows:
            take = min(remaining, row.components[component])
            if take > 0:
                legs.append(journal.Leg(receivable_book, -take, row.instalment_id))
                remaining -= take
        if remaining:
            raise _fault("/amount/amount", f"exceeds the {component} owed on {effective_on}")
        legs.append(journal.Leg(counter, abs(value)))
    else:
        target = _target_instalment(rows, effective_on)
        legs = [
            journal.Leg(receivable_book, value, target.instalment_id),
            journal.Leg(_INCOME_BOOKS[component], -value),
        ]
    entry_kind = "penalty" if kind == "penalty" else kind
    return journal.post_entry(
        session, account, kind=entry_kind, effective_on=effective_on, legs=legs, memo=memo
    )
