"""Alembic environment for the scenario database, run programmatically by ScenarioStore.

``ScenarioStore._migrate`` passes an open connection, already inside a transaction, in
``config.attributes["connection"]``.  Without one (manual use of the alembic API), the
database is the one ScenarioStore would open: ``DATABASE_URL`` or the SQLite file.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from data.scenarios_db import VERSION_TABLE, default_url

config = context.config


def run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        version_table=config.get_main_option("version_table") or VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if config.attributes.get("connection") is not None:
    run(config.attributes["connection"])
else:
    with sa.create_engine(default_url()).begin() as conn:
        run(conn)
