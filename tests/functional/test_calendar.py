"""The calendar plugin through HTTP: holidays, tenants' days off, business-day sums.

Expected dates are worked out by hand from the law, never read back from the ``holidays``
library the module uses. Colombia's holidays (Ley 51 de 1983, "Ley Emiliani"): 1 January,
1 May, 20 July, 7 August, 8 and 25 December stay on their date; Maundy Thursday and Good
Friday follow Easter; most other holidays, the Epiphany (6 January) among them, move to the
following Monday when they fall on another weekday. In 2026, 1 January is a Thursday, so
6 January is a Tuesday and its holiday is Monday 12 January; Easter Sunday is 5 April
(Gregorian computus), so Maundy Thursday is 2 April and Good Friday 3 April.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.common.actors import Admin, TenantHandle, assert_problem

BASE = "/v1/calendar"
pytestmark = pytest.mark.modules("calendar")


def holidays_of(tenant: TenantHandle, year: int, **params: Any) -> dict[str, Any]:
    response = tenant.get(f"{BASE}/holidays", params={"year": year, **params})
    assert response.status_code == 200, response.text
    return dict(response.json())


def add_days(tenant: TenantHandle, date: str, days: int, **params: Any) -> str:
    response = tenant.get(
        f"{BASE}/business-days/add", params={"date": date, "days": days, **params}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["date"] == date
    assert body["days"] == days
    return str(body["result"])


def day_off(tenant: TenantHandle, date: str, name: str = "Company day off", **fields: Any) -> Any:
    return tenant.post(f"{BASE}/holidays", json={"date": date, "name": name, **fields})


def custom_days(tenant: TenantHandle) -> list[dict[str, Any]]:
    response = tenant.get(f"{BASE}/holidays/custom", params={"limit": 500})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


# -- public holidays -----------------------------------------------------------------------


def test_colombian_holidays_2026_follow_ley_emiliani(tenant: TenantHandle) -> None:
    listing = holidays_of(tenant, 2026)
    assert listing["country"] == "CO"  # the default configuration
    assert listing["year"] == 2026
    official = {item["date"]: item for item in listing["items"]}
    for date in (
        "2026-01-01",
        "2026-01-12",
        "2026-04-02",
        "2026-04-03",
        "2026-05-01",
        "2026-07-20",
        "2026-08-07",
        "2026-12-08",
        "2026-12-25",
    ):
        assert date in official, date
        assert official[date]["source"] == "official"
        assert official[date]["name"]
        assert "id" not in official[date]
    # The Epiphany is moved off Tuesday 6 January; Christmas Eve is a working day.
    assert "2026-01-06" not in official
    assert "2026-12-24" not in official
    dates = [item["date"] for item in listing["items"]]
    assert dates == sorted(dates)


def test_another_country_by_parameter(tenant: TenantHandle) -> None:
    # 5 U.S.C. 6103(b): a federal holiday on a Saturday is observed on the Friday before;
    # 4 July 2026 is a Saturday.
    listing = holidays_of(tenant, 2026, country="US")
    assert listing["country"] == "US"
    dates = {item["date"] for item in listing["items"]}
    assert {"2026-01-01", "2026-07-03", "2026-12-25"} <= dates
    check = tenant.get(
        f"{BASE}/business-days/check", params={"date": "2026-07-03", "country": "US"}
    )
    assert check.json()["reason"] == "holiday"


def test_listing_shows_the_tenants_own_days_of_that_country_only(tenant: TenantHandle) -> None:
    created = day_off(tenant, "2026-12-24", "Nochebuena").json()
    assert day_off(tenant, "2026-12-31", "New Year's Eve", country="US").status_code == 201
    items = holidays_of(tenant, 2026)["items"]
    ours = [item for item in items if item["source"] == "tenant"]
    assert ours == [
        {"date": "2026-12-24", "name": "Nochebuena", "source": "tenant", "id": created["id"]}
    ]
    position = [item["date"] for item in items].index("2026-12-24")
    assert items[position - 1]["date"] == "2026-12-08"
    assert items[position + 1]["date"] == "2026-12-25"
    assert holidays_of(tenant, 2027)["items"][0]["source"] == "official"
    assert all(item["source"] == "official" for item in holidays_of(tenant, 2027)["items"])


# -- business days -------------------------------------------------------------------------


def test_adding_business_days_skips_weekend_and_holidays(tenant: TenantHandle) -> None:
    # Wed 23 Dec 2026 + 3: Thu 24 (1), Fri 25 Christmas, Sat 26, Sun 27, Mon 28 (2), Tue 29 (3).
    assert add_days(tenant, "2026-12-23", 3) == "2026-12-29"
    # Fri 9 Jan 2026 + 1: Sat 10, Sun 11, Mon 12 the Epiphany moved, Tue 13 (1).
    assert add_days(tenant, "2026-01-09", 1) == "2026-01-13"
    # ... and back: Tue 13 - 1 skips Mon 12, Sun 11, Sat 10 and lands on Fri 9.
    assert add_days(tenant, "2026-01-13", -1) == "2026-01-09"
    # Wed 1 Apr 2026 + 1: Thu 2 and Fri 3 are Holy Week holidays, then the weekend: Mon 6.
    assert add_days(tenant, "2026-04-01", 1) == "2026-04-06"


def test_zero_days_rolls_forward_to_a_business_day(tenant: TenantHandle) -> None:
    assert add_days(tenant, "2026-01-08", 0) == "2026-01-08"  # a Thursday
    # Sat 10 Jan: Sunday, then the Epiphany on Monday 12: Tuesday 13.
    assert add_days(tenant, "2026-01-10", 0) == "2026-01-13"


def test_tenant_days_off_change_the_result(
    tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    response = day_off(tenant, "2026-12-24")
    assert response.status_code == 201, response.text
    # Thu 24 is now off too: Mon 28 (1), Tue 29 (2), Wed 30 (3).
    assert add_days(tenant, "2026-12-23", 3) == "2026-12-30"
    # The other tenant's calendar is untouched.
    assert add_days(other_tenant, "2026-12-23", 3) == "2026-12-29"
    # A day off in another country does not count in Colombia.
    assert day_off(other_tenant, "2026-12-24", country="US").status_code == 201
    assert add_days(other_tenant, "2026-12-23", 3) == "2026-12-29"


def test_configured_weekend(admin: Admin, tenant: TenantHandle) -> None:
    response = admin.subscribe(tenant.id, "calendar", {"weekend": [7]})
    assert response.status_code == 200, response.text
    assert response.json()["config"] == {"country": "CO", "subdivision": None, "weekend": [7]}
    # Saturdays work now: Fri 9 Jan + 1 is Sat 10.
    assert add_days(tenant, "2026-01-09", 1) == "2026-01-10"
    # Sat 10 (1), Sun 11 off, Mon 12 holiday, Tue 13 (2).
    assert add_days(tenant, "2026-01-09", 2) == "2026-01-13"


def test_configured_country_is_the_default(admin: Admin, tenant: TenantHandle) -> None:
    response = admin.subscribe(tenant.id, "calendar", {"country": "US", "subdivision": "CA"})
    assert response.status_code == 200, response.text
    listing = holidays_of(tenant, 2026)
    assert listing["country"] == "US"
    # Fri 3 Jul 2026 is the observed Independence Day (see above): Thu 2 + 1 is Mon 6.
    assert add_days(tenant, "2026-07-02", 1) == "2026-07-06"
    assert holidays_of(tenant, 2026, country="CO")["country"] == "CO"


def test_check_says_why_a_day_is_off(tenant: TenantHandle) -> None:
    assert day_off(tenant, "2026-12-24", "Nochebuena").status_code == 201

    def check(date: str) -> dict[str, Any]:
        response = tenant.get(f"{BASE}/business-days/check", params={"date": date})
        assert response.status_code == 200, response.text
        body = dict(response.json())
        assert body["date"] == date
        assert body["country"] == "CO"
        return body

    assert check("2026-01-06") == {
        "date": "2026-01-06",
        "country": "CO",
        "business_day": True,
        "reason": None,
        "holiday": None,
    }
    holiday = check("2026-01-12")
    assert (holiday["business_day"], holiday["reason"]) == (False, "holiday")
    assert holiday["holiday"]
    weekend = check("2026-01-10")
    assert (weekend["business_day"], weekend["reason"], weekend["holiday"]) == (
        False,
        "weekend",
        None,
    )
    own = check("2026-12-24")
    assert (own["business_day"], own["reason"], own["holiday"]) == (
        False,
        "tenant_holiday",
        "Nochebuena",
    )


# -- the tenant's own days off -------------------------------------------------------------


def test_add_read_list_delete_a_day_off(tenant: TenantHandle) -> None:
    response = day_off(tenant, "2026-12-24")
    assert response.status_code == 201, response.text
    created = response.json()
    assert len(created["id"]) == 32
    assert int(created["id"], 16) >= 0
    assert (created["date"], created["name"], created["country"]) == (
        "2026-12-24",
        "Company day off",
        "CO",
    )
    assert created["created_at"]
    path = f"{BASE}/holidays/custom/{created['id']}"
    assert tenant.get(path).json() == created
    [announced] = tenant.get("/v1/events", params={"type": "calendar.holiday_added"}).json()[
        "items"
    ]
    assert announced["subject"] == {"type": "holiday", "id": created["id"]}
    assert announced["payload"] == {
        "id": created["id"],
        "date": "2026-12-24",
        "name": "Company day off",
        "country": "CO",
    }
    assert custom_days(tenant) == [created]
    assert tenant.delete(path).status_code == 204
    assert_problem(tenant.get(path), 404, slug="not-found")
    assert_problem(tenant.delete(path), 404, slug="not-found")
    assert custom_days(tenant) == []


def test_custom_days_are_paginated(tenant: TenantHandle) -> None:
    made = {day_off(tenant, f"2026-03-0{day}").json()["id"] for day in (2, 3, 4)}
    first = tenant.get(f"{BASE}/holidays/custom", params={"limit": 2}).json()
    assert len(first["items"]) == 2
    assert first["next"]
    second = tenant.get(
        f"{BASE}/holidays/custom", params={"limit": 2, "cursor": first["next"]}
    ).json()
    assert len(second["items"]) == 1
    assert second["next"] is None
    assert {item["id"] for item in first["items"] + second["items"]} == made
    assert_problem(tenant.get(f"{BASE}/holidays/custom", params={"cursor": "not-a-cursor"}), 400)


def test_same_day_twice_is_409(tenant: TenantHandle, other_tenant: TenantHandle) -> None:
    assert day_off(tenant, "2026-12-24").status_code == 201
    body = assert_problem(day_off(tenant, "2026-12-24", "Again"), 409, slug="conflict")
    assert body["errors"][0]["pointer"] == "/date"
    assert_problem(day_off(tenant, "2026-12-24", country="CO"), 409, slug="conflict")
    # Another country, or another tenant, may have that day.
    assert day_off(tenant, "2026-12-24", country="US").status_code == 201
    assert day_off(other_tenant, "2026-12-24").status_code == 201
    assert len(custom_days(tenant)) == 2


def test_idempotent_retry_replays_the_first_answer(tenant: TenantHandle) -> None:
    headers = {"Idempotency-Key": "calendar-retry-1"}
    first = tenant.post(
        f"{BASE}/holidays", json={"date": "2026-12-31", "name": "Fin de año"}, headers=headers
    )
    again = tenant.post(
        f"{BASE}/holidays", json={"date": "2026-12-31", "name": "Fin de año"}, headers=headers
    )
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len(custom_days(tenant)) == 1


def test_another_tenants_day_off_is_invisible(
    tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    theirs = day_off(other_tenant, "2026-12-24").json()
    path = f"{BASE}/holidays/custom/{theirs['id']}"
    assert_problem(tenant.get(path), 404, slug="not-found")
    assert_problem(tenant.delete(path), 404, slug="not-found")
    assert custom_days(tenant) == []
    assert all(item["source"] == "official" for item in holidays_of(tenant, 2026)["items"])
    # The row is still there for its owner.
    response = other_tenant.get(path)
    assert response.status_code == 200
    assert response.json() == theirs


# -- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "where"),
    [
        ({"date": 20261224, "name": "x"}, 400, "/date"),
        ({"date": "2026-12-24", "name": 7}, 400, "/name"),
        ({"name": "No date"}, 400, "date"),
        ({"date": "2026-12-24"}, 400, "name"),
        ({"date": "24/12/2026", "name": "x"}, 400, "/date"),
        ({"date": "2026-02-30", "name": "x"}, 400, "/date"),
        ({"date": "2026-12-24", "name": ""}, 400, "/name"),
        ({"date": "2026-12-24", "name": "   "}, 400, "/name"),
        ({"date": "2026-12-24", "name": "x" * 201}, 400, "/name"),
        ({"date": "2026-12-24", "name": "x", "country": "co"}, 400, "/country"),
        ({"date": "2026-12-24", "name": "x", "colour": "red"}, 400, "colour"),
        ({"date": "2026-12-24", "name": "x", "country": "ZZ"}, 422, "/country"),
        ({"date": "1899-12-31", "name": "x"}, 422, "/date"),
        ([{"date": "2026-12-24", "name": "x"}], 400, "object"),
    ],
)
def test_bad_day_off_writes_nothing(
    tenant: TenantHandle, body: Any, status: int, where: str
) -> None:
    problem = assert_problem(tenant.post(f"{BASE}/holidays", json=body), status)
    if where.startswith("/"):
        assert where in {error.get("pointer") for error in problem["errors"]}, problem
    else:
        # A fault of the whole body (a missing or unexpected member, not an object): the
        # pointer is the body's root and the detail names the member.
        assert any(where in error["detail"] for error in problem["errors"]), problem
    assert custom_days(tenant) == []


def test_body_that_is_not_json_is_400(tenant: TenantHandle) -> None:
    response = tenant.post(
        f"{BASE}/holidays", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400)
    assert custom_days(tenant) == []


@pytest.mark.parametrize(
    ("path", "params", "status", "parameter"),
    [
        ("/holidays", {}, 400, "year"),
        ("/holidays", {"year": "soon"}, 400, "year"),
        ("/holidays", {"year": 1899}, 400, "year"),
        ("/holidays", {"year": 2201}, 400, "year"),
        ("/holidays", {"year": 2026, "country": "co"}, 400, "country"),
        ("/holidays", {"year": 2026, "country": "ZZ"}, 422, "country"),
        ("/business-days/add", {"date": "2026-01-09"}, 400, "days"),
        ("/business-days/add", {"date": "2026-01-09", "days": "two"}, 400, "days"),
        ("/business-days/add", {"date": "2026-01-09", "days": 3661}, 400, "days"),
        ("/business-days/add", {"days": 1}, 400, "date"),
        ("/business-days/add", {"date": "2026-02-30", "days": 1}, 400, "date"),
        ("/business-days/add", {"date": "9 Jan 2026", "days": 1}, 400, "date"),
        ("/business-days/add", {"date": "2201-01-01", "days": 1}, 422, "date"),
        ("/business-days/add", {"date": "2026-01-09", "days": 1, "country": "ZZ"}, 422, "country"),
        ("/business-days/check", {"date": "2026-13-01"}, 400, "date"),
        ("/business-days/check", {"date": "2026-01-09", "country": "XX"}, 422, "country"),
        ("/holidays/custom", {"limit": 0}, 400, "limit"),
        ("/holidays/custom/not-an-id", {}, 400, "holiday_id"),
    ],
)
def test_bad_parameters_are_problems(
    tenant: TenantHandle, path: str, params: dict[str, Any], status: int, parameter: str
) -> None:
    problem = assert_problem(tenant.get(BASE + path, params=params), status)
    assert parameter in {error.get("parameter") for error in problem["errors"]}, problem


def test_a_sum_leaving_the_calendar_is_422(tenant: TenantHandle) -> None:
    response = tenant.get(f"{BASE}/business-days/add", params={"date": "2200-12-20", "days": 30})
    assert_problem(response, 422, slug="unprocessable")


# -- subscription and access ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "pointer"),
    [
        ({"weekend": [6, 6]}, "/config/weekend"),
        ({"weekend": [0]}, "/config/weekend/0"),
        ({"weekend": [8]}, "/config/weekend/0"),
        ({"weekend": ["6"]}, "/config/weekend/0"),
        ({"weekend": [True]}, "/config/weekend/0"),
        ({"weekend": [1, 2, 3, 4, 5, 6, 7]}, "/config/weekend"),
        ({"weekend": "6,7"}, "/config/weekend"),
        ({"country": "ZZ"}, "/config/country"),
        ({"country": "CO", "subdivision": "XX"}, "/config/subdivision"),
        ({"colour": "red"}, "/config/colour"),
    ],
)
def test_bad_configuration_is_422_with_a_pointer(
    admin: Admin, tenant: TenantHandle, config: dict[str, Any], pointer: str
) -> None:
    response = admin.subscribe(tenant.id, "calendar", config)
    problem = assert_problem(response, 422, slug="invalid-configuration")
    assert pointer in {error["pointer"] for error in problem["errors"]}, problem
    # The subscription keeps its previous configuration.
    assert holidays_of(tenant, 2026)["country"] == "CO"


def test_default_configuration_is_stored_explicitly(admin: Admin, tenant: TenantHandle) -> None:
    response = admin.subscribe(tenant.id, "calendar", {"weekend": [7, 6], "country": "GB"})
    assert response.status_code == 200, response.text
    assert response.json()["config"] == {"country": "GB", "subdivision": None, "weekend": [6, 7]}


@pytest.mark.modules
def test_a_tenant_without_the_module_gets_403(tenant: TenantHandle) -> None:
    for response in (
        tenant.get(f"{BASE}/holidays", params={"year": 2026}),
        day_off(tenant, "2026-12-24"),
        tenant.get(f"{BASE}/business-days/add", params={"date": "2026-01-09", "days": 1}),
    ):
        problem = assert_problem(response, 403, slug="module-not-subscribed")
        assert problem["module"] == "calendar"


def test_calls_need_a_tenant_key(client: Any, admin: Admin) -> None:
    assert_problem(client.get(f"{BASE}/holidays", params={"year": 2026}), 401)
    operator = admin.request("GET", f"{BASE}/holidays", params={"year": 2026})
    assert_problem(operator, 403, slug="forbidden")


def test_registry_lists_the_module_its_actions_and_event(admin: Admin) -> None:
    response = admin.request("GET", "/v1/plugins")
    assert response.status_code == 200, response.text
    modules = {module["name"]: module for module in response.json()["modules"]}
    calendar = modules["calendar"]
    assert calendar["plugin"] == "calendar"
    assert calendar["actions"] == ["calendar.add_business_days", "calendar.is_business_day"]
    assert calendar["events"] == ["calendar.holiday_added"]


def test_tenant_document_includes_the_calendar(tenant: TenantHandle) -> None:
    response = tenant.get("/v1/openapi.json")
    assert response.status_code == 200, response.text
    paths = response.json()["paths"]
    assert {
        "/calendar/holidays",
        "/calendar/holidays/custom/{holiday_id}",
        "/calendar/business-days/add",
        "/calendar/business-days/check",
    } <= set(paths)
