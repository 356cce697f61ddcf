"""Handlers of the ledger's actions, called in-process by other modules, blueprints and bots.

Each is ``handler(session, tenant_id, data)``: ``data`` is what the action's input schema
loaded, and ``session`` must be open for ``tenant_id`` (the tenant's accounts and
configuration are read through it). The caller owns the transaction.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from almacen.gateway.db import UnscopedQueryError

from . import accounts, aging, allocation, payments, promises
from .models import Account, Promise

__all__ = ["create_promise", "get_account", "get_accounts", "plugin_strategies", "post_payment"]


def get_account(
    session: Session, tenant_id: str, data: Mapping[str, Any]
) -> accounts.AccountSummary:
    """``ledger.get_account``: balances, days past due and bucket, as of a date (today)."""
    _check_scope(session, tenant_id)
    account = accounts.get_account(session, data["account_id"])
    return accounts.summarise(
        session,
        account,
        as_of=data.get("as_of") or accounts.today(),
        config=accounts.settings_for(session),
    )


def get_accounts(session: Session, tenant_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """``ledger.get_accounts``: facts of many accounts at once (for bulk readers such as the
    offers batch), the named ones or a page of those in a status, in id order.

    One read of the journal per page, or per 5,000 named accounts (the aging job's figures),
    not one per account; ids that are not the tenant's accounts are left out.
    """
    _check_scope(session, tenant_id)
    as_of = data.get("as_of") or accounts.today()
    buckets = accounts.settings_for(session)["buckets"]
    columns = (Account.id, Account.debtor_id, Account.status, Account.disputed, Account.currency)
    if data.get("account_ids") is not None:
        wanted = sorted(set(data["account_ids"]))
        rows = []
        for start in range(0, len(wanted), aging._CHUNK):
            chunk = wanted[start : start + aging._CHUNK]
            rows += list(session.execute(select(*columns).where(Account.id.in_(chunk))))
        rows.sort(key=lambda row: str(row[0]))
        next_after = None
    else:
        statement = select(*columns).where(Account.status == data.get("status", "open"))
        if data.get("after") is not None:
            statement = statement.where(Account.id > data["after"])
        limit = data.get("limit", 1000)
        rows = list(session.execute(statement.order_by(Account.id).limit(limit + 1)))
        next_after = str(rows[limit - 1][0]) if len(rows) > limit else None
        rows = rows[:limit]
    ids = [str(row[0]) for row in rows]
    # The aging job's per-account receivable total and oldest overdue date (private to the
    # ledger, shared within it): one grouped read of the journal per chunk of named ids; a
    # page is one read narrowed by the page's own query (each read scans the journal once).
    chunks: list[Any] = [
        ids[start : start + aging._CHUNK] for start in range(0, len(ids), aging._CHUNK)
    ]
    if data.get("account_ids") is None and ids:
        # The page's filters up to its last id (an account added meanwhile only adds a row).
        page = statement.with_only_columns(Account.id).where(Account.id <= ids[-1])
        chunks = [page.where(Account.tenant_id == tenant_id)]
    figures: dict[str, tuple[Any, Any]] = {}
    # Thousands of accounts group hundreds of thousands of postings: room to do it in memory.
    room = aging._room_to_aggregate(session) if len(ids) > 1000 else contextlib.nullcontext()
    with room:
        for chunk in chunks:
            sub = aging._figures(as_of, tenant_id, chunk)
            for account_id, balance, oldest in session.execute(
                select(sub.c.account_id, sub.c.balance, sub.c.oldest)
            ):
                figures[account_id] = (balance, oldest)
    items = []
    for account_id, debtor_id, status, disputed, currency in rows:
        balance, oldest = figures.get(account_id, (0, None))
        days = 0 if oldest is None else (as_of - oldest).days
        items.append(
            {
                "account_id": account_id,
                "debtor_id": debtor_id,
                "status": status,
                "disputed": bool(disputed),
                "total": accounts.money(Decimal(str(balance or 0)), currency),
                "days_past_due": days,
                "bucket": aging.bucket_for(days, buckets),
            }
        )
    return {"items": items, "next_after": next_after}


def post_payment(session: Session, tenant_id: str, data: Mapping[str, Any]) -> payments.PaymentView:
    """``ledger.post_payment``: post (or replay) a payment; allocated as the tenant configured."""
    _check_scope(session, tenant_id)
    result = payments.post_payment(
        session,
        data["account_id"],
        external_id=data["external_id"],
        amount=data["amount"],
        received_on=data["received_on"],
        channel=data.get("channel"),
        config=accounts.settings_for(session),
        strategies=plugin_strategies(),
    )
    return result.view


def create_promise(session: Session, tenant_id: str, data: Mapping[str, Any]) -> Promise:
    """``ledger.create_promise``: record a promise to pay on an account."""
    _check_scope(session, tenant_id)
    account = accounts.lock_account(session, data["account_id"])
    amount = data["amount"]
    if amount.currency != account.currency:
        raise accounts.currency_mismatch(amount.currency, account.currency, "/amount/currency")
    return promises.create_promise(
        session,
        account,
        amount=amount.amount,
        due_on=data["due_on"],
        channel=data.get("channel"),
        today=accounts.today(),
        config=accounts.settings_for(session),
    )


def get_debtor(session: Session, tenant_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """``ledger.get_debtor``: a debtor's profile for contacting them (language, time zone,
    country of the first phone, contact points, consents, whether an open account is disputed).
    """
    import phonenumbers
    from sqlalchemy import select as select_

    from . import debtors
    from .models import Account as Account_

    _check_scope(session, tenant_id)
    debtor = debtors.get_debtor(session, data["debtor_id"])
    disputed = session.scalar(
        select_(Account_.id)
        .where(
            Account_.debtor_id == debtor.id,
            Account_.status == "open",
            Account_.disputed.is_(True),
        )
        .limit(1)
    )
    phone = next((p.value for p in debtor.contact_points if p.kind == "phone"), None)
    country = phonenumbers.region_code_for_number(phonenumbers.parse(phone)) if phone else None
    return {
        "id": debtor.id,
        "external_ref": debtor.external_ref,
        "name": debtor.name,
        "language": debtor.language,
        "time_zone": debtor.time_zone,
        "country": country,
        "preferred_channel": debtor.preferred_channel,
        "contact_points": debtor.contact_points,
        "consents": debtor.consents,
        "disputed": disputed is not None,
    }


def find_debtors(session: Session, tenant_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """``ledger.find_debtors``: the tenant's debtors whose contact points hold this phone or
    e-mail (normalised as stored: E.164, lower-cased domain; exact match), each with its open
    accounts' ids. An address that does not parse finds nobody.
    """
    from almacen.gateway.errors import UnprocessableError

    from . import debtors
    from .models import Account as Account_
    from .models import ContactPoint, Debtor

    _check_scope(session, tenant_id)
    try:
        if data.get("phone"):
            phone = str(data["phone"]).removeprefix("whatsapp:").removeprefix("tel:")
            kind, value = "phone", debtors.normalise_phone(phone, region=None, pointer="/phone")
        elif data.get("email"):
            kind, value = "email", debtors.normalise_email(str(data["email"]), pointer="/email")
        else:
            return {"items": []}
    except UnprocessableError:
        return {"items": []}
    found = session.scalars(
        select(Debtor)
        .join(ContactPoint, ContactPoint.debtor_id == Debtor.id)
        .where(ContactPoint.kind == kind, ContactPoint.value == value)
        .distinct()
        .order_by(Debtor.id)
        .limit(20)
    ).all()
    items = []
    for debtor in found:
        open_ids = session.scalars(
            select(Account_.id)
            .where(Account_.debtor_id == debtor.id, Account_.status == "open")
            .order_by(Account_.id)
        ).all()
        items.append(
            {
                "id": debtor.id,
                "external_ref": debtor.external_ref,
                "name": debtor.name,
                "language": debtor.language,
                "open_account_ids": list(open_ids),
            }
        )
    return {"items": items}


def set_consent(session: Session, tenant_id: str, data: Mapping[str, Any]) -> Any:
    """``ledger.set_consent``: record a debtor's consent to, or opt-out of, one channel."""
    from almacen.gateway.db import utcnow

    from . import debtors
    from .models import ChannelConsent

    _check_scope(session, tenant_id)
    debtor = debtors.get_debtor(session, data["debtor_id"])
    row = next((c for c in debtor.consents if c.channel == data["channel"]), None)
    if row is None:
        row = ChannelConsent(channel=data["channel"], consent=False, opted_out=False)
        debtor.consents.append(row)
    for field in ("consent", "opted_out"):
        if data.get(field) is not None:
            setattr(row, field, data[field])
    row.updated_at = debtor.updated_at = utcnow()
    session.flush()
    return row


def plugin_strategies() -> list[allocation.AllocationStrategy]:
    """Allocation strategies plugins add through ``almacen_ledger_allocation_strategies``.

    Outside a request of an Almacén app (a script, a unit test) there are none.
    """
    if not flask.has_app_context():
        return []
    from almacen.gateway.state import current_gateway

    hook = getattr(current_gateway().registry.hook, "almacen_ledger_allocation_strategies", None)
    if hook is None:
        return []
    return list(itertools.chain.from_iterable(result for result in hook() if result))


def _check_scope(session: Session, tenant_id: str) -> None:
    # Every answer depends on the tenant's rows and configuration, read through the session:
    # a session of another tenant (or of none) would answer for the wrong one.
    if session.info.get("tenant_id") != tenant_id:
        raise UnscopedQueryError(
            f"ledger actions for tenant {tenant_id} need a session opened for that tenant"
        )
