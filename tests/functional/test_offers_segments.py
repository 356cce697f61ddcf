"""The policy rule follows scoring's segment when a menu request names none: the menu asks
``scoring.segment`` (the tenant's segment rules over the ledger's facts) and says so."""

from __future__ import annotations

from typing import Any

import pytest

from tests.common.actors import TenantHandle
from tests.common.ledger import money, new_account

BASE = "/v1/offers"

#: Scoring's rules: balances above 5,000 are the "big" segment, the rest "standard".
SEGMENTS: dict[str, Any] = {
    "rules": [
        {
            "name": "big-balance",
            "if": "balance > decimal('5000')",
            "segment": "big",
            "treatments": ["payment_plan"],
        }
    ],
    "default": {"segment": "standard", "treatments": ["email_reminder"]},
}


def policy() -> dict[str, Any]:
    """A generous rule for the "big" segment (40 % off), 10 % off by default."""
    terms = {
        "max_discount": "0.10",
        "instalment_counts": [3, 6],
        "min_instalment": money("50.00"),
        "max_term_months": 6,
        "refinancing_rate": "0.12",
        "validity_days": 7,
    }
    big = {**terms, "name": "big-ones", "when": {"segments": ["big"]}, "max_discount": "0.40"}
    return {"currency": "COP", "rules": [big], "default": terms}


def menu(tenant: TenantHandle, **body: Any) -> dict[str, Any]:
    response = tenant.post(f"{BASE}/menu", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def settlement_discount(answer: dict[str, Any]) -> str:
    [settle] = [o for o in answer["offers"] if o["kind"] == "settlement"]
    return str(settle["discount"])


@pytest.mark.modules("offers", "ledger", "scoring")
def test_scorings_segment_chooses_the_rule(tenant: TenantHandle) -> None:
    assert tenant.put("/v1/scoring/segments/rules", json=SEGMENTS).status_code == 201
    assert tenant.put(f"{BASE}/policy", json=policy()).status_code == 201
    big = new_account(tenant, principal=money("10000.00"))
    small = new_account(tenant, principal=money("1000.00"))

    answer = menu(tenant, account_id=big["id"])
    assert (answer["rule"], answer["segment_source"]) == ("big-ones", "scoring")
    assert settlement_discount(answer) == "0.4000"
    answer = menu(tenant, account_id=small["id"])
    assert (answer["rule"], answer["segment_source"]) == (None, "scoring")
    assert settlement_discount(answer) == "0.1000"
    # A segment named in the request wins over scoring's.
    named = menu(tenant, account_id=big["id"], segment="standard")
    assert (named["rule"], named["segment_source"]) == (None, "request")
    # The assignment scoring made is scoring's own record, kept with history.
    history = tenant.get("/v1/scoring/segments/assignments", params={"account_id": big["id"]})
    assert [a["segment"] for a in history.json()["items"]] == ["big"]


@pytest.mark.modules("offers", "ledger", "scoring")
def test_scoring_without_segment_rules_leaves_the_default(tenant: TenantHandle) -> None:
    assert tenant.put(f"{BASE}/policy", json=policy()).status_code == 201
    big = new_account(tenant, principal=money("10000.00"))
    answer = menu(tenant, account_id=big["id"])
    assert (answer["rule"], answer["segment_source"]) == (None, None)


@pytest.mark.modules("offers", "ledger")
def test_without_scoring_no_segment_is_guessed(tenant: TenantHandle) -> None:
    assert tenant.put(f"{BASE}/policy", json=policy()).status_code == 201
    big = new_account(tenant, principal=money("10000.00"))
    answer = menu(tenant, account_id=big["id"])
    assert (answer["rule"], answer["segment_source"]) == (None, None)
    named = menu(tenant, account_id=big["id"], segment="big")
    assert (named["rule"], named["segment_source"]) == ("big-ones", "request")
