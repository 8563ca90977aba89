"""Post-call surveys (SRV-2): a customer taken into a survey when its agent leaves the call.

The agent ends its call (`agent_left`): a customer whose campaign has a survey (outbound), or a
caller whose queue that served it last has one (inbound), is Redirected into the FastAGI survey
route; any other customer is hung up, and a caller the agent sent into a flow stays in it
(IVR-6). The survey route asks which survey the call is due and for which call its response is
(`entered`): from then on the agent is free (wrap-up), and the agent's call (the outbound attempt,
the inbound call) ends, so that the agent can give its disposition while the customer answers.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from campaigns import dial_store
from campaigns.surveys.responses import SurveyedCall
from dialer.asterisk.confgen import AGI_CONTEXT, AGI_ROUTE_VAR, AGI_URL_VAR, SURVEY_ROUTE
from dialer.calls.outbound import CallState
from dialer.live.attempt_result import attempt_result
from dialer.live.inbound_call import Stage
from dialer.live.surveys import PostCall

if TYPE_CHECKING:
    from dialer.live.service import LiveDialer


class PostCallSurveys:
    def __init__(self, dialer: LiveDialer) -> None:
        self.dialer = dialer
        self._on_the_way: set[str] = set()  # customers Redirected to the survey, not there yet

    def forget(self, channel_id: str) -> None:
        """The channel is gone (`LiveDialer.forget_leg`): it is on its way nowhere."""
        self._on_the_way.discard(channel_id)

    async def agent_left(self, channel_id: str) -> None:
        """The agent ends its call: the customer goes on to the post-call survey if the campaign has
        one (SRV-2), an inbound caller if the queue that served it last has one; else it is hung
        up. A caller the agent sent into a flow stays in it (IVR-6)."""
        if await self.dialer.controls.leave_flow(channel_id):
            return
        if channel_id in self._on_the_way:
            return  # on its way already
        if self.dialer.agi_url is not None and await self._survey_due(channel_id):
            self._on_the_way.add(channel_id)
            variables = {AGI_URL_VAR: self.dialer.agi_url, AGI_ROUTE_VAR: SURVEY_ROUTE}
            await self.dialer.redirect_or_hang_up(channel_id, AGI_CONTEXT, variables=variables)
            return
        await self.dialer.hangup_channel(channel_id)

    async def _survey_due(self, channel_id: str) -> bool:
        """Whether the call with an agent has a post-call survey: its campaign's, its queue's."""
        call = self.dialer.calls.get(channel_id)
        if call is not None:
            return (
                call.state is CallState.BRIDGED
                and (await self.dialer.campaigns.config(call.campaign_id)).survey_id is not None
            )
        return self._inbound_survey(channel_id) is not None

    async def entered(self, channel_id: str) -> PostCall | None:
        """A customer's call reached the survey; which survey, linked to which call (None: none is
        due). After its agent: the agent is free (wrap-up), and the agent's call (an outbound
        attempt, an inbound call) ends here, so that the agent can give its disposition while the
        customer answers the survey (its response is kept apart, linked to that call)."""
        call = self.dialer.calls.get(channel_id)
        if call is None:
            return await self._inbound_entered(channel_id)
        if not call.ivr and call.state is not CallState.BRIDGED:
            return None  # not with an agent (yet, or any more): no survey
        config = await self.dialer.campaigns.config(call.campaign_id)
        if config.survey_id is None:
            return None
        surveyed = SurveyedCall(call.attempt_id, call.agent_id, call.campaign_id)
        if call.ivr:  # a broadcast call, answered into it (its answer may not be told yet)
            return PostCall(config.survey_id, surveyed, config)
        now = time.time()
        self.dialer.calls[channel_id] = call.surveyed()
        await self.dialer.controls.call_ended(channel_id)  # its legs forgotten, its agent unmuted
        await self.dialer.release_agent(call.agent_id, channel_id, now)
        self.dialer.db.submit(dial_store.close_attempt, config, attempt_result(call.hung_up(now, None)))
        return PostCall(config.survey_id, surveyed, config)

    def _inbound_survey(self, channel_id: str) -> int | None:
        """The survey of the queue that served an inbound caller now with its agent, if it has one."""
        call = self.dialer.inbound.calls.get(channel_id)
        if call is None or call.stage is not Stage.TALKING or call.waiting is None:
            return None
        queue = self.dialer.inbound.board.queues.get(call.waiting.queue)
        return queue.survey_id if queue is not None else None

    async def _inbound_entered(self, channel_id: str) -> PostCall | None:
        """An inbound caller after its agent: its queue's survey; its call ends answered here."""
        survey_id = self._inbound_survey(channel_id)
        call = self.dialer.inbound.calls.get(channel_id)
        if survey_id is None or call is None or call.waiting is None:
            return None
        self._on_the_way.discard(channel_id)
        surveyed = SurveyedCall(
            agent_id=call.agent_id, inbound_call_id=call.call_id, queue=call.waiting.queue
        )
        await self.dialer.controls.call_ended(channel_id)
        await self.dialer.inbound.surveyed(call, datetime.now(UTC))
        return PostCall(survey_id, surveyed)
