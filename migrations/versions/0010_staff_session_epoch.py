"""The generation of each staff member's sessions (`staff_users.session_epoch`): a session cookie
carries the one it was started under, and bumping it (logout, disabling, a new password,
two-factor turned off) ends every session of theirs server-side.

Existing members start at 0; cookies made before this revision carry none and are refused, so
everyone logs in once more after the upgrade.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch: one path for SQLite and PostgreSQL, as 0008 and 0009.
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(
            sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("session_epoch")
