"""Ledger KPIs and journal exports through HTTP.

The portfolio used below, worked out by hand. Every COP account is 300.00 at 0 %,
originated 2026-01-15, with three instalments of 100.00 due 15 February, 15 March and
15 April; the USD account E is 50.00 due 15 March. The aging job runs on 31 March and
30 April (2026 is not a leap year: 15 Feb → 31 Mar is 13 + 31 = 44 days).

  acct  payments                          31 March: DPD, bucket, bal   30 April: DPD, bucket, bal
  A     none                              44  31-60   300.00           74  61-90   300.00
  B     150.00 on 1 Mar, 150.00 on 20 Apr 16  1-30    150.00           paid off: settled
  C     100.00 on 10 Feb, 100.00 on 10 Mar 0  current 100.00           15  1-30    100.00
  D     100.00 on 10 Feb, 100.00 on 10 Apr 16 1-30    200.00           15  1-30    100.00
  E     none (USD)                        16  1-30     50.00           46  31-60    50.00

(B's 150.00 on 1 March pays instalment 1 and 50.00 of instalment 2, due 15 March: 16 days
late on the 31st; its 150.00 on 20 April pays everything, so B is settled and leaves the
open portfolio. C's instalment 3 and D's instalment 3 fall due on 15 April, unpaid.)
On 5 May C's 10 March payment is reversed.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest

from tests.common.actors import TenantHandle, assert_problem
from tests.common.ledger import BASE, money, new_account, new_debtor, pay

pytestmark = pytest.mark.modules("ledger")


def given(currency: str = "COP", *amounts_due: tuple[str, str], **fields: Any) -> dict[str, Any]:
    """Opening fields for a 0 % account with the given (due date, principal) instalments."""
    dues = amounts_due or (
        ("2026-02-15", "100.00"),
        ("2026-03-15", "100.00"),
        ("2026-04-15", "100.00"),
    )
    total = sum((Decimal(p) for _, p in dues), Decimal(0))
    return {
        "principal": money(f"{total:.2f}", currency),
        "annual_rate": "0",
        "schedule": {
            "instalments": [
                {"due_on": d, "principal": money(p, currency), "interest": money("0.00", currency)}
                for d, p in dues
            ]
        },
        **fields,
    }


def paid(tenant: TenantHandle, account_id: str, amount: str, on: str, currency: str = "COP") -> Any:
    response = pay(tenant, account_id, amount, on, currency=currency)
    assert response.status_code == 201, response.text
    return response.json()


def age(tenant: TenantHandle, as_of: str) -> None:
    response = tenant.post(f"{BASE}/jobs/aging", json={"as_of": as_of})
    assert response.status_code == 200, response.text


def portfolio_world(tenant: TenantHandle) -> dict[str, dict[str, Any]]:
    """The accounts of the module docstring, aged on 31 March and 30 April."""
    debtor = new_debtor(tenant)["id"]
    accounts = {name: new_account(tenant, debtor, **given()) for name in "ABCD"}
    accounts["E"] = new_account(tenant, debtor, **given("USD", ("2026-03-15", "50.00")))
    paid(tenant, accounts["C"]["id"], "100.00", "2026-02-10")
    paid(tenant, accounts["D"]["id"], "100.00", "2026-02-10")
    paid(tenant, accounts["B"]["id"], "150.00", "2026-03-01")
    accounts["C"]["march"] = paid(tenant, accounts["C"]["id"], "100.00", "2026-03-10")
    age(tenant, "2026-03-31")
    paid(tenant, accounts["D"]["id"], "100.00", "2026-04-10")
    paid(tenant, accounts["B"]["id"], "150.00", "2026-04-20")
    age(tenant, "2026-04-30")
    reversal = tenant.post(
        f"{BASE}/payments/{accounts['C']['march']['id']}/reversal",
        json={"effective_on": "2026-05-05"},
    )
    assert reversal.status_code == 201, reversal.text
    return accounts


def kpi(tenant: TenantHandle, name: str, **params: str) -> dict[str, Any]:
    response = tenant.get(f"{BASE}/kpis/{name}", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    return dict(response.json())


def buckets(report: dict[str, Any]) -> dict[tuple[str, str], tuple[int, str]]:
    """Non-empty buckets: (currency, bucket) → (accounts, balance)."""
    return {
        (b["currency"], b["bucket"]): (b["accounts"], b["balance"]["amount"])
        for b in report["buckets"]
        if b["accounts"]
    }


def test_kpis_over_one_portfolio(tenant: TenantHandle, other_tenant: TenantHandle) -> None:
    portfolio_world(tenant)

    # -- portfolio by bucket: the 30 April snapshot (column "30 April" above) --------------
    report = kpi(tenant, "portfolio", as_of="2026-05-10")
    assert (report["source"], report["snapshot_on"]) == ("snapshot", "2026-04-30")
    assert buckets(report) == {
        ("COP", "1-30"): (2, "200.00"),
        ("COP", "61-90"): (1, "300.00"),
        ("USD", "31-60"): (1, "50.00"),
    }
    # Every configured bucket of each currency is listed, zeros included.
    assert [b["bucket"] for b in report["buckets"] if b["currency"] == "USD"] == [
        "current",
        "1-30",
        "31-60",
        "61-90",
        "91-120",
        "121-180",
        "180+",
    ]
    assert report["buckets"][-1]["balance"] == money("0.00", "USD")
    # Computed live on the same day, the journal agrees with the snapshot.
    live = kpi(tenant, "portfolio", as_of="2026-04-30", source="live")
    assert (live["source"], live["snapshot_on"]) == ("live", None)
    assert buckets(live) == buckets(report)
    # Between the two runs, the 31 March snapshot.
    assert buckets(kpi(tenant, "portfolio", as_of="2026-04-15")) == {
        ("COP", "current"): (1, "100.00"),
        ("COP", "1-30"): (2, "350.00"),
        ("COP", "31-60"): (1, "300.00"),
        ("USD", "1-30"): (1, "50.00"),
    }
    # Before any snapshot: live. On 1 March A is 14 days late (300.00); B (150.00 left after
    # paying that day), C and D (200.00 each) are current; E's only instalment is not due.
    early = kpi(tenant, "portfolio", as_of="2026-03-01")
    assert early["source"] == "live"
    assert buckets(early) == {
        ("COP", "current"): (3, "550.00"),
        ("COP", "1-30"): (1, "300.00"),
        ("USD", "current"): (1, "50.00"),
    }
    assert_problem(
        tenant.get(f"{BASE}/kpis/portfolio", params={"as_of": "2026-03-01", "source": "snapshot"}),
        422,
    )

    # -- roll rates, 31 March → 30 April -------------------------------------------------
    # 1-30 held B (150.00) and D (200.00): B paid off (no bucket), D stayed. By count 1/2
    # each; by balance 150/350 = 0.428571… → 0.4286 and 200/350 = 0.571428… → 0.5714.
    rolls = kpi(tenant, "roll-rates", **{"from": "2026-03", "to": "2026-04"})
    assert (rolls["from_snapshot_on"], rolls["to_snapshot_on"]) == ("2026-03-31", "2026-04-30")
    cells = {
        (c["currency"], c["from_bucket"], c["to_bucket"]): (
            c["accounts"],
            c["account_share"],
            c["balance"]["amount"],
            c["balance_share"],
            c["balance_at_end"]["amount"],
        )
        for c in rolls["cells"]
    }
    assert cells == {
        ("COP", "current", "1-30"): (1, "1.0000", "100.00", "1.0000", "100.00"),
        ("COP", "1-30", None): (1, "0.5000", "150.00", "0.4286", "0.00"),
        ("COP", "1-30", "1-30"): (1, "0.5000", "200.00", "0.5714", "100.00"),
        ("COP", "31-60", "61-90"): (1, "1.0000", "300.00", "1.0000", "300.00"),
        ("USD", "1-30", "31-60"): (1, "1.0000", "50.00", "1.0000", "50.00"),
    }
    # Cells come in bucket order.
    assert [(c["currency"], c["from_bucket"]) for c in rolls["cells"]][:3] == [
        ("COP", "current"),
        ("COP", "1-30"),
        ("COP", "1-30"),
    ]

    # -- cure rate: A, B, D (COP) and E (USD) were late on 31 March; none is current on 30
    # April: B paid off and exited, A, D and E are still late ---------------------------
    cure = kpi(tenant, "cure-rate", **{"from": "2026-03", "to": "2026-04"})
    assert cure["currencies"] == [
        {
            "currency": "COP",
            "delinquent": 3,
            "delinquent_balance": money("650.00"),  # 300 + 150 + 200
            "cured": 0,
            "cured_balance": money("0.00"),
            "exited": 1,
            "cure_rate": "0.0000",  # 0/3
        },
        {
            "currency": "USD",
            "delinquent": 1,
            "delinquent_balance": money("50.00", "USD"),
            "cured": 0,
            "cured_balance": money("0.00", "USD"),
            "exited": 0,
            "cure_rate": "0.0000",
        },
    ]

    # -- recovery, cohort 2026-01: placed 4 × 300.00 = 1,200.00 COP and 50.00 USD ---------
    # Collected: Feb 100 + 100 = 200; Mar 150 + 100 = 250; Apr 100 + 150 = 250; May −100
    # (C's March payment reversed). Rates over 1,200: 0.1667, 0.2083, 0.2083, −0.0833;
    # cumulative 200, 450, 700, 600 → 0.1667, 0.3750, 0.5833, 0.5000.
    recovery = kpi(tenant, "recovery", **{"from": "2026-02", "to": "2026-05"})
    got = [
        (
            c["currency"],
            c["period"],
            c["collected"]["amount"],
            c["collected_to_date"]["amount"],
            c["recovery_rate"],
            c["cumulative_recovery_rate"],
        )
        for c in recovery["cells"]
    ]
    assert got == [
        ("COP", "2026-02", "200.00", "200.00", "0.1667", "0.1667"),
        ("COP", "2026-03", "250.00", "450.00", "0.2083", "0.3750"),
        ("COP", "2026-04", "250.00", "700.00", "0.2083", "0.5833"),
        ("COP", "2026-05", "-100.00", "600.00", "-0.0833", "0.5000"),
        ("USD", "2026-02", "0.00", "0.00", "0.0000", "0.0000"),
        ("USD", "2026-03", "0.00", "0.00", "0.0000", "0.0000"),
        ("USD", "2026-04", "0.00", "0.00", "0.0000", "0.0000"),
        ("USD", "2026-05", "0.00", "0.00", "0.0000", "0.0000"),
    ]
    assert {(c["cohort"], c["placed"]["amount"]) for c in recovery["cells"]} == {
        ("2026-01", "1200.00"),
        ("2026-01", "50.00"),
    }
    # Collections before the window count toward the cumulative figure.
    april = kpi(tenant, "recovery", **{"from": "2026-04", "to": "2026-04", "cohort": "2026-01"})
    assert [(c["currency"], c["collected_to_date"]["amount"]) for c in april["cells"]] == [
        ("COP", "700.00"),
        ("USD", "0.00"),
    ]
    assert (
        kpi(tenant, "recovery", **{"from": "2026-04", "to": "2026-04", "cohort": "2025-12"})[
            "cells"
        ]
        == []
    )

    # -- another tenant sees none of it ----------------------------------------------------
    assert kpi(other_tenant, "portfolio", as_of="2026-05-10")["buckets"] == []
    assert_problem(
        other_tenant.get(f"{BASE}/kpis/roll-rates", params={"from": "2026-03", "to": "2026-04"}),
        422,
    )


def test_kpi_parameters(tenant: TenantHandle) -> None:
    path = f"{BASE}/kpis/roll-rates"
    assert_problem(tenant.get(path, params={"from": "2026-13", "to": "2026-04"}), 400)
    assert_problem(tenant.get(path, params={"from": "2026-03"}), 400)
    assert_problem(tenant.get(path, params={"from": "2026-04", "to": "2026-03"}), 422)
    # No aging run in either month.
    assert_problem(tenant.get(path, params={"from": "2026-03", "to": "2026-04"}), 422)
    assert_problem(
        tenant.get(f"{BASE}/kpis/recovery", params={"from": "2020-01", "to": "2026-01"}), 422
    )
    assert_problem(
        tenant.get(f"{BASE}/kpis/promises", params={"from": "2026-02-30", "to": "2026-03-01"}),
        400,
    )


def test_promise_kept_rate(tenant: TenantHandle) -> None:
    """Four promises of 100.00 COP due 2999-01-01: one paid in full (kept), one 40.00 of it
    (partially kept once the 3 grace days pass), one nothing (broken), one cancelled.
    Came due: 3 (cancelled left out); kept rate 1/3 = 0.3333, partially kept 1/3 = 0.3333;
    promised 300.00, paid 140.00."""
    promises = {}
    for name in ("kept", "partial", "broken", "cancelled"):
        account = new_account(tenant, **given())
        response = tenant.post(
            f"{BASE}/accounts/{account['id']}/promises",
            json={"amount": money("100.00"), "due_on": "2999-01-01"},
        )
        assert response.status_code == 201, response.text
        promises[name] = (account, response.json())
    today = promises["kept"][1]["created_on"]
    paid(tenant, promises["kept"][0]["id"], "100.00", today)
    paid(tenant, promises["partial"][0]["id"], "40.00", today)
    cancel = tenant.post(f"{BASE}/promises/{promises['cancelled'][1]['id']}/cancellation")
    assert cancel.status_code == 200, cancel.text
    window = {"from": "2999-01-01", "to": "2999-01-01"}

    # Before the grace days pass, two are still pending and count in the denominator.
    early = kpi(tenant, "promises", **window)["currencies"]
    assert [(r["came_due"], r["kept"], r["pending"], r["kept_rate"]) for r in early] == [
        (3, 1, 2, "0.3333")
    ]
    age(tenant, "2999-01-05")
    report = kpi(tenant, "promises", **window)
    assert report["currencies"] == [
        {
            "currency": "COP",
            "came_due": 3,
            "kept": 1,
            "partially_kept": 1,
            "broken": 1,
            "pending": 0,
            "cancelled": 1,
            "kept_rate": "0.3333",
            "partially_kept_rate": "0.3333",
            "promised": money("300.00"),
            "paid": money("140.00"),
        }
    ]
    # Nothing came due the day before.
    assert kpi(tenant, "promises", **{"from": "2998-12-31", "to": "2998-12-31"})["currencies"] == []


# -- exports ---------------------------------------------------------------------------------


def realistic_journal(tenant: TenantHandle) -> dict[str, Any]:
    """An account with an opening fee, two payments (one reversed), an adjustment, a
    write-off and an overpayment credit; its external reference needs sanitising."""
    account = new_account(tenant, **given(fees=money("10.00"), external_ref="cuenta ñ/001"))
    paid(tenant, account["id"], "110.00", "2026-02-20")  # the fee and instalment 1
    reversed_payment = paid(tenant, account["id"], "50.00", "2026-03-01")
    response = tenant.post(
        f"{BASE}/payments/{reversed_payment['id']}/reversal", json={"effective_on": "2026-03-05"}
    )
    assert response.status_code == 201, response.text
    for kind, component, amount in (
        ("penalty", "penalties", "7.50"),
        ("adjustment", "principal", "-5.00"),
        ("write_off", "penalties", "2.50"),
    ):
        response = tenant.post(
            f"{BASE}/accounts/{account['id']}/adjustments",
            json={
                "kind": kind,
                "component": component,
                "amount": money(amount),
                "effective_on": "2026-03-10",
                "memo": f'"{kind}" \\ test',
            },
        )
        assert response.status_code == 201, response.text
    # 195.00 principal and 5.00 penalties owed; 250.00 leaves 50.00 of credit.
    assert paid(tenant, account["id"], "250.00", "2026-04-01")["credit"] == money("50.00")
    return account


def test_journal_csv(tenant: TenantHandle, other_tenant: TenantHandle) -> None:
    account = realistic_journal(tenant)
    response = tenant.get(f"{BASE}/exports/journal.csv")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == [
        "entry_id",
        "kind",
        "effective_on",
        "account_ref",
        "book",
        "instalment_number",
        "amount",
        "currency",
    ]
    entries: dict[str, Decimal] = {}
    for row in rows:
        entries[row["entry_id"]] = entries.get(row["entry_id"], Decimal(0)) + Decimal(row["amount"])
    assert set(entries.values()) == {Decimal(0)}  # every entry balances
    kinds = [row["kind"] for row in rows]
    assert {"charge", "fee", "payment", "reversal", "penalty", "adjustment", "write_off"} <= set(
        kinds
    )
    assert {row["account_ref"] for row in rows} == {account["external_ref"]}
    first_payment = next(r for r in rows if r["kind"] == "payment")
    assert first_payment["effective_on"] == "2026-02-20"
    assert (first_payment["book"], first_payment["amount"]) == ("cash", "110.00")
    assert first_payment["instalment_number"] == ""
    fee = next(r for r in rows if r["kind"] == "payment" and r["book"] == "receivable:fees")
    assert (fee["instalment_number"], fee["amount"], fee["currency"]) == ("1", "-10.00", "COP")
    credit = [r for r in rows if r["book"] == "credit"]
    assert [(r["effective_on"], r["amount"]) for r in credit] == [("2026-04-01", "-50.00")]
    # A window by effective date, both ends included.
    window = tenant.get(
        f"{BASE}/exports/journal.csv", params={"from": "2026-03-01", "to": "2026-03-05"}
    )
    assert {r["kind"] for r in csv.DictReader(io.StringIO(window.text))} == {"payment", "reversal"}
    assert_problem(tenant.get(f"{BASE}/exports/journal.csv", params={"from": "2026-02-30"}), 400)
    # Another tenant's export has the header only.
    assert other_tenant.get(f"{BASE}/exports/journal.csv").text.splitlines() == [",".join(rows[0])]


def test_journal_beancount_passes_bean_check(tenant: TenantHandle) -> None:
    from beancount import loader

    account = realistic_journal(tenant)
    response = tenant.get(f"{BASE}/exports/journal.beancount")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    text = response.text
    entries, errors, _options = loader.load_string(text)
    assert errors == []
    transactions = [e for e in entries if type(e).__name__ == "Transaction"]
    csv_rows = list(csv.DictReader(io.StringIO(tenant.get(f"{BASE}/exports/journal.csv").text)))
    assert len(transactions) == len({r["entry_id"] for r in csv_rows})
    reversals = [t for t in transactions if t.meta["kind"] == "reversal"]
    assert len(reversals) == 1 and reversals[0].meta["reverses"]
    # "cuenta ñ/001" → "Cuenta-n-001" plus a hash of the original.
    opened = sorted(e.account for e in entries if type(e).__name__ == "Open")
    assert all(":Cuenta-n-001-" in name for name in opened), opened
    assert "Liabilities:Credit:" + opened[0].rsplit(":", 1)[1] in opened
    # The receivable left in Beancount is the ledger's: 0.00 after the overpayment.
    receivable = sum(
        (
            p.units.number
            for t in transactions
            for p in t.postings
            if p.account.startswith("Assets:Receivable:")
        ),
        Decimal(0),
    )
    summary = tenant.get(f"{BASE}/accounts/{account['id']}", params={"as_of": "2026-04-01"})
    assert receivable == Decimal(summary.json()["total"]["amount"]) == Decimal("0.00")


@pytest.mark.modules("ledger")
@pytest.mark.parametrize("path", ["recovery", "roll-rates", "cure-rate"])
def test_a_month_out_of_range_is_a_400_not_a_500(tenant, path: str) -> None:
    # Found by schemathesis: year 0 passed the pattern and broke date arithmetic.
    response = tenant.get(f"/v1/ledger/kpis/{path}?from=0000-01&to=0000-02")
    body = assert_problem(response, 400)
    assert body["errors"][0]["parameter"] == "from"
