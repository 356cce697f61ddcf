"""``/templates``: versioned templates per name, channel and locale, and their preview."""

from __future__ import annotations

from typing import Any

from almacen.gateway.errors import NotFoundError
from almacen.gateway.state import request_session

from ..channels.registry import channel_names
from ..template_tables import MessageTemplate
from ..templates import TemplateProblem, normalise_locale, render_parts
from ..templates.store import (
    delete_template,
    find_template,
    put_template,
    template_versions,
    templates,
)

__all__ = ["delete", "get", "preview", "put", "search", "versions"]


def _dump(row: MessageTemplate) -> dict[str, Any]:
    return {
        "name": row.name,
        "channel": row.channel,
        "locale": row.locale,
        "version": row.version,
        "subject": row.subject,
        "text": row.text,
        "html": row.html,
        "sample_data": row.sample_data,
        "created_at": row.created_at.isoformat(),
    }


def _not_found(name: str, channel: str, locale: str) -> NotFoundError:
    return NotFoundError(f"No template {name!r} for {channel} in {locale}.")


def put(name: str, channel: str, locale: str, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Store a new version (checked: locale, channel, parts compile); it is the one in force."""
    session = request_session()
    row = put_template(
        session,
        name=name,
        channel=channel,
        locale=locale,
        subject=body.get("subject"),
        text=body["text"],
        html=body.get("html"),
        sample_data=body.get("sample_data"),
        channels=channel_names(session),
    )
    return _dump(row), 201


def get(name: str, channel: str, locale: str, version: int | None = None) -> dict[str, Any]:
    """The newest version (or ``version``) of a template, stored for exactly ``locale``."""
    session = request_session()
    row = find_template(session, name=name, channel=channel, locale=locale, version=version)
    # Exactly this locale: a template stored for the language only is not this one.
    if row is None or row.locale != normalise_locale(locale):
        raise _not_found(name, channel, locale)
    return _dump(row)


def versions(name: str, channel: str, locale: str) -> dict[str, Any]:
    """Every version of a template, newest first."""
    rows = template_versions(request_session(), name=name, channel=channel, locale=locale)
    if not rows:
        raise _not_found(name, channel, locale)
    return {"items": [_dump(row) for row in rows]}


def search(
    name: str | None = None, channel: str | None = None, locale: str | None = None
) -> dict[str, Any]:
    """The newest version of each of the tenant's templates (at most 500)."""
    rows = templates(request_session(), name=name, channel=channel, locale=locale)
    return {"items": [_dump(row) for row in rows]}


def delete(name: str, channel: str, locale: str) -> tuple[None, int]:
    """Delete a template and all its versions."""
    if not delete_template(request_session(), name=name, channel=channel, locale=locale):
        raise _not_found(name, channel, locale)
    return None, 204


def preview(body: dict[str, Any]) -> dict[str, Any]:
    """Render a stored template (``name``) or a draft (``text``…) with sample data."""
    session = request_session()
    channel, locale = body["channel"], body["locale"]
    if "name" in body:
        row = find_template(
            session, name=body["name"], channel=channel, locale=locale, version=body.get("version")
        )
        if row is None:
            raise TemplateProblem.at(
                "/name", f"no template {body['name']!r} for {channel} in {locale}"
            )
        subject, text, html = row.subject, row.text, row.html
        data, version = body.get("data", row.sample_data), row.version
    elif "text" in body:
        subject, text, html = body.get("subject"), body["text"], body.get("html")
        data, version = body.get("data", {}), 0
    else:
        raise TemplateProblem.at("/name", "give a stored template's name, or a draft's text")
    rendered = render_parts(
        channel=channel,
        locale=locale,
        subject=subject,
        text=text,
        html=html,
        data=data,
        version=version,
    )
    answer: dict[str, Any] = {
        "subject": rendered.subject,
        "text": rendered.text,
        "html": rendered.html,
        "locale": rendered.locale,
        "template_version": rendered.template_version,
        "encoding": rendered.encoding,
        "segments": rendered.segments,
    }
    return answer
