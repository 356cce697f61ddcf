"""Ledger rows for unit tests, built straight on the journal (no HTTP, no services)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from almacen.modules.ledger.config import LedgerConfigSchema
from almacen.modules.ledger.journal import Leg, post_entry
from almacen.modules.ledger.models import Account, Debtor, Instalment

D = Decimal


def config(**settings: Any) -> dict[str, Any]:
    """A tenant's ledger configuration, through the real schema."""
    loaded: dict[str, Any] = LedgerConfigSchema().load(settings)
    return loaded


def open_account(
    session: Session,
    *dues: tuple[dt.date, str],
    product_type: str = "loan",
    fees: str = "0",
    interest: str = "0",
) -> Account:
    """An open USD account whose instalments fall due on the given dates, each owing the
    given principal (plus ``fees`` and ``interest``), charged on origination."""
    debtor = Debtor(external_ref=uuid.uuid4().hex, name="Ana")
    session.add(debtor)
    session.flush()
    account = Account(
        debtor_id=debtor.id,
        external_ref=uuid.uuid4().hex,
        product_type=product_type,
        currency="USD",
        originated_on=dt.date(2025, 12, 31),
        principal=sum((D(p) for _, p in dues), D(0)),
    )
    account.instalments = [
        Instalment(number=n, due_on=due_on, principal=D(p), interest=D(interest), fees=D(fees))
        for n, (due_on, p) in enumerate(dues, start=1)
    ]
    session.add(account)
    session.flush()
    legs: list[Leg] = []
    for instalment in account.instalments:
        legs += [
            Leg("receivable:principal", instalment.principal, instalment.id),
            Leg("funding", -instalment.principal),
            Leg("receivable:interest", instalment.interest, instalment.id),
            Leg("income:interest", -instalment.interest),
            Leg("receivable:fees", instalment.fees, instalment.id),
            Leg("income:fees", -instalment.fees),
        ]
    post_entry(session, account, kind="charge", effective_on=account.originated_on, legs=legs)
    return account
