"""Conversation stories: YAML files of debtor turns with the bot's expected intents, actions,
states and reply fragments, each run through HTTP against a real ledger and offer policy.

A story (``tests/functional/bot_stories/*.yaml``, a list per file) has ``name``, optional
``locale``, ``modules`` (default bots, ledger and offers), ``unsubscribe`` (modules dropped
once the account is open), ``policy`` (store the offer policy of ``test_offers_lifecycle``),
``config`` (the bots configuration), ``debtor`` (the account's debtor's fields, ``{uid}`` in
its ``external_ref`` made unique), ``turns`` and expectations on the whole conversation:
``outcome``, ``events`` (types that must have been emitted), ``no_events``, ``handover`` (the
queue's reason), ``promises`` (how many the ledger holds) and ``promise_amount``. A turn has
``user`` (``{last4}`` is the account reference's end), optional ``message_id``, and what to
expect: ``state``, ``intent``, ``actions`` (the names called, in order), ``reply_has`` /
``reply_lacks`` (case-insensitive fragments), ``replayed``, ``status``.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.common.actors import Admin, TenantHandle
from tests.common.ledger import new_debtor
from tests.functional.test_bots_conversations import BASE, account, start
from tests.functional.test_offers_lifecycle import BASE as OFFERS
from tests.functional.test_offers_lifecycle import policy

STORIES = Path(__file__).parent / "bot_stories"


def _load() -> list[Any]:
    found = []
    for path in sorted(STORIES.glob("*.yaml")):
        for story in yaml.safe_load(path.read_text(encoding="utf-8")):
            found.append(pytest.param(story, id=f"{path.stem}: {story['name']}"))
    return found


ALL = _load()


def test_there_are_enough_stories() -> None:
    assert len(ALL) >= 30


def _events(tenant: TenantHandle) -> list[dict[str, Any]]:
    response = tenant.get("/v1/events", params={"limit": 500})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


@pytest.mark.parametrize("story", ALL)
def test_story(story: dict[str, Any], admin: Admin) -> None:
    modules = story.get("modules", ["bots", "ledger", "offers"])
    tenant = admin.new_tenant(modules=modules)
    if story.get("config"):
        assert admin.subscribe(tenant.id, "bots", story["config"]).status_code == 200
    if story.get("policy") and "offers" in modules:
        assert tenant.put(f"{OFFERS}/policy", json=policy()).status_code == 201
    if story.get("debtor"):
        fields = dict(story["debtor"])
        fields["external_ref"] = fields["external_ref"].replace("{uid}", uuid.uuid4().hex[:8])
        debtor = new_debtor(tenant, **fields)
        account_id = account(tenant, debtor_id=debtor["id"])
    else:
        account_id = account(tenant)
    for module in story.get("unsubscribe", []):
        gone = admin.request("DELETE", f"/v1/tenants/{tenant.id}/subscriptions/{module}")
        assert gone.status_code == 204, gone.text
    opened = start(tenant, account_id, **({"locale": story["locale"]} if "locale" in story else {}))
    conversation = opened["conversation"]["id"]
    for number, step in enumerate(story["turns"], 1):
        where = f"turn {number} ({step['user']!r})"
        body: dict[str, Any] = {"text": str(step["user"]).replace("{last4}", "5678")}
        if "message_id" in step:
            body["message_id"] = step["message_id"]
        response = tenant.post(f"{BASE}/conversations/{conversation}/messages", json=body)
        assert response.status_code == step.get("status", 200), f"{where}: {response.text}"
        if response.status_code != 200:
            continue
        answer = response.json()
        reply = answer["reply"].lower()
        if "state" in step:
            assert answer["state"] == step["state"], f"{where}: {answer['reply']}"
        if "intent" in step:
            assert answer["turn"]["intent"] == step["intent"], where
        if "actions" in step:
            called = [a["name"] for a in answer["turn"]["actions"]]
            assert called == step["actions"], f"{where}: {answer['turn']['actions']}"
        for fragment in step.get("reply_has", []):
            assert str(fragment).lower() in reply, f"{where}: {answer['reply']}"
        for fragment in step.get("reply_lacks", []):
            assert str(fragment).lower() not in reply, f"{where}: {answer['reply']}"
        if "replayed" in step:
            assert answer["replayed"] is step["replayed"], where
    final = tenant.get(f"{BASE}/conversations/{conversation}").json()
    if "outcome" in story:
        assert final["conversation"]["outcome"] == story["outcome"]
    emitted = {e["type"] for e in _events(tenant)}
    for kind in story.get("events", []):
        assert kind in emitted, f"{kind} not emitted: {sorted(emitted)}"
    for kind in story.get("no_events", []):
        assert kind not in emitted, f"{kind} emitted"
    if "handover" in story:
        queue = tenant.get(f"{BASE}/handovers").json()["items"]
        assert [item["reason"] for item in queue] == [story["handover"]]
        assert queue[0]["transcript"][0]["seq"] == 0  # the transcript goes with it
    if "promises" in story:
        listed = tenant.get(f"/v1/ledger/accounts/{account_id}/promises").json()["items"]
        assert len(listed) == story["promises"]
        if story["promises"] and "promise_amount" in story:
            assert listed[0]["amount"]["amount"] == story["promise_amount"]
