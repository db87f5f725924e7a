"""Barèmes entered by administrators (national, or local to a département) and their history.

Revision ID: 0002_baremes_saisis
Revises: 0001_scenarios
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_baremes_saisis"
down_revision = "0001_scenarios"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One value of one parameter from one date, for one scope (« national » or a département code).
    op.create_table(
        "baremes_saisis",
        sa.Column("portee", sa.String(16), primary_key=True),
        sa.Column("parametre", sa.String(120), primary_key=True),
        sa.Column("depuis", sa.Date, primary_key=True),
        sa.Column("valeur", sa.Text, nullable=False),  # JSON
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("auteur", sa.String(120)),
        sa.Column("saisi_le", sa.DateTime(timezone=True), nullable=False),
    )
    # Every change, kept forever: the barème's audit trail (who, when, source, old and new value).
    op.create_table(
        "baremes_saisis_historique",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("portee", sa.String(16), nullable=False),
        sa.Column("parametre", sa.String(120), nullable=False),
        sa.Column("depuis", sa.Date, nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("ancienne_valeur", sa.Text),
        sa.Column("nouvelle_valeur", sa.Text),
        sa.Column("source", sa.String(500)),
        sa.Column("origine", sa.String(200)),
        sa.Column("auteur", sa.String(120)),
        sa.Column("saisi_le", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_baremes_saisis_historique_parametre", "baremes_saisis_historique", ["parametre"])


def downgrade() -> None:
    op.drop_index("ix_baremes_saisis_historique_parametre", "baremes_saisis_historique")
    op.drop_table("baremes_saisis_historique")
    op.drop_table("baremes_saisis")
