"""``create_app``: one connexion app with the gateway at ``/v1`` and each module below it."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import importlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import connexion
from connexion.middleware.context import ContextMiddleware
from connexion.middleware.exceptions import ExceptionMiddleware
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.request_validation import RequestValidationMiddleware
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.options import SwaggerUIOptions

from .db import Database
from .events.dispatcher import Dispatcher, InProcessDelivery
from .idempotency.middleware import IdempotencyMiddleware
from .idempotency.store import IdempotencyStore
from .module import Module
from .plugins import PluginRegistry, registry_from
from .ratelimit import TenantRateLimiter
from .requestcontext import Metrics, RequestContextMiddleware
from .resolver import HandlerResolver
from .settings import Settings
from .specs import load_document, with_shared_components
from .state import EXTENSION, Gateway, install_sessions
from .tenancy import service as tenancy
from .tenancy.access import AccessMiddleware, AccessRule, Authenticator, rules_from_spec
from .tenancy.configcache import ConfigCache
from .validation import validator_map

__all__ = ["create_app"]

logger = logging.getLogger("almacen.app")

GATEWAY_BASE = "/v1"
GATEWAY_HANDLERS = "almacen.gateway.api"
#: Plugins every app has, registered directly (datasette's DEFAULT_PLUGINS; pytest's
#: essential plugins). Built-in API modules come through the entry-point group instead.
ESSENTIAL_PLUGINS: tuple[str, ...] = (
    "almacen.gateway.problems",
    "almacen.gateway.webhooks",
    "almacen.gateway.services",
)


def create_app(
    config: Mapping[str, Any] | None = None,
    *,
    plugins: Sequence[tuple[str, Any]] = (),
) -> connexion.FlaskApp:
    """Build the application.

    :param config: settings that override the defaults and the ``ALMACEN_*`` environment.
    :param plugins: extra ``(name, plugin)`` pairs registered after the entry points
        (tests and embedding applications).
    :return: a connexion ``FlaskApp``, an ASGI application.
    """
    settings = Settings.load(config)
    registry = registry_from(
        essential=[(name, importlib.import_module(name)) for name in ESSENTIAL_PLUGINS],
        extra=[
            *plugins,
            *((name, importlib.import_module(name)) for name in settings.extra_plugins),
        ],
        load_entrypoints=settings.load_entrypoints,
        blocked=settings.blocked_plugins,
        trace=settings.trace_plugins,
    )
    from almacen.openapi import GATEWAY

    documents: dict[str | None, dict[str, Any]] = {
        None: with_shared_components(load_document(GATEWAY), module=None)
    }
    for module in list(registry.modules.values()):
        try:
            documents[module.name] = _check_module(module)
        except Exception as exc:
            registry.drop_module(module.name, "mount", exc)

    db = Database(settings.database_url)
    dispatcher = Dispatcher(db, registry, settings)
    delivery = InProcessDelivery(dispatcher) if settings.delivery == "in-process" else None
    db.info["registry"] = registry
    # Module configurations, kept as long as an authenticated key (see tenancy.configcache).
    db.info[tenancy.CONFIG_CACHE] = ConfigCache(settings.auth_cache_seconds)
    if delivery is not None:
        db.info["on_events"] = delivery.wake
    metrics = Metrics()
    metrics.plugin_failures.inc(len(registry.failures))
    installed = frozenset(registry.modules)
    authenticator = Authenticator(
        functools.partial(_lookup, db, installed),
        ttl=settings.auth_cache_seconds,
        admin_token=settings.admin_token,
    )
    limiter = TenantRateLimiter(
        settings.rate_limit_storage, strategy=settings.rate_limit_strategy, metrics=metrics
    )
    rules: dict[tuple[str, str], AccessRule] = {}
    for name, document in documents.items():
        base = GATEWAY_BASE if name is None else f"{GATEWAY_BASE}/{name}"
        handlers = GATEWAY_HANDLERS if name is None else registry.modules[name].api
        rules.update(rules_from_spec(document, base_path=base, module=name, handlers=handlers))

    middlewares: list[Any] = [
        functools.partial(RequestContextMiddleware, metrics=metrics, modules=installed),
        ServerErrorMiddleware,
        ExceptionMiddleware,
        SwaggerUIMiddleware,
        RoutingMiddleware,
        functools.partial(
            AccessMiddleware,
            rules=rules,
            authenticator=authenticator,
            limiter=limiter,
            default_limit=settings.rate_limit,
        ),
        functools.partial(
            IdempotencyMiddleware,
            store=IdempotencyStore(db, ttl=dt.timedelta(seconds=settings.idempotency_ttl_seconds)),
        ),
        RequestValidationMiddleware,
    ]
    if settings.validate_responses:
        middlewares.append(ResponseValidationMiddleware)
    middlewares += [LifespanMiddleware, ContextMiddleware]

    app = connexion.FlaskApp(
        __name__,
        middlewares=middlewares,
        validator_map=validator_map(),
        validate_responses=settings.validate_responses,
    )
    install_sessions(app.app)
    app.app.extensions[EXTENSION] = Gateway(
        settings=settings,
        registry=registry,
        db=db,
        metrics=metrics,
        authenticator=authenticator,
        limiter=limiter,
        documents=documents,
        dispatcher=dispatcher,
        delivery=delivery,
    )
    app.add_api(
        documents[None],
        base_path=GATEWAY_BASE,
        name="gateway",
        resolver=HandlerResolver(GATEWAY_HANDLERS),
        swagger_ui_options=SwaggerUIOptions(
            serve_spec=False,
            swagger_ui_template_arguments={"openapi_spec_url": f"{GATEWAY_BASE}/openapi.json"},
        ),
    )
    for name in registry.modules:
        module = registry.modules[name]
        app.add_api(
            documents[name],
            base_path=f"{GATEWAY_BASE}/{name}",
            name=f"module_{name}",
            resolver=HandlerResolver(module.api),
        )
    registry.safe_call("almacen_prepare_app", app=app, settings=settings)
    return app


def _check_module(module: Module) -> dict[str, Any]:
    """Parse a module's document and resolve every operationId now, not on first request."""
    document = with_shared_components(load_document(module.spec), module=module.name)
    from connexion.spec import Specification
    from connexion.utils import get_function_from_name

    Specification.from_dict(copy.deepcopy(document))
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method == "parameters" or not isinstance(operation, dict):
                continue
            operation_id = operation.get("operationId")
            if not operation_id:
                raise ValueError(f"{method.upper()} operation without operationId")
            # Resolve as connexion's RelativeResolver will: importing submodules on the way.
            try:
                target = get_function_from_name(f"{module.api}.{operation_id}")
            except (ImportError, AttributeError) as exc:
                raise ValueError(
                    f"operationId {operation_id!r} has no handler in {module.api}: {exc}"
                ) from None
            if not callable(target):
                raise ValueError(f"operationId {operation_id!r} has no handler in {module.api}")
    return document


def _lookup(db: Database, installed: frozenset[str], presented: str) -> Any:
    with db.transaction() as session:
        return tenancy.authenticate(session, presented, installed=installed)


def gateway_of(app: connexion.FlaskApp) -> Gateway:
    """The :class:`Gateway` state of an app built by :func:`create_app`."""
    gateway: Gateway = app.app.extensions[EXTENSION]
    return gateway


def registry_of(app: connexion.FlaskApp) -> PluginRegistry:
    """The plugin registry of an app built by :func:`create_app`."""
    return gateway_of(app).registry
