"""VIP list (贵宾名单, ACD-3): a fourth kind of number-list entry.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05

`blocklist_entries.kind` takes `vip` next to `dnc`, `blacklist` and `whitelist`: numbers (exact or
by prefix, global) whose inbound calls get their flow's `vip_priority`, as customers tagged vip do.
The kind's CHECK constraint is recreated with the new value, as 0003 did for `whitelist`.
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _kinds(*kinds: str) -> None:
    with op.batch_alter_table("blocklist_entries") as batch:
        batch.drop_constraint(batch.f("ck_blocklist_entries_kind"), type_="check")
        batch.create_check_constraint(
            batch.f("ck_blocklist_entries_kind"), "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"
        )


def upgrade() -> None:
    _kinds("dnc", "blacklist", "whitelist", "vip")


def downgrade() -> None:
    op.execute("DELETE FROM blocklist_entries WHERE kind = 'vip'")
    _kinds("dnc", "blacklist", "whitelist")
