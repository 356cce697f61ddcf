"""The bot's words: money and dates as the locale writes them, templates in a sandbox."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from almacen.modules.bots.responses import (
    DEFAULTS,
    TemplateError,
    check_template,
    format_day,
    format_money,
    render,
)


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        ("150000", "COP", "es", "$150.000"),
        ("1063.56", "COP", "es", "$1.063,56"),
        ("150.50", "COP", "es", "$150,50"),
        ("150000", "COP", "en", "COP150,000"),
        ("1234.5", "USD", "en", "$1,234.50"),
    ],
)
def test_money_is_exact_in_the_locale(
    amount: str, currency: str, locale: str, expected: str
) -> None:
    assert format_money(Decimal(amount), currency, locale) == expected


def test_the_read_back_date_of_the_brief() -> None:
    friday = dt.date(2026, 11, 27)
    assert format_day(friday, "es") == "viernes 27 de noviembre"
    assert format_day(friday, "en") == "Friday, November 27"


def test_every_locale_has_the_same_keys() -> None:
    assert set(DEFAULTS["es"]) == set(DEFAULTS["en"])


def test_templates_run_in_a_sandbox() -> None:
    with pytest.raises(TemplateError):
        render("{{ ''.__class__.__mro__[1].__subclasses__() }}", {})
    with pytest.raises(TemplateError):
        check_template("{% if %}")
    with pytest.raises(TemplateError):
        render("{{ missing }}", {})
    assert render("Hola {{ name }}", {"name": "Ana"}) == "Hola Ana"
