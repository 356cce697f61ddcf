"""Handlers of the ledger's actions, called in-process by other modules, blueprints and bots.

Each is ``handler(session, tenant_id, data)``: ``data`` is what the action's input schema
loaded, and ``session`` must be open for ``tenant_id`` (the tenant's accounts and
configuration are read through it). The caller owns the transaction.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import flask
from sqlalchemy.orm import Session

from almacen.gateway.db import UnscopedQueryError

from . import accounts, allocation, payments, promises
from .models import Promise

__all__ = ["create_promise", "get_account", "plugin_strategies", "post_payment"]


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
