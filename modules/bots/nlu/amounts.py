"""Amounts of money in what people type: "$150.000", "150k", "150 mil", "ciento cincuenta mil",
"one fifty", "1,500.50", "2 palos". Always :class:`~decimal.Decimal`, never float.

Separators: with both "." and "," the last one is the decimal mark; a single separator
followed by exactly three digits groups thousands ("150.000", "150,000"), except "." in
English ("1.500" is one and a half dollars there); several of the same separator group
thousands. Numbers that count something else (cuotas, months, days, percent) or identify
someone (cédula, last four, zip) are not amounts.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from text_to_num import alpha2digit

__all__ = ["find_amount", "parse_number"]

_MULTIPLIERS: dict[str, Decimal] = {
    "k": Decimal(1000),
    "mil": Decimal(1000),
    "miles": Decimal(1000),
    "luca": Decimal(1000),
    "lucas": Decimal(1000),
    "thousand": Decimal(1000),
    "grand": Decimal(1000),
    "millon": Decimal(1_000_000),
    "millones": Decimal(1_000_000),
    "million": Decimal(1_000_000),
    "millions": Decimal(1_000_000),
    "palo": Decimal(1_000_000),
    "palos": Decimal(1_000_000),
}
_MULTIPLIER = "|".join(sorted(_MULTIPLIERS, key=len, reverse=True))
_NUMBER = re.compile(
    rf"(?<![\w.,])(?P<number>\d(?:[\d.,]*\d)?)(?:\s*(?P<multiplier>{_MULTIPLIER})\b)?",
)
# A number followed by one of these counts or measures something else.
_NOT_MONEY = re.compile(
    r"\s*(?:%|por\s*(?:ciento|100)\b|percent|cuotas?|pagos?|payments?|installments?|meses|mes\b|months?"
    r"|dias|dia\b|days?|semanas?|weeks?|anos|years?|quincenas?|veces|times|digitos|digits"
    r"|de\s+(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre"
    r"|noviembre|diciembre))",
)
# Words that make the digits in a message an identity answer, not money.
_IDENTITY = re.compile(
    r"\b(?:cedula|cc|c\.c\.|documento|identificacion|nit|curp|rfc|ultimos|termina|ssn|social"
    r"|last\s+(?:4|four)|ends?\s+in|ending|zip|postal|dob|born|naci|nacimiento|birth|id)\b",
)
_ONES = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
_TENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
# "one fifty" (150), "two twenty five" (225), "nine ninety-nine" (999): how prices are said.
_SPOKEN_PRICE = re.compile(
    rf"\b(?P<hundreds>{'|'.join(_ONES)})\s+(?P<tens>{'|'.join(_TENS)})"
    rf"(?:[\s-](?P<ones>{'|'.join(_ONES)}))?\b(?!\s+(?:hundred|thousand|million))",
)
_PERCENT = re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:%|por\s*ciento\b|percent\b)")
_HALF_MILLION = re.compile(r"\b(?:medio\s+millon|half\s+a\s+million)\b")


def _spoken_prices(text: str) -> str:
    def value(match: re.Match[str]) -> str:
        tens = _TENS[match["tens"]]
        ones = _ONES[match["ones"]] if match["ones"] and tens >= 20 else 0
        return str(_ONES[match["hundreds"]] * 100 + tens + ones)

    return _SPOKEN_PRICE.sub(value, text)


def parse_number(raw: str, *, language: str) -> Decimal | None:
    """A written number ("150.000", "1,500.50", "150,5") as a Decimal; None if malformed."""
    dots, commas = raw.count("."), raw.count(",")
    decimal_mark: str | None = None
    if dots and commas:
        decimal_mark = "." if raw.rfind(".") > raw.rfind(",") else ","
    elif dots or commas:
        mark = "." if dots else ","
        tail = raw.rsplit(mark, 1)[1]
        if (dots or commas) == 1 and (len(tail) != 3 or (language == "en" and mark == ".")):
            decimal_mark = mark
    if decimal_mark is not None:
        whole, _, fraction = raw.rpartition(decimal_mark)
        digits = re.sub(r"[.,]", "", whole) + "." + fraction
    else:
        digits = re.sub(r"[.,]", "", raw)
    try:
        return Decimal(digits)
    except InvalidOperation:
        return None


def _expanded(match: re.Match[str], language: str) -> str:
    """A number with a multiplier written out as plain digits; others left as they are."""
    if not match["multiplier"]:
        return match[0]
    value = parse_number(match["number"], language=language)
    if value is None:
        return match[0]
    return f"{(value * _MULTIPLIERS[match['multiplier']]).normalize():f}"


def find_amount(folded: str, *, language: str) -> Decimal | None:
    """The first amount of money in folded text (dates already blanked out), or None."""
    if _IDENTITY.search(folded):
        return None
    text = _HALF_MILLION.sub("500000", _PERCENT.sub(" ", folded))
    if language == "en":
        text = _spoken_prices(text)
    # "150 mil" must become 150000 before alpha2digit reads "mil" as a thousand of its own.
    text = _NUMBER.sub(lambda m: _expanded(m, language), text)
    text = alpha2digit(text, language)
    for match in _NUMBER.finditer(text):
        if _NOT_MONEY.match(text, match.end()) and not match["multiplier"]:
            continue
        value = parse_number(match["number"], language=language)
        if value is None:
            continue
        if match["multiplier"]:
            value *= _MULTIPLIERS[match["multiplier"]]
        if value > 0:
            return value.quantize(Decimal(1)) if value == value.to_integral_value() else value
    return None
