"""The lab's two Asterisk instances: where each lives inside the root and its complete configuration.

Both instances run from the same cached root, each with its own config, run, lib, spool,
cache and log directories (`InstanceLayout`). The pbx gets ringcast's snippets from
`confgen` exactly as an operator would include them, plus lab plumbing: transport, AMI
listener, RTP ports. The carrier plays the public network (`carrier_dialplan`).
Only the modules each instance uses are loaded, which keeps start-up well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from dialer.asterisk.carrier_dialplan import carrier_dialplan
from dialer.asterisk.confgen import Trunk, manager_user, ringcast_files
from ringcast.settings import Settings

PBX = "pbx"
CARRIER = "carrier"
INSTANCES = (PBX, CARRIER)
LOOPBACK = "127.0.0.0/255.0.0.0"  # a local client reaches 127.0.0.2 from 127.0.0.1

# PJSIP, RTP, codecs and sound formats, dialplan basics.
_COMMON_MODULES = (
    "res_sorcery_config",
    "res_sorcery_memory",
    "res_sorcery_astdb",
    "res_pjproject",
    "res_pjsip",
    "res_pjsip_session",
    "res_pjsip_pubsub",
    "chan_pjsip",
    "res_pjsip_sdp_rtp",
    "res_pjsip_endpoint_identifier_ip",
    "res_pjsip_endpoint_identifier_user",
    "res_pjsip_authenticator_digest",
    "res_pjsip_outbound_authenticator_digest",
    "res_pjsip_caller_id",
    "res_pjsip_rfc3326",
    "res_pjsip_dtmf_info",
    "res_pjsip_logger",
    "res_rtp_asterisk",
    "res_timing_timerfd",
    "codec_ulaw",
    "codec_alaw",
    "codec_a_mu",
    "codec_gsm",
    "format_gsm",
    "format_wav",
    "format_pcm",
    "pbx_config",
    "app_stack",
    "app_playback",
    "func_strings",
    "func_math",
    "func_callerid",
    "func_channel",
    "func_timeout",
)
_MODULES = {
    # AMD, AGI, ConfBridge, Dial, agent registration, `channel originate` for tests; inbound callers'
    # hold music, announcement intervals (IF) and voicemail recordings.
    PBX: (
        "res_pjsip_registrar",
        "res_speech",
        "res_agi",
        "app_amd",
        "app_userevent",
        "app_confbridge",
        "bridge_softmix",
        "bridge_simple",
        "bridge_native_rtp",
        "app_dial",
        "codec_resample",
        "res_clioriginate",
        "res_musiconhold",
        "func_logic",
        "app_record",
    ),
    # SendDTMF, a survey respondent's listening for prompts, and FILE() for the ground-truth log.
    CARRIER: ("app_senddtmf", "app_waitforsilence", "func_env"),
}


@dataclass(frozen=True)
class InstanceLayout:
    """One instance's directories, as paths inside the root."""

    name: str

    def _dir(self, parent: str) -> PurePosixPath:
        return PurePosixPath(parent) / "ringcast-lab" / self.name

    @property
    def etc_dir(self) -> PurePosixPath:
        return self._dir("/etc")

    @property
    def run_dir(self) -> PurePosixPath:
        return self._dir("/run")

    @property
    def log_dir(self) -> PurePosixPath:
        return self._dir("/var/log")

    @property
    def lib_dir(self) -> PurePosixPath:
        return self._dir("/var/lib")

    @property
    def spool_dir(self) -> PurePosixPath:
        return self._dir("/var/spool")

    @property
    def cache_dir(self) -> PurePosixPath:
        return self._dir("/var/cache")

    @property
    def config_file(self) -> PurePosixPath:
        return self.etc_dir / "asterisk.conf"

    @property
    def pid_file(self) -> PurePosixPath:
        return self.run_dir / "asterisk.pid"

    @property
    def messages_log(self) -> PurePosixPath:
        return self.log_dir / "messages.log"

    @property
    def dirs(self) -> tuple[PurePosixPath, ...]:
        """Every directory the instance writes to (created before it starts)."""
        return (self.etc_dir, self.run_dir, self.log_dir, self.lib_dir, self.spool_dir, self.cache_dir)


CALLS_LOG = InstanceLayout(CARRIER).log_dir / "calls.log"


def instance_files(
    name: str, settings: Settings, ami_secret: str, module_dir: PurePosixPath
) -> dict[str, str]:
    """The complete configuration directory of instance `name`, by file name (`module_dir`: in the root)."""
    files = _pbx_files(settings, ami_secret) if name == PBX else _carrier_files(settings, ami_secret)
    common = {
        "asterisk.conf": _asterisk_conf(InstanceLayout(name), module_dir),
        "modules.conf": _modules_conf(name),
        "logger.conf": _LOGGER_CONF,
    }
    return _QUIET_DEFAULTS | common | files


def _pbx_files(settings: Settings, ami_secret: str) -> dict[str, str]:
    lab = settings.lab
    trunk = Trunk(lab.carrier_address, lab.carrier_sip_port, media_address=lab.pbx_address)
    snippets = ringcast_files(settings, ami_secret=ami_secret, trunk=trunk)
    transport = _pjsip_transport(lab.pbx_address, lab.pbx_sip_port)
    # Agent phones register from the same loopback as everything else: match users first.
    # Only a restart applies a change of this setting, not a reload.
    identify = "[global]\ntype = global\nendpoint_identifier_order = username,auth_username,ip\n\n"
    return snippets | {
        "pjsip.conf": transport + identify + "#include pjsip_ringcast.conf\n",
        "extensions.conf": "#include extensions_ringcast.conf\n",
        "confbridge.conf": "#include confbridge_ringcast.conf\n",
        "manager.conf": _manager_conf(lab.pbx_address, lab.pbx_ami_port) + "#include manager_ringcast.conf\n",
        "amd.conf": _AMD_CONF,
        "musiconhold.conf": _MOH_CONF,
        "rtp.conf": _rtp_conf(lab.pbx_rtp_ports),
    }


def _carrier_files(settings: Settings, ami_secret: str) -> dict[str, str]:
    lab = settings.lab
    pbx_peer = f"""[pbx]
type = aor
contact = sip:{lab.pbx_address}:{lab.pbx_sip_port}

[pbx]
type = endpoint
aors = pbx
context = carrier-in
disallow = all
allow = ulaw,alaw
direct_media = no
dtmf_mode = rfc4733
media_address = {lab.carrier_address}
bind_rtp_to_media_address = yes

[pbx]
type = identify
endpoint = pbx
match = {lab.pbx_address}
"""
    ami_user = manager_user(settings.ami.username, ami_secret, LOOPBACK)
    return {
        "pjsip.conf": _pjsip_transport(lab.carrier_address, lab.carrier_sip_port) + pbx_peer,
        "extensions.conf": carrier_dialplan(str(CALLS_LOG)),
        "manager.conf": _manager_conf(lab.carrier_address, lab.carrier_ami_port) + ami_user,
        "rtp.conf": _rtp_conf(lab.carrier_rtp_ports),
    }


def _asterisk_conf(layout: InstanceLayout, module_dir: PurePosixPath) -> str:
    # No `(!)` after [directories]: Debian's stock file makes it a template, whose paths are ignored.
    return "\n".join(
        [
            "[directories]",
            f"astetcdir => {layout.etc_dir}",
            f"astmoddir => {module_dir}",
            "astvarlibdir => /var/lib/asterisk",
            f"astdbdir => {layout.lib_dir}",
            "astkeydir => /var/lib/asterisk",
            "astdatadir => /usr/share/asterisk",
            "astagidir => /usr/share/asterisk/agi-bin",
            f"astspooldir => {layout.spool_dir}",
            f"astcachedir => {layout.cache_dir}",
            f"astrundir => {layout.run_dir}",
            f"astlogdir => {layout.log_dir}",
            "astsbindir => /usr/sbin",
            "",
            "[options]",
            "verbose = 3  ; dialplan steps in messages.log",
            # No silence generator while waiting: its timer wakes every read with an empty frame, and
            # WaitForSilence (the carrier's survey respondents) then never counts silence. The
            # carrier's humans play silence after their greeting instead, for the pbx's AMD.
            "transmit_silence = no",
            "",
        ]
    )


def _modules_conf(name: str) -> str:
    # `require`: a module that fails to load stops Asterisk at start-up instead of going unnoticed.
    loads = [f"require => {module}.so" for module in (*_COMMON_MODULES, *_MODULES[name])]
    return "\n".join(["[modules]", "autoload = no", *loads, ""])


# Core settings ringcast does not use: present so that Asterisk does not complain about them.
_QUIET_DEFAULTS = {
    "cdr.conf": "[general]\nenable = no\n",
    "cel.conf": "[general]\nenable = no\n",
    **{name: "" for name in ("acl.conf", "ccss.conf", "features.conf", "pjproject.conf", "udptl.conf")},
    "indications.conf": "#include /etc/asterisk/indications.conf\n",  # Debian's tone zones
}

# app_amd does not load without its file: Asterisk's stock values, the ones ringcast is tested with.
_AMD_CONF = """[general]
initial_silence = 2500
greeting = 1500
after_greeting_silence = 800
total_analysis_time = 5000
min_word_length = 100
between_words_silence = 50
maximum_number_of_words = 2
maximum_word_length = 5000
silence_threshold = 256
"""

# The root has no music files: the default class loops a stock prompt, as a waiting caller would hear.
_MOH_CONF = "[default]\nmode = playlist\nentry = /usr/share/asterisk/sounds/en/queue-periodic-announce\n"

_LOGGER_CONF = (
    "[general]\ndateformat = %F %T.%3q\n\n[logfiles]\nmessages.log => notice,warning,error,verbose\n"
)


def _rtp_conf(ports: tuple[int, int]) -> str:
    # ICE (on by default) gathers host candidates per call with DNS look-ups of the host name and
    # A.ROOT-SERVERS.NET; offline those can stall a call set-up for seconds. Loopback needs no ICE.
    return f"[general]\nrtpstart = {ports[0]}\nrtpend = {ports[1]}\nicesupport = no\nstunaddr =\n"


def _pjsip_transport(address: str, port: int) -> str:
    return f"[transport-udp]\ntype = transport\nprotocol = udp\nbind = {address}:{port}\n\n"


def _manager_conf(address: str, port: int) -> str:
    return f"[general]\nenabled = yes\nbindaddr = {address}\nport = {port}\n\n"
