"""The bot's words: shipped response templates per locale, tenant overrides, rendering.

Templates are Jinja2 run in a sandbox (a tenant's text may not reach Python objects); money
and dates are formatted with Babel for the conversation's locale.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, get_decimal_symbol
from jinja2 import StrictUndefined, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

__all__ = [
    "DEFAULTS",
    "LOCALES",
    "TemplateError",
    "check_template",
    "format_day",
    "format_money",
    "render",
]

LOCALES = ("es", "en")
_BABEL_LOCALE = {"es": "es_CO", "en": "en_US"}
_DAY_FORMAT = {"es": "EEEE d 'de' MMMM", "en": "EEEE, MMMM d"}

DEFAULTS: Mapping[str, Mapping[str, str]] = {
    "es": {
        "opening": "¡Hola! Soy {{ bot_name }}, {{ 'el' }} asistente virtual de {{ company }}. "
        "{{ disclosure }} Para proteger su información, ¿me indica {{ challenge }}?",
        "challenge.account_ref_last4": "los últimos 4 caracteres de la referencia de su cuenta",
        "challenge.account_ref": "la referencia de su cuenta",
        "challenge.debtor_ref_last4": "los últimos 4 caracteres de su número de cliente",
        "challenge.debtor_ref": "su número de cliente",
        "challenge.phone_last4": "los últimos 4 dígitos de su teléfono registrado",
        "identity_needed": "Antes de hablar de su cuenta necesito verificar su identidad. "
        "¿Me indica {{ challenge }}?",
        "identity_failed": "Ese dato no coincide. Le quedan {{ left }} intento(s). "
        "¿Me indica {{ challenge }}?",
        "identity_locked": "No pude verificar su identidad. Por seguridad, una persona de "
        "nuestro equipo continuará la atención.",
        "verified": "Gracias, verifiqué su identidad. ¿En qué {{ 'le' if formal else 'te' }} "
        "ayudo? Puedo decirle su saldo, registrar un compromiso de pago o proponerle un plan.",
        "wrong_person": "Disculpe la molestia. Tomamos nota y no volveremos a escribirle por "
        "este asunto.",
        "who_are_you": "Soy {{ bot_name }}, el asistente virtual de {{ company }}.",
        "greet": "¡Hola! ¿En qué {{ 'le' if formal else 'te' }} puedo ayudar?",
        "balance": "Su saldo total es {{ total }}{% if dpd %}, con {{ dpd }} días de atraso"
        "{% endif %}. ¿Desea pagar hoy, acordar una fecha o un plan de pagos?",
        "balance_unavailable": "En este momento no puedo consultar su saldo por este medio.",
        "ask_date": "¿Qué día podría pagar {{ amount }}?",
        "ask_amount": "¿Cuánto podría pagar{% if date %} el {{ date }}{% endif %}?",
        "read_back": "¿Confirma que pagará {{ amount }} el {{ date }}?",
        "date_past": "Esa fecha ya pasó. ¿Qué día podría pagar?",
        "promise_captured": "Listo, registré su compromiso de pagar {{ amount }} el {{ date }}. "
        "¿Algo más?",
        "promise_declined": "Entendido. ¿Qué monto y qué fecha le sirven?",
        "promise_unavailable": "No puedo registrar compromisos de pago por este medio.",
        "offer": "Le puedo ofrecer {{ label }}: {{ detail }}. ¿Lo acepta?",
        "offer_unmet": "Ese monto no está dentro de lo que puedo ofrecer, pero le propongo "
        "{{ label }}: {{ detail }}. ¿Lo acepta?",
        "offer_detail_lump": "un pago de {{ amount }}",
        "offer_detail_plan": "{{ count }} cuotas de {{ amount }}",
        "offer_accepted": "Perfecto, quedó registrado: {{ label }}. ¿Algo más?",
        "offer_needs_approval": "Esa propuesta necesita la aprobación de una persona de "
        "nuestro equipo; le paso su caso.",
        "offer_declined": "Entendido. ¿Cuánto podría pagar y cuándo?",
        "offers_unavailable": "No puedo proponer planes ni descuentos por este medio.",
        "already_paid": "Gracias por avisar. Una persona verificará su pago y le confirmará.",
        "dispute": "Entiendo que no está de acuerdo con esta deuda. Registré su reclamo y una "
        "persona lo revisará.",
        "hardship": "Lamento su situación. Una persona de nuestro equipo buscará con usted la "
        "mejor opción.",
        "handover": "Le comunico con una persona de nuestro equipo.",
        "handover_after_hours": "Nuestro equipo atiende de {{ start }} a {{ end }}; le "
        "contactarán en ese horario.",
        "opt_out": "Entendido, no volveremos a escribirle por este medio.",
        "bye": "Gracias por su tiempo. ¡Hasta pronto!",
        "not_understood": "Disculpe, no le entendí. ¿Puede decirlo de otra forma?",
        "max_turns": "Para ayudarle mejor, le paso con una persona de nuestro equipo.",
        "no_account": "No encuentro una cuenta asociada a este contacto; le paso con una persona.",
        "ended": "Esta conversación terminó. Escríbanos de nuevo cuando lo necesite.",
        "in_handover": "Una persona de nuestro equipo continuará la atención.",
        "cannot": "Eso no lo puedo hacer por este medio.",
    },
    "en": {
        "opening": "Hi! I am {{ bot_name }}, {{ company }}'s virtual assistant. {{ disclosure }}"
        " To protect your information, could you tell me {{ challenge }}?",
        "challenge.account_ref_last4": "the last 4 characters of your account reference",
        "challenge.account_ref": "your account reference",
        "challenge.debtor_ref_last4": "the last 4 characters of your customer number",
        "challenge.debtor_ref": "your customer number",
        "challenge.phone_last4": "the last 4 digits of your phone number on file",
        "identity_needed": "Before we talk about your account I need to verify your identity. "
        "Could you tell me {{ challenge }}?",
        "identity_failed": "That does not match. You have {{ left }} attempt(s) left. "
        "Could you tell me {{ challenge }}?",
        "identity_locked": "I could not verify your identity. For your security, a person "
        "from our team will take over.",
        "verified": "Thank you, your identity is verified. How can I help? I can tell you "
        "your balance, record a promise to pay or offer a plan.",
        "wrong_person": "Sorry to have bothered you. We have noted it and will not write "
        "to you about this again.",
        "who_are_you": "I am {{ bot_name }}, {{ company }}'s virtual assistant.",
        "greet": "Hello! How can I help?",
        "balance": "Your total balance is {{ total }}{% if dpd %}, {{ dpd }} days past due"
        "{% endif %}. Would you like to pay today, agree a date or a payment plan?",
        "balance_unavailable": "I cannot look up your balance here right now.",
        "ask_date": "On what day could you pay {{ amount }}?",
        "ask_amount": "How much could you pay{% if date %} on {{ date }}{% endif %}?",
        "read_back": "Do you confirm you will pay {{ amount }} on {{ date }}?",
        "date_past": "That date has passed. On what day could you pay?",
        "promise_captured": "Done: I recorded your promise to pay {{ amount }} on {{ date }}. "
        "Anything else?",
        "promise_declined": "Understood. What amount and date would work for you?",
        "promise_unavailable": "I cannot record promises to pay here.",
        "offer": "I can offer {{ label }}: {{ detail }}. Do you accept?",
        "offer_unmet": "That amount is not within what I can offer, but I can propose "
        "{{ label }}: {{ detail }}. Do you accept?",
        "offer_detail_lump": "one payment of {{ amount }}",
        "offer_detail_plan": "{{ count }} instalments of {{ amount }}",
        "offer_accepted": "Great, it is recorded: {{ label }}. Anything else?",
        "offer_needs_approval": "That proposal needs a person's approval; I am passing your "
        "case on.",
        "offer_declined": "Understood. How much could you pay, and when?",
        "offers_unavailable": "I cannot offer plans or discounts here.",
        "already_paid": "Thanks for letting us know. A person will check your payment and confirm.",
        "dispute": "I understand you disagree with this debt. I recorded your dispute and a "
        "person will review it.",
        "hardship": "I am sorry to hear that. A person from our team will look for the best "
        "option with you.",
        "handover": "I am passing you to a person from our team.",
        "handover_after_hours": "Our team works from {{ start }} to {{ end }}; they will "
        "contact you then.",
        "opt_out": "Understood, we will not write to you here again.",
        "bye": "Thank you for your time. Goodbye!",
        "not_understood": "Sorry, I did not understand. Could you say it another way?",
        "max_turns": "To help you better, I am passing you to a person from our team.",
        "no_account": "I cannot find an account for this contact; I am passing you to a person.",
        "ended": "This conversation has ended. Write to us again whenever you need.",
        "in_handover": "A person from our team will continue with you.",
        "cannot": "I cannot do that here.",
    },
}

_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


class TemplateError(ValueError):
    """Raised when a tenant's template does not compile or render; ``detail`` says why."""


@functools.lru_cache(maxsize=2048)
def _compiled(text: str) -> Any:
    return _env.from_string(text)


def check_template(text: str) -> None:
    """Compile ``text``. :raises TemplateError: when it is not a valid template."""
    try:
        _compiled(text)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"line {exc.lineno}: {exc.message}") from None


def render(text: str, context: Mapping[str, Any]) -> str:
    """Render one template with ``context``; a tenant's broken template raises TemplateError."""
    try:
        return str(_compiled(text).render(**context)).strip()
    except Exception as exc:  # a sandbox refusal, an undefined name, a filter error
        raise TemplateError(str(exc)) from None


def format_money(amount: Decimal, currency: str, locale: str) -> str:
    """``$150.000`` or ``$1.063,56`` in Spanish (Colombia); ``COP150,000`` in English.

    Cents are always shown when there are any (a read-back must be exact); whole amounts
    drop the ``,00``.
    """
    babel_locale = _BABEL_LOCALE.get(locale, "en_US")
    text = str(format_currency(amount, currency, locale=babel_locale, currency_digits=False))
    if amount == amount.to_integral_value():
        zeros = get_decimal_symbol(babel_locale) + "00"
        text = text.replace(zeros, "", 1)
    return text


def format_day(day: dt.date, locale: str) -> str:
    """``viernes 27 de noviembre`` / ``Friday, November 27``."""
    return str(format_date(day, _DAY_FORMAT.get(locale, "yyyy-MM-dd"), locale=locale))
