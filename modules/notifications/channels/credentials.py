"""A tenant's channel credentials: which provider sends each channel, and with what.

Credentials are validated by the provider's marshmallow schema and stored as it loaded them.
They are never returned (the API shows ``configured: true`` and the fields the schema marks
``public``) and never logged. The gateway has no encryption key to seal them at rest with,
so they are stored in clear, like the signing secrets of event webhooks.

Each configured provider also gets a receipt secret (``whsec_…``): the provider signs its
callbacks to this tenant (delivery receipts, inbound messages) with it; channels sent through
the same provider share one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from marshmallow import Schema, ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from almacen.gateway.db import utcnow
from almacen.gateway.errors import UnprocessableError, marshmallow_errors
from almacen.gateway.webhooks.signing import new_secret
from almacen.gateway.webhooks.targets import Network, TargetRefusedError, check_target

from ..template_tables import ChannelCredential
from .interfaces import ChannelNotConfigured, ChannelProvider
from .registry import providers

__all__ = [
    "configured_channels",
    "delete_channel",
    "find_channel",
    "provider_for",
    "public_settings",
    "put_channel",
    "receipt_secret",
]


def _check_session(session: Session, tenant_id: str) -> None:
    if session.info.get("tenant_id") != tenant_id:
        raise RuntimeError("channel credentials need a session open for their tenant")


def public_settings(provider: ChannelProvider, credentials: Mapping[str, Any]) -> dict[str, Any]:
    """The credentials' fields the provider's schema marks ``public`` (never a secret)."""
    schema: Schema = provider.credentials_schema()
    return {
        name: credentials.get(name)
        for name, field in schema.fields.items()
        if field.metadata.get("public") is True and name in credentials
    }


def _check_urls(loaded: Mapping[str, Any], allowed: Sequence[Network]) -> None:
    # The SSRF guard of event webhooks, for every http(s) URL a provider will call: a tenant
    # must not make the server POST to its own network. (Checked when stored; providers
    # do not follow redirects.)
    for name, value in loaded.items():
        if isinstance(value, str) and value.lower().startswith(("http://", "https://")):
            try:
                check_target(value, allowed=allowed)
            except TargetRefusedError as exc:
                raise TargetRefusedError(exc.detail, pointer=f"/credentials/{name}") from None


def put_channel(
    session: Session,
    *,
    channel: str,
    provider: str,
    credentials: Any,
    allowed: Sequence[Network] = (),
) -> tuple[ChannelCredential, str | None]:
    """Send ``channel`` through ``provider`` with ``credentials`` (replacing any before).

    :param allowed: private networks the provider's URLs may reach
        (``webhook_allowed_networks``); any other URL must reach a public address.

    :return: the row, and the receipt secret when a new one was issued (shown once).
    :raises UnprocessableError: an unknown provider, one of another channel, or credentials
        its schema refuses (every fault with its pointer under ``/credentials``).
    """
    known = providers(session)
    chosen = known.get(provider)
    if chosen is None:
        names = ", ".join(sorted(p.name for p in known.values() if p.channel == channel))
        raise UnprocessableError(
            f"unknown provider {provider!r}",
            errors=[{"pointer": "/provider", "detail": f"one of: {names or 'none'}"}],
        )
    if chosen.channel != channel:
        raise UnprocessableError(
            f"provider {provider!r} serves {chosen.channel}, not {channel}",
            errors=[{"pointer": "/provider", "detail": f"serves {chosen.channel}"}],
        )
    if not isinstance(credentials, Mapping):
        raise UnprocessableError(
            "credentials must be an object",
            errors=[{"pointer": "/credentials", "detail": "must be an object"}],
        )
    try:
        loaded = chosen.credentials_schema().load(credentials)
    except ValidationError as exc:
        raise UnprocessableError(
            "The credentials are not valid for this provider.",
            errors=marshmallow_errors(exc.messages, "/credentials"),
        ) from None
    _check_urls(loaded, allowed)
    try:
        json.dumps(loaded)
    except (TypeError, ValueError):
        raise UnprocessableError(
            f"provider {provider!r} loads credentials that cannot be stored as JSON",
            errors=[{"pointer": "/credentials", "detail": "not storable"}],
        ) from None
    row = find_channel(session, channel)
    issued: str | None = None
    secret = session.scalars(
        select(ChannelCredential.receipt_secret).where(
            ChannelCredential.provider == provider, ChannelCredential.channel != channel
        )
    ).first()
    if secret is None:
        secret = row.receipt_secret if row is not None and row.provider == provider else None
    if secret is None:
        secret = issued = new_secret()
    now = utcnow()
    if row is None:
        row = ChannelCredential(channel=channel, created_at=now)
        session.add(row)
    row.provider = provider
    row.credentials = dict(loaded)
    row.receipt_secret = secret
    row.updated_at = now
    session.flush()
    return row, issued


def find_channel(session: Session, channel: str) -> ChannelCredential | None:
    """The session's tenant's configuration of ``channel``, if any."""
    return session.scalars(
        select(ChannelCredential).where(ChannelCredential.channel == channel)
    ).first()


def delete_channel(session: Session, channel: str) -> bool:
    """Forget the tenant's credentials for ``channel``; whether there were any."""
    result = session.execute(delete(ChannelCredential).where(ChannelCredential.channel == channel))
    return bool(getattr(result, "rowcount", 0))


def provider_for(
    session: Session, tenant_id: str, channel: str
) -> tuple[ChannelProvider, Mapping[str, Any]]:
    """The provider that sends ``channel`` for the tenant, and the tenant's credentials.

    :raises ChannelNotConfigured: no credentials for the channel, or their provider is no
        longer installed.
    """
    _check_session(session, tenant_id)
    row = find_channel(session, channel)
    if row is None:
        raise ChannelNotConfigured(
            f"the tenant has no provider for {channel}; PUT /v1/notifications/channels/{channel}",
            errors=[{"pointer": "/channel", "detail": f"{channel} is not configured"}],
        )
    provider = providers(session).get(row.provider)
    if provider is None or provider.channel != channel:
        raise ChannelNotConfigured(
            f"the provider {row.provider!r} of {channel} is not installed",
            errors=[{"pointer": "/channel", "detail": f"provider {row.provider!r} is missing"}],
        )
    return provider, dict(row.credentials)


def configured_channels(session: Session, tenant_id: str) -> list[str]:
    """The channels the tenant has credentials for (whose provider is installed), sorted."""
    _check_session(session, tenant_id)
    installed = providers(session)
    rows = session.execute(select(ChannelCredential.channel, ChannelCredential.provider)).all()
    return sorted(
        channel
        for channel, provider in rows
        if provider in installed and installed[provider].channel == channel
    )


def receipt_secret(session: Session, tenant_id: str, provider: str) -> str:
    """The secret that signs ``provider``'s callbacks to the tenant.

    :raises ChannelNotConfigured: when the tenant sends nothing through ``provider``.
    """
    _check_session(session, tenant_id)
    secret = session.scalars(
        select(ChannelCredential.receipt_secret).where(ChannelCredential.provider == provider)
    ).first()
    if secret is None:
        raise ChannelNotConfigured(
            f"the tenant sends nothing through {provider!r}",
            errors=[{"pointer": "/provider", "detail": f"{provider} is not configured"}],
        )
    return str(secret)
