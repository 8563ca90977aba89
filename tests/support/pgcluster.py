"""A throw-away PostgreSQL cluster: `initdb` in a temporary directory, Unix socket only, fsync off.

Used by the test fixtures (`tests.support.databases`) and by the benchmarks in `bench/`, which
need a real server and must not touch the machine's own. No pytest here: failures raise
`ClusterError` with one line, and each caller reports it its own way.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy.engine import URL

PG_SERVER_OPTIONS = "-c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off"


class ClusterError(RuntimeError):
    """initdb or pg_ctl failed; the message is the last line of their output or of the server log."""


class PrivateCluster:
    """A PostgreSQL cluster in a temporary directory for one test session or benchmark run.

    The server refuses to run as root, so as root the directory is given to `postgres` and every
    command runs through `runuser -u postgres`.
    """

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="ringcast-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.log = self.root / "server.log"
        self.port = free_port()

    def start(self) -> URL:
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.socket_dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C")
        self._run(
            "pg_ctl",
            *("-D", str(self.data), "-l", str(self.log), "-w", "-t", "60"),
            *("-o", f"-p {self.port} -k {self.socket_dir} {PG_SERVER_OPTIONS}"),
            "start",
        )
        return URL.create(
            "postgresql+psycopg",
            username="postgres",
            database="postgres",
            query={"host": str(self.socket_dir), "port": str(self.port)},
        )

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._command("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def _command(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, cwd=self.root, check=False)

    def _run(self, program: str, *args: str) -> None:
        result = self._command(program, *args)
        if result.returncode != 0:
            output = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()
            log = self.log.read_text(errors="replace").strip().splitlines() if self.log.exists() else []
            detail = (log or output)[-1]
            self.stop()
            raise ClusterError(f"{program} failed (exit {result.returncode}): {detail}")


def postgres_bindir() -> Path | None:
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0,
    )
    if versions:
        return versions[-1].parent
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and (Path(found).parent / "initdb").exists() else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
