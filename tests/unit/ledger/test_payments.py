"""Payment services: allocation through the configured strategy (plugins included),
idempotency, reversal, and the ``ledger.post_payment`` / ``ledger.create_promise`` actions.

Worked example (by hand): 300.00 at 0 % in three instalments of 100.00 due 15 Feb, 15 Mar
and 15 Apr 2026. 150.00 on 20 Mar pays instalment 1 and half of instalment 2 under the
default waterfall; a plugin strategy "newest_first" pays instalment 3 first instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import pytest

from almacen import hookimpl
from almacen.gateway.app import gateway_of
from almacen.gateway.errors import ConflictError, NotFoundError, UnprocessableError
from almacen.gateway.money import Money
from almacen.modules.ledger import accounts, actions, debtors, journal, payments
from almacen.modules.ledger.allocation import Allocation, Due
from almacen.modules.ledger.schemas import PaymentSchema
from tests.common.ledger import LedgerWorld, ledger_world

D = Decimal
DAY = dt.date(2026, 3, 20)


def cop(amount: str) -> Money:
    return Money(D(amount), "COP")


class NewestFirst:
    """A plugin's strategy: the latest instalment first, components in waterfall order."""

    name = "newest_first"

    def allocate(
        self, amount: Decimal, dues: Sequence[Due], *, waterfall: Sequence[str]
    ) -> list[Allocation]:
        left, result = amount, []
        for due in sorted(dues, key=lambda d: (-d.number, waterfall.index(d.component))):
            take = min(left, due.outstanding)
            if take > 0:
                result.append(Allocation(due.instalment_id, due.component, take))
                left -= take
        return result


class Greedy:
    """A broken strategy: allocates more than is owed."""

    name = "greedy"

    def allocate(
        self, amount: Decimal, dues: Sequence[Due], *, waterfall: Sequence[str]
    ) -> list[Allocation]:
        return [Allocation(dues[0].instalment_id, dues[0].component, amount)]


@pytest.fixture
def world(app: Any) -> Iterator[LedgerWorld]:
    with ledger_world(app) as world:
        yield world


def open_loan(session: Any) -> Any:
    debtor = debtors.create_debtor(session, {"external_ref": "d", "name": "A"})
    return accounts.open_account(
        session,
        debtor_id=debtor.id,
        external_ref="a",
        product_type="loan",
        principal=cop("300.00"),
        annual_rate=D("0"),
        originated_on=dt.date(2026, 1, 15),
        schedule={"generate": {"count": 3, "first_due": dt.date(2026, 2, 15)}},
        on=DAY,
    )


def post(session: Any, account: Any, amount: str, external_id: str = "p1", **kwargs: Any) -> Any:
    kwargs.setdefault("config", accounts.settings_for(session))
    return payments.post_payment(
        session,
        account.id,
        external_id=external_id,
        amount=cop(amount),
        received_on=DAY,
        on=DAY,
        **kwargs,
    )


def test_default_waterfall_and_replay(world: LedgerWorld) -> None:
    session = world.new_tenant()
    account = open_loan(session)
    result = post(session, account, "150.00")
    assert not result.replayed
    assert [(p.number, p.amount.amount) for p in result.view.allocations] == [
        (1, D("100.00")),
        (2, D("50.00")),
    ]
    again = post(session, account, "150.00")
    assert again.replayed
    assert again.view.payment.id == result.view.payment.id
    with pytest.raises(ConflictError):
        post(session, account, "150.01")
    owed = journal.receivable(journal.balances(session, account.id))
    assert owed["principal"] == D("150.00")


def test_plugin_strategy_chosen_by_configuration(world: LedgerWorld) -> None:
    session = world.new_tenant(allocation="newest_first")
    account = open_loan(session)
    with pytest.raises(UnprocessableError):
        post(session, account, "150.00")  # the strategy is not installed
    result = post(session, account, "150.00", strategies=[NewestFirst()])
    assert [(p.number, p.amount.amount) for p in result.view.allocations] == [
        (3, D("100.00")),
        (2, D("50.00")),
    ]


def test_a_strategy_cannot_overdraw_a_receivable(world: LedgerWorld) -> None:
    session = world.new_tenant(allocation="greedy")
    account = open_loan(session)
    with pytest.raises(RuntimeError, match="more than is owed"):
        post(session, account, "150.00", strategies=[Greedy()])


def test_strategies_come_from_the_registry_hook(app: Any) -> None:
    class Plugin:
        @hookimpl
        def almacen_ledger_allocation_strategies(self) -> list[Any]:
            return [NewestFirst()]

    registry = gateway_of(app).registry
    # The ledger added the hook's specification through almacen_addhooks.
    assert registry.hook.almacen_ledger_allocation_strategies.spec is not None
    plugin = Plugin()
    registry.manager.register(plugin, name="test-newest-first")
    try:
        with app.app.app_context():
            assert [s.name for s in actions.plugin_strategies()] == ["newest_first"]
    finally:
        registry.manager.unregister(plugin)
    assert actions.plugin_strategies() == []  # outside an app


def test_payments_stay_within_their_tenant(world: LedgerWorld) -> None:
    """The payment path's statements name the tenant themselves: another tenant's session
    neither finds the account nor sees its payments' external ids."""
    first, second = world.new_tenant(), world.new_tenant()
    theirs, ours = open_loan(first), open_loan(second)
    paid = post(first, theirs, "150.00", external_id="same-id")
    with pytest.raises(NotFoundError):
        post(second, theirs, "10.00", external_id="other-id")
    # The same external id is new in the second tenant: posted, not replayed nor refused.
    result = post(second, ours, "20.00", external_id="same-id")
    assert not result.replayed
    assert result.view.payment.id != paid.view.payment.id
    assert [(p.number, p.amount.amount) for p in result.view.allocations] == [(1, D("20.00"))]
    # Nothing was written to the first tenant's account by the refused payment.
    assert journal.receivable(journal.balances(first, theirs.id))["principal"] == D("150.00")


def test_the_answer_matches_what_was_written(world: LedgerWorld) -> None:
    """The payment is answered from what was in hand; reading it back gives the same."""
    session = world.new_tenant()
    account = open_loan(session)
    posted = post(session, account, "350.00").view
    (listed,) = payments.list_payments(session, account.id).items
    assert PaymentSchema().dump(listed) == PaymentSchema().dump(posted)
    assert posted.credit == cop("50.00")
    assert [(p.number, p.amount.amount) for p in posted.allocations] == [
        (1, D("100.00")),
        (2, D("100.00")),
        (3, D("100.00")),
    ]


def test_reversal(world: LedgerWorld) -> None:
    session = world.new_tenant()
    account = open_loan(session)
    view = post(session, account, "350.00").view
    assert view.credit == cop("50.00")
    reversed_view = payments.reverse_payment(session, view.payment.id, effective_on=DAY, on=DAY)
    assert reversed_view.status == "reversed"
    books = journal.balances(session, account.id)
    assert (books["receivable:principal"], books["credit"], books["cash"]) == (
        D("300.00"),
        D("0"),
        D("0"),
    )
    with pytest.raises(ConflictError):
        payments.reverse_payment(session, view.payment.id, effective_on=DAY, on=DAY)


def test_post_payment_and_create_promise_actions(app: Any, world: LedgerWorld) -> None:
    session = world.new_tenant()
    account = open_loan(session)
    registry = gateway_of(app).registry
    tenant_id = session.info["tenant_id"]
    pay = registry.actions["ledger.post_payment"]
    data = pay.input_schema().load(
        {
            "account_id": account.id,
            "external_id": "x",
            "amount": {"amount": "10.00", "currency": "COP"},
            "received_on": "2026-03-01",
        }
    )
    dumped = pay.output_schema().dump(pay.handler(session, tenant_id, data))
    assert dumped["allocations"][0]["amount"] == {"amount": "10.00", "currency": "COP"}
    promise = registry.actions["ledger.create_promise"]
    data = promise.input_schema().load(
        {
            "account_id": account.id,
            "amount": {"amount": "50.00", "currency": "COP"},
            "due_on": "2999-01-01",
        }
    )
    dumped = promise.output_schema().dump(promise.handler(session, tenant_id, data))
    assert (dumped["status"], dumped["amount"]["amount"]) == ("pending", "50.00")
    wrong = {**data, "amount": Money(D("1.00"), "USD")}
    with pytest.raises(UnprocessableError):
        promise.handler(session, tenant_id, wrong)


def test_event_types_are_registered(app: Any) -> None:
    events = gateway_of(app).registry.event_types
    names = {n for n in events if n.startswith("ledger.")}
    assert names == {
        "ledger.account_opened",
        "ledger.payment_posted",
        "ledger.payment_reversed",
        "ledger.bucket_changed",
        "ledger.promise_created",
        "ledger.promise_kept",
        "ledger.promise_broken",
        "ledger.account_settled",
    }
    payload = {
        "payment_id": "a" * 32,
        "account_id": "b" * 32,
        "external_id": "x",
        "amount": {"amount": "1.00", "currency": "COP"},
        "received_on": "2026-03-01",
        "entry_id": "c" * 32,
    }
    schema = events["ledger.payment_posted"].schema()
    assert schema.dump(schema.load(payload)) == payload
