"""The one configuration object: defaults, then ``ALMACEN_*`` environment variables, then
the mapping given to :func:`almacen.gateway.create_app` (tests use the last)."""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Mapping
from typing import Any, get_type_hints

__all__ = ["Settings", "SettingsError"]

ENV_PREFIX = "ALMACEN_"


class SettingsError(ValueError):
    """Raised at start-up when a setting is missing or has the wrong form."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    """Gateway settings. Every field can be set as ``ALMACEN_<FIELD>`` in the environment."""

    #: SQLAlchemy URL of the system of record; a SQLite file by default.
    database_url: str = "sqlite:///almacen.db"
    #: An operator token for the admin API, besides keys made with ``almacen admin create-key``.
    admin_token: str | None = None
    #: Default per-tenant rate limit, in the ``limits`` notation; a tenant may override it.
    rate_limit: str = "1200/minute"
    #: Where rate-limit counters live: ``memory://`` (one process) or ``redis://host:port``.
    rate_limit_storage: str = "memory://"
    #: ``fixed-window`` (one round trip) or ``moving-window`` (exact, dearer).
    rate_limit_strategy: str = "fixed-window"
    #: Seconds an authenticated key, and a tenant's module configuration, stay cached in a
    #: worker (a change made through another worker is seen within it); 0 checks the
    #: database each time.
    auth_cache_seconds: float = 2.0
    #: How long a stored Idempotency-Key response is replayed.
    idempotency_ttl_seconds: int = 24 * 3600
    #: Load plugins from the ``almacen.plugins`` entry-point group.
    load_entrypoints: bool = True
    #: Entry-point names that are never loaded.
    blocked_plugins: tuple[str, ...] = ()
    #: Importable modules registered as plugins after the entry points (e.g. a consumer
    #: module that is not packaged, or a test's plugin in a subprocess).
    extra_plugins: tuple[str, ...] = ()
    #: Log every hook call with its arguments and results.
    trace_plugins: bool = False
    #: Validate responses against the OpenAPI contract (tests turn this on).
    validate_responses: bool = False
    #: Who drains the event outbox: ``in-process`` (a thread of each app process, the
    #: embedded default), ``worker`` (``almacen worker`` processes) or ``queue`` (the outbox
    #: feeds the distributed queue at ``queue_url``).
    delivery: str = "in-process"
    #: Events claimed per delivery transaction.
    delivery_batch_size: int = 100
    #: Attempts before an event (or a webhook delivery) is dead-lettered.
    delivery_max_attempts: int = 8
    #: First retry delay; each further retry doubles it (capped at an hour).
    delivery_backoff_seconds: float = 2.0
    #: How often an idle worker looks for due retries.
    delivery_poll_seconds: float = 1.0
    #: How many rule firings deep an event may be and still trigger blueprint rules: an event
    #: an API call caused is 0 deep, one a rule's action emitted is 1 deeper than its cause.
    rule_depth_limit: int = 5
    #: Broker of the distributed queue (``amqp://guest:guest@127.0.0.1:5672/``).
    queue_url: str | None = None
    #: The distributed queue's name (one per deployment sharing a broker).
    queue_name: str = "almacen-events"
    #: Networks (CIDRs) webhooks may reach although they are private or loopback.
    webhook_allowed_networks: tuple[str, ...] = ()
    #: Seconds a webhook receiver has to answer one attempt.
    webhook_timeout_seconds: float = 10.0
    #: Multiplies the published webhook retry schedule (0 retries at once; tests).
    webhook_retry_scale: float = 1.0
    #: Logging level of the ``almacen`` loggers.
    log_level: str = "INFO"
    #: Write logs as one JSON object a line.
    log_json: bool = True

    @classmethod
    def load(
        cls, config: Mapping[str, Any] | None = None, *, environ: Mapping[str, str] | None = None
    ) -> Settings:
        """Build settings from defaults, the environment, then ``config``.

        :raises SettingsError: when a key is unknown or a value cannot be converted.
        """
        environ = os.environ if environ is None else environ
        hints = get_type_hints(cls)
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            raw = environ.get(ENV_PREFIX + field.name.upper())
            if raw is not None:
                values[field.name] = _convert(field.name, hints[field.name], raw)
        for key, value in (config or {}).items():
            if key not in hints:
                raise SettingsError(f"unknown setting {key!r}")
            values[key] = _convert(key, hints[key], value) if isinstance(value, str) else value
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        """Fail at start-up, not per request, on settings that cannot work."""
        from limits import parse

        try:
            parse(self.rate_limit)
        except ValueError as exc:
            raise SettingsError(f"rate_limit {self.rate_limit!r}: {exc}") from None
        if self.rate_limit_strategy not in ("fixed-window", "moving-window"):
            raise SettingsError(
                f"rate_limit_strategy must be fixed-window or moving-window, "
                f"not {self.rate_limit_strategy!r}"
            )
        if self.delivery not in ("in-process", "worker", "queue"):
            raise SettingsError(
                f"delivery must be in-process, worker or queue, not {self.delivery!r}"
            )
        if self.delivery == "queue" and not self.queue_url:
            raise SettingsError("delivery = queue needs queue_url (the broker's URL)")
        try:
            for cidr in self.webhook_allowed_networks:
                ipaddress.ip_network(cidr, strict=False)
        except ValueError as exc:
            raise SettingsError(f"webhook_allowed_networks: {exc}") from None
        if self.webhook_timeout_seconds <= 0 or self.webhook_retry_scale < 0:
            raise SettingsError(
                "webhook_timeout_seconds must be positive and webhook_retry_scale not negative"
            )
        if "://" not in self.database_url:
            raise SettingsError(f"database_url {self.database_url!r} is not a URL")


def _convert(name: str, hint: Any, raw: str) -> Any:
    text = str(hint)
    if hint is bool or text == "bool":
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise SettingsError(f"{name}: {raw!r} is not a boolean")
    if hint is int or text == "int":
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"{name}: {raw!r} is not an integer") from None
    if hint is float or text == "float":
        try:
            return float(raw)  # a duration in seconds, not money
        except ValueError:
            raise SettingsError(f"{name}: {raw!r} is not a number") from None
    if "tuple" in text:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw
