"""What ringcast needs in any Asterisk: its dialplan contexts, AMI user, ConfBridge profiles and trunk.

Pure functions, settings in and `{filename: text}` out. `ringcast asterisk config --out DIR`
writes these snippets for an operator to `#include` in a production PBX; the lab's pbx
includes exactly the same files (lab-only plumbing lives in `lab_config`).

The engine talks to this dialplan through the names below: it originates calls into a
context with channel variables set, or Redirects answered calls into one.
"""

from __future__ import annotations

from dataclasses import dataclass

from ringcast.settings import Settings

# Contexts.
AGI_CONTEXT = "ringcast-agi"  # run FastAGI route RINGCAST_AGI_ROUTE at RINGCAST_AGI_URL (the engine's)
PARK_CONTEXT = "ringcast-park"  # hold an answered call until it is Redirected
AMD_CONTEXT = "ringcast-amd"  # answering-machine detection, reported as UserEvent RingcastAmd, then park
AGENT_CONTEXT = "ringcast-agent"  # an agent's phone leg: join its own conference RINGCAST_CONF
BRIDGE_CONTEXT = "ringcast-bridge"  # a customer: join the agent conference named by the extension
MESSAGE_CONTEXT = "ringcast-message"  # play RINGCAST_MESSAGE, hang up (the abandon or broadcast message)
ANNOUNCE_CONTEXT = "ringcast-announce"  # say the extension's digits (an agent number) and hang up
OUTBOUND_CONTEXT = "ringcast-outbound"  # dial EXTEN on the trunk (also an inbound caller sent to a number)
INBOUND_CONTEXT = "ringcast-inbound"  # calls from the trunk: answered, FastAGI route `inbound`, then NEXT_VAR
FLOW_CONTEXT = "ringcast-flow"  # a caller an agent sent into flow FLOW_VAR: route `flow`, then NEXT_VAR
QUEUE_HOLD_CONTEXT = "ringcast-queue-hold"  # an inbound caller waiting in a queue (music, announcements)
ANNOUNCE_AGAIN_EXTEN = "announce"  # in QUEUE_HOLD_CONTEXT: the loop again from its announcement
VOICEMAIL_CONTEXT = "ringcast-voicemail"  # record a message into VOICEMAIL_VAR, under the spool directory
BUSY_CONTEXT = "ringcast-busy"  # a refused inbound caller: busy tone, then hung up with cause 17 (busy)

# Channel variables the engine sets.
AGI_URL_VAR = "RINGCAST_AGI_URL"  # agi://host:port of the engine that placed the call
AGI_ROUTE_VAR = "RINGCAST_AGI_ROUTE"  # one of the routes below
SURVEY_ROUTE = "survey"  # the FastAGI route of keypress surveys
INBOUND_ROUTE = "inbound"  # the FastAGI route of inbound calls (IVR flows, queueing)
FLOW_ROUTE = "flow"  # the FastAGI route of a flow an agent sends its caller into (IVR-6)
FLOW_VAR = "RINGCAST_FLOW"  # the name of that flow
NEXT_VAR = "RINGCAST_NEXT"  # where an inbound call goes after its FastAGI: "context,exten,priority"
MOH_VAR = "RINGCAST_MOH"  # the hold music class of the caller's queue
VOICEMAIL_VAR = "RINGCAST_VOICEMAIL"  # the message's file, relative to the spool dir, without extension
GREETING_VAR = "RINGCAST_GREETING"  # the box's greeting (sound); unset: the stock vm-intro
ANNOUNCE_EVERY_VAR = "RINGCAST_ANNOUNCE_EVERY"  # seconds of music between a waiting caller's announcements
ANNOUNCEMENT_VAR = "RINGCAST_ANNOUNCEMENT"  # what a waiting caller is told (sounds, '&'-separated)
POSITION_VAR = "RINGCAST_POSITION"  # the position it says ("" when not said), for the UserEvent
WAIT_MIN_VAR = "RINGCAST_WAIT_MIN"  # the estimated wait it says, in minutes ("" when not said)
CONF_VAR = "RINGCAST_CONF"
MESSAGE_VAR = "RINGCAST_MESSAGE"  # sound file(s) for Playback, '&'-separated
ANNOUNCE_PROMPT_VAR = "RINGCAST_ANNOUNCE_PROMPT"  # sound file(s) played before the digits, or ""
AGENT_CONFERENCE_PREFIX = "agent-"  # an agent's conference is agent-<agent id>

# What the dialplan reports back.
AMD_USER_EVENT = "RingcastAmd"  # fields Status (${AMDSTATUS}) and Cause (${AMDCAUSE})
ANNOUNCED_USER_EVENT = "RingcastAnnounced"  # field Digits: an agent number was said
QUEUE_ANNOUNCED_USER_EVENT = "RingcastQueueAnnounced"  # fields Position, WaitMinutes: a caller was told

# Names in the other snippets.
TRUNK_ENDPOINT = "carrier"
AGENT_BRIDGE_PROFILE = "ringcast_agent_bridge"
AGENT_USER_PROFILE = "ringcast_agent_user"
CUSTOMER_USER_PROFILE = "ringcast_customer_user"

PARK_WAIT_S = 3600  # also the longest an inbound caller is held in a queue without the engine
FIRST_ANNOUNCEMENT_S = 2  # music before a waiting caller's first announcement: the engine sets it meanwhile
VOICEMAIL_MAX_S = 120
VOICEMAIL_SILENCE_S = 5  # a message ends after this much silence
BUSY_TONE_S = 3
BUSY_CAUSE = 17  # Q.850 user busy
NO_SERVICE = "ss-noservice"  # said when the engine's FastAGI cannot be reached: never dead air
ANNOUNCE_PAUSE_S = 0.3
LOCALHOST_ONLY = "127.0.0.1/255.255.255.255"


@dataclass(frozen=True)
class Trunk:
    """Where the PBX sends ringcast's calls: a SIP peer identified and reached by address."""

    host: str
    port: int = 5060
    media_address: str | None = None  # bind RTP to this local address (skips Asterisk's own-IP look-ups)


def ringcast_files(
    settings: Settings, *, ami_secret: str, trunk: Trunk, ami_permit: str = LOCALHOST_ONLY
) -> dict[str, str]:
    """Every snippet ringcast needs, by file name (each starts with a comment saying how to include it)."""
    return {
        "extensions_ringcast.conf": dialplan(settings),
        "confbridge_ringcast.conf": confbridge_profiles(),
        "manager_ringcast.conf": manager_user(settings.ami.username, ami_secret, ami_permit),
        "pjsip_ringcast.conf": pjsip_trunk(trunk),
    }


def dialplan(settings: Settings) -> str:
    default_agi = f"agi://{settings.fastagi.host}:{settings.fastagi.port}"
    numbers = ("_X.", "_+X.")
    return _header("extensions.conf") + "\n".join(
        [
            f"[{AGI_CONTEXT}]",
            f'exten => s,1,GotoIf($["${{{AGI_URL_VAR}}}" != ""]?run)',
            f" same => n,Set({AGI_URL_VAR}={default_agi})",
            f" same => n(run),AGI(${{{AGI_URL_VAR}}}/${{{AGI_ROUTE_VAR}}})",
            " same => n,Hangup()",
            "",
            f"[{PARK_CONTEXT}]",
            f"exten => s,1,Wait({PARK_WAIT_S})",
            " same => n,Hangup()",
            "",
            f"[{AMD_CONTEXT}]",
            "exten => s,1,AMD()",
            f" same => n,UserEvent({AMD_USER_EVENT},Status: ${{AMDSTATUS}},Cause: ${{AMDCAUSE}})",
            f" same => n,Goto({PARK_CONTEXT},s,1)",
            "",
            f"[{AGENT_CONTEXT}]",
            f"exten => s,1,ConfBridge(${{{CONF_VAR}}},{AGENT_BRIDGE_PROFILE},{AGENT_USER_PROFILE})",
            " same => n,Hangup()",
            "",
            # A customer the agent's leaving puts out of the conference goes on to the post-call
            # survey when the call has one (SRV-2).
            f"[{BRIDGE_CONTEXT}]",
            f"exten => _{_literal(AGENT_CONFERENCE_PREFIX)}.,1,"
            f"ConfBridge(${{EXTEN}},{AGENT_BRIDGE_PROFILE},{CUSTOMER_USER_PROFILE})",
            f' same => n,GotoIf($["${{{AGI_ROUTE_VAR}}}" != ""]?{AGI_CONTEXT},s,1)',
            " same => n,Hangup()",
            "",
            f"[{MESSAGE_CONTEXT}]",
            f"exten => s,1,Playback(${{{MESSAGE_VAR}}})",
            " same => n,Hangup()",
            "",
            # The other half of a Local channel put into an agent's conference: what it says, both
            # the agent and the customer hear (AGT-5); the pause lets the Local channel join first.
            f"[{ANNOUNCE_CONTEXT}]",
            "exten => _X.,1,Answer()",
            f" same => n,Wait({ANNOUNCE_PAUSE_S})",
            f' same => n,GotoIf($["${{{ANNOUNCE_PROMPT_VAR}}}" = ""]?digits)',
            f" same => n,Playback(${{{ANNOUNCE_PROMPT_VAR}}})",
            " same => n(digits),SayDigits(${EXTEN})",
            f" same => n,UserEvent({ANNOUNCED_USER_EVENT},Digits: ${{EXTEN}})",
            " same => n,Hangup()",
            "",
            f"[{OUTBOUND_CONTEXT}]",
            *[
                f"exten => {n},1,Dial(PJSIP/${{EXTEN}}@{TRUNK_ENDPOINT})\n same => n,Hangup()"
                for n in numbers
            ],
            "",
            *_inbound(default_agi, numbers),
        ]
    )


def _inbound(default_agi: str, numbers: tuple[str, ...]) -> list[str]:
    """An inbound call (the DID is the extension; the AGI's argument is the linkedid): the engine's
    FastAGI runs the number's flow and sets NEXT_VAR, where the call goes on: held in its queue,
    dialled out, voicemail, or refused busy. The engine's address is the global RINGCAST_AGI_URL
    it sets when it starts, else the settings'; an engine out of reach leaves the caller a stock
    message."""
    message = f"${{ASTSPOOLDIR}}/${{{VOICEMAIL_VAR}}}.wav"
    return [
        f"[{INBOUND_CONTEXT}]",
        *[
            line
            for n in numbers
            for line in (
                f"exten => {n},1,Answer()",
                f' same => n,GotoIf($["${{{AGI_URL_VAR}}}" != ""]?run)',
                f" same => n,Set({AGI_URL_VAR}={default_agi})",
                f" same => n(run),AGI(${{{AGI_URL_VAR}}}/{INBOUND_ROUTE},${{CHANNEL(linkedid)}})",
                f' same => n,GotoIf($["${{{NEXT_VAR}}}" != ""]?${{{NEXT_VAR}}})',
                ' same => n,GotoIf($["${AGISTATUS}" = "SUCCESS"]?done)',
                f" same => n,Playback({NO_SERVICE})",
                " same => n(done),Hangup()",
            )
        ],
        "",
        *_sent_into_flow(default_agi),
        *_queue_hold(),
        # Busy() gives an answered channel the busy tone but not the busy cause, and ends the
        # dialplan: the `h` extension sets the cause the hang-up reports.
        f"[{BUSY_CONTEXT}]",
        f"exten => s,1,Busy({BUSY_TONE_S})",
        f"exten => h,1,Hangup({BUSY_CAUSE})",
        "",
        f"[{VOICEMAIL_CONTEXT}]",
        f'exten => s,1,GotoIf($["${{{GREETING_VAR}}}" = ""]?stock)',
        f" same => n,Playback(${{{GREETING_VAR}}})",
        " same => n,Goto(record)",
        " same => n(stock),Playback(vm-intro)",
        # k: the file is kept when the caller hangs up
        f" same => n(record),Record({message},{VOICEMAIL_SILENCE_S},{VOICEMAIL_MAX_S},k)",
        " same => n,Playback(vm-goodbye)",
        " same => n,Hangup()",
        "",
    ]


def _sent_into_flow(default_agi: str) -> list[str]:
    """A caller an agent Redirected into flow FLOW_VAR (IVR-6; the call is the channel's uniqueid):
    the engine's FastAGI runs the flow and sets NEXT_VAR as for an inbound call, e.g. back into the
    agent's conference. NEXT_VAR is cleared first: an inbound caller has it from its DID's flow."""
    return [
        f"[{FLOW_CONTEXT}]",
        f"exten => s,1,Set({NEXT_VAR}=)",
        f' same => n,GotoIf($["${{{AGI_URL_VAR}}}" != ""]?run)',
        f" same => n,Set({AGI_URL_VAR}={default_agi})",
        f" same => n(run),AGI(${{{AGI_URL_VAR}}}/{FLOW_ROUTE},${{{FLOW_VAR}}})",
        f' same => n,GotoIf($["${{{NEXT_VAR}}}" != ""]?${{{NEXT_VAR}}})',
        ' same => n,GotoIf($["${AGISTATUS}" = "SUCCESS"]?done)',
        f" same => n,Playback({NO_SERVICE})",
        " same => n(done),Hangup()",
        "",
    ]


def _queue_hold() -> list[str]:
    """A waiting caller (ACD-8): its queue's music, and, once the engine has set ANNOUNCEMENT_VAR,
    that announcement every ANNOUNCE_EVERY_VAR seconds (reported by a UserEvent), until the engine
    Redirects it (which cuts any of them short) or PARK_WAIT_S have passed. The engine updates the
    variables (AMI Setvar) only when what is said changes; the interval is read as each pause of
    music starts, so the engine Redirects the caller to ANNOUNCE_AGAIN_EXTEN when it sets the first
    one or another (the loop goes on from its announcement, with the same end)."""
    every = f"${{IF($[0${{{ANNOUNCE_EVERY_VAR}}} > 0]?${{{ANNOUNCE_EVERY_VAR}}}:{PARK_WAIT_S})}}"
    said = f"Position: ${{{POSITION_VAR}}},WaitMinutes: ${{{WAIT_MIN_VAR}}}"
    return [
        f"[{QUEUE_HOLD_CONTEXT}]",
        f"exten => s,1,Set(RINGCAST_HELD_UNTIL=$[${{EPOCH}} + {PARK_WAIT_S}])",
        f" same => n,MusicOnHold(${{{MOH_VAR}}},{FIRST_ANNOUNCEMENT_S})",
        f' same => n(announce),GotoIf($["${{{ANNOUNCEMENT_VAR}}}" = ""]?music)',
        f" same => n,Playback(${{{ANNOUNCEMENT_VAR}}})",
        f" same => n,UserEvent({QUEUE_ANNOUNCED_USER_EVENT},{said})",
        f" same => n(music),MusicOnHold(${{{MOH_VAR}}},{every})",
        " same => n,GotoIf($[${EPOCH} < ${RINGCAST_HELD_UNTIL}]?announce)",
        " same => n,Hangup()",
        f"exten => {ANNOUNCE_AGAIN_EXTEN},1,Goto(s,announce)",
        "",
    ]


def goto(context: str, exten: str = "s") -> str:
    """A dialplan location as NEXT_VAR gives it."""
    return f"{context},{exten},1"


def _literal(text: str) -> str:
    """`text` inside an extension pattern: N, X and Z are wildcards in any case, so bracket them."""
    return "".join(f"[{c}]" if c.upper() in "NXZ" else c for c in text)


def confbridge_profiles() -> str:
    """An agent's own conference: the agent (marked) stays in, customers are put in and taken out."""
    silent_user = [
        "quiet=yes",
        "announce_user_count=no",
        "announce_only_user=no",
        "music_on_hold_when_empty=no",
    ]
    return _header("confbridge.conf") + "\n".join(
        [
            f"[{AGENT_BRIDGE_PROFILE}]",
            "type=bridge",
            "record_conference=no",
            "video_mode=none",
            "",
            f"[{AGENT_USER_PROFILE}]",
            "type=user",
            "marked=yes",
            *silent_user,
            "",
            f"[{CUSTOMER_USER_PROFILE}]",
            "type=user",
            "end_marked=yes  ; leave when the agent does",
            *silent_user,
            "",
        ]
    )


def manager_user(username: str, secret: str, permit: str) -> str:
    """The AMI account the engine logs in with: originate, redirect, hang up, run CLI commands;
    it reads channel, user (UserEvent), DTMF and system events."""
    return _header("manager.conf") + "\n".join(
        [
            f"[{username}]",
            f"secret={secret}",
            "deny=0.0.0.0/0.0.0.0",
            f"permit={permit}",
            # only the event classes the engine listens to: `dialplan` (Newexten, VarSet) and
            # `reporting` (RTCP) alone are most of a busy PBX's events, and every one is parsed
            "read=system,call,user,dtmf",
            "write=system,call,originate,command,reporting",
            "",
        ]
    )


def pjsip_trunk(trunk: Trunk) -> str:
    """The trunk ringcast dials out on, by address; the provider's auth or registration go here too."""
    name = TRUNK_ENDPOINT
    note = (
        "Agent phones registering from the trunk's address need `endpoint_identifier_order="
        "username,auth_username,ip` in [global]."
    )
    return _header("pjsip.conf", note) + "\n".join(
        [
            f"[{name}]",
            "type=aor",
            f"contact=sip:{trunk.host}:{trunk.port}",
            "",
            f"[{name}]",
            "type=endpoint",
            f"aors={name}",
            f"context={INBOUND_CONTEXT}",
            "disallow=all",
            "allow=ulaw,alaw",
            "direct_media=no",
            "dtmf_mode=rfc4733",
            *(
                [f"media_address={trunk.media_address}", "bind_rtp_to_media_address=yes"]
                if trunk.media_address
                else []
            ),
            "",
            f"[{name}]",
            "type=identify",
            f"endpoint={name}",
            f"match={trunk.host}",
            "",
        ]
    )


def _header(main_file: str, *notes: str) -> str:
    lines = [f"Generated by ringcast (`ringcast asterisk config`): `#include` it from {main_file}.", *notes]
    return "".join(f"; {line}\n" for line in lines) + "\n"
