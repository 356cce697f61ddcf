"""The ``almacen`` command: serve, demo, database, plugins, tenants, keys and specs.

Errors print one line on stderr and exit non-zero; no tracebacks.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from importlib.resources import files
from typing import Any, TypeVar

import click
import yaml
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from . import migrate
from .app import create_app, gateway_of
from .errors import AlmacenError, NotFoundError
from .logs import configure_logging
from .plugins import PluginRegistry, registry_from
from .settings import Settings, SettingsError
from .specs import merge_documents
from .state import Gateway
from .tenancy import service
from .tenancy.models import Tenant

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])


def _gateway() -> Gateway:
    gateway = gateway_of(create_app())
    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(gateway.db.dispose)
    return gateway


def _find_tenant(gateway: Gateway, ref: str) -> Tenant:
    with gateway.db.session() as session:
        tenant = session.scalar(select(Tenant).where((Tenant.slug == ref) | (Tenant.id == ref)))
    if tenant is None:
        raise NotFoundError(f"no tenant with slug or id {ref!r}")
    return tenant


@click.group()
@click.version_option(package_name="almacen")
def cli() -> None:
    """Almacén: debt-collection building blocks behind one API gateway.

    Settings come from ALMACEN_* environment variables (ALMACEN_DATABASE_URL, ...).
    """
    configure_logging(os.environ.get("ALMACEN_LOG_LEVEL", "WARNING"), as_json=False)


# -- serving -------------------------------------------------------------------------------


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=0, type=int, help="Run gunicorn with N uvicorn workers.")
@click.option("--upgrade/--no-upgrade", default=True, help="Migrate the database first.")
def serve(host: str, port: int, workers: int, upgrade: bool) -> None:
    """Serve the gateway (development server, or gunicorn with --workers N)."""
    if upgrade:
        _upgrade()
    _serve(host, port, workers)


def _serve(host: str, port: int, workers: int) -> None:
    if workers > 0:
        config = files("almacen.gateway") / "gunicorn.conf.py"
        env = {**os.environ, "ALMACEN_BIND": f"{host}:{port}", "ALMACEN_WORKERS": str(workers)}
        command = [sys.executable, "-m", "gunicorn", "-c", str(config), "almacen.gateway.asgi:app"]
        raise SystemExit(subprocess.call(command, env=env))  # noqa: S603
    import uvicorn

    uvicorn.run("almacen.gateway.asgi:app", host=host, port=port, log_level="warning")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Set up and print the key, but do not serve.")
@click.option(
    "--portfolio",
    default=0,
    type=click.IntRange(min=0),
    help="Ask each module for N items of sample data (almacen_demo_data).",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the sample data.")
def demo(host: str, port: int, no_serve: bool, portfolio: int, seed: int) -> None:
    """Create the database and a demo tenant with every module, print its key, serve."""
    gateway = _upgrade()
    with gateway.db.transaction() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == "demo"))
        if tenant is None:
            tenant = service.create_tenant(session, slug="demo", name="Demo collections")
        tenant_id = tenant.id
    with gateway.db.transaction(tenant_id=tenant_id) as session:
        for module in gateway.registry.modules.values():
            service.subscribe(session, module=module, config={})
        _, secret = service.create_api_key(session, tenant=tenant, name="demo")
    with gateway.db.transaction() as session:
        _, admin_secret = service.create_admin_key(session, name="demo")
    base = f"http://{host}:{port}/v1"
    click.echo(f"Demo tenant 'demo' subscribed to: {', '.join(sorted(gateway.installed)) or '-'}")
    if portfolio:
        for line in _demo_data(gateway, tenant_id, size=portfolio, seed=seed):
            click.echo(f"  {line}")
    click.echo(f"  tenant API key: {secret}")
    click.echo(f"  admin key:      {admin_secret}")
    click.echo(f"  API docs:       {base}/ui/")
    click.echo(f"  try:            curl -H 'X-API-Key: {secret}' {base}/me")
    if not no_serve:
        _serve(host, port, 0)


def _demo_data(gateway: Gateway, tenant_id: str, *, size: int, seed: int) -> list[str]:
    """Call ``almacen_demo_data`` plugin by plugin, each in a transaction of its own.

    A plugin that raises is recorded as failed by the registry; its writes are rolled back.
    """
    registry = gateway.registry
    caller = registry.manager.hook.almacen_demo_data
    lines: list[str] = []
    # pluggy calls the last implementation first; keep that order.
    for name in [impl.plugin_name for impl in reversed(caller.get_hookimpls())]:
        with gateway.db.session(tenant_id=tenant_id) as session:
            answered = registry.call_each(
                "almacen_demo_data", only=name, session=session, tenant_id=tenant_id,
                size=size, seed=seed,
            )  # fmt: skip
            if registry.manager.get_plugin(name) is None:
                session.rollback()
                lines.append(f"{name}: failed to add sample data (see `almacen plugins`)")
                continue
            session.commit()
        lines += [str(summary) for _, summary in answered]
    return lines


# -- workers -------------------------------------------------------------------------------


@cli.command()
@click.option("--batch-size", type=click.IntRange(min=1), help="Events per transaction.")
@click.option("--once", is_flag=True, help="Work until nothing is due, then exit.")
@click.option(
    "--role",
    type=click.Choice(["all", "relay", "consume"]),
    default="all",
    show_default=True,
    help="With ALMACEN_DELIVERY=queue: relay the outbox to the queue, consume it, or both.",
)
@click.option(
    "--threads", default=4, show_default=True, type=click.IntRange(min=1),
    help="Queue consumer threads (ALMACEN_DELIVERY=queue).",
)  # fmt: skip
def worker(batch_size: int | None, once: bool, role: str, threads: int) -> None:
    """Deliver the event outbox (one process; run N of them for N workers).

    SIGTERM or SIGINT finishes the current batch, then exits.
    """
    import threading

    from .events.worker import run_worker, stop_on_signals
    from .settings import Settings

    overrides: dict[str, Any] = {}
    if Settings.load().delivery == "in-process":
        overrides["delivery"] = "worker"  # this process is the worker: no thread besides
    if batch_size:
        overrides["delivery_batch_size"] = batch_size
    gateway = gateway_of(create_app(overrides))
    stop = threading.Event()
    try:
        with stop_on_signals(stop):
            done = run_worker(
                gateway.dispatcher, stop, once=once, role=role, threads=threads,
                on_ready=lambda what: click.echo(f"{what}; pid {os.getpid()}", err=True),
            )  # fmt: skip
    finally:
        gateway.close()
    click.echo(f"worker done: {done} handled", err=True)


# -- database ------------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration of the gateway and of each installed module."""
    gateway = _upgrade()
    click.echo(f"database at head: {gateway.db.engine.url.render_as_string(hide_password=True)}")


def _upgrade() -> Gateway:
    gateway = _gateway()
    migrate.upgrade(gateway.db.engine, gateway.registry.modules.values())
    return gateway


# -- plugins and specs ---------------------------------------------------------------------


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def plugins(as_json: bool) -> None:
    """List plugins, modules, versions and load failures."""
    report = _gateway().registry.report()
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo("Modules:")
    for module in report["modules"] or [
        {"name": "(none)", "version": "", "title": "", "plugin": ""}
    ]:
        click.echo(
            f"  {module['name']:<16} {module['version']:<10} {module['title']}"
            + (f"  [{module['plugin']}]" if module.get("plugin") else "")
        )
    click.echo("Plugins:")
    for plugin in report["plugins"]:
        dist = f"{plugin['distribution']} {plugin['version'] or ''}".strip()
        click.echo(f"  {plugin['name']:<16} {dist}")
    if report["failures"]:
        click.echo("Failed to load:")
        for failure in report["failures"]:
            click.echo(f"  {failure['name']} ({failure['stage']}): {failure['error']}")


@cli.group()
def spec() -> None:
    """OpenAPI documents."""


@spec.command("export")
@click.option("--tenant", "tenant_ref", help="Only the modules this tenant (slug or id) has.")
@click.option("--format", "fmt", type=click.Choice(["json", "yaml"]), default="json")
def spec_export(tenant_ref: str | None, fmt: str) -> None:
    """Print the merged OpenAPI document (of one tenant's modules with --tenant)."""
    gateway = _gateway()
    names = gateway.installed
    if tenant_ref:
        tenant = _find_tenant(gateway, tenant_ref)
        with gateway.db.session(tenant_id=tenant.id) as session:
            names = frozenset(s.module for s in service.list_subscriptions(session)) & names
    document = merge_documents(
        gateway.documents[None],
        [(n, gateway.registry.modules[n].title, gateway.documents[n]) for n in sorted(names)],
        include_admin=tenant_ref is None,
    )
    click.echo(json.dumps(document, indent=2) if fmt == "json" else yaml.safe_dump(document))


# -- tenants, keys, subscriptions ----------------------------------------------------------


@cli.group()
def tenants() -> None:
    """Create and list tenants."""


@tenants.command("create")
@click.argument("slug")
@click.option("--name", help="Display name (defaults to the slug).")
@click.option("--rate-limit", help="e.g. 100/minute; the gateway default when absent.")
def tenants_create(slug: str, name: str | None, rate_limit: str | None) -> None:
    """Create a tenant."""
    gateway = _gateway()
    with gateway.db.transaction() as session:
        tenant = service.create_tenant(session, slug=slug, name=name or slug, rate_limit=rate_limit)
    click.echo(f"{tenant.id} {tenant.slug}")


@tenants.command("list")
def tenants_list() -> None:
    """List tenants."""
    gateway = _gateway()
    with gateway.db.session() as session:
        for tenant in session.scalars(select(Tenant).order_by(Tenant.created_at)):
            click.echo(f"{tenant.id} {tenant.slug:<24} {tenant.status:<10} {tenant.name}")


@cli.group()
def keys() -> None:
    """Issue and revoke API keys."""


@keys.command("create")
@click.argument("tenant_ref")
@click.option("--name", default="", help="What the key is for.")
def keys_create(tenant_ref: str, name: str) -> None:
    """Issue an API key for a tenant; the secret is printed once."""
    gateway = _gateway()
    tenant = _find_tenant(gateway, tenant_ref)
    with gateway.db.transaction(tenant_id=tenant.id) as session:
        key, secret = service.create_api_key(session, tenant=tenant, name=name)
    click.echo(f"key {key.id} for {tenant.slug}:")
    click.echo(secret)


@keys.command("revoke")
@click.argument("tenant_ref")
@click.argument("key_id")
def keys_revoke(tenant_ref: str, key_id: str) -> None:
    """Revoke a tenant's API key."""
    gateway = _gateway()
    tenant = _find_tenant(gateway, tenant_ref)
    with gateway.db.transaction(tenant_id=tenant.id) as session:
        service.revoke_api_key(session, key_id)
    click.echo(f"revoked {key_id}")


@cli.command()
@click.argument("tenant_ref")
@click.argument("module")
@click.option("--config", "config_text", help="The module configuration as JSON or YAML.")
def subscribe(tenant_ref: str, module: str, config_text: str | None) -> None:
    """Subscribe a tenant to a module."""
    gateway = _gateway()
    tenant = _find_tenant(gateway, tenant_ref)
    installed = gateway.registry.modules.get(module)
    if installed is None:
        raise NotFoundError(f"no module {module!r} is installed")
    try:
        config = yaml.safe_load(config_text) if config_text else {}
    except yaml.YAMLError as exc:
        raise click.BadParameter(f"not JSON or YAML: {exc}", param_hint="--config") from None
    if not isinstance(config, dict):
        raise click.BadParameter("must be a mapping", param_hint="--config")
    with gateway.db.transaction(tenant_id=tenant.id) as session:
        service.subscribe(session, module=installed, config=config)
    click.echo(f"{tenant.slug} subscribes to {module}")


@cli.group()
def admin() -> None:
    """Operator credentials."""


@admin.command("create-key")
@click.option("--name", default="", help="Whose key it is.")
def admin_create_key(name: str) -> None:
    """Issue an operator key for the admin API; the secret is printed once."""
    gateway = _gateway()
    with gateway.db.transaction() as session:
        _, secret = service.create_admin_key(session, name=name)
    click.echo(secret)


# -- service blueprints --------------------------------------------------------------------


@cli.group()
def services() -> None:
    """A tenant's services (blueprints): apply and list."""


@services.command("apply")
@click.argument("file", type=click.File("rb"))
@click.option("--tenant", "tenant_ref", required=True, help="The tenant's slug or id.")
@click.option("--name", help="The service's name (defaults to the document's `service`).")
def services_apply(file: Any, tenant_ref: str, name: str | None) -> None:
    """Validate a blueprint (YAML or JSON) and activate it as the service's next version."""
    from .services import service as blueprints
    from .services.blueprint import parse_document

    document = parse_document(file.read())
    name = name or (document.get("service") if isinstance(document, dict) else None)
    if not name:
        raise click.UsageError("name the service with --name or a `service` key in the file")
    gateway = _gateway()
    tenant = _find_tenant(gateway, tenant_ref)
    try:
        with gateway.db.transaction(tenant_id=tenant.id) as session:
            _row, version, changed = blueprints.apply(session, gateway.registry, name, document)
    except AlmacenError as exc:
        for fault in exc.errors:
            click.echo(f"  {fault.get('pointer') or '/'}: {fault.get('detail')}", err=True)
        raise
    state = "activated" if changed else "already active:"
    click.echo(f"{tenant.slug}/{name}: {state} version {version.version}")


@services.command("list")
@click.option("--tenant", "tenant_ref", required=True, help="The tenant's slug or id.")
def services_list(tenant_ref: str) -> None:
    """The tenant's services, their status and active version."""
    from .services import service as blueprints

    gateway = _gateway()
    tenant = _find_tenant(gateway, tenant_ref)
    with gateway.db.transaction(tenant_id=tenant.id) as session:
        page = blueprints.list_services(session, limit=500, cursor=None)
        for row in page.items:
            click.echo(f"{row.name}\t{row.status}\tv{row.active_version}")


# -- plugin commands -----------------------------------------------------------------------


def add_plugin_commands(group: click.Group, registry: PluginRegistry) -> list[str]:
    """Add what plugins return from ``almacen_register_commands`` to ``group``.

    A command whose name is taken (by the gateway or an earlier plugin), a result that is
    not a click command, or a plugin that raises is skipped. Returns one warning per skip.
    """
    warnings: list[str] = []
    for plugin, commands in registry.call_each("almacen_register_commands"):
        for command in commands:
            if not isinstance(command, click.Command) or not command.name:
                warnings.append(f"plugin {plugin}: {command!r} is not a named click command")
                continue
            existing = group.commands.get(command.name)
            if existing is command or _same_command(existing, command):
                group.add_command(command)  # the same plugin's, asked again (or re-imported)
                continue
            if existing is not None:
                warnings.append(f"plugin {plugin}: command {command.name!r} is taken; skipped")
                continue
            group.add_command(command)
    warnings += [
        f"plugin {failure.name}: {failure.error}"
        for failure in registry.failures
        if failure.stage == "almacen_register_commands"
    ]
    return warnings


def _same_command(existing: click.Command | None, command: click.Command) -> bool:
    """Whether two commands are one function's (a plugin module imported twice)."""
    if existing is None or existing.callback is None or command.callback is None:
        return False
    return (existing.callback.__module__, existing.callback.__qualname__) == (
        command.callback.__module__,
        command.callback.__qualname__,
    )


def _load_plugin_commands() -> None:
    """Add the installed plugins' commands to ``almacen`` (warnings on stderr, never fatal)."""
    try:
        settings = Settings.load(None)
        registry = registry_from(
            extra=[(name, importlib.import_module(name)) for name in settings.extra_plugins],
            load_entrypoints=settings.load_entrypoints,
            blocked=settings.blocked_plugins,
        )
    except Exception:
        return  # the command that needs settings or plugins reports the problem itself
    for warning in add_plugin_commands(cli, registry):
        click.echo(f"warning: {warning}", err=True)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    _load_plugin_commands()
    try:
        cli.main(args=argv, prog_name="almacen", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (AlmacenError, SettingsError) as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    except SQLAlchemyError as exc:
        reason = (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]
        click.echo(
            f"error: database: {reason} (is the database migrated? `almacen db upgrade`)", err=True
        )
        return 1
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    except Exception as exc:
        first_line = (str(exc).strip().splitlines() or [""])[0]
        click.echo(f"error: {type(exc).__name__}: {first_line}", err=True)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
