"""Synthetic portfolios: seeded, reproducible debtors and accounts to try a service on.

:func:`generate` is pure: from a size, a seed and a date it builds import rows (the format
:mod:`.onboarding` reads) and, per account, the behaviour that explains its aging: which
instalments were paid and when, a partial payment, promises kept, broken or pending. One
``random.Random(seed)`` drives everything (never the global generator), so the same seed
and date give the same portfolio, value for value.

:func:`write_behaviour` writes that behaviour, in the import's transaction, as the payment
service would have: a ``payment`` entry per payment (cash in, receivables out, fees then
interest then principal of the instalment paid), a :class:`~.models.Payment` row, and the
promises. Rows are built in Python and bulk-inserted like the import's.

The mix of accounts by days past due (roughly, as of the date given): 45 % current, 18 %
1–30, 10 % 31–60, 7 % 61–90, 8 % 91–180 and 12 % over 180 days.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy.orm import Session

from almacen.gateway.amortisation import french_schedule
from almacen.gateway.db import utcnow
from almacen.gateway.money import Money

from . import accounts
from .models import JournalEntry, Payment, Posting, Promise
from .onboarding import (
    Batch,
    ValidRow,
    bulk_insert,
    id_factory,
    references_in_use,
    validate_rows,
    write_batch,
)
from .payments import _fingerprint

__all__ = ["AGING_MIX", "SyntheticAccount", "fill_demo", "generate", "write_behaviour"]

FIRST_NAMES = (
    "Alejandro", "Ana", "Andrés", "Beatriz", "Camila", "Carlos", "Carmen", "Catalina",
    "Daniel", "Diana", "Diego", "Elena", "Felipe", "Fernando", "Gabriela", "Isabel", "Javier",
    "Jorge", "José", "Juan", "Juliana", "Laura", "Lucía", "Luis", "Manuel", "María",
    "Mariana", "Miguel", "Natalia", "Pablo", "Paula", "Pedro", "Rafael", "Ricardo", "Rosa",
    "Santiago", "Sara", "Sebastián", "Sofía", "Valentina",
)  # fmt: skip
SURNAMES = (
    "Álvarez", "Castro", "Díaz", "Fernández", "García", "Gómez", "González", "Gutiérrez",
    "Hernández", "Jiménez", "López", "Martín", "Martínez", "Moreno", "Muñoz", "Navarro",
    "Ortiz", "Pérez", "Ramírez", "Ramos", "Rodríguez", "Romero", "Rubio", "Ruiz", "Sánchez",
    "Suárez", "Torres", "Vargas", "Vásquez", "Zapata",
)  # fmt: skip
#: Colombian mobile prefixes (3xx) that ``phonenumbers`` accepts as valid.
MOBILE_PREFIXES = ("300", "301", "302", "304", "305", "310", "311", "312", "313", "314",
                   "315", "316", "317", "318", "319", "320", "321", "350")  # fmt: skip
PRODUCTS = (("personal_loan", 0.5), ("credit_card", 0.3), ("telco_postpaid", 0.2))
#: (share, lowest and highest days past due); negative days: next instalment that far ahead.
AGING_MIX = (
    (0.45, -28, -1),
    (0.18, 1, 30),
    (0.10, 31, 60),
    (0.07, 61, 90),
    (0.08, 91, 180),
    (0.12, 181, 720),
)
_CENT = Decimal("0.01")


@dataclasses.dataclass(frozen=True, slots=True)
class SyntheticAccount:
    """One generated row and its history.

    :ivar row: the import row (strings, as a CSV would give them).
    :ivar days_past_due: what the aging job should find as of the generation date.
    :ivar payments: ``(received_on, amount)``, oldest first.
    :ivar promises: ``{"created_on", "due_on", "amount", "status", "paid"}`` each.
    """

    row: dict[str, str]
    days_past_due: int
    payments: list[tuple[dt.date, Decimal]]
    promises: list[dict[str, Any]]


def _pick(rng: random.Random, weighted: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([item for item, _ in weighted], [w for _, w in weighted])[0]


def _generate_one(rng: random.Random, number: int, seed: int, today: dt.date) -> SyntheticAccount:
    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)} {rng.choice(SURNAMES)}"
    phone = f"+57{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**7):07d}"
    product = _pick(rng, PRODUCTS)
    principal = Decimal(rng.randrange(500, 20_000)) * 1000
    rate = Decimal(rng.choice(("0.18", "0.24", "0.28", "0.32")))
    count = rng.choice((6, 12, 18, 24, 36))
    _, low, high = _pick(rng, [(band, band[0]) for band in AGING_MIX])
    days = rng.randint(low, high)
    paid_count = rng.randrange(count)
    first_unpaid_due = today - dt.timedelta(days=days)
    first_due = first_unpaid_due - relativedelta(months=paid_count)
    # Keep due dates on days every month has, so the schedule's dates are exactly these.
    first_due = first_due.replace(day=min(first_due.day, 28))
    originated_on = first_due - relativedelta(months=1)
    schedule = french_schedule(
        principal, annual_rate=rate, count=count, first_due=first_due, exponent=2
    )
    fee = Decimal(0)
    payments: list[tuple[dt.date, Decimal]] = []
    for instalment in schedule[:paid_count]:
        received = min(instalment.due_on + dt.timedelta(days=rng.randint(0, 3)), today)
        extra = fee if instalment.number == 1 else Decimal(0)
        payments.append((received, instalment.amount + extra))
    unpaid = schedule[paid_count]
    actual_days = (today - unpaid.due_on).days
    promises: list[dict[str, Any]] = []
    if actual_days > 0:
        roll = rng.random()
        if roll < 0.12:
            created = today - dt.timedelta(days=rng.randint(0, min(5, actual_days)))
            promises.append(
                {
                    "created_on": created,
                    "due_on": today + dt.timedelta(days=rng.randint(1, 14)),
                    "amount": unpaid.amount,
                    "status": "pending",
                    "paid": Decimal(0),
                }
            )
        elif roll < 0.40:
            share = Decimal(rng.randint(20, 60)) / 100
            amount = (unpaid.amount * share).quantize(_CENT, rounding=ROUND_HALF_UP)
            received = unpaid.due_on + dt.timedelta(days=rng.randint(0, actual_days))
            payments.append((received, amount))
        elif roll < 0.55 and actual_days >= 12:
            created = unpaid.due_on + dt.timedelta(days=1)
            promises.append(
                {
                    "created_on": created,
                    "due_on": created + dt.timedelta(days=5),
                    "amount": unpaid.amount,
                    "status": "broken",
                    "paid": Decimal(0),
                }
            )
    if payments and rng.random() < 0.2:
        received, amount = payments[-1]
        created = max(received - dt.timedelta(days=5), originated_on)
        promises.append(
            {
                "created_on": created,
                "due_on": received + dt.timedelta(days=2),
                "amount": amount,
                "status": "kept",
                "paid": amount,
            }
        )
    row = {
        "debtor_external_ref": f"SYN-{seed}-D{number:06d}",
        "name": name,
        "phone": phone,
        "account_external_ref": f"SYN-{seed}-A{number:06d}",
        "product_type": product,
        "currency": "COP",
        "principal": f"{principal:.2f}",
        "annual_rate": str(rate),
        "originated_on": originated_on.isoformat(),
        "instalments": str(count),
        "first_due": first_due.isoformat(),
    }
    return SyntheticAccount(
        row=row, days_past_due=max(actual_days, 0), payments=payments, promises=promises
    )


def generate(size: int, *, seed: int, today: dt.date) -> list[SyntheticAccount]:
    """``size`` synthetic accounts, one debtor each; the same arguments, the same result.

    :param today: the date the portfolio's aging is built for (no date after it is used).
    """
    rng = random.Random(seed)  # noqa: S311 (sample data, not secrets)
    return [_generate_one(rng, number, seed, today) for number in range(1, size + 1)]


def write_behaviour(
    session: Session,
    batch: Batch,
    rows: Sequence[ValidRow],
    portfolio: Sequence[SyntheticAccount],
) -> None:
    """Write the payments and promises of ``portfolio``, whose rows ``batch`` just wrote."""
    tenant_id = session.info["tenant_id"]
    new = id_factory()
    now = utcnow()
    entries: list[dict[str, Any]] = []
    postings: list[dict[str, Any]] = []
    payments: list[dict[str, Any]] = []
    promises: list[dict[str, Any]] = []
    for index, (row, synthetic) in enumerate(zip(rows, portfolio, strict=True)):
        account_id = batch.account_ids[index]
        ids = batch.instalment_ids[index]
        currency = row.principal.currency
        # What each instalment still owes, by component, in allocation order.
        owed = [
            [
                ("receivable:fees", row.fee if number == 0 else Decimal(0)),
                ("receivable:interest", interest),
                ("receivable:principal", part),
            ]
            for number, (_, part, interest) in enumerate(row.schedule)
        ]
        for serial, (received_on, amount) in enumerate(synthetic.payments, start=1):
            external_id = f"{row.account_ref}-P{serial:03d}"
            entry_id = new()
            legs: list[tuple[str, Decimal, str | None]] = [("cash", amount, None)]
            left = amount
            for position, components in enumerate(owed):
                for slot, (book, due) in enumerate(components):
                    take = min(left, due)
                    if take > 0:
                        legs.append((book, -take, ids[position]))
                        components[slot] = (book, due - take)
                        left -= take
                if not left:
                    break
            entries.append(
                {
                    "id": entry_id,
                    "tenant_id": tenant_id,
                    "account_id": account_id,
                    "kind": "payment",
                    "effective_on": received_on,
                    "posted_at": now,
                    "memo": f"payment {external_id}",
                    "reverses_id": None,
                }
            )
            postings.extend(
                {
                    "tenant_id": tenant_id,
                    "entry_id": entry_id,
                    "account_id": account_id,
                    "instalment_id": instalment_id,
                    "book": book,
                    "amount": value,
                    "currency": currency,
                    "effective_on": received_on,
                    "position": position,
                }
                for position, (book, value, instalment_id) in enumerate(legs)
            )
            payments.append(
                {
                    "id": new(),
                    "tenant_id": tenant_id,
                    "account_id": account_id,
                    "external_id": external_id,
                    "amount": amount,
                    "currency": currency,
                    "received_on": received_on,
                    "channel": "synthetic",
                    "fingerprint": _fingerprint(
                        account_id, Money(amount, currency), received_on, "synthetic"
                    ),
                    "entry_id": entry_id,
                    "reversal_entry_id": None,
                    "created_at": now,
                }
            )
        for promise in synthetic.promises:
            promises.append(
                {
                    "id": new(),
                    "tenant_id": tenant_id,
                    "account_id": account_id,
                    "amount": promise["amount"],
                    "currency": currency,
                    "due_on": promise["due_on"],
                    "channel": "voice",
                    "status": promise["status"],
                    "paid": promise["paid"],
                    "created_on": promise["created_on"],
                    "created_at": now,
                    "resolved_at": None if promise["status"] == "pending" else now,
                }
            )
    for model, items in (
        (JournalEntry, entries),
        (Posting, postings),
        (Payment, payments),
        (Promise, promises),
    ):
        if items:
            bulk_insert(session, model, items)


def fill_demo(
    session: Session, *, size: int, seed: int, today: dt.date | None = None
) -> str | None:
    """Write a synthetic portfolio on the session's tenant, as ``almacen demo`` asks.

    :return: a one-line summary, or None when this seed's portfolio is there already.
    :raises ValueError: if a generated row fails validation (a bug in the generator).
    """
    day = today or accounts.today()
    portfolio = generate(size, seed=seed, today=day)
    valid, errors = validate_rows([item.row for item in portfolio], today=day)
    if errors:
        raise ValueError(f"a synthetic row is invalid: {errors[0]}")
    if references_in_use(session, valid[:1]):
        return None
    batch = write_batch(session, valid)
    write_behaviour(session, batch, valid, portfolio)
    late = sum(1 for item in portfolio if item.days_past_due > 0)
    payments = sum(len(item.payments) for item in portfolio)
    promises = sum(len(item.promises) for item in portfolio)
    return (
        f"ledger: {size:,} synthetic debtors and accounts (seed {seed}), {late:,} past due, "
        f"{payments:,} payments, {promises:,} promises; run POST /v1/ledger/jobs/aging"
    )
