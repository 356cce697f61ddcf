"""Entities: amounts, dates, yes/no and identity digits, each against a value worked out by hand.

Dates are relative to a fixed today, Wednesday 2026-11-25. "next Friday" is the Friday of
next week (2026-12-04), a bare weekday the next one after today (see ``nlu/dates.py``).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from almacen.modules.bots.nlu import extract_entities

TODAY = datetime.date(2026, 11, 25)
assert TODAY.weekday() == 2  # a Wednesday


def d(month: int, day: int, year: int = 2026) -> datetime.date:
    return datetime.date(year, month, day)


AMOUNTS_ES = [
    ("ciento cincuenta mil", "150000"),
    ("150k", "150000"),
    ("$150.000", "150000"),
    ("150.000 pesos", "150000"),
    ("150,50", "150.50"),
    ("1.500.000", "1500000"),
    ("$1.234.567,89", "1234567.89"),
    ("dos millones", "2000000"),
    ("un millón quinientos mil", "1500000"),
    ("medio millón", "500000"),
    ("2 palos", "2000000"),
    ("50 lucas", "50000"),
    ("150 mil", "150000"),
    ("1,5 millones", "1500000"),
    ("quinientos mil pesos", "500000"),
    ("le puedo abonar doscientos cincuenta mil", "250000"),
    ("mil pesos", "1000"),
    ("$ 200.000", "200000"),
    ("$1,500.00 mxn", "1500.00"),
]
AMOUNTS_EN = [
    ("one fifty", "150"),
    ("$150", "150"),
    ("150 dollars", "150"),
    ("$1,500.50", "1500.50"),
    ("1,500", "1500"),
    ("two hundred", "200"),
    ("a hundred and fifty", "150"),
    ("fifty bucks", "50"),
    ("2k", "2000"),
    ("one twenty five", "125"),
    ("$75.50", "75.50"),
    ("1.5k", "1500"),
    ("three thousand", "3000"),
    ("i can pay 150 on friday", "150"),
    ("nine ninety-nine", "999"),
]


@pytest.mark.parametrize(("text", "expected"), AMOUNTS_ES)
def test_spanish_amounts(text: str, expected: str) -> None:
    amount = extract_entities(text, language="es", today=TODAY).amount
    assert isinstance(amount, Decimal)
    assert amount == Decimal(expected)


@pytest.mark.parametrize(("text", "expected"), AMOUNTS_EN)
def test_english_amounts(text: str, expected: str) -> None:
    amount = extract_entities(text, language="en", today=TODAY).amount
    assert isinstance(amount, Decimal)
    assert amount == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("quiero pagar en 6 cuotas", "es"),
        ("te pago el 50%", "es"),
        ("el 60 por ciento", "es"),
        ("cc 1.020.333", "es"),
        ("los ultimos 4 son 5678", "es"),
        ("the last four are 1234", "en"),
        ("can i do 3 payments", "en"),
        ("en 3 dias", "es"),
        ("pago el 15", "es"),
        ("hola", "es"),
    ],
)
def test_numbers_that_are_not_money(text: str, language: str) -> None:
    assert extract_entities(text, language=language, today=TODAY).amount is None


DATES_ES = [
    ("el viernes", d(11, 27)),
    ("el lunes", d(11, 30)),
    ("el miércoles", d(12, 2)),  # today is Wednesday: the next one
    ("este sábado", d(11, 28)),
    ("el domingo", d(11, 29)),
    ("el proximo jueves", d(11, 26)),
    ("el otro viernes", d(12, 4)),
    ("mañana", d(11, 26)),
    ("manana sin falta", d(11, 26)),
    ("pasado mañana", d(11, 27)),
    ("hoy", d(11, 25)),
    ("fin de mes", d(11, 30)),
    ("a finales de mes", d(11, 30)),
    ("fin de mes que viene", d(12, 31)),
    ("en la quincena", d(11, 30)),
    ("la otra quincena", d(12, 15)),
    ("a principios de mes", d(12, 1)),
    ("el 15", d(12, 15)),
    ("el dia 28", d(11, 28)),
    ("el 25", d(11, 25)),
    ("15/12", d(12, 15)),
    ("3/1", d(1, 3, 2027)),
    ("en 3 días", d(11, 28)),
    ("en una semana", d(12, 2)),
    ("la otra semana", d(12, 2)),
    ("el 5 de diciembre", d(12, 5)),
    ("el 2 de enero", d(1, 2, 2027)),
    ("puedo pagar 150 mil el viernes", d(11, 27)),
]
DATES_EN = [
    ("friday", d(11, 27)),
    ("this friday", d(11, 27)),
    ("next friday", d(12, 4)),
    ("next monday", d(11, 30)),
    ("on monday", d(11, 30)),
    ("tomorrow", d(11, 26)),
    ("the day after tomorrow", d(11, 27)),
    ("today", d(11, 25)),
    ("end of the month", d(11, 30)),
    ("on the 15th", d(12, 15)),
    ("the 30th", d(11, 30)),
    ("12/15", d(12, 15)),
    ("1/3", d(1, 3, 2027)),
    ("december 5th", d(12, 5)),
    ("Dec 24", d(12, 24)),
    ("in 3 days", d(11, 28)),
    ("in two weeks", d(12, 9)),
    ("next week", d(12, 2)),
    ("next month", d(12, 1)),
    ("can I pay 150 on Friday?", d(11, 27)),
]


@pytest.mark.parametrize(("text", "expected"), DATES_ES)
def test_spanish_dates(text: str, expected: datetime.date) -> None:
    assert extract_entities(text, language="es", today=TODAY).date == expected


@pytest.mark.parametrize(("text", "expected"), DATES_EN)
def test_english_dates(text: str, expected: datetime.date) -> None:
    assert extract_entities(text, language="en", today=TODAY).date == expected


@pytest.mark.parametrize(
    "text", ["pagué esta mañana", "quiero pagar", "150 mil", "no", "2026", "hola"]
)
def test_messages_without_a_date(text: str) -> None:
    assert extract_entities(text, language="es", today=TODAY).date is None


def test_the_date_is_relative_to_the_given_today() -> None:
    # Friday 2027-01-29: the month ends on Sunday the 31st; "el viernes" is a week later.
    today = datetime.date(2027, 1, 29)
    assert extract_entities("fin de mes", language="es", today=today).date == d(1, 31, 2027)
    assert extract_entities("el viernes", language="es", today=today).date == d(2, 5, 2027)
    assert extract_entities("el 31", language="es", today=today).date == d(1, 31, 2027)
    # No 30th in February: "the 30th" said on 2027-02-10 is the month's last day.
    assert extract_entities("the 30th", language="en", today=d(2, 10, 2027)).date == d(2, 28, 2027)


def test_an_amount_and_a_date_in_one_message() -> None:
    entities = extract_entities("le abono 80.000 el 15", language="es", today=TODAY)
    assert entities.amount == Decimal("80000")
    assert entities.date == d(12, 15)
    entities = extract_entities("two fifty next friday", language="en", today=TODAY)
    assert entities.amount == Decimal("250")
    assert entities.date == d(12, 4)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("si", True),
        ("sí", True),
        ("Sí, claro", True),
        ("siii", True),
        ("dale", True),
        ("ok", True),
        ("listo!", True),
        ("de acuerdo", True),
        ("yes", True),
        ("yeah sure", True),
        ("yep", True),
        ("no", False),
        ("No.", False),
        ("nooo", False),
        ("nop", False),
        ("negativo", False),
        ("no, el sábado", False),
        ("nope", False),
        ("nah", False),
        ("claro que no", False),
        ("quiero pagar", None),
        ("nose", None),
        ("nothing", None),
        ("", None),
    ],
)
def test_yes_and_no(text: str, expected: bool | None) -> None:
    assert extract_entities(text, language="es", today=TODAY).yes_no is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234", "1234"),
        ("cc 1.020.333", "1020333"),
        ("mi cédula es 52 847 193", "52847193"),
        ("los últimos 4 son 5678", "5678"),
        ("uno dos tres cuatro", "1234"),
        ("0042", "0042"),
        ("hola", None),
    ],
)
def test_identity_digits(text: str, expected: str | None) -> None:
    assert extract_entities(text, language="es", today=TODAY).digits == expected


def test_the_text_is_normalised() -> None:
    entities = extract_entities("  Ya   PAGUÉ  ", language="es", today=TODAY)
    assert entities.text == "ya pague"
