"""``/contact/consents``: a debtor's (or an address's) consents and opt-outs."""

from __future__ import annotations

from typing import Any

from almacen.gateway.db import utcnow
from almacen.gateway.state import current_principal, request_session

from ..contact.consent import (
    CONSENTED,
    consent_rows,
    record_consent,
    record_opt_out,
    subjects,
)
from ..contact.errors import ContactProblem, check_text, fault
from ..contact.schemas import ConsentSchema
from ..contact.service import known_channels, require_debtor
from ..contact_tables import ALL_CHANNELS

__all__ = ["record", "search"]

_dump = ConsentSchema(many=True)


def _tenant() -> str:
    principal = current_principal()
    assert principal is not None
    assert principal.tenant_id is not None
    return principal.tenant_id


def _rows(debtor_id: str | None, address: str | None) -> list[Any]:
    session = request_session()
    pairs = subjects(debtor_id, address)
    channels = sorted(known_channels(session) | {ALL_CHANNELS})
    return consent_rows(session, pairs, channels)


def search(debtor_id: str | None = None, address: str | None = None) -> dict[str, Any]:
    """The consents and opt-outs recorded for a debtor and/or an address."""
    if debtor_id is None and address is None:
        detail = "name a debtor_id or an address"
        raise ContactProblem(
            detail, errors=[{"parameter": "debtor_id", "in": "query", "detail": detail}]
        )
    return {"items": _dump.dump(_rows(debtor_id, address))}


def record(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Record a consent or an opt-out (``channel`` null: every channel); idempotent."""
    session = request_session()
    tenant_id = _tenant()
    debtor_id, address, channel = body.get("debtor_id"), body.get("address"), body.get("channel")
    if channel is not None and channel not in known_channels(session):
        raise fault("/channel", f"unknown channel {channel!r}")
    if debtor_id is None and address is None:
        raise fault("/debtor_id", "name a debtor_id or an address")
    check_text(body.get("source"), "/source")
    require_debtor(session, debtor_id)
    write = record_consent if body["status"] == CONSENTED else record_opt_out
    write(
        session,
        tenant_id,
        debtor_id=debtor_id,
        address=address,
        channel=channel,
        source=body.get("source", "api"),
        at=utcnow(),
    )
    return {"items": _dump.dump(_rows(debtor_id, address))}, 201
