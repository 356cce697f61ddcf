"""The synthetic portfolio generator: reproducible, realistic, and valid import rows."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import phonenumbers

from almacen.modules.ledger import synthetic
from almacen.modules.ledger.aging import bucket_for
from almacen.modules.ledger.config import DEFAULT_BUCKETS
from almacen.modules.ledger.onboarding import validate_rows

TODAY = dt.date(2026, 11, 28)


def test_the_same_seed_gives_the_same_portfolio() -> None:
    first = synthetic.generate(300, seed=42, today=TODAY)
    assert first == synthetic.generate(300, seed=42, today=TODAY)
    assert first != synthetic.generate(300, seed=43, today=TODAY)
    assert [a.row["name"] for a in first] != [
        a.row["name"] for a in synthetic.generate(300, seed=43, today=TODAY)
    ]


def test_the_global_random_generator_is_left_alone() -> None:
    import random

    random.seed(1)
    expected = random.random()
    random.seed(1)
    synthetic.generate(50, seed=5, today=TODAY)
    assert random.random() == expected


def test_rows_pass_the_import_validation_with_colombian_mobiles() -> None:
    portfolio = synthetic.generate(500, seed=1, today=TODAY)
    valid, errors = validate_rows([a.row for a in portfolio], today=TODAY)
    assert errors == []
    assert len(valid) == 500
    for row in valid:
        assert row.phone is not None
        number = phonenumbers.parse(row.phone)
        assert number.country_code == 57
        assert phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE


def test_the_aging_mix_is_realistic() -> None:
    portfolio = synthetic.generate(5_000, seed=3, today=TODAY)
    share = Counter(bucket_for(a.days_past_due, DEFAULT_BUCKETS) for a in portfolio)
    total = len(portfolio)
    assert 0.40 <= share["current"] / total <= 0.52
    assert 0.14 <= share["1-30"] / total <= 0.22
    assert 0.07 <= share["31-60"] / total <= 0.13
    assert 0.04 <= share["61-90"] / total <= 0.10
    assert 0.05 <= (share["91-120"] + share["121-180"]) / total <= 0.11
    assert 0.09 <= share["180+"] / total <= 0.15


def test_behaviour_is_realistic() -> None:
    portfolio = synthetic.generate(2_000, seed=9, today=TODAY)
    statuses = Counter(p["status"] for a in portfolio for p in a.promises)
    assert statuses["pending"] > 50
    assert statuses["broken"] > 50
    assert statuses["kept"] > 100
    with_payments = sum(1 for a in portfolio if a.payments)
    assert 0.7 <= with_payments / len(portfolio) <= 0.98
    for account in portfolio:
        assert all(day <= TODAY for day, _ in account.payments)
        assert all(amount > 0 for _, amount in account.payments)
        pending = [p for p in account.promises if p["status"] == "pending"]
        assert len(pending) <= 1
        assert all(p["due_on"] > TODAY for p in pending)
