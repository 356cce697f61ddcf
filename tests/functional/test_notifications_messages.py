"""Messages through HTTP and the send loop: accept (rendered at once), queue, send, history;
422s for bad templates, locales and data; idempotency; merging of due accounts; retries,
failures and blocks; the wall between tenants."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event, inspect

from almacen import Base
from almacen.gateway import migrate
from almacen.gateway.actions import run_action
from almacen.gateway.app import gateway_of
from almacen.gateway.errors import UnprocessableError
from almacen.modules.notifications.message_tables import Message
from tests.common.actors import Admin, assert_problem
from tests.common.notifications_sending import (
    BASE,
    MEMO,
    Env,
    MemoPlugin,
    events_of,
    memo_env,
    message,
    permanent,
    put_template,
    recipient,
    send,
    sender_of,
    transient,
    zone_at,
)


@pytest.fixture(scope="module")
def memo_app(make_app: Any) -> tuple[Any, MemoPlugin]:
    plugin = MemoPlugin()
    return make_app(plugins=[("memo_channel", plugin)]), plugin


@pytest.fixture
def env(memo_app: tuple[Any, MemoPlugin], admin: Admin) -> Iterator[Env]:
    yield from memo_env(memo_app, admin)


def body(address: str, **more: Any) -> dict[str, Any]:
    """A reminder to ``address`` on the recording channel, in US English."""
    return {
        "recipient": recipient(address),
        "channel": MEMO,
        "template": "reminder",
        "locale": "en_US",
        "data": {"name": "Ana", "amount": "$10.00"},
        **more,
    }


def test_accept_render_queue_send_with_history(env: Env, unique: Any) -> None:
    tenant, address = env.tenant(), unique("ana")
    made = send(tenant, body(address))
    assert made["status"] == "queued" and made["attempts"] == 0
    assert made["text"] == "Hello Ana, $10.00 is due."
    assert made["channel"] == MEMO and made["address"] == address
    assert made["template_version"] == 1 and made["locale"] == "en_US"
    assert [h["to_status"] for h in made["history"]] == ["queued"]
    assert message(tenant, made["id"]) == made
    assert env.provider.sent_to(address) == []  # nothing leaves before the worker runs

    assert env.drain() >= 1
    sent = message(tenant, made["id"])
    assert sent["status"] == "sent" and sent["attempts"] == 1
    assert sent["provider"] == MEMO and sent["provider_message_id"].startswith("memo-")
    assert [h["to_status"] for h in sent["history"]] == ["queued", "sent"]
    [out] = env.provider.sent_to(address)
    assert out.message_id == made["id"] and out.text == "Hello Ana, $10.00 is due."
    assert "List-Unsubscribe" not in out.headers  # e-mail only
    assert [e["payload"]["message_id"] for e in events_of(tenant, "notifications.sent")] == [
        made["id"]
    ]
    assert env.drain() == 0  # sent once


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"template": "no-such-template"}, ("/template",)),
        ({"locale": "xx_YY"}, ("/locale",)),
        # A real locale the template has no version in.
        ({"locale": "fr_FR"}, ("/locale", "/template")),
        ({"data": {"amount": "$1"}}, ("/data/name",)),
    ],
)
def test_bad_template_locale_or_variable_is_a_422_and_stores_nothing(
    env: Env, unique: Any, change: dict[str, Any], pointer: tuple[str, ...]
) -> None:
    tenant = env.tenant()
    problem = assert_problem(tenant.post(f"{BASE}/messages", json=body(unique("x"), **change)), 422)
    pointers = [e.get("pointer", "") for e in problem.get("errors", [])]
    assert any(p.startswith(pointer) for p in pointers), problem
    assert tenant.get(f"{BASE}/messages").json()["items"] == []


def test_a_template_reaching_python_internals_fails_safely_at_send(env: Env, unique: Any) -> None:
    tenant = env.tenant()
    sneaky = "{{ name.__class__.__mro__[1].__subclasses__() }}"
    stored = tenant.put(f"{BASE}/templates/sneaky/{MEMO}/en_US", json={"text": sneaky})
    assert stored.status_code == 201, stored.text  # it compiles; rendering must refuse it
    problem = assert_problem(
        tenant.post(f"{BASE}/messages", json=body(unique("x"), template="sneaky")), 422
    )
    assert problem["errors"][0]["pointer"] == "/text"
    assert "subclasses" not in problem["detail"] and "<class" not in problem["detail"]
    assert tenant.get(f"{BASE}/messages").json()["items"] == []


def test_unknown_channel_or_missing_address_is_a_422(env: Env, unique: Any) -> None:
    tenant = env.tenant()
    assert_problem(tenant.post(f"{BASE}/messages", json=body(unique("x"), channel="sms")), 422)
    no_address = body("x")
    no_address["recipient"].pop("address")
    problem = assert_problem(tenant.post(f"{BASE}/messages", json=no_address), 422)
    assert problem["errors"][0]["pointer"] == "/recipient/address"


def test_idempotency_key_same_body_same_message_other_body_422(env: Env, unique: Any) -> None:
    tenant, address, key = env.tenant(), unique("ana"), unique("key")
    first = send(tenant, body(address), key=key)
    again = tenant.post(f"{BASE}/messages", json=body(address), headers={"Idempotency-Key": key})
    assert again.status_code == 201 and again.json()["id"] == first["id"]
    other = tenant.post(
        f"{BASE}/messages",
        json=body(address, data={"name": "Bea", "amount": "$1"}),
        headers={"Idempotency-Key": key},
    )
    assert_problem(other, 422)
    assert [m["id"] for m in tenant.get(f"{BASE}/messages").json()["items"]] == [first["id"]]
    env.drain()
    assert len(env.provider.sent_to(address)) == 1


def test_action_send_is_idempotent_by_its_key(env: Env, unique: Any) -> None:
    tenant, address = env.tenant(), unique("ana")
    db = gateway_of(env.app).db
    data = {**body(address), "idempotency_key": "rule-42"}
    with db.transaction(tenant_id=tenant.id) as session:
        first = run_action(session, "notifications.send", data)
    with db.transaction(tenant_id=tenant.id) as session:
        again = run_action(session, "notifications.send", data)
    assert again["id"] == first["id"] and first["status"] == "queued"
    with (
        pytest.raises(UnprocessableError),
        db.transaction(tenant_id=tenant.id) as session,
    ):
        run_action(session, "notifications.send", {**data, "data": {"name": "B", "amount": "1"}})
    assert len(tenant.get(f"{BASE}/messages").json()["items"]) == 1


def test_due_accounts_of_one_debtor_merge_into_one_message(env: Env, unique: Any) -> None:
    tenant, address = env.tenant(merge_window_seconds=60), unique("ana")
    listing = "{% for a in accounts %}{{ a.account_ids[0] }}={{ a.amount }};{% endfor %}"
    put_template(tenant, "due", MEMO, "en_US", listing)
    first = send(tenant, body(address, template="due", account_ids=["acc-1"], data={"amount": "5"}))
    second = send(
        tenant,
        body(address, template="due", account_ids=["acc-2"], data={"amount": "7"}),
        status=200,
    )
    assert second["id"] == first["id"]
    assert second["account_ids"] == ["acc-1", "acc-2"] and second["merged_requests"] == 2
    assert second["text"] == "acc-1=5;acc-2=7;"
    # Another template, or another address, is another message.
    other = send(tenant, body(unique("bea"), template="due", account_ids=["acc-3"]))
    assert other["id"] != first["id"]
    # Nothing goes before the window closes; then one message for both accounts.
    env.drain()
    assert env.provider.sent_to(address) == []
    env.drain(at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61))
    [out] = env.provider.sent_to(address)
    assert out.text == "acc-1=5;acc-2=7;"
    # Once sent, a new due account makes a new message.
    third = send(tenant, body(address, template="due", account_ids=["acc-4"], data={"amount": "1"}))
    assert third["id"] != first["id"]


def test_transient_faults_retry_with_backoff(env: Env, unique: Any) -> None:
    tenant, address = env.tenant(retry_backoff_seconds=30, max_attempts=3), unique("ana")
    made = send(tenant, body(address))
    env.provider.fail_next(transient("provider busy"))
    before = dt.datetime.now(dt.UTC)
    env.drain()
    waiting = message(tenant, made["id"])
    assert waiting["status"] == "queued" and waiting["attempts"] == 1
    assert waiting["last_error"] == "provider busy" and waiting["reasons"] == ["provider_error"]
    delay = dt.datetime.fromisoformat(waiting["next_attempt_at"]) - before
    assert dt.timedelta(seconds=26) < delay < dt.timedelta(seconds=35)  # 30 s ± 10 %
    env.drain()
    assert env.provider.sent_to(address) == []  # not before its time
    env.drain(at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=40))
    done = message(tenant, made["id"])
    assert done["status"] == "sent" and done["attempts"] == 2
    assert len(env.provider.sent_to(address)) == 1


def test_retries_exhausted_or_a_permanent_fault_fail(env: Env, unique: Any) -> None:
    tenant = env.tenant(retry_backoff_seconds=0, max_attempts=2)
    one = send(tenant, body(unique("ana")))
    env.provider.fail_next(transient(), transient())
    env.drain()
    failed = message(tenant, one["id"])
    assert failed["status"] == "failed" and failed["attempts"] == 2
    two = send(tenant, body(unique("bea")))
    env.provider.fail_next(permanent("mailbox does not exist"))
    env.drain()
    refused = message(tenant, two["id"])
    assert refused["status"] == "failed" and refused["attempts"] == 1
    assert refused["reasons"] == ["provider_refused"]
    failed_ids = {e["payload"]["message_id"] for e in events_of(tenant, "notifications.failed")}
    assert failed_ids == {one["id"], two["id"]}


def test_a_plugin_channel_that_raises_is_retried_never_a_500(env: Env, unique: Any) -> None:
    tenant, address = env.tenant(retry_backoff_seconds=0, max_attempts=3), unique("ana")
    made = send(tenant, body(address))
    env.provider.fail_next(RuntimeError("plugin exploded"))
    env.drain()
    done = message(tenant, made["id"])
    assert done["status"] == "sent" and done["attempts"] == 2
    assert "plugin exploded" in done["history"][1]["note"]
    assert len(env.provider.sent_to(address)) == 1


def test_throttled_messages_wait_their_turn_without_an_attempt(env: Env, unique: Any) -> None:
    tenant = env.tenant(channel_rate_limits={MEMO: "1/minute"})
    first, second = (send(tenant, body(unique("t")))["id"] for _ in range(2))
    before = dt.datetime.now(dt.UTC)
    env.drain()
    assert message(tenant, first)["status"] == "sent"
    waiting = message(tenant, second)
    assert waiting["status"] == "queued" and waiting["attempts"] == 0
    due = dt.datetime.fromisoformat(waiting["next_attempt_at"])
    assert before < due <= before + dt.timedelta(seconds=61)


@pytest.mark.parametrize(
    "change",
    [
        {"time_zone": "Nowhere/Atlantis"},  # e.g. a zone since withdrawn
        {"email": "ana\x07@example.org"},  # a control character: no subject to read
    ],
)
def test_a_message_the_policy_cannot_read_fails_alone(
    env: Env, unique: Any, change: dict[str, str]
) -> None:
    tenant = env.tenant()
    bad, good = send(tenant, body(unique("bad"))), send(tenant, body(unique("good")))
    db = gateway_of(env.app).db
    with db.transaction(tenant_id=tenant.id) as session:
        row = session.get(Message, bad["id"])
        assert row is not None
        row.recipient = {**row.recipient, **change}
    env.drain()
    failed = message(tenant, bad["id"])
    assert failed["status"] == "failed" and failed["reasons"] == ["bad_recipient"]
    assert message(tenant, good["id"])["status"] == "sent"


def test_outside_allowed_hours_waits_or_is_dropped(env: Env, unique: Any) -> None:
    tenant = env.tenant()
    night = {"address": unique("owl"), "time_zone": zone_at(2), "country": "US"}
    waiting = send(tenant, {**body("x"), "recipient": night})
    assert waiting["status"] == "queued" and waiting["reasons"]
    # 02:xx local now (03:xx if the hour turned meanwhile); 08:00 local is next, 4 to 6 h away.
    ahead = dt.datetime.fromisoformat(waiting["next_attempt_at"]) - dt.datetime.now(dt.UTC)
    assert dt.timedelta(hours=4) < ahead <= dt.timedelta(hours=6)
    dropped = send(tenant, {**body("x"), "recipient": {**night}, "on_blocked": "drop"})
    assert dropped["status"] == "blocked"
    env.drain()
    assert message(tenant, waiting["id"])["status"] == "queued"
    assert env.provider.sent_to(night["address"]) == []
    blocked = {e["payload"]["message_id"] for e in events_of(tenant, "notifications.blocked")}
    assert blocked == {waiting["id"], dropped["id"]}
    # At 08:00 local it goes.
    env.drain(at=dt.datetime.fromisoformat(waiting["next_attempt_at"]))
    assert message(tenant, waiting["id"])["status"] == "sent"


def test_best_channel_picks_a_configured_one_with_an_address(env: Env, unique: Any) -> None:
    tenant = env.tenant()
    made = send(tenant, body(unique("ana"), channel="best"))
    assert made["channel"] == MEMO
    assert_problem(
        tenant.post(
            f"{BASE}/messages",
            json={**body("x", channel="best"), "recipient": {"time_zone": "UTC"}},
        ),
        422,
    )


def test_list_pages_and_filters(env: Env, unique: Any) -> None:
    tenant = env.tenant()
    made = [send(tenant, body(unique("p")))["id"] for _ in range(3)]
    first = tenant.get(f"{BASE}/messages", params={"limit": 2}).json()
    assert [m["id"] for m in first["items"]] == made[:2] and first["next"]
    rest = tenant.get(f"{BASE}/messages", params={"limit": 2, "cursor": first["next"]}).json()
    assert [m["id"] for m in rest["items"]] == made[2:] and rest["next"] is None
    queued = tenant.get(f"{BASE}/messages", params={"status": "queued"}).json()["items"]
    assert len(queued) == 3
    assert tenant.get(f"{BASE}/messages", params={"status": "sent"}).json()["items"] == []


def test_tenant_a_cannot_read_b_messages(env: Env, unique: Any) -> None:
    a, b = env.tenant(), env.tenant()
    made = send(a, body(unique("ana")))
    assert_problem(b.get(f"{BASE}/messages/{made['id']}"), 404)
    assert b.get(f"{BASE}/messages").json()["items"] == []
    assert [m["id"] for m in a.get(f"{BASE}/messages").json()["items"]] == [made["id"]]


def test_the_messages_migration_matches_the_models(app: Any) -> None:
    ours = ("notifications_messages", "notifications_message_history", "notifications_inbound")
    engine = gateway_of(app).db.engine
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": migrate.compare_type}
        )
        differences = compare_metadata(context, Base.metadata)
        inspector = inspect(connection)
        for name in ours:
            table = Base.metadata.tables[name]
            columns = {c["name"] for c in inspector.get_columns(name)}
            assert columns == set(table.columns.keys()), name
            assert "tenants.id" in {fk.target_fullname for fk in table.foreign_keys}, name
    assert [d for d in differences if any(name in repr(d) for name in ours)] == []


def _statements_of_one_batch(env: Env, tenant: Any, addresses: list[str]) -> int:
    """Queue a message to each address, opt the first address out (after acceptance, so
    that the send loop's check is what blocks it), then count the reads (SELECTs) of the
    one send cycle that handles them all (how writes are grouped into executemany calls
    depends on the order of the random ids)."""
    assert env.drain() >= 0  # nothing else due: the cycle below holds only these
    for address in addresses:
        send(tenant, body(address))
    answer = tenant.post(
        f"{BASE}/contact/consents",
        json={"address": addresses[0], "channel": MEMO, "status": "opted_out"},
    )
    assert answer.status_code in (200, 201), answer.text
    engine = gateway_of(env.app).db.engine
    statements: list[str] = []

    def count(*args: Any) -> None:
        if str(args[2]).lstrip().upper().startswith("SELECT"):
            statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert sender_of(env.app).send_due() == len(addresses)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_a_batch_checks_its_messages_in_a_fixed_number_of_queries(env: Env, unique: Any) -> None:
    """Consents, opt-outs, attempts, settings and policy are read per batch, not per message:
    a batch of six costs the reads of a batch of two, and still honours an opt-out recorded
    after acceptance."""
    tenant = env.tenant()
    runs = []
    for size in (1, 2, 6):  # the first batch also makes what is made on first use
        addresses = [unique("batch") for _ in range(size)]
        runs.append(_statements_of_one_batch(env, tenant, addresses))
        assert env.provider.sent_to(addresses[0]) == []
        assert all(len(env.provider.sent_to(a)) == 1 for a in addresses[1:])
    assert runs[1] == runs[2], runs
