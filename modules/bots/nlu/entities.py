"""Entities of one message: an amount, a date, a yes or a no, and the digits of an identity
answer. The dialogue decides which of them matters in its current state.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from text_to_num import alpha2digit

from .amounts import find_amount
from .dates import find_date
from .normalise import fold

__all__ = ["Entities", "extract_entities"]


@dataclass(frozen=True)
class Entities:
    """What a message says beyond its intent; None where it says nothing of the kind."""

    #: "ciento cincuenta mil", "150k", "$150.000", "one fifty", "150,50".
    amount: Decimal | None
    #: "el viernes", "next Friday", "fin de mes", "15/12", relative to the given today.
    date: datetime.date | None
    #: sí/si/claro/dale/ok/yes/yeah → True; no/nope/negativo → False.
    yes_no: bool | None
    #: the digits of an identity answer ("1234"; "cc 1.020.333" → "1020333").
    digits: str | None
    #: the normalised text (lower case, accents stripped).
    text: str


_YES = (
    "si",
    "sii",
    "sip",
    "claro",
    "dale",
    "ok",
    "okay",
    "okey",
    "oki",
    "listo",
    "de acuerdo",
    "correcto",
    "exacto",
    "afirmativo",
    "va",
    "sale",
    "simon",
    "por supuesto",
    "asi es",
    "eso es",
    "confirmo",
    "esta bien",
    "perfecto",
    "aja",
    "yes",
    "yeah",
    "yea",
    "yep",
    "yup",
    "sure",
    "correct",
    "right",
    "that's right",
    "thats right",
    "of course",
    "absolutely",
    "confirmed",
    "i confirm",
    "definitely",
    "alright",
    "agreed",
    "deal",
    "k",
)
_NO = (
    "no",
    "nop",
    "nope",
    "nel",
    "nones",
    "negativo",
    "para nada",
    "incorrecto",
    "nah",
    "nay",
    "negative",
    "not really",
    "incorrect",
    "wrong",
    "never",
    "nunca",
    "no way",
    "claro que no",
    "of course not",
    "absolutely not",
)


def _phrases(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"^(?:{alternatives})(?:\s*[,.!]|\s+|$)")


_YES_RE = _phrases(_YES)
_NO_RE = _phrases(_NO)
_LEADING = re.compile(r"^[\s¡¿!?.,:;\-\"']+")
_REPEATED = re.compile(r"([a-z])\1+(?=\W|$)")
_DIGIT_RUN = re.compile(r"\d(?:[\d.,\-]|\s(?=\d))*\d|\d")


def _yes_no(folded: str) -> bool | None:
    """Yes or no when the message starts with one ("no, el sábado" is a no)."""
    text = _LEADING.sub("", folded)
    text = _REPEATED.sub(r"\1", text) if len(text) <= 12 else text  # "siii", "nooo"
    # "no" must be tested on the original too: "no" squeezes to itself, "nooo" to "no".
    if _NO_RE.match(text) and not _YES_RE.match(text):
        return False
    if _YES_RE.match(text):
        return not text.startswith(("claro que no", "of course not", "absolutely not"))
    return None


def _digits(folded: str, language: str) -> str | None:
    """The longest run of digits (separators and spaces between digits dropped)."""
    if not any(char.isdigit() for char in folded):
        folded = alpha2digit(folded, language)  # "uno dos tres cuatro"
    runs = [re.sub(r"\D", "", run) for run in _DIGIT_RUN.findall(folded)]
    runs = [run for run in runs if run]
    return max(runs, key=len) if runs else None


def extract_entities(text: str, *, language: str, today: datetime.date) -> Entities:
    """Every entity of ``text`` in ``language`` (``"es"``/``"en"``), dates relative to today."""
    folded = fold(text)
    found = find_date(folded, language=language, today=today)
    date = None
    without_date = folded
    if found is not None:
        date, (start, end) = found
        without_date = folded[:start] + " " * (end - start) + folded[end:]
    return Entities(
        amount=find_amount(without_date, language=language),
        date=date,
        yes_no=_yes_no(folded),
        digits=_digits(folded, language),
        text=folded,
    )
