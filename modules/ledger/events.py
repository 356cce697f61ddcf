"""The ledger's event types, and the functions that emit them with the rows they describe.

Each emitter is called by the domain service in the transaction that made the change, so
the event commits with it (the gateway's transactional outbox). Subjects are accounts: that
is what webhooks filter on and what experiments assign arms by.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from almacen.gateway.events import emit, emit_many
from almacen.gateway.module import EventType
from almacen.gateway.money import Money

from . import schemas
from .models import Account, Payment, Promise

__all__ = [
    "ACCOUNT_OPENED",
    "ACCOUNT_SETTLED",
    "ALL",
    "BUCKET_CHANGED",
    "PAYMENT_POSTED",
    "PAYMENT_REVERSED",
    "PROMISE_BROKEN",
    "PROMISE_CREATED",
    "PROMISE_KEPT",
]

ACCOUNT_OPENED = EventType(
    name="ledger.account_opened",
    schema=schemas.AccountOpenedSchema,
    description="An account was opened with its schedule.",
)
PAYMENT_POSTED = EventType(
    name="ledger.payment_posted",
    schema=schemas.PaymentEventSchema,
    description="A payment was posted and allocated.",
)
PAYMENT_REVERSED = EventType(
    name="ledger.payment_reversed",
    schema=schemas.PaymentEventSchema,
    description="A payment was reversed.",
)
BUCKET_CHANGED = EventType(
    name="ledger.bucket_changed",
    schema=schemas.BucketChangedSchema,
    description="The aging job moved an account to another bucket.",
)
PROMISE_CREATED = EventType(
    name="ledger.promise_created",
    schema=schemas.PromiseEventSchema,
    description="A promise to pay was recorded.",
)
PROMISE_KEPT = EventType(
    name="ledger.promise_kept",
    schema=schemas.PromiseEventSchema,
    description="A promise to pay was kept.",
)
PROMISE_BROKEN = EventType(
    name="ledger.promise_broken",
    schema=schemas.PromiseEventSchema,
    description="A promise to pay came due (plus grace) without enough paid: broken, or "
    "partially kept (``status`` says which).",
)
ACCOUNT_SETTLED = EventType(
    name="ledger.account_settled",
    schema=schemas.AccountSettledSchema,
    description="Nothing is owed on the account any more.",
)
ALL = (
    ACCOUNT_OPENED,
    PAYMENT_POSTED,
    PAYMENT_REVERSED,
    BUCKET_CHANGED,
    PROMISE_CREATED,
    PROMISE_KEPT,
    PROMISE_BROKEN,
    ACCOUNT_SETTLED,
)


def _subject(account_id: str) -> tuple[str, str]:
    return ("account", account_id)


def accounts_opened(
    session: Session,
    rows: Sequence[Mapping[str, Any]],
) -> int:
    """``ledger.account_opened`` for each bulk-inserted account row, written in bulk too."""
    return emit_many(
        session,
        ACCOUNT_OPENED,
        (
            (
                {
                    "account_id": row["id"],
                    "debtor_id": row["debtor_id"],
                    "external_ref": row["external_ref"],
                    "product_type": row["product_type"],
                    "principal": Money.exact(row["principal"], row["currency"]),
                    "originated_on": row["originated_on"],
                },
                _subject(row["id"]),
            )
            for row in rows
        ),
    )


def account_opened(session: Session, account: Account) -> None:
    """``ledger.account_opened``."""
    emit(
        session,
        ACCOUNT_OPENED,
        {
            "account_id": account.id,
            "debtor_id": account.debtor_id,
            "external_ref": account.external_ref,
            "product_type": account.product_type,
            "principal": Money.exact(account.principal, account.currency),
            "originated_on": account.originated_on,
        },
        subject=_subject(account.id),
    )


def _payment(payment: Payment) -> dict[str, object]:
    return {
        "payment_id": payment.id,
        "account_id": payment.account_id,
        "external_id": payment.external_id,
        "amount": Money.exact(payment.amount, payment.currency),
        "received_on": payment.received_on,
        "entry_id": payment.entry_id,
    }


def payment_posted(session: Session, payment: Payment) -> None:
    """``ledger.payment_posted``."""
    emit(session, PAYMENT_POSTED, _payment(payment), subject=_subject(payment.account_id))


def payment_reversed(session: Session, payment: Payment) -> None:
    """``ledger.payment_reversed``."""
    emit(session, PAYMENT_REVERSED, _payment(payment), subject=_subject(payment.account_id))


def _promise(promise: Promise, status: str) -> dict[str, object]:
    return {
        "promise_id": promise.id,
        "account_id": promise.account_id,
        "amount": Money.exact(promise.amount, promise.currency),
        "paid": Money.exact(promise.paid, promise.currency),
        "due_on": promise.due_on,
        "status": status,
    }


def promise_created(session: Session, promise: Promise) -> None:
    """``ledger.promise_created``."""
    emit(
        session,
        PROMISE_CREATED,
        _promise(promise, "pending"),
        subject=_subject(promise.account_id),
    )


def promise_resolved(session: Session, promise: Promise, status: str) -> None:
    """``ledger.promise_kept`` or ``ledger.promise_broken`` (broken or partially kept)."""
    event_type = PROMISE_KEPT if status == "kept" else PROMISE_BROKEN
    emit(session, event_type, _promise(promise, status), subject=_subject(promise.account_id))


def buckets_changed(
    session: Session, changes: Sequence[tuple[str, str, str, int]], *, as_of: dt.date
) -> int:
    """``ledger.bucket_changed`` for each ``(account_id, old, new, days_past_due)``, at once."""
    return emit_many(
        session,
        BUCKET_CHANGED,
        (
            (
                {"account_id": a, "old": old, "new": new, "days_past_due": dpd, "as_of": as_of},
                _subject(a),
            )
            for a, old, new, dpd in changes
        ),
    )


def account_settled(
    session: Session, account: Account, *, settled_on: dt.date, credit: Decimal
) -> None:
    """``ledger.account_settled``."""
    emit(
        session,
        ACCOUNT_SETTLED,
        {
            "account_id": account.id,
            "settled_on": settled_on,
            "credit": Money.exact(credit, account.currency),
        },
        subject=_subject(account.id),
    )
