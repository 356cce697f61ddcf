"""Service blueprints through HTTP: apply, versions, rules firing on real ledger events,
experiments, dry runs, the depth limit and the wall between tenants."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from almacen.gateway.app import gateway_of
from almacen.gateway.events import Event, emit
from almacen.gateway.money import Money
from almacen.gateway.services.engine import arm_for_bucket, assign_bucket
from almacen.gateway.services.models import (
    ExperimentAssignment,
    RuleRun,
    Service,
    ServiceVersion,
)
from tests.common.actors import Admin, TenantHandle, assert_problem
from tests.common.ledger import new_account, pay

pytestmark = pytest.mark.modules("ledger", "calendar")

TODAY = dt.date.today().isoformat()


def follow_up(**changes: Any) -> dict[str, Any]:
    """A valid blueprint: a payment over 50 books a promise due 5 business days later."""
    document: dict[str, Any] = {
        "description": "Promise after a payment",
        "modules": {"ledger": {"config": {"max_open_promises": 10}}, "calendar": {}},
        "outcomes": [
            {"name": "payments", "event": "ledger.payment_posted"},
            {"name": "collected", "event": "ledger.payment_posted", "sum": "amount.amount"},
        ],
        "rules": [
            {
                "name": "promise-after-payment",
                "when": "ledger.payment_posted",
                "with": {
                    "account": {
                        "action": "ledger.get_account",
                        "input": {"account_id": "${event.payload.account_id}"},
                    }
                },
                "if": "decimal(event.payload.amount) > 50 and account.days_past_due >= 0",
                "do": [
                    {
                        "name": "due",
                        "action": "calendar.add_business_days",
                        "input": {"date": "${event.payload.received_on}", "days": 5},
                    },
                    {
                        "action": "ledger.create_promise",
                        "input": {
                            "account_id": "${event.payload.account_id}",
                            "amount": "${money(decimal(event.payload.amount) / 2, 'COP')}",
                            "due_on": "${steps.due.result}",
                        },
                    },
                ],
            }
        ],
    }
    document.update(changes)
    return document


def apply(tenant: TenantHandle, name: str, document: Any) -> Any:
    return tenant.put(f"/v1/services/{name}", json=document)


def drain(app: Any) -> None:
    gateway_of(app).dispatcher.drain()


def promises_of(tenant: TenantHandle, account_id: str) -> list[dict[str, Any]]:
    response = tenant.get(f"/v1/ledger/accounts/{account_id}/promises")
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def runs_of(tenant: TenantHandle, name: str, **params: Any) -> list[dict[str, Any]]:
    response = tenant.get(f"/v1/services/{name}/runs", params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def count_rows(app: Any, tenant_id: str) -> dict[str, int]:
    from almacen.modules.ledger.models import Payment, Promise

    with gateway_of(app).db.transaction(tenant_id=tenant_id) as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (
                Event,
                RuleRun,
                ExperimentAssignment,
                Service,
                ServiceVersion,
                Payment,
                Promise,
            )
        }


# -- applying and versions -----------------------------------------------------------------


def test_apply_get_list_versions_and_restore(tenant: TenantHandle) -> None:
    created = apply(tenant, "follow-up", follow_up())
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1 and created.json()["changed"] is True

    again = apply(tenant, "follow-up", follow_up())
    assert again.status_code == 200
    assert again.json()["version"] == 1 and again.json()["changed"] is False

    second = apply(tenant, "follow-up", follow_up(description="v2"))
    assert second.status_code == 200 and second.json()["version"] == 2

    got = tenant.get("/v1/services/follow-up").json()
    assert got["version"] == 2 and got["document"]["description"] == "v2"
    listed = tenant.get("/v1/services").json()["items"]
    assert [s["name"] for s in listed] == ["follow-up"]
    versions = tenant.get("/v1/services/follow-up/versions").json()["items"]
    assert [(v["version"], v["active"]) for v in versions] == [(1, False), (2, True)]

    restored = tenant.post("/v1/services/follow-up/versions/1/restore")
    assert restored.status_code == 200, restored.text
    assert restored.json()["version"] == 1
    assert tenant.get("/v1/services/follow-up").json()["description"] == "Promise after a payment"
    assert_problem(tenant.post("/v1/services/follow-up/versions/9/restore"), 404)


def test_blueprint_module_config_is_applied_to_the_subscription(
    admin: Admin, tenant: TenantHandle
) -> None:
    assert apply(tenant, "follow-up", follow_up()).status_code == 201
    subscriptions = admin.request("GET", f"/v1/tenants/{tenant.id}/subscriptions").json()
    ledger = next(s for s in subscriptions["items"] if s["module"] == "ledger")
    assert ledger["config"]["max_open_promises"] == 10


def test_yaml_body_is_accepted(tenant: TenantHandle) -> None:
    response = tenant.put("/v1/services/from-yaml", json={"yaml": yaml.safe_dump(follow_up())})
    assert response.status_code == 201, response.text
    assert response.json()["document"]["rules"][0]["name"] == "promise-after-payment"


def test_malformed_yaml_is_a_bad_request(tenant: TenantHandle) -> None:
    response = tenant.put("/v1/services/broken", json={"yaml": "rules: [unclosed\n  - x: : :"})
    body = assert_problem(response, 400, slug="bad-request")
    assert "YAML" in body["detail"]
    assert_problem(tenant.get("/v1/services/broken"), 404)


def test_yaml_that_is_not_a_mapping_is_422(tenant: TenantHandle) -> None:
    response = tenant.put("/v1/services/listed", json={"yaml": "- a\n- b\n"})
    body = assert_problem(response, 422, slug="blueprint-invalid")
    assert body["errors"][0]["pointer"] == ""


def _rule(document: dict[str, Any]) -> dict[str, Any]:
    return dict(document["rules"][0])


def _bad(kind: str) -> tuple[dict[str, Any], str, str]:
    """A blueprint with one fault of ``kind``; the pointer and a word of the detail."""
    doc = copy.deepcopy(follow_up())
    rule = doc["rules"][0]
    if kind == "unknown module":
        doc["modules"]["scoring_x"] = {}
        return doc, "/modules/scoring_x", "not installed"
    if kind == "unsubscribed module":  # the test unsubscribes the tenant from calendar
        return doc, "/modules/calendar", "subscribe"
    if kind == "undeclared module":
        del doc["modules"]["calendar"]
        return doc, "/rules/0/do/0/action", "does not list"
    if kind == "unknown action":
        rule["do"][0]["action"] = "calendar.teleport"
        return doc, "/rules/0/do/0/action", "no action"
    if kind == "unknown event":
        rule["when"] = "ledger.moon_landed"
        return doc, "/rules/0/when", "no event"
    if kind == "unknown payload field":
        rule["if"] = "event.payload.colour == 'red'"
        return doc, "/rules/0/if", "colour"
    if kind == "syntax error":
        rule["if"] = "event.payload.amount >"
        return doc, "/rules/0/if", "syntax"
    if kind == "forbidden function":
        rule["if"] = "__import__('os')"
        return doc, "/rules/0/if", "unknown function"
    if kind == "unknown template reference":
        rule["do"][1]["input"]["due_on"] = "${steps.nowhere.result}"
        return doc, "/rules/0/do/1/input/due_on", "nowhere"
    if kind == "arm weights":
        step = rule.pop("do")
        rule["arms"] = [
            {"name": "a", "weight": 70, "do": step},
            {"name": "b", "weight": 20, "do": step},
        ]
        return doc, "/rules/0/arms", "90"
    if kind == "duplicate arms":
        step = rule.pop("do")
        rule["arms"] = [
            {"name": "a", "weight": 50, "do": step},
            {"name": "a", "weight": 50, "do": step},
        ]
        return doc, "/rules/0/arms/1/name", "twice"
    if kind == "duplicate rules":
        doc["rules"].append(copy.deepcopy(rule))
        return doc, "/rules/1/name", "twice"
    if kind == "bad literal input":
        rule["do"][0]["input"]["days"] = "many"
        return doc, "/rules/0/do/0/input/days", "integer"
    if kind == "missing required input":
        del rule["do"][1]["input"]["due_on"]
        return doc, "/rules/0/do/1/input/due_on", "required"
    if kind == "unknown input field":
        rule["do"][1]["input"]["colour"] = "red"
        return doc, "/rules/0/do/1/input/colour", "Unknown"
    if kind == "module config":
        doc["modules"]["ledger"]["config"] = {"max_open_promises": 99}
        return doc, "/modules/ledger/config/max_open_promises", "ledger configuration"
    if kind == "wrong type":
        rule["do"] = "ledger.create_promise"
        return doc, "/rules/0/do", "list"
    if kind == "unknown key":
        rule["then"] = []
        return doc, "/rules/0/then", "Unknown"
    if kind == "float literal":
        rule["if"] = "decimal(event.payload.amount) > 50.5"
        return doc, "/rules/0/if", "float"
    if kind == "bad outcome":
        doc["outcomes"][1]["sum"] = "amount.value"
        return doc, "/outcomes/1/sum", "amount.value"
    if kind == "wrong service name":
        doc["service"] = "another"
        return doc, "/service", "another"
    raise AssertionError(kind)


BAD_KINDS = [
    "unknown module",
    "unsubscribed module",
    "undeclared module",
    "unknown action",
    "unknown event",
    "unknown payload field",
    "syntax error",
    "forbidden function",
    "unknown template reference",
    "arm weights",
    "duplicate arms",
    "duplicate rules",
    "bad literal input",
    "missing required input",
    "unknown input field",
    "module config",
    "wrong type",
    "unknown key",
    "float literal",
    "bad outcome",
    "wrong service name",
]


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_bad_blueprint_is_422_and_the_active_version_is_untouched(
    app: Any, admin: Admin, tenant: TenantHandle, kind: str
) -> None:
    assert apply(tenant, "follow-up", follow_up()).status_code == 201
    if kind == "unsubscribed module":
        gone = admin.request("DELETE", f"/v1/tenants/{tenant.id}/subscriptions/calendar")
        assert gone.status_code == 204
    before = count_rows(app, tenant.id)
    document, pointer, word = _bad(kind)

    body = assert_problem(apply(tenant, "follow-up", document), 422, slug="blueprint-invalid")

    faults = {e["pointer"]: e["detail"] for e in body["errors"]}
    assert pointer in faults, body["errors"]
    assert word.lower() in faults[pointer].lower(), faults[pointer]
    active = tenant.get("/v1/services/follow-up").json()
    assert active["version"] == 1 and active["document"] == follow_up()
    assert count_rows(app, tenant.id) == before


def test_every_fault_is_reported_at_once(tenant: TenantHandle) -> None:
    doc = follow_up()
    doc["modules"]["nowhere"] = {}
    doc["rules"][0]["when"] = "ledger.moon_landed"
    doc["rules"][0]["do"][0]["action"] = "calendar.teleport"
    body = assert_problem(apply(tenant, "many", doc), 422, slug="blueprint-invalid")
    pointers = {e["pointer"] for e in body["errors"]}
    assert {"/modules/nowhere", "/rules/0/when", "/rules/0/do/0/action"} <= pointers
    assert_problem(tenant.get("/v1/services/many"), 404)


# -- rules running on real events ------------------------------------------------------------


def test_payment_fires_the_rule_end_to_end(app: Any, tenant: TenantHandle) -> None:
    assert apply(tenant, "follow-up", follow_up()).status_code == 201
    account = new_account(tenant)
    assert pay(tenant, account["id"], "100.00", TODAY).status_code == 201
    assert promises_of(tenant, account["id"]) == []  # nothing runs before delivery

    drain(app)

    promises = promises_of(tenant, account["id"])
    assert len(promises) == 1
    assert promises[0]["amount"] == {"amount": "50.00", "currency": "COP"}
    [run] = runs_of(tenant, "follow-up")
    assert run["outcome"] == "fired" and run["rule"] == "promise-after-payment"
    assert run["subject"] == {"type": "account", "id": account["id"]}
    assert [s["action"] for s in run["steps"]] == [
        "ledger.get_account",
        "calendar.add_business_days",
        "ledger.create_promise",
    ]
    assert promises[0]["due_on"] == run["steps"][1]["output"]["result"] > TODAY
    with gateway_of(app).db.transaction(tenant_id=tenant.id) as session:
        caused = session.scalars(select(Event).where(Event.type == "ledger.promise_created")).all()
    assert [(e.service, e.rule, e.depth, e.cause_id) for e in caused] == [
        ("follow-up", "promise-after-payment", 1, run["event_id"])
    ]


def test_redelivered_event_runs_no_rule_twice(app: Any, tenant: TenantHandle) -> None:
    assert apply(tenant, "follow-up", follow_up()).status_code == 201
    account = new_account(tenant)
    assert pay(tenant, account["id"], "100.00", TODAY).status_code == 201
    drain(app)
    [run] = runs_of(tenant, "follow-up")

    gateway = gateway_of(app)
    with gateway.db.transaction(tenant_id=tenant.id) as session:
        assert gateway.dispatcher.replay(session, run["event_id"]) is not None
    drain(app)

    assert len(promises_of(tenant, account["id"])) == 1
    assert len(runs_of(tenant, "follow-up")) == 1


def test_false_condition_skips(app: Any, tenant: TenantHandle) -> None:
    assert apply(tenant, "follow-up", follow_up()).status_code == 201
    account = new_account(tenant)
    assert pay(tenant, account["id"], "10.00", TODAY).status_code == 201
    drain(app)
    assert promises_of(tenant, account["id"]) == []
    [run] = runs_of(tenant, "follow-up")
    assert run["outcome"] == "skipped" and run["reason"] == "condition is false"


def test_an_action_that_cannot_succeed_is_a_failed_run(app: Any, tenant: TenantHandle) -> None:
    doc = follow_up()
    doc["rules"][0]["do"][1]["input"]["amount"] = {"amount": "5.00", "currency": "USD"}
    assert apply(tenant, "follow-up", doc).status_code == 201
    account = new_account(tenant)
    assert pay(tenant, account["id"], "100.00", TODAY).status_code == 201
    drain(app)

    [run] = runs_of(tenant, "follow-up")
    assert run["outcome"] == "failed"
    assert "currency" in run["reason"].lower() or "USD" in run["reason"]
    assert "error" in run["steps"][-1]
    assert promises_of(tenant, account["id"]) == []
    with gateway_of(app).db.transaction(tenant_id=tenant.id) as session:
        event = session.get(Event, run["event_id"])
        assert event is not None and event.status == "delivered"


def test_inactive_service_runs_nothing(app: Any, tenant: TenantHandle) -> None:
    assert apply(tenant, "follow-up", follow_up()).status_code == 201
    assert tenant.delete("/v1/services/follow-up").status_code == 204
    assert tenant.get("/v1/services/follow-up").json()["status"] == "inactive"
    account = new_account(tenant)
    assert pay(tenant, account["id"], "100.00", TODAY).status_code == 201
    drain(app)
    assert runs_of(tenant, "follow-up") == []
    assert promises_of(tenant, account["id"]) == []


def test_rules_that_trigger_each_other_stop_at_the_depth_limit(
    app: Any, tenant: TenantHandle
) -> None:
    doc = {
        "modules": {"ledger": {"config": {"max_open_promises": 10}}},
        "rules": [
            {
                "name": "promise-on-payment",
                "when": "ledger.payment_posted",
                "do": [
                    {
                        "action": "ledger.create_promise",
                        "input": {
                            "account_id": "${event.payload.account_id}",
                            "amount": {"amount": "1.00", "currency": "COP"},
                            "due_on": "${add_days(date(event.occurred_at), 30)}",
                        },
                    }
                ],
            },
            {
                "name": "payment-on-promise",
                "when": "ledger.promise_created",
                "do": [
                    {
                        "action": "ledger.post_payment",
                        "input": {
                            "account_id": "${event.payload.account_id}",
                            "external_id": "loop-${event.payload.promise_id}",
                            "amount": {"amount": "1.00", "currency": "COP"},
                            "received_on": "${date(event.occurred_at)}",
                        },
                    }
                ],
            },
        ],
    }
    assert apply(tenant, "loop", doc).status_code == 201, apply(tenant, "loop", doc).text
    account = new_account(tenant)
    assert pay(tenant, account["id"], "100.00", TODAY).status_code == 201

    drain(app)

    limit = gateway_of(app).settings.rule_depth_limit
    runs = runs_of(tenant, "loop")
    fired = [r for r in runs if r["outcome"] == "fired"]
    skipped = [r for r in runs if r["outcome"] == "skipped"]
    assert len(fired) == limit
    assert [r["depth"] for r in fired] == list(range(limit))
    assert len(skipped) == 1 and skipped[0]["depth"] == limit
    assert "depth limit" in skipped[0]["reason"]
    with gateway_of(app).db.transaction(tenant_id=tenant.id) as session:
        depths = session.scalars(select(Event.depth).where(Event.service == "loop")).all()
        pending = session.scalar(
            select(func.count()).select_from(Event).where(Event.status != "delivered")
        )
    assert max(depths) == limit and pending == 0


# -- experiments -----------------------------------------------------------------------------


def split(**changes: Any) -> dict[str, Any]:
    doc = follow_up(**changes)
    rule = doc["rules"][0]
    plan = rule.pop("do")
    rule["arms"] = [
        {"name": "promise", "weight": 80, "do": plan},
        {
            "name": "nothing",
            "weight": 20,
            "do": [
                {"action": "ledger.get_account", "input": {"account_id": "${event.subject.id}"}}
            ],
        },
    ]
    return doc


def test_split_assigns_deterministically_and_reports_outcomes(
    app: Any, tenant: TenantHandle
) -> None:
    assert apply(tenant, "split", split()).status_code == 201
    accounts = [new_account(tenant)["id"] for _ in range(6)]
    for account_id in accounts:
        assert pay(tenant, account_id, "100.00", TODAY).status_code == 201
    drain(app)
    # A second payment of each after assignment: the outcomes.
    for account_id in accounts:
        assert pay(tenant, account_id, "60.00", TODAY).status_code == 201
    drain(app)

    rule = "promise-after-payment"
    runs = runs_of(tenant, "split", outcome="fired")
    assert len(runs) == 12
    expected = {}
    for account_id in accounts:
        from almacen.gateway.services.blueprint import load_blueprint

        blueprint, _ = load_blueprint(split())
        assert blueprint is not None
        expected[account_id] = arm_for_bucket(
            blueprint.rules[0], assign_bucket("split", rule, "account", account_id)
        )
    for run in runs:
        assert run["arm"] == expected[run["subject"]["id"]]
    for account_id in accounts:
        promised = len(promises_of(tenant, account_id))
        assert promised == (2 if expected[account_id] == "promise" else 0)

    report = tenant.get("/v1/services/split/experiments")
    assert report.status_code == 200, report.text
    [experiment] = report.json()["experiments"]
    assert experiment["rule"] == rule and experiment["champion"] == "promise"
    arms = {arm["name"]: arm for arm in experiment["arms"]}
    for name in ("promise", "nothing"):
        subjects = sum(1 for arm in expected.values() if arm == name)
        assert arms[name]["subjects"] == subjects
        payments = arms[name]["outcomes"]["payments"]
        assert payments["subjects"] == subjects  # each paid again after assignment
        assert payments["rate"] == (1.0 if subjects else 0.0)
        assert Decimal(arms[name]["outcomes"]["collected"]["sum"]) == 60 * subjects
    [comparison] = [c for c in experiment["comparisons"] if c["outcome"] == "payments"]
    assert comparison["challenger"] == "nothing" and comparison["significant"] is False


# -- dry run ------------------------------------------------------------------------------


def test_simulate_shows_what_would_run_and_changes_nothing(app: Any, tenant: TenantHandle) -> None:
    assert apply(tenant, "split", split()).status_code == 201
    account = new_account(tenant)
    before = count_rows(app, tenant.id)
    event = {
        "type": "ledger.payment_posted",
        "subject": {"type": "account", "id": account["id"]},
        "payload": {
            "payment_id": "p" * 32,
            "account_id": account["id"],
            "external_id": "sim-1",
            "amount": {"amount": "100.00", "currency": "COP"},
            "received_on": TODAY,
            "entry_id": "e" * 32,
        },
    }

    response = tenant.post("/v1/services/split/simulate", json={"event": event})

    assert response.status_code == 200, response.text
    [rule] = response.json()["rules"]
    assert rule["fires"] is True and rule["arm"] in ("promise", "nothing")
    assert rule["lookups"]["account"]["output"]["account"]["id"] == account["id"]
    if rule["arm"] == "promise":
        due, promise = rule["actions"]
        assert due["input"] == {"date": TODAY, "days": 5} and due["errors"] == []
        assert promise["pending"] == ["due_on"]
        assert promise["input"]["amount"] == {"amount": "50.00", "currency": "COP"}
    assert count_rows(app, tenant.id) == before

    small = copy.deepcopy(event)
    small["payload"]["amount"]["amount"] = "1.00"
    [quiet] = tenant.post("/v1/services/split/simulate", json={"event": small}).json()["rules"]
    assert quiet["fires"] is False and quiet["reason"] == "condition is false"

    bad = copy.deepcopy(event)
    del bad["payload"]["account_id"]
    body = assert_problem(tenant.post("/v1/services/split/simulate", json={"event": bad}), 422)
    assert body["errors"][0]["pointer"] == "/event/payload/account_id"
    assert count_rows(app, tenant.id) == before


# -- tenants ------------------------------------------------------------------------------


def test_tenants_cannot_see_or_touch_each_others_services(
    app: Any, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    assert apply(tenant, "mine", follow_up()).status_code == 201
    for method, path in [
        ("get", "/v1/services/mine"),
        ("get", "/v1/services/mine/versions"),
        ("get", "/v1/services/mine/runs"),
        ("get", "/v1/services/mine/experiments"),
        ("delete", "/v1/services/mine"),
        ("post", "/v1/services/mine/versions/1/restore"),
    ]:
        assert_problem(getattr(other_tenant, method)(path), 404)
    simulated = other_tenant.post(
        "/v1/services/mine/simulate", json={"event": {"type": "ledger.payment_posted"}}
    )
    assert_problem(simulated, 404)
    assert other_tenant.get("/v1/services").json()["items"] == []
    # The same name is the other tenant's own service.
    assert apply(other_tenant, "mine", follow_up(description="theirs")).status_code == 201
    assert tenant.get("/v1/services/mine").json()["description"] == "Promise after a payment"

    # Their events never fire our rules.
    account = new_account(other_tenant)
    assert pay(other_tenant, account["id"], "100.00", TODAY).status_code == 201
    drain(app)
    assert runs_of(tenant, "mine") == []
    assert len(runs_of(other_tenant, "mine")) == 1


def test_admin_key_is_refused(admin: Admin) -> None:
    assert_problem(admin.request("GET", "/v1/services"), 403)


def test_restore_checks_the_old_version_again(admin: Admin, tenant: TenantHandle) -> None:
    assert apply(tenant, "follow-up", follow_up()).status_code == 201
    doc = follow_up()
    doc["modules"] = {"ledger": {}}
    doc["rules"][0]["do"] = doc["rules"][0]["do"][1:]
    doc["rules"][0]["do"][0]["input"]["due_on"] = "${add_days(event.payload.received_on, 7)}"
    assert apply(tenant, "follow-up", doc).status_code == 200
    assert (
        admin.request("DELETE", f"/v1/tenants/{tenant.id}/subscriptions/calendar").status_code
        == 204
    )

    body = assert_problem(tenant.post("/v1/services/follow-up/versions/1/restore"), 422)
    assert any(e["pointer"] == "/modules/calendar" for e in body["errors"])
    assert tenant.get("/v1/services/follow-up").json()["version"] == 2


def test_events_emitted_directly_fire_rules(app: Any, tenant: TenantHandle) -> None:
    """A promise_broken event (emitted here as the ledger's aging job would) installs a plan."""
    doc = {
        "modules": {"ledger": {}, "calendar": {}},
        "rules": [
            {
                "name": "plan-after-broken-promise",
                "when": "ledger.promise_broken",
                "with": {
                    "account": {
                        "action": "ledger.get_account",
                        "input": {"account_id": "${event.payload.account_id}"},
                    }
                },
                "if": "decimal(account.total) > 0",
                "do": [
                    {
                        "name": "first",
                        "action": "calendar.add_business_days",
                        "input": {"date": "${date(event.occurred_at)}", "days": 10},
                    },
                    {
                        "action": "ledger.install_plan",
                        "input": {
                            "account_id": "${event.payload.account_id}",
                            "count": 3,
                            "first_due": "${steps.first.result}",
                        },
                    },
                ],
            }
        ],
    }
    response = apply(tenant, "broken", doc)
    assert response.status_code == 201, response.text
    account = new_account(tenant)
    gateway = gateway_of(app)
    with gateway.db.transaction(tenant_id=tenant.id) as session:
        emit(
            session,
            gateway.registry.event_types["ledger.promise_broken"],
            {
                "promise_id": "f" * 32,
                "account_id": account["id"],
                "amount": Money(Decimal("10.00"), "COP"),
                "paid": Money(Decimal("0.00"), "COP"),
                "due_on": dt.date.today(),
                "status": "broken",
            },
            subject=("account", account["id"]),
        )
    drain(app)

    [run] = runs_of(tenant, "broken")
    assert run["outcome"] == "fired", run
    plans = tenant.get(f"/v1/ledger/accounts/{account['id']}/plans")
    assert plans.status_code == 200, plans.text
    [plan] = plans.json()["items"]
    assert plan["kind"] == "plan" or plan["terms"]


# -- the examples and the CLI -----------------------------------------------------------------

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "blueprints").glob("*.yaml"))


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_blueprint_applies(tenant: TenantHandle, path: Path) -> None:
    document = yaml.safe_load(path.read_text())
    response = tenant.put(f"/v1/services/{document['service']}", json={"yaml": path.read_text()})
    assert response.status_code == 201, response.text


def test_cli_applies_a_blueprint(
    admin: Admin, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from almacen.gateway.cli import main

    tenant = admin.new_tenant(modules=["ledger", "calendar"])
    monkeypatch.setenv("ALMACEN_DATABASE_URL", database_url)
    path = EXAMPLES[0]
    assert main(["services", "apply", str(path), "--tenant", tenant.slug]) == 0
    assert "activated version 1" in capsys.readouterr().out
    assert main(["services", "list", "--tenant", tenant.slug]) == 0
    assert path.stem in capsys.readouterr().out

    assert main(["services", "apply", "/dev/null", "--tenant", tenant.slug, "--name", "x"]) == 1
    assert "error" in capsys.readouterr().err
