"""Time a portfolio import of N rows (issue goal: 100,000 rows under 60 s on PostgreSQL).

    python bench/ledger_import.py --url postgresql+psycopg://postgres@127.0.0.1:5432/postgres \
        --rows 10000 --rows 100000

Creates (and drops) a database ``almacen_bench_import`` next to the one in ``--url``, migrates
it, makes a tenant, builds a CSV of N rows (12 monthly instalments each: per row 1 debtor, 1
contact point, 1 account, 12 instalments, 13 journal entries and 37 postings) and runs the
import job as ``POST /imports`` does in the background, timing parse, validation and the
write (one transaction) separately. Event delivery is left to ``almacen worker`` processes
(``delivery: worker``), as in production and ``bench/ledger.py``: the import's 100,000
``ledger.account_opened`` events are written, not delivered, in the timed part.

Next to each wall-clock figure, the seconds of CPU this process spent (``cpu``): on a busy
machine the wall clock moves with the neighbours, the CPU much less; the rest of the wall
clock of the job is mostly PostgreSQL writing (COPY, indexes, foreign-key checks).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import time

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from almacen.gateway import create_app, migrate
from almacen.gateway.app import gateway_of
from almacen.gateway.tenancy.service import create_tenant, subscribe
from almacen.modules.ledger import accounts, onboarding
from almacen.modules.ledger.models import ImportJob

NAME = "almacen_bench_import"


def _csv(rows: int, tag: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["debtor_external_ref", "name", "phone", "account_external_ref", "product_type",
         "currency", "principal", "annual_rate", "originated_on", "instalments", "first_due"]
    )  # fmt: skip
    for n in range(rows):
        writer.writerow(
            [f"D-{tag}-{n}", f"Deudor {n}", f"+57310{n % 10_000_000:07d}", f"A-{tag}-{n}",
             "personal_loan", "COP", f"{1000 + n % 5000}.00", "0.24", "2026-01-15", "12",
             "2026-02-15"]
        )  # fmt: skip
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="a PostgreSQL URL (its server is used)")
    parser.add_argument("--rows", type=int, action="append", required=True)
    args = parser.parse_args()
    # A server warms the bots' classifier at boot, long before any import; here the warm-up
    # thread would run during the timed import and take its CPU.
    os.environ.setdefault("ALMACEN_BOTS_WARM", "off")
    admin = create_engine(args.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{NAME}"'))
    url = make_url(args.url).set(database=NAME).render_as_string(hide_password=False)
    try:
        app = create_app(
            {
                "database_url": url,
                "admin_token": "bench-admin-token-0123456789abcd",
                "delivery": "worker",
            }
        )
        gateway = gateway_of(app)
        migrate.upgrade(gateway.db.engine, gateway.registry.modules.values())
        for rows in args.rows:
            with gateway.db.transaction() as session:
                tenant = create_tenant(session, slug=f"bench-{rows}", name="bench")
            with gateway.db.transaction(tenant_id=tenant.id) as session:
                subscribe(session, module=gateway.registry.modules["ledger"], config={})
            document = _csv(rows, str(rows))
            started = time.perf_counter()
            parsed = onboarding.parse(document, "csv")
            parse_s = time.perf_counter() - started
            job = onboarding.create_job(gateway.db, tenant.id, source="csv", rows_total=rows)
            started, cpu = time.perf_counter(), time.process_time()
            validated = onboarding.validate_rows(parsed, today=accounts.today())
            validate_s = time.perf_counter() - started
            validate_cpu = time.process_time() - cpu
            del validated
            started, cpu = time.perf_counter(), time.process_time()
            onboarding.run_job(gateway.db, tenant.id, job.id, parsed, today=accounts.today())
            total_s = time.perf_counter() - started
            total_cpu = time.process_time() - cpu
            with gateway.db.session(tenant_id=tenant.id) as session:
                done = session.get(ImportJob, job.id)
                assert done is not None
                status, imported = done.status, done.rows_imported
            print(
                f"{rows:>7,} rows: {status}, {imported:,} imported; parse {parse_s:.1f} s, "
                f"validate {validate_s:.1f} s (cpu {validate_cpu:.1f} s), job (validate + write) "
                f"{total_s:.1f} s (cpu {total_cpu:.1f} s), {rows / total_s:,.0f} rows/s; "
                f"goal for 100,000 rows: under 60 s"
            )
        gateway.db.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
