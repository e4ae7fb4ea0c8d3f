"""index stories (started_at, score): the dashboard's NPS trend reads it from the index

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_stories_started_score", "stories", ["started_at", "score"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_stories_started_score", table_name="stories")
