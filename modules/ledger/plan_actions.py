"""Handlers of ``ledger.install_plan`` and ``ledger.apply_settlement``, in the style of
:mod:`.actions`: ``handler(session, tenant_id, data)`` with ``data`` loaded by the action's
input schema, on a session open for ``tenant_id``; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from . import accounts, plans
from .actions import _check_scope
from .models import Plan

__all__ = ["apply_settlement", "install_plan"]


def install_plan(session: Session, tenant_id: str, data: Mapping[str, Any]) -> Plan:
    """``ledger.install_plan``: replace an account's open schedule with a payment plan."""
    _check_scope(session, tenant_id)
    return plans.install_plan(
        session,
        data["account_id"],
        count=data["count"],
        first_due=data["first_due"],
        instalments=None
        if data.get("instalments") is None
        else [
            plans.PlanInstalment(
                due_on=row["due_on"],
                principal=row["principal"],
                interest=row.get("interest"),
            )
            for row in data["instalments"]
        ],
        down_payment=data.get("down_payment"),
        down_payment_due=data.get("down_payment_due"),
        annual_rate=data.get("annual_rate"),
        config=accounts.settings_for(session),
    )


def apply_settlement(session: Session, tenant_id: str, data: Mapping[str, Any]) -> Plan:
    """``ledger.apply_settlement``: agree that paying an amount by a date settles the account."""
    _check_scope(session, tenant_id)
    return plans.apply_settlement(
        session, data["account_id"], amount=data["amount"], due_on=data["due_on"]
    )
