"""A scriptable AMI server on loopback, for the AMI link's failure-mode tests.

It speaks the wire protocol (greeting, `Key: value` blocks, ActionID echo) and records
every action it receives. Behaviour per action is a small policy: answer, stay silent,
or drop the connection. Real-Asterisk behaviour is covered by the lab tests; this
server exists for the faults Asterisk cannot be made to show on demand.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

EOL = "\r\n"


@dataclass
class FakeAmi:
    secret: str = "s3cret"
    silent_actions: set[str] = field(default_factory=set)  # never answered
    received: list[dict[str, str]] = field(default_factory=list)
    connections: int = 0
    _server: asyncio.Server | None = None
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)
    port: int = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.drop_all()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def drop_all(self) -> None:
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    def actions(self, name: str) -> list[dict[str, str]]:
        return [a for a in self.received if a.get("Action", "").lower() == name.lower()]

    def send_event(self, name: str, **fields: str) -> None:
        for writer in self._writers:
            writer.write(_block({"Event": name, **fields}))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        writer.write(f"Asterisk Call Manager/9.0.0{EOL}".encode())
        try:
            while True:
                raw = await reader.readuntil(f"{EOL}{EOL}".encode())
                action = dict(line.split(": ", 1) for line in raw.decode().split(EOL) if ": " in line)
                self.received.append(action)
                self._respond(action, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if writer in self._writers:
                self._writers.remove(writer)
            writer.close()

    def _respond(self, action: dict[str, str], writer: asyncio.StreamWriter) -> None:
        name = action.get("Action", "")
        action_id = action.get("ActionID", "")
        if name in self.silent_actions:
            return
        if name == "Login":
            ok = action.get("Secret") == self.secret
            writer.write(
                _block(
                    {
                        "Response": "Success" if ok else "Error",
                        "ActionID": action_id,
                        "Message": "Authentication accepted" if ok else "Authentication failed",
                    }
                )
            )
            if ok:
                writer.write(_block({"Event": "FullyBooted", "Status": "Fully Booted"}))
            return
        if name == "Originate":
            writer.write(
                _block(
                    {"Response": "Success", "ActionID": action_id, "Message": "Originate successfully queued"}
                )
            )
            return
        writer.write(_block({"Response": "Success", "ActionID": action_id, "Message": f"{name} done"}))


def _block(fields: dict[str, str]) -> bytes:
    return (EOL.join(f"{k}: {v}" for k, v in fields.items()) + EOL + EOL).encode()
