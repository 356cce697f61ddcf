"""``/content/{locale}``: the bot's response templates for one locale."""

from __future__ import annotations

from typing import Any

from almacen.gateway.state import request_session

from .. import content

__all__ = ["get", "put"]


def get(locale: str) -> dict[str, Any]:
    """Every response template of the locale, the tenant's where it set one."""
    return content.templates(request_session(), locale)


def put(locale: str, body: dict[str, Any]) -> dict[str, Any]:
    """Set some templates (null resets one to the shipped text); all or nothing."""
    session = request_session()
    content.put_templates(session, locale, body["templates"])
    return content.templates(session, locale)
