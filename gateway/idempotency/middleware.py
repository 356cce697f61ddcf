"""``Idempotency-Key`` on POST: replay the stored response of a request already served.

Same key and same request (method, path, body) → the stored response with
``Idempotent-Replayed: true``; same key, different request → 422; a retry while the first is
still running → 409. What a handler returns (2xx to 4xx) is stored. An error it *raises*
(its transaction rolled back, nothing written) or any 5xx releases the key instead, so a
retry runs afresh rather than replaying a failure.
"""

from __future__ import annotations

import hashlib
import re

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import BadRequestError
from .store import IdempotencyStore, StoredResponse

__all__ = ["IdempotencyMiddleware"]

_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
# Headers that describe this delivery, not the response; never replayed.
_NOT_REPLAYED = frozenset({b"x-request-id", b"date", b"server", b"content-length"})


class IdempotencyMiddleware:
    """Runs after authentication, which tells whose key it is."""

    def __init__(self, app: ASGIApp, *, store: IdempotencyStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        key = None
        for name, value in scope["headers"]:
            if name == b"idempotency-key":
                key = value.decode("latin-1")
                break
        principal = (scope.get("extensions") or {}).get("almacen", {}).get("principal")
        if key is None or principal is None:
            await self.app(scope, receive, send)
            return
        if not _VALID_KEY.match(key):
            raise BadRequestError(
                "Idempotency-Key must be 1 to 255 visible ASCII characters.",
                errors=[{"header": "Idempotency-Key", "detail": "invalid format"}],
            )
        body = await _read_body(receive)
        digest = hashlib.sha256()
        for part in (scope["method"], scope["path"], scope.get("query_string", b"").decode()):
            digest.update(part.encode() + b"\0")
        digest.update(body)
        owner = principal.tenant_id or "admin"
        stored = await anyio.to_thread.run_sync(
            lambda: self.store.claim(
                owner=owner,
                tenant_id=principal.tenant_id,
                key=key,
                fingerprint=digest.hexdigest(),
            )
        )
        if stored is not None:
            await _replay(stored, send)
            return

        status = 500
        headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers.extend(
                    (n.decode("latin-1"), v.decode("latin-1"))
                    for n, v in message.get("headers", ())
                    if n.lower() not in _NOT_REPLAYED
                )
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        sent = False

        async def replay_body() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        try:
            await self.app(scope, replay_body, capture)
        except BaseException:
            await anyio.to_thread.run_sync(lambda: self.store.release(owner=owner, key=key))
            raise
        if status >= 500:
            await anyio.to_thread.run_sync(lambda: self.store.release(owner=owner, key=key))
            return
        response = StoredResponse(status, headers, b"".join(chunks))
        await anyio.to_thread.run_sync(
            lambda: self.store.complete(owner=owner, key=key, response=response)
        )


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _replay(stored: StoredResponse, send: Send) -> None:
    headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in stored.headers]
    headers.append((b"idempotent-replayed", b"true"))
    headers.append((b"content-length", str(len(stored.body)).encode()))
    await send({"type": "http.response.start", "status": stored.status, "headers": headers})
    await send({"type": "http.response.body", "body": stored.body})
