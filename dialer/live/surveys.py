"""Keypress surveys as a FastAGI application (SRV-1, SRV-2, DIAL-5, IVR-2): one respondent per session.

Asterisk runs route `survey` for a customer's call: a broadcast campaign's answered call, the
customer after the agent (post-call), or an inbound caller after the agent. The handler asks the
dialer which call it is (`PostCallSurveys.entered`: its survey, the call the response is linked
to, an outbound one's campaign), takes that survey (loaded once per version, its text prompts
rendered then, `RenderOnce`), and drives the pure `SurveySession`; at its end the call is hung up.
An IVR flow's survey node asks its survey the same way inside the flow's own FastAGI session
(`ask_named`, from `InboundFlows`), and the flow goes on after it instead of hanging up.

- `Say` is queued and played before the next question (the intro, the invalid-input message), or
  at the end (the closing);
- `Ask` plays what is queued and the question with every key able to interrupt it (a respondent
  who knows the answer need not listen to the end), then waits the question's timeout for a key;
  the key, or None, goes back to the session;
- `Record` is written at once through the database thread (`campaigns.surveys.responses`);
- `Finish` closes the response (complete or not) before the closing plays, then hangs up (a
  flow's survey: goes back to the flow).

A hang-up anywhere closes the response as partial, with the answers given so far.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from campaigns.config import CampaignConfig
from campaigns.surveys.document import Prompt, Survey
from campaigns.surveys.responses import (
    ResponseRef,
    SurveyedCall,
    end_response,
    open_response,
    record_answer,
)
from campaigns.surveys.session import Ask, Command, Finish, Record, Say, SurveySession
from campaigns.surveys.store import StoredSurvey, load_survey, load_survey_named
from dialer.asterisk.fastagi import AgiCall
from dialer.asterisk.rendering import RenderOnce
from ringcast.errors import UserError

if TYPE_CHECKING:
    from dialer.live.service import LiveDialer

log = logging.getLogger(__name__)

ANY_KEY = "0123456789*#"
RELOAD_S = 10.0  # how long a loaded survey is used before its version is looked at again


@dataclass(frozen=True, slots=True)
class _Loaded:
    stored: StoredSurvey
    at: float


@dataclass(frozen=True, slots=True)
class PostCall:
    """A call entering its survey (`PostCallSurveys.entered`): which survey, the call its response
    is linked to, and an outbound call's campaign (its follow-ups)."""

    survey_id: int
    call: SurveyedCall
    campaign: CampaignConfig | None = None


class SurveyCalls:
    def __init__(self, dialer: LiveDialer, rendered: RenderOnce) -> None:
        self.dialer = dialer
        self.rendered = rendered
        self.prompts = rendered.library
        self._surveys: dict[int, _Loaded] = {}
        self._ids: dict[str, int] = {}  # by name: a survey keeps its name and id
        self._loading: dict[int, asyncio.Lock] = {}

    async def handle(self, agi: AgiCall) -> None:
        post = await self.dialer.post_call.entered(agi.uniqueid)
        if post is None:
            log.info(
                "no survey for %s (not a call this engine follows, or none is due): hung up", agi.uniqueid
            )
            await agi.hangup()
            return
        stored = await self._survey(post.survey_id)
        await self._respond(agi, stored, post.call, post.campaign, hang_up=True)

    async def ask_named(self, agi: AgiCall, name: str, call: SurveyedCall) -> None:
        """Ask survey `name` on a call in an IVR flow (its response linked to `call`); back to the
        flow at its end. A survey that cannot be loaded is skipped (logged)."""
        survey_id = self._ids.get(name)
        if survey_id is None:
            dialer = self.dialer
            try:
                stored = await dialer.db.run(load_survey_named, dialer.database, name)
            except UserError as exc:
                log.error("flow survey %s not asked: %s", name, exc)
                return
            survey_id = self._ids[name] = stored.id
        await self._respond(agi, await self._survey(survey_id), call, None, hang_up=False)

    async def _respond(
        self,
        agi: AgiCall,
        stored: StoredSurvey,
        call: SurveyedCall,
        campaign: CampaignConfig | None,
        *,
        hang_up: bool,
    ) -> None:
        """Open the response, drive the session, close the response (partial on a hang-up)."""
        ref = ResponseRef(stored.id, stored.version, call)
        self.dialer.db.submit(open_response, ref, datetime.now(UTC))
        finished = False
        try:
            finished = await self._run(agi, stored.survey, ref, campaign, hang_up)
        finally:
            if not finished:  # hung up before the end: the answers so far stay, partial
                self.dialer.db.submit(end_response, ref, datetime.now(UTC), complete=False)

    async def _run(
        self, agi: AgiCall, survey: Survey, ref: ResponseRef, campaign: CampaignConfig | None, hang_up: bool
    ) -> bool:
        """Drive the respondent's session to its end; True once the response is closed."""
        session = SurveySession(survey)
        questions = {question.id: question for question in survey.questions}
        queued: list[Prompt] = []
        commands: deque[Command] = deque(session.start())
        while commands:
            command = commands.popleft()
            if isinstance(command, Say):
                queued.append(command.prompt)
            elif isinstance(command, Ask):
                key = await self._ask(agi, [*queued, command.prompt], command.timeout_s, survey.language)
                queued.clear()
                commands.extend(session.on_key(key))
            elif isinstance(command, Record):
                at = datetime.now(UTC)
                self.dialer.db.submit(record_answer, ref, command, questions[command.question], campaign, at)
            elif isinstance(command, Finish):
                self.dialer.db.submit(end_response, ref, datetime.now(UTC), complete=command.complete)
                for prompt in queued:  # the closing
                    await agi.stream_file(self.prompts.sound(prompt, survey.language))
                if hang_up:
                    await agi.hangup()
                return True
        return False

    async def _ask(self, agi: AgiCall, prompts: list[Prompt], timeout_s: float, language: str) -> str | None:
        """Play `prompts`, any key interrupting them, then wait for a key; the key, or None."""
        for prompt in prompts:
            key = await agi.stream_file(self.prompts.sound(prompt, language), ANY_KEY)
            if key is not None:
                return key
        return await agi.wait_for_digit(round(timeout_s * 1000))

    async def _survey(self, survey_id: int) -> StoredSurvey:
        """The survey as stored, its prompts rendered; one session loads it, the others wait for it."""
        async with self._loading.setdefault(survey_id, asyncio.Lock()):
            loaded = self._surveys.get(survey_id)
            if loaded is None or time.monotonic() - loaded.at > RELOAD_S:
                database = self.dialer.database
                stored = await self.dialer.db.run(database.in_transaction, load_survey, survey_id)
                loaded = self._surveys[survey_id] = _Loaded(stored, time.monotonic())
            stored = loaded.stored
            await self.rendered.ready(("survey", stored.id, stored.version), stored.survey)
            return stored
