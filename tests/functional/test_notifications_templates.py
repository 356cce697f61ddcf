"""Templates through HTTP: versions, preview with locale formatting and SMS segments, the
sandbox, 422s with pointers, and the wall between tenants."""

from __future__ import annotations

from typing import Any

import pytest

from tests.common.actors import TenantHandle, assert_problem

BASE = "/v1/notifications"

pytestmark = pytest.mark.modules("notifications")


def put(tenant: TenantHandle, path: str, **document: Any) -> Any:
    return tenant.put(f"{BASE}/templates/{path}", json=document)


def preview(tenant: TenantHandle, **body: Any) -> Any:
    return tenant.post(f"{BASE}/templates/preview", json=body)


REMINDER = "Hola {{ name }}, su saldo de {{ balance|money }} vence el {{ due_on|date('long') }}."


def test_templates_are_versioned_and_read_back(tenant: TenantHandle) -> None:
    first = put(tenant, "reminder/sms/es_CO", text=REMINDER, sample_data={"name": "Ana"})
    assert first.status_code == 201, first.text
    assert first.json()["version"] == 1
    second = put(tenant, "reminder/sms/es_CO", text="Hola {{ name }}")
    assert second.json()["version"] == 2
    current = tenant.get(f"{BASE}/templates/reminder/sms/es-CO").json()
    assert current["version"] == 2 and current["text"] == "Hola {{ name }}"
    old = tenant.get(f"{BASE}/templates/reminder/sms/es_CO", params={"version": 1})
    assert old.json()["text"] == REMINDER
    versions = tenant.get(f"{BASE}/templates/reminder/sms/es_CO/versions").json()["items"]
    assert [v["version"] for v in versions] == [2, 1]
    put(tenant, "reminder/email/en_US", subject="Reminder", text="Hi {{ name }}")
    listed = tenant.get(f"{BASE}/templates").json()["items"]
    assert [(t["name"], t["channel"], t["locale"], t["version"]) for t in listed] == [
        ("reminder", "email", "en_US", 1),
        ("reminder", "sms", "es_CO", 2),
    ]
    sms_only = tenant.get(f"{BASE}/templates", params={"channel": "sms"}).json()["items"]
    assert len(sms_only) == 1
    assert tenant.delete(f"{BASE}/templates/reminder/sms/es_CO").status_code == 204
    assert_problem(tenant.get(f"{BASE}/templates/reminder/sms/es_CO"), 404)
    assert_problem(tenant.delete(f"{BASE}/templates/reminder/sms/es_CO"), 404)


def test_invalid_templates_list_every_fault_and_store_nothing(tenant: TenantHandle) -> None:
    body = assert_problem(
        put(tenant, "bad/sms/xx_YY", subject="no", text="{% if %}", html="<p>x</p>"), 422
    )
    pointers = {error["pointer"] for error in body["errors"]}
    assert pointers == {"/locale", "/subject", "/html", "/text"}
    body = assert_problem(put(tenant, "bad/email/es_CO", text="x"), 422)
    assert {e["pointer"] for e in body["errors"]} == {"/subject"}
    body = assert_problem(put(tenant, "bad/pigeon/es_CO", text="x"), 422)
    assert {e["pointer"] for e in body["errors"]} == {"/channel"}
    assert tenant.get(f"{BASE}/templates").json()["items"] == []


# Worked examples written from CLDR 47's patterns, not from our output: es_CO and es_MX put
# the symbol before the amount with no space (CLDR 47 dropped the space older releases had:
# "$ 150.000,00"); es_CO groups with "." and uses "," for decimals; es_MX and en_US the
# reverse. Amounts keep their ISO 4217 decimals (COP has 2; CLDR's cash digits for COP are 0).
@pytest.mark.parametrize(
    ("locale", "currency", "expected"),
    [
        ("es_CO", "COP", "Hola Ana, su saldo de $150.000,00 vence el 5 de marzo de 2026."),
        ("es_MX", "MXN", "Hola Ana, su saldo de $150,000.00 vence el 5 de marzo de 2026."),
        ("en_US", "USD", "Hola Ana, su saldo de $150,000.00 vence el March 5, 2026."),
    ],
)
def test_preview_formats_money_and_dates_for_the_locale(
    tenant: TenantHandle, locale: str, currency: str, expected: str
) -> None:
    data = {"name": "Ana", "balance": {"amount": "150000.00", "currency": currency}}
    response = preview(
        tenant, channel="sms", locale=locale, text=REMINDER, data={**data, "due_on": "2026-03-05"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["text"] == expected
    assert response.json()["encoding"] == "GSM-7" and response.json()["segments"] == 1


def test_preview_of_a_stored_template_uses_its_sample_data(tenant: TenantHandle) -> None:
    sample = {"name": "Ana", "balance": "150000.00", "currency": "COP", "due_on": "2026-03-05"}
    put(tenant, "reminder/sms/es", text=REMINDER, sample_data=sample)
    # es_CO has no template of its own: the "es" one serves it, formatted for es_CO.
    answer = preview(tenant, name="reminder", channel="sms", locale="es_CO").json()
    assert answer["text"] == "Hola Ana, su saldo de $150.000,00 vence el 5 de marzo de 2026."
    assert answer["template_version"] == 1 and answer["locale"] == "es_CO"
    body = assert_problem(preview(tenant, name="missing", channel="sms", locale="es_CO"), 422)
    assert body["errors"][0]["pointer"] == "/name"


def test_email_preview_escapes_html_only(tenant: TenantHandle) -> None:
    response = preview(
        tenant,
        channel="email",
        locale="en_US",
        subject="Pay {{ amount|money('USD') }}\nnow",
        text="Dear {{ name }}",
        html="<p>Dear {{ name }}</p>",
        data={"name": "<b>Ann</b>", "amount": "12.50"},
    )
    answer = response.json()
    assert answer["subject"] == "Pay $12.50 now"
    assert answer["text"] == "Dear <b>Ann</b>"
    assert answer["html"] == "<p>Dear &lt;b&gt;Ann&lt;/b&gt;</p>"
    assert answer["encoding"] is None and answer["segments"] is None


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("€" + "a" * 159, "GSM-7", 2),  # the euro sign counts two: 161 septets
        ("ñ" * 160, "GSM-7", 1),  # ñ is in GSM 03.38
        ("á" + "a" * 69, "UCS-2", 1),  # á is not: the whole text goes UCS-2, 70 units
        ("á" + "a" * 70, "UCS-2", 2),
    ],
)
def test_preview_reports_sms_encoding_and_segments(
    tenant: TenantHandle, text: str, encoding: str, segments: int
) -> None:
    answer = preview(tenant, channel="sms", locale="es_CO", text=text).json()
    assert (answer["encoding"], answer["segments"]) == (encoding, segments)


@pytest.mark.parametrize(
    "text",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ self._TemplateReference__context }}",
        "{% for a in ''|attr('__class__') %}{{ a }}{% endfor %}",
        "{% for k in name.__class__.__mro__ %}{{ k.__subclasses__() }}{% endfor %}",
        "{{ name.upper }}",
        "{{ 'x' * 100000000 }}",
        "{{ lipsum.__globals__['os'] }}",
        "{{ '{0.__class__.__init__.__globals__}'.format(name) }}",
    ],
)
def test_templates_that_reach_python_internals_fail_safely(tenant: TenantHandle, text: str) -> None:
    body = assert_problem(
        preview(tenant, channel="sms", locale="es_CO", text=text, data={"name": "Ana"}), 422
    )
    assert body["errors"] and body["errors"][0]["pointer"].startswith(("/text", "/data/"))
    for leak in ("<class", "<function", "<built-in", "<module", "0x7f", "os.py"):
        assert leak not in str(body)


def test_unknown_locale_and_missing_variable_are_422_with_pointers(tenant: TenantHandle) -> None:
    body = assert_problem(preview(tenant, channel="sms", locale="zz_ZZ", text="hi"), 422)
    assert body["errors"][0]["pointer"] == "/locale"
    body = assert_problem(
        preview(tenant, channel="sms", locale="es_CO", text="Hola {{ name }}", data={}), 422
    )
    assert body["errors"] == [{"pointer": "/data/name", "detail": "missing variable 'name'"}]
    float_money = preview(
        tenant, channel="sms", locale="es_CO", text="{{ x|money('COP') }}", data={"x": 1.5}
    )
    assert assert_problem(float_money, 422)["errors"][0]["pointer"] == "/text"
    no_currency = preview(
        tenant, channel="sms", locale="es_CO", text="{{ x|money }}", data={"x": "1"}
    )
    assert "currency" in assert_problem(no_currency, 422)["detail"]


@pytest.mark.modules("notifications")
def test_tenants_cannot_read_or_change_each_others_templates(
    tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    put(tenant, "reminder/sms/es_CO", text="mine")
    put(other_tenant, "reminder/sms/es_CO", text="theirs v1")
    put(other_tenant, "reminder/sms/es_CO", text="theirs v2")
    assert tenant.get(f"{BASE}/templates/reminder/sms/es_CO").json()["text"] == "mine"
    listed = tenant.get(f"{BASE}/templates").json()["items"]
    assert [(t["text"], t["version"]) for t in listed] == [("mine", 1)]
    assert other_tenant.delete(f"{BASE}/templates/reminder/sms/es_CO").status_code == 204
    assert tenant.get(f"{BASE}/templates/reminder/sms/es_CO").json()["text"] == "mine"
    answer = preview(tenant, name="reminder", channel="sms", locale="es_CO").json()
    assert answer["text"] == "mine"
