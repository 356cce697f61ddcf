"""Which language a message is in: Spanish or English, by function words and spelling.

Messages are short ("ok", "1234"), so a statistical detector is no better than counting the
small words each language cannot do without; a tie goes to Spanish, the seeds' first market.
"""

from __future__ import annotations

from .normalise import fold, normalise, tokens

__all__ = ["LANGUAGES", "detect_language"]

LANGUAGES: tuple[str, ...] = ("es", "en")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_ES = _words(
    """
    a al algo alguien aqui asi ayer bien buenas buenos cedula como con cual cuando cuanto cuotas
    de del deuda dia dias donde el ella ellos en era es esa ese eso esta estoy favor fin gracias
    hola hoy la las le lo los mal mas me mi mis mucho muy nada necesito ni no nos numero o para
    pago pague pagar pero plata poco por porque puedo que quien quiero se semana si sin soy su
    sus tambien tengo todo un una uno usted ustedes viernes lunes martes miercoles jueves sabado
    domingo ya yo mañana manana mes dinero saldo debo hablar persona asesor chao listo dale
    claro equivocado trabajo plan
    """
)
_EN = _words(
    """
    a about am an and any are at be but by can cant could did do does dont for from get got
    have how i i'm im in is it its just me my no not now of off ok on or owe paid pay please
    so that the them there this to too want was we what whats when where who why will with
    would yes you your yeah thanks thank hi hello hey bye friday monday tuesday wednesday
    thursday saturday sunday tomorrow today week month money balance much many talk person
    wrong number stop job plan ill i'll payment
    """
)
# Spelling only Spanish uses.
_ES_MARKS = frozenset("ñ¿¡áéíóú")


def detect_language(text: str) -> str:
    """``"es"`` or ``"en"``: the language whose common words the message uses more."""
    lowered = normalise(text)
    if any(char in _ES_MARKS for char in lowered):
        return "es"
    words = tokens(fold(lowered)) + [w for w in lowered.split() if "'" in w]
    es = sum(1 for w in words if w in _ES)
    en = sum(1 for w in words if w in _EN)
    return "en" if en > es else "es"
