"""Promises to pay: creation rules, evaluation against the journal, cancellation.

One world for the worked examples: a USD account owing 1,000.00 since 31 January 2026; a
promise made on 1 March for 100.00 due on 10 March; with the default 3 grace days its window
closes at the end of 13 March, so the promise is judged from 14 March on.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from almacen.gateway.errors import ConflictError, NotFoundError, UnprocessableError
from almacen.modules.ledger.journal import Leg, post_entry, reverse_entry
from almacen.modules.ledger.models import Account, JournalEntry, Promise
from almacen.modules.ledger.promises import (
    PromiseChange,
    cancel_promise,
    create_promise,
    evaluate_promises,
)
from tests.common.ledger_rows import config, open_account

D = Decimal
JAN31 = dt.date(2026, 1, 31)
MAR01 = dt.date(2026, 3, 1)
MAR10 = dt.date(2026, 3, 10)
MAR13 = dt.date(2026, 3, 13)
MAR14 = dt.date(2026, 3, 14)

# -- the world: a tenant's session in a rolled-back transaction, and a few accounts ----------


def pay(session: Session, account: Account, on: dt.date, amount: str) -> JournalEntry:
    """A payment of ``amount`` effective ``on``, to the first instalment's principal."""
    return post_entry(
        session,
        account,
        kind="payment",
        effective_on=on,
        legs=[
            Leg("cash", D(amount)),
            Leg("receivable:principal", -D(amount), account.instalments[0].id),
        ],
    )


def promise(
    session: Session,
    account: Account,
    amount: str = "100.00",
    *,
    due_on: dt.date = MAR10,
    today: dt.date = MAR01,
    **settings: Any,
) -> Promise:
    """The worked example's promise, made through :func:`create_promise`."""
    return create_promise(
        session,
        account,
        amount=D(amount),
        due_on=due_on,
        channel="phone",
        today=today,
        config=config(**settings),
    )


def status(session: Session, made: Promise) -> tuple[str, Decimal]:
    session.refresh(made)
    return made.status, made.paid


@pytest.fixture
def account(session: Session) -> Account:
    """An open USD account owing 1,000.00 since 31 January 2026."""
    return open_account(session, (JAN31, "1000.00"))


# -- creating --------------------------------------------------------------------------------


def test_a_promise_is_pending_in_the_accounts_currency(session: Session, account: Account) -> None:
    made = promise(session, account)

    assert (made.status, made.amount, made.currency, made.due_on) == (
        "pending",
        D("100.00"),
        "USD",
        MAR10,
    )
    assert (made.created_on, made.channel, made.paid, made.resolved_at) == (
        MAR01,
        "phone",
        D(0),
        None,
    )


def test_a_promise_may_fall_due_today(session: Session, account: Account) -> None:
    assert promise(session, account, due_on=MAR01).status == "pending"


@pytest.mark.parametrize("amount", [D("0"), D("-5.00"), D("10.001"), D("NaN"), 10.5])
def test_a_bad_amount_is_unprocessable(session: Session, account: Account, amount: Any) -> None:
    with pytest.raises(UnprocessableError) as raised:
        create_promise(
            session,
            account,
            amount=amount,
            due_on=MAR10,
            channel=None,
            today=MAR01,
            config=config(),
        )
    assert [e["pointer"] for e in raised.value.errors] == ["/amount"]
    assert session.scalar(select(func.count()).select_from(Promise)) == 0


def test_a_due_date_in_the_past_is_unprocessable(session: Session, account: Account) -> None:
    with pytest.raises(UnprocessableError, match="past") as raised:
        promise(session, account, due_on=dt.date(2026, 2, 28))
    assert [e["pointer"] for e in raised.value.errors] == ["/due_on"]


def test_one_open_promise_per_account_by_default(session: Session, account: Account) -> None:
    first = promise(session, account)

    with pytest.raises(ConflictError, match="allows 1"):
        promise(session, account)
    cancel_promise(session, first.id)
    assert promise(session, account).status == "pending"


def test_the_tenant_may_allow_more_open_promises(session: Session, account: Account) -> None:
    promise(session, account, max_open_promises=2)
    promise(session, account, max_open_promises=2)

    with pytest.raises(ConflictError, match="already has 2"):
        promise(session, account, max_open_promises=2)


def test_only_an_open_account_takes_promises(session: Session, account: Account) -> None:
    account.status = "charged_off"
    session.flush()

    with pytest.raises(ConflictError, match="charged_off"):
        promise(session, account)


# -- evaluating ------------------------------------------------------------------------------


def evaluate(session: Session, as_of: dt.date, **settings: Any) -> list[tuple[str, str, str]]:
    """(promise id, old, new) of each change."""
    changes = evaluate_promises(session, as_of=as_of, config=config(**settings))
    return [(c.promise.id, c.old, c.new) for c in changes]


def test_kept_as_soon_as_the_amount_arrives(session: Session, account: Account) -> None:
    made = promise(session, account)
    pay(session, account, dt.date(2026, 3, 4), "40.00")
    pay(session, account, dt.date(2026, 3, 5), "60.00")

    # 40.00 by 4 March: not yet enough, and the window is open.
    assert evaluate(session, dt.date(2026, 3, 4)) == []
    assert status(session, made) == ("pending", D("40.00"))
    # 40.00 + 60.00 = 100.00 by 5 March: kept, five days before the due date.
    changes = evaluate_promises(session, as_of=dt.date(2026, 3, 5), config=config())
    assert changes == [PromiseChange(made, "pending", "kept")]
    assert status(session, made) == ("kept", D("100.00"))
    assert made.resolved_at is not None
    # A resolved promise is not evaluated again.
    assert evaluate(session, MAR14) == []


def test_a_payment_on_the_last_grace_day_counts(session: Session, account: Account) -> None:
    made = promise(session, account)
    pay(session, account, MAR13, "100.00")  # due 10 March + 3 grace days

    assert evaluate(session, MAR13) == [(made.id, "pending", "kept")]


def test_a_payment_the_day_after_the_grace_days_does_not(
    session: Session, account: Account
) -> None:
    made = promise(session, account)
    pay(session, account, MAR14, "100.00")

    # On 13 March the window is still open; on 14 March it has closed with nothing paid.
    assert evaluate(session, MAR13) == []
    assert evaluate(session, MAR14) == [(made.id, "pending", "broken")]
    assert status(session, made) == ("broken", D(0))


def test_partially_kept_once_the_window_closes(session: Session, account: Account) -> None:
    made = promise(session, account)
    pay(session, account, dt.date(2026, 3, 9), "60.00")

    assert evaluate(session, MAR13) == []
    assert status(session, made) == ("pending", D("60.00"))
    assert evaluate(session, MAR14) == [(made.id, "pending", "partially_kept")]
    assert status(session, made) == ("partially_kept", D("60.00"))


@pytest.mark.parametrize(
    ("paid", "outcome"),
    # Tolerance 5 %: the threshold is 100.00 × 0.95 = 95.00.
    [("95.00", "kept"), ("94.99", "partially_kept")],
)
def test_tolerance_at_the_threshold(
    session: Session, account: Account, paid: str, outcome: str
) -> None:
    made = promise(session, account)
    pay(session, account, MAR10, paid)

    assert evaluate(session, MAR14, promise_tolerance="0.05") == [(made.id, "pending", outcome)]


def test_grace_days_are_the_tenants(session: Session, account: Account) -> None:
    made = promise(session, account)
    pay(session, account, dt.date(2026, 3, 11), "100.00")

    # With no grace days the window closes with 10 March: the payment of the 11th is late.
    assert evaluate(session, dt.date(2026, 3, 11), promise_grace_days=0) == [
        (made.id, "pending", "broken")
    ]


def test_broken_when_nothing_arrives(session: Session, account: Account) -> None:
    made = promise(session, account)
    # Paid the day before the promise was made: not toward it.
    pay(session, account, dt.date(2026, 2, 28), "100.00")

    assert evaluate(session, MAR14) == [(made.id, "pending", "broken")]


def test_a_reversed_payment_no_longer_counts(session: Session, account: Account) -> None:
    made = promise(session, account)
    payment = pay(session, account, dt.date(2026, 3, 5), "100.00")
    reverse_entry(session, payment, effective_on=dt.date(2026, 3, 6))
    pay(session, account, dt.date(2026, 3, 8), "50.00")

    # 100.00 − 100.00 + 50.00 = 50.00 in the window.
    assert evaluate(session, MAR14) == [(made.id, "pending", "partially_kept")]
    assert status(session, made) == ("partially_kept", D("50.00"))


def test_a_reversal_after_the_window_changes_nothing(session: Session, account: Account) -> None:
    made = promise(session, account)
    payment = pay(session, account, dt.date(2026, 3, 5), "100.00")
    reverse_entry(session, payment, effective_on=MAR14)

    assert evaluate(session, MAR14) == [(made.id, "pending", "kept")]


def test_payments_to_another_account_do_not_count(session: Session, account: Account) -> None:
    other = open_account(session, (JAN31, "500.00"))
    made = promise(session, account)
    pay(session, other, dt.date(2026, 3, 5), "100.00")

    assert evaluate(session, MAR14) == [(made.id, "pending", "broken")]


def test_evaluating_one_account_leaves_the_others(session: Session, account: Account) -> None:
    other = open_account(session, (JAN31, "500.00"))
    ours, theirs = promise(session, account), promise(session, other)

    changes = evaluate_promises(session, as_of=MAR14, config=config(), account_id=account.id)

    assert [(c.promise.id, c.new) for c in changes] == [(ours.id, "broken")]
    assert status(session, theirs) == ("pending", D(0))


def test_other_tenants_promises_are_not_evaluated(
    new_tenant: Callable[[], Session], session: Session, account: Account
) -> None:
    theirs = new_tenant()
    their_promise = promise(theirs, open_account(theirs, (JAN31, "10.00")))
    ours = promise(session, account)

    assert evaluate(session, MAR14) == [(ours.id, "pending", "broken")]
    assert status(theirs, their_promise) == ("pending", D(0))


# -- cancelling ------------------------------------------------------------------------------


def test_cancel_a_pending_promise(session: Session, account: Account) -> None:
    made = promise(session, account)

    cancelled = cancel_promise(session, made.id)

    assert cancelled is made
    assert (made.status, made.resolved_at is not None) == ("cancelled", True)
    assert evaluate(session, MAR14) == []
    with pytest.raises(ConflictError, match="cancelled"):
        cancel_promise(session, made.id)


def test_cancel_an_unknown_or_foreign_promise(
    new_tenant: Callable[[], Session], session: Session
) -> None:
    theirs = new_tenant()
    foreign = promise(theirs, open_account(theirs, (JAN31, "10.00")))

    with pytest.raises(NotFoundError):
        cancel_promise(session, uuid.uuid4().hex)
    with pytest.raises(NotFoundError):
        cancel_promise(session, foreign.id)
