"""The live dialer service: campaigns' calls and agents' legs through Asterisk, one event at a time.

It runs a `CampaignRunner` per running campaign (polled from the database), originates the calls
the runners open, and routes every AMI event to the call or agent leg it concerns:

- a customer answered (or AMD said human) → the longest-idle ready agent of the campaign is
  reserved and the customer is Redirected into that agent's conference (its phone leg is already
  there, AGT-2); with no agent, the call waits; `connect_within` after the human was known it is
  abandoned: Redirected to the abandon message, then hung up (DIAL-7);
- a machine → hung up; a hang-up → the attempt is closed (`dial_store.close_attempt`) and the
  agent, if any, goes to wrap-up;
- an agent's leg joined its conference → logged in, ready; the leg gone → logged out (phone_lost).

The agent operations (`login`, `ready`, `pause`, `dispose`, ...) are what the control API calls.
Every state change is persisted through the database thread; the pacer of the call's campaign is
fed each event.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from campaigns import agent_store, campaign_store, dial_store
from campaigns.config import CampaignConfig
from campaigns.dial_store import UNDISPOSED, AttemptResult, OpenedAttempt
from campaigns.persistence.db import Database
from campaigns.persistence.models.enums import AgentState, AmdResult, CallOutcome, DialMode
from dialer.agents.state import (
    AgentStatus,
    AgentStep,
    CancelWrapTimer,
    RescueCall,
    StartWrapTimer,
    Wrap,
)
from dialer.asterisk.ami import AmiError, AmiLink, OriginateRequest
from dialer.asterisk.confgen import (
    ABANDON_CONTEXT,
    ABANDON_MESSAGE_VAR,
    AGENT_CONTEXT,
    AMD_CONTEXT,
    AMD_USER_EVENT,
    BRIDGE_CONTEXT,
    CONF_VAR,
    PARK_CONTEXT,
    TRUNK_ENDPOINT,
)
from dialer.asterisk.events import (
    AmiEvent,
    ChannelCreated,
    ChannelHungUp,
    ConferenceJoined,
    LinkDown,
    LinkUp,
    OriginateFinished,
    UserEventReceived,
)
from dialer.calls.outbound import CallState, OutboundCall
from dialer.live.dbthread import DatabaseThread
from dialer.live.desk import AgentDesk, AgentSession, agent_leg_id, agent_of_leg
from dialer.live.runner import CampaignRunner
from dialer.live.why import DialingFacts, why_not_dialing
from dialer.outcomes import unanswered_outcome
from dialer.pacing import events as pe
from ringcast.errors import UserError

log = logging.getLogger(__name__)

POLL_CAMPAIGNS_S = 1.0
LOGIN_TIMEOUT_S = 30.0
_AMD_RESULTS = {result.value for result in AmdResult}
HANGUP_GRACE_S = 1.0  # a failed dial's Hangup may come after its OriginateResponse, or not at all


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@dataclass
class _Leg:
    """What is known of a channel the dialer created, before and after its call object exists."""

    channel: str | None = None  # Asterisk channel name (Redirect/Hangup need it)
    originate_reason: int | None = None
    hangup_cause: int | None = None
    hangup_text: str = ""
    login: asyncio.Future[None] | None = None
    timers: list[asyncio.TimerHandle] = field(default_factory=list)


class LiveDialer:
    def __init__(self, database: Database, ami: AmiLink) -> None:
        self.database = database
        self.ami = ami
        self.db = DatabaseThread()
        self.desk = AgentDesk()
        self.runners: dict[int, CampaignRunner] = {}
        self.calls: dict[str, OutboundCall] = {}  # by channel id
        self.legs: dict[str, _Leg] = {}  # by channel id: customers and agent legs
        self._by_action: dict[str, str] = {}  # originate ActionID -> channel id
        self._wrap_timers: dict[int, asyncio.TimerHandle] = {}
        self._pending_sessions: dict[int, AgentSession] = {}  # logging in: the phone leg is ringing
        self._supervisor: asyncio.Task[None] | None = None
        self._stopping = False
        ami.subscribe(self._on_event)

    # ---- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        self._supervisor = asyncio.create_task(self._supervise(), name="campaign-supervisor")

    async def stop(self) -> None:
        self._stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.gather(self._supervisor, return_exceptions=True)
        for runner in list(self.runners.values()):
            await runner.stop()
        self.runners.clear()
        self.db.close()

    async def _supervise(self) -> None:
        """Follow the campaigns' states in the database: start and stop runners."""
        while not self._stopping:
            try:
                running = await self.db.run(campaign_store.running_campaigns, self.database)
                await self._sync_runners({c.id: c for c in running})
            except Exception:
                log.exception("could not read the running campaigns; retrying")
            await asyncio.sleep(POLL_CAMPAIGNS_S)

    async def _sync_runners(self, running: dict[int, CampaignConfig]) -> None:
        for campaign_id in list(self.runners):
            if campaign_id not in running:
                runner = self.runners.pop(campaign_id)
                log.info("campaign %s: no longer running, dialing stops", runner.config.name)
                await runner.stop()
        for campaign_id, config in running.items():
            if campaign_id in self.runners or config.dial_mode is DialMode.BROADCAST:
                continue  # broadcast campaigns need no agents: their runner comes with the IVR work
            runner = CampaignRunner(
                config,
                self.database,
                self.db,
                link_up=self.ami.up.is_set,
                agents=lambda cid=campaign_id: len(self.desk.of_campaign(cid)),  # type: ignore[misc]
                launch=self._originate,
            )
            now = time.time()
            for session in self.desk.of_campaign(campaign_id):
                runner.pacer.observe(
                    pe.AgentLoggedIn(now, session.agent_id, max_occupancy=session.max_occupancy)
                )
            self.runners[campaign_id] = runner
            runner.start()
            log.info("campaign %s: running (%s)", config.name, config.dial_mode.value)

    # ---- outbound calls ---------------------------------------------------------------------------

    async def _originate(self, runner: CampaignRunner, opened: OpenedAttempt) -> None:
        config = runner.config
        now = time.time()
        call = OutboundCall(
            opened.attempt_id,
            opened.lead.lead_id,
            config.id,
            opened.channel_id,
            dialed_at=now,
            amd=config.amd,
        )
        action_id = f"rc-orig-{opened.channel_id}"
        self.calls[call.channel_id] = call
        self.legs[call.channel_id] = _Leg()
        self._by_action[action_id] = call.channel_id
        runner.lines.add(call.channel_id)
        runner.pacer.observe(pe.CallDialed(now, call.channel_id))
        variables = {ABANDON_MESSAGE_VAR: config.abandon_message or "vm-goodbye"}
        request = OriginateRequest(
            channel=f"PJSIP/{opened.lead.e164}@{config.trunk or TRUNK_ENDPOINT}",
            context=AMD_CONTEXT if config.amd else PARK_CONTEXT,
            caller_id=config.caller_id,
            timeout_ms=int(config.ring_timeout_s * 1000),
            variables=variables,
            channel_id=call.channel_id,
            action_id=action_id,
        )
        try:
            await self.ami.originate(request)
        except AmiError as exc:
            log.warning("campaign %s: originate of attempt %s failed: %s", config.name, call.attempt_id, exc)
            await self._end_call(call, time.time(), outcome=CallOutcome.CANCELLED, cause_text=str(exc)[:64])

    def _on_event(self, event: AmiEvent) -> Any:
        if isinstance(event, OriginateFinished):
            return self._on_originated(event)
        if isinstance(event, ChannelCreated):
            leg = self.legs.get(event.uniqueid)
            if leg is not None and leg.channel is None:
                leg.channel = event.channel
        elif isinstance(event, UserEventReceived) and event.name == AMD_USER_EVENT:
            return self._on_amd(event)
        elif isinstance(event, ConferenceJoined):
            return self._on_joined(event)
        elif isinstance(event, ChannelHungUp):
            return self._on_hangup(event)
        elif isinstance(event, LinkDown):
            log.warning("AMI link down: dialing paused")
        elif isinstance(event, LinkUp) and event.reconnect:
            return self._after_reconnect()
        return None

    async def _on_originated(self, event: OriginateFinished) -> None:
        channel_id = self._by_action.pop(event.action_id, None)
        if channel_id is None:
            return
        leg = self.legs.get(channel_id)
        if leg is None:
            return
        if event.channel and leg.channel is None:
            leg.channel = event.channel
        leg.originate_reason = event.reason
        agent_id = agent_of_leg(channel_id)
        if agent_id is not None:
            if not event.success and leg.login is not None and not leg.login.done():
                leg.login.set_exception(UserError(f"agent {agent_id}'s phone did not answer"))
            return
        call = self.calls.get(channel_id)
        if call is None:
            return
        if event.success:
            await self._answered(call, event.received_at)
        elif leg.hangup_cause is not None:
            await self._failed(call, event.received_at)
        else:
            loop = asyncio.get_running_loop()
            leg.timers.append(
                loop.call_later(HANGUP_GRACE_S, lambda: asyncio.ensure_future(self._failed_if_up(channel_id)))
            )

    async def _failed_if_up(self, channel_id: str) -> None:
        call = self.calls.get(channel_id)
        if call is not None and call.state is CallState.DIALING:
            await self._failed(call, time.time())

    async def _failed(self, call: OutboundCall, at: float) -> None:
        leg = self.legs[call.channel_id]
        outcome = unanswered_outcome(leg.originate_reason or 0, leg.hangup_cause)
        runner = self.runners.get(call.campaign_id)
        if runner is not None:
            runner.pacer.observe(pe.CallFailed(at, call.channel_id, _fail_result(outcome.value)))
        ended = call.hung_up(at, leg.hangup_cause, outcome)
        await self._finish(ended)

    async def _answered(self, call: OutboundCall, at: float) -> None:
        call = call.answered(at)
        self.calls[call.channel_id] = call
        runner = self.runners.get(call.campaign_id)
        if runner is not None:
            runner.pacer.observe(pe.CallAnswered(at, call.channel_id))
        if call.state is CallState.WAITING:
            await self._connect(call)

    async def _on_amd(self, event: UserEventReceived) -> None:
        call = self.calls.get(event.uniqueid)
        if call is None or call.state is not CallState.DETECTING:
            return
        status = event.fields.get("Status", "").lower()
        result = AmdResult(status) if status in _AMD_RESULTS else AmdResult.NOTSURE
        call = call.verdict(event.received_at, result, event.fields.get("Cause", ""))
        self.calls[call.channel_id] = call
        runner = self.runners.get(call.campaign_id)
        if runner is not None:
            runner.pacer.observe(
                pe.AmdVerdict(event.received_at, call.channel_id, call.state is CallState.WAITING)
            )
        if call.state is CallState.WAITING:
            await self._connect(call)
        else:
            await self._hangup_channel(call.channel_id)

    async def _connect(self, call: OutboundCall) -> None:
        """Give a waiting human to the longest-idle ready agent, or start the abandon clock."""
        runner = self.runners.get(call.campaign_id)
        resting = frozenset(runner.last_decision.resting) if runner and runner.last_decision else frozenset()
        session = self.desk.choose(call.campaign_id, datetime.now(UTC), resting)  # type: ignore[arg-type]
        if session is None:
            delay = max(self._connect_within(call) - call.waited(time.time()), 0.0)
            loop = asyncio.get_running_loop()
            self.legs[call.channel_id].timers.append(
                loop.call_later(
                    delay, lambda: asyncio.ensure_future(self._abandon_if_waiting(call.channel_id))
                )
            )
            return
        now = time.time()
        call = call.reserve(session.agent_id)
        self.calls[call.channel_id] = call
        await self._agent_step(session, session.status.reserve(_utc(now), call.channel_id))
        if runner is not None:
            runner.pacer.observe(pe.CallBridged(now, call.channel_id, session.agent_id))
        leg = self.legs[call.channel_id]
        try:
            await self.ami.redirect(leg.channel or call.channel_id, BRIDGE_CONTEXT, session.conference)
        except AmiError as exc:
            log.warning("could not move %s to agent %s: %s", call.channel_id, session.name, exc)

    def _connect_within(self, call: OutboundCall) -> float:
        runner = self.runners.get(call.campaign_id)
        return runner.config.compliance.connect_within.total_seconds() if runner else 2.0

    async def _abandon_if_waiting(self, channel_id: str) -> None:
        call = self.calls.get(channel_id)
        if call is None or call.state is not CallState.WAITING:
            return
        now = time.time()
        call = call.abandon(now)
        self.calls[channel_id] = call
        runner = self.runners.get(call.campaign_id)
        if runner is not None:
            runner.pacer.observe(pe.CallAbandoned(now, channel_id))
        leg = self.legs[channel_id]
        try:
            await self.ami.redirect(leg.channel or channel_id, ABANDON_CONTEXT)
        except AmiError as exc:
            log.warning("could not play the abandon message to %s: %s", channel_id, exc)
            await self._hangup_channel(channel_id)

    async def _serve_waiting(self, campaign_id: int) -> None:
        """An agent became ready: the longest-waiting human of its campaign goes to it."""
        waiting = [
            c for c in self.calls.values() if c.campaign_id == campaign_id and c.state is CallState.WAITING
        ]
        if waiting:
            await self._connect(min(waiting, key=lambda c: c.human_at or 0.0))
        runner = self.runners.get(campaign_id)
        if runner is not None:
            runner.wake()

    async def _on_joined(self, event: ConferenceJoined) -> None:
        agent_id = agent_of_leg(event.uniqueid)
        if agent_id is not None:
            await self._agent_leg_joined(agent_id, event)
            return
        call = self.calls.get(event.uniqueid)
        if call is None or call.state is not CallState.CONNECTING or call.agent_id is None:
            return
        call = call.joined(event.received_at)
        self.calls[call.channel_id] = call
        session = self.desk.get(call.agent_id)  # type: ignore[arg-type]
        if session is not None:
            session.last_attempt_id = call.attempt_id
            await self._agent_step(session, session.status.bridge(_utc(event.received_at), call.channel_id))

    async def _on_hangup(self, event: ChannelHungUp) -> None:
        leg = self.legs.get(event.uniqueid)
        if leg is None:
            return
        leg.hangup_cause, leg.hangup_text = event.cause, event.cause_text
        agent_id = agent_of_leg(event.uniqueid)
        if agent_id is not None:
            self.legs.pop(event.uniqueid, None)
            await self._agent_leg_gone(agent_id, event.uniqueid, event.received_at)
            return
        call = self.calls.get(event.uniqueid)
        if call is None:
            return
        if call.state is CallState.DIALING:
            if leg.originate_reason is not None:
                await self._failed(call, event.received_at)
            return  # the OriginateResponse will tell
        await self._end_call(call, event.received_at, cause=event.cause, cause_text=event.cause_text)

    async def _end_call(
        self,
        call: OutboundCall,
        at: float,
        *,
        outcome: CallOutcome | None = None,
        cause: int | None = None,
        cause_text: str = "",
    ) -> None:
        runner = self.runners.get(call.campaign_id)
        was = call.state
        ended = call.hung_up(at, cause)
        if outcome is not None:
            ended = replace(ended, outcome=outcome)
        if runner is not None:
            if was is CallState.WAITING:
                runner.pacer.observe(pe.CallAbandoned(at, call.channel_id))
            elif was in (CallState.DIALING, CallState.DETECTING):
                runner.pacer.observe(pe.CallFailed(at, call.channel_id, pe.FailResult.FAILED))
        if call.agent_id is not None:
            session = self.desk.get(call.agent_id)
            if session is not None and session.status.call == call.channel_id:
                if was is CallState.BRIDGED and runner is not None:
                    runner.pacer.observe(pe.TalkEnded(at, call.agent_id))
                await self._agent_step(
                    session, session.status.hangup(_utc(at), call.channel_id, session.wrap)
                )
        await self._finish(ended, cause_text)

    async def _finish(self, call: OutboundCall, cause_text: str = "") -> None:
        """Forget the call and record its attempt."""
        self.calls.pop(call.channel_id, None)
        leg = self.legs.pop(call.channel_id, None)
        for timer in leg.timers if leg else ():
            timer.cancel()
        runner = self.runners.get(call.campaign_id)
        config = await self._config(call.campaign_id)
        if runner is not None:
            runner.lines.discard(call.channel_id)
            runner.wake()
        assert call.outcome is not None and call.ended_at is not None
        result = AttemptResult(
            attempt_id=call.attempt_id,
            outcome=call.outcome,
            answered_at=_utc(call.answered_at) if call.answered_at else None,
            bridged_at=_utc(call.bridged_at) if call.bridged_at else None,
            ended_at=_utc(call.ended_at),
            agent_id=call.agent_id if call.bridged_at else None,
            amd_result=call.amd_result.value if call.amd_result else None,
            amd_cause=call.amd_cause,
            hangup_cause=call.hangup_cause,
            hangup_cause_text=(cause_text or (leg.hangup_text if leg else ""))[:64] or None,
            connect_ms=call.connect_ms,
        )
        await self.db.run(dial_store.close_attempt, self.database, config, result)
        session = self.desk.get(call.agent_id) if call.agent_id is not None else None
        if call.outcome is CallOutcome.ANSWERED and (
            session is None or session.last_attempt_id != call.attempt_id
        ):
            await self._settle_undisposed(call.campaign_id, call.attempt_id)  # its agent is gone

    async def _settle_undisposed(self, campaign_id: int, attempt_id: int) -> None:
        """An answered call that will get no disposition: retried after the rules' `answered` delay."""
        config = await self._config(campaign_id)
        await self.db.run(
            dial_store.dispose_attempt, self.database, config, attempt_id, UNDISPOSED.code, datetime.now(UTC)
        )

    async def _config(self, campaign_id: int) -> CampaignConfig:
        runner = self.runners.get(campaign_id)
        if runner is not None:
            return runner.config
        return await self.db.run(campaign_store.load_campaign_by_id, self.database, campaign_id)

    async def _hangup_channel(self, channel_id: str) -> None:
        leg = self.legs.get(channel_id)
        try:
            await self.ami.hangup(leg.channel if leg and leg.channel else channel_id)
        except AmiError as exc:
            log.info("hang-up of %s: %s", channel_id, exc)

    async def _after_reconnect(self) -> None:
        """Calls and legs that ended while the link was down are closed as Asterisk now reports them."""
        alive = {snapshot.uniqueid for snapshot in await self.ami.channels()}
        now = time.time()
        for channel_id in [c for c in self.legs if c not in alive]:
            await self._on_hangup(
                ChannelHungUp(now, channel_id, "", "", 0, "gone while the AMI link was down")
            )
        for runner in self.runners.values():
            runner.wake()

    # ---- agents -----------------------------------------------------------------------------------

    async def _agent_step(self, session: AgentSession, step: AgentStep) -> None:
        change = self.desk.apply(session, step)
        for command in step.commands:
            if isinstance(command, StartWrapTimer):
                self._arm_wrap_timer(session.agent_id, command.at)
            elif isinstance(command, CancelWrapTimer):
                timer = self._wrap_timers.pop(session.agent_id, None)
                if timer is not None:
                    timer.cancel()
            elif isinstance(command, RescueCall):
                call = self.calls.get(command.call)
                if call is not None and call.state is CallState.CONNECTING:
                    self.calls[call.channel_id] = call.unreserve()
                    await self._connect(self.calls[call.channel_id])
        if change is not None:
            await self.db.run(agent_store.record_agent_change_in, self.database, change, session.campaign_id)
            if change.from_state is AgentState.WRAP_UP and session.last_attempt_id is not None:
                await self._settle_undisposed(session.campaign_id, session.last_attempt_id)
                session.last_attempt_id = None
            if change.to_state is AgentState.READY:
                runner = self.runners.get(session.campaign_id)
                if runner is not None:
                    event: pe.PacingEvent
                    if change.from_state is AgentState.WRAP_UP:
                        event = pe.WrapEnded(change.at.timestamp(), session.agent_id)
                    elif change.from_state is AgentState.NOT_READY:
                        event = pe.AgentResumed(change.at.timestamp(), session.agent_id)
                    else:
                        event = pe.AgentLoggedIn(
                            change.at.timestamp(), session.agent_id, max_occupancy=session.max_occupancy
                        )
                    if change.from_state is not AgentState.RESERVED:
                        runner.pacer.observe(event)
                await self._serve_waiting(session.campaign_id)

    def _arm_wrap_timer(self, agent_id: int, at: datetime) -> None:
        timer = self._wrap_timers.pop(agent_id, None)
        if timer is not None:
            timer.cancel()
        delay = max((at - datetime.now(UTC)).total_seconds(), 0.0)
        loop = asyncio.get_running_loop()
        self._wrap_timers[agent_id] = loop.call_later(
            delay, lambda: asyncio.ensure_future(self._wrap_expired(agent_id))
        )

    async def _wrap_expired(self, agent_id: int) -> None:
        self._wrap_timers.pop(agent_id, None)
        session = self.desk.get(agent_id)
        if session is not None and session.status.state is AgentState.WRAP_UP:
            await self._agent_step(session, session.status.wrap_done(datetime.now(UTC)))

    async def login(self, agent_name: str, campaign_name: str | None = None) -> dict[str, Any]:
        """Call the agent's phone into its own conference; ready once the leg has joined (AGT-2)."""
        agent = await self.db.run(agent_store.load_agent, self.database, agent_name)
        if not agent.active:
            raise UserError(f"agent {agent_name} is deactivated")
        if agent.id in self.desk.sessions or agent.id in self._pending_sessions:
            raise UserError(f"agent {agent_name} is already logged in")
        campaign = self._campaign_for(agent.group_ids, campaign_name)
        nonce = uuid.uuid4().hex[:12]
        channel_id = agent_leg_id(agent.id, nonce)
        leg = _Leg(login=asyncio.get_running_loop().create_future())
        self.legs[channel_id] = leg
        action_id = f"rc-orig-{channel_id}"
        self._by_action[action_id] = channel_id
        self._pending_sessions[agent.id] = AgentSession(
            agent.id,
            agent.name,
            campaign.id,
            AgentStatus.logged_out(agent.id, datetime.now(UTC)),
            Wrap(
                timedelta(seconds=campaign.wrap_up_s) if campaign.wrap_up_s is not None else None,
                timedelta(seconds=campaign.min_wrap_s),
            ),
            max_occupancy=campaign.max_occupancy,
        )
        dial = (
            agent.dial_string if "/" in agent.dial_string else f"PJSIP/{agent.dial_string}@{campaign.trunk}"
        )
        try:
            await self.ami.originate(
                OriginateRequest(
                    channel=dial,
                    context=AGENT_CONTEXT,
                    caller_id=campaign.caller_id,
                    timeout_ms=int(LOGIN_TIMEOUT_S * 1000),
                    variables={CONF_VAR: f"agent-{agent.id}"},
                    channel_id=channel_id,
                    action_id=action_id,
                )
            )
            assert leg.login is not None
            await asyncio.wait_for(leg.login, LOGIN_TIMEOUT_S + 5)
        except (TimeoutError, AmiError, UserError) as exc:
            self.legs.pop(channel_id, None)
            self._pending_sessions.pop(agent.id, None)
            reason = exc if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
            raise UserError(f"agent {agent_name}: login failed, the phone did not join ({reason})") from None
        return self.agent_status(agent.id)

    def _campaign_for(self, group_ids: tuple[int, ...], campaign_name: str | None) -> CampaignConfig:
        candidates = [
            r.config
            for r in self.runners.values()
            if (campaign_name is None or r.config.name == campaign_name)
            and (r.config.agent_group_id is None or r.config.agent_group_id in group_ids)
        ]
        if not candidates:
            what = (
                f"campaign {campaign_name}" if campaign_name else "a running campaign of the agent's groups"
            )
            raise UserError(
                f"no {what} to log in to", hint="start the campaign first (`ringcast campaign start`)"
            )
        return candidates[0]

    async def _agent_leg_joined(self, agent_id: int, event: ConferenceJoined) -> None:
        leg = self.legs.get(event.uniqueid)
        session = self._pending_sessions.pop(agent_id, None)
        if leg is None or session is None:
            return
        leg.channel = event.channel
        session.leg_channel = event.channel
        self.desk.sessions[agent_id] = session
        await self._agent_step(session, session.status.login(_utc(event.received_at)))
        if leg.login is not None and not leg.login.done():
            leg.login.set_result(None)

    async def _agent_leg_gone(self, agent_id: int, channel_id: str, at: float) -> None:
        pending = self._pending_sessions.pop(agent_id, None)
        if pending is not None:
            return
        session = self.desk.get(agent_id)
        if session is None:
            return
        runner = self.runners.get(session.campaign_id)
        if runner is not None:
            runner.pacer.observe(pe.AgentLoggedOut(at, agent_id))
        await self._agent_step(session, session.status.phone_lost(_utc(at)))

    def _session(self, agent_name: str) -> AgentSession:
        for session in self.desk:
            if session.name == agent_name:
                return session
        raise UserError(f"agent {agent_name} is not logged in", hint="`ringcast agent login NAME` first")

    async def logout(self, agent_name: str) -> dict[str, Any]:
        session = self._session(agent_name)
        now = datetime.now(UTC)
        step = session.status.logout(now)
        runner = self.runners.get(session.campaign_id)
        if runner is not None:
            runner.pacer.observe(pe.AgentLoggedOut(now.timestamp(), session.agent_id))
        for channel_id in [c for c in self.legs if agent_of_leg(c) == session.agent_id]:
            self.legs.pop(channel_id, None)
            if session.leg_channel:
                await self._hangup_channel_name(session.leg_channel)
        await self._agent_step(session, step)
        return {"agent": agent_name, "state": AgentState.LOGGED_OUT.value}

    async def _hangup_channel_name(self, channel: str) -> None:
        try:
            await self.ami.hangup(channel)
        except AmiError as exc:
            log.info("hang-up of %s: %s", channel, exc)

    async def ready(self, agent_name: str) -> dict[str, Any]:
        session = self._session(agent_name)
        await self._agent_step(session, session.status.ready(datetime.now(UTC)))
        return self.agent_status(session.agent_id)

    async def pause(self, agent_name: str, reason: str) -> dict[str, Any]:
        session = self._session(agent_name)
        now = datetime.now(UTC)
        was = session.status.state
        await self._agent_step(session, session.status.pause(now, reason))
        runner = self.runners.get(session.campaign_id)
        if runner is not None and was is not AgentState.NOT_READY:
            runner.pacer.observe(pe.AgentPaused(now.timestamp(), session.agent_id))
        return self.agent_status(session.agent_id)

    async def hangup(self, agent_name: str) -> dict[str, Any]:
        """The agent ends the customer's call (AGT-4)."""
        session = self._session(agent_name)
        if session.status.call is None:
            raise UserError(f"agent {agent_name} has no call to hang up")
        await self._hangup_channel(session.status.call)
        return self.agent_status(session.agent_id)

    async def dispose(
        self, agent_name: str, code: str, callback_at: datetime | None = None, ready: bool = True
    ) -> dict[str, Any]:
        """The disposition of the agent's last call (CMP-5), a callback if asked (AGT-4); then ready."""
        session = self._session(agent_name)
        if session.last_attempt_id is None:
            raise UserError(f"agent {agent_name} has no call awaiting a disposition")
        config = await self._config(session.campaign_id)
        state = await self.db.run(
            dial_store.dispose_attempt,
            self.database,
            config,
            session.last_attempt_id,
            code,
            datetime.now(UTC),
            callback_at=callback_at,
            actor=f"agent:{agent_name}",
        )
        session.last_attempt_id = None
        if ready and session.status.state is AgentState.WRAP_UP:
            await self._agent_step(session, session.status.ready(datetime.now(UTC)))
        return self.agent_status(session.agent_id) | {"lead_state": state.value}

    def agent_status(self, agent_id: int) -> dict[str, Any]:
        session = self.desk.get(agent_id)
        if session is None:
            return {"agent_id": agent_id, "state": AgentState.LOGGED_OUT.value}
        status = session.status
        call = self.calls.get(status.call) if status.call else None
        return {
            "agent_id": agent_id,
            "agent": session.name,
            "campaign_id": session.campaign_id,
            "state": status.state.value,
            "since": status.since.isoformat(),
            "reason": status.reason,
            "call": status.call,
            "call_state": call.state.value if call else None,
            "awaiting_disposition": session.last_attempt_id,
        }

    def agents(self) -> list[dict[str, Any]]:
        return [self.agent_status(session.agent_id) for session in self.desk]

    async def why(self, name: str) -> dict[str, Any]:
        """Every reason campaign `name` is not dialing right now (`campaign why`)."""
        config = await self.db.run(campaign_store.load_campaign, self.database, name)
        counts = await self.db.run(dial_store.lead_counts, self.database, config, datetime.now(UTC))
        runner = self.runners.get(config.id)
        decision = runner.last_decision if runner else None
        facts = DialingFacts(
            campaign=name,
            state=config.state.value,
            engine_running=True,
            ami_up=self.ami.up.is_set(),
            agents=self.desk.counts(config.id),
            lines=len(runner.lines) if runner else 0,
            max_lines=config.max_lines,
            hopper=len(runner.hopper) if runner else 0,
            due_leads=counts.due,
            later_leads=counts.later,
            next_due_at=counts.next_due_at,
            refused=dict(runner.refused) if runner else {},
            refused_until=dict(runner.last_refusal_until) if runner else {},
            abandon_rate=runner.pacer.controller.observed_rate if runner else 0.0,
            abandon_cap=config.compliance.abandon_cap,
            launch_bound=decision.bound if decision else None,
        )
        return {"campaign": name, "reasons": why_not_dialing(facts), "leads": counts.by_state}

    def campaign_status(self, name: str) -> dict[str, Any]:
        for runner in self.runners.values():
            if runner.config.name == name:
                sessions = self.desk.of_campaign(runner.id)
                now = datetime.now(UTC)
                return runner.telemetry() | {
                    "running": True,
                    "ami_up": self.ami.up.is_set(),
                    "agents": self.desk.counts(runner.id),
                    "agents_idle_s": {
                        s.name: round((now - s.status.since).total_seconds(), 1)
                        for s in sessions
                        if s.status.state is AgentState.READY
                    },
                }
        return {"campaign": name, "running": False, "ami_up": self.ami.up.is_set()}


def _fail_result(outcome: str) -> pe.FailResult:
    if outcome in ("busy", "no_answer", "invalid"):
        return pe.FailResult(outcome)
    return pe.FailResult.FAILED
