"""Ledger benchmark: payments posted per second over HTTP, and the aging job over N accounts.

One command, ``python bench/ledger.py``, creates (and drops) a PostgreSQL database, then:

1. starts gunicorn with 2 uvicorn workers on 127.0.0.1 serving ``almacen.gateway.asgi:app``
   (the installed plugins, ledger included), and drives it with ``wrk``: first
   ``POST /v1/ledger/accounts/{id}/payments`` (a Lua script gives each request a unique
   ``external_id`` and spreads them over ``--http-accounts`` accounts; every answer must be
   201), then ``GET /v1/healthz`` with the same settings; prints both rates and their ratio;
2. writes ``--accounts`` synthetic accounts for another tenant with the bulk path
   (``synthetic.fill_demo``: generate, validate, bulk insert; timed as the import), then
   times ``aging.run_aging`` in-process on that tenant's session.

Goals (issue): >= 300 payments/s and >= 1/3 of the /healthz rate; aging of 100,000 accounts
under 20 s. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

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
    versions,
    wait_ready,
)

BENCH_DB = "almacen_bench_ledger"
PAYMENTS_GOAL = 300.0
HEALTHZ_SHARE_GOAL = 1 / 3
AGING_GOAL_S = 20.0
AGING_GOAL_ACCOUNTS = 100_000

# One Lua state per wrk thread: ``setup`` numbers the threads, ``init`` reads the run tag,
# ``request`` makes a unique external_id and picks the next account round-robin (each thread
# starting elsewhere); answers that are not 201 are counted (gateway.lua_status_check).
LUA = """
local accounts = {%(accounts)s}
local threads = {}
local key = %(key)s
local today = %(today)s

function setup(thread)
  thread:set("thread_no", #threads)
  table.insert(threads, thread)
end

function init(args)
  tag = args[1] or "run"
  counter = 0
end

function request()
  counter = counter + 1
  local account = accounts[(counter * 7 + thread_no * 31) %% #accounts + 1]
  local body = string.format(
    '{"external_id":"%%s-%%d-%%d","amount":{"amount":"1.00","currency":"COP"},'
    .. '"received_on":"%%s","channel":"bench"}',
    tag, thread_no, counter, today)
  return wrk.format("POST", "/v1/ledger/accounts/" .. account .. "/payments",
    {["X-API-Key"] = key, ["Content-Type"] = "application/json"}, body)
end
"""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options; the defaults are the benchmark of record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000, help="accounts to age")
    parser.add_argument(
        "--http-accounts", type=int, default=200, help="accounts the payments spread over"
    )
    add_load_options(parser)
    parser.add_argument("--seed", type=int, default=2026, help="synthetic portfolio seed")
    parser.add_argument("--skip-http", action="store_true", help="only the aging part")
    parser.add_argument("--skip-aging", action="store_true", help="only the HTTP part")
    return parser.parse_args(argv)


# -- database ------------------------------------------------------------------------------


def make_tenant(bench, slug: str, *, size: int, seed: int, key: bool) -> tuple[str, str, float]:  # type: ignore[no-untyped-def]
    """A tenant subscribed to the ledger with ``size`` synthetic accounts.

    :return: the tenant's id, an API key (or ``""``) and the seconds the bulk write took.
    """
    from almacen.gateway.tenancy import service
    from almacen.modules.ledger import synthetic

    with bench.db.transaction() as session:
        tenant = service.create_tenant(session, slug=slug, name=slug)
        tenant_id = tenant.id
    secret = ""
    with bench.db.transaction(tenant_id=tenant_id) as session:
        service.subscribe(session, module=bench.registry.modules["ledger"], config={})
        if key:
            _, secret = service.create_api_key(session, tenant=tenant, name="bench")
    started = time.perf_counter()
    with bench.db.transaction(tenant_id=tenant_id) as session:
        summary = synthetic.fill_demo(session, size=size, seed=seed)
    elapsed = time.perf_counter() - started
    say(f"{slug}: {summary} ({elapsed:.1f} s)")
    return tenant_id, secret, elapsed


def open_account_ids(bench, tenant_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The ids of the tenant's open accounts."""
    from sqlalchemy import select

    from almacen.modules.ledger.models import Account

    with bench.db.session(tenant_id=tenant_id) as session:
        found = session.scalars(
            select(Account.id).where(Account.status == "open").order_by(Account.id)
        )
        return [str(value) for value in found]


# -- HTTP ----------------------------------------------------------------------------------


def post_one(port: int, key: str, account_id: str, today: str) -> int:
    """One payment through http.client, to check the path before loading it."""
    import http.client

    body = {
        "external_id": "bench-probe",
        "amount": {"amount": "1.00", "currency": "COP"},
        "received_on": today,
    }
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request(
            "POST",
            f"/v1/ledger/accounts/{account_id}/payments",
            body=json.dumps(body),
            headers={"X-API-Key": key, "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        text = response.read()
    finally:
        connection.close()
    if response.status != 201:
        raise RuntimeError(f"probe payment: {response.status} {text!r}")
    return response.status


def measure_http(
    args: argparse.Namespace, wrk: str, key: str, account_ids: list[str], workdir: Path
) -> tuple[WrkResult, WrkResult]:
    """Payments/s and /healthz req/s, same server, same wrk settings."""
    from almacen.modules.ledger.accounts import today

    day = today().isoformat()
    script = workdir / "payments.lua"
    script.write_text(
        LUA
        % {
            "accounts": ", ".join(json.dumps(value) for value in account_ids),
            "key": json.dumps(key),
            "today": json.dumps(day),
        }
        + lua_status_check(201)
    )
    server = gateway_server("ledger")
    port = free_port()
    log = workdir / "ledger.log"
    base = f"http://{HOST}:{port}"
    say(f"starting {server.description} on {HOST}:{port}")
    with running(server, port, log) as process:
        wait_ready(process, port, log)
        post_one(port, key, account_ids[0], day)
        payments = drive(wrk, args, base + "/", "payments", script, status=201)
        healthz = drive(wrk, args, base + "/v1/healthz", "healthz")
        if process.poll() is not None:
            raise RuntimeError(f"server died under load:\n{log.read_text()}")
    return payments, healthz


# -- aging ---------------------------------------------------------------------------------


def measure_aging(bench, args: argparse.Namespace) -> tuple[float, float, float, str]:  # type: ignore[no-untyped-def]
    """(import seconds, aging seconds, aging CPU seconds of this process, a summary of the
    aging report); the rest of the aging's wall clock is PostgreSQL's."""
    from almacen.modules.ledger.accounts import settings_for, today
    from almacen.modules.ledger.aging import run_aging

    say(f"aging tenant: writing {args.accounts:,} synthetic accounts")
    tenant_id, _, import_s = make_tenant(
        bench, "bench-aging", size=args.accounts, seed=args.seed, key=False
    )
    with bench.db.session(tenant_id=tenant_id) as session:
        config = settings_for(session)
    say("aging tenant: run_aging")
    started, cpu = time.perf_counter(), time.process_time()
    with bench.db.transaction(tenant_id=tenant_id) as session:
        report = run_aging(session, as_of=today(), config=config)
    aging_s = time.perf_counter() - started
    aging_cpu = time.process_time() - cpu
    counts = ", ".join(f"{name} {count:,}" for name, count in report.counts.items())
    summary = (
        f"{sum(report.counts.values()):,} aged ({counts}); {len(report.changed):,} bucket "
        f"changes, {len(report.charged_off):,} charged off"
    )
    return import_s, aging_s, aging_cpu, summary


# -- main ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the report."""
    args = parse_args(argv)
    wrk = ensure_wrk()
    http: tuple[WrkResult, WrkResult] | None = None
    aging: tuple[float, float, float, str] | None = None
    http_import_s = 0.0
    with (
        tempfile.TemporaryDirectory(prefix="almacen-bench-ledger-") as tmp,
        bench_database(BENCH_DB) as bench,
    ):
        if not args.skip_http:
            tenant_id, key, http_import_s = make_tenant(
                bench, "bench-http", size=args.http_accounts, seed=args.seed, key=True
            )
            account_ids = open_account_ids(bench, tenant_id)
            http = measure_http(args, wrk, key, account_ids, Path(tmp))
        if not args.skip_aging:
            aging = measure_aging(bench, args)

    print("Versions")
    for line in versions(wrk):
        print(f"  {line}")
    if http is not None:
        payments, healthz = http
        share = payments.requests_per_s / healthz.requests_per_s
        print(
            f"\nHTTP: gunicorn + 2 uvicorn workers on {HOST}, wrk -t{args.threads} "
            f"-c{args.connections} -d{args.duration}s --latency after a {args.warmup}s "
            f"warm-up;\npayments spread over {args.http_accounts} accounts "
            f"(written in {http_import_s:.1f} s), unique external_id, every answer 201"
        )
        print(f"  {'':<28} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'requests':>9}")
        for label, row in (
            ("POST .../payments", payments),
            ("GET /v1/healthz", healthz),
        ):
            print(
                f"  {label:<28} {row.requests_per_s:>8.0f} {row.p50_ms:>7.2f} "
                f"{row.p99_ms:>7.2f} {row.requests:>9,}"
            )
        print(f"  payments / healthz: {share:.2f}")
        print(
            f"  goal >= {PAYMENTS_GOAL:.0f} payments/s: "
            f"{verdict(payments.requests_per_s >= PAYMENTS_GOAL)}; "
            f"goal >= 1/3 of /healthz: {verdict(share >= HEALTHZ_SHARE_GOAL)}"
        )
    if aging is not None:
        import_s, aging_s, aging_cpu, summary = aging
        print(f"\nAging: {args.accounts:,} synthetic accounts (seed {args.seed})")
        print(
            f"  import (generate, validate, bulk write with history): {import_s:.1f} s, "
            f"{args.accounts / import_s:,.0f} accounts/s"
        )
        print(
            f"  run_aging: {aging_s:.2f} s ({aging_cpu:.2f} s CPU in Python), "
            f"{args.accounts / aging_s:,.0f} accounts/s"
        )
        print(f"  {summary}")
        if args.accounts >= AGING_GOAL_ACCOUNTS:
            print(f"  goal < {AGING_GOAL_S:.0f} s for 100k accounts: {verdict(aging_s < 20)}")
        else:
            scaled = aging_s * AGING_GOAL_ACCOUNTS / args.accounts
            print(
                f"  goal < {AGING_GOAL_S:.0f} s for 100k accounts: not measured at this "
                f"size (linear extrapolation {scaled:.1f} s: "
                f"{verdict(scaled < AGING_GOAL_S)})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
