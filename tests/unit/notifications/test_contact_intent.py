"""Opt-out intent, English and Spanish: what revokes consent and what only looks like it.

Decisions on the borderline (also in ``contact/intent.py``): a request about *when or where*
("stop calling me at work? I can pay friday") is not a revocation of the channel and goes to
the bot; a keyword inside a sentence with another meaning ("quiero cancelar la deuda", which
means paying it off) is not an opt-out; "no puedo pagar más" has no contact verb.
"""

from __future__ import annotations

import pytest

from almacen.modules.notifications.contact import is_opt_out_intent

OPT_OUTS = [
    "STOP",
    "stop",
    "Stop.",
    "STOP!!!",
    "stop please",
    "QUIT",
    "END",
    "CANCEL",
    "UNSUBSCRIBE",
    "Unsubscribe me",
    "REVOKE",
    "OPT OUT",
    "opt-out",
    "STOPALL",
    "BAJA",
    "baja por favor",
    "Dar de baja",
    "ALTO",
    "CANCELAR",
    "no me escriban más",
    "No me escriban mas",
    "NO ME ESCRIBAN MÁS!!!",
    "no me llamen",
    "Por favor no me vuelvan a escribir",
    "dejen de llamarme",
    "Dejen de molestarme por favor",
    "ya no quiero recibir mensajes",
    "No quiero que me contacten",
    "quiero darme de baja de sus mensajes",
    "bórrenme de su lista",
    "please stop texting me",
    "Stop sending me messages",
    "do not contact me again",
    "Don't call me anymore",
    "I don't want any more emails",
    "no more texts",
    "take me off your list",
    "leave me alone",
    "revoco mi autorización",
]

NOT_OPT_OUTS = [
    "no puedo pagar más",
    "No puedo pagar mas este mes",
    "stop calling me at work? I can pay friday",
    "no me llamen en el trabajo, pago el viernes",
    "quiero cancelar la deuda",
    "¿Puedo cancelar en dos cuotas?",
    "can I cancel my payment plan?",
    "I'll pay at the end of the month",
    "the interest is too high, alto el interés",
    "¿me pueden bajar la cuota?",
    "¿Cuál es mi saldo?",
    "ya pagué, no me llegó el recibo",
    "no me llamó nadie",
    "no envié el pago todavía",
    "Stopped by the bank today to pay",
    "No",
    "",
    "ok gracias",
    "I can't pay more than 50 a month",
]


@pytest.mark.parametrize("text", OPT_OUTS)
def test_recognised_as_opt_out(text: str) -> None:
    assert is_opt_out_intent(text) is True


@pytest.mark.parametrize("text", NOT_OPT_OUTS)
def test_look_alikes_are_not_opt_outs(text: str) -> None:
    assert is_opt_out_intent(text) is False


def test_the_table_is_large_enough() -> None:
    assert len(OPT_OUTS) + len(NOT_OPT_OUTS) >= 30
    assert len(set(OPT_OUTS) & set(NOT_OPT_OUTS)) == 0


@pytest.mark.parametrize(
    "text", ["No Me EsCrIbAn MáS", "NO ME ESCRIBAN MAS", "no   me escriban  más"]
)
def test_accents_case_and_spacing_do_not_matter(text: str) -> None:
    assert is_opt_out_intent(text) is True
