"""API key format: ``alm_`` + a 12-character lookup prefix + ``_`` + a 32-character secret.

The prefix is stored in clear and indexed, so a presented key is found with one indexed
read; only the SHA-256 of the whole key is stored. Keys carry 190 bits of randomness, so a
fast hash is the right tool here (as GitHub and PyPI do for tokens), not a password hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from typing import NamedTuple

__all__ = ["IssuedKey", "hash_secret", "issue_key", "split_key", "verify_secret"]

_ALPHABET = string.ascii_letters + string.digits


class IssuedKey(NamedTuple):
    """A freshly made key: ``secret`` is shown once, ``prefix`` and ``hashed`` are stored."""

    secret: str
    prefix: str
    hashed: str


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def issue_key(kind: str = "alm") -> IssuedKey:
    """Make a new key; ``kind`` is ``alm`` for tenants and ``almadm`` for operators."""
    prefix = f"{kind}_{_random(12)}"
    secret = f"{prefix}_{_random(32)}"
    return IssuedKey(secret=secret, prefix=prefix, hashed=hash_secret(secret))


def split_key(presented: str) -> str | None:
    """The lookup prefix of a presented key, or None when it is not of our form."""
    kind, sep, rest = presented.partition("_")
    if not sep or kind not in ("alm", "almadm"):
        return None
    head, sep, tail = rest.partition("_")
    if not sep or len(head) != 12 or len(tail) != 32:
        return None
    return f"{kind}_{head}"


def hash_secret(secret: str) -> str:
    """Hex SHA-256 of a key."""
    return hashlib.sha256(secret.encode()).hexdigest()


def verify_secret(presented: str, hashed: str) -> bool:
    """Compare in constant time."""
    return hmac.compare_digest(hash_secret(presented), hashed)
