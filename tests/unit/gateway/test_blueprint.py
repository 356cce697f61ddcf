"""The blueprint document's shape: loaded by marshmallow, faults with JSON pointers."""

from __future__ import annotations

import pytest

from almacen.gateway.errors import BadRequestError
from almacen.gateway.services.blueprint import load_blueprint, parse_document

GOOD = """
modules: {ledger: {config: {max_open_promises: 2}}}
rules:
  - name: r1
    when: ledger.payment_posted
    with:
      account: {action: ledger.get_account, input: {account_id: "${event.subject.id}"}}
    if: account.days_past_due > 30
    arms:
      - {name: a, weight: 60, do: [{action: ledger.get_account, input: {account_id: x}}]}
      - {name: b, weight: 40, do: [{action: ledger.get_account}]}
"""


def test_a_good_document_loads() -> None:
    blueprint, errors = load_blueprint(parse_document(GOOD))
    assert errors == [] and blueprint is not None
    [rule] = blueprint.rules
    assert rule.condition == "account.days_past_due > 30"
    assert [step.name for step in rule.lookups] == ["account"]
    assert rule.champion == "a" and rule.do is None
    assert blueprint.modules == {"ledger": {"max_open_promises": 2}}


@pytest.mark.parametrize(
    ("document", "pointer"),
    [
        ([], ""),
        ({"rules": []}, "/modules"),
        ({"modules": {}, "rules": []}, "/rules"),
        ({"modules": {}, "rules": [{"name": "r", "when": "a.b"}]}, "/rules/0/do"),
        ({"modules": {}, "rules": [{"name": "R!", "when": "a.b", "do": []}]}, "/rules/0/name"),
        (
            {
                "modules": {"m": {"settings": 1}},
                "rules": [{"name": "r", "when": "a.b", "do": [{"action": "a.b"}]}],
            },
            "/modules/m/settings",
        ),
        (
            {
                "modules": {},
                "rules": [
                    {
                        "name": "r",
                        "when": "a.b",
                        "with": {"x": {"input": {}}},
                        "do": [{"action": "a.b"}],
                    }
                ],
            },
            "/rules/0/with/x/action",
        ),
        (
            {
                "modules": {},
                "rules": [
                    {
                        "name": "r",
                        "when": "a.b",
                        "arms": [
                            {"name": "a", "weight": "50", "do": [{"action": "a.b"}]},
                            {"name": "b", "weight": 50, "do": [{"action": "a.b"}]},
                        ],
                    }
                ],
            },
            "/rules/0/arms/0/weight",
        ),
    ],
)
def test_shape_faults_are_pointed_at(document: object, pointer: str) -> None:
    blueprint, errors = load_blueprint(document)
    assert blueprint is None
    assert pointer in [e["pointer"] for e in errors] or (pointer == "" and errors), errors


def test_unreadable_yaml_is_a_bad_request() -> None:
    with pytest.raises(BadRequestError, match="line"):
        parse_document("rules: [a, b\nmodules: {")
