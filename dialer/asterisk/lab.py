"""The Asterisk lab: a pbx (the Asterisk ringcast drives) and a carrier (the public network and its
customers), two Asterisk processes from one cached Debian root on this machine.

Every operation is idempotent: `up` on a running lab only checks it (and restarts an
instance whose generated config changed), `down` on a stopped lab does nothing. Operations
take a lock in the cache dir, so two `ringcast lab up` never race.
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dialer.asterisk import rootfs
from dialer.asterisk.carrier_log import CarrierCall, read_calls
from dialer.asterisk.lab_config import CALLS_LOG, CARRIER, INSTANCES, PBX, InstanceLayout, instance_files
from dialer.asterisk.lab_instance import AsteriskInstance, set_aside_if_larger
from dialer.asterisk.ports import Port, Protocol, holder, is_free
from ringcast.errors import UserError
from ringcast.settings import Settings

RESET_TIMEOUT_S = 10.0
CALLS_LOG_KEPT_BYTES = 20_000_000  # about 150,000 calls
PORT_RELEASE_S = 5.0  # how long a restart waits for the stopped process to let go of its ports


def pbx_spool_dir(settings: Settings) -> Path:
    """The pbx's spool directory as this machine sees it (voicemail recordings): the setting, else
    the lab pbx's inside the lab's root."""
    lab_spool = rootfs.root_path(settings.lab) / InstanceLayout(PBX).spool_dir.relative_to("/")
    return settings.pbx_spool_dir or lab_spool


@dataclass(frozen=True)
class InstanceStatus:
    name: str
    pid: int | None
    sip: str
    ami: str
    boot_s: float | None = None  # how long it took to boot, when this call started it

    @property
    def running(self) -> bool:
        return self.pid is not None


@dataclass(frozen=True)
class LabStatus:
    root: Path
    root_built: bool
    instances: tuple[InstanceStatus, ...]

    @property
    def running(self) -> bool:
        return all(instance.running for instance in self.instances)


def _quiet(message: str) -> None:
    """Default progress reporter: say nothing."""


class Lab:
    """The lab described by `settings.lab`; `progress` receives a line for each step of long work."""

    def __init__(self, settings: Settings, progress: rootfs.Progress = _quiet) -> None:
        self.settings = settings
        self.progress = progress
        self.root = rootfs.root_path(settings.lab)
        self._instances = {name: AsteriskInstance(self.root, InstanceLayout(name)) for name in INSTANCES}

    # Life cycle

    def up(self) -> LabStatus:
        """Build the root if needed and start whatever is not running; check what is."""
        rootfs.require_root_user()
        with self._lock():
            rootfs.ensure_root(self.settings.lab, self.progress)
            boot = {name: self._ensure_running(name) for name in (CARRIER, PBX)}
        return self._status(boot)

    def down(self) -> None:
        rootfs.require_root_user()
        with self._lock():
            for name in (PBX, CARRIER):
                self.progress(f"stopping the {name}")
                self._instances[name].stop()

    def restart(self, instance: str) -> float:
        """Stop and start one instance (e.g. the pbx in the middle of calls); the boot time in seconds."""
        rootfs.require_root_user()
        with self._lock():
            self._instance(instance).stop()
            return self._start(instance, self._files(instance))

    def status(self) -> LabStatus:
        return self._status({})

    # Working with a running lab

    def reset(self) -> None:
        """Hang up every call on both instances and wait until they are gone; a call log grown past
        `CALLS_LOG_KEPT_BYTES` is set aside (the carrier opens it for every line it writes), so that
        reading a test's own calls stays quick."""
        set_aside_if_larger(self.calls_log_path, CALLS_LOG_KEPT_BYTES)
        for instance in self._instances.values():
            instance.cli("channel request hangup all")
        deadline = time.monotonic() + RESET_TIMEOUT_S
        while any(self._active_channels(instance) for instance in self._instances.values()):
            if time.monotonic() > deadline:
                raise UserError(f"calls still up {RESET_TIMEOUT_S:.0f} s after hanging up all of them")
            time.sleep(0.1)

    def cli(self, instance: str, command: str) -> str:
        """Run an Asterisk CLI command on `instance` ("pbx" or "carrier")."""
        return self._instance(instance).cli(command)

    def pbx_cli(self, command: str) -> str:
        return self.cli(PBX, command)

    def logs(self, instance: str, lines: int = 50) -> list[str]:
        """The last `lines` lines of the instance's Asterisk log (messages.log)."""
        return self._instance(instance).log_tail(lines)

    def carrier_log(self, *, since: float | None = None, number: str | None = None) -> list[CarrierCall]:
        """Every call the carrier received (ground truth), or those since an epoch time / to a number."""
        return read_calls(self.calls_log_path, since=since, number=number)

    @property
    def calls_log_path(self) -> Path:
        return self._instances[CARRIER].host_path(CALLS_LOG)

    # Internals

    def _ensure_running(self, name: str) -> float | None:
        instance = self._instances[name]
        files = self._files(name)
        if instance.pid() is not None:
            if not instance.config_matches(files):
                self.progress(f"the {name}'s configuration changed: restarting it")
            elif self._responds(instance):
                return None
            else:
                self.progress(f"the {name} does not respond: restarting it")
            instance.stop()
        return self._start(name, files)

    def _start(self, name: str, files: dict[str, str]) -> float:
        deadline = time.monotonic() + PORT_RELEASE_S  # a process just stopped may still hold them
        while not all(is_free(port) for port in self._ports(name)) and time.monotonic() < deadline:
            time.sleep(0.1)
        for port in self._ports(name):
            if not is_free(port):
                raise UserError(
                    f"{port} ({port.role}) is in use by {holder(port)}",
                    hint=f"stop that process, or set {port.setting} to a free port",
                )
        instance = self._instances[name]
        instance.write_config(files)
        self.progress(f"starting the {name}")
        return instance.start(self.settings.lab.boot_timeout_s)

    def _files(self, name: str) -> dict[str, str]:
        module_dir = rootfs.module_dir(self.root)
        return instance_files(name, self.settings, self._ami_secret(), module_dir)

    def _ami_secret(self) -> str:
        """The engine's AMI secret: configured, else the lab's own, generated once (mode 0600)."""
        path = self.settings.lab.cache_dir / "ami-secret"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(24) + "\n")
        return self.settings.ami_secret()

    def _ports(self, name: str) -> list[Port]:
        """The instance's SIP (UDP) and AMI (TCP) ports: settings `<name>_sip_port`, `<name>_ami_port`."""
        lab = self.settings.lab
        address = getattr(lab, f"{name}_address")
        kinds: tuple[tuple[Protocol, str], ...] = (("udp", "sip"), ("tcp", "ami"))
        return [
            Port(
                protocol,
                address,
                getattr(lab, f"{name}_{kind}_port"),
                role=f"the {name}'s {kind.upper()} port",
                setting=f"RINGCAST_LAB__{name.upper()}_{kind.upper()}_PORT",
            )
            for protocol, kind in kinds
        ]

    def _status(self, boot: dict[str, float | None]) -> LabStatus:
        instances = []
        for name in INSTANCES:
            sip, ami = (f"{port.address}:{port.number}" for port in self._ports(name))
            instances.append(InstanceStatus(name, self._instances[name].pid(), sip, ami, boot.get(name)))
        return LabStatus(self.root, rootfs.is_built(self.root), tuple(instances))

    def _instance(self, name: str) -> AsteriskInstance:
        try:
            return self._instances[name]
        except KeyError:
            raise UserError(f"no lab instance {name!r}", hint=f"use one of: {', '.join(INSTANCES)}") from None

    @staticmethod
    def _responds(instance: AsteriskInstance) -> bool:
        try:
            instance.cli("core show uptime")
        except UserError:
            return False
        return True

    @staticmethod
    def _active_channels(instance: AsteriskInstance) -> int:
        match = re.search(r"(\d+) active channels?", instance.cli("core show channels count"))
        return int(match.group(1)) if match else 0

    @contextmanager
    def _lock(self) -> Iterator[None]:
        self.settings.lab.cache_dir.mkdir(parents=True, exist_ok=True)
        with (self.settings.lab.cache_dir / "lab.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
