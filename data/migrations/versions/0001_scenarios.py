"""Scenarios and their saved versions.

Revision ID: 0001_scenarios
Revises:
Create Date: 2026-05-20
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_scenarios"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scenarios",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("territoire", sa.String(64), nullable=False),
        sa.Column("auteur", sa.String(120)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("territoire", "name", name="uq_scenarios_territoire_name"),
    )
    # No foreign key on purpose: the history outlives a deleted scenario.
    op.create_table(
        "scenario_versions",
        sa.Column("scenario_id", sa.String(32), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("territoire", sa.String(64), nullable=False),
        sa.Column("auteur", sa.String(120)),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("scenario_versions")
    op.drop_table("scenarios")
