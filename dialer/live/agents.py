"""The agents' side of the live dialer: what agents do (the control API's operations), what befalls them.

`AgentService` logs agents in by calling their phone into their own conference (AGT-2), or, for
an agent in ring mode (ACD-6), at once: its phone is called for each inbound call
(`inbound_ringing`), so it takes inbound calls only and its campaign's pacer does not count it.
An agent logs in to a running campaign, or inbound-only (no campaign: no pacer counts it, no
outbound call goes to it; after an inbound call it wraps up until it says ready, `INBOUND_WRAP`).
A blended agent (a member of an inbound queue) is told to its campaign's pacer as such. It
applies every state change (`step`: persisted to the state log, wrap-up timers armed, the pacer
told via `agent_pacing`, the inbound ACD's board kept current, the agent's screen told via
`screen_feed` (AGT-3), a waiting caller served when an agent becomes ready: inbound first),
reserves agents for the inbound calls the ACD offers them, sets not ready those whose phone let a
call ring out, and carries out the agent's requests: ready, pause with a reason, hang up,
disposition and callback (CMP-5, AGT-4), preview (DIAL-1: take the next lead, then dial or skip
it) and click-to-call (DIAL-2: the agent's phone is already up, so the customer is dialled for the
agent). An agent's status shows what the ACD knows of its inbound call
(`InboundAcd.screen_pop`). Calls themselves belong to `service.LiveDialer`, which owns this object.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from campaigns import agent_store, dial_store, hopper
from campaigns.config import CampaignConfig
from campaigns.dial_store import AttemptResult, RefusedLead
from campaigns.hopper import QueuedLead
from campaigns.numbers import typed_number
from campaigns.persistence.models.enums import AgentState, CallOutcome
from dialer.agents.state import AgentStatus, AgentStep, CancelWrapTimer, RescueCall, StartWrapTimer, Wrap
from dialer.asterisk.ami import AmiError, OriginateRequest
from dialer.asterisk.confgen import AGENT_CONTEXT, CONF_VAR, TRUNK_ENDPOINT
from dialer.asterisk.events import ConferenceJoined
from dialer.live.agent_pacing import pacer_events
from dialer.live.desk import INBOUND_ONLY, AgentSession, for_outbound
from dialer.live.instants import utc
from dialer.pacing import events as pe
from ringcast.errors import UserError

if TYPE_CHECKING:
    from dialer.live.service import LiveDialer

log = logging.getLogger(__name__)

LOGIN_TIMEOUT_S = 30.0
SKIPPED_LEAD_BACK_AFTER = timedelta(minutes=30)  # a lead an agent skipped in preview
PREVIEW = "preview"  # the pause reason while an agent looks at a lead
MANUAL_CALL = "manual call"  # the pause reason while an agent's click-to-call is checked
CALLBACK = "own callback"  # the pause reason while an agent's own due callback is checked (CB-1)
INBOUND_WRAP = Wrap()  # an inbound-only agent's: no timer, it says when it is ready


@dataclass
class _Login:
    session: AgentSession
    leg_id: str
    joined: asyncio.Future[None]


class AgentService:
    def __init__(self, dialer: LiveDialer) -> None:
        self.dialer = dialer
        self.desk = dialer.desk
        self._logins: dict[int, _Login] = {}  # the phone leg is ringing
        self._wrap_timers: dict[int, asyncio.TimerHandle] = {}
        self._held: set[int] = set()  # paused for the pacer during a call of their own
        self._previews: dict[int, QueuedLead] = {}  # lead each previewing agent holds
        self._dialing: set[int] = set()  # agents whose own call is being checked (preview, click-to-call)

    # ---- every state change -----------------------------------------------------------------------

    async def step(self, session: AgentSession, step: AgentStep, serve: bool = True) -> None:
        """Apply a transition: persist it, carry out its commands, tell the pacer, serve waiting calls
        (unless not to `serve`: the agent passes through ready on its way elsewhere)."""
        before = session.status
        change = self.desk.apply(session, step)
        self.dialer.inbound.agent_changed(session)
        if change is not None:
            self.dialer.screen.stepped(session, before, change)
        for command in step.commands:
            if isinstance(command, StartWrapTimer):
                self._arm_wrap_timer(session.agent_id, command.at)
            elif isinstance(command, CancelWrapTimer):
                self._cancel_wrap_timer(session.agent_id)
            elif isinstance(command, RescueCall):
                await self.dialer.rescue(command.call)
        if change is None:
            return
        dialer = self.dialer
        dialer.db.submit(agent_store.record_agent_change, change, session.campaign)
        runner = dialer.runners.get(session.campaign_id)
        held = session.agent_id in self._held
        if runner is not None and not session.ring_mode:
            min_wrap_s = session.wrap.minimum.total_seconds()
            occupancy = session.max_occupancy
            blended = bool(dialer.inbound.board.seats(session.agent_id))
            for event in pacer_events(
                change, held=held, max_occupancy=occupancy, min_wrap_s=min_wrap_s, blended=blended
            ):
                runner.observe(event)
        if held and change.to_state in (AgentState.READY, AgentState.LOGGED_OUT):
            self._held.discard(session.agent_id)
        if change.from_state is AgentState.WRAP_UP and session.last_attempt_id is not None:
            dialer.settle_undisposed(session.campaign_id, session.last_attempt_id)
            session.last_attempt_id = None
        if change.to_state is AgentState.LOGGED_OUT:
            await self._give_back_preview(session.agent_id)
        if change.to_state is AgentState.READY and serve:
            await dialer.serve_waiting(session)

    async def take_inbound(self, session: AgentSession, channel_id: str, at: datetime) -> None:
        """Reserve the agent for the inbound call the ACD offers it; its campaign's pacer counts it
        away from outbound until its talk and wrap-up end (`InboundTaken`)."""
        runner = self.dialer.runners.get(session.campaign_id)
        if runner is not None and not session.ring_mode:
            runner.observe(pe.InboundTaken(at.timestamp(), session.agent_id))
        await self.step(session, session.status.reserve(at, channel_id))

    async def set_not_ready(self, session: AgentSession, reason: str, at: datetime) -> None:
        """Not ready with `reason`, as the ACD says (a phone that let a call ring out, ACD-6). An agent
        still reserved for that call first goes back to ready (the state machine's way out of a
        reservation the call never reached), without being offered another call on the way."""
        status = session.status
        if status.state is AgentState.RESERVED and status.call is not None:
            await self.step(session, status.hangup(at, status.call, session.wrap), serve=False)
        if session.status.state in (AgentState.READY, AgentState.NOT_READY, AgentState.WRAP_UP):
            await self.step(session, session.status.pause(at, reason))

    def _arm_wrap_timer(self, agent_id: int, at: datetime) -> None:
        self._cancel_wrap_timer(agent_id)
        delay = max((at - datetime.now(UTC)).total_seconds(), 0.0)
        loop = asyncio.get_running_loop()
        self._wrap_timers[agent_id] = loop.call_later(
            delay, lambda: self.dialer.in_background(self._wrap_expired(agent_id))
        )

    def _cancel_wrap_timer(self, agent_id: int) -> None:
        timer = self._wrap_timers.pop(agent_id, None)
        if timer is not None:
            timer.cancel()

    async def _wrap_expired(self, agent_id: int) -> None:
        self._wrap_timers.pop(agent_id, None)
        session = self.desk.get(agent_id)
        if session is not None and session.status.state is AgentState.WRAP_UP:
            now = datetime.now(UTC)  # never before the minimum wrap-up, which the timer may beat by a hair
            at = max(now, session.status.ready_from) if session.status.ready_from else now
            await self.step(session, session.status.wrap_done(at))

    # ---- the phone leg ----------------------------------------------------------------------------

    async def login(
        self, agent_name: str, campaign_name: str | None = None, *, inbound_only: bool = False
    ) -> dict[str, Any]:
        """Call the agent's phone into its own conference; ready once the leg has joined (AGT-2).
        `inbound_only`: to no campaign, for the calls of the agent's queues alone."""
        dialer = self.dialer
        if inbound_only and campaign_name is not None:
            raise UserError(f"agent {agent_name}: log in to {campaign_name} or inbound-only, not both")
        agent = await dialer.db.run(agent_store.load_agent, dialer.database, agent_name)
        if not agent.active:
            raise UserError(f"agent {agent_name} is deactivated")
        if agent.id in self.desk.sessions or agent.id in self._logins:
            raise UserError(f"agent {agent_name} is already logged in")
        status = AgentStatus.logged_out(agent.id, datetime.now(UTC))
        trunk = TRUNK_ENDPOINT
        if inbound_only:
            session = AgentSession(agent.id, agent.name, INBOUND_ONLY, status, INBOUND_WRAP)
        else:
            campaign = dialer.campaigns.campaign_for(agent.group_ids, campaign_name)
            wrap = Wrap(
                timedelta(seconds=campaign.wrap_up_s) if campaign.wrap_up_s is not None else None,
                timedelta(seconds=campaign.min_wrap_s),
            )
            session = AgentSession(agent.id, agent.name, campaign.id, status, wrap, campaign.max_occupancy)
            if campaign.announce_agent_number:
                session.announce = agent.agent_number
            trunk = campaign.trunk or trunk
            session.caller_id = campaign.caller_id
        dial = agent.dial_string if "/" in agent.dial_string else f"PJSIP/{agent.dial_string}@{trunk}"
        if agent.ring_mode:  # its phone is called for each inbound call: ready now
            session.ring_phone = dial
            self.desk.sessions[agent.id] = session
            await self.step(session, session.status.login(datetime.now(UTC)))
            return self.status(agent.id)
        channel_id = dialer.channel_ids.agent_leg(agent.id)
        session.leg_id = channel_id
        login = _Login(session, channel_id, asyncio.get_running_loop().create_future())
        self._logins[agent.id] = login
        request = OriginateRequest(
            channel=dial,
            context=AGENT_CONTEXT,
            caller_id=session.caller_id,
            timeout_ms=int(LOGIN_TIMEOUT_S * 1000),
            variables={CONF_VAR: session.conference},
            channel_id=channel_id,
        )
        try:
            await dialer.originate_leg(request)
            await asyncio.wait_for(login.joined, LOGIN_TIMEOUT_S + 5)
        except (TimeoutError, AmiError, UserError) as exc:
            self._logins.pop(agent.id, None)
            dialer.forget_leg(channel_id)
            await dialer.hangup_channel(channel_id)
            reason = exc if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
            raise UserError(f"agent {agent_name}: login failed, the phone did not join ({reason})") from None
        return self.status(agent.id)

    def leg_failed(self, agent_id: int) -> None:
        """The login call was not answered."""
        login = self._logins.get(agent_id)
        if login is not None and not login.joined.done():
            login.joined.set_exception(UserError(f"agent {agent_id}'s phone did not answer"))

    async def leg_joined(self, agent_id: int, event: ConferenceJoined) -> None:
        login = self._logins.pop(agent_id, None)
        if login is None:
            return
        session = login.session
        session.leg_channel = event.channel
        self.desk.sessions[agent_id] = session
        await self.step(session, session.status.login(utc(event.received_at)))
        if not login.joined.done():
            login.joined.set_result(None)

    async def leg_gone(self, agent_id: int, leg_id: str, at: float) -> None:
        """The agent's phone leg hung up: logged out at once (a call in hand is rescued or ends).
        The hang-up of an earlier leg (a late event after a logout and a new login) changes nothing."""
        login = self._logins.get(agent_id)
        if login is not None and login.leg_id == leg_id and not login.joined.done():
            login.joined.set_exception(UserError("the phone hung up before joining"))
            return
        session = self.desk.get(agent_id)
        if session is not None and session.leg_id == leg_id:
            await self.step(session, session.status.phone_lost(utc(at)))

    # ---- what agents ask --------------------------------------------------------------------------

    def session(self, agent_name: str) -> AgentSession:
        for session in self.desk:
            if session.name == agent_name:
                return session
        raise UserError(f"agent {agent_name} is not logged in", hint="`ringcast agent login NAME` first")

    async def logout(self, agent_name: str) -> dict[str, Any]:
        session = self.session(agent_name)
        await self.step(session, session.status.logout(datetime.now(UTC)))
        if session.leg_channel:
            await self.dialer.hangup_channel_named(session.leg_channel)
        return {"agent": agent_name, "state": AgentState.LOGGED_OUT.value}

    async def ready(self, agent_name: str) -> dict[str, Any]:
        session = self.session(agent_name)
        if session.agent_id in self._previews:
            raise UserError(f"agent {agent_name} holds a preview lead: dial it or skip it first")
        self._not_placing_a_call(session)
        await self.step(session, session.status.ready(datetime.now(UTC)))
        return self.status(session.agent_id)

    async def pause(self, agent_name: str, reason: str) -> dict[str, Any]:
        session = self.session(agent_name)
        self._not_placing_a_call(session)
        await self.step(session, session.status.pause(datetime.now(UTC), reason))
        return self.status(session.agent_id)

    def _not_placing_a_call(self, session: AgentSession) -> None:
        if session.agent_id in self._dialing:
            raise UserError(f"agent {session.name} is placing a call: wait a moment")

    async def hangup(self, agent_name: str) -> dict[str, Any]:
        """The agent ends the customer's call (AGT-4)."""
        session = self.session(agent_name)
        if session.status.call is None:
            raise UserError(f"agent {agent_name} has no call to hang up")
        if not await self.dialer.controls.thirds.consulted_hangs_up(session):  # consulted: it leaves alone
            await self.dialer.post_call.agent_left(session.status.call)
        return self.status(session.agent_id)

    async def dispose(
        self,
        agent_name: str,
        code: str,
        callback_at: datetime | None = None,
        ready: bool = True,
        personal: bool = False,
    ) -> dict[str, Any]:
        """The disposition of the agent's last call (CMP-5), a callback if asked (AGT-4); then ready."""
        session = self.session(agent_name)
        if session.last_attempt_id is None or session.status.call is not None:
            raise UserError(f"agent {agent_name} has no ended call awaiting a disposition")
        dialer = self.dialer
        config = await dialer.campaigns.config(session.campaign_id)
        state = await dialer.db.run(
            dial_store.dispose_attempt,
            dialer.database,
            config,
            session.last_attempt_id,
            code,
            datetime.now(UTC),
            callback_at=callback_at,
            personal=personal,
            actor=f"agent:{agent_name}",
        )
        session.last_attempt_id = None
        if ready and session.status.state is AgentState.WRAP_UP:
            await self.step(session, session.status.ready(datetime.now(UTC)))
        return self.status(session.agent_id) | {"lead_state": state.value}

    # ---- preview (DIAL-1) and click-to-call (DIAL-2) ----------------------------------------------

    async def preview(self, agent_name: str) -> dict[str, Any]:
        """The next lead of the agent's campaign, held for the agent (paused meanwhile) until dial or skip."""
        session = self.session(agent_name)
        self._check_dials_outbound(session)
        if session.agent_id in self._previews:
            lead = self._previews[session.agent_id]
        else:
            if session.status.state is not AgentState.READY:
                raise UserError(f"agent {agent_name} is {session.status.state.value}: be ready to preview")
            runner = self.dialer.runners.get(session.campaign_id)
            if runner is None:
                raise UserError(f"agent {agent_name}'s campaign is not running")
            if session.agent_id in runner.kept_for_inbound:
                raise UserError(f"agent {agent_name} is kept free for inbound calls (the campaign's reserve)")
            await self.step(session, session.status.pause(datetime.now(UTC), PREVIEW))  # no routed call now
            taken = await runner.take_one()
            if taken is None:
                await self.step(session, session.status.ready(datetime.now(UTC)))
                raise UserError("no lead of the campaign is due now (`ringcast campaign why`)")
            lead = self._previews[session.agent_id] = taken
        dialer = self.dialer
        return await dialer.db.run(hopper.lead_card, dialer.database, lead.lead_id)

    async def skip(self, agent_name: str) -> dict[str, Any]:
        """Do not call the previewed lead now: it comes back later; the agent is ready."""
        session = self.session(agent_name)
        lead = self._previews.pop(session.agent_id, None)
        if lead is None:
            raise UserError(f"agent {agent_name} holds no preview lead")
        dialer = self.dialer
        back = datetime.now(UTC) + SKIPPED_LEAD_BACK_AFTER
        await dialer.db.run(hopper.give_back, dialer.database, [lead], back, hold_callbacks=True)
        await self.step(session, session.status.ready(datetime.now(UTC)))
        return self.status(session.agent_id)

    async def dial_preview(self, agent_name: str) -> dict[str, Any]:
        session = self.session(agent_name)
        lead = self._previews.pop(session.agent_id, None)
        if lead is None:
            raise UserError(f"agent {agent_name} holds no preview lead", hint="ask for one with preview")
        try:
            return await self._dial_for(session, lead)  # from the preview pause: nobody else gets the agent
        except UserError:
            await self.step(session, session.status.ready(datetime.now(UTC)))
            raise

    async def click_to_call(self, agent_name: str, number: str) -> dict[str, Any]:
        """Dial `number` for the agent, whose phone is already in its conference (DIAL-2)."""
        session = self.session(agent_name)
        self._check_dials_outbound(session)
        if session.status.state is not AgentState.READY:
            raise UserError(f"agent {agent_name} is {session.status.state.value}: be ready to place a call")
        dialer = self.dialer
        typed = typed_number(number, dialer.default_region)
        e164, zones = typed.e164, typed.zones
        now = datetime.now(UTC)
        await self.step(session, session.status.pause(now, MANUAL_CALL))  # no routed call meanwhile
        try:
            config = await dialer.campaigns.config(session.campaign_id)
            lead = await dialer.db.run(hopper.manual_lead, dialer.database, config, e164, zones, now)
            return await self._dial_for(session, lead)
        except UserError:
            await self.step(session, session.status.ready(datetime.now(UTC)))
            raise

    async def serve_own_callbacks(self, config: CampaignConfig) -> None:
        """Dial each ready agent's own due callback for it (CB-1); past the campaign's grace period an
        unserved one goes to any agent (`hopper.take_leads`)."""
        dialer = self.dialer
        ids = [session.agent_id for session in self._free(config.id)]
        if not ids:
            return
        now = datetime.now(UTC)
        due = await dialer.db.run(hopper.agents_with_own_due_callbacks, dialer.database, config, ids, now)
        ready = [session for session in self._free(config.id) if session.agent_id in due]  # still free
        if not ready:
            return
        for session in ready:  # paused while its callback is taken: no routed call meanwhile
            await self.step(session, session.status.pause(now, CALLBACK))
        ids = [session.agent_id for session in ready]
        taken = await dialer.db.run(hopper.personal_callbacks, dialer.database, config, ids, now)
        for session in ready:
            lead = taken.get(session.agent_id)
            if self.desk.get(session.agent_id) is not session:  # logged out meanwhile
                if lead is not None:
                    await dialer.db.run(hopper.give_back, dialer.database, [lead], now, hold_callbacks=True)
                continue
            if lead is None:
                await self.step(session, session.status.ready(datetime.now(UTC)))
                continue
            try:
                await self._dial_for(session, lead)
            except UserError as refused:
                log.info("agent %s: own callback to %s not placed: %s", session.name, lead.e164, refused)
                await self.step(session, session.status.ready(datetime.now(UTC)))

    def _free(self, campaign_id: int) -> list[AgentSession]:
        """The campaign's ready agents an own callback may be dialled for: not placing a call, not
        kept free for inbound calls."""
        runner = self.dialer.runners.get(campaign_id)
        kept = runner.kept_for_inbound if runner is not None else frozenset()
        ready = [s for s in self.desk.of_campaign(campaign_id) if s.status.state is AgentState.READY]
        return for_outbound(ready, self._dialing | kept)

    @staticmethod
    def _check_dials_outbound(session: AgentSession) -> None:
        if session.inbound_only:
            raise UserError(
                f"agent {session.name} is logged in inbound-only: it places no outbound calls",
                hint=f"log out, then `ringcast agent login {session.name} --campaign NAME`",
            )
        if session.ring_mode:
            raise UserError(
                f"agent {session.name} is in ring mode: it takes inbound calls only",
                hint=f"`ringcast agent update {session.name} --persistent` while logged out",
            )

    async def _dial_for(self, session: AgentSession, lead: QueuedLead) -> dict[str, Any]:
        """Check and dial `lead` with `session`'s agent reserved for it (the pacer counts it paused).

        The agent is paused (on its preview, or for its manual call) from before the first await to
        its reservation, so the dialer routes no other call to it, and it may neither go ready nor
        pause meanwhile; if its phone went away during the check, the attempt is given back."""
        dialer = self.dialer
        self._dialing.add(session.agent_id)
        try:
            config = await dialer.campaigns.config(session.campaign_id)
            now = datetime.now(UTC)
            [result] = await dialer.db.run(
                dial_store.open_attempts,
                dialer.database,
                config,
                [lead],
                now,
                channel_prefix=dialer.channel_ids.call_prefix,
                agent_reserved=True,
            )
        finally:
            self._dialing.discard(session.agent_id)
        if isinstance(result, RefusedLead):
            verdict = result.verdict
            until = f" until {verdict.until.isoformat(timespec='minutes')}" if verdict.until else ""
            raise UserError(f"{lead.e164} may not be called now: {verdict.reason.value}{until}")
        if self.desk.get(session.agent_id) is not session:  # logged out meanwhile
            given_back = AttemptResult(
                result.attempt_id, CallOutcome.CANCELLED, None, None, datetime.now(UTC)
            )
            dialer.db.submit(dial_store.close_attempt, config, given_back)
            raise UserError(f"agent {session.name} logged out before the call could be placed")
        self._held.add(session.agent_id)  # the pacer, told of the pause, counts it out until ready
        await self.step(session, session.status.reserve(now, result.channel_id))
        await dialer.originate_call(config, result, session)
        return self.status(session.agent_id) | {"lead_id": lead.lead_id, "e164": lead.e164}

    async def _give_back_preview(self, agent_id: int) -> None:
        lead = self._previews.pop(agent_id, None)
        if lead is not None:
            dialer = self.dialer
            await dialer.db.run(hopper.give_back, dialer.database, [lead], datetime.now(UTC))

    # ---- views ------------------------------------------------------------------------------------

    def status(self, agent_id: int) -> dict[str, Any]:
        session = self.desk.get(agent_id)
        if session is None:
            return {"agent_id": agent_id, "state": AgentState.LOGGED_OUT.value}
        status = session.status
        call = self.dialer.calls.get(status.call) if status.call else None
        preview = self._previews.get(agent_id)
        return {
            "agent_id": agent_id,
            "agent": session.name,
            "campaign_id": session.campaign,
            "inbound_only": session.inbound_only,
            "state": status.state.value,
            "since": status.since.isoformat(),
            "reason": status.reason,
            "call": status.call,
            "call_state": call.state.value if call else None,
            "awaiting_disposition": session.last_attempt_id,
            "preview_lead": preview.lead_id if preview else None,
            "ring_mode": session.ring_mode,
            "inbound": self.dialer.inbound.screen_pop(status.call) if status.call else None,
            "legs": self.dialer.controls.legs_of(status.call),
        }

    def customer_attempt(self, agent_name: str) -> int:
        """The attempt of the customer on the agent's screen: its call now, else the one awaiting its
        disposition (for what the agent does from the customer record: an SMS, SMS-4)."""
        session = self.session(agent_name)
        call = self.dialer.calls.get(session.status.call) if session.status.call else None
        attempt_id = call.attempt_id if call is not None else session.last_attempt_id
        if attempt_id is None:
            raise UserError(f"agent {agent_name} has no customer on screen (no call, none to dispose of)")
        return attempt_id

    def all(self) -> list[dict[str, Any]]:
        return [self.status(session.agent_id) for session in self.desk]
