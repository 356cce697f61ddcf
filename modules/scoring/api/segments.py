"""``/segments/...``: segment rules, assigning accounts, their history and the report."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError

from almacen.gateway.errors import NotFoundError, UnprocessableError, marshmallow_errors
from almacen.gateway.state import request_session

from .. import segments as service
from ..segment_schemas import (
    AccountInputSchema,
    AssignedSchema,
    AssignmentSchema,
    RuleSetSchema,
    SegmentRowSchema,
)

__all__ = ["assign", "get_rules", "list_assignments", "put_rules", "report"]

_rule_set = RuleSetSchema()
_accounts = AccountInputSchema(many=True)
_assigned = AssignedSchema(many=True)
_assignment = AssignmentSchema()
_rows = SegmentRowSchema(many=True)


def put_rules(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Store a new version of the rules (every fault reported at once) and activate it."""
    rule_set = service.put_rules(
        request_session(), rules=body["rules"], default=body.get("default")
    )
    return dict(_rule_set.dump(rule_set)), 201


def get_rules(version: int | None = None) -> dict[str, Any]:
    """The active rules, or the given version."""
    return dict(_rule_set.dump(service.active_rules(request_session(), version=version)))


def assign(body: dict[str, Any]) -> dict[str, Any]:
    """Segment the accounts given; the outcome of each, in order."""
    try:
        accounts = _accounts.load(body["accounts"])
    except ValidationError as exc:
        raise UnprocessableError(
            "Some accounts cannot be read.",
            errors=marshmallow_errors(exc.messages, "/accounts"),
        ) from None
    version, outcomes = service.assign(request_session(), accounts)
    return {"rule_set_version": version, "items": _assigned.dump(outcomes)}


def list_assignments(
    account_id: str | None = None, limit: int = 50, cursor: str | None = None
) -> dict[str, Any]:
    """An account's history, or every current assignment; a page, oldest first."""
    found = service.history(request_session(), account_id=account_id, limit=limit, cursor=cursor)
    return {"items": _assignment.dump(found.items, many=True), "next": found.next_cursor}


def report() -> dict[str, Any]:
    """Accounts and balances by current segment."""
    session = request_session()
    try:
        version: int | None = service.active_rules(session).version
    except NotFoundError:
        version = None
    total, rows = service.report(session)
    return {"rule_set_version": version, "accounts": total, "segments": _rows.dump(rows)}
