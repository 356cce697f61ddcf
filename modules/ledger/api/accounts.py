"""``/accounts``: open accounts, read balances, schedules and journals, post adjustments."""

from __future__ import annotations

from typing import Any

from almacen.gateway.state import request_session

from .. import accounts as service
from ..schemas import AccountSchema, AccountSummarySchema, InstalmentStateSchema, JournalEntrySchema
from ._common import date, decimal, money, page, pointer, query_date

__all__ = [
    "adjust_account",
    "get_account",
    "get_journal",
    "get_schedule",
    "list_accounts",
    "open_account",
]

_account = AccountSchema()
_summary = AccountSummarySchema()
_instalment = InstalmentStateSchema()
_entry = JournalEntrySchema()


def open_account(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Open an account with its schedule."""
    plan = body["schedule"]
    if "generate" in plan:
        generate = plan["generate"]
        schedule: dict[str, Any] = {
            "generate": {
                "count": generate["count"],
                "first_due": date(generate["first_due"], pointer("/schedule/generate/first_due")),
            }
        }
    else:
        base = "/schedule/instalments"
        schedule = {
            "instalments": [
                {
                    "due_on": date(item["due_on"], pointer(f"{base}/{n}/due_on")),
                    "principal": money(item["principal"], f"{base}/{n}/principal"),
                    "interest": money(item["interest"], f"{base}/{n}/interest"),
                }
                for n, item in enumerate(plan["instalments"])
            ]
        }
    account = service.open_account(
        request_session(),
        debtor_id=body["debtor_id"],
        external_ref=body["external_ref"],
        product_type=body["product_type"],
        principal=money(body["principal"], "/principal"),
        annual_rate=decimal(body["annual_rate"]),
        originated_on=date(body["originated_on"], pointer("/originated_on")),
        fees=money(body["fees"], "/fees") if "fees" in body else None,
        schedule=schedule,
    )
    return dict(_account.dump(account)), 201


def list_accounts(
    limit: int = 50,
    cursor: str | None = None,
    debtor_id: str | None = None,
    bucket: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """A page of the tenant's accounts."""
    found = service.list_accounts(
        request_session(),
        debtor_id=debtor_id,
        bucket=bucket,
        status=status,
        limit=limit,
        cursor=cursor,
    )
    return page(_account, found)


def get_account(account_id: str, as_of: str | None = None) -> dict[str, Any]:
    """Balances by component, days past due and bucket."""
    session = request_session()
    account = service.get_account(session, account_id)
    summary = service.summarise(
        session,
        account,
        as_of=query_date(as_of, "as_of") or service.today(),
        config=service.settings_for(session),
    )
    return dict(_summary.dump(summary))


def get_schedule(account_id: str, as_of: str | None = None) -> dict[str, Any]:
    """The instalments with what fell due, was paid and is owed."""
    session = request_session()
    account = service.get_account(session, account_id)
    day = query_date(as_of, "as_of") or service.today()
    states = service.schedule(session, account, as_of=day)
    return {
        "account_id": account.id,
        "as_of": day.isoformat(),
        "items": _instalment.dump(states, many=True),
    }


def get_journal(
    account_id: str, limit: int = 50, cursor: str | None = None, as_of: str | None = None
) -> dict[str, Any]:
    """A page of the account's journal."""
    session = request_session()
    account = service.get_account(session, account_id)
    day = query_date(as_of, "as_of")
    return page(
        _entry, service.journal_page(session, account, limit=limit, cursor=cursor, as_of=day)
    )


def adjust_account(account_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Post a fee, penalty, adjustment, discount or write-off."""
    entry = service.adjust(
        request_session(),
        account_id,
        kind=body["kind"],
        component=body["component"],
        amount=money(body["amount"], "/amount"),
        effective_on=date(body["effective_on"], pointer("/effective_on")),
        memo=body.get("memo", ""),
    )
    return dict(_entry.dump(entry)), 201
