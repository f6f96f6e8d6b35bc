"""migration_runs, with one row per run of this revision (a second run would add a second row)

Revision ID: 0002
Revises: 0001
"""
import socket

from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    runs = op.create_table(
        "migration_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("revision", sa.String(32), nullable=False),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.bulk_insert(runs, [{"revision": "0002", "hostname": socket.gethostname()}])


def downgrade():
    op.drop_table("migration_runs")
