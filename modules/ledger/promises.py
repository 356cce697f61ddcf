"""Promises to pay: create, evaluate against the journal, cancel.

A promise is ``pending`` until one of:

* ``kept`` — the payments that arrived between its creation and its due date plus the
  tenant's grace days reach ``amount × (1 − tolerance)``; this can happen before the due date;
* ``partially_kept`` — the window closed (``as_of`` is after due date plus grace) with some,
  but not enough, paid;
* ``broken`` — the window closed with nothing paid;
* ``cancelled`` — withdrawn while pending.

Payments are read from the journal, not from the payments table: the ``cash`` postings of
``payment`` entries, less those of ``reversal`` entries (negative cash), by effective date.
So a reversed payment no longer counts and any ``as_of`` gives the answer of that day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from almacen.gateway.db import utcnow
from almacen.gateway.errors import ConflictError, NotFoundError, UnprocessableError
from almacen.gateway.money import currency_exponent

from . import events
from .models import Account, JournalEntry, Posting, Promise

__all__ = ["PromiseChange", "cancel_promise", "create_promise", "evaluate_promises"]

#: Journal entry kinds whose ``cash`` postings count toward a promise.
_PAYMENT_KINDS = ("payment", "reversal")


@dataclasses.dataclass
class PromiseChange:
    """A promise whose status changed, for ``ledger.promise_kept`` / ``promise_broken``."""

    promise: Promise
    old: str
    new: str


def create_promise(
    session: Session,
    account: Account,
    *,
    amount: Decimal,
    due_on: dt.date,
    channel: str | None,
    today: dt.date,
    config: Mapping[str, Any],
) -> Promise:
    """Record a promise to pay ``amount`` (the account's currency) by ``due_on``.

    :param account: the account, of the session's tenant.
    :param amount: a positive Decimal with no more decimals than the currency allows.
    :param due_on: the day the debtor promised to pay by; today or later.
    :param channel: where the promise was made (``phone``, ``whatsapp``, ...), if known.
    :param today: the tenant's current date.
    :param config: the tenant's ledger configuration (``max_open_promises``).
    :raises UnprocessableError: for a bad amount or a due date in the past.
    :raises ConflictError: when the account is not open, or already has the most pending
        promises the tenant allows.
    """
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        detail = f"a promise's amount must be a positive decimal, not {amount!r}"
        raise UnprocessableError(detail, errors=[{"pointer": "/amount", "detail": detail}])
    exponent = currency_exponent(account.currency)
    if -int(amount.as_tuple().exponent) > exponent:
        detail = f"{amount} has more decimals than {account.currency} allows ({exponent})"
        raise UnprocessableError(detail, errors=[{"pointer": "/amount", "detail": detail}])
    if due_on < today:
        detail = f"a promise cannot fall due in the past ({due_on} is before {today})"
        raise UnprocessableError(detail, errors=[{"pointer": "/due_on", "detail": detail}])
    if account.status != "open":
        raise ConflictError(
            f"account {account.id} is {account.status}; promises are taken on open accounts only"
        )
    # Lock the account (PostgreSQL) so that two promises made at once cannot both pass the
    # limit; SQLite transactions already run one at a time (BEGIN IMMEDIATE).
    session.execute(select(Account.id).where(Account.id == account.id).with_for_update())
    limit = int(config.get("max_open_promises", 1))
    pending = session.scalar(
        select(func.count())
        .select_from(Promise)
        .where(Promise.account_id == account.id, Promise.status == "pending")
    )
    if (pending or 0) >= limit:
        raise ConflictError(
            f"account {account.id} already has {pending} pending promise(s); "
            f"the tenant allows {limit}",
            limit=limit,
        )
    promise = Promise(
        account_id=account.id,
        amount=amount,
        currency=account.currency,
        due_on=due_on,
        channel=channel,
        status="pending",
        paid=Decimal(0),
        created_on=today,
    )
    session.add(promise)
    session.flush()
    events.promise_created(session, promise)
    return promise


def evaluate_promises(
    session: Session,
    *,
    as_of: dt.date,
    config: Mapping[str, Any],
    account_id: str | None = None,
) -> list[PromiseChange]:
    """Resolve pending promises from the payments in the journal up to ``as_of``.

    Every pending promise gets its ``paid`` brought up to date; those kept, partially kept or
    broken get their new status and ``resolved_at``.

    Each promise counts every payment in its own window: when a tenant allows several open
    promises on one account and their windows overlap, one payment counts toward each.

    :param as_of: the day to evaluate on (payments effective later are ignored).
    :param config: ``promise_grace_days`` and ``promise_tolerance`` of the tenant.
    :param account_id: only this account's promises (as after a payment); all by default.
    :return: the promises whose status changed, in order of due date.
    """
    grace = dt.timedelta(days=int(config.get("promise_grace_days", 3)))
    tolerance = Decimal(str(config.get("promise_tolerance", 0)))
    pending_filter = [Promise.status == "pending", Promise.created_on <= as_of]
    if account_id is not None:
        pending_filter.append(Promise.account_id == account_id)
    promises = session.scalars(
        select(Promise)
        .where(*pending_filter)
        .order_by(Promise.due_on, Promise.created_on, Promise.id)
        .with_for_update()
    ).all()
    if not promises:
        return []

    # Net cash received per account and day, from the earliest window start on: one
    # grouped query, then each promise sums the days of its own window.
    earliest = min(p.created_on for p in promises)
    accounts = select(Promise.account_id).where(*pending_filter).scalar_subquery()
    movements: dict[str, list[tuple[dt.date, Decimal]]] = defaultdict(list)
    for owner, day, total in session.execute(
        select(Posting.account_id, Posting.effective_on, func.sum(Posting.amount))
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(
            Posting.book == "cash",
            JournalEntry.kind.in_(_PAYMENT_KINDS),
            Posting.account_id.in_(accounts),
            Posting.effective_on >= earliest,
            Posting.effective_on <= as_of,
        )
        .group_by(Posting.account_id, Posting.effective_on)
    ):
        movements[owner].append((day, Decimal(total)))

    now = utcnow()
    changes: list[PromiseChange] = []
    for promise in promises:
        closes = promise.due_on + grace
        until = min(as_of, closes)
        paid = sum(
            (
                amount
                for day, amount in movements.get(promise.account_id, ())
                if promise.created_on <= day <= until
            ),
            Decimal(0),
        )
        paid = max(paid, Decimal(0))
        threshold = promise.amount * (1 - tolerance)
        if paid >= threshold:
            new = "kept"
        elif as_of > closes:
            new = "partially_kept" if paid > 0 else "broken"
        else:
            new = "pending"
        if promise.paid != paid:
            promise.paid = paid
        if new != "pending":
            changes.append(PromiseChange(promise, promise.status, new))
            promise.status = new
            promise.resolved_at = now
    session.flush()
    for change in changes:
        events.promise_resolved(session, change.promise, change.new)
    return changes


def cancel_promise(session: Session, promise_id: str) -> Promise:
    """Withdraw a pending promise.

    :raises NotFoundError: when the tenant has no promise with that id.
    :raises ConflictError: when the promise is no longer pending.
    """
    promise = session.scalar(select(Promise).where(Promise.id == promise_id).with_for_update())
    if promise is None:
        raise NotFoundError(f"no promise {promise_id}")
    if promise.status != "pending":
        raise ConflictError(
            f"promise {promise_id} is {promise.status}; only a pending promise can be cancelled"
        )
    promise.status = "cancelled"
    promise.resolved_at = utcnow()
    session.flush()
    return promise
