"""Events: emitted with the rows that caused them, logged, catalogued, delivered after commit.

The ledger is the real emitter here; a recording plugin is the consumer. Tests run with
``delivery="worker"``, so nothing is delivered until a test drains the outbox itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from almacen.gateway.app import gateway_of
from almacen.gateway.events import Event
from tests.common.actors import Admin, TenantHandle, assert_problem
from tests.common.ledger import new_account, pay

pytestmark = pytest.mark.modules("ledger")


@dataclasses.dataclass
class Recorder:
    """A plugin consuming every event; ``fail`` makes its next N calls raise."""

    seen: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)
    fail: int = 0
    ticks: int = 0

    def almacen_handle_event(self, session: Any, event: Event) -> None:
        if self.fail > 0:
            self.fail -= 1
            raise RuntimeError("the recorder is down")
        assert session.info["tenant_id"] == event.tenant_id
        self.seen.append((event.id, event.type, event.tenant_id))

    def almacen_worker_tasks(self) -> list[Callable[[], int]]:
        def tick() -> int:
            self.ticks += 1
            return 0

        return [tick]


@dataclasses.dataclass
class Bystander:
    """A second consumer that never fails: it must not be called again on a retry."""

    seen: list[str] = dataclasses.field(default_factory=list)

    def almacen_handle_event(self, event: Event) -> None:
        self.seen.append(event.id)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def bystander() -> Bystander:
    return Bystander()


@pytest.fixture
def rec_app(make_app: Callable[..., Any], recorder: Recorder, bystander: Bystander) -> Any:
    return make_app(
        plugins=[("recorder", recorder), ("bystander", bystander)],
        delivery_max_attempts=3,
        delivery_backoff_seconds=0.0,
    )


@pytest.fixture
def rec_tenant(admin: Admin, rec_app: Any) -> TenantHandle:
    return admin.new_tenant(modules=["ledger"], client=rec_app.test_client())


def drain(app: Any) -> int:
    return gateway_of(app).dispatcher.drain()


def events_of(tenant: TenantHandle, **params: Any) -> list[dict[str, Any]]:
    response = tenant.get("/v1/events", params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


# -- emitting with the rows ----------------------------------------------------------------


def test_a_payment_emits_payment_posted_in_its_transaction(tenant: TenantHandle) -> None:
    account = new_account(tenant)
    response = pay(tenant, account["id"], "100.00", "2026-02-10")
    assert response.status_code == 201, response.text

    posted = events_of(tenant, type="ledger.payment_posted")

    assert len(posted) == 1
    event = posted[0]
    assert event["subject"] == {"type": "account", "id": account["id"]}
    assert event["payload"]["amount"] == {"amount": "100.00", "currency": "COP"}
    assert event["payload"]["payment_id"] == response.json()["id"]
    assert event["delivery"]["status"] == "pending"
    assert event["cause"] is None
    opened = events_of(tenant, type="ledger.account_opened")
    assert [e["subject"]["id"] for e in opened] == [account["id"]]


def test_a_rejected_payment_emits_nothing(tenant: TenantHandle) -> None:
    account = new_account(tenant)

    response = pay(tenant, account["id"], "100.00", "2026-02-10", currency="USD")

    assert_problem(response, 422)
    assert events_of(tenant, type="ledger.payment_posted") == []


def test_a_replayed_payment_emits_once(tenant: TenantHandle) -> None:
    account = new_account(tenant)
    first = pay(tenant, account["id"], "100.00", "2026-02-10", external_id="same-id")
    again = pay(tenant, account["id"], "100.00", "2026-02-10", external_id="same-id")
    assert first.status_code == 201 and again.status_code in (200, 201)

    assert len(events_of(tenant, type="ledger.payment_posted")) == 1


# -- the event log -------------------------------------------------------------------------


def test_the_log_filters_by_type_subject_and_time(tenant: TenantHandle) -> None:
    first = new_account(tenant)
    second = new_account(tenant)
    pay(tenant, first["id"], "50.00", "2026-02-10")
    pay(tenant, second["id"], "60.00", "2026-02-10")

    by_subject = events_of(tenant, subject_type="account", subject_id=second["id"])
    module_wide = events_of(tenant, type="ledger.*")
    future = events_of(tenant, since=(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat())
    past = events_of(tenant, until="2000-01-01T00:00:00Z")

    assert {e["type"] for e in by_subject} == {"ledger.account_opened", "ledger.payment_posted"}
    assert {e["subject"]["id"] for e in by_subject} == {second["id"]}
    assert len(module_wide) == 4
    assert future == [] and past == []


def test_the_log_pages_with_a_cursor(tenant: TenantHandle) -> None:
    for _ in range(3):
        new_account(tenant)

    first = tenant.get("/v1/events", params={"limit": 2}).json()
    second = tenant.get("/v1/events", params={"limit": 2, "cursor": first["next"]}).json()

    ids = [e["id"] for e in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 3
    assert second["next"] is None


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"type": "not a type"}, "type"),
        ({"since": "yesterday"}, "since"),
        ({"limit": 0}, "limit"),
        ({"cursor": "garbage"}, "cursor"),
    ],
)
def test_bad_log_queries_are_problems(
    tenant: TenantHandle, params: dict[str, Any], parameter: str
) -> None:
    body = assert_problem(tenant.get("/v1/events", params=params), 400)
    assert parameter in str(body)


def test_tenants_do_not_see_each_others_events(
    tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    new_account(tenant)
    [mine] = events_of(tenant)

    assert events_of(other_tenant) == []
    assert_problem(other_tenant.get(f"/v1/events/{mine['id']}"), 404)
    assert tenant.get(f"/v1/events/{mine['id']}").json()["id"] == mine["id"]


# -- catalogues ----------------------------------------------------------------------------


def test_the_event_catalogue_lists_subscribed_modules_with_json_schemas(
    tenant: TenantHandle, admin: Admin
) -> None:
    bare = admin.new_tenant(modules=[])

    items = {e["name"]: e for e in tenant.get("/v1/events/types").json()["items"]}

    posted = items["ledger.payment_posted"]
    assert posted["module"] == "ledger" and posted["version"] == 1
    assert posted["schema"]["properties"]["amount"]["properties"]["amount"]["type"] == "string"
    assert "payment_id" in posted["schema"]["required"]
    assert bare.get("/v1/events/types").json()["items"] == []


def test_the_action_catalogue_has_input_and_output_schemas(
    tenant: TenantHandle, admin: Admin
) -> None:
    bare = admin.new_tenant(modules=[])

    items = {a["name"]: a for a in tenant.get("/v1/actions").json()["items"]}

    post = items["ledger.post_payment"]
    assert set(post["input_schema"]["required"]) >= {"account_id", "amount", "external_id"}
    assert post["input_schema"]["properties"]["received_on"]["format"] == "date"
    assert post["output_schema"]["type"] == "object"
    assert bare.get("/v1/actions").json()["items"] == []


# -- delivery --------------------------------------------------------------------------------


def test_hook_almacen_handle_event(
    rec_app: Any, rec_tenant: TenantHandle, recorder: Recorder, bystander: Bystander
) -> None:
    account = new_account(rec_tenant)
    pay(rec_tenant, account["id"], "100.00", "2026-02-10")
    logged = events_of(rec_tenant)

    drain(rec_app)
    drain(rec_app)  # nothing is due any more: no consumer hears an event twice

    mine = [(i, t) for i, t, owner in recorder.seen if owner == rec_tenant.id]
    assert mine == [(e["id"], e["type"]) for e in logged]
    assert {e["id"] for e in logged} <= set(bystander.seen)
    assert len(bystander.seen) == len(set(bystander.seen))
    for event in logged:
        delivered = rec_tenant.get(f"/v1/events/{event['id']}").json()["delivery"]
        assert delivered["status"] == "delivered" and delivered["attempts"] == 1


def test_a_failing_consumer_is_retried_alone_then_dead_lettered_and_replayed(
    rec_app: Any,
    rec_tenant: TenantHandle,
    recorder: Recorder,
    bystander: Bystander,
    admin: Admin,
) -> None:
    drain(rec_app)  # whatever other tests left behind
    new_account(rec_tenant)
    [event] = events_of(rec_tenant)
    recorder.fail = 10

    for _ in range(3):  # delivery_max_attempts=3, no backoff
        drain(rec_app)

    dead = rec_tenant.get(f"/v1/events/{event['id']}").json()["delivery"]
    assert dead["status"] == "dead"
    assert dead["attempts"] == 3
    assert dead["failed_consumers"] == ["recorder"]
    assert bystander.seen.count(event["id"]) == 1  # the healthy consumer ran once
    admin_view = admin.request("GET", "/v1/admin/events", params={"tenant_id": rec_tenant.id})
    [listed] = admin_view.json()["items"]
    assert listed["id"] == event["id"]
    assert "the recorder is down" in listed["last_error"]

    recorder.fail = 0
    replayed = admin.request("POST", f"/v1/admin/events/{event['id']}/replay")
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["delivery"]["status"] == "pending"
    drain(rec_app)

    assert (event["id"], event["type"], rec_tenant.id) in recorder.seen
    assert bystander.seen.count(event["id"]) == 1
    final = rec_tenant.get(f"/v1/events/{event['id']}").json()["delivery"]
    assert final["status"] == "delivered" and final["failed_consumers"] is None


def test_replaying_a_pending_or_unknown_event_is_a_problem(
    tenant: TenantHandle, admin: Admin
) -> None:
    new_account(tenant)
    [event] = events_of(tenant)

    assert_problem(admin.request("POST", f"/v1/admin/events/{event['id']}/replay"), 409)
    assert_problem(admin.request("POST", f"/v1/admin/events/{'0' * 32}/replay"), 404)
    assert_problem(tenant.post(f"/v1/admin/events/{event['id']}/replay"), 403)


def test_retries_back_off_exponentially(make_app: Callable[..., Any], admin: Admin) -> None:
    recorder = Recorder(fail=10)
    app = make_app(plugins=[("recorder", recorder)], delivery_backoff_seconds=60.0)
    tenant = admin.new_tenant(modules=["ledger"], client=app.test_client())
    new_account(tenant)
    [event] = events_of(tenant)
    db = gateway_of(app).db

    delays = []
    for _ in range(3):
        gateway_of(app).dispatcher.deliver_batch(ids=[event["id"]])
        with db.transaction(tenant_id=tenant.id) as session:
            row = session.scalar(select(Event).where(Event.id == event["id"]))
            assert row is not None
            delays.append((row.next_attempt_at - dt.datetime.now(dt.UTC)).total_seconds())
            # Make it due again at once, as if the delay had passed.
            row.next_attempt_at = dt.datetime.now(dt.UTC)

    # 60 s, 120 s, 240 s, each ±10 % jitter.
    for delay, expected in zip(delays, (60, 120, 240), strict=True):
        assert expected * 0.85 < delay < expected * 1.1


def test_hook_almacen_worker_tasks(rec_app: Any, recorder: Recorder) -> None:
    tasks = gateway_of(rec_app).dispatcher.worker_tasks()

    before = recorder.ticks
    for task in tasks:
        task()

    assert recorder.ticks == before + 1
