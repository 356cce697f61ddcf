"""Message templates: versioned per tenant, channel and locale; rendered in a sandbox.

Parts (subject, text, HTML) are Jinja2 in an immutable sandbox with strict variables; the
``money``, ``number``, ``date``, ``datetime`` and ``time`` filters format for the locale with
Babel (CLDR). SMS texts report their encoding (GSM-7 or UCS-2) and segments.
"""

from __future__ import annotations

from .errors import TemplateProblem as TemplateProblem
from .locales import normalise_locale as normalise_locale
from .rendering import RenderedMessage as RenderedMessage
from .rendering import render_message as render_message
from .rendering import render_parts as render_parts
from .sms import SmsEncoding as SmsEncoding
from .sms import sms_encoding as sms_encoding

__all__ = [
    "RenderedMessage",
    "SmsEncoding",
    "TemplateProblem",
    "normalise_locale",
    "render_message",
    "render_parts",
    "sms_encoding",
]
