"""``/channels``: the providers installed, and the tenant's credentials per channel.

Credentials go in and never come out: answers say ``configured: true`` and show only the
fields the provider's schema marks public.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from almacen.gateway.errors import NotFoundError
from almacen.gateway.state import current_gateway, request_session
from almacen.gateway.webhooks.targets import parse_networks

from ..channels.credentials import delete_channel, find_channel, public_settings, put_channel
from ..channels.registry import providers
from ..template_tables import ChannelCredential

__all__ = ["delete", "get", "put", "search"]


def _dump(row: ChannelCredential) -> dict[str, Any]:
    provider = providers(request_session()).get(row.provider)
    return {
        "channel": row.channel,
        "provider": row.provider,
        "configured": True,
        "installed": provider is not None,
        "settings": public_settings(provider, row.credentials) if provider else {},
        "updated_at": row.updated_at.isoformat(),
    }


def put(channel: str, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Send ``channel`` through a provider with these credentials (replacing any before).

    The answer carries ``receipt_secret`` when a new one was issued: it is shown once.
    """
    session = request_session()
    existed = find_channel(session, channel) is not None
    row, issued = put_channel(
        session,
        channel=channel,
        provider=body["provider"],
        credentials=body["credentials"],
        allowed=parse_networks(current_gateway().settings.webhook_allowed_networks),
    )
    answer = _dump(row)
    if issued is not None:
        answer["receipt_secret"] = issued
    return answer, 200 if existed else 201


def get(channel: str) -> dict[str, Any]:
    """The tenant's configuration of one channel (never its secrets)."""
    row = find_channel(request_session(), channel)
    if row is None:
        raise NotFoundError(f"The tenant has no provider for {channel}.")
    return _dump(row)


def delete(channel: str) -> tuple[None, int]:
    """Forget the tenant's credentials for one channel."""
    if not delete_channel(request_session(), channel):
        raise NotFoundError(f"The tenant has no provider for {channel}.")
    return None, 204


def search() -> dict[str, Any]:
    """Every channel some provider serves, whether the tenant configured it, and the providers."""
    session = request_session()
    installed = providers(session)
    rows = {row.channel: row for row in _rows(session)}
    channels = []
    for channel in sorted({p.channel for p in installed.values()} | set(rows)):
        row = rows.get(channel)
        channels.append(
            _dump(row) if row is not None else {"channel": channel, "configured": False}
        )
    return {
        "channels": channels,
        "providers": [
            {
                "name": provider.name,
                "channel": provider.channel,
                "public_fields": sorted(
                    name
                    for name, field in provider.credentials_schema().fields.items()
                    if field.metadata.get("public") is True
                ),
            }
            for provider in installed.values()
        ],
    }


def _rows(session: Session) -> list[ChannelCredential]:
    return list(session.scalars(select(ChannelCredential).order_by(ChannelCredential.channel)))
