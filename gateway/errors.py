"""The gateway's exceptions, each mapped to one RFC 9457 problem type.

Raise these from services and middleware; :mod:`almacen.gateway.problems` turns them into
``application/problem+json`` responses in one place, so handlers never catch them.

::

    AlmacenError                      base of every error the gateway reports to a client
    ├── BadRequestError               400 the request could not be parsed
    │   └── RequestValidationError    400 the request does not match the OpenAPI contract
    ├── AuthenticationError           401 missing, unknown, revoked or suspended credential
    ├── ForbiddenError                403 the credential is valid but may not do this
    │   └── NotSubscribedError        403 the tenant does not subscribe to the module
    ├── NotFoundError                 404 no such resource (for this tenant)
    ├── ConflictError                 409 the resource is in a state that forbids the change
    │   └── IdempotencyInFlightError  409 a request with this Idempotency-Key is in progress
    ├── UnprocessableError            422 well-formed but semantically invalid input
    │   ├── ConfigurationError        422 module configuration rejected by its schema
    │   └── IdempotencyMismatchError  422 Idempotency-Key reused with a different request
    └── RateLimitedError              429 the tenant's rate limit is exhausted
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

__all__ = [
    "AlmacenError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "ForbiddenError",
    "IdempotencyInFlightError",
    "IdempotencyMismatchError",
    "NotFoundError",
    "NotSubscribedError",
    "RateLimitedError",
    "RequestValidationError",
    "UnprocessableError",
    "marshmallow_errors",
]

PROBLEM_BASE = "https://almacen.readthedocs.io/en/latest/problems/"


class AlmacenError(Exception):
    """Base of every error that reaches a client as a problem document.

    :param detail: what went wrong in this occurrence, for a human.
    :param errors: the individual faults, each a mapping with ``detail`` and a location
        (``pointer`` into the body, ``parameter``, ``header`` or ``field``).
    :param extensions: further problem members, e.g. ``module``.
    """

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal server error"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[Mapping[str, Any]] = (),
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)
        self.headers = dict(headers or {})
        self.extensions = extensions

    @property
    def type(self) -> str:
        """The problem type URI: the documentation page of this kind of error."""
        return PROBLEM_BASE + self.slug


class BadRequestError(AlmacenError):
    """Raised when the request cannot be parsed at all (bad JSON, bad header)."""

    status = 400
    slug = "bad-request"
    title = "Bad request"


class RequestValidationError(BadRequestError):
    """Raised when a body, query, path or header value breaks the OpenAPI contract."""

    slug = "validation-error"
    title = "The request does not match the API contract"


class AuthenticationError(AlmacenError):
    """Raised when the credential is missing, unknown, revoked, or its tenant suspended."""

    status = 401
    slug = "unauthenticated"
    title = "Authentication required"

    def __init__(self, detail: str, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="almacen"'})
        super().__init__(detail, **kwargs)


class ForbiddenError(AlmacenError):
    """Raised when a valid credential asks for something it may not do."""

    status = 403
    slug = "forbidden"
    title = "Forbidden"


class NotSubscribedError(ForbiddenError):
    """Raised when a tenant calls a module it does not subscribe to."""

    slug = "module-not-subscribed"
    title = "The tenant does not subscribe to this module"


class NotFoundError(AlmacenError):
    """Raised when a resource does not exist, or belongs to another tenant."""

    status = 404
    slug = "not-found"
    title = "Not found"


class ConflictError(AlmacenError):
    """Raised when the resource's current state forbids the change (duplicates included)."""

    status = 409
    slug = "conflict"
    title = "Conflict"


class IdempotencyInFlightError(ConflictError):
    """Raised when a retry arrives while the first request with its key is still running."""

    slug = "idempotency-in-flight"
    title = "A request with this Idempotency-Key is still being processed"


class UnprocessableError(AlmacenError):
    """Raised when well-formed input is semantically invalid."""

    status = 422
    slug = "unprocessable"
    title = "Unprocessable request"


class ConfigurationError(UnprocessableError):
    """Raised when a module's configuration is rejected by its marshmallow schema."""

    slug = "invalid-configuration"
    title = "The module configuration is invalid"


class IdempotencyMismatchError(UnprocessableError):
    """Raised when an Idempotency-Key is reused for a different request."""

    slug = "idempotency-key-reused"
    title = "The Idempotency-Key was used for a different request"


class RateLimitedError(AlmacenError):
    """Raised when a tenant has exhausted its rate limit; carries when it resets.

    :param retry_after: whole seconds until the window resets.
    """

    status = 429
    slug = "rate-limited"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.retry_after = retry_after
        self.headers.setdefault("Retry-After", str(retry_after))


def marshmallow_errors(messages: Any, pointer: str = "") -> list[dict[str, str]]:
    """Flatten marshmallow's nested error messages into ``{"pointer", "detail"}`` items."""
    found: list[dict[str, str]] = []
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            where = pointer if key == "_schema" else f"{pointer}/{_escape(str(key))}"
            found += marshmallow_errors(value, where)
    elif isinstance(messages, list | tuple) and all(isinstance(m, str) for m in messages):
        found += [{"pointer": pointer or "/", "detail": m} for m in messages]
    elif isinstance(messages, list | tuple):
        for item in messages:
            found += marshmallow_errors(item, pointer)
    else:
        found.append({"pointer": pointer or "/", "detail": str(messages)})
    return found


def _escape(token: str) -> str:
    # RFC 6901: "~" and "/" inside a member name.
    return token.replace("~", "~0").replace("/", "~1")
