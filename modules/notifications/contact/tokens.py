"""Signed unsubscribe links (RFC 8058 one-click), one secret per tenant.

A token is ``<payload>.<signature>``: the payload is the base64url JSON of who opts out of
what (``{"d": debtor_id, "a": address, "c": channel}``) and the signature is HMAC-SHA256 of
``<tenant_id>.<payload>`` under the tenant's secret, so a token is worthless for another
tenant and any change to it is detected. Tokens do not expire: RFC 8058 links must keep
working for as long as the message may be read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from almacen.gateway.errors import BadRequestError

from ..contact_tables import UnsubscribeKey

__all__ = ["BadUnsubscribeToken", "make_token", "read_token", "tenant_secret", "unsubscribe_path"]

#: Where the public endpoint lives, below the API's origin.
PREFIX = "/v1/notifications/unsubscribe"


class BadUnsubscribeToken(BadRequestError):
    """Raised when an unsubscribe token is malformed, tampered with or not this tenant's.

    A ``bad-request`` problem (docs/problems.md) whose error names the ``token`` parameter.
    """


def tenant_secret(session: Session) -> str:
    """The session's tenant's signing secret, made (and stored) on first use."""
    found = session.scalar(select(UnsubscribeKey.secret))
    if found is not None:
        return str(found)
    try:
        with session.begin_nested():
            session.add(UnsubscribeKey(secret=secrets.token_hex(32)))
            session.flush()
    except IntegrityError:  # a concurrent first use stored one first: use that
        pass
    return str(session.scalar(select(UnsubscribeKey.secret)))


def _bad(detail: str) -> BadUnsubscribeToken:
    return BadUnsubscribeToken(detail, errors=[{"parameter": "token", "detail": detail}])


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, tenant_id: str, payload: str) -> str:
    mac = hmac.new(secret.encode(), f"{tenant_id}.{payload}".encode(), hashlib.sha256)
    return _b64(mac.digest())


def make_token(
    secret: str, tenant_id: str, *, debtor_id: str | None, address: str | None, channel: str
) -> str:
    """A signed token saying that ``address`` (or the debtor) may leave ``channel``."""
    body = json.dumps({"d": debtor_id, "a": address, "c": channel}, separators=(",", ":"))
    payload = _b64(body.encode())
    return f"{payload}.{_sign(secret, tenant_id, payload)}"


def read_token(secret: str, tenant_id: str, token: str) -> Mapping[str, Any]:
    """The token's ``{debtor_id, address, channel}`` once its signature is checked.

    :raises BadUnsubscribeToken: when it is malformed or its signature does not match.
    """
    payload, _, signature = token.partition(".")
    if not payload or not signature:
        raise _bad("the unsubscribe token is malformed")
    if not hmac.compare_digest(signature, _sign(secret, tenant_id, payload)):
        raise _bad("the unsubscribe token's signature does not match")
    try:
        data = json.loads(_unb64(payload))
    except (binascii.Error, ValueError):
        raise _bad("the unsubscribe token is malformed") from None
    if not isinstance(data, dict) or not isinstance(data.get("c"), str):
        raise _bad("the unsubscribe token is malformed")
    return {"debtor_id": data.get("d"), "address": data.get("a"), "channel": data["c"]}


def unsubscribe_path(tenant_id: str, token: str) -> str:
    """The public endpoint's path for ``token``."""
    return f"{PREFIX}/{tenant_id}/{token}"
