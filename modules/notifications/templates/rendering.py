"""Rendering a stored (or a draft) template into a message for one recipient.

Every failure is a :class:`TemplateProblem` (422) naming where: ``/locale``, ``/name``,
``/data/<variable>`` for a missing variable, ``/subject``, ``/text`` or ``/html`` for a part
that breaks the sandbox or cannot format a value. Nothing of Python's internals is ever put
in a message: the sandbox refuses, and the error says only what was refused.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from jinja2 import TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from sqlalchemy.orm import Session

from .errors import TemplateProblem
from .formatting import FilterError, Formatting, formatting
from .locales import locale_of
from .sandbox import render_source
from .sms import sms_encoding
from .store import TEXT_ONLY_CHANNELS, find_template

__all__ = ["RenderedMessage", "render_message", "render_parts"]

_MISSING = re.compile(r"^'([^']+)' is undefined$")


@dataclasses.dataclass(frozen=True)
class RenderedMessage:
    """A message ready for its channel: parts rendered, and for SMS its encoding."""

    subject: str | None
    text: str
    html: str | None
    locale: str
    template_version: int
    #: ``GSM-7`` or ``UCS-2`` (SMS only).
    encoding: str | None
    #: How many SMS segments the text takes (SMS only).
    segments: int | None


def _render(source: str, data: Mapping[str, Any], *, part: str) -> str:
    try:
        return render_source(source, data, html=part == "html")
    except SecurityError as exc:
        detail = f"the template reached outside its data ({exc.message or 'refused'})"
        raise TemplateProblem.at(f"/{part}", detail) from None
    except UndefinedError as exc:
        missing = _MISSING.match(exc.message or "")
        if missing:
            name = missing.group(1)
            raise TemplateProblem.at(f"/data/{name}", f"missing variable {name!r}") from None
        raise TemplateProblem.at(f"/{part}", f"missing value: {exc.message}") from None
    except TemplateSyntaxError as exc:
        raise TemplateProblem.at(f"/{part}", f"line {exc.lineno}: {exc.message}") from None
    except FilterError as exc:
        raise TemplateProblem.at(f"/{part}", str(exc)) from None
    except TemplateError as exc:
        raise TemplateProblem.at(f"/{part}", f"the template failed: {exc.message}") from None
    except Exception as exc:  # the template is the tenant's code: its errors are theirs
        detail = f"the template failed: {type(exc).__name__}: {str(exc)[:200]}"
        raise TemplateProblem.at(f"/{part}", detail) from None


def render_parts(
    *,
    channel: str,
    locale: str,
    subject: str | None,
    text: str,
    html: str | None,
    data: Mapping[str, Any],
    version: int = 0,
) -> RenderedMessage:
    """Render a template's parts for ``locale`` (a draft's at preview, a stored one's at send).

    ``data.currency`` is the currency of amounts that name none; ``data.time_zone`` the zone
    of times.

    :raises TemplateProblem: see the module's docstring.
    """
    where = locale_of(locale)
    currency = data.get("currency")
    zone = data.get("time_zone")
    with formatting(
        Formatting(
            locale=where,
            currency=currency if isinstance(currency, str) else None,
            time_zone=zone if isinstance(zone, str) else None,
        )
    ):
        rendered_subject = _render(subject, data, part="subject") if subject is not None else None
        rendered_text = _render(text, data, part="text")
        rendered_html = _render(html, data, part="html") if html is not None else None
    if rendered_subject is not None:
        # A subject is one header line: a line break in it would start another header.
        rendered_subject = " ".join(rendered_subject.split())
    sms = sms_encoding(rendered_text) if channel == "sms" else None
    if channel in TEXT_ONLY_CHANNELS:
        rendered_subject = rendered_html = None
    return RenderedMessage(
        subject=rendered_subject,
        text=rendered_text,
        html=rendered_html,
        locale=str(where),
        template_version=version,
        encoding=sms.encoding if sms else None,
        segments=sms.segments if sms else None,
    )


def render_message(
    session: Session,
    tenant_id: str,
    *,
    template: str,
    channel: str,
    locale: str,
    data: Mapping[str, Any],
    version: int | None = None,
) -> RenderedMessage:
    """Render the newest version of the tenant's template ``template`` for one message.

    :param session: open for ``tenant_id``.
    :param locale: the recipient's; a template stored for its language serves too.
    :raises TemplateProblem: unknown locale (``/locale``) or template (``/template``), a
        missing variable (``/data/<name>``), a sandbox violation or unformattable value.
    """
    if session.info.get("tenant_id") != tenant_id:
        raise RuntimeError("render_message needs a session open for the tenant it renders for")
    locale_of(locale)
    stored = find_template(session, name=template, channel=channel, locale=locale, version=version)
    if stored is None:
        which = f"version {version} of " if version is not None else ""
        raise TemplateProblem.at(
            "/template", f"no {which}template {template!r} for {channel} in {locale}"
        )
    return render_parts(
        channel=channel,
        locale=locale,
        subject=stored.subject,
        text=stored.text,
        html=stored.html,
        data=data,
        version=stored.version,
    )
