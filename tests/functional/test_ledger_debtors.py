"""Ledger debtors through HTTP: contact points normalised, bad input named by pointer."""

from __future__ import annotations

from typing import Any

import pytest

from tests.common.actors import TenantHandle, assert_problem
from tests.common.ledger import BASE, new_debtor

pytestmark = pytest.mark.modules("ledger")


def test_phones_in_e164_and_emails_normalised(tenant: TenantHandle) -> None:
    debtor = new_debtor(
        tenant,
        default_region="CO",
        contact_points=[
            # A Colombian mobile written nationally, and the same style with +57.
            {"kind": "phone", "value": "300 123 4567", "label": "mobile"},
            {"kind": "phone", "value": "+1 (202) 555-0143"},
            {"kind": "email", "value": "Ana.Gomez@Example.COM"},
        ],
        preferred_channel="whatsapp",
        language="es-CO",
        time_zone="America/Bogota",
        consents=[{"channel": "sms", "consent": True}, {"channel": "email", "opted_out": True}],
    )
    assert debtor["contact_points"] == [
        {"kind": "phone", "value": "+573001234567", "label": "mobile"},
        {"kind": "phone", "value": "+12025550143", "label": None},
        # The domain is case-insensitive (RFC 5321 §2.4), the local part is kept.
        {"kind": "email", "value": "Ana.Gomez@example.com", "label": None},
    ]
    assert debtor["consents"] == [
        {"channel": "email", "consent": False, "opted_out": True},
        {"channel": "sms", "consent": True, "opted_out": False},
    ]
    assert (debtor["language"], debtor["time_zone"]) == ("es-CO", "America/Bogota")
    fetched = tenant.get(f"{BASE}/debtors/{debtor['id']}")
    assert fetched.json() == debtor


@pytest.mark.parametrize(
    ("fields", "pointer"),
    [
        (
            {
                "contact_points": [
                    {"kind": "email", "value": "a@b.co"},
                    {"kind": "phone", "value": "12"},
                ]
            },
            "/contact_points/1/value",
        ),
        # A national number without a default region cannot be placed.
        (
            {"contact_points": [{"kind": "phone", "value": "300 123 4567"}]},
            "/contact_points/0/value",
        ),
        (
            {"contact_points": [{"kind": "email", "value": "not-an-address"}]},
            "/contact_points/0/value",
        ),
        ({"time_zone": "Mars/Olympus_Mons"}, "/time_zone"),
        ({"language": "not a tag"}, "/language"),
        ({"default_region": "XX"}, "/default_region"),
    ],
)
def test_invalid_contact_data_is_a_422_naming_the_member(
    tenant: TenantHandle, fields: dict[str, Any], pointer: str
) -> None:
    response = tenant.post(f"{BASE}/debtors", json={"external_ref": "x-1", "name": "X", **fields})
    body = assert_problem(response, 422)
    assert [e["pointer"] for e in body["errors"]] == [pointer]
    assert tenant.get(f"{BASE}/debtors").json()["items"] == []


def test_bad_shapes_are_400(tenant: TenantHandle) -> None:
    for body in (
        {"name": "X"},
        {"external_ref": "x", "name": "X", "preferred_channel": "pigeon"},
        {"external_ref": "x", "name": "X", "contact_points": [{"kind": "fax", "value": "1"}]},
        {"external_ref": "x", "name": "X", "extra": True},
    ):
        assert_problem(tenant.post(f"{BASE}/debtors", json=body), 400)


def test_external_ref_is_unique_per_tenant(
    tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    debtor = new_debtor(tenant)
    again = tenant.post(
        f"{BASE}/debtors", json={"external_ref": debtor["external_ref"], "name": "B"}
    )
    assert_problem(again, 409, slug="conflict")
    # Another tenant may use the same reference.
    new_debtor(other_tenant, external_ref=debtor["external_ref"])
    found = tenant.get(f"{BASE}/debtors", params={"external_ref": debtor["external_ref"]}).json()
    assert [d["id"] for d in found["items"]] == [debtor["id"]]


def test_patch_changes_only_what_is_sent(tenant: TenantHandle) -> None:
    debtor = new_debtor(tenant, contact_points=[{"kind": "email", "value": "a@example.com"}])
    response = tenant.patch(
        f"{BASE}/debtors/{debtor['id']}",
        json={
            "name": "Ana María Gómez",
            "default_region": "MX",
            "contact_points": [
                {"kind": "email", "value": "a@example.com"},
                {"kind": "phone", "value": "55 1234 5678"},
            ],
        },
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["name"] == "Ana María Gómez"
    assert changed["external_ref"] == debtor["external_ref"]
    assert [c["value"] for c in changed["contact_points"]] == ["a@example.com", "+525512345678"]
    bad = tenant.patch(
        f"{BASE}/debtors/{debtor['id']}",
        json={"contact_points": [{"kind": "phone", "value": "+57 1"}]},
    )
    assert_problem(bad, 422)
    assert tenant.get(f"{BASE}/debtors/{debtor['id']}").json() == changed
    other = new_debtor(tenant)
    clash = tenant.patch(
        f"{BASE}/debtors/{other['id']}", json={"external_ref": debtor["external_ref"]}
    )
    assert_problem(clash, 409)


def test_debtors_of_another_tenant_are_invisible(
    tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    debtor = new_debtor(tenant)
    assert_problem(other_tenant.get(f"{BASE}/debtors/{debtor['id']}"), 404)
    assert_problem(other_tenant.patch(f"{BASE}/debtors/{debtor['id']}", json={"name": "Z"}), 404)
    assert other_tenant.get(f"{BASE}/debtors").json()["items"] == []
    assert tenant.get(f"{BASE}/debtors/{debtor['id']}").json()["name"] == debtor["name"]
