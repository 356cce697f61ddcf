"""Bots benchmark: bot turns per second through HTTP and the p50/p99 of one turn, beside
/healthz in the same run.

One command, ``python bench/bots.py``, creates (and drops) a PostgreSQL database, then:

1. writes a tenant subscribed to the ledger and bots with ``--conversations`` synthetic
   accounts (the ledger's bulk path), opens a conversation for each and verifies it
   in-process (the debtor's answer to the identity challenge), so that every measured turn
   is a verified debtor's question;
2. starts gunicorn with 2 uvicorn workers on 127.0.0.1 serving ``almacen.gateway.asgi:app``
   (the installed plugins), waits until both workers have logged that their understanding
   is loaded (each warms before it accepts a connection; the trained classifier comes from
   the disk cache after the first run), and drives it with ``wrk``: ``POST
   /v1/bots/conversations/{id}/messages`` with "¿cuánto debo?" (understanding, the state
   machine, ``ledger.get_account`` through the action registry, the reply's template and the
   turn's row; a Lua script spreads the requests over the conversations; every answer must
   be 200), then the ledger read each of those turns makes (``GET
   /v1/ledger/accounts/{id}`` over the same accounts), then ``GET /v1/healthz`` with the same
   settings; prints the three rates, p50/p99 and the turn's ratio to /healthz.

Goal (issue 9): p99 of a turn under 100 ms on this machine. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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
    post_json,
    running,
    say,
    verdict,
    versions,
    wait_ready,
)

BENCH_DB = "almacen_bench_bots"
P99_GOAL_MS = 100.0
QUESTION = "¿cuánto debo?"
#: What a worker logs once its understanding is loaded (modules/bots/warmup.py).
READY = "bots ready"

# ``request`` picks the next conversation round-robin (each thread starting elsewhere),
# answers that are not 200 are counted (gateway.lua_status_check).
LUA = """
local conversations = {%(conversations)s}
local threads = {}
local key = %(key)s
local body = %(body)s

function setup(thread)
  thread:set("thread_no", #threads)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
end

function request()
  counter = counter + 1
  local id = conversations[(counter * 7 + thread_no * 31) %% #conversations + 1]
  return wrk.format("POST", "/v1/bots/conversations/" .. id .. "/messages",
    {["X-API-Key"] = key, ["Content-Type"] = "application/json"}, body)
end

"""


# The same spread of GET /v1/ledger/accounts/{id}: the ledger read every measured turn contains.
LEDGER_LUA = """
local accounts = {%(accounts)s}
local threads = {}
local key = %(key)s

function setup(thread)
  thread:set("thread_no", #threads)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
end

function request()
  counter = counter + 1
  local id = accounts[(counter * 7 + thread_no * 31) %% #accounts + 1]
  return wrk.format("GET", "/v1/ledger/accounts/" .. id, {["X-API-Key"] = key})
end
"""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options; the defaults are the benchmark of record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=500, help="verified conversations")
    # One request in flight per worker: the latency of one turn, not of a queue of them.
    add_load_options(parser, connections=2)
    parser.add_argument("--seed", type=int, default=2026, help="synthetic portfolio seed")
    return parser.parse_args(argv)


def make_tenant(bench, slug: str, *, size: int, seed: int) -> tuple[str, list[str], list[str]]:  # type: ignore[no-untyped-def]
    """A tenant with the ledger and bots, ``size`` accounts, each with a verified conversation.

    :return: the tenant's API key, the conversations' ids and their accounts' ids.
    """
    from sqlalchemy import select

    from almacen.gateway.tenancy import service
    from almacen.modules.bots import service as bots
    from almacen.modules.ledger import synthetic
    from almacen.modules.ledger.models import Account

    with bench.db.transaction() as session:
        tenant = service.create_tenant(session, slug=slug, name=slug)
        tenant_id = tenant.id
    with bench.db.transaction(tenant_id=tenant_id) as session:
        service.subscribe(session, module=bench.registry.modules["ledger"], config={})
        # Enough turns that no conversation reaches the limit (and a person) under load.
        config = {"max_turns": 500}
        service.subscribe(session, module=bench.registry.modules["bots"], config=config)
        _, secret = service.create_api_key(session, tenant=tenant, name="bench")
    with bench.db.transaction(tenant_id=tenant_id) as session:
        say(f"{slug}: {synthetic.fill_demo(session, size=size, seed=seed)}")
    ids, account_ids = [], []
    with bench.db.transaction(tenant_id=tenant_id) as session:
        accounts = session.execute(
            select(Account.id, Account.external_ref).where(Account.status == "open")
        ).all()
        for account_id, reference in accounts:
            conversation, _ = bots.start(session, account_id=account_id)
            answer = "".join(c for c in reference if c.isalnum())[-4:]
            _, turn, _ = bots.post_message(session, conversation.id, answer)
            if turn.state_after != "verified":
                raise RuntimeError(f"identity not verified: {turn.reply!r}")
            ids.append(conversation.id)
            account_ids.append(account_id)
    say(f"{slug}: {len(ids)} verified conversations")
    return secret, ids, account_ids


def wait_warm(process: Any, log: Path, *, workers: int, timeout: float = 180.0) -> None:
    """Until ``workers`` processes have logged that the bots' understanding is loaded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited ({process.returncode}):\n{log.read_text()}")
        ready = log.read_text(errors="replace").count(READY)
        if ready >= workers:
            say(f"{ready} workers warmed their understanding")
            return
        time.sleep(0.2)
    raise RuntimeError(f"workers not warm in {timeout:.0f} s:\n{log.read_text()}")


def measure_http(
    args: argparse.Namespace,
    wrk: str,
    key: str,
    conversations: list[str],
    accounts: list[str],
    workdir: Path,
) -> tuple[WrkResult, WrkResult, WrkResult]:
    """Turns/s, the ledger read's req/s and /healthz req/s on one server."""
    ledger_script = workdir / "accounts.lua"
    ledger_script.write_text(
        LEDGER_LUA
        % {"accounts": ", ".join(json.dumps(a) for a in accounts), "key": json.dumps(key)}
    )
    script = workdir / "turns.lua"
    script.write_text(
        LUA
        % {
            "conversations": ", ".join(json.dumps(value) for value in conversations),
            "key": json.dumps(key),
            "body": json.dumps(json.dumps({"text": QUESTION})),
        }
        + lua_status_check(200)
    )
    server = gateway_server("bots", "--timeout", "120")
    port = free_port()
    log = workdir / "bots.log"
    base = f"http://{HOST}:{port}"
    say(f"starting {server.description} on {HOST}:{port}")
    with running(server, port, log) as process:
        wait_ready(process, port, log)
        # Each worker warms its understanding before it accepts a connection (the bots
        # module's start-up, `sync` under gunicorn): wait for both to say so, not for luck.
        wait_warm(process, log, workers=2)
        for conversation in conversations[:8]:
            path = f"/v1/bots/conversations/{conversation}/messages"
            status, probe = post_json(port, key, path, {"text": QUESTION})
            if status != 200 or probe.get("turn", {}).get("intent") != "balance":
                raise RuntimeError(f"probe turn: {status} {probe!r}")
        turns = drive(wrk, args, base + "/", "turns", script, status=200)
        reads = drive(wrk, args, base + "/", "ledger reads", ledger_script)
        healthz = drive(wrk, args, base + "/v1/healthz", "healthz")
        if process.poll() is not None:
            raise RuntimeError(f"server died under load:\n{log.read_text()}")
    return turns, reads, healthz


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the report."""
    args = parse_args(argv)
    wrk = ensure_wrk()
    with (
        tempfile.TemporaryDirectory(prefix="almacen-bench-bots-") as tmp,
        bench_database(BENCH_DB) as bench,
    ):
        key, conversations, accounts = make_tenant(
            bench, "bench-bots", size=args.conversations, seed=args.seed
        )
        turns, reads, healthz = measure_http(args, wrk, key, conversations, accounts, Path(tmp))

    print("Versions")
    for line in versions(wrk):
        print(f"  {line}")
    print(
        f"\nHTTP: gunicorn + 2 uvicorn workers on {HOST}, wrk -t{args.threads} "
        f"-c{args.connections} -d{args.duration}s --latency after a {args.warmup}s warm-up;\n"
        f"{QUESTION!r} spread over {len(conversations)} verified conversations, every answer 200"
    )
    print(f"  {'':<44} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'requests':>9}")
    for label, row in (
        ("POST /v1/bots/conversations/{id}/messages", turns),
        ("GET /v1/ledger/accounts/{id} (in each turn)", reads),
        ("GET /v1/healthz", healthz),
    ):
        print(
            f"  {label:<44} {row.requests_per_s:>8.0f} {row.p50_ms:>7.2f} "
            f"{row.p99_ms:>7.2f} {row.requests:>9,}"
        )
    print(f"  turn / healthz: {turns.requests_per_s / healthz.requests_per_s:.2f}")
    print(f"  goal p99 of a turn < {P99_GOAL_MS:.0f} ms: {verdict(turns.p99_ms < P99_GOAL_MS)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
