"""Notifications benchmark: ``contact-check`` requests/s beside ``/healthz``, and messages
delivered per second to a local SMTP server by 2 ``almacen worker`` processes.

One command, ``python bench/notifications.py``, creates (and drops) a PostgreSQL database,
migrates it, and makes a tenant subscribed to ``notifications`` with an API key. Then:

1. **HTTP**: gunicorn with 2 uvicorn workers on 127.0.0.1 serving
   ``almacen.gateway.asgi:app`` (the installed plugins; Redis rate limits, JSON logs), driven
   by ``wrk``: first ``POST /v1/notifications/contact-check`` (an e-mail recipient under
   Regulation F in a zone where it is midday, so every rule is evaluated and the answer is
   "allowed"; every answer must be 200), then ``GET /v1/healthz`` with the same settings,
   in the same run; prints both rates and their ratio.
2. **SMTP**: an aiosmtpd server in this process; the tenant's e-mail channel points at it
   (plain SMTP on the loopback). ``--messages`` messages are accepted through the service
   layer (rendered, checked, queued: timed, for reference) with ``next_attempt_at`` a day
   ahead; 2 worker processes (``python -m almacen.gateway.cli worker``) start; once both
   said they are ready, one UPDATE makes the messages due and the clock runs until none is
   queued. Each worker re-checks the contact policy and the opt-outs (their facts read
   once per claimed batch), throttles (Redis), renders the RFC 8058 headers, sends over
   SMTP (a pooled connection), counts the attempt and records the status and its event.
   The script checks that the server received every message exactly once, each with its
   one-click headers.

Goal (issue): at least 200 messages/s delivered with 2 workers. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email
import email.policy
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gateway  # bench/gateway.py: the shared helpers
from gateway import (
    HOST,
    WrkResult,
    add_load_options,
    bench_database,
    drive,
    ensure_wrk,
    free_port,
    gateway_server,
    lua_status_check,
    running,
    say,
    verdict,
)

BENCH_DB = "almacen_bench_notifications"
SMTP_GOAL = 200.0
CHECK_BODY: dict[str, str] = {
    "channel": "email",
    "email": "ana@example.com",
    "time_zone": "Etc/GMT",  # replaced by a zone where it is midday (see main)
    "country": "US",
}
LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = %(key)s
wrk.body = %(body)s
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
"""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options; the defaults are the benchmark of record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=4000, help="messages sent over SMTP")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    add_load_options(parser)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to deliver")
    parser.add_argument("--skip-http", action="store_true", help="only the SMTP part")
    parser.add_argument("--skip-smtp", action="store_true", help="only the HTTP part")
    return parser.parse_args(argv)


# -- setup ---------------------------------------------------------------------------------


def make_tenant(bench) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A tenant subscribed to notifications (no merging, a generous rate); id and API key."""
    from almacen.gateway.tenancy import service

    with bench.db.transaction() as session:
        tenant = service.create_tenant(session, slug="bench-notifications", name="bench")
        tenant_id = tenant.id
    config = {
        "merge_window_seconds": 0,
        "send_rate_limit": "100000/second",
        "public_base_url": "https://bench.example",
    }
    with bench.db.transaction(tenant_id=tenant_id) as session:
        service.subscribe(session, module=bench.registry.modules["notifications"], config=config)
        _, secret = service.create_api_key(session, tenant=tenant, name="bench")
    return tenant_id, secret


def zone_at(hour: int) -> str:
    """A fixed-offset zone where the local hour is now ``hour`` (inside allowed hours)."""
    offset = hour - dt.datetime.now(dt.UTC).hour
    if offset > 14:
        offset -= 24
    if offset < -12:
        offset += 24
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


# -- HTTP ----------------------------------------------------------------------------------


def probe(port: int, key: str) -> dict[str, Any]:
    """One contact check through http.client, to check the path before loading it."""
    import http.client

    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request(
            "POST",
            "/v1/notifications/contact-check",
            body=json.dumps(CHECK_BODY),
            headers={"X-API-Key": key, "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        text = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise RuntimeError(f"probe contact-check: {response.status} {text!r}")
    decision: dict[str, Any] = json.loads(text)
    return decision


def wait_ready(process: subprocess.Popen[bytes], port: int, key: str, log: Path) -> None:
    """Until the workers answer a contact check, for at most 60 s."""
    deadline = time.monotonic() + 60
    answered = 0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited ({process.returncode}):\n{log.read_text()}")
        try:
            probe(port, key)
            answered += 1
            if answered >= 4:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server did not answer in 60 s:\n{log.read_text()}")


def measure_http(
    args: argparse.Namespace, wrk: str, key: str, workdir: Path
) -> tuple[WrkResult, WrkResult, dict[str, Any]]:
    """contact-check req/s and /healthz req/s, same server, same wrk settings."""
    script = workdir / "contact_check.lua"
    body = json.dumps(json.dumps(CHECK_BODY))
    script.write_text(LUA % {"key": json.dumps(key), "body": body} + lua_status_check(200))
    server = gateway_server("notifications")
    port = free_port()
    log = workdir / "notifications.log"
    base = f"http://{HOST}:{port}"
    say(f"starting {server.description} on {HOST}:{port}")
    with running(server, port, log) as process:
        wait_ready(process, port, key, log)
        decision = probe(port, key)
        url = base + "/v1/notifications/contact-check"
        checks = drive(wrk, args, url, "contact-check", script, status=200)
        healthz = drive(wrk, args, base + "/v1/healthz", "healthz")
        if process.poll() is not None:
            raise RuntimeError(f"server died under load:\n{log.read_text()}")
    return checks, healthz, decision


# -- SMTP ----------------------------------------------------------------------------------


class Inbox:
    """An aiosmtpd handler keeping what it accepts; read after the run, so that the server
    spends its time receiving."""

    def __init__(self) -> None:
        self.contents: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.contents.append(envelope.content)
        return "250 OK"

    def summary(self) -> tuple[int, int, int]:
        """(messages, distinct Message-IDs, messages with RFC 8058 one-click headers)."""
        ids: set[str] = set()
        one_click = 0
        for content in self.contents:
            parsed = email.message_from_bytes(content, policy=email.policy.default)
            ids.add(str(parsed["Message-ID"]))
            post = parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            if post and str(parsed["List-Unsubscribe"]).startswith("<https://bench.example/"):
                one_click += 1
        return len(self.contents), len(ids), one_click


def scalar(bench, sql: str) -> Any:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    with bench.db.engine.connect() as connection:
        return connection.execute(text(sql)).scalar()


def execute(bench, sql: str) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    with bench.db.engine.begin() as connection:
        connection.execute(text(sql))


def queue_messages(bench, tenant_id: str, smtp_port: int, count: int) -> float:  # type: ignore[no-untyped-def]
    """Configure the channel and template, accept ``count`` messages; accepted/s."""
    from almacen.modules.notifications.channels import providers
    from almacen.modules.notifications.channels.credentials import put_channel
    from almacen.modules.notifications.sending import accept_message
    from almacen.modules.notifications.templates.store import put_template

    credentials = {
        "host": HOST,
        "port": smtp_port,
        "security": "none",
        "from_address": "cobranza@bench.example",
        "from_name": "Cobranza",
    }
    with bench.db.transaction(tenant_id=tenant_id) as session:
        put_channel(session, channel="email", provider="smtp", credentials=credentials)
        put_template(
            session,
            name="aviso",
            channel="email",
            locale="en_US",
            subject="Payment reminder for {{ name }}",
            text="Hello {{ name }}, your instalment of {{ amount }} is due on {{ due }}.",
            html="<p>Hello <b>{{ name }}</b>, {{ amount }} is due on {{ due }}.</p>",
            channels={p.channel for p in providers(session).values()},
        )
    zone = zone_at(13)
    started = time.perf_counter()
    for first in range(0, count, 100):
        with bench.db.transaction(tenant_id=tenant_id) as session:
            for number in range(first, min(first + 100, count)):
                request = {
                    "recipient": {
                        "email": f"debtor{number}@example.org",
                        "time_zone": zone,
                        "country": "US",
                    },
                    "channel": "email",
                    "template": "aviso",
                    "locale": "en_US",
                    "data": {"name": f"Debtor {number}", "amount": "$120.00", "due": "May 1"},
                    "account_ids": [],
                    "on_blocked": "wait",
                }
                accept_message(session, tenant_id, request)
    return count / (time.perf_counter() - started)


def deliver(bench, args: argparse.Namespace, inbox: Inbox) -> float:  # type: ignore[no-untyped-def]
    """Start the workers, make the messages due, time until none is queued; messages/s."""
    execute(
        bench,
        "UPDATE notifications_messages SET next_attempt_at = now() + interval '1 day' "
        "WHERE status = 'queued'",
    )
    env = {**os.environ, **gateway.gateway_config(entrypoints=True)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "almacen.gateway.cli", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(args.workers)
    ]
    errors: list[list[str]] = [[] for _ in processes]
    ready = threading.Semaphore(0)

    def read(index: int, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            errors[index].append(line)
            if "draining the outbox" in line:
                ready.release()

    def stderr() -> str:
        return "".join(line for lines in errors for line in lines)[-5000:]

    for index, process in enumerate(processes):
        threading.Thread(target=read, args=(index, process), daemon=True).start()
    try:
        for _ in processes:
            if not ready.acquire(timeout=60):
                raise RuntimeError(f"a worker did not start: {stderr()}")
        started = time.perf_counter()
        execute(
            bench,
            "UPDATE notifications_messages SET next_attempt_at = now() WHERE status = 'queued'",
        )
        while scalar(bench, "SELECT count(*) FROM notifications_messages WHERE status = 'queued'"):
            if time.perf_counter() - started > args.timeout:
                raise RuntimeError(f"not delivered after {args.timeout} s: {stderr()}")
            if any(p.poll() is not None for p in processes):
                raise RuntimeError(f"a worker died: {stderr()}")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    sent = scalar(bench, "SELECT count(*) FROM notifications_messages WHERE status = 'sent'")
    received, distinct, one_click = inbox.summary()
    if sent != args.messages or received != args.messages:
        raise RuntimeError(f"{sent} sent, {received} received, not {args.messages}: {stderr()}")
    if distinct != received or one_click != received:
        raise RuntimeError("a message arrived twice, or without its one-click headers")
    return args.messages / elapsed


def measure_smtp(bench, args: argparse.Namespace, tenant_id: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(accepted/s, delivered/s) with the SMTP server in this process."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname=HOST, port=port)
    controller.start()
    try:
        say(f"SMTP: accepting {args.messages:,} messages")
        accepted = queue_messages(bench, tenant_id, port, args.messages)
        say(f"SMTP: delivering with {args.workers} workers")
        delivered = deliver(bench, args, inbox)
    finally:
        controller.stop()
    return accepted, delivered


# -- main ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the report."""
    args = parse_args(argv)
    CHECK_BODY["time_zone"] = zone_at(13)  # inside the allowed hours: the whole check runs
    wrk = ensure_wrk() if not args.skip_http else ""
    http: tuple[WrkResult, WrkResult, dict[str, Any]] | None = None
    smtp: tuple[float, float] | None = None
    with (
        tempfile.TemporaryDirectory(prefix="almacen-bench-notifications-") as tmp,
        bench_database(BENCH_DB) as bench,
    ):
        tenant_id, key = make_tenant(bench)
        if not args.skip_http:
            http = measure_http(args, wrk, key, Path(tmp))
        if not args.skip_smtp:
            smtp = measure_smtp(bench, args, tenant_id)

    print("Versions")
    for line in gateway.versions(wrk) if wrk else []:
        print(f"  {line}")
    if http is not None:
        checks, healthz, decision = http
        print(
            f"\nHTTP: gunicorn + 2 uvicorn workers on {HOST}, wrk -t{args.threads} "
            f"-c{args.connections} -d{args.duration}s --latency after a {args.warmup}s "
            f"warm-up;\ncontact-check of {json.dumps(CHECK_BODY)} "
            f"(allowed: {decision.get('allowed')}), every answer 200"
        )
        print(f"  {'':<36} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'requests':>9}")
        for label, row in (
            ("POST /v1/notifications/contact-check", checks),
            ("GET /v1/healthz", healthz),
        ):
            print(
                f"  {label:<36} {row.requests_per_s:>8.0f} {row.p50_ms:>7.2f} "
                f"{row.p99_ms:>7.2f} {row.requests:>9,}"
            )
        print(f"  contact-check / healthz: {checks.requests_per_s / healthz.requests_per_s:.2f}")
    if smtp is not None:
        accepted, delivered = smtp
        print(
            f"\nSMTP: {args.messages:,} e-mails to an aiosmtpd server in the bench process, "
            f"{args.workers} `almacen worker` processes, PostgreSQL, Redis throttle"
        )
        print(f"  accepted (render, policy check, queue; in-process): {accepted:,.0f} messages/s")
        print(f"  delivered (policy re-check, SMTP, status): {delivered:,.0f} messages/s")
        print(f"  goal >= {SMTP_GOAL:.0f} messages/s: {verdict(delivered >= SMTP_GOAL)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
