"""Tenant webhooks end to end: register over HTTP, emit an event, receive it on a real local
server, and verify its signature with the ``standardwebhooks`` library."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from almacen.gateway.app import gateway_of
from almacen.gateway.events import emit
from almacen.gateway.webhooks import Sender, WebhookDelivery, WebhookEndpoint
from tests.common.actors import Admin, TenantHandle, assert_problem
from tests.common.receiver import Received, Receiver
from tests.plugins import good_module

# -- an app that may call 127.0.0.1 and emits good.echoed -----------------------------------


@pytest.fixture(scope="module")
def hook_app(make_app: Callable[..., Any]) -> Any:
    """An app with the ``good`` module, loopback allowed, and retries due at once."""
    return make_app(
        plugins=[("good", good_module)],
        webhook_allowed_networks=("127.0.0.1/32",),
        webhook_retry_scale=0.0,
        webhook_timeout_seconds=5.0,
    )


@dataclasses.dataclass
class Hooks:
    """A tenant of :func:`hook_app` and the gateway machinery a test drives by hand."""

    app: Any
    tenant: TenantHandle

    @property
    def gateway(self) -> Any:
        """The app's gateway state."""
        return gateway_of(self.app)

    def register(self, url: str, filters: list[str] | None = None, **fields: Any) -> Any:
        """Register an endpoint, asserting success; return the response body."""
        body = {"url": url, **fields}
        if filters is not None:
            body["filters"] = filters
        response = self.tenant.post("/v1/webhooks", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def emit(self, text: str = "hello", *, tenant_id: str | None = None) -> str:
        """Emit ``good.echoed`` for the tenant (committed); return the event id."""
        with self.gateway.db.transaction(tenant_id=tenant_id or self.tenant.id) as session:
            return emit(session, good_module.ECHOED, {"text": text}, subject=("echo", "e1"))

    def dispatch(self, event_id: str) -> None:
        """Deliver one event from the outbox to its consumers (the webhook fan-out)."""
        assert self.gateway.dispatcher.deliver_batch(ids=[event_id]) == 1

    def send(self, sender: Sender | None = None) -> int:
        """One sender cycle over this tenant's due deliveries."""
        with self.gateway.db.transaction(tenant_id=self.tenant.id) as session:
            ids = list(
                session.scalars(
                    select(WebhookDelivery.id).where(WebhookDelivery.status == "pending")
                )
            )
        sender = sender or Sender(self.gateway.db, self.gateway.settings)
        return sender.send_due(ids=ids) if ids else 0

    def deliveries(self, webhook_id: str, **params: Any) -> list[dict[str, Any]]:
        """The endpoint's delivery log (first page)."""
        response = self.tenant.get(f"/v1/webhooks/{webhook_id}/deliveries", params=params)
        assert response.status_code == 200, response.text
        return list(response.json()["items"])


@pytest.fixture
def hooks(hook_app: Any, admin: Admin) -> Hooks:
    """A new tenant on :func:`hook_app`."""
    operator = Admin(hook_app.test_client(), admin.headers["X-API-Key"])
    return Hooks(app=hook_app, tenant=operator.new_tenant())


@pytest.fixture
def other(hooks: Hooks, admin: Admin) -> TenantHandle:
    """A second tenant on the same app."""
    return Admin(hooks.tenant.client, admin.headers["X-API-Key"]).new_tenant()


def verify(secret: str, received: Received) -> Any:
    """Check a received request's signature as a receiver would; return the payload."""
    return Webhook(secret).verify(received.body, received.headers)


# -- delivery ------------------------------------------------------------------------------


def test_a_delivery_is_signed_and_verifies(hooks: Hooks, receiver: Receiver) -> None:
    endpoint = hooks.register(receiver.url(), ["good.*"], description="CRM")
    assert endpoint["secret"].startswith("whsec_")
    event_id = hooks.emit("paid")

    hooks.dispatch(event_id)
    assert hooks.send() == 1

    [got] = receiver.received
    payload = verify(endpoint["secret"], got)
    assert got.headers["webhook-id"] == event_id
    assert got.headers["content-type"] == "application/json"
    assert payload["id"] == event_id
    assert payload["type"] == "good.echoed"
    assert payload["data"] == {"text": "paid"}
    assert payload["subject"] == {"type": "echo", "id": "e1"}
    assert payload["timestamp"].endswith("Z")
    [delivery] = hooks.deliveries(endpoint["id"])
    assert delivery["status"] == "delivered"
    assert delivery["event_id"] == event_id
    assert delivery["last_status_code"] == 200
    assert delivery["next_attempt_at"] is None
    assert [a["status_code"] for a in delivery["log"]] == [200]
    assert delivery["log"][0]["response_excerpt"] == "answered 200"


def test_a_forged_signature_does_not_verify(hooks: Hooks, receiver: Receiver) -> None:
    hooks.register(receiver.url())
    hooks.dispatch(hooks.emit())
    hooks.send()

    other_secret = hooks.register(receiver.url("/other"))["secret"]
    with pytest.raises(WebhookVerificationError):
        verify(other_secret, receiver.received[0])


def test_filters_choose_the_endpoints(hooks: Hooks, receiver: Receiver) -> None:
    exact = hooks.register(receiver.url("/exact"), ["good.echoed"])
    module = hooks.register(receiver.url("/module"), ["good.*"])
    everything = hooks.register(receiver.url("/all"))
    ledger = hooks.register(receiver.url("/ledger"), ["ledger.*"])
    disabled = hooks.register(receiver.url("/off"), ["*"], enabled=False)

    hooks.dispatch(hooks.emit())
    hooks.send()

    assert sorted(r.path for r in receiver.received) == ["/all", "/exact", "/module"]
    assert everything["filters"] == ["*"]
    for endpoint in (exact, module, everything):
        assert len(hooks.deliveries(endpoint["id"])) == 1
    assert hooks.deliveries(ledger["id"]) == []
    assert hooks.deliveries(disabled["id"]) == []


def test_a_failing_receiver_is_retried_until_it_answers(hooks: Hooks, receiver: Receiver) -> None:
    endpoint = hooks.register(receiver.url())
    receiver.codes = [500, 503]
    hooks.dispatch(hooks.emit())

    for _ in range(3):
        assert hooks.send() == 1
    assert hooks.send() == 0  # delivered: nothing more is due

    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    [delivery] = hooks.deliveries(endpoint["id"])
    assert delivery["status"] == "delivered"
    assert delivery["attempts"] == 3
    assert [a["status_code"] for a in delivery["log"]] == [500, 503, 200]
    assert delivery["log"][0]["response_excerpt"] == "answered 500"
    assert all(a["duration_ms"] >= 0 for a in delivery["log"])


def test_a_delivery_fails_after_the_schedule_and_can_be_redelivered(
    hooks: Hooks, receiver: Receiver
) -> None:
    endpoint = hooks.register(receiver.url())
    attempts = hooks.gateway.settings.delivery_max_attempts
    receiver.codes = [500] * attempts
    hooks.dispatch(hooks.emit())

    for _ in range(attempts):
        assert hooks.send() == 1
    assert hooks.send() == 0
    [failed] = hooks.deliveries(endpoint["id"], status="failed")
    assert failed["attempts"] == attempts
    assert failed["last_status_code"] == 500

    response = hooks.tenant.post(
        f"/v1/webhooks/{endpoint['id']}/deliveries/{failed['id']}/redeliver"
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "pending"
    assert response.json()["attempts"] == 0
    assert hooks.send() == 1

    response = hooks.tenant.get(f"/v1/webhooks/{endpoint['id']}/deliveries/{failed['id']}")
    delivery = response.json()
    assert delivery["status"] == "delivered"
    assert [a["status_code"] for a in delivery["log"]] == [500] * attempts + [200]
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1


def test_a_delivered_message_is_redelivered_on_request(hooks: Hooks, receiver: Receiver) -> None:
    endpoint = hooks.register(receiver.url())
    hooks.dispatch(hooks.emit())
    hooks.send()
    [delivery] = hooks.deliveries(endpoint["id"])

    path = f"/v1/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/redeliver"
    assert hooks.tenant.post(path).status_code == 202
    hooks.send()

    assert len(receiver.received) == 2
    for got in receiver.received:
        verify(endpoint["secret"], got)
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]
    [again] = hooks.deliveries(endpoint["id"])
    assert [a["status_code"] for a in again["log"]] == [200, 200]


def test_a_disabled_endpoint_cannot_redeliver(hooks: Hooks, receiver: Receiver) -> None:
    endpoint = hooks.register(receiver.url())
    hooks.dispatch(hooks.emit())
    hooks.send()
    [delivery] = hooks.deliveries(endpoint["id"])
    hooks.tenant.patch(f"/v1/webhooks/{endpoint['id']}", json={"enabled": False})

    response = hooks.tenant.post(
        f"/v1/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/redeliver"
    )

    assert_problem(response, 409, slug="conflict")


def test_a_replayed_event_is_not_owed_twice(hooks: Hooks, receiver: Receiver) -> None:
    endpoint = hooks.register(receiver.url())
    event_id = hooks.emit()
    hooks.dispatch(event_id)
    with hooks.gateway.db.transaction(tenant_id=hooks.tenant.id) as session:
        assert hooks.gateway.dispatcher.replay(session, event_id) is not None

    hooks.dispatch(event_id)
    hooks.send()

    assert len(hooks.deliveries(endpoint["id"])) == 1
    assert len(receiver.received) == 1


# -- secret rotation -----------------------------------------------------------------------


def test_rotation_signs_with_both_secrets_during_the_grace_period(
    hooks: Hooks, receiver: Receiver
) -> None:
    endpoint = hooks.register(receiver.url())
    old = endpoint["secret"]
    response = hooks.tenant.post(f"/v1/webhooks/{endpoint['id']}/rotate-secret")
    assert response.status_code == 200, response.text
    new = response.json()["secret"]
    assert new.startswith("whsec_") and new != old
    assert response.json()["previous_secret_expires_at"] is not None

    hooks.dispatch(hooks.emit("during"))
    hooks.send()
    during = receiver.received[-1]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert verify(old, during)["data"] == {"text": "during"}
    assert verify(new, during)["data"] == {"text": "during"}

    # The grace period ends.
    with hooks.gateway.db.transaction(tenant_id=hooks.tenant.id) as session:
        session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint["id"])
            .values(previous_secret_expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    hooks.dispatch(hooks.emit("after"))
    hooks.send()
    after = receiver.received[-1]
    assert verify(new, after)["data"] == {"text": "after"}
    with pytest.raises(WebhookVerificationError):
        verify(old, after)


def test_rotation_without_grace_drops_the_old_secret_at_once(
    hooks: Hooks, receiver: Receiver
) -> None:
    endpoint = hooks.register(receiver.url())
    response = hooks.tenant.post(
        f"/v1/webhooks/{endpoint['id']}/rotate-secret", json={"grace_seconds": 0}
    )
    new = response.json()["secret"]

    hooks.dispatch(hooks.emit())
    hooks.send()

    verify(new, receiver.received[0])
    with pytest.raises(WebhookVerificationError):
        verify(endpoint["secret"], receiver.received[0])


# -- targets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:8080/hook",
        "http://127.0.0.1/hook",
        "http://[::1]/hook",
        "http://192.168.1.10/hook",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "ftp://example.com/hook",
        "https://user:secret@example.com/hook",
        "not a url",
        "http:///no-host",
    ],
)
def test_private_and_malformed_targets_are_refused(tenant: TenantHandle, url: str) -> None:
    # The shared app has no allowed networks: loopback is private like any other.
    response = tenant.post("/v1/webhooks", json={"url": url})

    body = assert_problem(response, 422, slug="webhook-target-refused")
    assert body["errors"][0]["pointer"] == "/url"
    assert tenant.get("/v1/webhooks").json()["items"] == []


def test_a_private_url_is_refused_on_update_too(tenant: TenantHandle, hooks: Hooks) -> None:
    endpoint = hooks.register("http://127.0.0.1:9/hook")

    response = hooks.tenant.patch(
        f"/v1/webhooks/{endpoint['id']}", json={"url": "http://10.1.2.3/"}
    )

    assert_problem(response, 422, slug="webhook-target-refused")
    assert hooks.tenant.get(f"/v1/webhooks/{endpoint['id']}").json()["url"] == endpoint["url"]


def test_a_target_refused_at_send_time_is_logged_and_not_called(
    hooks: Hooks, receiver: Receiver
) -> None:
    endpoint = hooks.register(receiver.url())
    hooks.dispatch(hooks.emit())
    # The operator has since removed loopback from the allowed networks.
    strict = dataclasses.replace(hooks.gateway.settings, webhook_allowed_networks=())

    hooks.send(Sender(hooks.gateway.db, strict))

    assert receiver.received == []
    [delivery] = hooks.deliveries(endpoint["id"])
    assert delivery["status"] == "pending"
    [attempt] = delivery["log"]
    assert attempt["status_code"] is None
    assert attempt["error"].startswith("refused:")


def test_an_unreachable_receiver_is_an_attempt_without_a_status(hooks: Hooks) -> None:
    closed = Receiver()
    url = closed.url()
    closed.close()
    endpoint = hooks.register(url)
    hooks.dispatch(hooks.emit())

    hooks.send()

    [delivery] = hooks.deliveries(endpoint["id"])
    assert delivery["status"] == "pending"
    assert delivery["log"][0]["status_code"] is None
    assert delivery["log"][0]["error"]


# -- the API -------------------------------------------------------------------------------


def test_endpoints_are_listed_got_changed_and_deleted(hooks: Hooks) -> None:
    made = [hooks.register(f"http://127.0.0.1:9/{n}") for n in range(3)]

    first = hooks.tenant.get("/v1/webhooks", params={"limit": 2}).json()
    second = hooks.tenant.get("/v1/webhooks", params={"cursor": first["next"]}).json()
    assert [e["id"] for e in first["items"] + second["items"]] == [e["id"] for e in made]
    assert second["next"] is None
    assert all("secret" not in e for e in first["items"])

    path = f"/v1/webhooks/{made[0]['id']}"
    got = hooks.tenant.get(path).json()
    assert "secret" not in got
    changed = hooks.tenant.patch(
        path, json={"filters": ["good.echoed", "ledger.*"], "description": "new", "enabled": False}
    ).json()
    assert changed["filters"] == ["good.echoed", "ledger.*"]
    assert changed["description"] == "new"
    assert changed["enabled"] is False

    assert hooks.tenant.delete(path).status_code == 204
    assert_problem(hooks.tenant.get(path), 404, slug="not-found")


def test_deleting_an_endpoint_removes_its_log(hooks: Hooks, receiver: Receiver) -> None:
    endpoint = hooks.register(receiver.url())
    hooks.dispatch(hooks.emit())
    hooks.send()

    assert hooks.tenant.delete(f"/v1/webhooks/{endpoint['id']}").status_code == 204

    assert_problem(hooks.tenant.get(f"/v1/webhooks/{endpoint['id']}/deliveries"), 404)
    with hooks.gateway.db.transaction(tenant_id=hooks.tenant.id) as session:
        assert session.scalars(select(WebhookDelivery)).all() == []


@pytest.mark.parametrize(
    ("body", "status", "pointer"),
    [
        ({}, 400, None),
        ({"url": 5}, 400, None),
        ({"url": "http://127.0.0.1:9/", "filters": "good.*"}, 400, None),
        ({"url": "http://127.0.0.1:9/", "filters": []}, 400, None),
        ({"url": "http://127.0.0.1:9/", "filters": ["Good Stuff"]}, 400, None),
        ({"url": "http://127.0.0.1:9/", "enabled": "yes"}, 400, None),
        ({"url": "http://127.0.0.1:9/", "secret": "whsec_mine"}, 400, None),
        ({"url": "http://127.0.0.1:9/", "filters": ["nosuch.thing"]}, 422, "/filters/0"),
        ({"url": "http://127.0.0.1:9/", "filters": ["good.*", "good.missing"]}, 422, "/filters/1"),
        ({"url": "http://127.0.0.1:9/", "filters": ["nosuch.*"]}, 422, "/filters/0"),
    ],
)
def test_bad_registrations_are_problems_and_write_nothing(
    hooks: Hooks, body: dict[str, Any], status: int, pointer: str | None
) -> None:
    response = hooks.tenant.post("/v1/webhooks", json=body)

    problem = assert_problem(response, status)
    assert problem["detail"]
    if pointer is not None:
        assert [e["pointer"] for e in problem["errors"]] == [pointer]
    assert hooks.tenant.get("/v1/webhooks").json()["items"] == []


@pytest.mark.parametrize(
    ("method", "suffix", "body", "status"),
    [
        ("PATCH", "", {}, 400),
        ("PATCH", "", {"filters": ["nosuch.*"]}, 422),
        ("PATCH", "", {"url": None}, 400),
        ("POST", "/rotate-secret", {"grace_seconds": -1}, 400),
        ("POST", "/rotate-secret", {"grace_seconds": "soon"}, 400),
        ("GET", "/deliveries?status=lost", None, 400),
        ("GET", "/deliveries?cursor=bogus", None, 400),
    ],
)
def test_bad_changes_are_problems(
    hooks: Hooks, method: str, suffix: str, body: Any, status: int
) -> None:
    endpoint = hooks.register("http://127.0.0.1:9/hook", ["good.*"])
    path = f"/v1/webhooks/{endpoint['id']}{suffix}"

    response = hooks.tenant.client.request(method, path, json=body, headers=hooks.tenant.headers)

    assert_problem(response, status)
    unchanged = hooks.tenant.get(f"/v1/webhooks/{endpoint['id']}").json()
    assert unchanged["filters"] == ["good.*"]
    assert unchanged["previous_secret_expires_at"] is None


def test_bad_and_unknown_ids_are_problems(hooks: Hooks) -> None:
    assert_problem(hooks.tenant.get("/v1/webhooks/not-an-id"), 400)
    assert_problem(hooks.tenant.get("/v1/webhooks/" + "0" * 32), 404, slug="not-found")
    endpoint = hooks.register("http://127.0.0.1:9/hook")
    missing = f"/v1/webhooks/{endpoint['id']}/deliveries/{'0' * 32}"
    assert_problem(hooks.tenant.get(missing), 404, slug="not-found")
    assert_problem(hooks.tenant.post(missing + "/redeliver"), 404, slug="not-found")


def test_webhooks_need_a_tenant_key(hooks: Hooks, admin: Admin) -> None:
    assert_problem(hooks.tenant.client.get("/v1/webhooks"), 401, slug="unauthenticated")
    response = hooks.tenant.client.get("/v1/webhooks", headers=admin.headers)
    assert response.status_code in (401, 403)
    assert_problem(response, response.status_code)


# -- tenant isolation ----------------------------------------------------------------------


def test_a_tenant_cannot_see_or_change_another_tenants_webhooks(
    hooks: Hooks, other: TenantHandle, receiver: Receiver
) -> None:
    endpoint = hooks.register(receiver.url(), ["good.*"])
    hooks.dispatch(hooks.emit())
    hooks.send()
    [delivery] = hooks.deliveries(endpoint["id"])
    base = f"/v1/webhooks/{endpoint['id']}"
    delivery_path = f"{base}/deliveries/{delivery['id']}"

    assert other.get("/v1/webhooks").json()["items"] == []
    for response in (
        other.get(base),
        other.patch(base, json={"enabled": False}),
        other.delete(base),
        other.post(f"{base}/rotate-secret"),
        other.get(f"{base}/deliveries"),
        other.get(delivery_path),
        other.post(f"{delivery_path}/redeliver"),
    ):
        assert_problem(response, 404, slug="not-found")

    # The other tenant's events never reach this tenant's endpoint.
    hooks.dispatch(hooks.emit("theirs", tenant_id=other.id))
    hooks.send()
    assert len(receiver.received) == 1
    unchanged = hooks.tenant.get(base).json()
    assert unchanged["enabled"] is True
    assert unchanged["previous_secret_expires_at"] is None
    assert len(hooks.deliveries(endpoint["id"])) == 1
    assert json.loads(receiver.received[0].body)["data"] == {"text": "hello"}


# -- the worker ----------------------------------------------------------------------------


def test_the_sender_is_a_worker_task(hooks: Hooks, receiver: Receiver) -> None:
    hooks.register(receiver.url())
    hooks.dispatch(hooks.emit())

    tasks = hooks.gateway.dispatcher.worker_tasks()
    senders = [task for task in tasks if isinstance(task, Sender)]
    assert len(senders) == 1
    senders[0]()

    assert len(receiver.received) == 1
