"""API keys: their form, hashing and verification (``tenancy.credentials``), how a presented
key becomes a principal (``tenancy.service.authenticate``, on the real database), and the
per-worker cache in front of that (``tenancy.access.Authenticator``)."""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from almacen.gateway.app import gateway_of
from almacen.gateway.db import Database, utcnow
from almacen.gateway.tenancy import service
from almacen.gateway.tenancy.access import Authenticator
from almacen.gateway.tenancy.credentials import (
    hash_secret,
    issue_key,
    split_key,
    verify_secret,
)
from almacen.gateway.tenancy.models import ApiKey, Subscription
from almacen.gateway.tenancy.principal import Principal

TENANT_KEY = re.compile(r"^(alm_[A-Za-z0-9]{12})_[A-Za-z0-9]{32}$")
ADMIN_KEY = re.compile(r"^(almadm_[A-Za-z0-9]{12})_[A-Za-z0-9]{32}$")

# -- the form of a key ---------------------------------------------------------------------


def test_issued_tenant_key() -> None:
    issued = issue_key()
    match = TENANT_KEY.match(issued.secret)
    assert match, issued.secret
    assert issued.prefix == match.group(1)
    assert issued.hashed == hashlib.sha256(issued.secret.encode()).hexdigest()
    assert issued.prefix not in issued.hashed


def test_issued_admin_key() -> None:
    issued = issue_key("almadm")
    match = ADMIN_KEY.match(issued.secret)
    assert match, issued.secret
    assert issued.prefix == match.group(1)


def test_issued_keys_are_unique() -> None:
    issued = [issue_key() for _ in range(300)]
    assert len({key.secret for key in issued}) == 300
    assert len({key.prefix for key in issued}) == 300


@pytest.mark.parametrize("kind", ["alm", "almadm"])
def test_split_key_gives_the_prefix(kind: str) -> None:
    issued = issue_key(kind)
    assert split_key(issued.secret) == issued.prefix


@pytest.mark.parametrize(
    "presented",
    [
        "",
        "alm",
        "alm_",
        "alm__",
        "alm_AAAAAAAAAAAA",
        "alm_AAAAAAAAAAAA_",
        "alm_AAAAAAAAAAA_" + "B" * 32,
        "alm_AAAAAAAAAAAAA_" + "B" * 32,
        "alm_AAAAAAAAAAAA_" + "B" * 31,
        "alm_AAAAAAAAAAAA_" + "B" * 33,
        "xyz_AAAAAAAAAAAA_" + "B" * 32,
        "ALM_AAAAAAAAAAAA_" + "B" * 32,
        "Bearer alm_AAAAAAAAAAAA_" + "B" * 32,
        "test-admin-token-0123456789abcdef",
    ],
)
def test_split_key_rejects_other_forms(presented: str) -> None:
    assert split_key(presented) is None


def test_hash_and_verify() -> None:
    issued = issue_key()
    assert hash_secret(issued.secret) == issued.hashed
    assert re.fullmatch(r"[0-9a-f]{64}", issued.hashed)
    assert verify_secret(issued.secret, issued.hashed)
    assert not verify_secret(issued.secret + "x", issued.hashed)
    assert not verify_secret(issued.secret[:-1] + "_", issued.hashed)
    assert not verify_secret(issue_key().secret, issued.hashed)


# -- authenticate: a presented key against the database ------------------------------------


@pytest.fixture(scope="module")
def db(app: Any) -> Database:
    return gateway_of(app).db


@pytest.fixture
def keyed(db: Database) -> dict[str, Any]:
    """A tenant subscribed to ``alpha`` and ``beta``, and one key of it."""
    with db.transaction() as session:
        tenant = service.create_tenant(
            session, slug=f"cred-{uuid.uuid4().hex[:12]}", name="cred", rate_limit="7/minute"
        )
        tenant_id = tenant.id
    with db.transaction(tenant_id=tenant_id) as session:
        tenant = service.get_tenant(session, tenant_id)
        key, secret = service.create_api_key(session, tenant=tenant, name="k")
        for module in ("alpha", "beta"):
            session.add(Subscription(module=module, config={}))
        return {"tenant_id": tenant_id, "slug": tenant.slug, "key_id": key.id, "secret": secret}


def authenticate(db: Database, presented: str, installed: set[str]) -> Principal | None:
    with db.transaction() as session:
        return service.authenticate(session, presented, installed=frozenset(installed))


def test_valid_key_is_its_tenant(db: Database, keyed: dict[str, Any]) -> None:
    principal = authenticate(db, keyed["secret"], {"alpha", "gamma"})
    assert principal == Principal(
        kind="tenant",
        key_id=keyed["key_id"],
        tenant_id=keyed["tenant_id"],
        tenant_slug=keyed["slug"],
        modules=frozenset({"alpha"}),  # beta is not installed
        rate_limit="7/minute",
    )
    assert not principal.is_admin


def test_use_is_recorded(db: Database, keyed: dict[str, Any]) -> None:
    before = utcnow()
    authenticate(db, keyed["secret"], set())
    with db.transaction(tenant_id=keyed["tenant_id"]) as session:
        key = session.scalar(select(ApiKey).where(ApiKey.id == keyed["key_id"]))
    assert key is not None
    assert key.last_used_at is not None
    assert key.last_used_at >= before.replace(microsecond=0)


def test_right_prefix_wrong_secret_is_nobody(db: Database, keyed: dict[str, Any]) -> None:
    forged = keyed["secret"][:-1] + ("A" if keyed["secret"][-1] != "A" else "B")
    assert split_key(forged) == split_key(keyed["secret"])
    assert authenticate(db, forged, set()) is None


def test_revoked_key_is_nobody(db: Database, keyed: dict[str, Any]) -> None:
    with db.transaction(tenant_id=keyed["tenant_id"]) as session:
        service.revoke_api_key(session, keyed["key_id"])
    assert authenticate(db, keyed["secret"], set()) is None


def test_suspended_tenant_is_nobody(db: Database, keyed: dict[str, Any]) -> None:
    with db.transaction() as session:
        service.set_tenant_status(session, keyed["tenant_id"], "suspended")
    assert authenticate(db, keyed["secret"], set()) is None
    with db.transaction() as session:
        service.set_tenant_status(session, keyed["tenant_id"], "active")
    assert authenticate(db, keyed["secret"], set()) is not None


def test_unknown_and_malformed_keys_are_nobody(db: Database) -> None:
    assert authenticate(db, issue_key().secret, set()) is None
    assert authenticate(db, "not-a-key", set()) is None


def test_admin_key(db: Database) -> None:
    with db.transaction() as session:
        key, secret = service.create_admin_key(session, name="ops")
        key_id = key.id
    assert authenticate(db, secret, set()) == Principal(kind="admin", key_id=key_id)
    assert authenticate(db, secret[:-1] + ("A" if secret[-1] != "A" else "B"), set()) is None


def test_admin_prefix_never_finds_a_tenant_key(db: Database, keyed: dict[str, Any]) -> None:
    disguised = "almadm" + keyed["secret"].removeprefix("alm")
    assert authenticate(db, disguised, set()) is None


# -- the per-worker cache ------------------------------------------------------------------


class CountingLookup:
    """A stand-in for the database read, answering from a dict and counting calls."""

    def __init__(self, known: dict[str, Principal]) -> None:
        self.known = known
        self.calls: list[str] = []

    def __call__(self, presented: str) -> Principal | None:
        self.calls.append(presented)
        return self.known.get(presented)


def run(authenticator: Authenticator, presented: str) -> Principal | None:
    return asyncio.run(authenticator.authenticate(presented))


@pytest.fixture
def issued() -> Any:
    return issue_key()


@pytest.fixture
def someone(issued: Any) -> Principal:
    return Principal(kind="tenant", key_id="k1", tenant_id="t1", modules=frozenset({"alpha"}))


def test_known_key_is_cached(issued: Any, someone: Principal) -> None:
    lookup = CountingLookup({issued.secret: someone})
    authenticator = Authenticator(lookup, ttl=60)
    assert run(authenticator, issued.secret) == someone
    assert run(authenticator, issued.secret) == someone
    assert lookup.calls == [issued.secret]


def test_cache_never_serves_a_forged_secret(issued: Any, someone: Principal) -> None:
    lookup = CountingLookup({issued.secret: someone})
    authenticator = Authenticator(lookup, ttl=60)
    run(authenticator, issued.secret)
    forged = issued.secret[:-1] + ("A" if issued.secret[-1] != "A" else "B")
    assert run(authenticator, forged) is None
    assert lookup.calls == [issued.secret, forged]


def test_unknown_key_is_not_cached_as_known(issued: Any, someone: Principal) -> None:
    lookup = CountingLookup({})
    authenticator = Authenticator(lookup, ttl=60)
    assert run(authenticator, issued.secret) is None
    lookup.known[issued.secret] = someone
    authenticator.clear()
    assert run(authenticator, issued.secret) == someone


def test_clear_forgets(issued: Any, someone: Principal) -> None:
    lookup = CountingLookup({issued.secret: someone})
    authenticator = Authenticator(lookup, ttl=60)
    run(authenticator, issued.secret)
    authenticator.clear()
    run(authenticator, issued.secret)
    assert lookup.calls == [issued.secret, issued.secret]


def test_ttl_zero_disables_the_cache(issued: Any, someone: Principal) -> None:
    lookup = CountingLookup({issued.secret: someone})
    authenticator = Authenticator(lookup, ttl=0)
    for _ in range(3):
        assert run(authenticator, issued.secret) == someone
    assert len(lookup.calls) == 3


def test_malformed_key_never_reaches_the_database() -> None:
    lookup = CountingLookup({})
    authenticator = Authenticator(lookup, ttl=60)
    for presented in ("", "nonsense", "alm_short", "Bearer x"):
        assert run(authenticator, presented) is None
    assert lookup.calls == []


def test_admin_token_is_an_operator() -> None:
    lookup = CountingLookup({})
    authenticator = Authenticator(lookup, ttl=60, admin_token="operator-token-0123456789")
    assert run(authenticator, "operator-token-0123456789") == Principal(
        kind="admin", key_id="environment"
    )
    assert run(authenticator, "operator-token-012345678") is None
    assert run(authenticator, "operator-token-0123456789 ") is None
    assert lookup.calls == []


def test_no_admin_token_means_none_accepted() -> None:
    authenticator = Authenticator(CountingLookup({}), ttl=60, admin_token=None)
    assert run(authenticator, "") is None
