"""partial index of the running SLA targets in deadline order

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 08:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# As servicelens.sla.models.running_target renders it (queries must match it to use the index).
RUNNING = (
    "due_at IS NOT NULL AND CASE WHEN (state = 'active' OR state = 'breached' AND fulfilled_at IS NULL) "
    "THEN 1 ELSE 0 END = 1"
)


def upgrade() -> None:
    op.create_index(
        "ix_ticket_sla_running_due",
        "ticket_sla",
        ["due_at", "ticket_id"],
        sqlite_where=sa.text(RUNNING),
        postgresql_where=sa.text(RUNNING),
    )


def downgrade() -> None:
    op.drop_index("ix_ticket_sla_running_due", table_name="ticket_sla")
