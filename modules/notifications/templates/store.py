"""Stored templates: a new version on every save, the newest one rendered.

A template is named per tenant and kept per channel and locale; each save is checked (the
locale is known to CLDR, every part compiles in the sandbox, the parts suit the channel)
and becomes version n+1. Nothing is stored when a check fails.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from jinja2 import TemplateSyntaxError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from almacen.gateway.errors import ConflictError

from ..template_tables import MessageTemplate
from .errors import TemplateProblem
from .locales import locale_of, normalise_locale
from .sandbox import compiled

__all__ = [
    "TEXT_ONLY_CHANNELS",
    "delete_template",
    "find_template",
    "put_template",
    "template_versions",
    "templates",
]

#: Channels that carry plain text only: no subject, no HTML.
TEXT_ONLY_CHANNELS = frozenset({"sms", "whatsapp"})


def _compile_faults(parts: Mapping[str, str | None]) -> list[dict[str, str]]:
    faults = []
    for part, source in parts.items():
        if source is None:
            continue
        try:
            compiled(source, part == "html")
        except TemplateSyntaxError as exc:
            faults.append({"pointer": f"/{part}", "detail": f"line {exc.lineno}: {exc.message}"})
    return faults


def put_template(
    session: Session,
    *,
    name: str,
    channel: str,
    locale: str,
    text: str,
    subject: str | None = None,
    html: str | None = None,
    sample_data: Mapping[str, Any] | None = None,
    channels: Collection[str],
) -> MessageTemplate:
    """Store a new version of the template ``name`` for ``channel`` and ``locale``.

    :param channels: the channels some provider serves; another channel is refused.
    :raises TemplateProblem: listing every fault with its JSON pointer.
    :raises ConflictError: when another save took the same version number first.
    """
    faults: list[Mapping[str, Any]] = []
    if channel not in channels:
        known = ", ".join(sorted(channels))
        faults.append({"pointer": "/channel", "detail": f"unknown channel; one of {known}"})
    try:
        locale = normalise_locale(locale)
    except TemplateProblem as exc:
        faults += exc.errors
    if channel in TEXT_ONLY_CHANNELS:
        for part, value in (("subject", subject), ("html", html)):
            if value is not None:
                faults.append({"pointer": f"/{part}", "detail": f"{channel} carries text only"})
    elif channel == "email" and not subject:
        faults.append({"pointer": "/subject", "detail": "an e-mail needs a subject"})
    faults += _compile_faults({"subject": subject, "text": text, "html": html})
    if faults:
        raise TemplateProblem(
            "The template cannot be stored: " + faults[0]["detail"], errors=faults
        )
    newest = session.scalar(
        select(func.max(MessageTemplate.version)).where(
            MessageTemplate.name == name,
            MessageTemplate.channel == channel,
            MessageTemplate.locale == locale,
        )
    )
    row = MessageTemplate(
        name=name,
        channel=channel,
        locale=locale,
        version=(newest or 0) + 1,
        subject=subject,
        text=text,
        html=html,
        sample_data=dict(sample_data or {}),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise ConflictError(
            "Another version of this template was saved at the same time; send it again."
        ) from None
    return row


def find_template(
    session: Session, *, name: str, channel: str, locale: str, version: int | None = None
) -> MessageTemplate | None:
    """The newest (or the given) version of a template, for ``locale`` or else its language.

    ``es_CO`` falls back to a template stored for ``es``; the caller still formats for
    ``es_CO``.
    """
    wanted = locale_of(locale)
    for candidate in dict.fromkeys([str(wanted), wanted.language]):
        query = select(MessageTemplate).where(
            MessageTemplate.name == name,
            MessageTemplate.channel == channel,
            MessageTemplate.locale == candidate,
        )
        if version is not None:
            query = query.where(MessageTemplate.version == version)
        found = session.scalars(query.order_by(MessageTemplate.version.desc()).limit(1)).first()
        if found is not None:
            return found
    return None


def template_versions(
    session: Session, *, name: str, channel: str, locale: str
) -> list[MessageTemplate]:
    """Every version of one template, newest first."""
    return list(
        session.scalars(
            select(MessageTemplate)
            .where(
                MessageTemplate.name == name,
                MessageTemplate.channel == channel,
                MessageTemplate.locale == normalise_locale(locale),
            )
            .order_by(MessageTemplate.version.desc())
        )
    )


def templates(
    session: Session,
    *,
    name: str | None = None,
    channel: str | None = None,
    locale: str | None = None,
    limit: int = 500,
) -> list[MessageTemplate]:
    """The newest version of each of the tenant's templates, by name, channel and locale."""
    newest = (
        select(
            MessageTemplate.name,
            MessageTemplate.channel,
            MessageTemplate.locale,
            func.max(MessageTemplate.version).label("version"),
        )
        # Explicit, although the session scopes every query: the newest version is per tenant.
        .where(MessageTemplate.tenant_id == session.info.get("tenant_id"))
        .group_by(MessageTemplate.name, MessageTemplate.channel, MessageTemplate.locale)
        .subquery()
    )
    query = select(MessageTemplate).join(
        newest,
        (MessageTemplate.name == newest.c.name)
        & (MessageTemplate.channel == newest.c.channel)
        & (MessageTemplate.locale == newest.c.locale)
        & (MessageTemplate.version == newest.c.version),
    )
    if name is not None:
        query = query.where(MessageTemplate.name == name)
    if channel is not None:
        query = query.where(MessageTemplate.channel == channel)
    if locale is not None:
        query = query.where(MessageTemplate.locale == normalise_locale(locale))
    order = (MessageTemplate.name, MessageTemplate.channel, MessageTemplate.locale)
    return list(session.scalars(query.order_by(*order).limit(limit)))


def delete_template(session: Session, *, name: str, channel: str, locale: str) -> int:
    """Delete every version of one template; how many rows went."""
    result = session.execute(
        delete(MessageTemplate).where(
            MessageTemplate.name == name,
            MessageTemplate.channel == channel,
            MessageTemplate.locale == normalise_locale(locale),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
