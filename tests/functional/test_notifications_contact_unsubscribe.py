"""RFC 8058 one-click unsubscribe: the public endpoint behind ``List-Unsubscribe``.

The link is signed per tenant; a POST with ``List-Unsubscribe=One-Click`` opts out at once
without any API key, a GET only shows a page, a tampered or foreign token is a problem that
changes nothing, and unsubscribing twice is the same as once.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from almacen.gateway.app import gateway_of
from almacen.modules.notifications.contact import unsubscribe_url
from tests.common.actors import TenantHandle, assert_problem

BASE = "/v1/notifications"
ONE_CLICK = {"List-Unsubscribe": "One-Click"}
ADDRESS = "Ana.Gomez@Example.com"
pytestmark = pytest.mark.modules("notifications")


def link(app: Any, tenant: TenantHandle, *, channel: str = "email") -> str:
    """The path of a fresh unsubscribe link for ``ADDRESS`` (the secret committed)."""
    with gateway_of(app).db.transaction(tenant_id=tenant.id) as session:
        url = unsubscribe_url(
            tenant.id,
            debtor_id=None,
            address=ADDRESS,
            channel=channel,
            base_url="https://collect.example.com",
            session=session,
        )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "collect.example.com")
    assert parts.path.startswith(f"{BASE}/unsubscribe/{tenant.id}/")
    return parts.path


def opted_out(tenant: TenantHandle) -> list[tuple[str | None, str]]:
    response = tenant.get(f"{BASE}/contact/consents", params={"address": ADDRESS})
    assert response.status_code == 200, response.text
    return [(c["channel"], c["status"]) for c in response.json()["items"]]


def check_mail(tenant: TenantHandle) -> dict[str, Any]:
    body = {
        "channel": "email",
        "email": ADDRESS,
        "country": "US",
        "time_zone": "America/New_York",
        "at": "2026-03-10T14:00:00Z",
    }
    response = tenant.post(f"{BASE}/contact-check", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_one_click_post_opts_out_without_a_key(app: Any, client: Any, tenant: TenantHandle) -> None:
    path = link(app, tenant)
    assert check_mail(tenant)["allowed"] is True
    # GET (a person, or a mail client's prefetch) changes nothing.
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "method='post'" in page.text
    assert opted_out(tenant) == []
    response = client.post(path, data=ONE_CLICK)
    assert response.status_code == 200, response.text
    assert response.json() == {"unsubscribed": True, "channel": "email"}
    assert opted_out(tenant) == [("email", "opted_out")]
    decision = check_mail(tenant)
    assert [r["code"] for r in decision["reasons"]] == ["opted_out"]
    assert decision["reasons"][0]["source"].startswith("12 CFR 1006.6(e)")
    # Again: the same answer, still one consent row and one event.
    again = client.post(path, data=ONE_CLICK)
    assert again.status_code == 200 and again.json() == response.json()
    assert opted_out(tenant) == [("email", "opted_out")]
    events = tenant.get("/v1/events", params={"type": "notifications.opted_out"}).json()["items"]
    assert [(e["payload"]["channel"], e["payload"]["source"]) for e in events] == [
        ("email", "unsubscribe")
    ]


def test_the_opt_out_binds_the_address_case_insensitively(
    app: Any, client: Any, tenant: TenantHandle
) -> None:
    assert client.post(link(app, tenant), data=ONE_CLICK).status_code == 200
    body = {"address": ADDRESS.lower()}
    items = tenant.get(f"{BASE}/contact/consents", params=body).json()["items"]
    assert [i["subject"] for i in items] == [ADDRESS.lower()]


def _tamper(path: str) -> list[str]:
    head, _, token = path.rpartition("/")
    payload, _, signature = token.partition(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    forged_payload = "eyJkIjpudWxsLCJhIjoiZXZlQGV4YW1wbGUuY29tIiwiYyI6ImVtYWlsIn0"
    return [
        f"{head}/{payload}.{flipped}",  # signature changed
        f"{head}/{forged_payload}.{signature}",  # someone else's address, old signature
        f"{head}/{payload}",  # no signature
        f"{head}/not-a-token",
        f"{head}/%21%21.%21%21",
    ]


def test_a_tampered_token_is_a_problem_and_changes_nothing(
    app: Any, client: Any, tenant: TenantHandle
) -> None:
    path = link(app, tenant)
    for bad in _tamper(path):
        problem = assert_problem(client.post(bad, data=ONE_CLICK), 400, slug="bad-request")
        assert problem["errors"][0]["parameter"] == "token"
        assert_problem(client.get(bad), 400)
    assert opted_out(tenant) == []


def test_a_token_is_only_good_for_its_own_tenant(
    app: Any, client: Any, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    path = link(app, tenant)
    link(app, other_tenant)  # the other tenant has a secret of its own
    foreign = path.replace(f"/{tenant.id}/", f"/{other_tenant.id}/")
    assert_problem(client.post(foreign, data=ONE_CLICK), 400)
    assert opted_out(tenant) == [] and opted_out(other_tenant) == []


def test_unknown_or_unsubscribed_tenants_are_404(
    app: Any, client: Any, tenant: TenantHandle, admin: Any
) -> None:
    path = link(app, tenant)
    assert_problem(client.post(path.replace(tenant.id, "f" * 32), data=ONE_CLICK), 404)
    stranger = admin.new_tenant(modules=[])
    assert_problem(client.post(path.replace(tenant.id, stranger.id), data=ONE_CLICK), 404)


def test_multipart_and_empty_posts_unsubscribe_too(
    app: Any, client: Any, tenant: TenantHandle
) -> None:
    # RFC 8058 allows the body as multipart/form-data; some clients send none at all.
    sms = link(app, tenant, channel="sms")
    response = client.post(sms, files={"List-Unsubscribe": (None, "One-Click")})
    assert response.status_code == 200, response.text
    whatsapp = link(app, tenant, channel="whatsapp")
    assert client.post(whatsapp).status_code == 200
    assert sorted(opted_out(tenant)) == [("sms", "opted_out"), ("whatsapp", "opted_out")]
