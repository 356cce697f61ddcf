"""Plans, settlements and disputes (``modules/ledger/plans.py``) on the worker's database.

The loan of the examples is the DOMAIN.md one: 1,000.00 COP at 12 % over 12 months from
15 January 2026, instalments of 88.85 (the last 88.84), total interest 66.19. Interest is
posted on each due date, so a plan installed on 20 March 2026 finds the interest of the
first two instalments due (10.00 and 9.21, as test_accounts.py works out) and cancels the
other ten (66.19 − 19.21 = 46.98).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from almacen.gateway.app import gateway_of
from almacen.gateway.errors import ConflictError, UnprocessableError
from almacen.gateway.money import Money
from almacen.modules.ledger import accounts, debtors, journal, payments, plans
from almacen.modules.ledger.models import Instalment, JournalEntry, Plan, Posting
from tests.common.ledger import LedgerWorld, ledger_world

D = Decimal
OPENED = dt.date(2026, 1, 15)
MAR20 = dt.date(2026, 3, 20)
COMPONENTS = ("principal", "interest", "fees", "penalties")


@pytest.fixture
def world(app: Any) -> Iterator[LedgerWorld]:
    with ledger_world(app) as world:
        yield world


def open_loan(session: Any, **overrides: Any) -> Any:
    ref = f"{id(overrides)}-{len(overrides)}-{overrides.get('external_ref', '')}"
    debtor = debtors.create_debtor(session, {"external_ref": f"d{ref}", "name": "A"})
    args: dict[str, Any] = {
        "debtor_id": debtor.id,
        "external_ref": f"a{ref}",
        "product_type": "loan",
        "principal": Money(D("1000.00"), "COP"),
        "annual_rate": D("0.12"),
        "originated_on": OPENED,
        "schedule": {"generate": {"count": 12, "first_due": dt.date(2026, 2, 15)}},
        "on": dt.date(2026, 6, 1),
    }
    args.update(overrides)
    return accounts.open_account(session, **args)


def owed(session: Any, account_id: str, as_of: dt.date | None = None) -> dict[str, Decimal]:
    return journal.receivable(journal.balances(session, account_id, as_of=as_of))


def pay(session: Any, account: Any, amount: str, day: dt.date, **config: Any) -> Any:
    return payments.post_payment(
        session,
        account.id,
        external_id=f"p-{account.id}-{day}-{amount}",
        amount=Money(D(amount), account.currency),
        received_on=day,
        config=accounts.settings_for(session) | config,
        on=dt.date(2999, 1, 1),
    )


def install(session: Any, account: Any, **overrides: Any) -> Plan:
    args: dict[str, Any] = {
        "count": 6,
        "first_due": dt.date(2026, 4, 30),
        "config": accounts.settings_for(session),
        "on": MAR20,
    }
    args.update(overrides)
    return plans.install_plan(session, account.id, **args)


def test_install_cancels_future_interest_and_moves_what_is_due(world: LedgerWorld) -> None:
    session = world.new_tenant()
    account = open_loan(session)
    before = owed(session, account.id, MAR20)
    # Due by 20 March: all the principal (charged at origination) and 19.21 of interest.
    assert before["principal"] == D("1000.00")
    assert before["interest"] == D("19.21")
    plan = install(session, account)
    assert owed(session, account.id, MAR20) == before
    # 1,019.21 over 6 at 0 %: 169.8683… → 169.87 five times (849.35), 169.86 last.
    assert [i["amount"] for i in plan.terms["instalments"]] == ["169.87"] * 5 + ["169.86"]
    cancelled = plan.terms["cancelled_interest"]
    assert len(cancelled) == 10
    assert sum(D(c["amount"]) for c in cancelled) == D("46.98")
    # Nothing else will ever fall due: the balance at the end of time is what is owed today.
    assert owed(session, account.id) == before
    old = session.scalars(
        select(Instalment).where(Instalment.account_id == account.id, Instalment.number <= 12)
    ).all()
    assert len(old) == 12 and not any(i.active for i in old)
    rows = journal.outstanding_by_instalment(session, [account.id])[account.id]
    assert [r.number for r in rows] == list(range(13, 19))
    # The first takes the interest (19.21) and 150.66 of principal, in waterfall order.
    assert rows[0].components["interest"] == D("19.21")
    assert rows[0].components["principal"] == D("150.66")


def test_install_refuses_without_writing(world: LedgerWorld) -> None:
    session = world.new_tenant()
    account = open_loan(session)
    count = session.scalar(select(func.count()).select_from(JournalEntry))
    with pytest.raises(UnprocessableError):
        install(session, account, down_payment=Money(D("1019.21"), "COP"))
    with pytest.raises(UnprocessableError):
        install(session, account, down_payment=Money(D("10.00"), "USD"))
    with pytest.raises(UnprocessableError):
        install(session, account, first_due=MAR20)
    with pytest.raises(UnprocessableError):
        install(session, account, count=601)
    with pytest.raises(UnprocessableError):
        install(
            session,
            account,
            down_payment=Money(D("10.00"), "COP"),
            down_payment_due=dt.date(2026, 5, 1),
        )
    assert session.scalar(select(func.count()).select_from(JournalEntry)) == count
    install(session, account)
    with pytest.raises(ConflictError):
        install(session, account)


def cop(amount: str) -> Money:
    return Money(D(amount), "COP")


def test_explicit_schedule_is_installed_row_for_row(world: LedgerWorld) -> None:
    session = world.new_tenant()
    account = open_loan(session)
    # 1,019.21 owed on 20 March (see the module docstring): 19.21 down, then a step-up of
    # 300.00, 300.00, 400.00 on business days chosen elsewhere, the last with 5.00 interest.
    rows = [
        plans.PlanInstalment(dt.date(2026, 4, 30), cop("300.00")),
        plans.PlanInstalment(dt.date(2026, 6, 1), cop("300.00")),
        plans.PlanInstalment(dt.date(2026, 6, 30), cop("400.00"), cop("5.00")),
    ]
    plan = install(
        session,
        account,
        count=None,
        first_due=None,
        instalments=rows,
        down_payment=cop("19.21"),
    )
    assert [(i["due_on"], i["amount"]) for i in plan.terms["instalments"]] == [
        ("2026-03-20", "19.21"),
        ("2026-04-30", "300.00"),
        ("2026-06-01", "300.00"),
        ("2026-06-30", "405.00"),
    ]
    # Everything owed at the end of time: 1,019.21 plus the plan's own 5.00 of interest.
    assert sum(owed(session, account.id).values(), D(0)) == D("1024.21")


@pytest.mark.parametrize(
    ("rows", "pointer"),
    [
        # The principals sum to 1,000.00, not the 1,019.21 owed.
        ([("2026-04-30", "500.00", None), ("2026-05-30", "500.00", None)], "/instalments"),
        # Dates must rise after the plan's first day.
        ([("2026-04-30", "519.21", None), ("2026-04-30", "500.00", None)], "/instalments/1/due_on"),
        ([("2026-03-20", "1019.21", None)], "/instalments/0/due_on"),
        (
            [("2026-04-30", "1019.21", None), ("2026-05-30", "0.00", None)],
            "/instalments/1/principal/amount",
        ),
        ([("2026-04-30", "1019.21", "-1.00")], "/instalments/0/interest/amount"),
    ],
)
def test_bad_explicit_schedule_is_refused_without_writing(
    world: LedgerWorld, rows: list[tuple[str, str, str | None]], pointer: str
) -> None:
    session = world.new_tenant()
    account = open_loan(session)
    count = session.scalar(select(func.count()).select_from(JournalEntry))
    given = [
        plans.PlanInstalment(
            dt.date.fromisoformat(due), cop(principal), None if interest is None else cop(interest)
        )
        for due, principal, interest in rows
    ]
    with pytest.raises(UnprocessableError) as raised:
        install(session, account, count=None, first_due=None, instalments=given)
    assert [error["pointer"] for error in raised.value.errors] == [pointer]
    assert session.scalar(select(func.count()).select_from(JournalEntry)) == count


def test_completed_when_the_plan_is_paid(world: LedgerWorld) -> None:
    session = world.new_tenant()
    account = open_loan(session)
    plan = install(session, account, count=1, first_due=dt.date(2026, 4, 30))
    pay(session, account, "1000.00", MAR20)
    assert plan.status == "active"
    pay(session, account, "19.21", dt.date(2026, 3, 21))
    assert (plan.status, plan.resolved_on) == ("completed", dt.date(2026, 3, 21))


def test_revert_charges_the_cancelled_interest_again(world: LedgerWorld) -> None:
    session = world.new_tenant(on_plan_broken="revert", plan_broken_after_days=10)
    account = open_loan(session)
    config = accounts.settings_for(session)
    plan = install(session, account, annual_rate=D("0.12"))
    # Broken 11 days after the first plan instalment (30 April) stays unpaid.
    assert plans.evaluate_plans(session, as_of=dt.date(2026, 5, 10), config=config) == []
    changes = plans.evaluate_plans(session, as_of=dt.date(2026, 5, 11), config=config)
    assert [(c.old, c.new) for c in changes] == [("active", "broken")]
    # The original schedule is back: every instalment as opened (principal and interest),
    # the plan's 12 % interest due on 30 April (1,019.21 × 1 % = 10.19) kept on the oldest.
    rows = journal.outstanding_by_instalment(session, [account.id])[account.id]
    assert [r.number for r in rows] == list(range(1, 13))
    assert sum((r.components["principal"] for r in rows), D(0)) == D("1000.00")
    assert owed(session, account.id)["interest"] == D("66.19") + D("10.19")
    assert rows[0].components["interest"] == D("10.00") + D("10.19")
    # Instalment 3's interest (due 15 April, cancelled by the plan) is charged again on the
    # day of the break; instalment 4's (15 May) on its own date.
    entries = session.scalars(
        select(JournalEntry).where(
            JournalEntry.account_id == account.id,
            JournalEntry.memo.like("interest charged again%"),
        )
    ).all()
    assert min(e.effective_on for e in entries) == dt.date(2026, 5, 11)
    assert dt.date(2026, 5, 15) in {e.effective_on for e in entries}
    assert plan.status == "broken"


def test_settlement_completes_on_the_day_payments_reach_it(world: LedgerWorld) -> None:
    session = world.new_tenant()
    account = open_loan(session)
    with pytest.raises(UnprocessableError):
        plans.apply_settlement(
            session, account.id, amount=Money(D("1019.21"), "COP"), due_on=MAR20, on=MAR20
        )
    settlement = plans.apply_settlement(
        session, account.id, amount=Money(D("600.00"), "COP"), due_on=dt.date(2026, 4, 30), on=MAR20
    )
    pay(session, account, "300.00", dt.date(2026, 3, 25))
    assert settlement.status == "active"
    assert owed(session, account.id, dt.date(2026, 3, 25))["principal"] > 0
    pay(session, account, "300.00", dt.date(2026, 4, 2))
    assert (settlement.status, settlement.resolved_on) == ("completed", dt.date(2026, 4, 2))
    assert account.status == "settled"
    # Everything is forgiven from 2 April on, and nothing falls due later.
    assert sum(owed(session, account.id, dt.date(2026, 4, 2)).values()) == 0
    assert sum(owed(session, account.id).values()) == 0
    # Owed on 2 April: 1,000.00 of principal and 19.21 of interest (April's falls due on the
    # 15th and is cancelled), less the 600.00 paid: 419.21 forgiven.
    assert settlement.terms["forgiven"] == "419.21"


def test_disputes_flag_and_clear(world: LedgerWorld) -> None:
    session = world.new_tenant()
    account = open_loan(session)
    with pytest.raises(UnprocessableError):
        plans.open_dispute(session, account.id, reason="  ")
    dispute = plans.open_dispute(session, account.id, reason="wrong amount")
    assert account.disputed
    with pytest.raises(ConflictError):
        plans.open_dispute(session, account.id, reason="again")
    with pytest.raises(UnprocessableError):
        plans.resolve_dispute(session, account.id, outcome="dunno")
    assert plans.resolve_dispute(session, account.id, outcome="upheld") is dispute
    assert (dispute.status, account.disputed) == ("upheld", False)
    with pytest.raises(ConflictError):
        plans.resolve_dispute(session, account.id, outcome="upheld")


def test_write_off_never_exceeds_what_is_owed(world: LedgerWorld) -> None:
    session = world.new_tenant()
    account = open_loan(session)
    plans.open_dispute(session, account.id, reason="fraud", amount=Money(D("5000.00"), "COP"))
    dispute = plans.resolve_dispute(session, account.id, outcome="upheld", write_off=True, on=MAR20)
    entry = session.get(JournalEntry, dispute.write_off_entry_id)
    assert entry is not None and entry.effective_on == MAR20
    # Owed on 20 March: 19.21 of interest and 1,000.00 of principal; the rest of the 5,000.00
    # is not forgiven because it is not owed.
    assert [p.amount for p in entry.postings if p.book == "write_off"] == [D("1019.21")]
    assert sum(owed(session, account.id, MAR20).values()) == 0
    with pytest.raises(UnprocessableError):
        plans.open_dispute(session, account.id, reason="x", amount=Money(D("0.00"), "COP"))


def test_actions(app: Any, world: LedgerWorld) -> None:
    session = world.new_tenant()
    account = open_loan(session)
    registry = gateway_of(app).registry
    tenant_id = session.info["tenant_id"]
    action = registry.actions["ledger.apply_settlement"]
    data = action.input_schema().load(
        {
            "account_id": account.id,
            "amount": {"amount": "500.00", "currency": "COP"},
            "due_on": "2999-01-01",
        }
    )
    dumped = action.output_schema().dump(action.handler(session, tenant_id, data))
    assert (dumped["kind"], dumped["status"], dumped["terms"]["amount"]) == (
        "settlement",
        "active",
        "500.00",
    )
    other = open_loan(session, external_ref="second")
    action = registry.actions["ledger.install_plan"]
    data = action.input_schema().load(
        {"account_id": other.id, "count": 3, "first_due": "2999-01-31", "annual_rate": "0.12"}
    )
    dumped = action.output_schema().dump(action.handler(session, tenant_id, data))
    assert (dumped["kind"], dumped["terms"]["annual_rate"]) == ("plan", "0.12")
    with pytest.raises(ConflictError):
        action.handler(session, tenant_id, data)


def test_the_revision_follows_the_import_one(app: Any) -> None:
    from alembic.script import ScriptDirectory

    from almacen.gateway import migrate

    gateway = gateway_of(app)
    config = migrate.alembic_config(gateway.db.engine, gateway.registry.modules.values())
    script = ScriptDirectory.from_config(config).get_revision("led0003")
    assert script is not None
    assert script.down_revision == "led0002"


# -- the property: restructuring never changes a balance ---------------------------------------

loans = st.fixed_dictionaries(
    {
        "principal": st.decimals(D("50.00"), D("5000.00"), places=2),
        "rate": st.sampled_from([D(0), D("0.12"), D("0.365")]),
        "count": st.integers(1, 18),
        "paid": st.decimals(D("0.00"), D("600.00"), places=2),
        "fee": st.decimals(D("0.00"), D("30.00"), places=2),
        "plan_day": st.integers(0, 400),
        "plan_count": st.integers(1, 24),
        "plan_rate": st.sampled_from([D(0), D("0.24")]),
        "down_share": st.sampled_from([None, D("0.1"), D("0.5")]),
    }
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(loan=loans)
def test_restructuring_keeps_every_component(app: Any, loan: dict[str, Any]) -> None:
    with ledger_world(app) as world:
        session = world.new_tenant()
        account = open_loan(
            session,
            principal=Money(loan["principal"], "COP"),
            annual_rate=loan["rate"],
            fees=Money(loan["fee"], "COP") if loan["fee"] else None,
            schedule={"generate": {"count": loan["count"], "first_due": dt.date(2026, 2, 15)}},
        )
        day = dt.date(2026, 2, 1) + dt.timedelta(days=loan["plan_day"])
        if loan["paid"]:
            pay(session, account, str(loan["paid"]), min(day, dt.date(2026, 2, 20)))
        before = owed(session, account.id, day)
        total = sum(before.values(), D(0))
        down = None
        if loan["down_share"] is not None:
            amount = (total * loan["down_share"]).quantize(D("0.01"))
            down = Money(amount, "COP") if amount > 0 else None
        if total <= 0:
            with pytest.raises(ConflictError):
                install(session, account, on=day, first_due=day + dt.timedelta(days=31))
            return
        plan = install(
            session,
            account,
            on=day,
            count=loan["plan_count"],
            first_due=day + dt.timedelta(days=31),
            annual_rate=loan["plan_rate"],
            down_payment=down,
        )
        assert owed(session, account.id, day) == before
        scheduled = sum((D(i["amount"]) for i in plan.terms["instalments"]), D(0))
        refinancing = scheduled - total
        assert refinancing >= 0 and (loan["plan_rate"] or refinancing == 0)
        assert sum(owed(session, account.id).values(), D(0)) == total + refinancing
        # Every entry balances, and replaced instalments owe nothing at any date.
        sums = session.execute(
            select(Posting.entry_id, func.sum(Posting.amount))
            .where(Posting.account_id == account.id)
            .group_by(Posting.entry_id)
        ).all()
        assert all(amount == 0 for _, amount in sums)
        replaced = [r["instalment_id"] for r in plan.terms["replaced"]]
        leftover = session.scalar(
            select(func.coalesce(func.sum(Posting.amount), 0)).where(
                Posting.instalment_id.in_(replaced),
                Posting.book.in_(list(journal.RECEIVABLE_BOOKS.values())),
            )
        )
        assert leftover == 0


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(loan=loans)
def test_reverting_an_unpaid_plan_restores_the_original_schedule(
    app: Any, loan: dict[str, Any]
) -> None:
    with ledger_world(app) as world:
        session = world.new_tenant(on_plan_broken="revert", plan_broken_after_days=0)
        account = open_loan(
            session,
            principal=Money(loan["principal"], "COP"),
            annual_rate=loan["rate"],
            schedule={"generate": {"count": loan["count"], "first_due": dt.date(2026, 2, 15)}},
        )
        day = dt.date(2026, 2, 1) + dt.timedelta(days=loan["plan_day"])
        original = journal.outstanding_by_instalment(session, [account.id])[account.id]
        install(session, account, on=day, count=loan["plan_count"], first_due=day + dt.timedelta(1))
        config = accounts.settings_for(session)
        changes = plans.evaluate_plans(session, as_of=day + dt.timedelta(2), config=config)
        assert [c.new for c in changes] == ["broken"]
        # At 0 % and with nothing paid, every original instalment owes (at the end of time)
        # exactly what it owed before the plan.
        restored = journal.outstanding_by_instalment(session, [account.id])[account.id]
        assert [(r.number, r.components) for r in restored] == [
            (r.number, r.components) for r in original
        ]
