"""Portfolio onboarding and synthetic portfolios, through HTTP: all or nothing, with a
per-row report, progress you can poll, and each tenant's jobs invisible to the others."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from almacen.gateway.app import gateway_of
from tests.common.actors import TenantHandle
from tests.common.ledger import BASE, journal, new_account, summary

pytestmark = pytest.mark.modules("ledger")

COLUMNS = [
    "debtor_external_ref",
    "name",
    "phone",
    "email",
    "account_external_ref",
    "product_type",
    "currency",
    "principal",
    "annual_rate",
    "originated_on",
    "instalments",
    "first_due",
]


def rows(count: int, **overrides: str) -> list[dict[str, str]]:
    """``count`` good rows: 1,000.00 COP at 12 % over 12 months, one debtor each."""
    tag = uuid.uuid4().hex[:8]
    return [
        {
            "debtor_external_ref": f"D-{tag}-{n}",
            "name": f"Deudor {n}",
            "phone": f"+57310{n:07d}",
            "email": f"d{n}@example.co",
            "account_external_ref": f"A-{tag}-{n}",
            "product_type": "personal_loan",
            "currency": "COP",
            "principal": "1000.00",
            "annual_rate": "0.12",
            "originated_on": "2026-01-15",
            "instalments": "12",
            "first_due": "2026-02-15",
            **overrides,
        }
        for n in range(count)
    ]


def as_csv(items: list[dict[str, str]], columns: list[str] = COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows(items)
    return out.getvalue()


def import_(tenant: TenantHandle, fmt: str, data: str, **kwargs: Any) -> Any:
    return tenant.post(f"{BASE}/imports", json={"format": fmt, "data": data}, **kwargs)


def wait_for(tenant: TenantHandle, job_id: str) -> dict[str, Any]:
    for _ in range(300):
        response = tenant.get(f"{BASE}/imports/{job_id}")
        assert response.status_code == 200, response.text
        job = response.json()
        if job["status"] in ("succeeded", "failed"):
            return dict(job)
        time.sleep(0.05)
    raise AssertionError("the job never finished")


def account_of(tenant: TenantHandle, external_ref: str) -> dict[str, Any]:
    response = tenant.get(f"{BASE}/accounts", params={"limit": 200})
    found = [a for a in response.json()["items"] if a["external_ref"] == external_ref]
    assert len(found) == 1
    return found[0]


def test_a_good_csv_batch_imports_with_the_right_balances(tenant: TenantHandle) -> None:
    batch = rows(300)
    response = import_(tenant, "csv", as_csv(batch))
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["status"] == "succeeded"
    assert (job["rows_total"], job["rows_validated"], job["rows_imported"]) == (300, 300, 300)
    assert job["errors"] == []
    listed = tenant.get(f"{BASE}/debtors", params={"limit": 500}).json()["items"]
    assert len(listed) == 300
    assert listed[0]["contact_points"][0]["value"].startswith("+57310")
    assert listed[0]["contact_points"][1]["kind"] == "email"
    account = account_of(tenant, batch[7]["account_external_ref"])
    # DOMAIN.md: 1,000.00 at 12 % over 12 months; two instalments due by 2026-03-15.
    found = summary(tenant, account["id"], as_of="2026-03-15")
    assert found["balances"]["principal"]["amount"] == "1000.00"
    assert found["balances"]["interest"]["amount"] == "19.21"  # 10.00 + 9.21
    assert found["days_past_due"] == 28
    # The same terms opened one at a time give the same balances and the same journal.
    single = new_account(tenant)
    for day in ("2026-01-15", "2026-06-15", "2027-12-31"):
        ours, theirs = summary(tenant, account["id"], day), summary(tenant, single["id"], day)
        assert ours["balances"] == theirs["balances"], day
    shape = [
        (e["kind"], e["effective_on"], len(e["postings"])) for e in journal(tenant, account["id"])
    ]
    assert shape == [
        (e["kind"], e["effective_on"], len(e["postings"])) for e in journal(tenant, single["id"])
    ]
    everything = summary(tenant, account["id"], as_of="2027-12-31")
    assert Decimal(everything["balances"]["interest"]["amount"]) == Decimal("66.19")
    schedule = tenant.get(f"{BASE}/accounts/{account['id']}/schedule").json()["items"]
    assert [i["scheduled"]["amount"] for i in schedule] == ["88.85"] * 11 + ["88.84"]
    # Each imported account was announced, as if opened one at a time.
    opened = tenant.get(
        "/v1/events",
        params={"type": "ledger.account_opened", "subject_id": account["id"], "limit": 5},
    ).json()["items"]
    assert [e["payload"]["external_ref"] for e in opened] == [batch[7]["account_external_ref"]]
    assert opened[0]["payload"]["principal"] == {
        "amount": "1000.00",
        "currency": batch[7]["currency"],
    }
    everyone = tenant.get("/v1/events", params={"type": "ledger.account_opened", "limit": 500})
    assert len(everyone.json()["items"]) == 301  # 300 imported, one opened through the API


def test_a_bad_batch_imports_nothing_and_reports_every_bad_row(tenant: TenantHandle) -> None:
    batch = rows(50)
    batch[3]["phone"] = "12345"
    batch[10]["principal"] = "10.001"
    batch[20]["currency"] = "XYZ"
    batch[30]["first_due"] = "2026-01-01"
    batch[40]["account_external_ref"] = batch[41]["account_external_ref"]
    batch[45]["originated_on"] = "2999-01-01"
    batch[46]["annual_rate"] = "twelve"
    response = import_(tenant, "csv", as_csv(batch))
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["status"] == "failed"
    assert job["rows_imported"] == 0
    where = {(e["row"], e["field"]) for e in job["errors"]}
    assert {
        (4, "phone"),
        (11, "principal"),
        (21, "currency"),
        (31, "first_due"),
        (42, "account_external_ref"),
        (46, "originated_on"),
        (47, "annual_rate"),
    } <= where
    assert job["error_count"] == len(job["errors"])
    assert tenant.get(f"{BASE}/debtors").json()["items"] == []
    assert tenant.get(f"{BASE}/accounts").json()["items"] == []
    assert tenant.get("/v1/events").json()["items"] == []


def test_json_lines_refuse_floats_and_references_in_use(tenant: TenantHandle) -> None:
    first = rows(3)
    ok = import_(tenant, "jsonl", "\n".join(json.dumps(r) for r in first))
    assert ok.json()["status"] == "succeeded", ok.text
    again = rows(3)
    again[0]["account_external_ref"] = first[2]["account_external_ref"]
    lines = [json.dumps(r) for r in again]
    lines[1] = json.dumps({**again[1], "principal": 1000.5})
    lines.append("not json")
    job = import_(tenant, "jsonl", "\n".join(lines)).json()
    assert job["status"] == "failed"
    # One report for both kinds: the rows' own faults and the reference already in use.
    assert {(e["row"], e["field"]) for e in job["errors"]} == {
        (1, "account_external_ref"),
        (2, "principal"),
        (4, None),
    }
    job = import_(tenant, "jsonl", json.dumps(again[0])).json()
    assert job["errors"] == [
        {
            "row": 1,
            "field": "account_external_ref",
            "message": f"{first[2]['account_external_ref']!r} is already in use",
        }
    ]
    assert len(tenant.get(f"{BASE}/accounts").json()["items"]) == 3


def test_a_fault_in_a_later_part_rolls_back_the_parts_already_written(
    tenant: TenantHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parts are written while the next ones are validated: a bad row found after some parts
    were written still leaves nothing behind, and the report names it."""
    from almacen.modules.ledger import onboarding

    monkeypatch.setattr(onboarding, "PART", 3)
    batch = rows(10)
    # One debtor with accounts in two parts (rows 2 and 5).
    batch[4].update(debtor_external_ref=batch[1]["debtor_external_ref"], name=batch[1]["name"])
    bad = [dict(row) for row in batch]
    bad[7]["principal"] = "mil"
    job = import_(tenant, "csv", as_csv(bad)).json()
    assert job["status"] == "failed"
    assert [(e["row"], e["field"]) for e in job["errors"]] == [(8, "principal")]
    assert (job["rows_validated"], job["rows_imported"]) == (10, 0)
    assert tenant.get(f"{BASE}/debtors").json()["items"] == []
    assert tenant.get(f"{BASE}/accounts").json()["items"] == []
    assert tenant.get("/v1/events").json()["items"] == []

    job = import_(tenant, "csv", as_csv(batch)).json()
    assert job["status"] == "succeeded", job
    assert len(tenant.get(f"{BASE}/accounts", params={"limit": 50}).json()["items"]) == 10
    debtors = tenant.get(f"{BASE}/debtors", params={"limit": 50}).json()["items"]
    assert len(debtors) == 9
    shared = account_of(tenant, batch[4]["account_external_ref"])
    assert shared["debtor_id"] == account_of(tenant, batch[1]["account_external_ref"])["debtor_id"]


def test_a_reference_in_use_in_a_later_part_writes_nothing(
    tenant: TenantHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    from almacen.modules.ledger import onboarding

    monkeypatch.setattr(onboarding, "PART", 2)
    first = rows(2)
    assert import_(tenant, "csv", as_csv(first)).json()["status"] == "succeeded"
    batch = rows(7)
    batch[5]["debtor_external_ref"] = first[0]["debtor_external_ref"]
    job = import_(tenant, "csv", as_csv(batch)).json()
    assert job["status"] == "failed"
    assert [(e["row"], e["field"]) for e in job["errors"]] == [(6, "debtor_external_ref")]
    assert len(tenant.get(f"{BASE}/debtors", params={"limit": 50}).json()["items"]) == 2
    assert len(tenant.get(f"{BASE}/accounts", params={"limit": 50}).json()["items"]) == 2


@pytest.mark.postgres
def test_two_imports_racing_for_the_same_references_name_the_rows_they_lost(
    app: Any, tenant: TenantHandle, is_postgres: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second job checks its references before the first commits, so its write waits on
    the first's rows and then hits their unique keys: it still fails with a report naming each
    row (not an internal error), and writes nothing."""
    if not is_postgres:
        pytest.skip("two batches writing at once need PostgreSQL")
    from almacen.modules.ledger import onboarding

    written, release = threading.Event(), threading.Event()
    run_job, calls = onboarding.run_job, []

    def first_holds_its_transaction(*args: Any, **kwargs: Any) -> None:
        calls.append(args)
        if len(calls) == 1:

            def hold(*_: Any) -> None:
                written.set()
                assert release.wait(30)

            kwargs["after_write"] = hold
        run_job(*args, **kwargs)

    monkeypatch.setattr(onboarding, "run_job", first_holds_its_transaction)
    batch = rows(4)
    later = {"Prefer": "respond-async"}
    first = import_(tenant, "csv", as_csv(batch), headers=later).json()
    assert written.wait(30)
    second = import_(tenant, "csv", as_csv(batch), headers=later).json()
    engine = gateway_of(app).db.engine
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    deadline = time.monotonic() + 30
    with engine.connect() as connection:
        while not connection.exec_driver_sql(waiting).scalar():
            assert time.monotonic() < deadline, "the second import never waited"
            time.sleep(0.02)
    release.set()

    assert wait_for(tenant, first["id"])["status"] == "succeeded"
    lost = wait_for(tenant, second["id"])
    assert lost["status"] == "failed"
    assert (lost["rows_validated"], lost["rows_imported"], lost["error_count"]) == (4, 0, 8)
    assert lost["errors"] == [
        {"row": n + 1, "field": field, "message": f"{batch[n][field]!r} is already in use"}
        for n in range(4)
        for field in ("account_external_ref", "debtor_external_ref")
    ]
    assert len(tenant.get(f"{BASE}/accounts").json()["items"]) == 4
    assert len(tenant.get(f"{BASE}/debtors").json()["items"]) == 4


def test_an_import_carries_the_debtors_channel_language_and_time_zone(
    tenant: TenantHandle,
) -> None:
    batch = rows(3)
    batch[0].update(preferred_channel="whatsapp", language="es-CO", time_zone="America/Bogota")
    columns = [*COLUMNS, "preferred_channel", "language", "time_zone"]
    bad = [dict(row) for row in batch]
    bad[1].update(language="español", time_zone="America/Medellin")
    bad[2].update(preferred_channel="pigeon")

    refused = import_(tenant, "csv", as_csv(bad, columns)).json()
    assert refused["status"] == "failed"
    assert [(e["row"], e["field"]) for e in refused["errors"]] == [
        (2, "language"),
        (2, "time_zone"),
        (3, "preferred_channel"),
    ]
    assert tenant.get(f"{BASE}/debtors").json()["items"] == []

    job = import_(tenant, "csv", as_csv(batch, columns)).json()
    assert job["status"] == "succeeded", job
    debtors = {
        d["external_ref"]: d
        for d in tenant.get(f"{BASE}/debtors", params={"limit": 10}).json()["items"]
    }
    first, second = (debtors[row["debtor_external_ref"]] for row in batch[:2])
    assert (first["preferred_channel"], first["language"], first["time_zone"]) == (
        "whatsapp",
        "es-CO",
        "America/Bogota",
    )
    # Left empty: the defaults of POST /debtors.
    assert (second["preferred_channel"], second["language"], second["time_zone"]) == (
        None,
        "es",
        "UTC",
    )


def test_a_csv_without_the_required_columns_is_refused(tenant: TenantHandle) -> None:
    response = import_(tenant, "csv", "name,phone\nAna,+573101234567\n")
    assert response.status_code == 422
    assert "debtor_external_ref" in response.json()["detail"]


def test_an_async_import_reports_progress_until_done(tenant: TenantHandle) -> None:
    response = import_(tenant, "csv", as_csv(rows(120)), headers={"Prefer": "respond-async"})
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] == "queued"
    assert response.headers["Location"].endswith(f"/imports/{job['id']}")
    done = wait_for(tenant, job["id"])
    assert done["status"] == "succeeded"
    assert done["rows_validated"] == done["rows_imported"] == 120
    assert done["finished_at"] is not None


def test_import_jobs_are_invisible_to_other_tenants(
    tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    job = import_(tenant, "csv", as_csv(rows(2))).json()
    assert other_tenant.get(f"{BASE}/imports/{job['id']}").status_code == 404
    assert tenant.get(f"{BASE}/imports/{job['id']}").status_code == 200
    # The same references are free in another tenant.
    assert other_tenant.get(f"{BASE}/accounts").json()["items"] == []


def test_a_synthetic_portfolio_ages_realistically(tenant: TenantHandle) -> None:
    response = tenant.post(f"{BASE}/synthetic-portfolio", json={"size": 200, "seed": 7})
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["status"] == "succeeded", job
    assert job["source"] == "synthetic"
    assert job["rows_imported"] == 200
    report = tenant.post(f"{BASE}/jobs/aging", json={}).json()
    counts = Counter(report["counts"])
    assert sum(counts.values()) == 200
    moved = tenant.get("/v1/events", params={"type": "ledger.bucket_changed", "limit": 500})
    changes = moved.json()["items"]
    assert len(changes) == 200 - counts["current"]  # every account starts current
    assert {c["payload"]["new"] for c in changes} == set(counts) - {"current"}
    assert all(c["payload"]["old"] == "current" for c in changes)
    assert 60 <= counts["current"] <= 120
    assert 15 <= counts["180+"] + counts["121-180"] <= 60
    assert counts["1-30"] + counts["31-60"] + counts["61-90"] >= 40
    again = tenant.post(f"{BASE}/synthetic-portfolio", json={"size": 200, "seed": 7}).json()
    assert again["status"] == "failed"  # the same seed gives the same references
