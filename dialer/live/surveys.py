"""Keypress surveys as a FastAGI application (SRV-1, SRV-2, DIAL-5): one respondent per session.

Asterisk runs route `survey` for a customer's call: a broadcast campaign's answered call, or the
customer after the agent (post-call). The handler finds the call by the channel's uniqueid, takes
its campaign's survey (loaded once per version, its text prompts rendered then), and drives the
pure `SurveySession`:

- `Say` is queued and played before the next question (the intro, the invalid-input message), or
  at the end (the closing);
- `Ask` plays what is queued and the question with every key able to interrupt it (a respondent
  who knows the answer need not listen to the end), then waits the question's timeout for a key;
  the key, or None, goes back to the session;
- `Record` is written at once through the database thread (`campaigns.surveys.responses`);
- `Finish` closes the response (complete or not) before the closing plays, then hangs up.

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
from campaigns.surveys.responses import ResponseRef, end_response, open_response, record_answer
from campaigns.surveys.session import Ask, Command, Finish, Record, Say, SurveySession
from campaigns.surveys.store import StoredSurvey, load_survey
from dialer.asterisk.fastagi import AgiCall
from dialer.asterisk.prompts import PromptLibrary

if TYPE_CHECKING:
    from dialer.live.service import LiveDialer

log = logging.getLogger(__name__)

ANY_KEY = "0123456789*#"
RELOAD_S = 10.0  # how long a loaded survey is used before its version is looked at again


@dataclass(frozen=True, slots=True)
class _Loaded:
    stored: StoredSurvey
    at: float


class SurveyCalls:
    def __init__(self, dialer: LiveDialer, prompts: PromptLibrary) -> None:
        self.dialer = dialer
        self.prompts = prompts
        self._surveys: dict[int, _Loaded] = {}
        self._rendered: set[tuple[int, int]] = set()  # (survey id, version) whose prompts exist
        self._loading: dict[int, asyncio.Lock] = {}

    async def handle(self, agi: AgiCall) -> None:
        call = await self.dialer.entered_survey(agi.uniqueid)
        if call is None:
            log.warning(
                "survey requested for %s, a call this engine does not follow: hanging up", agi.uniqueid
            )
            await agi.hangup()
            return
        config = await self.dialer.config(call.campaign_id)
        if config.survey_id is None:
            log.warning("campaign %s has no survey any more: hanging up %s", config.name, agi.uniqueid)
            await agi.hangup()
            return
        stored = await self._survey(config.survey_id)
        ref = ResponseRef(stored.id, stored.version, call.attempt_id, call.agent_id, call.campaign_id)
        self.dialer.db.submit(open_response, ref, datetime.now(UTC))
        finished = False
        try:
            finished = await self._run(agi, stored.survey, ref, config)
        finally:
            if not finished:  # hung up before the end: the answers so far stay, partial
                self.dialer.db.submit(end_response, ref, datetime.now(UTC), complete=False)

    async def _run(self, agi: AgiCall, survey: Survey, ref: ResponseRef, config: CampaignConfig) -> bool:
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
                self.dialer.db.submit(record_answer, ref, command, questions[command.question], config, at)
            elif isinstance(command, Finish):
                self.dialer.db.submit(end_response, ref, datetime.now(UTC), complete=command.complete)
                for prompt in queued:  # the closing
                    await agi.stream_file(self.prompts.sound(prompt, survey.language))
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
            if (stored.id, stored.version) not in self._rendered:
                await asyncio.to_thread(self.prompts.render_missing, stored.survey)
                self._rendered.add((stored.id, stored.version))
            return stored
