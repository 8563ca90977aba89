"""Callers the lab carrier places to the pbx: a customer dialling one of its DIDs (inbound tests).

The carrier originates `PJSIP/<did>@pbx` with the caller's number as caller ID; once the pbx
answers, the carrier's channel runs `carrier-caller` (`carrier_dialplan`): it logs the call
(`received ... outcome=caller`), hangs up `hang_up_after_s` after the answer, and meanwhile follows
its script as a survey respondent does (`carrier_plan`): for each prompt it hears, once the prompt
has ended, a digit `1`-`7` or `9` is pressed, `8` is staying silent, `0` is hanging up; with the
script used up it stays on the line, silent, or plays `says` (stock sounds, `&`-separated) over
whatever the pbx plays: a caller leaving a voicemail message.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from dialer.asterisk.ami import AmiEndpoint, AmiLink, OriginateRequest, endpoint_from_settings
from ringcast.settings import Settings

CALLER = "caller"  # the planned outcome its log lines carry
CALLER_CONTEXT = "carrier-caller"
PBX_ENDPOINT = "pbx"  # the carrier's name for the pbx
DID_VAR = "DID"
SCRIPT_VAR = "SCRIPT"
HANG_UP_AFTER_VAR = "HANG_UP_AFTER_S"
SAYS_VAR = "SAYS"
RING_TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class InboundCaller:
    did: str  # the pbx number dialled
    number: str  # the caller's own number (caller ID)
    script: str = ""  # respondent script characters, one per prompt heard
    hang_up_after_s: float = 10.0  # from the pbx's answer
    says: str = ""  # sounds played once the script is used up ("": silent), e.g. "tt-monkeys"

    def __post_init__(self) -> None:
        if self.script and not self.script.isdigit():
            raise ValueError(f"a caller's script is digits: {self.script!r}")


async def call_pbx(carrier: AmiLink, caller: InboundCaller) -> str:
    """Have the carrier place the call (`carrier` is an AMI link to the carrier); its uniqueid on the
    carrier, the `uniqueid` of its `CarrierCall` in the carrier's log."""
    channel_id = f"caller-{uuid.uuid4().hex[:12]}"
    request = OriginateRequest(
        channel=f"PJSIP/{caller.did}@{PBX_ENDPOINT}",
        context=CALLER_CONTEXT,
        caller_id=caller.number,
        timeout_ms=RING_TIMEOUT_MS,
        variables={
            DID_VAR: caller.did,
            SCRIPT_VAR: caller.script,
            HANG_UP_AFTER_VAR: f"{caller.hang_up_after_s:g}",
            **({SAYS_VAR: caller.says} if caller.says else {}),
        },
        channel_id=channel_id,
    )
    await carrier.originate(request)
    return channel_id


def carrier_endpoint(settings: Settings) -> AmiEndpoint:
    """The carrier's AMI (same user and secret as the pbx's), for placing callers."""
    lab = settings.lab
    return replace(endpoint_from_settings(settings), host=lab.carrier_address, port=lab.carrier_ami_port)
