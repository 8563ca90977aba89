"""The simulator's own log: one JSON object per line, appended and flushed line by line.

It is the ground truth a benchmark reads to prove every message was accepted exactly once. Each
line has `event` and `at` (UTC, ISO 8601 with milliseconds); the events:

- `accepted`: `shape key to text id sender` (key: the Idempotency-Key / OutId, null for Twilio)
- `replay`: `shape key id` (a generic request repeating a key already accepted: not a new message)
- `rejected`: `shape reason key to` (reason: auth, signature, nonce, timestamp, invalid_number,
  bad_request, blocked)
- `fault`: `shape fault key`, written when a fault is picked for a request: before that request's
  `accepted` or `replay` line, which still follows for `slow`, `timeout`, `drop_after_accept` and
  `garbled` (the message is accepted; only the reply misbehaves)
- `dlr`: `shape id status http` (http: the webhook's reply status, null when it failed)
- `mo`: `shape from text http`
- `reset`: the control endpoint reset counters and memory.

Lines are written whole (one `write` of a complete line, line-buffered), so a reader never sees a
partial line except possibly the very last one while it is being written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sms.gateway_sim.shape import iso, utc_now


class Ledger:
    def __init__(self, path: Path | None) -> None:
        self._file = path.open("a", encoding="utf-8", buffering=1) if path is not None else None

    def write(self, event: str, **fields: Any) -> None:
        if self._file is None:
            return
        line = json.dumps({"event": event, **fields, "at": iso(utc_now())}, ensure_ascii=False)
        self._file.write(line + "\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def read_ledger(path: Path) -> list[dict[str, Any]]:
    """Every complete line of a ledger (a last line still being written is skipped)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    return [json.loads(line) for line in lines[:-1] if line]
