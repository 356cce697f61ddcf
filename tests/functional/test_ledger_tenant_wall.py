"""Tenant B can neither read nor change tenant A's ledger, through any ledger operation.

Driven by ``openapi/ledger.yaml`` (mounted at ``/v1/ledger``), not by a hand-picked list:

1. A makes one of everything the ledger keeps (debtors, accounts, a fee, payments and a
   reversal, a pending promise, an open dispute, a plan, a settlement, a CSV import, a
   synthetic portfolio, two aging runs) and records what it sees through every GET of the
   document, on every one of its ids. B makes the same of its own, in another currency.
2. Every operation with a path parameter, called by B with each of A's ids, answers 404 as
   ``application/problem+json``, worded as for an id nobody has; the same call (same kind
   of body) on one of B's own rows succeeds, so the 404 is the wall and not a bad path or
   body. An operation whose path parameter has no id here fails the test, so a new endpoint
   cannot escape the sweep. B replaying A's keyed POSTs verbatim (same path, body and
   ``Idempotency-Key``) and B opening an account for A's debtor are refused alike.
3. Every GET without a path parameter (lists, KPIs, the CSV and Beancount exports), called
   by B, also with A's ids and references as filters, shows none of A's ids, references,
   contact points or currency.
4. A then sees exactly what it saw in step 1: B's attempts, and B's own writes, imports and
   aging runs, changed nothing of A's.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from almacen.gateway.app import GATEWAY_BASE, gateway_of
from tests.common.actors import TenantHandle, assert_problem
from tests.common.ledger import BASE, account_body, money

pytestmark = pytest.mark.modules("ledger")

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "ledger.yaml"
METHODS = ("get", "put", "post", "patch", "delete")
HEX_ID = re.compile(r"\b[0-9a-f]{32}\b")
#: Members of A's resources whose values must never reach B (besides ids).
PRIVATE_MEMBERS = frozenset({"external_ref", "external_id", "value"})

# -- the OpenAPI document ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Operation:
    """One operation of the document, with its parameters resolved."""

    method: str
    path: str
    operation_id: str
    parameters: tuple[dict[str, Any], ...]
    body_schema: dict[str, Any] | None
    body_required: bool

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(re.findall(r"{(\w+)}", self.path))

    @property
    def query_params(self) -> list[dict[str, Any]]:
        return [p for p in self.parameters if p["in"] == "query"]

    def url(self, values: dict[str, str]) -> str:
        return BASE + self.path.format(**values)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} ({self.operation_id})"


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (one level is all the document uses)."""
    ref = node.get("$ref")
    if ref is None:
        return node
    found: Any = document
    for part in ref.removeprefix("#/").split("/"):
        found = found[part]
    return dict(found)


def operations_of(app: Any) -> list[Operation]:
    """Every operation of ``openapi/ledger.yaml``; refs resolved on the document as mounted
    (the file plus the gateway's shared components), which must list the same operations."""
    written = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    mounted = gateway_of(app).documents["ledger"]
    assert not written.get("servers"), "the module is mounted at /v1/<name>, not at servers"
    assert f"{GATEWAY_BASE}/ledger" == BASE, "tests.common.ledger.BASE is not the mount point"

    def pairs(document: dict[str, Any]) -> set[tuple[str, str]]:
        return {(m, p) for p, item in document["paths"].items() for m in item if m in METHODS}

    assert pairs(written) == pairs(mounted), "the app does not serve what ledger.yaml says"
    found: list[Operation] = []
    for path, item in written["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            spec = item[method]
            shared = [resolve(mounted, p) for p in item.get("parameters", [])]
            own = [resolve(mounted, p) for p in spec.get("parameters", [])]
            body = spec.get("requestBody")
            schema = None
            if body is not None:
                schema = resolve(mounted, body["content"]["application/json"]["schema"])
            operation = Operation(
                method=method,
                path=path,
                operation_id=spec["operationId"],
                parameters=tuple(shared + own),
                body_schema=schema,
                body_required=bool(body and body.get("required")),
            )
            declared = {p["name"] for p in operation.parameters if p["in"] == "path"}
            assert declared == set(operation.path_params), f"{operation}: path parameters"
            found.append(operation)
    return found


# -- requests ------------------------------------------------------------------------------


def call(
    tenant: TenantHandle,
    method: str,
    url: str,
    *,
    body: dict[str, Any] | None = None,
    params: dict[str, str] | None = None,
    key: str | None = None,
) -> Any:
    """One request as ``tenant``, with an ``Idempotency-Key`` when given."""
    headers = {**tenant.headers, **({"Idempotency-Key": key} if key else {})}
    return tenant.client.request(method, url, headers=headers, json=body, params=params)


def created(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


def read(tenant: TenantHandle, url: str, params: dict[str, str]) -> tuple[int, Any]:
    """A GET as ``tenant``: its status and body (JSON, or text), every page of a list."""
    response = call(tenant, "GET", url, params=params)
    if not response.headers["content-type"].startswith("application/json"):
        return response.status_code, response.text
    body = response.json()
    while response.status_code == 200 and isinstance(body, dict) and body.get("next"):
        response = call(tenant, "GET", url, params={**params, "cursor": body["next"]})
        assert response.status_code == 200, response.text
        page = response.json()
        body = {**body, "items": body["items"] + page["items"], "next": page["next"]}
    return response.status_code, body


#: Values of required query parameters, by parameter name and schema.
QUERY_VALUES = {
    ("from", "Month"): "2026-03",
    ("to", "Month"): "2026-04",
    ("from", "Date"): "2026-01-01",
    ("to", "Date"): "2999-12-31",
}


def required_query(operation: Operation) -> dict[str, str]:
    """Values for the operation's required query parameters; none unknown."""
    values = {}
    for parameter in operation.query_params:
        if not parameter.get("required"):
            continue
        schema = parameter["schema"].get("$ref", "").rsplit("/", 1)[-1]
        value = QUERY_VALUES.get((parameter["name"], schema))
        assert value is not None, f"{operation}: no value for query parameter {parameter}"
        values[parameter["name"]] = value
    return values


def bodies(currency: str, tag: str) -> dict[str, Callable[[], dict[str, Any]]]:
    """A valid body per operationId (fresh each call): what a tenant would send for its
    own resource, in its own currency."""
    return {
        "debtors.update_debtor": lambda: {"name": "Mallory", "language": "es-CO"},
        "accounts.adjust_account": lambda: {
            "kind": "fee",
            "component": "fees",
            "amount": money("1.00", currency),
            "effective_on": "2026-03-02",
        },
        "payments.post_payment": lambda: {
            "external_id": f"{tag}-P-{uuid.uuid4().hex[:8]}",
            "amount": money("10.00", currency),
            "received_on": "2026-03-02",
        },
        "payments.reverse_payment": lambda: {"effective_on": "2026-03-10", "memo": "bounced"},
        "promises.create_promise": lambda: {
            "amount": money("10.00", currency),
            "due_on": "2999-02-01",
        },
        "plans.install_plan": lambda: {"count": 2, "first_due": "2999-03-31"},
        "plans.apply_settlement": lambda: {
            "amount": money("50.00", currency),
            "due_on": "2999-12-31",
        },
        "plans.open_dispute": lambda: {"reason": "I never took this loan"},
        "plans.resolve_dispute": lambda: {"outcome": "rejected"},
    }


# -- the two ledgers -----------------------------------------------------------------------


@dataclasses.dataclass
class Keyed:
    """A POST sent with an ``Idempotency-Key``, to replay verbatim."""

    url: str
    body: dict[str, Any]
    key: str


@dataclasses.dataclass
class World:
    """A tenant's ledger: its ids by path-parameter name (the first made by hand) and the
    keyed POSTs it sent to its own resources."""

    tenant: TenantHandle
    tag: str
    currency: str
    ids: dict[str, list[str]]
    keyed: list[Keyed]
    extra_ids: list[str]

    def post(self, url: str, body: dict[str, Any], *, keyed: bool = False) -> dict[str, Any]:
        key = uuid.uuid4().hex if keyed else None
        found = created(call(self.tenant, "POST", url, body=body, key=key))
        if key:
            self.keyed.append(Keyed(url, body, key))
        return found

    def add(self, name: str, value: str) -> None:
        if value not in self.ids.setdefault(name, []):
            self.ids[name].append(value)


def build_world(
    tenant: TenantHandle, *, currency: str, aging_days: tuple[str, str], synthetic: bool
) -> World:
    """One of everything the ledger keeps, every external reference carrying the tag."""
    tag = f"Wall{uuid.uuid4().hex[:10]}"
    world = World(tenant, tag, currency, ids={}, keyed=[], extra_ids=[])
    phone = f"+57300{uuid.uuid4().int % 10**7:07d}"
    debtor = world.post(
        f"{BASE}/debtors",
        {
            "external_ref": f"{tag}-D1",
            "name": "Ana Gómez",
            "contact_points": [
                {"kind": "phone", "value": phone},
                {"kind": "email", "value": f"{tag.lower()}@example.com"},
            ],
        },
    )
    world.add("debtor_id", debtor["id"])
    accounts = {}
    for name in ("main", "plan", "settlement"):
        body = account_body(
            debtor["id"], external_ref=f"{tag}-A-{name}", principal=money("1000.00", currency)
        )
        accounts[name] = world.post(f"{BASE}/accounts", body)["id"]
        world.add("account_id", accounts[name])
    main = f"{BASE}/accounts/{accounts['main']}"
    world.post(
        f"{main}/adjustments", bodies(currency, tag)["accounts.adjust_account"](), keyed=True
    )
    for number, amount, day in ((1, "100.00", "2026-03-01"), (2, "20.00", "2026-03-02")):
        body = {"external_id": f"{tag}-P{number}", "amount": money(amount, currency)}
        payment = world.post(f"{main}/payments", {**body, "received_on": day})
        world.add("payment_id", payment["id"])
    reversal = {"effective_on": "2026-03-05"}
    world.post(f"{BASE}/payments/{world.ids['payment_id'][1]}/reversal", reversal, keyed=True)
    row = {
        "debtor_external_ref": f"{tag}-D2",
        "name": "Beto Ruiz",
        "account_external_ref": f"{tag}-A-imported",
        "product_type": "personal_loan",
        "currency": currency,
        "principal": "500.00",
        "annual_rate": "0.12",
        "originated_on": "2026-01-20",
        "instalments": "6",
        "first_due": "2026-02-20",
    }
    data = ",".join(row) + "\n" + ",".join(row.values()) + "\n"
    job = world.post(f"{BASE}/imports", {"format": "csv", "data": data})
    assert job["status"] == "succeeded", job
    world.add("import_id", job["id"])
    if synthetic:
        seed = uuid.uuid4().int % 2**32
        job = world.post(f"{BASE}/synthetic-portfolio", {"size": 3, "seed": seed})
        assert job["status"] == "succeeded", job
        world.add("import_id", job["id"])
    for day in aging_days:
        created(call(tenant, "POST", f"{BASE}/jobs/aging", body={"as_of": day}), 200)
    promise = world.post(
        f"{main}/promises", {"amount": money("50.00", currency), "due_on": "2999-01-01"}, keyed=True
    )
    world.add("promise_id", promise["id"])
    dispute = {"reason": "fee never agreed", "amount": money("5.00", currency)}
    world.extra_ids.append(world.post(f"{main}/dispute", dispute)["id"])
    plan = {"count": 3, "first_due": "2999-01-31"}
    world.post(f"{BASE}/accounts/{accounts['plan']}/plans", plan, keyed=True)
    settlement = {"amount": money("200.00", currency), "due_on": "2999-12-31"}
    world.post(f"{BASE}/accounts/{accounts['settlement']}/settlements", settlement, keyed=True)
    # Everything else the tenant holds (imported and synthetic rows), after what it made.
    for name, url in (("debtor_id", "/debtors"), ("account_id", "/accounts")):
        for item in read(tenant, BASE + url, {"limit": "500"})[1]["items"]:
            world.add(name, item["id"])
    for account_id in list(world.ids["account_id"]):
        for name, tail in (("payment_id", "payments"), ("promise_id", "promises")):
            url = f"{BASE}/accounts/{account_id}/{tail}"
            for item in read(tenant, url, {"limit": "500"})[1]["items"]:
                world.add(name, item["id"])
    return world


def urls(operation: Operation, ids: dict[str, list[str]]) -> Iterator[str]:
    """The operation's URL with every combination of the given ids."""
    names = operation.path_params
    for values in itertools.product(*(ids[name] for name in names)):
        yield operation.url(dict(zip(names, values, strict=True)))


def view(world: World, operations: list[Operation]) -> dict[str, tuple[int, Any]]:
    """What the tenant sees through every GET of the document, on every one of its ids."""
    seen: dict[str, tuple[int, Any]] = {}
    for operation in operations:
        if operation.method != "get":
            continue
        params = required_query(operation)
        for url in urls(operation, world.ids):
            status, body = read(world.tenant, url, params)
            assert status == 200, (str(operation), url, body)
            seen[f"GET {url} {sorted(params.items())}"] = (status, body)
    return seen


def members(seen: dict[str, tuple[int, Any]], names: frozenset[str]) -> set[str]:
    """The string values of the named members, anywhere in the bodies seen."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for name, value in node.items():
                if name in names and isinstance(value, str):
                    found.add(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for _, body in seen.values():
        walk(body)
    return found


def markers(world: World, seen: dict[str, tuple[int, Any]]) -> set[str]:
    """Strings that are A's alone: its tag, every id it sees, its references and contact
    points."""
    found = {world.tag, *world.extra_ids, *members(seen, PRIVATE_MEMBERS)}
    for _, body in seen.values():
        found.update(HEX_ID.findall(body if isinstance(body, str) else json.dumps(body)))
    return found


def short(text: object, limit: int = 600) -> str:
    """``text`` cut for a failure message."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"


def leaks(text: str, secret: set[str], currency: str) -> list[str]:
    """A's strings found in ``text``."""
    found = sorted(marker for marker in secret if marker in text)
    if re.search(rf"\b{currency}\b", text):
        found.append(currency)
    return found


def problem_shape(response: Any) -> tuple[int, str, dict[str, Any]]:
    """A problem answer without what names the request: its ids and its request id."""
    body = dict(response.json())
    body.pop("request_id", None)
    text = HEX_ID.sub("<id>", json.dumps(body, sort_keys=True))
    return response.status_code, response.headers["content-type"], json.loads(text)


#: Bodies of operations without a path parameter that name one of the tenant's rows.
NAMING_BODIES: dict[str, Callable[[dict[str, str]], dict[str, Any]]] = {
    "accounts.open_account": lambda ids: account_body(ids["debtor_id"]),
}


@dataclasses.dataclass
class Sweep:
    """B's attempts on A's ledger, and what went wrong."""

    operations: list[Operation]
    a: World
    b: World
    failures: list[str] = dataclasses.field(default_factory=list)

    @property
    def intruder(self) -> TenantHandle:
        return self.b.tenant

    def body_for(self, operation: Operation) -> dict[str, Any] | None:
        """A fresh body B would send for its own row; none where the body is optional."""
        made = bodies(self.b.currency, self.b.tag).get(operation.operation_id)
        if made is None:
            assert not operation.body_required, f"{operation}: no body in bodies()"
            return None
        return made()

    def send(self, operation: Operation, url: str) -> Any:
        params = required_query(operation)
        body = self.body_for(operation)
        return call(self.intruder, operation.method, url, body=body, params=params)

    def refused(self, label: object, url: str, response: Any, like: Any = None) -> None:
        """``response`` must be a 404 problem, worded as for an id nobody has (``like``)."""
        try:
            assert_problem(response, 404)
        except AssertionError:
            self.failures.append(
                f"{label}: B got {response.status_code} on {url}: {short(response.text)}"
            )
            return
        if like is not None and problem_shape(response) != like:
            self.failures.append(
                f"{label}: A's id answers otherwise than an unknown id, on {url}: "
                f"{problem_shape(response)} != {like}"
            )

    def path_operations(self) -> set[tuple[str, str]]:
        """Each operation with a path parameter, on B's own rows, then on A's."""
        exercised = set()
        for operation in [o for o in self.operations if o.path_params]:
            missing = [name for name in operation.path_params if not self.a.ids.get(name)]
            assert not missing, f"{operation}: A has no {missing}; make one in build_world"
            # The same call succeeds on one of B's own rows: the path and body are right.
            own = []
            for url in urls(operation, self.b.ids):
                own.append(self.send(operation, url).status_code)
                if own[-1] < 300 or own[-1] == 404:
                    break
            if own[-1] >= 300:
                self.failures.append(f"{operation}: on B's own rows B got {own}, never a 2xx")
            unknown = {name: uuid.uuid4().hex for name in operation.path_params}
            like = problem_shape(self.send(operation, operation.url(unknown)))
            for url in urls(operation, self.a.ids):
                self.refused(operation, url, self.send(operation, url), like)
            exercised.add((operation.method, operation.path))
        return exercised

    def replays_and_references(self) -> None:
        """A's keyed POSTs replayed verbatim, and bodies naming A's rows."""
        assert self.a.keyed, "A sent no keyed request to replay"
        for sent in self.a.keyed:
            response = call(self.intruder, "POST", sent.url, body=sent.body, key=sent.key)
            self.refused(
                f"replay of A's POST with its Idempotency-Key {sent.key}", sent.url, response
            )
        for operation in self.operations:
            if operation.path_params or operation.body_schema is None:
                continue
            named = sorted(set(operation.body_schema.get("properties", {})) & set(self.a.ids))
            if not named:
                continue
            assert operation.operation_id in NAMING_BODIES, f"{operation} names {named}"
            make = NAMING_BODIES[operation.operation_id]
            url = operation.url({})
            for values in itertools.product(*(self.a.ids[name] for name in named)):
                body = make(dict(zip(named, values, strict=True)))
                self.refused(operation, url, call(self.intruder, "POST", url, body=body))
            mine = make({name: self.b.ids[name][0] for name in named})
            created(call(self.intruder, "POST", url, body=mine))

    def listings(self, secret: set[str], refs: list[str]) -> None:
        """Every GET without a path parameter, also filtered on A's ids and refs."""
        for operation in self.operations:
            if operation.method != "get" or operation.path_params:
                continue
            required = required_query(operation)
            variants = [required]
            for parameter in operation.query_params:
                name = parameter["name"]
                if name in self.a.ids:
                    variants += [{**required, name: value} for value in self.a.ids[name]]
                elif parameter["schema"].get("$ref", "").endswith("/ExternalRef"):
                    variants += [{**required, name: ref} for ref in refs]
            for params in variants:
                status, body = read(self.intruder, operation.url({}), params)
                text = body if isinstance(body, str) else json.dumps(body)
                if status != 200:
                    self.failures.append(f"{operation} {params}: B got {status}: {short(text)}")
                elif found := leaks(text, secret, self.a.currency):
                    self.failures.append(f"{operation} {params}: B sees A's {found}: {short(text)}")


# -- the test ------------------------------------------------------------------------------


def test_tenant_b_can_neither_read_nor_change_tenant_a_through_any_ledger_operation(
    app: Any, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    operations = operations_of(app)
    # 1. A's ledger, and what A sees of it. A's currency is one B never uses, so an aggregate
    # that counted A's rows would show in B's KPIs.
    a = build_world(tenant, currency="EUR", aging_days=("2026-03-31", "2026-04-30"), synthetic=True)
    before = view(a, operations)
    secret = markers(a, before)
    # B's ledger. B ages on other days: had that touched A's accounts, A's aged_on would move.
    b = build_world(
        other_tenant, currency="COP", aging_days=("2026-03-30", "2026-04-29"), synthetic=False
    )
    for name, values in b.ids.items():
        assert not set(values) & set(a.ids.get(name, [])), name

    # 2. Every operation with a path parameter, on each of A's ids; A's requests replayed.
    sweep = Sweep(operations, a, b)
    exercised = sweep.path_operations()
    assert exercised == {(o.method, o.path) for o in operations if o.path_params}
    sweep.replays_and_references()
    # 3. Every GET without a path parameter.
    sweep.listings(secret, sorted(members(before, frozenset({"external_ref"}))))

    # 4. A sees exactly what it saw before.
    after = view(a, operations)
    for key in sorted(before.keys() | after.keys()):
        if before.get(key) != after.get(key):
            sweep.failures.append(
                f"A's view changed: {key}\n before: {short(before.get(key))}\n"
                f" after: {short(after.get(key))}"
            )
    assert not sweep.failures, "\n".join(sweep.failures)
