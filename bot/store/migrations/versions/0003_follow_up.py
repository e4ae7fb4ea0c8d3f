"""follow-up workflow: open -> contacted -> resolved | could_not_reach, with a due time and first contact

Adds stories.follow_up_opened_at, follow_up_due_at (indexed: "overdue first") and
first_contact_at (time to first contact). Old states stay readable: "requested" becomes
"open" (due time from the configured SLA), "done" becomes "resolved" (its followed_up_at is
the first contact).

Revision ID: 0003
Revises: 0002
"""
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_stories = sa.table(
    "stories",
    sa.column("id", sa.Integer), sa.column("score", sa.Integer), sa.column("handoff_requested", sa.Boolean),
    sa.column("updated_at", sa.DateTime), sa.column("ended_at", sa.DateTime),
    sa.column("followed_up_at", sa.DateTime), sa.column("follow_up_state", sa.String),
    sa.column("follow_up_opened_at", sa.DateTime), sa.column("follow_up_due_at", sa.DateTime),
    sa.column("first_contact_at", sa.DateTime),
)


def _sla_hours(score, handoff) -> int:
    from bot import config  # the configured SLA, read at migration time

    return config.follow_up_sla_hours(score, bool(handoff))


def upgrade() -> None:
    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.add_column(sa.Column("follow_up_opened_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("follow_up_due_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("first_contact_at", sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_stories_follow_up_due_at"), ["follow_up_due_at"], unique=False)

    bind = op.get_bind()
    t = _stories.c
    rows = bind.execute(
        sa.select(t.id, t.score, t.handoff_requested, t.updated_at, t.ended_at, t.followed_up_at, t.follow_up_state)
        .where(t.follow_up_state.in_(("requested", "done")))
    ).all()
    for sid, score, handoff, updated_at, ended_at, followed_up_at, state in rows:
        opened = ended_at or updated_at
        if followed_up_at is not None and followed_up_at < opened:
            opened = followed_up_at
        values = {
            "follow_up_opened_at": opened,
            "follow_up_due_at": opened + timedelta(hours=_sla_hours(score, handoff)),
        }
        if state == "requested":
            values["follow_up_state"] = "open"
        else:
            values.update(follow_up_state="resolved", first_contact_at=followed_up_at)
        bind.execute(sa.update(_stories).where(t.id == sid).values(**values))


def downgrade() -> None:
    t = _stories.c
    op.execute(sa.update(_stories).where(t.follow_up_state.in_(("open", "contacted"))).values(follow_up_state="requested"))
    op.execute(sa.update(_stories).where(t.follow_up_state.in_(("resolved", "could_not_reach"))).values(follow_up_state="done"))
    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stories_follow_up_due_at"))
        batch_op.drop_column("first_contact_at")
        batch_op.drop_column("follow_up_due_at")
        batch_op.drop_column("follow_up_opened_at")
