"""Alembic environment: migrates the database named by ``DATABASE_URL``.

Only ``DATABASE_URL`` is needed here (not ``JWT_SECRET``), so migrations can run from a
job that holds database credentials and nothing else.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool
from sqlmodel import SQLModel

import src.models.task  # noqa: F401  (registers the task table on SQLModel.metadata)
from src.config import database_url_from_env

config = context.config

# Callers that manage logging themselves (the test suite) set configure_logger=False.
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    # Keep loggers configured by the host process working.
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def _database_url() -> str:
    """Return a URL set programmatically on the Config, else ``DATABASE_URL``."""
    return config.get_main_option("sqlalchemy.url") or database_url_from_env()


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of connecting (``alembic upgrade head --sql``)."""
    url = _database_url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Connect to the database and apply migrations in a transaction."""
    url = _database_url()
    connectable = engine_from_config(
        {"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER most column properties in place; batch mode copies the table.
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
