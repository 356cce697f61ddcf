"""Claiming, completing and releasing idempotency keys (blocking database calls)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..db import Database, utcnow
from ..errors import IdempotencyInFlightError, IdempotencyMismatchError
from .models import IdempotencyRecord

__all__ = ["IdempotencyStore", "StoredResponse"]

#: A claim older than this is taken to be abandoned (its worker died) and may be retaken.
ABANDONED_AFTER = dt.timedelta(minutes=5)


@dataclasses.dataclass(frozen=True)
class StoredResponse:
    """A response to replay."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class IdempotencyStore:
    """Records keyed requests in the database, shared by every worker and replica."""

    def __init__(self, db: Database, *, ttl: dt.timedelta) -> None:
        self.db = db
        self.ttl = ttl

    def claim(
        self, *, owner: str, tenant_id: str | None, key: str, fingerprint: str
    ) -> StoredResponse | None:
        """Claim ``key`` for a new request, or return the response to replay.

        :raises IdempotencyInFlightError: the first request with the key is still running.
        :raises IdempotencyMismatchError: the key was used for a different request.
        """
        now = utcnow()
        with self.db.transaction() as session:
            # Expired and abandoned claims give way to the new request.
            session.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.owner == owner,
                    IdempotencyRecord.key == key,
                    (IdempotencyRecord.expires_at < now)
                    | (
                        IdempotencyRecord.completed_at.is_(None)
                        & (IdempotencyRecord.created_at < now - ABANDONED_AFTER)
                    ),
                )
            )
        try:
            with self.db.transaction() as session:
                session.add(
                    IdempotencyRecord(
                        owner=owner,
                        tenant_id=tenant_id,
                        key=key,
                        fingerprint=fingerprint,
                        created_at=now,
                        expires_at=now + self.ttl,
                    )
                )
            return None
        except IntegrityError:
            pass
        with self.db.session() as session:
            record = session.scalar(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.owner == owner, IdempotencyRecord.key == key
                )
            )
        if record is None:  # released between our insert and read: the caller may retry
            raise IdempotencyInFlightError(
                "A request with this Idempotency-Key was just being processed; retry."
            )
        if record.fingerprint != fingerprint:
            raise IdempotencyMismatchError(
                "This Idempotency-Key was used for a request with a different method, path or "
                "body; use a new key for a new request.",
                errors=[{"header": "Idempotency-Key", "detail": "reused for another request"}],
            )
        if record.completed_at is None or record.status_code is None:
            raise IdempotencyInFlightError(
                "The first request with this Idempotency-Key is still being processed; retry "
                "after it completes.",
                headers={"Retry-After": "1"},
            )
        headers = [(str(name), str(value)) for name, value in record.headers or []]
        return StoredResponse(record.status_code, headers, record.body or b"")

    def complete(self, *, owner: str, key: str, response: StoredResponse) -> None:
        """Store the response of a claimed key."""
        with self.db.transaction() as session:
            record = session.scalar(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.owner == owner, IdempotencyRecord.key == key
                )
            )
            if record is None:
                return
            record.completed_at = utcnow()
            record.status_code = response.status
            record.headers = [list(pair) for pair in response.headers]
            record.body = response.body

    def release(self, *, owner: str, key: str) -> None:
        """Drop a claim whose request failed (5xx), so that a retry runs it again."""
        with self.db.transaction() as session:
            session.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.owner == owner,
                    IdempotencyRecord.key == key,
                    IdempotencyRecord.completed_at.is_(None),
                )
            )
