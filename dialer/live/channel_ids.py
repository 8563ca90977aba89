"""The uniqueids the engine gives the channels it creates, scoped to its database.

Several engines (the tests' private ones, the demo's, production's) may share one Asterisk: a
channel is this engine's only if its uniqueid carries the tag of this engine's database. Customer
calls are `rc-<tag>-call-<attempt id on 12 digits>` (`dial_store.channel_id`: no id may begin
another), agents' phone legs `rc-<tag>-agent-<agent id>-<nonce>`.
The tag is a hash of the database's address (password masked), the same across restarts, so a
restarted engine recognises what its predecessor left in Asterisk and nobody else's.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from campaigns.dial_store import channel_id


@dataclass(frozen=True, slots=True)
class ChannelIds:
    tag: str

    @classmethod
    def for_database(cls, masked_url: str) -> ChannelIds:
        return cls(hashlib.sha1(masked_url.encode()).hexdigest()[:8])

    @property
    def call_prefix(self) -> str:
        return f"rc-{self.tag}-call-"

    @property
    def _agent_prefix(self) -> str:
        return f"rc-{self.tag}-agent-"

    def call(self, attempt_id: int) -> str:
        return channel_id(self.call_prefix, attempt_id)

    def attempt_of(self, uniqueid: str) -> int | None:
        rest = uniqueid.removeprefix(self.call_prefix)
        return int(rest) if rest != uniqueid and rest.isdigit() else None

    def agent_leg(self, agent_id: int) -> str:
        return f"{self._agent_prefix}{agent_id}-{uuid.uuid4().hex[:12]}"

    def agent_of(self, uniqueid: str) -> int | None:
        rest = uniqueid.removeprefix(self._agent_prefix)
        agent, _, nonce = rest.partition("-")
        return int(agent) if rest != uniqueid and agent.isdigit() and nonce else None

    def ours(self, uniqueid: str) -> bool:
        return self.attempt_of(uniqueid) is not None or self.agent_of(uniqueid) is not None
