"""``/callbacks/{tenant_id}/{provider}/…``: public, signed provider callbacks.

No API key: the path names the tenant (404 when unknown, suspended or not subscribed) and
the HMAC signature with the tenant's secret for that provider proves the caller, before
anything is read or written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import flask
from marshmallow import Schema, ValidationError
from sqlalchemy.orm import Session

from almacen.gateway.errors import (
    AlmacenError,
    NotFoundError,
    UnprocessableError,
    marshmallow_errors,
)
from almacen.gateway.state import public_tenant_session

from ..channels import receipt_secret
from ..sending import apply_receipt, receive_inbound, verify
from ..sending.callbacks import SIGNATURE_HEADER, TIMESTAMP_HEADER
from ..sending.schemas import InboundResultSchema, InboundSchema, MessageSchema, ReceiptSchema
from ..settings import MODULE

__all__ = ["inbound", "receipt"]


def _authenticated(tenant_id: str, provider: str) -> Session:
    """The tenant's session once the request's signature is proved."""
    session = public_tenant_session(tenant_id, MODULE)
    try:
        secret = receipt_secret(session, tenant_id, provider)
    except AlmacenError:
        raise NotFoundError("No such callback endpoint.") from None
    request = flask.request
    verify(
        secret,
        request.get_data(cache=True),
        timestamp=request.headers.get(TIMESTAMP_HEADER),
        signature=request.headers.get(SIGNATURE_HEADER),
    )
    return session


def _load(schema: Schema, body: Mapping[str, Any], what: str) -> dict[str, Any]:
    try:
        return dict(schema.load(body))
    except ValidationError as exc:
        raise UnprocessableError(
            f"The {what} cannot be read.", errors=marshmallow_errors(exc.messages)
        ) from None


def receipt(tenant_id: str, provider: str, body: dict[str, Any]) -> dict[str, Any]:
    """A delivery receipt: the message moves to delivered, failed or bounced."""
    session = _authenticated(tenant_id, provider)
    data = _load(ReceiptSchema(), body, "receipt")
    return dict(MessageSchema().dump(apply_receipt(session, provider, data)))


def inbound(tenant_id: str, provider: str, body: dict[str, Any]) -> dict[str, Any]:
    """An inbound reply: an opt-out at once, or ``notifications.message_received``."""
    session = _authenticated(tenant_id, provider)
    data = _load(InboundSchema(), body, "inbound message")
    result = receive_inbound(session, tenant_id, provider, data)
    return dict(InboundResultSchema().dump(result))
