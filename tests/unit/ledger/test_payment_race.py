"""A payment whose external id is taken between its check and its write (by a transaction
that committed meanwhile) is answered as a replay or a conflict, writing nothing.

The race is made deterministic by hiding the payment already posted from the check, as if
the check had run before the other transaction committed; the write must then find it on its
own (``ON CONFLICT DO NOTHING`` on PostgreSQL, the unique constraint in a savepoint elsewhere).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from almacen.gateway.errors import ConflictError
from almacen.modules.ledger import payment_sql
from almacen.modules.ledger.models import JournalEntry, Payment, Posting
from tests.common.ledger import LedgerWorld, ledger_world
from tests.unit.ledger.test_payments import open_loan, post

D = Decimal


@pytest.fixture
def world(app: Any) -> Iterator[LedgerWorld]:
    with ledger_world(app) as world:
        yield world


@pytest.fixture
def check_misses_existing(monkeypatch: pytest.MonkeyPatch) -> None:
    real = payment_sql.read

    def blind(*args: Any, **kwargs: Any) -> Any:
        check, rows = real(*args, **kwargs)
        return payment_sql.Precheck(None, check.promised, check.planned), rows

    monkeypatch.setattr(payment_sql, "read", blind)


def _counts(session: Any) -> tuple[int, int, int]:
    return tuple(  # type: ignore[return-value]
        session.scalar(select(func.count()).select_from(model))
        for model in (Payment, JournalEntry, Posting)
    )


@pytest.mark.usefixtures("check_misses_existing")
def test_a_lost_race_replays_the_same_payment(world: LedgerWorld) -> None:
    session = world.new_tenant()
    account = open_loan(session)
    first = post(session, account, "150.00", external_id="race-1")
    before = _counts(session)
    again = post(session, account, "150.00", external_id="race-1")
    assert again.replayed
    assert again.view.payment.id == first.view.payment.id
    assert [(p.number, p.amount.amount) for p in again.view.allocations] == [
        (1, D("100.00")),
        (2, D("50.00")),
    ]
    assert _counts(session) == before


@pytest.mark.usefixtures("check_misses_existing")
def test_a_lost_race_with_another_request_is_a_conflict(world: LedgerWorld) -> None:
    session = world.new_tenant()
    account = open_loan(session)
    post(session, account, "150.00", external_id="race-2")
    before = _counts(session)
    with pytest.raises(ConflictError):
        post(session, account, "20.00", external_id="race-2")
    assert _counts(session) == before
    # The transaction is still usable: a new external id posts.
    assert not post(session, account, "20.00", external_id="race-3").replayed
    assert _counts(session) == (before[0] + 1, before[1] + 1, before[2] + 2)
