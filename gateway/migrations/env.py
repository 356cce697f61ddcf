"""Alembic environment shared by the gateway and every module's version location."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, engine_from_config, pool

from almacen.gateway.db import Base
from almacen.gateway.migrate import COMPARE_OPTIONS, import_models

config = context.config
import_models(config.attributes.get("modules", ()))
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as connection:
        _run(connection)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=True,
        **COMPARE_OPTIONS,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `almacen db upgrade`")
run_migrations_online()
