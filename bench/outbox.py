"""Outbox benchmark: events delivered end to end per second by 1 and 2 ``almacen worker``s.

One command, ``python bench/outbox.py``, on PostgreSQL (a database of its own, created and
dropped):

1. **baseline**: a plain INSERT loop, ``--events`` rows one statement each, committed every
   100, into ``bench_plain`` (``CREATE TABLE … (LIKE events INCLUDING ALL)``: the outbox's
   columns, constraints and indexes, no trigger, no ORM): rows/s;
2. **emit**: ``--events`` events written with ``emit`` in transactions of 100 (for reference);
3. **delivery** with 1, then 2 worker processes (``python -m almacen.gateway.cli worker``):
   the events wait with ``next_attempt_at`` a day ahead while the workers start; once every
   worker said it is ready, one UPDATE makes them all due, and the clock runs until none is
   pending. The consumer (``outboxconsumer``) inserts each event id in the delivery
   transaction, so delivery is real; the script checks every id arrived exactly once.

Goal (issue): at least 1,000 events/s with 2 workers. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_DB = "almacen_bench_outbox"
GOAL = 1000.0
PER_TRANSACTION = 100


def say(message: str) -> None:
    """Progress on stderr, so that stdout holds only the report."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def admin_sql(statement: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def bench_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(PG_ADMIN_URL).set(database=BENCH_DB).render_as_string(hide_password=False)


CONSUMERS = {
    # Every consumer an app has: the gateway's webhooks and services, and the bench's.
    "all": "outboxconsumer",
    # The bench's consumer alone: what the outbox machinery itself costs.
    "alone": "outboxconsumer,outboxconsumer.alone",
}


def worker_env(batch_size: int, consumers: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALMACEN_")}
    env.update(
        ALMACEN_DATABASE_URL=bench_url(),
        ALMACEN_LOAD_ENTRYPOINTS="false",
        ALMACEN_EXTRA_PLUGINS=CONSUMERS[consumers],
        ALMACEN_DELIVERY="worker",
        ALMACEN_DELIVERY_BATCH_SIZE=str(batch_size),
        ALMACEN_DELIVERY_POLL_SECONDS="0.05",
        ALMACEN_LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join(filter(None, [str(BENCH_DIR), env.get("PYTHONPATH")])),
    )
    return env


def setup() -> tuple[Any, str]:
    """Create and migrate the database, the consumer's table and a tenant; (gateway, tenant)."""
    import outboxconsumer
    from sqlalchemy import text

    from almacen.gateway import create_app, migrate
    from almacen.gateway.app import gateway_of
    from almacen.gateway.tenancy import service

    admin_sql(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    admin_sql(f'CREATE DATABASE "{BENCH_DB}"')
    config = {"database_url": bench_url(), "load_entrypoints": False, "delivery": "worker"}
    gateway = gateway_of(create_app(config, plugins=[("outboxconsumer", outboxconsumer)]))
    migrate.upgrade(gateway.db.engine, gateway.registry.modules.values())
    with gateway.db.engine.begin() as connection:
        connection.execute(text(outboxconsumer.TABLE_DDL))
        connection.execute(text("CREATE TABLE bench_plain (LIKE events INCLUDING ALL)"))
    with gateway.db.transaction() as session:
        tenant_id = service.create_tenant(session, slug="bench-outbox", name="bench").id
    return gateway, tenant_id


def baseline(gateway: Any, tenant_id: str, count: int) -> float:
    """Rows/s of a plain INSERT loop, one statement a row, a commit every 100."""
    import json

    from sqlalchemy import text

    from almacen.gateway.db import new_id, utcnow

    insert = text(
        "INSERT INTO bench_plain (id, tenant_id, type, version, payload, occurred_at, depth,"
        " status, attempts, next_attempt_at)"
        " VALUES (:id, :tenant, 'bench.ticked', 1, :payload, :now, 0, 'pending', 0, :now)"
    )
    started = time.perf_counter()
    with gateway.db.engine.connect() as connection:
        for start in range(0, count, PER_TRANSACTION):
            with connection.begin():
                for n in range(start, min(start + PER_TRANSACTION, count)):
                    now = utcnow()
                    connection.execute(
                        insert,
                        {
                            "id": new_id(),
                            "tenant": tenant_id,
                            "payload": json.dumps({"n": n}),
                            "now": now,
                        },
                    )
    return count / (time.perf_counter() - started)


def emit_events(gateway: Any, tenant_id: str, count: int) -> float:
    """Emit ``count`` events through ``emit``; events/s."""
    import outboxconsumer

    from almacen.gateway.events import emit

    started = time.perf_counter()
    for start in range(0, count, PER_TRANSACTION):
        with gateway.db.transaction(tenant_id=tenant_id) as session:
            for n in range(start, min(start + PER_TRANSACTION, count)):
                emit(session, outboxconsumer.TICKED, {"n": n})
    return count / (time.perf_counter() - started)


def scalar(gateway: Any, sql: str) -> Any:
    from sqlalchemy import text

    with gateway.db.engine.connect() as connection:
        return connection.execute(text(sql)).scalar()


def execute(gateway: Any, sql: str) -> None:
    from sqlalchemy import text

    with gateway.db.engine.begin() as connection:
        connection.execute(text(sql))


def deliver(
    gateway: Any, count: int, workers: int, batch_size: int, timeout: float, consumers: str
) -> float:
    """Start ``workers`` processes, make the pending events due, time until none is pending."""
    execute(gateway, "TRUNCATE bench_received")
    execute(
        gateway,
        "UPDATE events SET next_attempt_at = now() + interval '1 day' WHERE status = 'pending'",
    )
    env = worker_env(batch_size, consumers)
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "almacen.gateway.cli", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    errors: list[list[str]] = [[] for _ in processes]

    def stderr() -> str:
        return "".join(line for lines in errors for line in lines)

    ready = threading.Semaphore(0)

    def read(index: int, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            errors[index].append(line)
            if "draining the outbox" in line:
                ready.release()

    readers = [
        threading.Thread(target=read, args=(i, p), daemon=True) for i, p in enumerate(processes)
    ]
    for reader in readers:
        reader.start()
    try:
        for _ in processes:
            if not ready.acquire(timeout=60):
                raise RuntimeError(f"a worker did not start: {stderr()}")
        started = time.perf_counter()
        execute(gateway, "UPDATE events SET next_attempt_at = now() WHERE status = 'pending'")
        while scalar(gateway, "SELECT count(*) FROM events WHERE status = 'pending'"):
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"not delivered after {timeout} s")
            if any(p.poll() is not None for p in processes):
                raise RuntimeError(f"a worker died: {stderr()}")
            time.sleep(0.02)
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
    got = scalar(gateway, "SELECT count(*) FROM bench_received")
    distinct = scalar(gateway, "SELECT count(DISTINCT event_id) FROM bench_received")
    if got != count or distinct != count:
        raise RuntimeError(f"the consumer saw {got} events ({distinct} distinct), not {count}")
    return count / elapsed


def reset(gateway: Any) -> None:
    """Every event pending again, as emitted."""
    execute(
        gateway,
        "UPDATE events SET status = 'pending', attempts = 0, delivered_at = NULL,"
        " failed_consumers = NULL, last_error = NULL",
    )


def versions() -> str:
    from importlib.metadata import version

    names = ("sqlalchemy", "psycopg", "pluggy")
    return (
        f"python {platform.python_version()} on {platform.system()} {platform.release()}, "
        f"{os.cpu_count()} CPUs; " + ", ".join(f"{n} {version(n)}" for n in names)
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per run")
    parser.add_argument("--batch-size", type=int, default=100, help="events per transaction")
    parser.add_argument("--workers", default="1,2", help="worker counts to measure")
    parser.add_argument(
        "--consumers",
        default="all,alone",
        help="all (the gateway's webhooks and services too) and/or alone (the bench's only)",
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per delivery run")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    counts = [int(n) for n in args.workers.split(",")]
    say(f"creating {BENCH_DB}")
    gateway, tenant_id = setup()
    results: dict[tuple[str, int], float] = {}
    kinds = args.consumers.split(",")
    try:
        say(f"baseline: {args.events} plain INSERTs")
        plain = baseline(gateway, tenant_id, args.events)
        say(f"emitting {args.events} events")
        emitted = emit_events(gateway, tenant_id, args.events)
        for kind in kinds:
            for workers in counts:
                reset(gateway)
                say(f"delivering {args.events} events with {workers} worker(s), consumers: {kind}")
                results[kind, workers] = deliver(
                    gateway, args.events, workers, args.batch_size, args.timeout, kind
                )
    finally:
        gateway.close()
        admin_sql(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    print(versions())
    print(f"{args.events} events, delivery batches of {args.batch_size}, PostgreSQL {BENCH_DB}")
    width = 52
    print(f"{'run':<{width}}{'per s':>10}{'vs baseline':>13}")
    print(f"{'baseline: plain INSERT loop':<{width}}{plain:>10,.0f}{1:>13.2f}")
    print(f"{'emit (outbox writes)':<{width}}{emitted:>10,.0f}{emitted / plain:>13.2f}")
    for (kind, workers), rate in results.items():
        who = "every consumer" if kind == "all" else "bench consumer alone"
        label = f"delivered end to end, {workers} worker{'s' if workers > 1 else ''}, {who}"
        print(f"{label:<{width}}{rate:>10,.0f}{rate / plain:>13.2f}")
    for kind in kinds:
        if (kind, 2) in results:
            rate = results[kind, 2]
            verdict = "met" if rate >= GOAL else "NOT met"
            print(f"goal >= {GOAL:,.0f} events/s with 2 workers ({kind}): {verdict} ({rate:,.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
