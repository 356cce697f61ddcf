"""Recognising an opt-out in a debtor's reply, in English and Spanish.

Regulation F (12 CFR 1006.6(e)) and the TCPA let a consumer revoke consent "by any reasonable
means": the carrier keywords (STOP, QUIT, END, CANCEL, UNSUBSCRIBE, REVOKE, OPT OUT) and their
Spanish equivalents (BAJA, ALTO, CANCELAR), and free phrasing such as "no me escriban más" or
"please stop texting me". The text is compared without accents, case or punctuation.

What counts, and what does not (the choices, with the tests' table in
``tests/unit/notifications/test_contact_intent.py``):

- A keyword counts only when it is (nearly) the whole message: "STOP", "Baja por favor",
  "cancelar". Inside a sentence it usually means something else: "can I cancel my plan?",
  "quiero cancelar la deuda" (in Spanish, *to pay it off*), "the end of the month".
- A request to stop contacting counts ("stop texting me", "dejen de llamarme", "no me
  escriban más", "unsubscribe me", "take me off your list", "ya no quiero mensajes").
- Unless it only restricts the time or place ("stop calling me at work? I can pay friday",
  "no me llamen en la mañana"): that is a request about *when*, not a revocation; it goes to
  the bot as an ordinary message (``notifications.message_received``), which can honour it.
- "No puedo pagar más" (I cannot pay any more) has no contact verb: not an opt-out.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["is_opt_out_intent", "normalise_text"]

#: Whole-message keywords (after fillers are dropped), normalised.
KEYWORDS = frozenset(
    {
        "stop",
        "stop all",
        "stopall",
        "stop it",
        "quit",
        "end",
        "cancel",
        "cancel all",
        "unsubscribe",
        "unsubscribe me",
        "revoke",
        "opt out",
        "optout",
        "remove",
        "remove me",
        "baja",
        "alto",
        "cancelar",
        "parar",
        "para",
        "basta",
        "detener",
        "salir",
        "no mas",
        "no mas mensajes",
    }
)
#: Words that may surround a keyword without changing it ("STOP please", "baja por favor").
FILLERS = frozenset(
    {
        "please",
        "pls",
        "plz",
        "now",
        "thanks",
        "thank",
        "you",
        "por",
        "favor",
        "porfa",
        "porfavor",
        "ya",
        "gracias",
        "dar",
        "de",
        "darme",
        "quiero",
        "la",
        "me",
        "ok",
    }
)
_CONTACT_EN = (
    r"(?:text|texting|txt|messag(?:e|es|ing)|call|calls|calling|phon(?:e|ing)|e-?mail(?:s|ing)?|"
    r"writ(?:e|ing)|send(?:ing)?|contact(?:ing)?|bother(?:ing)?|harass(?:ing)?|spam(?:ming)?)"
)
#: Spanish requests in the subjunctive/imperative ("no me escriban", "no me llames").
_ES_ASK = (
    r"(?:escrib(?:an|as|a)|llam(?:en|es|e)|contact(?:en|es|e)|mand(?:en|es|e)|envi(?:en|es|e)|"
    r"molest(?:en|es|e)|busqu(?:en|es|e)|fastidi(?:en|es|e)|acos(?:en|es|e)|marqu(?:en|es|e)|"
    r"texte(?:en|es|e))"
)
#: ... and in the infinitive, with an optional pronoun ("dejen de llamarme").
_ES_INF = (
    r"(?:escribir|llamar|contactar|mandar|enviar|molestar|buscar|fastidiar|acosar|marcar|"
    r"textear)(?:me|nos)?"
)
_THINGS = (
    r"(?:texts?|messages?|sms|e-?mails?|calls?|notifications?|whatsapps?|mensajes?|correos?|"
    r"llamadas?|notificaciones?|whatsapp)"
)
PHRASES = tuple(
    re.compile(pattern)
    for pattern in (
        # English
        rf"\bstop {_CONTACT_EN}\b",
        rf"\b(?:do not|dont|don t|never) {_CONTACT_EN}(?: me| us| this number)?\b",
        rf"\b(?:no more|not want any more|dont want any more|don t want any more) {_THINGS}\b",
        rf"\b(?:i )?(?:do not|dont|don t) want (?:to (?:get|receive) )?(?:any )?(?:more )?"
        rf"{_THINGS}\b",
        r"\bunsubscribe\b",
        r"\bopt(?:ing)? ?out\b",
        r"\b(?:remove|take) (?:me|my (?:number|email|e mail)) (?:off|from)\b",
        r"\bleave me alone\b",
        r"\brevoke (?:my )?consent\b",
        # Spanish
        rf"\bno (?:me|nos) {_ES_ASK}\b",
        rf"\bno (?:me |nos )?(?:vuelvan|vuelva|vuelvas) a {_ES_INF}\b",
        rf"\b(?:dejen|deje|deja|dejar) de {_ES_INF}\b",
        rf"\bno (?:quiero|deseo) (?:que me {_ES_ASK}|(?:recibir )?(?:mas )?{_THINGS}|"
        r"ser contactad[oa])\b",
        r"\b(?:dar|darme|den|denme|quiero la) de baja\b",
        r"\b(?:borr|elimin|saqu|quit)\w* (?:mi (?:numero|correo|telefono)|de (?:su|la|sus) "
        r"(?:lista|base))\b",
        r"\brevoco (?:mi )?(?:consentimiento|autorizacion)\b",
    )
)
#: Words that restrict when or where rather than revoke: the message is about timing.
QUALIFIERS = re.compile(
    r"\b(?:at work|at my work|at the office|at night|in the morning|before|after|until|on "
    r"(?:weekends|sundays|saturdays)|during|en (?:el|mi) trabajo|en la oficina|en la (?:noche|"
    r"manana|tarde)|de noche|antes de|despues de|hasta (?:el|las|que)|los (?:domingos|fines|"
    r"sabados)|fin de semana|durante)\b"
)


def normalise_text(text: str) -> str:
    """Lower case, accents dropped, apostrophes joined, other punctuation as single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = re.sub(r"['’`]", "", plain)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


def is_opt_out_intent(text: str) -> bool:
    """Whether ``text`` asks to stop being contacted on the channel it came from.

    See the module docstring for what counts and what does not.
    """
    plain = normalise_text(text)
    if not plain:
        return False
    words = [word for word in plain.split() if word not in FILLERS]
    if " ".join(words) in KEYWORDS or plain in KEYWORDS:
        return True
    if not any(phrase.search(plain) for phrase in PHRASES):
        return False
    return QUALIFIERS.search(plain) is None
