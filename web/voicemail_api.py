"""The control API's voicemail routes (IVR-4), included behind the API token by `web.api`.

`GET /agents/NAME/voicemail`: the agent's unheard messages (its own box and its queues' boxes,
those it has not marked heard), newest first. `POST /agents/NAME/voicemail/ID/heard`: the agent
has heard message ID (one of its boxes'; audited as `agent:NAME`): off its own list, still on the
other agents' of the box. The engine also tells the agent of each new message on its event stream
(`voicemail` events, `dialer.live.inbound_acd`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter

from campaigns import voicemail_store
from campaigns.compliance.blocklist_store import Change
from dialer.live.service import LiveDialer


def voicemail_routes(dialer: LiveDialer) -> APIRouter:
    routes = APIRouter()

    @routes.get("/agents/{name}/voicemail")
    async def unheard(name: str) -> list[dict[str, Any]]:
        return await dialer.db.run(voicemail_store.unheard_for, dialer.database, name)

    @routes.post("/agents/{name}/voicemail/{message_id}/heard")
    async def heard(name: str, message_id: int) -> dict[str, Any]:
        change = Change(f"agent:{name}", datetime.now(UTC))
        return await dialer.db.run(
            voicemail_store.mark_heard, dialer.database, message_id, change, agent=name
        )

    return routes
