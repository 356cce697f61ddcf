"""Almacén paylink: a ``payment_link`` intent for the bots module.

An example third-party plugin. It adds no module of its own: it implements the bots
module's ``almacen_bots_intents`` hook with one intent whose handler answers with a link to
pay now, sent on the conversation's channel when the tenant has notifications.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable

from almacen import AlmacenError, hookimpl
from almacen.modules.bots import IntentContext, IntentReply, PluginIntent

__all__ = ["PAYMENT_LINK", "almacen_bots_intents", "link_for", "send_link"]

_TEXT = {
    "es": "Puede pagar ahora mismo en este enlace: {link}",
    "en": "You can pay right now at this link: {link}",
}


def link_for(account_id: str | None) -> str:
    """The payment page of an account."""
    base = os.environ.get("ALMACEN_PAYLINK_BASE_URL", "https://pay.example.com")
    return f"{base.rstrip('/')}/{account_id or ''}"


def send_link(context: IntentContext) -> IntentReply:
    """Answer with the link; send it on the channel too when the tenant has notifications."""
    text = _TEXT.get(context.locale, _TEXT["en"]).format(link=link_for(context.account_id))
    field = {"sms": "phone", "whatsapp": "whatsapp", "email": "email"}.get(context.channel)
    if context.address and field:
        request = {
            "channel": context.channel,
            "recipient": {field: context.address},
            "template": context.settings.get("reply_template", "bot_reply"),
            "data": {"text": text},
            "idempotency_key": f"paylink-{context.conversation_id}",
        }
        # Without notifications (or its template) the reply itself carries the link.
        with contextlib.suppress(AlmacenError):
            context.call("notifications.send", request)
    return IntentReply(text=text)


PAYMENT_LINK = PluginIntent(
    name="payment_link",
    examples={
        "es": [
            "mándame el link para pagar",
            "envíame el enlace de pago",
            "quiero el link de pago",
            "pásame el enlace para pagar en línea",
            "¿me mandas un link para pagar?",
            "necesito el enlace de pago",
            "dame el link de pago por favor",
            "¿dónde está el link para pagar?",
            "mándame un enlace para pagar con tarjeta",
            "quiero pagar por internet, mándame el link",
        ],
        "en": [
            "send me the payment link",
            "can I get a link to pay",
            "text me a pay link",
            "send me a link so I can pay online",
            "I want the payment link",
            "where is the link to pay",
            "give me the pay link please",
            "email me a payment link",
            "send a link to pay by card",
            "I need a link to pay online",
        ],
    },
    handler=send_link,
)


@hookimpl
def almacen_bots_intents() -> Iterable[PluginIntent]:
    """Offer the ``payment_link`` intent."""
    return [PAYMENT_LINK]
