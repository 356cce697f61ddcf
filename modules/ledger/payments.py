"""Payments: idempotent on the tenant's external id, allocated by a configurable strategy.

A payment locks its account, reads what each instalment owes on the day it was received,
asks the tenant's allocation strategy how to spread the amount, and posts one ``payment``
entry: cash in, each allocation off its receivable, and any excess to ``credit`` (what the
firm owes the debtor), so no receivable ever turns negative. Then the account's pending
promises are evaluated.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from almacen.gateway.errors import ConflictError, NotFoundError, UnprocessableError
from almacen.gateway.money import Money
from almacen.gateway.pagination import DEFAULT_LIMIT, Page, paginate

from . import allocation, events, journal, payment_sql, plans, promises
from .accounts import currency_mismatch, get_account, lock_account, money, today
from .models import Account, Instalment, JournalEntry, Payment, Posting

__all__ = [
    "AllocatedPart",
    "PaymentResult",
    "PaymentView",
    "list_payments",
    "post_payment",
    "reverse_payment",
    "view_of",
]


@dataclasses.dataclass(frozen=True, kw_only=True)
class AllocatedPart:
    """What one payment took off one component of one instalment."""

    instalment_id: str
    number: int
    component: str
    amount: Money


@dataclasses.dataclass(frozen=True, kw_only=True)
class PaymentView:
    """A payment with how it was allocated."""

    payment: Payment
    amount: Money
    allocations: list[AllocatedPart]
    credit: Money
    #: Its reversal's entry; None while it is not reversed (as of the date asked, if any).
    reversal_entry_id: str | None

    @property
    def status(self) -> str:
        """``reversed`` once a reversal was posted, else ``posted``."""
        return "reversed" if self.reversal_entry_id else "posted"


@dataclasses.dataclass(frozen=True, kw_only=True)
class PaymentResult:
    """The outcome of :func:`post_payment`: the payment, and whether it was a replay."""

    view: PaymentView
    replayed: bool


def _fault(pointer: str, detail: str) -> UnprocessableError:
    return UnprocessableError(
        f"{pointer}: {detail}", errors=[{"pointer": pointer, "detail": detail}]
    )


def _fingerprint(account_id: str, amount: Money, received_on: dt.date, channel: str | None) -> str:
    canonical = json.dumps(
        {
            "account_id": account_id,
            "amount": str(amount.amount.normalize()),
            "currency": amount.currency,
            "received_on": received_on.isoformat(),
            "channel": channel,
        },
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(session: Session, existing: Payment, fingerprint: str) -> PaymentResult:
    if existing.fingerprint != fingerprint:
        raise ConflictError(
            f"payment {existing.external_id!r} was already posted with another request",
            errors=[{"pointer": "/external_id", "detail": "already used for another payment"}],
        )
    return PaymentResult(view=view_of(session, [existing])[0], replayed=True)


def _by_external_id(session: Session, external_id: str) -> Payment | None:
    return session.scalar(
        select(Payment)
        .where(Payment.external_id == external_id)
        .execution_options(populate_existing=True)
    )


def _checked(
    parts: Sequence[allocation.Allocation],
    dues: Sequence[allocation.Due],
    amount: Decimal,
    strategy: str,
) -> list[allocation.Allocation]:
    """The strategy's allocations without zeros, after checking they are possible."""
    owed = {(d.instalment_id, d.component): d.outstanding for d in dues}
    taken: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    kept = []
    for part in parts:
        key = (part.instalment_id, part.component)
        if part.amount < 0 or key not in owed:
            raise RuntimeError(f"allocation strategy {strategy!r} returned {part!r}")
        if part.amount:
            taken[key] += part.amount
            kept.append(part)
    if any(total > owed[key] for key, total in taken.items()) or sum(taken.values()) > amount:
        # A plugin strategy's bug must not turn a receivable negative.
        raise RuntimeError(f"allocation strategy {strategy!r} allocated more than is owed")
    return kept


def post_payment(
    session: Session,
    account_id: str,
    *,
    external_id: str,
    amount: Money,
    received_on: dt.date,
    config: Mapping[str, Any],
    channel: str | None = None,
    strategies: Iterable[allocation.AllocationStrategy] = (),
    on: dt.date | None = None,
) -> PaymentResult:
    """Post a payment to an account, or replay the one already posted with ``external_id``.

    :param config: the tenant's ledger configuration (``allocation``, ``waterfall``, ...).
    :param strategies: allocation strategies added by plugins.
    :param on: today's date (default :func:`~almacen.modules.ledger.accounts.today`).
    :raises NotFoundError: when the tenant has no such account.
    :raises ConflictError: when ``external_id`` was used for a different payment.
    :raises UnprocessableError: for a non-positive amount, another currency, a date in the
        future, before the account was opened or before its latest payment (or payment
        reversal), or an unknown allocation strategy.
    """
    # The hot path's Core statements do not autoflush: write what the caller left pending
    # (a plan installed in the same transaction, say) before reading.
    session.flush()
    account = payment_sql.lock(session, account_id)
    if account is None:
        raise NotFoundError(f"no account {account_id}")
    fingerprint = _fingerprint(account.id, amount, received_on, channel)
    # After the lock, so that a payment committed while we waited for it is seen, and
    # balances are those the lock now protects.
    check, rows = payment_sql.read(session, account.id, external_id, received_on)
    if check.existing is not None:
        existing = _by_external_id(session, external_id)
        if existing is not None:
            return _replay(session, existing, fingerprint)
    if amount.currency != account.currency:
        raise currency_mismatch(amount.currency, account.currency, "/amount/currency")
    if amount.amount <= 0:
        raise _fault("/amount/amount", "must be positive")
    if received_on > (on or today()):
        raise _fault("/received_on", "must not be in the future")
    if received_on < account.originated_on:
        raise _fault("/received_on", "must not be before the account's origination")
    if check.latest is not None and received_on < check.latest:
        # Allocation reads what is owed on the payment's date; a payment dated before one
        # already allocated would not see it, and would allocate the same amounts again.
        raise _fault(
            "/received_on",
            f"must not be before {check.latest.isoformat()}, the date of the account's latest "
            "payment or payment reversal: payments are allocated in the order of their dates",
        )

    dues = allocation.dues_from_outstanding(rows)
    strategy = allocation.resolve_strategy(config["allocation"], extra=strategies)
    parts = _checked(
        strategy.allocate(amount.amount, dues, waterfall=config["waterfall"]),
        dues,
        amount.amount,
        strategy.name,
    )
    excess = amount.amount - sum((part.amount for part in parts), Decimal(0))
    legs = [journal.Leg("cash", amount.amount)]
    legs += [
        journal.Leg(journal.RECEIVABLE_BOOKS[part.component], -part.amount, part.instalment_id)
        for part in parts
    ]
    if excess:
        legs.append(journal.Leg("credit", -excess))
    # Transient: never added to the session. It is what the answer and the event show, and
    # its row is written with Core INSERTs (no unit-of-work flush on the hot path).
    payment = Payment(
        account_id=account.id,
        external_id=external_id,
        amount=amount.amount,
        currency=amount.currency,
        received_on=received_on,
        channel=channel,
        fingerprint=fingerprint,
        reversal_entry_id=None,
    )
    try:
        written = payment_sql.insert_payment(
            session,
            payment,
            currency=account.currency,
            legs=legs,
            memo=f"payment {external_id}"[:200],
        )
    except IntegrityError:
        written = None
        if _by_external_id(session, external_id) is None:
            raise
    if written is None:
        # Another transaction posted this external id (to another account, or its commit
        # landed between our check and our insert): answer as if we had come second.
        existing = _by_external_id(session, external_id)
        if existing is None:
            raise RuntimeError(f"payment {external_id!r} was neither written nor found")
        return _replay(session, existing, fingerprint)
    events.payment_posted(session, payment)
    if check.promised:
        promises.evaluate_promises(session, as_of=received_on, config=config, account_id=account.id)
    if check.planned:
        # A payment may complete a plan or settlement (and settle the account); only the
        # aging job judges plans broken.
        plans.evaluate_plans(
            session, as_of=received_on, config=config, account_id=account.id, judge_breaks=False
        )
    owed = sum((due.outstanding for due in dues), Decimal(0))
    if account.status == "open" and owed - (amount.amount - excess) == 0:
        # Read again as an object: a plan completed above may have settled it already.
        settling = lock_account(session, account.id)
        if settling.status == "open":
            plans.pay_off(session, settling, day=received_on, credit=excess)
    # Built from what is in hand rather than read back: this runs under the account's lock.
    numbers = {due.instalment_id: due.number for due in dues}
    return PaymentResult(view=_view(payment, written, numbers), replayed=False)


def view_of(
    session: Session, payments: Sequence[Payment], *, as_of: dt.date | None = None
) -> list[PaymentView]:
    """Each payment with its allocations, read from its journal entry in one query; as of a
    date, a reversal effective later does not count yet."""
    entries = {p.entry_id: p for p in payments}
    later: set[str] = set()
    reversals = [p.reversal_entry_id for p in payments if p.reversal_entry_id]
    if as_of is not None and reversals:
        later = set(
            session.scalars(
                select(JournalEntry.id).where(
                    JournalEntry.id.in_(reversals), JournalEntry.effective_on > as_of
                )
            )
        )
    postings: dict[str, list[Posting]] = defaultdict(list)
    if entries:
        for posting in session.scalars(
            select(Posting)
            .where(Posting.entry_id.in_(list(entries)))
            .order_by(Posting.entry_id, Posting.position)
        ):
            postings[posting.entry_id].append(posting)
    numbers: dict[str, int] = {}
    instalment_ids = {p.instalment_id for legs in postings.values() for p in legs}
    instalment_ids.discard(None)
    if instalment_ids:
        rows = session.execute(
            select(Instalment.id, Instalment.number).where(Instalment.id.in_(list(instalment_ids)))
        )
        numbers = {instalment_id: number for instalment_id, number in rows}
    return [
        _view(
            payment,
            postings[payment.entry_id],
            numbers,
            reversal_entry_id=None
            if payment.reversal_entry_id in later
            else payment.reversal_entry_id,
        )
        for payment in payments
    ]


_COMPONENTS = {book: component for component, book in journal.RECEIVABLE_BOOKS.items()}


def _view(
    payment: Payment,
    legs: Sequence[Posting | journal.Leg],
    numbers: Mapping[str, int],
    *,
    reversal_entry_id: str | None = None,
) -> PaymentView:
    parts = [
        AllocatedPart(
            instalment_id=leg.instalment_id,
            number=numbers[leg.instalment_id],
            component=_COMPONENTS[leg.book],
            amount=money(-leg.amount, payment.currency),
        )
        for leg in legs
        if leg.book in _COMPONENTS and leg.instalment_id is not None
    ]
    credit = -sum((leg.amount for leg in legs if leg.book == "credit"), Decimal(0))
    return PaymentView(
        payment=payment,
        amount=money(payment.amount, payment.currency),
        allocations=parts,
        credit=money(credit, payment.currency),
        reversal_entry_id=reversal_entry_id,
    )


def list_payments(
    session: Session,
    account_id: str,
    *,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
    as_of: dt.date | None = None,
) -> Page[PaymentView]:
    """A page of an account's payments, in the order they were posted; as of a date, those
    received by then, reversed only by a reversal effective by then.

    :raises NotFoundError: when the tenant has no such account.
    """
    account = get_account(session, account_id)
    statement = select(Payment).where(Payment.account_id == account.id)
    if as_of is not None:
        statement = statement.where(Payment.received_on <= as_of)
    page = paginate(
        session,
        statement,
        keys=(Payment.created_at, Payment.id),
        limit=limit,
        cursor=cursor,
    )
    return Page(items=view_of(session, list(page.items), as_of=as_of), next_cursor=page.next_cursor)


def reverse_payment(
    session: Session,
    payment_id: str,
    *,
    effective_on: dt.date,
    memo: str = "",
    on: dt.date | None = None,
) -> PaymentView:
    """Undo a payment with a reversal entry; the payment entry stays as it was.

    :raises NotFoundError: when the tenant has no such payment.
    :raises ConflictError: when the payment is already reversed.
    :raises UnprocessableError: when ``effective_on`` is in the future or before the payment.
    """
    found = session.scalar(select(Payment.account_id).where(Payment.id == payment_id))
    if found is None:
        raise NotFoundError(f"no payment {payment_id}")
    account: Account = lock_account(session, found)
    payment = session.scalar(
        select(Payment).where(Payment.id == payment_id).execution_options(populate_existing=True)
    )
    assert payment is not None
    if payment.reversal_entry_id is not None:
        raise ConflictError(f"payment {payment_id} is already reversed")
    if effective_on > (on or today()):
        raise _fault("/effective_on", "must not be in the future")
    if effective_on < payment.received_on:
        raise _fault("/effective_on", "must not be before the payment was received")
    entry = session.get(JournalEntry, payment.entry_id)
    assert entry is not None
    assert entry.account_id == account.id
    try:
        reversal = journal.reverse_entry(
            session,
            entry,
            effective_on=effective_on,
            memo=memo or f"reversal of payment {payment.external_id}"[:200],
        )
    except ValueError as exc:
        raise ConflictError(str(exc)) from None
    payment.reversal_entry_id = reversal.id
    session.flush()
    # What the payment took off instalments a plan has replaced since goes to the plan's.
    plans.to_active_schedule(session, account, reversal.postings, day=effective_on)
    if account.status == "settled" and any(
        amount > 0 for amount in journal.receivable(journal.balances(session, account.id)).values()
    ):
        plans.reopen(session, account, closed_by=entry)
    events.payment_reversed(session, payment)
    return view_of(session, [payment])[0]
