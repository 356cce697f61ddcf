"""The contact policy through HTTP: contact-check, attempts, consents, the tenant's policy,
the ledger's debtors and disputes, the calendar's holidays, and tenant isolation.

Expected times were worked by hand (see ``tests/unit/notifications/test_contact_rules.py``
for the calendar facts): 8 March 2026 is New York's spring-forward Sunday, 1 November its
fall-back Sunday, 23 March Colombia's San José holiday (a Monday).
"""

from __future__ import annotations

from typing import Any

import pytest

from almacen.gateway.actions import run_action
from almacen.gateway.app import gateway_of
from almacen.gateway.errors import NotFoundError
from tests.common.actors import Admin, TenantHandle, assert_problem
from tests.common.ledger import new_account, new_debtor

BASE = "/v1/notifications"
pytestmark = pytest.mark.modules("notifications")

US = {"country": "US", "time_zone": "America/New_York", "phone": "+12125550143"}
CO = {"country": "CO", "time_zone": "America/Bogota", "phone": "+573001234567"}


def check(tenant: TenantHandle, **body: Any) -> dict[str, Any]:
    response = tenant.post(f"{BASE}/contact-check", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def codes(decision: dict[str, Any]) -> list[str]:
    return [reason["code"] for reason in decision["reasons"]]


def consent(tenant: TenantHandle, expect: int = 201, **body: Any) -> Any:
    response = tenant.post(f"{BASE}/contact/consents", json=body)
    assert response.status_code == expect, response.text
    return response.json()


@pytest.mark.parametrize(
    ("recipient", "at", "channel", "allowed", "reasons", "next_allowed"),
    [
        (US, "2026-03-08T06:30:00Z", "sms", False, ["outside_hours"], "2026-03-08T08:00:00-04:00"),
        (US, "2026-11-01T05:30:00Z", "sms", False, ["outside_hours"], "2026-11-01T08:00:00-05:00"),
        (US, "2026-03-15T16:00:00Z", "email", True, [], "2026-03-15T12:00:00-04:00"),
        (
            {**US, "time_zone": "America/Los_Angeles"},
            "2026-07-15T14:30:00Z",
            "sms",
            False,
            ["outside_hours"],
            "2026-07-15T08:00:00-07:00",
        ),
        (
            {"country": "MX", "time_zone": "America/Mexico_City"},
            "2026-03-18T04:00:00Z",
            "whatsapp",
            False,
            ["outside_hours"],
            "2026-03-18T07:00:00-06:00",
        ),
        # Colombia requires consent: none was given, so no time helps.
        (CO, "2026-03-17T15:00:00Z", "sms", False, ["no_consent"], None),
    ],
)
def test_contact_check_table_through_http(
    tenant: TenantHandle,
    recipient: dict[str, str],
    at: str,
    channel: str,
    allowed: bool,
    reasons: list[str],
    next_allowed: str | None,
) -> None:
    decision = check(tenant, channel=channel, at=at, **recipient)
    assert decision["allowed"] is allowed
    assert codes(decision) == reasons
    assert decision["next_allowed_at"] == next_allowed
    assert decision["time_zone"] == recipient["time_zone"]


def test_colombian_sunday_after_consent(tenant: TenantHandle) -> None:
    consent(tenant, address=CO["phone"], channel="sms", status="consented")
    sunday = check(tenant, channel="sms", at="2026-03-15T15:00:00Z", **CO)
    assert codes(sunday) == ["closed_day"]
    assert sunday["next_allowed_at"] == "2026-03-16T07:00:00-05:00"
    assert sunday["rule_pack"] == "co_ley_2300"
    assert sunday["reasons"][0]["source"].startswith("Ley 2300 de 2023")
    # Consent to SMS says nothing of e-mail.
    mail = check(tenant, channel="email", at="2026-03-16T15:00:00Z", email="ana@example.co", **CO)
    assert codes(mail) == ["no_consent"]


def test_seventh_and_eighth_call_in_seven_days(tenant: TenantHandle) -> None:
    call = {"channel": "voice", "account_ids": ["loan-1"], **US}
    for day in range(2, 8):  # six calls, 2-7 March, 10:00 EST
        response = tenant.post(
            f"{BASE}/contact/attempts", json={**call, "at": f"2026-03-0{day}T15:00:00Z"}
        )
        assert response.status_code == 201, response.text
    seventh = check(tenant, at="2026-03-08T15:00:00Z", **call)
    assert seventh["allowed"] is True
    response = tenant.post(f"{BASE}/contact/attempts", json={**call, "at": "2026-03-08T15:00:00Z"})
    assert response.status_code == 201
    eighth = check(tenant, at="2026-03-08T20:00:00Z", **call)
    assert codes(eighth) == ["frequency_cap"]
    assert eighth["reasons"][0]["source"] == "12 CFR 1006.14(b)(2)(i)(A)"
    assert eighth["next_allowed_at"] == "2026-03-09T08:00:00-04:00"
    # Another debt of the same person is counted on its own.
    other = check(tenant, at="2026-03-08T20:00:00Z", **{**call, "account_ids": ["loan-2"]})
    assert other["allowed"] is True


def test_a_conversation_pauses_calls_for_a_week(tenant: TenantHandle) -> None:
    call = {"channel": "voice", "account_ids": ["loan-1"], **US}
    body = {**call, "at": "2026-03-10T15:00:00Z", "conversation": True}
    assert tenant.post(f"{BASE}/contact/attempts", json=body).status_code == 201
    decision = check(tenant, at="2026-03-12T15:00:00Z", **call)
    assert codes(decision) == ["after_conversation"]
    assert decision["next_allowed_at"] == "2026-03-17T08:00:00-04:00"


TENANT_RULES = {
    "hours": {
        "mon": {"start": "09:00", "end": "18:00"},
        "tue": {"start": "09:00", "end": "18:00"},
        "wed": {"start": "09:00", "end": "18:00"},
        "thu": {"start": "09:00", "end": "18:00"},
        "fri": {"start": "09:00", "end": "18:00"},
        "sat": None,
        "sun": None,
    },
    "caps": [{"channels": ["sms"], "per": "channel", "max": 2, "window_days": 7}],
}


def test_tenant_override_is_applied(tenant: TenantHandle) -> None:
    assert tenant.get(f"{BASE}/contact/policy").json()["rule_pack"] == "auto"
    response = tenant.put(
        f"{BASE}/contact/policy", json={"rule_pack": "us_reg_f", "overrides": TENANT_RULES}
    )
    assert response.status_code == 200, response.text
    stored = tenant.get(f"{BASE}/contact/policy").json()
    assert stored["rule_pack"] == "us_reg_f"
    assert stored["overrides"]["hours"]["sat"] is None
    # us_reg_f now governs every recipient, a Mexican one too.
    saturday = check(tenant, channel="sms", at="2026-03-14T15:00:00Z", **US)
    assert codes(saturday) == ["closed_day"]
    assert saturday["reasons"][0]["source"] == "tenant"
    assert saturday["next_allowed_at"] == "2026-03-16T09:00:00-04:00"
    for day in ("09", "10"):
        body = {"channel": "sms", "at": f"2026-03-{day}T15:00:00Z", **US}
        assert tenant.post(f"{BASE}/contact/attempts", json=body).status_code == 201
    third = check(tenant, channel="sms", at="2026-03-11T14:00:00Z", **US)
    assert codes(third) == ["frequency_cap"]
    assert third["next_allowed_at"] == "2026-03-16T09:00:00-04:00"


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"rule_pack": "fr_cnil"}, "/rule_pack"),
        (
            {
                "rule_pack": "us_reg_f",
                "overrides": {"hours": {"sun": {"start": "07:00", "end": "23:00"}}},
            },
            "/overrides/hours/sun",
        ),
        (
            {"rule_pack": "co_ley_2300", "overrides": {"require_consent": False}},
            "/overrides/require_consent",
        ),
        (
            {
                "rule_pack": "us_reg_f",
                "overrides": {"caps": [{"per": "channel", "max": "two", "window_days": 7}]},
            },
            "/overrides/caps/0/max",
        ),
        (
            {
                "rule_pack": "us_reg_f",
                "overrides": {"hours": {"mon": {"start": "9am", "end": "18:00"}}},
            },
            "/overrides/hours/mon/start",
        ),
    ],
)
def test_a_refused_policy_names_where_and_stores_nothing(
    tenant: TenantHandle, body: dict[str, Any], pointer: str
) -> None:
    problem = assert_problem(tenant.put(f"{BASE}/contact/policy", json=body), 422)
    assert pointer in [error["pointer"] for error in problem["errors"]], problem
    assert tenant.get(f"{BASE}/contact/policy").json()["rule_pack"] == "auto"


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"channel": "pigeon", **US}, "/channel"),
        ({"channel": "sms", **{**US, "time_zone": "Mars/Olympus_Mons"}}, "/time_zone"),
        ({"channel": "sms", **{**US, "country": "FR"}}, "/country"),
        ({"channel": "sms", **{**US, "country": "USA"}}, "/country"),
        ({"channel": "sms", **US, "at": "2026-03-10T10:00:00"}, "/at"),
        ({"channel": "email", **US, "email": "ana\u0000@example.com"}, "/email"),
        ({"channel": "sms", **US, "debtor_id": "d\u00001"}, "/debtor_id"),
        ({"channel": "sms", **US, "account_ids": ["ok", "a\nb"]}, "/account_ids/1"),
    ],
)
def test_bad_contact_checks_are_problems(
    tenant: TenantHandle, body: dict[str, Any], pointer: str
) -> None:
    response = tenant.post(f"{BASE}/contact-check", json=body)
    assert response.status_code in (400, 422), response.text
    problem = assert_problem(response, response.status_code)
    located = [error.get("pointer") or error.get("field") for error in problem.get("errors", [])]
    assert any(pointer in str(where) for where in located), problem


def test_rule_packs_are_listed_with_their_sources(tenant: TenantHandle) -> None:
    packs = {p["id"]: p for p in tenant.get(f"{BASE}/contact/rule-packs").json()["items"]}
    assert {"us_reg_f", "co_ley_2300", "mx_condusef"} <= set(packs)
    assert packs["us_reg_f"]["rules"]["hours"]["source"] == "12 CFR 1006.6(b)(1)(i)"
    assert tenant.get(f"{BASE}/contact/rule-packs/co_ley_2300").json()["country"] == "CO"
    assert_problem(tenant.get(f"{BASE}/contact/rule-packs/nowhere"), 404)


@pytest.mark.modules("notifications", "ledger")
def test_the_ledger_debtor_its_consents_and_disputes(tenant: TenantHandle) -> None:
    debtor = new_debtor(
        tenant,
        time_zone="America/Bogota",
        language="es-CO",
        contact_points=[{"kind": "phone", "value": "+573001234567"}],
        consents=[{"channel": "sms", "consent": True}],
    )
    # Country from the phone number, time zone and consent from the ledger.
    sunday = check(tenant, debtor_id=debtor["id"], channel="sms", at="2026-03-15T15:00:00Z")
    assert (sunday["country"], sunday["rule_pack"]) == ("CO", "co_ley_2300")
    assert codes(sunday) == ["closed_day"]
    assert sunday["next_allowed_at"] == "2026-03-16T07:00:00-05:00"
    tuesday = {"debtor_id": debtor["id"], "channel": "sms", "at": "2026-03-17T15:00:00Z"}
    assert check(tenant, **tuesday)["allowed"] is True
    # A dispute on one of the debtor's accounts stops every contact.
    account = new_account(tenant, debtor["id"])
    response = tenant.post(
        f"/v1/ledger/accounts/{account['id']}/dispute", json={"reason": "not mine"}
    )
    assert response.status_code == 201, response.text
    disputed = check(tenant, **tuesday)
    assert codes(disputed) == ["disputed"] and disputed["next_allowed_at"] is None
    # An opt-out is written to consent at once, and to the ledger.
    consent(tenant, debtor_id=debtor["id"], channel="sms", status="opted_out", source="api")
    ledger = tenant.get(f"/v1/ledger/debtors/{debtor['id']}").json()
    [sms] = [c for c in ledger["consents"] if c["channel"] == "sms"]
    assert sms["opted_out"] is True
    assert codes(check(tenant, **tuesday)) == ["opted_out", "disputed"]


@pytest.mark.modules("notifications", "ledger")
def test_an_unknown_debtor_is_a_problem(tenant: TenantHandle) -> None:
    response = tenant.post(f"{BASE}/contact-check", json={"debtor_id": "0" * 32, "channel": "sms"})
    problem = assert_problem(response, 422)
    assert [e["pointer"] for e in problem["errors"]] == ["/debtor_id"]
    response = tenant.post(
        f"{BASE}/contact/consents", json={"debtor_id": "0" * 32, "status": "opted_out"}
    )
    assert [e["pointer"] for e in assert_problem(response, 422)["errors"]] == ["/debtor_id"]


def test_holidays_come_from_the_calendar(admin: Admin) -> None:
    tenant = admin.new_tenant(modules=["notifications"])
    assert admin.subscribe(tenant.id, "calendar", {"country": "CO"}).status_code == 200
    consent(tenant, address=CO["phone"], channel="sms", status="consented")
    holiday = check(tenant, channel="sms", at="2026-03-23T15:00:00Z", **CO)
    assert codes(holiday) == ["holiday"]
    assert "San José" in holiday["reasons"][0]["message"]
    assert holiday["next_allowed_at"] == "2026-03-24T07:00:00-05:00"
    # Saturday afternoon: Sunday closed, Monday the holiday, so Tuesday.
    saturday = check(tenant, channel="sms", at="2026-03-21T20:30:00Z", **CO)
    assert saturday["next_allowed_at"] == "2026-03-24T07:00:00-05:00"


def test_without_the_calendar_the_pack_has_no_holidays(tenant: TenantHandle) -> None:
    consent(tenant, address=CO["phone"], channel="sms", status="consented")
    assert check(tenant, channel="sms", at="2026-03-23T15:00:00Z", **CO)["allowed"] is True


def test_consents_are_tenant_scoped(tenant: TenantHandle, other_tenant: TenantHandle) -> None:
    consent(tenant, address=US["phone"], channel="sms", status="opted_out", source="inbound")
    mine = tenant.get(f"{BASE}/contact/consents", params={"address": US["phone"]}).json()
    assert [(c["channel"], c["status"]) for c in mine["items"]] == [("sms", "opted_out")]
    theirs = other_tenant.get(f"{BASE}/contact/consents", params={"address": US["phone"]}).json()
    assert theirs["items"] == []
    at = "2026-03-10T14:00:00Z"
    assert codes(check(tenant, channel="sms", at=at, **US)) == ["opted_out"]
    assert check(other_tenant, channel="sms", at=at, **US)["allowed"] is True
    # The other tenant's consent changes nothing here.
    consent(other_tenant, address=US["phone"], channel="sms", status="consented")
    assert codes(check(tenant, channel="sms", at=at, **US)) == ["opted_out"]


def test_an_opt_out_of_every_channel_and_its_event(tenant: TenantHandle) -> None:
    consent(tenant, address=US["phone"], channel=None, status="opted_out", source="bot")
    consent(tenant, address=US["phone"], channel=None, status="opted_out", source="bot")
    at = "2026-03-10T14:00:00Z"
    for channel in ("sms", "whatsapp", "voice"):
        assert codes(check(tenant, channel=channel, at=at, **US)) == ["opted_out"]
    events = tenant.get("/v1/events", params={"type": "notifications.opted_out"}).json()["items"]
    assert [e["payload"]["channel"] for e in events] == [None]  # idempotent: one event
    assert events[0]["payload"]["source"] == "bot"


def test_the_contact_check_action(app: Any, tenant: TenantHandle) -> None:
    with gateway_of(app).db.transaction(tenant_id=tenant.id) as session:
        answer = run_action(
            session,
            "notifications.contact_check",
            {"channel": "sms", "at": "2026-03-08T06:30:00+00:00", **US},
        )
    assert answer["allowed"] is False
    assert answer["next_allowed_at"] == "2026-03-08T08:00:00-04:00"
    assert [r["code"] for r in answer["reasons"]] == ["outside_hours"]


def test_opt_out_intent_endpoint(tenant: TenantHandle) -> None:
    said = tenant.post(f"{BASE}/contact/opt-out-intent", json={"text": "No me escriban MÁS"})
    assert said.json() == {"opt_out": True, "normalised": "no me escriban mas"}
    other = tenant.post(f"{BASE}/contact/opt-out-intent", json={"text": "no puedo pagar más"})
    assert other.json()["opt_out"] is False


def test_addresses_match_however_a_provider_writes_them(tenant: TenantHandle) -> None:
    consent(tenant, address="whatsapp:+1 (212) 555-0143", channel="whatsapp", status="opted_out")
    at = "2026-03-10T14:00:00Z"
    assert codes(check(tenant, channel="whatsapp", at=at, **US)) == ["opted_out"]
    assert check(tenant, channel="sms", at=at, **US)["allowed"] is True
    # The debtor asks to hear on WhatsApp again: a later consent lifts that opt-out.
    consent(tenant, address=US["phone"], channel="whatsapp", status="consented", source="bot")
    assert check(tenant, channel="whatsapp", at=at, **US)["allowed"] is True


def test_consents_need_a_subject(tenant: TenantHandle) -> None:
    params = {"debtor_id": "d\u00001"}
    problem = assert_problem(tenant.get(f"{BASE}/contact/consents", params=params), 422)
    assert problem["errors"][0]["pointer"] == "/debtor_id"
    problem = assert_problem(tenant.get(f"{BASE}/contact/consents"), 422)
    assert problem["errors"][0]["parameter"] == "debtor_id"
    problem = assert_problem(
        tenant.post(f"{BASE}/contact/consents", json={"status": "opted_out"}), 422
    )
    assert problem["errors"][0]["pointer"] == "/debtor_id"
    response = tenant.post(
        f"{BASE}/contact/consents",
        json={"address": US["phone"], "channel": "carrier-pigeon", "status": "opted_out"},
    )
    assert assert_problem(response, 422)["errors"][0]["pointer"] == "/channel"


@pytest.mark.modules("notifications", "ledger")
def test_the_ledger_actions_for_contacts(
    app: Any, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    debtor = new_debtor(
        tenant,
        time_zone="America/Mexico_City",
        contact_points=[
            {"kind": "email", "value": "ana@example.mx"},
            {"kind": "phone", "value": "+525512345678"},
        ],
    )
    db = gateway_of(app).db
    with db.transaction(tenant_id=tenant.id) as session:
        profile = run_action(session, "ledger.get_debtor", {"debtor_id": debtor["id"]})
        assert (profile["time_zone"], profile["country"], profile["disputed"]) == (
            "America/Mexico_City",
            "MX",
            False,
        )
        assert [p["kind"] for p in profile["contact_points"]] == ["email", "phone"]
        changed = run_action(
            session,
            "ledger.set_consent",
            {"debtor_id": debtor["id"], "channel": "email", "consent": True},
        )
        assert changed == {"channel": "email", "consent": True, "opted_out": False}
        changed = run_action(
            session,
            "ledger.set_consent",
            {"debtor_id": debtor["id"], "channel": "email", "opted_out": True},
        )
        assert changed == {"channel": "email", "consent": True, "opted_out": True}
    [email] = tenant.get(f"/v1/ledger/debtors/{debtor['id']}").json()["consents"]
    assert (email["consent"], email["opted_out"]) == (True, True)
    # Another tenant's session cannot read or change the debtor.
    with db.transaction(tenant_id=other_tenant.id) as session:
        for name, data in (
            ("ledger.get_debtor", {"debtor_id": debtor["id"]}),
            (
                "ledger.set_consent",
                {"debtor_id": debtor["id"], "channel": "sms", "opted_out": True},
            ),
        ):
            with pytest.raises(NotFoundError):
                run_action(session, name, data)
    assert len(tenant.get(f"/v1/ledger/debtors/{debtor['id']}").json()["consents"]) == 1
