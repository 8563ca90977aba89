"""Is a local port free, and if not, which process holds it (from /proc, no external tools); a free one."""

from __future__ import annotations

import errno
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Protocol = Literal["udp", "tcp"]
TCP_LISTEN = "0A"


@dataclass(frozen=True)
class Port:
    """A port the lab binds, and the setting that moves it elsewhere."""

    protocol: Protocol
    address: str
    number: int
    role: str  # e.g. "the pbx's SIP port"
    setting: str  # e.g. "RINGCAST_LAB__PBX_SIP_PORT"

    def __str__(self) -> str:
        return f"{self.protocol.upper()} {self.address}:{self.number}"


def free_tcp_port(address: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (for a private API or FastAGI server)."""
    with socket.socket() as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


def is_free(port: Port) -> bool:
    kind = socket.SOCK_DGRAM if port.protocol == "udp" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as sock:
        if port.protocol == "tcp":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT leftovers do not count
        try:
            sock.bind((port.address, port.number))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def holder(port: Port, proc: Path = Path("/proc")) -> str:
    """Who holds `port`: "pid 123 (asterisk)", or a vaguer phrase when /proc does not tell."""
    sockets = {f"socket:[{inode}]" for inode in _socket_inodes(port, proc)}
    for pid_dir in proc.iterdir():
        if pid_dir.name.isdigit() and sockets & _fd_links(pid_dir):
            try:
                return f"pid {pid_dir.name} ({(pid_dir / 'comm').read_text().strip()})"
            except OSError:
                return f"pid {pid_dir.name}"
    return "another process"


def _fd_links(pid_dir: Path) -> set[str]:
    links: set[str] = set()
    try:
        fds = list((pid_dir / "fd").iterdir())
    except OSError:
        return links  # gone, or not ours to look at
    for fd in fds:
        try:
            links.add(os.readlink(fd))
        except OSError:
            continue  # closed meanwhile
    return links


def _socket_inodes(port: Port, proc: Path) -> set[str]:
    inodes = set()
    for line in (proc / "net" / port.protocol).read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port.number and (port.protocol == "udp" or fields[3] == TCP_LISTEN):
            inodes.add(fields[9])
    return inodes
