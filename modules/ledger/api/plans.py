"""``/accounts/{id}/plans``, ``/accounts/{id}/settlements`` and ``/accounts/{id}/dispute``."""

from __future__ import annotations

from typing import Any

from almacen.gateway.state import request_session

from .. import plans as service
from ..accounts import settings_for
from ..schemas import DisputeSchema, PlanSchema
from ._common import date, decimal, money, page, pointer, query_date

__all__ = ["apply_settlement", "install_plan", "list_plans", "open_dispute", "resolve_dispute"]

_plan = PlanSchema()
_dispute = DisputeSchema()


def install_plan(account_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Replace the account's open schedule with a payment plan."""
    session = request_session()
    plan = service.install_plan(
        session,
        account_id,
        count=body["count"],
        first_due=date(body["first_due"], pointer("/first_due")),
        down_payment=money(body["down_payment"], "/down_payment")
        if "down_payment" in body
        else None,
        down_payment_due=date(body["down_payment_due"], pointer("/down_payment_due"))
        if "down_payment_due" in body
        else None,
        annual_rate=decimal(body["annual_rate"]) if "annual_rate" in body else None,
        config=settings_for(session),
    )
    return dict(_plan.dump(plan)), 201


def list_plans(
    account_id: str, limit: int = 50, cursor: str | None = None, as_of: str | None = None
) -> dict[str, Any]:
    """A page of the account's plans and settlements, oldest first."""
    day = query_date(as_of, "as_of")
    found = service.list_plans(request_session(), account_id, limit=limit, cursor=cursor, as_of=day)
    return page(_plan, found)


def apply_settlement(account_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Agree a settlement: paying an amount by a date settles the account."""
    plan = service.apply_settlement(
        request_session(),
        account_id,
        amount=money(body["amount"], "/amount"),
        due_on=date(body["due_on"], pointer("/due_on")),
    )
    return dict(_plan.dump(plan)), 201


def open_dispute(account_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Flag the account as disputed."""
    dispute = service.open_dispute(
        request_session(),
        account_id,
        reason=body["reason"],
        amount=money(body["amount"], "/amount") if "amount" in body else None,
    )
    return dict(_dispute.dump(dispute)), 201


def resolve_dispute(account_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Resolve the account's open dispute."""
    dispute = service.resolve_dispute(
        request_session(),
        account_id,
        outcome=body["outcome"],
        write_off=body.get("write_off", False),
    )
    return dict(_dispute.dump(dispute))
