"""The composition root: builds the engine and its adapters from settings, for the CLI and the tests."""

from __future__ import annotations

import logging

from campaigns.persistence.db import Database
from dialer.asterisk.ami import AmiLink, endpoint_from_settings
from dialer.asterisk.fastagi import FastAgiServer
from dialer.asterisk.lab import pbx_spool_dir
from dialer.asterisk.prompts import PromptLibrary
from dialer.engine import ApiEndpoint, Engine
from ringcast.errors import UserError
from ringcast.settings import Settings
from sms.service import SmsService

log = logging.getLogger(__name__)


def bootstrap(settings: Settings) -> Engine:
    """The engine for `settings`; nothing connects until `Engine.run`."""
    database = Database(settings.database_url)
    return Engine(
        database=database,
        ami=AmiLink(endpoint_from_settings(settings)),
        fastagi=FastAgiServer(settings.fastagi.host, settings.fastagi.port),
        api=ApiEndpoint(settings.api.host, settings.api.port, settings.api_token()),
        default_region=settings.default_region,
        drain_s=settings.drain_s,
        prompts=_prompts(settings),
        sms=SmsService(database, settings) if settings.sms.providers else None,
        trunks=tuple(settings.trunks),
        pbx_spool=pbx_spool_dir(settings),
    )


def _prompts(settings: Settings) -> PromptLibrary | None:
    """Where survey prompts go; None (no surveys are run) when nowhere is configured."""
    try:
        return PromptLibrary.from_settings(settings)
    except UserError as error:
        log.warning("surveys are not run: %s", error.message)
        return None
