"""``/accounts/{id}/promises`` and ``/promises/{id}/cancellation``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from almacen.gateway.pagination import paginate
from almacen.gateway.state import request_session

from .. import accounts, promises
from ..models import Promise
from ..schemas import PromiseSchema
from ._common import date, money, page, pointer

__all__ = ["cancel_promise", "create_promise", "list_promises"]

_promise = PromiseSchema()


def create_promise(account_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Record a promise to pay on an account."""
    session = request_session()
    amount = money(body["amount"], "/amount")
    account = accounts.lock_account(session, account_id)
    if amount.currency != account.currency:
        raise accounts.currency_mismatch(amount.currency, account.currency, "/amount/currency")
    promise = promises.create_promise(
        session,
        account,
        amount=amount.amount,
        due_on=date(body["due_on"], pointer("/due_on")),
        channel=body.get("channel"),
        today=accounts.today(),
        config=accounts.settings_for(session),
    )
    return dict(_promise.dump(promise)), 201


def list_promises(account_id: str, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    """A page of the account's promises, oldest first."""
    session = request_session()
    account = accounts.get_account(session, account_id)
    found = paginate(
        session,
        select(Promise).where(Promise.account_id == account.id),
        keys=(Promise.created_at, Promise.id),
        limit=limit,
        cursor=cursor,
    )
    return page(_promise, found)


def cancel_promise(promise_id: str) -> dict[str, Any]:
    """Cancel a pending promise."""
    return dict(_promise.dump(promises.cancel_promise(request_session(), promise_id)))
