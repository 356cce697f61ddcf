"""Conversations through HTTP: start, identity before anything, transcripts and their export,
the handover queue, content per tenant, training and retraining, tenancy, and bad input.

Understanding is the real one (``modules/bots/nlu``), as in production.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import uuid
from typing import Any

import pytest

from tests.common.actors import Admin, TenantHandle, assert_problem
from tests.common.ledger import new_account

BASE = "/v1/bots"
pytestmark = pytest.mark.modules("bots", "ledger", "offers")

# -- helpers -----------------------------------------------------------------------------------

REF = "CR-0012345678"


def account(tenant: TenantHandle, ref: str = REF, debtor_id: str | None = None) -> str:
    """An account (1,000.00 COP) whose reference ends in 5678 (of a new debtor by default)."""
    reference = f"{ref}-{uuid.uuid4().hex[:4]}5678"
    return str(new_account(tenant, debtor_id, external_ref=reference)["id"])


def start(tenant: TenantHandle, account_id: str, **more: Any) -> dict[str, Any]:
    response = tenant.post(f"{BASE}/conversations", json={"account_id": account_id, **more})
    assert response.status_code == 201, response.text
    return dict(response.json())


def say(tenant: TenantHandle, conversation_id: str, text: str, **more: Any) -> dict[str, Any]:
    response = tenant.post(
        f"{BASE}/conversations/{conversation_id}/messages", json={"text": text, **more}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


# -- tests ------------------------------------------------------------------------------------


def test_opening_says_disclosure_and_asks_identity_before_anything(tenant: TenantHandle) -> None:
    account_id = account(tenant)
    opened = start(tenant, account_id)
    assert opened["state"] == "verifying"
    assert "intento de cobro" in opened["reply"]  # the default Spanish disclosure
    assert "referencia" in opened["reply"]
    answer = say(tenant, opened["conversation"]["id"], "¿cuánto debo?")
    assert answer["state"] == "verifying"
    assert "$" not in answer["reply"] and "1.0" not in answer["reply"]
    assert [a["name"] for a in answer["turn"]["actions"]] == []


def test_bad_input_is_a_clear_problem_or_a_polite_answer(
    tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    conversation = start(tenant, account(tenant))["conversation"]["id"]
    url = f"{BASE}/conversations/{conversation}/messages"
    assert_problem(tenant.post(url, json={"text": ""}), 400)
    assert_problem(tenant.post(url, json={"text": "   "}), 422)
    long = say(tenant, conversation, "a" * 10_000)
    assert long["reply"] and len(long["turn"]["user_text"]) == 2000
    assert_problem(tenant.post(url, json={"text": "a" * 10_001}), 400)
    assert_problem(
        tenant.post(f"{BASE}/conversations/{'0' * 32}/messages", json={"text": "hola"}), 404
    )
    # Another tenant's conversation does not exist for this one.
    assert_problem(other_tenant.post(url, json={"text": "hola"}), 404)
    assert_problem(other_tenant.get(f"{BASE}/conversations/{conversation}"), 404)
    # After the end: a clear 409 naming the state.
    say(tenant, conversation, "STOP")
    ended = tenant.post(url, json={"text": "hola"})
    assert_problem(ended, 409)
    assert ended.json()["state"] == "ended"


def test_turns_record_intent_entities_and_actions_and_page(tenant: TenantHandle) -> None:
    conversation = start(tenant, account(tenant))["conversation"]["id"]
    say(tenant, conversation, "5678")
    say(tenant, conversation, "¿cuánto debo?")
    say(tenant, conversation, "puedo pagar 150 el viernes")
    first = tenant.get(f"{BASE}/conversations/{conversation}", params={"limit": 2}).json()
    assert [t["seq"] for t in first["turns"]["items"]] == [0, 1]
    rest = tenant.get(
        f"{BASE}/conversations/{conversation}",
        params={"limit": 2, "cursor": first["turns"]["next"]},
    ).json()
    assert [t["seq"] for t in rest["turns"]["items"]] == [2, 3]
    assert rest["turns"]["next"] is None
    balance, promise = rest["turns"]["items"]
    assert balance["intent"] == "balance" and balance["confidence"] > 0
    assert [a["name"] for a in balance["actions"]] == ["ledger.get_account"]
    assert balance["actions"][0]["ok"] is True
    assert promise["entities"]["amount"] == "150"
    friday = dt.date.fromisoformat(promise["entities"]["date"])
    assert friday.weekday() == 4
    assert promise["state_before"] == "verified" and promise["state_after"] == "confirming"
    listed = tenant.get(f"{BASE}/conversations", params={"state": "confirming"}).json()
    assert [c["id"] for c in listed["items"]] == [conversation]


def test_transcripts_export_as_json_lines_and_csv(tenant: TenantHandle) -> None:
    conversation = start(tenant, account(tenant))["conversation"]["id"]
    say(tenant, conversation, "5678")
    lines = tenant.get(f"{BASE}/transcripts/export").text.splitlines()
    rows = [json.loads(line) for line in lines]
    assert [(r["conversation_id"], r["seq"]) for r in rows] == [
        (conversation, 0),
        (conversation, 1),
    ]
    assert rows[1]["user_text"] == "5678" and rows[1]["state_after"] == "verified"
    csv_text = tenant.get(f"{BASE}/transcripts/export", params={"format": "csv"})
    assert csv_text.headers["content-type"].startswith("text/csv")
    parsed = list(csv.DictReader(csv_text.text.splitlines()))
    assert [r["seq"] for r in parsed] == ["0", "1"]
    assert parsed[1]["actions"] == "ledger.get_account"
    assert_problem(tenant.get(f"{BASE}/transcripts/export", params={"since": "yesterday"}), 400)
    later = tenant.get(f"{BASE}/transcripts/export", params={"since": "2999-01-01T00:00:00+00:00"})
    assert later.text == ""


def test_tenants_see_only_their_own_conversations(
    tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    mine = start(tenant, account(tenant))["conversation"]["id"]
    say(tenant, mine, "quiero hablar con un asesor")
    theirs = start(other_tenant, account(other_tenant))["conversation"]["id"]
    assert [c["id"] for c in tenant.get(f"{BASE}/conversations").json()["items"]] == [mine]
    assert [c["id"] for c in other_tenant.get(f"{BASE}/conversations").json()["items"]] == [theirs]
    assert other_tenant.get(f"{BASE}/handovers").json()["items"] == []
    assert len(tenant.get(f"{BASE}/handovers").json()["items"]) == 1
    exported = other_tenant.get(f"{BASE}/transcripts/export").text
    assert mine not in exported and theirs in exported
    # Another tenant's account is unknown to this tenant's ledger: identity cannot pass.
    foreign = start(tenant, account(other_tenant))["conversation"]["id"]
    assert say(tenant, foreign, "5678")["state"] == "handover"


def test_start_needs_someone_to_talk_to(tenant: TenantHandle) -> None:
    assert_problem(tenant.post(f"{BASE}/conversations", json={}), 422)
    assert_problem(tenant.post(f"{BASE}/conversations", json={"channel": "fax"}), 400)
    english = start(tenant, account(tenant), locale="en")
    assert english["reply"].startswith("Hi!") and "attempt to collect a debt" in english["reply"]


def test_tenant_content_overrides_templates_per_locale(tenant: TenantHandle) -> None:
    shipped = tenant.get(f"{BASE}/content/es").json()["templates"]
    assert shipped["opening"]["custom"] is False
    body = {"templates": {"opening": "Hola, soy {{ bot_name }} de Cobros Acme. ¿{{ challenge }}?"}}
    put = tenant.put(f"{BASE}/content/es", json=body)
    assert put.status_code == 200, put.text
    assert put.json()["templates"]["opening"]["custom"] is True
    opened = start(tenant, account(tenant))
    assert opened["reply"].startswith("Hola, soy Almi de Cobros Acme.")
    # A broken template, a sandbox escape and an unknown key: all refused, nothing stored.
    bad = {
        "templates": {
            "greet": "{% if %}",
            "bye": "{{ ''.__class__.__mro__ }}",
            "nonsense": "x",
        }
    }
    problem = assert_problem(tenant.put(f"{BASE}/content/es", json=bad), 422)
    assert {e["pointer"] for e in problem["errors"]} == {
        "/templates/greet",
        "/templates/bye",
        "/templates/nonsense",
    }
    assert tenant.get(f"{BASE}/content/es").json()["templates"]["greet"]["custom"] is False
    reset = tenant.put(f"{BASE}/content/es", json={"templates": {"opening": None}})
    assert reset.json()["templates"]["opening"]["custom"] is False
    assert_problem(tenant.get(f"{BASE}/content/fr"), 404)


def test_training_examples_and_retraining(tenant: TenantHandle) -> None:
    example = {"intent": "balance", "language": "es", "text": "¿cuál es mi deuda con ustedes?"}
    created = tenant.post(f"{BASE}/training/examples", json=example)
    assert created.status_code == 201, created.text
    assert [e["text"] for e in tenant.get(f"{BASE}/training/examples").json()["items"]] == [
        example["text"]
    ]
    unknown = {**example, "intent": "lottery"}
    assert_problem(tenant.post(f"{BASE}/training/examples", json=unknown), 422)
    first = tenant.post(f"{BASE}/training/retrain")
    assert first.status_code == 201, first.text
    assert first.json()["version"] == 1 and first.json()["examples"] == 1
    # The retrained model answers the next message.
    conversation = start(tenant, account(tenant))["conversation"]["id"]
    say(tenant, conversation, "5678")
    assert say(tenant, conversation, "¿cuánto debo?")["turn"]["intent"] == "balance"


def test_config_in_force_and_checked(tenant: TenantHandle, admin: Admin) -> None:
    config = tenant.get(f"{BASE}/config").json()
    assert config["identity"] == {"field": "account_ref_last4", "attempts": 3}
    assert config["default_locale"] == "es" and config["max_turns"] == 30
    bad = {"handover_hours": {"start": "20:00", "end": "08:00"}, "identity": {"attempts": 0}}
    problem = assert_problem(admin.subscribe(tenant.id, "bots", bad), 422)
    assert "handover_hours" in str(problem["errors"]) and "identity" in str(problem["errors"])
    friendly = {"tone": "friendly", "bot_name": "Lupe", "default_locale": "en"}
    assert admin.subscribe(tenant.id, "bots", friendly).status_code == 200
    opened = start(tenant, account(tenant))
    assert opened["conversation"]["locale"] == "en" and "I am Lupe" in opened["reply"]
