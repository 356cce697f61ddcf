"""Features read from the ledger, for records that name an account instead of (or besides)
giving features.

``ledger.get_account`` (as of today) gives these feature names; amounts are decimal strings
(exact, as the ledger keeps them; the scorecard reads them as numbers only to find a bin):

==========================  =====================================================
``days_past_due``           days the oldest unpaid instalment is late (integer)
``bucket``                  the aging bucket's name (``current``, ``1-30``, …)
``balance``                 total owed (all components)
``balance_principal``       owed principal; likewise ``balance_interest``,
                            ``balance_fees``, ``balance_penalties``
``credit``                  credit balance (overpayments)
``principal``               the principal lent
``annual_rate``             the account's annual interest rate
``product_type``            the account's product (``personal_loan``, …)
``months_on_book``          whole months since origination
``disputed``                ``yes`` or ``no``
==========================  =====================================================

When the tenant does not subscribe to the ledger, records must carry their features: the
request is a 422 saying so (``features_required``), never a silent score on missing bins.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from almacen import ActionUnavailableError, run_action
from almacen.gateway.errors import NotFoundError, UnprocessableError

__all__ = ["LEDGER_FEATURES", "ledger_features"]

LEDGER_FEATURES = (
    "days_past_due",
    "bucket",
    "balance",
    "balance_principal",
    "balance_interest",
    "balance_fees",
    "balance_penalties",
    "credit",
    "principal",
    "annual_rate",
    "product_type",
    "months_on_book",
    "disputed",
)


def ledger_features(session: Session, account_id: str, *, pointer: str) -> dict[str, Any]:
    """The features of account ``account_id`` from ``ledger.get_account``.

    :param pointer: where the record is in the request (``/records/3``), for problems.
    :raises UnprocessableError: the tenant has no ledger (features required), or the ledger
        has no such account.
    """
    try:
        summary = run_action(session, "ledger.get_account", {"account_id": account_id})
    except ActionUnavailableError as exc:
        raise UnprocessableError(
            "features are required: the ledger is not available to this tenant "
            f"({exc.reason}), so account_id cannot supply them",
            errors=[
                {
                    "pointer": f"{pointer}/features",
                    "detail": "required without the ledger (give every characteristic)",
                }
            ],
            reason="features_required",
        ) from None
    except NotFoundError:
        raise UnprocessableError(
            f"the ledger has no account {account_id}",
            errors=[{"pointer": f"{pointer}/account_id", "detail": "no such account"}],
        ) from None
    return from_summary(summary)


def from_summary(summary: Mapping[str, Any]) -> dict[str, Any]:
    """Feature names (see the module docstring) from a dumped account summary."""
    account = summary.get("account") or {}
    balances = summary.get("balances") or {}
    features: dict[str, Any] = {
        "days_past_due": summary.get("days_past_due"),
        "bucket": summary.get("bucket"),
        "balance": _amount(summary.get("total")),
        "credit": _amount(summary.get("credit")),
        "principal": _amount(account.get("principal")),
        "annual_rate": account.get("annual_rate"),
        "product_type": account.get("product_type"),
        "disputed": None if account.get("disputed") is None else _yes(account["disputed"]),
        "months_on_book": _months(account.get("originated_on"), summary.get("as_of")),
    }
    for component in ("principal", "interest", "fees", "penalties"):
        features[f"balance_{component}"] = _amount(balances.get(component))
    return features


def _amount(money: Any) -> str | None:
    return money.get("amount") if isinstance(money, Mapping) else None


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _months(start: str | None, end: str | None) -> int | None:
    if not start or not end:
        return None
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    months = (last.year - first.year) * 12 + last.month - first.month
    return max(0, months - (1 if last.day < first.day else 0))
