"""Rendering without a database: locale formatting against CLDR worked examples, the
sandbox's refusals and limits, and the problems with their pointers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from almacen.gateway.money import Money
from almacen.modules.notifications.templates import (
    TemplateProblem,
    normalise_locale,
    render_parts,
)


def render(text: str, locale: str = "es_CO", channel: str = "sms", **data: Any) -> str:
    return render_parts(
        channel=channel, locale=locale, subject=None, text=text, html=None, data=data
    ).text


def problem(text: str, **data: Any) -> dict[str, str]:
    with pytest.raises(TemplateProblem) as raised:
        render(text, **data)
    assert raised.value.status == 422
    [error] = raised.value.errors
    return dict(error)


# Written from CLDR 47 (decimal and group symbols, currency pattern "¤#,##0.00" in all three,
# symbol "$" for the local currency), not from Babel's output.
@pytest.mark.parametrize(
    ("locale", "amount", "currency", "expected"),
    [
        ("es_CO", "150000.00", "COP", "$150.000,00"),
        ("es_CO", "1234567.5", "COP", "$1.234.567,50"),
        ("es_CO", "-20.05", "COP", "-$20,05"),
        ("es_MX", "150000.00", "MXN", "$150,000.00"),
        ("en_US", "150000.00", "USD", "$150,000.00"),
        ("en_US", "0.5", "USD", "$0.50"),
        ("en_US", "150000", "JPY", "¥150,000"),  # JPY has no minor unit
        ("en_US", "1.005", "USD", "$1.005"),  # never rounded away
    ],
)
def test_money_per_locale(locale: str, amount: str, currency: str, expected: str) -> None:
    assert render("{{ x|money }}", locale, x={"amount": amount, "currency": currency}) == expected
    assert render("{{ x|money(c) }}", locale, x=amount, c=currency) == expected
    assert render("{{ x|money }}", locale, x=Decimal(amount), currency=currency) == expected


def test_money_objects_and_integers() -> None:
    assert render("{{ x|money }}", x=Money(Decimal("99.90"), "COP")) == "$99,90"
    assert render("{{ x|money }}", "en_US", x=12, currency="USD") == "$12.00"


@pytest.mark.parametrize(
    ("locale", "form", "expected"),
    [
        ("es_CO", "long", "5 de marzo de 2026"),
        ("es_MX", "long", "5 de marzo de 2026"),
        ("en_US", "long", "March 5, 2026"),
        ("en_US", "short", "3/5/26"),
        ("es_CO", "full", "jueves, 5 de marzo de 2026"),
        ("en_US", "full", "Thursday, March 5, 2026"),
    ],
)
def test_dates_per_locale(locale: str, form: str, expected: str) -> None:
    assert render("{{ d|date(f) }}", locale, d="2026-03-05", f=form) == expected


def test_times_are_shown_in_the_recipient_time_zone() -> None:
    # 15:00 UTC is 10:00 in Bogotá (UTC-5, no daylight saving) and 11:00 in New York in
    # July (EDT, UTC-4).
    text = "{{ t|time }}"
    assert render(text, "es_CO", t="2026-07-01T15:00:00Z", time_zone="America/Bogota").startswith(
        "10:00"
    )
    assert render(text, "en_US", t="2026-07-01T15:00:00Z", time_zone="America/New_York") in {
        "11:00\u202fAM",
        "11:00 AM",
    }


def test_numbers_use_the_locale_separators() -> None:
    assert render("{{ n|number }}", "es_CO", n="1234567.5") == "1.234.567,5"
    assert render("{{ n|number }}", "en_US", n="1234567.5") == "1,234,567.5"


@pytest.mark.parametrize(
    ("text", "data"),
    [
        ("{{ x|money('COP') }}", {"x": 1.5}),  # a float
        ("{{ x|money }}", {"x": "10"}),  # no currency anywhere
        ("{{ x|money('XXX') }}", {"x": "10"}),  # no minor unit
        ("{{ x|money('COP') }}", {"x": "ten"}),
        ("{{ d|date }}", {"d": "yesterday"}),
        ("{{ d|date('%Y') }}", {"d": "2026-03-05"}),  # free patterns are not offered
        ("{{ t|datetime }}", {"t": "2026-03-05T10:00:00"}),  # no offset
    ],
)
def test_values_the_filters_cannot_format_are_problems(text: str, data: dict[str, Any]) -> None:
    assert problem(text, **data)["pointer"] == "/text"


def test_unknown_locales_are_problems_at_locale() -> None:
    for locale in ("zz_ZZ", "es_XX", "", "klingon"):
        with pytest.raises(TemplateProblem) as raised:
            render("hi", locale)
        assert raised.value.errors[0]["pointer"] == "/locale"
    assert normalise_locale("es-co") == "es_CO"


def test_a_missing_variable_names_its_pointer() -> None:
    assert problem("Hola {{ nombre }}") == {
        "pointer": "/data/nombre",
        "detail": "missing variable 'nombre'",
    }
    assert problem("{{ debtor.name }}", debtor={})["pointer"] == "/text"


@pytest.mark.parametrize(
    "text",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ joiner.__init__.__globals__ }}",
        "{{ namespace.__init__.__globals__ }}",
        "{{ self._TemplateReference__context }}",
        "{{ self.__dict__ }}",
        "{% for c in ''|attr('__class__') %}{{ c }}{% endfor %}",
        "{% for k in [].__class__.__base__.__subclasses__() %}{{ k }}{% endfor %}",
        "{{ items.append(1) }}",
        "{{ name.upper }}",
        "{{ '{0.__class__}'.format(name) }}",
        "{{ 'x' * 10000000 }}",
        "{{ [1] * 10000000 }}",
        "{{ 2 ** 100000 }}",
        "{{ '%99999999s' % name }}",
        "{{ name|format() }}{{ '%099999999d'|format(1) }}",
        "{{ name|center(100000000) }}",
        "{{ range(10) }}",
    ],
)
def test_templates_cannot_reach_python_internals(text: str) -> None:
    error = problem(text, name="Ana", items=[1, 2])
    assert error["pointer"].startswith(("/text", "/data/"))
    for leak in ("<class", "<function", "<built-in", "<bound", "0x"):
        assert leak not in error["detail"]


def test_unsafe_attributes_inside_a_list_print_as_undefined() -> None:
    # map() yields the sandbox's "unsafe" Undefined for each item; nothing of int leaks.
    assert render("{{ items|map(attribute='__class__')|list }}", items=[1, 2]) == (
        "[Undefined, Undefined]"
    )


def test_output_is_bounded() -> None:
    loop = "{% for a in items %}{% for b in items %}{{ long }}{% endfor %}{% endfor %}"
    error = problem(loop, items=list(range(1000)), long="x" * 1000)
    assert "200000" in error["detail"]


def test_html_is_escaped_and_subjects_stay_on_one_line() -> None:
    rendered = render_parts(
        channel="email",
        locale="en_US",
        subject="Hello\r\nBcc: x@example.com {{ name }}",
        text="{{ name }}",
        html="<p>{{ name }}</p>",
        data={"name": "<script>"},
    )
    assert rendered.subject == "Hello Bcc: x@example.com <script>"
    assert rendered.text == "<script>"
    assert rendered.html == "<p>&lt;script&gt;</p>"
    assert rendered.encoding is None and rendered.segments is None


def test_sms_reports_encoding_and_drops_subject_and_html() -> None:
    rendered = render_parts(
        channel="sms", locale="es_CO", subject="x", text="Pagá {{ n }}", html="<p/>", data={"n": 1}
    )
    assert (rendered.encoding, rendered.segments) == ("UCS-2", 1)
    assert rendered.subject is None and rendered.html is None


def test_public_names() -> None:
    import almacen.modules.notifications.templates as templates

    assert sorted(templates.__all__) == [
        "RenderedMessage",
        "SmsEncoding",
        "TemplateProblem",
        "normalise_locale",
        "render_message",
        "render_parts",
        "sms_encoding",
    ]
