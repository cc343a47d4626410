"""ticket status list index covers the list count

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 08:10:00
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_tickets_status_list", "tickets", ["status", "created_at", "priority", "is_deleted", "merged_into_id"]
    )
    op.drop_index("ix_tickets_status_created", table_name="tickets")


def downgrade() -> None:
    op.create_index("ix_tickets_status_created", "tickets", ["status", "created_at"])
    op.drop_index("ix_tickets_status_list", table_name="tickets")
