"""Outbound whitelist (外呼白名单, DIAL-8): a third kind of number-list entry.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

`blocklist_entries.kind` takes `whitelist` next to `dnc` and `blacklist`: numbers (exact or by
prefix, global or for one campaign) that may be dialled beyond the campaign's reach, or the only
ones a `whitelist_only` campaign dials. The kind's CHECK constraint is recreated with the new value.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _kinds(*kinds: str) -> None:
    with op.batch_alter_table("blocklist_entries") as batch:
        batch.drop_constraint(batch.f("ck_blocklist_entries_kind"), type_="check")
        batch.create_check_constraint(
            batch.f("ck_blocklist_entries_kind"), "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"
        )


def upgrade() -> None:
    _kinds("dnc", "blacklist", "whitelist")


def downgrade() -> None:
    op.execute("DELETE FROM blocklist_entries WHERE kind = 'whitelist'")
    _kinds("dnc", "blacklist")
