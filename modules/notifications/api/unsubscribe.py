"""``/unsubscribe/{tenant_id}/{token}``: the public RFC 8058 one-click unsubscribe endpoint.

``GET`` (a person following the link, or a mail client's prefetch) only shows what a ``POST``
would do; ``POST`` (``List-Unsubscribe=One-Click``, or the page's button) opts out at once.
The signed token is the only proof of the caller: a malformed or tampered one is a 400
problem and touches nothing. Opting out twice is the same as once.
"""

from __future__ import annotations

import html
from typing import Any

from almacen.gateway.db import utcnow
from almacen.gateway.state import public_tenant_session

from ..contact.consent import record_opt_out
from ..contact.tokens import read_token, tenant_secret
from ..settings import MODULE

__all__ = ["one_click", "show"]


def _claims(tenant_id: str, token: str) -> tuple[Any, dict[str, Any]]:
    session = public_tenant_session(tenant_id, MODULE)
    return session, dict(read_token(tenant_secret(session), tenant_id, token))


def show(tenant_id: str, token: str) -> tuple[str, int, dict[str, str]]:
    """A page with one button that confirms the unsubscribe (GET never changes anything)."""
    _session, claims = _claims(tenant_id, token)
    what = html.escape(str(claims["channel"]))
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Unsubscribe</title></head>"
        f"<body><p>Stop receiving {what} messages?</p><form method='post'>"
        "<input type='hidden' name='List-Unsubscribe' value='One-Click'>"
        "<button type='submit'>Unsubscribe</button></form></body></html>"
    )
    return page, 200, {"Content-Type": "text/html"}


def one_click(tenant_id: str, token: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Opt the link's recipient out of the link's channel (idempotent)."""
    session, claims = _claims(tenant_id, token)
    record_opt_out(
        session,
        tenant_id,
        debtor_id=claims["debtor_id"],
        address=claims["address"],
        channel=claims["channel"],
        source="unsubscribe",
        at=utcnow(),
    )
    return {"unsubscribed": True, "channel": claims["channel"]}
