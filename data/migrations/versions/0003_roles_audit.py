"""Roles and audit: the département of each scenario (and of each saved version), the users table
edited in the Administration page, and the audit trail (journal).

Existing scenarios get their département from their territory (``departement:89``, ``commune:89024``)
or, for an EPCI/EPT/other key, from the communes stored in the scenario when they all lie in one
département; otherwise it stays empty and only national administrators see the scenario
(docs/SCENARIOS_DB.md « Département d'un scénario »).

Revision ID: 0003_roles_audit
Revises: 0002_baremes_saisis
Create Date: 2026-12-01
"""
from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0003_roles_audit"
down_revision = "0002_baremes_saisis"
branch_labels = None
depends_on = None


def _dep_of_commune(code: str) -> str | None:
    code = str(code).strip().upper()
    if len(code) != 5:
        return None
    return code[:3] if code.startswith("97") else code[:2]


def departement_derive(territoire: str, data_text: str | None) -> str | None:
    """Frozen copy of the rule at the time of this migration (the live one is in data/scenarios_db.py)."""
    niveau, _, code = (territoire or "").partition(":")
    if niveau == "departement" and code:
        return code.strip().upper()
    if niveau == "commune" and code:
        return _dep_of_commune(code)
    try:
        communes = (json.loads(data_text or "{}").get("territoire") or {}).get("communes") or []
    except (ValueError, AttributeError):
        return None
    deps = {_dep_of_commune(c) for c in communes if isinstance(c, str)}
    return deps.pop() if len(deps) == 1 and None not in deps else None


def upgrade() -> None:
    with op.batch_alter_table("scenarios") as b:
        b.add_column(sa.Column("departement", sa.String(3)))
        b.create_index("ix_scenarios_departement", ["departement"])
    with op.batch_alter_table("scenario_versions") as b:
        b.add_column(sa.Column("departement", sa.String(3)))
    conn = op.get_bind()
    sc = sa.table("scenarios", sa.column("id"), sa.column("territoire"), sa.column("data"), sa.column("departement"))
    sv = sa.table("scenario_versions", sa.column("scenario_id"), sa.column("departement"))
    for sid, terr, data in conn.execute(sa.select(sc.c.id, sc.c.territoire, sc.c.data)).all():
        dep = departement_derive(terr, data)
        if dep:
            conn.execute(sc.update().where(sc.c.id == sid).values(departement=dep))
            conn.execute(sv.update().where(sv.c.scenario_id == sid).values(departement=dep))
    op.create_table(
        "journal",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("horodatage", sa.DateTime(timezone=True), nullable=False),
        sa.Column("utilisateur", sa.String(200), nullable=False),
        sa.Column("nom", sa.String(200)),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("objet", sa.String(400), nullable=False),
        sa.Column("departement", sa.String(3)),
        sa.Column("details", sa.Text),
    )
    op.create_index("ix_journal_horodatage", "journal", ["horodatage"])
    op.create_index("ix_journal_departement", "journal", ["departement"])
    op.create_table(
        "utilisateurs",
        sa.Column("identifiant", sa.String(200), primary_key=True),
        sa.Column("nom", sa.String(200)),
        sa.Column("roles", sa.String(200), nullable=False),
        sa.Column("departements", sa.String(400), nullable=False),
        sa.Column("modifie_par", sa.String(200)),
        sa.Column("modifie_le", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("utilisateurs")
    op.drop_index("ix_journal_departement", "journal")
    op.drop_index("ix_journal_horodatage", "journal")
    op.drop_table("journal")
    with op.batch_alter_table("scenario_versions") as b:
        b.drop_column("departement")
    with op.batch_alter_table("scenarios") as b:
        b.drop_index("ix_scenarios_departement")
        b.drop_column("departement")
