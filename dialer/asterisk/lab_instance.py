"""One Asterisk process of the lab: write its config, start it in the root, ask it things, stop it.

Asterisk runs as `chroot ROOT asterisk -C CONF` (no -U/-G: dropping privileges loses access
to its own files) in daemon mode, so it outlives the command that started it. Its pid file
is trusted only for a live, non-zombie process whose command line names this config.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections import deque
from pathlib import Path, PurePosixPath
from typing import NoReturn

from dialer.asterisk.conf_files import write_conf_dir
from dialer.asterisk.lab_config import InstanceLayout
from ringcast.errors import UserError

CHROOT_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "HOME": "/root"}
CLI_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
KILL_TIMEOUT_S = 5.0
POLL_S = 0.05
PID_FILE_GRACE_S = 2.0  # the daemon writes its pid file right after forking
LOG_LINES_ON_FAILURE = 3
MESSAGES_KEPT_BYTES = 100_000_000  # verbose dialplan logging: a busy test run writes tens of MB
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


class AsteriskInstance:
    """The lab instance `layout.name` inside `root`."""

    def __init__(self, root: Path, layout: InstanceLayout) -> None:
        self.root = root
        self.layout = layout
        self.name = layout.name

    def host_path(self, path: PurePosixPath) -> Path:
        """Where a path inside the root is on this machine."""
        return self.root / path.relative_to("/")

    # Configuration

    def config_matches(self, files: dict[str, str]) -> bool:
        etc = self.host_path(self.layout.etc_dir)
        try:
            on_disk = {p.name: p.read_text() for p in etc.iterdir() if p.is_file()}
        except FileNotFoundError:
            return False
        return on_disk == files

    def write_config(self, files: dict[str, str]) -> None:
        """Create the instance's directories and make its config directory exactly `files`."""
        for directory in self.layout.dirs:
            self.host_path(directory).mkdir(parents=True, exist_ok=True)
        write_conf_dir(self.host_path(self.layout.etc_dir), files, prune=True)

    # Process

    def pid(self) -> int | None:
        """The running instance's pid, or None."""
        try:
            pid = int(self.host_path(self.layout.pid_file).read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if self._is_ours(pid) else None

    def start(self, boot_timeout_s: float) -> float:
        """Start and wait until fully booted; the seconds it took. Fails with the log's last lines.
        A log grown past `MESSAGES_KEPT_BYTES` is set aside first (one previous one is kept)."""
        messages = self.host_path(self.layout.messages_log)
        set_aside_if_larger(messages, MESSAGES_KEPT_BYTES)
        log_size = messages.stat().st_size if messages.exists() else 0
        started = time.monotonic()
        spawn = self._run(["asterisk", "-C", str(self.layout.config_file)], timeout=boot_timeout_s)
        if spawn.returncode != 0:
            self._fail(f"exited with status {spawn.returncode}: {spawn.stdout.strip()}", log_size)
        deadline = started + boot_timeout_s
        seen = False
        while time.monotonic() < deadline:
            if self.pid() is None:
                if seen or time.monotonic() - started > PID_FILE_GRACE_S:
                    self._fail("stopped during start-up", log_size)
            else:
                seen = True
                booted = self._run(
                    self._cli_args("core waitfullybooted"), timeout=deadline - time.monotonic()
                )
                if booted.returncode == 0 and "fully booted" in booted.stdout:
                    return time.monotonic() - started
            time.sleep(POLL_S)
        self._fail(f"did not finish booting within {boot_timeout_s:.0f} s", log_size)

    def stop(self) -> None:
        """Stop gracefully (`core stop now`), else by signal. Stopping a stopped instance is fine."""
        pid = self.pid()
        if pid is None:
            return
        self._run(self._cli_args("core stop now"), timeout=CLI_TIMEOUT_S)
        for sig, timeout in (
            (None, STOP_TIMEOUT_S),
            (signal.SIGTERM, KILL_TIMEOUT_S),
            (signal.SIGKILL, KILL_TIMEOUT_S),
        ):
            if sig is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if not self._is_ours(pid):
                    return
                time.sleep(POLL_S)
        raise UserError(f"could not stop the lab's {self.name} (pid {pid})", hint=f"kill {pid} by hand")

    def cli(self, command: str) -> str:
        """Run an Asterisk CLI command (as `asterisk -rx`) and return its output."""
        result = self._run(self._cli_args(command), timeout=CLI_TIMEOUT_S)
        if result.returncode != 0:
            raise UserError(
                f"the lab's {self.name} did not run `{command}`: {result.stdout.strip()}",
                hint="is the lab up? (`ringcast lab status`)",
            )
        return ANSI_ESCAPE.sub("", result.stdout)

    def log_tail(self, lines: int) -> list[str]:
        try:
            with self.host_path(self.layout.messages_log).open(errors="replace") as log:
                return [line.rstrip("\n") for line in deque(log, maxlen=lines)]
        except FileNotFoundError:
            return []

    # Internals

    def _cli_args(self, command: str) -> list[str]:
        return ["asterisk", "-C", str(self.layout.config_file), "-rx", command]

    def _run(self, args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                ["chroot", str(self.root), *args],
                env=CHROOT_ENV,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=max(timeout, 0.1),
                check=False,
            )
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(args, returncode=-1, stdout=f"timed out after {timeout:.0f} s")

    def _is_ours(self, pid: int) -> bool:
        """`pid` is a live Asterisk of this config, in this root (when we may look at its root)."""
        proc = Path("/proc", str(pid))
        try:
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            argv = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return False
        if state == "Z" or str(self.layout.config_file) not in argv or Path(argv[0]).name != "asterisk":
            return False
        try:
            return Path(os.readlink(proc / "root")) == self.root.resolve()
        except PermissionError:
            return True  # not root: the command line has to do
        except FileNotFoundError:
            return False

    def _fail(self, what: str, log_offset: int) -> NoReturn:
        self.stop()
        recent = self._log_since(log_offset)
        problems = [line for line in recent if "ERROR[" in line or "WARNING[" in line] or recent
        detail = " | ".join(problems[-LOG_LINES_ON_FAILURE:]) or "nothing in its log"
        log_path = self.host_path(self.layout.messages_log)
        raise UserError(f"the lab's {self.name} Asterisk {what}: {detail}", hint=f"see {log_path}")

    def _log_since(self, offset: int) -> list[str]:
        try:
            with self.host_path(self.layout.messages_log).open(errors="replace") as log:
                log.seek(offset)
                return [line.rstrip("\n") for line in log if line.strip()]
        except FileNotFoundError:
            return []


def set_aside_if_larger(log: Path, limit_bytes: int) -> bool:
    """Rename `log` to `<name>.1` (replacing an older one) when it has grown past `limit_bytes`."""
    if not log.exists() or log.stat().st_size <= limit_bytes:
        return False
    log.replace(log.with_name(log.name + ".1"))
    return True
