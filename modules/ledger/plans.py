"""Payment plans, settlements and disputes.

**Installing a plan** (``ledger.install_plan``) replaces an account's open schedule:

1. the interest of the active instalments that has not fallen due yet (``interest`` entries
   effective after the day) is cancelled, each by a reversal effective on its own date, so the
   old instalments never accrue it;
2. what every active instalment still owes, by component, moves to the plan's instalments in
   one balanced ``adjustment`` entry (credit each old receivable, debit the new ones);
3. the plan's instalments are a down payment (optional) and ``count`` monthly instalments:
   French amortisation of the rest at the refinancing rate (the request's, else the tenant's
   ``refinancing_rate``), equal instalments at 0 %, the remainder in the last one. The moved
   components fill them in the tenant's waterfall order (fees first by default), so the
   waterfall collects them as before; refinancing interest is charged per instalment on its
   due date, like an opened account's;
4. the old instalments become inactive. Nothing is deleted, and on the day of installation
   every component's balance is what it was.

**Broken plan.** A plan is broken when one of its instalments still owes something more than
``plan_broken_after_days`` (default 30) days after its due date; the aging job judges it
(:func:`evaluate_plans`). With ``on_plan_broken: keep`` (default) the plan's schedule stays;
with ``revert`` the original schedule comes back: the plan's refinancing interest not yet due
is cancelled, what the plan's instalments still owe moves back to the original instalments
(payments under the plan count as paying the oldest ones first, so what is left goes back to
the newest ones, each up to what it had owed; anything beyond, such as refinancing interest
already due, goes on the oldest), the original interest the plan had cancelled is charged
again (on its own due date, or on the day of the break if that has passed), and the original
instalments are active again. A plan is completed when its instalments owe nothing at all.

**Settlements** (``ledger.apply_settlement``): the debtor agrees to pay ``amount`` (less than
the balance) by ``due_on``. Nothing is forgiven before completion. When the payments received
from the agreement day reach the amount (checked on every payment and by the aging job), the
settlement is completed on the day they did: interest not yet due is cancelled and everything
still owed is forgiven in one ``discount`` entry, legs in the order interest, penalties, fees,
principal (the whole remainder is forgiven, so the order does not change the amounts: what is
forgiven of each component is what the tenant's waterfall left unpaid), and the account
becomes ``settled``. Past ``due_on`` without enough paid, the settlement is broken and the
account keeps its schedule and balance.

An account has at most one active plan or settlement, and only an ``open`` account takes one.

**Disputes** flag an account (``disputed``) so that strategies pause it; aging still runs.
A dispute may name the amount disputed. Resolving it (``upheld`` or ``rejected``) clears the
flag; an upheld dispute with an amount may write it off (``write_off=True``): one
``write_off`` entry, components in the order interest, penalties, fees, principal, oldest
instalment first, never more than is owed that day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from almacen.gateway.amortisation import ScheduledInstalment, french_schedule
from almacen.gateway.db import utcnow
from almacen.gateway.errors import ConflictError, UnprocessableError
from almacen.gateway.money import Money, currency_exponent
from almacen.gateway.pagination import DEFAULT_LIMIT, Page, paginate

from . import events, journal
from .accounts import currency_mismatch, get_account, lock_account, today
from .models import Account, Dispute, Instalment, JournalEntry, Plan, Posting

__all__ = [
    "DISPUTE_OUTCOMES",
    "PlanAsOf",
    "PlanChange",
    "PlanInstalment",
    "apply_settlement",
    "evaluate_plans",
    "install_plan",
    "list_plans",
    "open_dispute",
    "reopen",
    "resolve_dispute",
    "to_active_schedule",
]

DISPUTE_OUTCOMES = ("upheld", "rejected")
_MAX_INSTALMENTS = 600
_COMPONENT_OF_BOOK = {book: c for c, book in journal.RECEIVABLE_BOOKS.items()}
#: Order of the legs of a settlement's discount entry.
_FORGIVE_ORDER = ("interest", "penalties", "fees", "principal")


@dataclasses.dataclass
class PlanChange:
    """A plan or settlement whose status changed."""

    plan: Plan
    old: str
    new: str


def _fault(pointer: str, detail: str) -> UnprocessableError:
    return UnprocessableError(
        f"{pointer}: {detail}", errors=[{"pointer": pointer, "detail": detail}]
    )


def _text(amount: Decimal, currency: str) -> str:
    return str(amount.quantize(Decimal(1).scaleb(-currency_exponent(currency))))


# -- reading the journal -----------------------------------------------------------------------


def _owed(
    session: Session, instalment_ids: Iterable[str], *, as_of: dt.date | None = None
) -> dict[str, dict[str, Decimal]]:
    """What each instalment owes by component (every component present, zero included)."""
    ids = list(instalment_ids)
    owed: dict[str, dict[str, Decimal]] = {
        i: {c: Decimal(0) for c in journal.RECEIVABLE_BOOKS} for i in ids
    }
    if not ids:
        return owed
    statement = (
        select(Posting.instalment_id, Posting.book, func.sum(Posting.amount))
        .where(
            # Postings are indexed by account: name the instalments' accounts.
            Posting.account_id.in_(select(Instalment.account_id).where(Instalment.id.in_(ids))),
            Posting.instalment_id.in_(ids),
            Posting.book.in_(list(journal.RECEIVABLE_BOOKS.values())),
        )
        .group_by(Posting.instalment_id, Posting.book)
    )
    if as_of is not None:
        statement = statement.where(Posting.effective_on <= as_of)
    for instalment_id, book, total in session.execute(statement):
        if instalment_id is not None:
            owed[instalment_id][_COMPONENT_OF_BOOK[book]] = Decimal(total)
    return owed


def cancel_future_interest(
    session: Session, account: Account, instalment_ids: Sequence[str], *, after: dt.date
) -> list[dict[str, str]]:
    """Reverse the unreversed ``interest`` entries on these instalments effective after
    ``after``, each on its own date; what was cancelled, for the plan's terms."""
    if not instalment_ids:
        return []
    reversed_ids = select(JournalEntry.reverses_id).where(
        JournalEntry.account_id == account.id, JournalEntry.reverses_id.is_not(None)
    )
    entries = session.scalars(
        select(JournalEntry)
        .where(
            JournalEntry.account_id == account.id,
            JournalEntry.kind == "interest",
            JournalEntry.effective_on > after,
            JournalEntry.id.not_in(reversed_ids),
            JournalEntry.id.in_(
                select(Posting.entry_id).where(
                    Posting.account_id == account.id,
                    Posting.instalment_id.in_(list(instalment_ids)),
                )
            ),
        )
        .order_by(JournalEntry.effective_on, JournalEntry.id)
    ).all()
    cancelled = []
    for entry in entries:
        leg = next(p for p in entry.postings if p.instalment_id is not None)
        journal.reverse_entry(
            session,
            entry,
            effective_on=entry.effective_on,
            memo=f"interest cancelled: {entry.memo}",
        )
        cancelled.append(
            {
                "instalment_id": str(leg.instalment_id),
                "due_on": entry.effective_on.isoformat(),
                "amount": _text(Decimal(leg.amount), account.currency),
            }
        )
    return cancelled


def pay_off(session: Session, account: Account, *, day: dt.date, credit: Decimal) -> None:
    """Close an account whose every receivable a payment cleared on ``day``.

    Interest not yet due is cancelled (reversed on its own date, as a plan does), so the
    balance stays at zero after ``day``; the account is ``settled`` and announced.
    """
    account.closed_at = utcnow()  # before the entries it writes are posted
    ids = [i.id for i in _active_instalments(session, account)]
    cancel_future_interest(session, account, ids, after=day)
    account.status = "settled"
    account.closed_on = day
    events.account_settled(session, account, settled_on=day, credit=credit)


def _active_instalments(session: Session, account: Account) -> list[Instalment]:
    return list(
        session.scalars(
            select(Instalment)
            .where(Instalment.account_id == account.id, Instalment.active.is_(True))
            .order_by(Instalment.due_on, Instalment.number)
        )
    )


def _refuse_if_busy(session: Session, account: Account) -> None:
    if account.status != "open":
        raise ConflictError(
            f"account {account.id} is {account.status}; only an open account takes a plan "
            "or a settlement"
        )
    active = session.scalar(
        select(Plan).where(Plan.account_id == account.id, Plan.status == "active")
    )
    if active is not None:
        raise ConflictError(
            f"account {account.id} already has an active {active.kind} ({active.id})",
            plan_id=active.id,
        )


def _fill(
    capacities: Sequence[Decimal], totals: Mapping[str, Decimal], order: Sequence[str]
) -> list[dict[str, Decimal]]:
    """Split ``totals`` (by component, in ``order``) over slots of ``capacities``, in turn.

    ``sum(capacities) == sum(totals)``; each slot is filled completely before the next.
    """
    slots: list[dict[str, Decimal]] = [defaultdict(Decimal) for _ in capacities]
    index, room = 0, capacities[0] if capacities else Decimal(0)
    for component in order:
        left = totals.get(component, Decimal(0))
        while left > 0:
            while room == 0:
                index += 1
                room = capacities[index]
            take = min(left, room)
            slots[index][component] += take
            left -= take
            room -= take
    return [dict(slot) for slot in slots]


# -- plans ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PlanInstalment:
    """One instalment of an explicit plan schedule (see :func:`install_plan`)."""

    due_on: dt.date
    principal: Money
    interest: Money | None = None


def _explicit_schedule(
    instalments: Sequence[PlanInstalment], currency: str, day: dt.date
) -> list[ScheduledInstalment]:
    """Check an explicit schedule's currency, dates and amounts; its rows, numbered."""
    if len(instalments) > _MAX_INSTALMENTS:
        raise _fault("/instalments", f"must be 1 to {_MAX_INSTALMENTS} instalments")
    rows: list[ScheduledInstalment] = []
    previous = day
    for index, row in enumerate(instalments):
        interest = row.interest or Money(Decimal(0), currency)
        for name, money in (("principal", row.principal), ("interest", interest)):
            if money.currency != currency:
                raise currency_mismatch(money.currency, currency, f"/instalments/{index}/{name}")
        if row.principal.amount <= 0:
            raise _fault(f"/instalments/{index}/principal/amount", "must be positive")
        if interest.amount < 0:
            raise _fault(f"/instalments/{index}/interest/amount", "must not be negative")
        if row.due_on <= previous:
            raise _fault(
                f"/instalments/{index}/due_on",
                f"must be after {previous} (the plan's first day, then each earlier instalment)",
            )
        previous = row.due_on
        rows.append(
            ScheduledInstalment(
                number=index + 1,
                due_on=row.due_on,
                principal=row.principal.amount,
                interest=interest.amount,
            )
        )
    return rows


def install_plan(
    session: Session,
    account_id: str,
    *,
    count: int | None,
    first_due: dt.date | None,
    config: Mapping[str, Any],
    instalments: Sequence[PlanInstalment] | None = None,
    down_payment: Money | None = None,
    down_payment_due: dt.date | None = None,
    annual_rate: Decimal | None = None,
    on: dt.date | None = None,
) -> Plan:
    """Replace the account's open schedule with a payment plan (see the module docstring).

    :param count: monthly instalments after the down payment, 1 to 600 (French schedule).
    :param first_due: the first monthly instalment's due date, after ``on``.
    :param instalments: instead of ``count`` and ``first_due``, the exact schedule agreed
        elsewhere (an offer's step-up plan, due dates moved to business days): due dates
        rising after ``on``, principals summing exactly to what is owed less the down
        payment, and the interest each adds.
    :param config: the tenant's ledger configuration (``waterfall``, ``refinancing_rate``).
    :param down_payment: due on ``down_payment_due`` (default ``on``), before ``first_due``.
    :param annual_rate: refinancing rate (a fraction); default the tenant's.
    :param on: the day the plan takes effect (default :func:`~.accounts.today`).
    :raises NotFoundError: when the tenant has no such account.
    :raises ConflictError: when the account is not open, already has an active plan or
        settlement, or owes nothing.
    :raises UnprocessableError: for a bad count or date, a down payment in another currency,
        not positive, or not less than what is owed.
    """
    day = on or today()
    account = lock_account(session, account_id)
    currency = account.currency
    if down_payment is not None and down_payment.currency != currency:
        raise currency_mismatch(down_payment.currency, currency, "/down_payment/currency")
    _refuse_if_busy(session, account)
    explicit = _explicit_schedule(instalments, currency, day) if instalments else None
    if explicit is not None:
        count, first_due = len(explicit), explicit[0].due_on
    if count is None or first_due is None:
        raise _fault("/instalments", "give count and first_due, or the instalments themselves")
    if not 1 <= count <= _MAX_INSTALMENTS:
        raise _fault("/count", f"must be 1 to {_MAX_INSTALMENTS}")
    if first_due <= day:
        raise _fault("/first_due", f"must be after the day the plan starts ({day})")
    down = Decimal(0) if down_payment is None else down_payment.amount
    if down_payment is not None and down <= 0:
        raise _fault("/down_payment/amount", "must be positive")
    down_due = down_payment_due or day
    if down_payment is not None and not day <= down_due < first_due:
        raise _fault("/down_payment_due", "must be from the plan's first day and before first_due")
    rate = Decimal(str(config.get("refinancing_rate", 0))) if annual_rate is None else annual_rate
    if not Decimal(0) <= rate <= Decimal(10):
        raise _fault("/annual_rate", "must be between 0 and 10 (a fraction: 0.12 is 12 %)")

    old = _active_instalments(session, account)
    old_ids = [i.id for i in old]
    # What the old instalments owe today, before anything is changed: an error below must
    # leave nothing written, so every check comes before the first entry.
    owed_now = _owed(session, old_ids, as_of=day)
    totals = {
        c: sum((owed_now[i][c] for i in old_ids), Decimal(0)) for c in journal.RECEIVABLE_BOOKS
    }
    total = sum(totals.values(), Decimal(0))
    if total <= 0 or any(amount < 0 for amount in totals.values()):
        raise ConflictError(f"account {account.id} owes nothing to put on a plan")
    if down >= total:
        raise _fault(
            "/down_payment/amount",
            f"must be less than what is owed ({_text(total, currency)}), so the instalments "
            "cover the rest",
        )
    if explicit is None:
        rows = french_schedule(
            total - down,
            annual_rate=rate,
            count=count,
            first_due=first_due,
            exponent=currency_exponent(currency),
        )
    else:
        rows = explicit
        scheduled = sum((row.principal for row in rows), Decimal(0))
        if scheduled != total - down:
            raise _fault(
                "/instalments",
                f"the principals sum to {_text(scheduled, currency)}, but the plan must repay "
                f"exactly {_text(total - down, currency)} (what is owed less the down payment)",
            )

    cancelled = cancel_future_interest(session, account, old_ids, after=day)
    owed = _owed(session, old_ids)  # everything, now that later interest is cancelled
    if any(owed[i] != owed_now[i] for i in old_ids):
        # Only interest is ever effective after today; anything else is a backdated plan
        # on a journal that moved on since, which cannot be restructured exactly.
        raise ConflictError(f"account {account.id} has entries after {day}")

    schedule: list[tuple[dt.date, Decimal, Decimal]] = []  # due, moved, new interest
    if down:
        schedule.append((down_due, down, Decimal(0)))
    schedule += [(row.due_on, row.principal, row.interest) for row in rows]
    parts = _fill([moved for _, moved, _ in schedule], totals, config["waterfall"])
    number = (
        session.scalar(
            select(func.max(Instalment.number)).where(Instalment.account_id == account.id)
        )
        or 0
    )
    new: list[Instalment] = []
    for (due_on, _moved, interest), part in zip(schedule, parts, strict=True):
        number += 1
        instalment = Instalment(
            account_id=account.id,
            number=number,
            due_on=due_on,
            principal=part.get("principal", Decimal(0)),
            interest=part.get("interest", Decimal(0)) + interest,
            fees=part.get("fees", Decimal(0)) + part.get("penalties", Decimal(0)),
        )
        session.add(instalment)
        new.append(instalment)
    for instalment in old:
        instalment.active = False
    session.flush()

    plan = Plan(account_id=account.id, kind="plan", status="active", agreed_on=day, terms={})
    session.add(plan)
    session.flush()
    legs: list[journal.Leg] = []
    for instalment_id in old_ids:
        for component, amount in owed[instalment_id].items():
            legs.append(journal.Leg(journal.RECEIVABLE_BOOKS[component], -amount, instalment_id))
    for instalment, part in zip(new, parts, strict=True):
        for component, amount in part.items():
            legs.append(journal.Leg(journal.RECEIVABLE_BOOKS[component], amount, instalment.id))
    move = journal.post_entry(
        session,
        account,
        kind="adjustment",
        effective_on=day,
        legs=legs,
        memo=f"payment plan {plan.id}: balance moved to the plan's instalments",
    )
    for instalment, (_, _, interest) in zip(new, schedule, strict=True):
        if interest:
            journal.post_entry(
                session,
                account,
                kind="interest",
                effective_on=instalment.due_on,
                legs=[
                    journal.Leg("receivable:interest", interest, instalment.id),
                    journal.Leg("income:interest", -interest),
                ],
                memo=f"plan interest of instalment {instalment.number}",
            )
    plan.terms = {
        "currency": currency,
        "count": count,
        "first_due": first_due.isoformat(),
        "down_payment": _text(down, currency) if down_payment is not None else None,
        "down_payment_due": down_due.isoformat() if down_payment is not None else None,
        "annual_rate": str(rate.normalize()),
        "balance": _text(total, currency),
        "move_entry_id": move.id,
        "instalments": [
            {
                "instalment_id": i.id,
                "number": i.number,
                "due_on": i.due_on.isoformat(),
                "amount": _text(moved + interest, currency),
            }
            for i, (_, moved, interest) in zip(new, schedule, strict=True)
        ],
        "replaced": [
            {
                "instalment_id": i.id,
                "number": i.number,
                "moved": {c: _text(a, currency) for c, a in owed[i.id].items() if a},
            }
            for i in old
        ],
        "cancelled_interest": cancelled,
    }
    session.flush()
    return plan


def _revert(session: Session, account: Account, plan: Plan, *, day: dt.date) -> None:
    """Bring the original schedule back after ``plan`` broke (see the module docstring)."""
    terms = plan.terms
    plan_ids = [i["instalment_id"] for i in terms["instalments"]]
    replaced = terms["replaced"]
    cancel_future_interest(session, account, plan_ids, after=day)
    remaining = _owed(session, plan_ids)
    left = {
        c: sum((remaining[i][c] for i in plan_ids), Decimal(0)) for c in journal.RECEIVABLE_BOOKS
    }
    restored: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for component in journal.RECEIVABLE_BOOKS:
        amount = left[component]
        for row in reversed(replaced):
            cap = Decimal(row["moved"].get(component, "0"))
            take = min(amount, cap)
            if take > 0:
                restored[row["instalment_id"]][component] += take
                amount -= take
        if amount and replaced:
            restored[replaced[0]["instalment_id"]][component] += amount
    legs: list[journal.Leg] = []
    for instalment_id in plan_ids:
        for component, amount in remaining[instalment_id].items():
            legs.append(journal.Leg(journal.RECEIVABLE_BOOKS[component], -amount, instalment_id))
    for instalment_id, parts in restored.items():
        for component, amount in parts.items():
            legs.append(journal.Leg(journal.RECEIVABLE_BOOKS[component], amount, instalment_id))
    if any(leg.amount for leg in legs):
        journal.post_entry(
            session,
            account,
            kind="adjustment",
            effective_on=day,
            legs=legs,
            memo=f"payment plan {plan.id} broken: balance back to the original instalments",
        )
    for item in terms.get("cancelled_interest", []):
        amount = Decimal(item["amount"])
        journal.post_entry(
            session,
            account,
            kind="interest",
            effective_on=max(dt.date.fromisoformat(item["due_on"]), day),
            legs=[
                journal.Leg("receivable:interest", amount, item["instalment_id"]),
                journal.Leg("income:interest", -amount),
            ],
            memo=f"interest charged again: payment plan {plan.id} broken",
        )
    ids = {row["instalment_id"]: True for row in replaced}
    ids.update({i: False for i in plan_ids})
    for instalment in session.scalars(select(Instalment).where(Instalment.id.in_(list(ids)))):
        instalment.active = ids[instalment.id]
    session.flush()


# -- settlements ---------------------------------------------------------------------------


def apply_settlement(
    session: Session,
    account_id: str,
    *,
    amount: Money,
    due_on: dt.date,
    on: dt.date | None = None,
) -> Plan:
    """Agree that paying ``amount`` by ``due_on`` settles the account (module docstring).

    :raises NotFoundError: when the tenant has no such account.
    :raises ConflictError: when the account is not open, already has an active plan or
        settlement, or owes nothing.
    :raises UnprocessableError: for another currency, an amount not positive or not less than
        the balance, or a due date in the past.
    """
    day = on or today()
    account = lock_account(session, account_id)
    currency = account.currency
    if amount.currency != currency:
        raise currency_mismatch(amount.currency, currency, "/amount/currency")
    _refuse_if_busy(session, account)
    if amount.amount <= 0:
        raise _fault("/amount/amount", "must be positive")
    if due_on < day:
        raise _fault("/due_on", f"must not be before {day}")
    balance = sum(
        journal.receivable(journal.balances(session, account.id, as_of=day)).values(), Decimal(0)
    )
    if balance <= 0:
        raise ConflictError(f"account {account.id} owes nothing to settle")
    if amount.amount >= balance:
        raise _fault(
            "/amount/amount",
            f"a settlement must be less than the balance ({_text(balance, currency)})",
        )
    plan = Plan(
        account_id=account.id,
        kind="settlement",
        status="active",
        agreed_on=day,
        terms={
            "currency": currency,
            "amount": _text(amount.amount, currency),
            "due_on": due_on.isoformat(),
            "balance": _text(balance, currency),
        },
    )
    session.add(plan)
    session.flush()
    return plan


def _completion_day(session: Session, plan: Plan, *, until: dt.date) -> dt.date | None:
    """The day the payments received since the agreement reached the settled amount."""
    target = Decimal(plan.terms["amount"])
    running = Decimal(0)
    for day, total in session.execute(
        select(Posting.effective_on, func.sum(Posting.amount))
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(
            Posting.account_id == plan.account_id,
            Posting.book == "cash",
            JournalEntry.kind.in_(("payment", "reversal")),
            Posting.effective_on >= plan.agreed_on,
            Posting.effective_on <= until,
        )
        .group_by(Posting.effective_on)
        .order_by(Posting.effective_on)
    ):
        running += Decimal(total)
        if running >= target:
            return day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
    return None


def _forgiven_memo(plan: Plan) -> str:
    return f"settlement {plan.id}: the rest forgiven"


def _forgive_rest(session: Session, account: Account, plan: Plan, *, day: dt.date) -> None:
    """Write off everything still owed (a ``discount``) and mark the account settled."""
    account.closed_at = utcnow()  # before the entries it writes are posted
    ids = [i.id for i in _active_instalments(session, account)]
    cancel_future_interest(session, account, ids, after=day)
    owed = _owed(session, ids)
    legs = [
        journal.Leg(journal.RECEIVABLE_BOOKS[component], -owed[i][component], i)
        for component in _FORGIVE_ORDER
        for i in ids
        if owed[i][component] > 0
    ]
    forgiven = -sum((leg.amount for leg in legs), Decimal(0))
    if forgiven:
        legs.append(journal.Leg("discount", forgiven))
        journal.post_entry(
            session,
            account,
            kind="discount",
            effective_on=day,
            legs=legs,
            memo=_forgiven_memo(plan),
        )
    plan.terms = {**plan.terms, "forgiven": _text(forgiven, account.currency)}
    account.status = "settled"
    account.closed_on = day
    events.account_settled(session, account, settled_on=day, credit=Decimal(0))


def reopen(session: Session, account: Account, *, closed_by: JournalEntry) -> None:
    """Open again a ``settled`` account that owes something again because a payment,
    ``closed_by`` or an earlier one, was reversed.

    What settling it wrote is undone: the interest not yet due that was cancelled is charged
    again (each on its own date), the rest a settlement forgave is owed again (its
    ``discount`` entry reversed), and the plan or settlement completed on the day it closed
    is ``active`` again. A settled account takes no plan, so the interest cancelled since it
    was settled (``closed_at``; for an account settled before that was recorded, since the
    payment ``closed_by``) was cancelled by settling it.
    """
    closed_on = account.closed_on
    closed_at = account.closed_at or closed_by.posted_at
    completed = session.scalars(
        select(Plan).where(
            Plan.account_id == account.id,
            Plan.status == "completed",
            Plan.resolved_on == closed_on,
        )
    ).all()
    forgiven = {_forgiven_memo(plan) for plan in completed}
    since = session.scalars(
        select(JournalEntry)
        .where(
            JournalEntry.account_id == account.id,
            JournalEntry.posted_at >= closed_at,
            JournalEntry.kind.in_(("reversal", "discount")),
        )
        .order_by(JournalEntry.posted_at, JournalEntry.id)
    ).all()
    for entry in since:
        if entry.kind == "discount" and entry.memo in forgiven:
            journal.reverse_entry(
                session, entry, effective_on=entry.effective_on, memo=f"undone: {entry.memo}"
            )
            continue
        cancelled = session.get(JournalEntry, entry.reverses_id) if entry.reverses_id else None
        if cancelled is not None and cancelled.kind == "interest":
            journal.post_entry(
                session,
                account,
                kind="interest",
                effective_on=cancelled.effective_on,
                legs=[journal.Leg(p.book, p.amount, p.instalment_id) for p in cancelled.postings],
                memo=f"charged again: {cancelled.memo}"[:200],
            )
    for plan in completed:
        plan.status = "active"
        plan.resolved_on = None
        plan.terms = {key: value for key, value in plan.terms.items() if key != "forgiven"}
    account.status = "open"
    account.closed_on = None
    account.closed_at = None
    session.flush()


def to_active_schedule(
    session: Session, account: Account, legs: Sequence[Posting], *, day: dt.date
) -> None:
    """Move what ``legs`` (a reversal's) put back on instalments a plan has since replaced
    onto the active schedule, so that a payment can reach it again.

    The amounts go, component by component, to the first active instalment due on or after
    ``day`` (the last active one when none is), in one ``adjustment`` entry.
    """
    instalments = session.scalars(
        select(Instalment)
        .where(Instalment.account_id == account.id)
        .order_by(Instalment.due_on, Instalment.number)
    ).all()
    inactive = {i.id for i in instalments if not i.active}
    stranded = [p for p in legs if p.instalment_id in inactive and p.book in _COMPONENT_OF_BOOK]
    active = [i for i in instalments if i.active]
    if not stranded or not active:
        return
    target = next((i for i in active if i.due_on >= day), active[-1])
    moves: list[journal.Leg] = []
    for posting in stranded:
        moves.append(journal.Leg(posting.book, -posting.amount, posting.instalment_id))
        moves.append(journal.Leg(posting.book, posting.amount, target.id))
    journal.post_entry(
        session,
        account,
        kind="adjustment",
        effective_on=day,
        legs=moves,
        memo=f"reversed payment moved to instalment {target.number} of the current schedule",
    )


# -- evaluation ----------------------------------------------------------------------------


def evaluate_plans(
    session: Session,
    *,
    as_of: dt.date,
    config: Mapping[str, Any],
    account_id: str | None = None,
    judge_breaks: bool = True,
) -> list[PlanChange]:
    """Complete or break the active plans and settlements, as of ``as_of``.

    The aging job calls it for every account; a payment calls it for its account with
    ``judge_breaks=False`` (a payment completes, it never breaks).

    :param config: ``plan_broken_after_days`` and ``on_plan_broken`` of the tenant.
    :return: the plans and settlements whose status changed.
    """
    statement = select(Plan).where(Plan.status == "active", Plan.agreed_on <= as_of)
    if account_id is not None:
        statement = statement.where(Plan.account_id == account_id)
    found = session.execute(statement.with_only_columns(Plan.id, Plan.account_id)).all()
    grace = dt.timedelta(days=int(config.get("plan_broken_after_days", 30)))
    changes: list[PlanChange] = []
    # Account first, then the plan, as a payment does: the same lock order everywhere.
    for plan_id, owner in sorted(found, key=lambda row: (row[1], row[0])):
        account = lock_account(session, owner)
        plan = session.scalar(
            select(Plan).where(Plan.id == plan_id).execution_options(populate_existing=True)
        )
        if plan is None or plan.status != "active":
            continue
        new = "active"
        resolved_on = as_of
        if plan.kind == "settlement":
            due_on = dt.date.fromisoformat(plan.terms["due_on"])
            reached = _completion_day(session, plan, until=min(as_of, due_on))
            if reached is not None:
                new, resolved_on = "completed", reached
                _forgive_rest(session, account, plan, day=reached)
            elif as_of > due_on and judge_breaks:
                new = "broken"
        else:
            instalments = plan.terms["instalments"]
            ids = [i["instalment_id"] for i in instalments]
            if all(sum(v.values(), Decimal(0)) <= 0 for v in _owed(session, ids).values()):
                new = "completed"
            elif judge_breaks:
                owed = _owed(session, ids, as_of=as_of)
                late = [
                    i
                    for i in instalments
                    if dt.date.fromisoformat(i["due_on"]) + grace < as_of
                    and sum(owed[i["instalment_id"]].values(), Decimal(0)) > 0
                ]
                if late:
                    new = "broken"
                    if config.get("on_plan_broken", "keep") == "revert":
                        _revert(session, account, plan, day=as_of)
        if new != "active":
            changes.append(PlanChange(plan, plan.status, new))
            plan.status = new
            plan.resolved_on = resolved_on
    session.flush()
    return changes


@dataclasses.dataclass(frozen=True)
class PlanAsOf:
    """A plan or settlement as it stood at the end of ``as_of``: one completed or broken
    later was still ``active`` then, with nothing forgiven yet."""

    plan: Plan
    as_of: dt.date

    def __getattr__(self, name: str) -> Any:
        return getattr(self.plan, name)

    @property
    def _later(self) -> bool:
        return self.plan.resolved_on is not None and self.plan.resolved_on > self.as_of

    @property
    def status(self) -> str:
        """The plan's status then."""
        return "active" if self._later else self.plan.status

    @property
    def resolved_on(self) -> dt.date | None:
        """When it was resolved, if it was by then."""
        return None if self._later else self.plan.resolved_on

    @property
    def terms(self) -> dict[str, Any]:
        """Its terms then (without what completing it forgave later)."""
        terms = dict(self.plan.terms)
        if self._later:
            terms.pop("forgiven", None)
        return terms


def list_plans(
    session: Session,
    account_id: str,
    *,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
    as_of: dt.date | None = None,
) -> Page[Plan] | Page[PlanAsOf]:
    """A page of the account's plans and settlements, oldest first; as of a date, those
    agreed by then, as they stood then (:class:`PlanAsOf`).

    :raises NotFoundError: when the tenant has no such account.
    """
    account = get_account(session, account_id)
    statement = select(Plan).where(Plan.account_id == account.id)
    if as_of is not None:
        statement = statement.where(Plan.agreed_on <= as_of)
    found = paginate(
        session, statement, keys=(Plan.created_at, Plan.id), limit=limit, cursor=cursor
    )
    if as_of is None:
        return found
    return Page(items=[PlanAsOf(p, as_of) for p in found.items], next_cursor=found.next_cursor)


def _write_off(
    session: Session, account: Account, amount: Decimal, *, day: dt.date
) -> JournalEntry | None:
    """Forgive up to ``amount`` of what is owed on ``day``: interest, penalties, fees, then
    principal, oldest instalment first."""
    rows = journal.outstanding_by_instalment(session, [account.id], as_of=day)[account.id]
    left = amount
    legs: list[journal.Leg] = []
    for component in _FORGIVE_ORDER:
        for row in rows:
            take = min(left, row.components[component])
            if take > 0:
                legs.append(
                    journal.Leg(journal.RECEIVABLE_BOOKS[component], -take, row.instalment_id)
                )
                left -= take
    if not legs:
        return None
    legs.append(journal.Leg("write_off", amount - left))
    return journal.post_entry(
        session, account, kind="write_off", effective_on=day, legs=legs, memo="dispute upheld"
    )


# -- disputes ------------------------------------------------------------------------------


def open_dispute(
    session: Session, account_id: str, *, reason: str, amount: Money | None = None
) -> Dispute:
    """Flag the account as disputed (strategies pause it; aging still runs).

    :param amount: the amount disputed, if the debtor names one.
    :raises NotFoundError: when the tenant has no such account.
    :raises ConflictError: when the account is already disputed.
    :raises UnprocessableError: when the reason is blank, or the amount is not positive or
        in another currency.
    """
    if not reason.strip():
        raise _fault("/reason", "must not be blank")
    account = lock_account(session, account_id)
    if amount is not None:
        if amount.currency != account.currency:
            raise currency_mismatch(amount.currency, account.currency, "/amount/currency")
        if amount.amount <= 0:
            raise _fault("/amount/amount", "must be positive")
    if account.disputed:
        raise ConflictError(f"account {account.id} is already disputed")
    account.disputed = True
    dispute = Dispute(
        account_id=account.id,
        reason=reason,
        status="open",
        amount=None if amount is None else amount.amount,
        currency=None if amount is None else amount.currency,
    )
    session.add(dispute)
    session.flush()
    return dispute


def resolve_dispute(
    session: Session,
    account_id: str,
    *,
    outcome: str,
    write_off: bool = False,
    on: dt.date | None = None,
) -> Dispute:
    """Close the account's open dispute as ``upheld`` or ``rejected`` and clear the flag.

    :param write_off: forgive the disputed amount (an upheld dispute with an amount only).
    :param on: the day of a write-off (default :func:`~.accounts.today`).
    :raises NotFoundError: when the tenant has no such account.
    :raises ConflictError: when the account has no open dispute.
    :raises UnprocessableError: for another outcome, or a write-off of a rejected dispute or
        of one without an amount.
    """
    if outcome not in DISPUTE_OUTCOMES:
        raise _fault("/outcome", f"must be one of {', '.join(DISPUTE_OUTCOMES)}")
    account = lock_account(session, account_id)
    dispute = session.scalar(
        select(Dispute).where(Dispute.account_id == account.id, Dispute.status == "open")
    )
    if dispute is None or not account.disputed:
        raise ConflictError(f"account {account.id} has no open dispute")
    if write_off:
        if outcome != "upheld" or dispute.amount is None:
            raise _fault("/write_off", "only an upheld dispute with an amount is written off")
        entry = _write_off(session, account, Decimal(dispute.amount), day=on or today())
        dispute.write_off_entry_id = None if entry is None else entry.id
    dispute.status = outcome
    dispute.resolved_at = utcnow()
    account.disputed = False
    session.flush()
    return dispute
