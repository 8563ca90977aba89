"""Pytest plugin: the SMS gateway simulator as a real subprocess, and a webhook catcher.

`running_gateway(log_path)` starts `python -m sms.gateway_sim` on a free loopback port (it asks
for port 0 and reads the port it prints), waits until `/_control/health` answers, yields a
`SmsGateway` (URL, credentials, a small control client, the log) and stops it with SIGTERM.
`provider_settings()` / `provider_for()` give adapters (generic, twilio, aliyun) pointed at it.
Fixtures: `sms_gateway_process` (session), `sms_gateway` (the same process, reset before each
test), `webhook_catcher` (a threaded HTTP server that records the webhooks the gateway posts).

The control client is synchronous: call it from async tests freely, the gateway is another
process and the catcher runs in its own thread.
"""

from __future__ import annotations

import json
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from sms.gateway_sim.ledger import read_ledger
from sms.providers import build_provider
from sms.providers.base import SmsProvider, WebhookRequest
from sms.providers.config import SmsProviderSettings

REPO = Path(__file__).resolve().parents[2]
TWILIO_ACCOUNT = "AC0123456789abcdef0123456789abcdef"
TWILIO_TOKEN = "twilio-token-SECRET-7f3a"
ALIYUN_KEY_ID = "LTAI-sim-key"
ALIYUN_KEY_SECRET = "aliyun-secret-SECRET-91c2"
GENERIC_TOKEN = "generic-token-SECRET-55d0"


def free_port() -> int:
    """A loopback port nothing listens on (just closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class SmsGateway:
    """A running simulator: its URL, the credentials it accepts, and its control endpoints."""

    url: str
    log_path: Path
    process: subprocess.Popen[str]
    twilio_account: str = TWILIO_ACCOUNT
    twilio_token: str = TWILIO_TOKEN
    aliyun_key_id: str = ALIYUN_KEY_ID
    aliyun_key_secret: str = ALIYUN_KEY_SECRET
    generic_token: str = GENERIC_TOKEN

    def _control(self, method: str, action: str, body: dict[str, Any] | None = None) -> Any:
        reply = httpx.request(
            method, f"{self.url}/_control/{action}", json=body, timeout=10.0, trust_env=False
        )
        reply.raise_for_status()
        return reply.json()

    def set_faults(self, **settings: Any) -> dict[str, Any]:
        return dict(self._control("POST", "faults", settings))

    def set_webhooks(self, shape: str | None = None, **urls: str | None) -> dict[str, Any]:
        return dict(self._control("POST", "webhooks", ({"shape": shape} if shape else {}) | urls))

    def inject_mo(self, shape: str, sender: str, text: str, to: str | None = None) -> int | None:
        body = {"shape": shape, "from": sender, "text": text} | ({"to": to} if to else {})
        return self._control("POST", "mo", body)["http"]

    def stats(self) -> dict[str, Any]:
        return dict(self._control("GET", "stats"))

    def reset(self) -> None:
        self._control("POST", "reset")

    def log(self, event: str | None = None) -> list[dict[str, Any]]:
        """The log's lines since the last reset (the fixture resets before each test), of `event` if given."""
        lines = read_ledger(self.log_path)
        last_reset = max((i for i, line in enumerate(lines) if line["event"] == "reset"), default=-1)
        return [line for line in lines[last_reset + 1 :] if event is None or line["event"] == event]

    def stop(self) -> int:
        """SIGTERM (SIGKILL after 5 s); the exit status."""
        return _terminate(self.process)


def _terminate(process: subprocess.Popen[str]) -> int:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    return process.returncode


@contextmanager
def running_gateway(log_path: Path, *extra_args: str, start_timeout_s: float = 15.0) -> Iterator[SmsGateway]:
    command = [
        sys.executable,
        "-m",
        "sms.gateway_sim",
        "--port",
        "0",
        "--log",
        str(log_path),
        "--twilio-account",
        TWILIO_ACCOUNT,
        "--twilio-token",
        TWILIO_TOKEN,
        "--aliyun-key-id",
        ALIYUN_KEY_ID,
        "--aliyun-key-secret",
        ALIYUN_KEY_SECRET,
        "--generic-token",
        GENERIC_TOKEN,
        *extra_args,
    ]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        url = _announced_url(process, start_timeout_s)
        gateway = SmsGateway(url, log_path, process)
        _wait_healthy(gateway, start_timeout_s)
        yield gateway
    finally:
        _terminate(process)
        if process.stdout is not None:
            process.stdout.close()


def _announced_url(process: subprocess.Popen[str], timeout_s: float) -> str:
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        line = lines.get(timeout=timeout_s)
    except queue.Empty:
        raise RuntimeError(f"the SMS gateway did not start within {timeout_s} s") from None
    if not line.startswith("listening on "):
        raise RuntimeError(f"the SMS gateway did not start (exit {process.poll()}): {line.strip()!r}")
    return line.removeprefix("listening on ").strip()


def _wait_healthy(gateway: SmsGateway, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            gateway._control("GET", "health")
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


# the webhook catcher


@dataclass(frozen=True)
class CapturedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def webhook_request(self) -> WebhookRequest:
        """The request as the engine's API would hand it to an adapter."""
        query = dict(parse_qsl(urlsplit(self.path).query))
        content_type = self.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            return WebhookRequest(self.method, query, {}, json.loads(self.body))
        form = dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))
        return WebhookRequest(self.method, query, form, None)


class WebhookCatcher:
    """A loopback HTTP server in a thread that answers 200 and keeps every request it got."""

    def __init__(self) -> None:
        received: queue.Queue[CapturedRequest] = queue.Queue()
        self._received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                received.put(CapturedRequest(self.command, self.path, headers, body))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def wait_for(self, count: int, timeout_s: float = 5.0) -> list[CapturedRequest]:
        """The next `count` requests, in arrival order; fails after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        got = []
        while len(got) < count:
            try:
                got.append(self._received.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError(f"got {len(got)} of {count} webhooks within {timeout_s} s") from None
        return got

    def nothing_more(self, within_s: float = 0.2) -> bool:
        try:
            self._received.get(timeout=within_s)
        except queue.Empty:
            return True
        return False

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# adapters pointed at a running gateway


def provider_settings(shape: str, gateway: SmsGateway, **overrides: Any) -> SmsProviderSettings:
    """Settings for an account on the simulator, with its credentials; `overrides` win."""
    base: dict[str, Any] = {"kind": shape, "url": gateway.url, "timeout_s": 2.0, "max_connections": 4}
    if shape == "generic":
        base |= {
            "url": f"{gateway.url}/send",
            "auth": "bearer",
            "secret": gateway.generic_token,
            "idempotency_header": "Idempotency-Key",
            "idempotent": True,
            "success_field": "status",
            "success_value": "accepted",
        }
    elif shape == "twilio":
        base |= {"username": gateway.twilio_account, "secret": gateway.twilio_token, "sender": "+15005550006"}
    else:
        base |= {
            "username": gateway.aliyun_key_id,
            "secret": gateway.aliyun_key_secret,
            "sender": "ringcast",
            "template_code": "SMS_000001",
        }
    return SmsProviderSettings.model_validate(base | overrides)


@asynccontextmanager
async def provider_for(shape: str, gateway: SmsGateway, **overrides: Any) -> AsyncIterator[SmsProvider]:
    """A provider (with its own client) for an account on the simulator, closed afterwards."""
    provider = build_provider(f"sim-{shape}", provider_settings(shape, gateway, **overrides))
    try:
        yield provider
    finally:
        await provider.aclose()


@pytest.fixture(scope="session")
def sms_gateway_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmsGateway]:
    log_path = tmp_path_factory.mktemp("sms_gateway") / "gateway.jsonl"
    with running_gateway(log_path) as gateway:
        yield gateway


@pytest.fixture
def sms_gateway(sms_gateway_process: SmsGateway) -> SmsGateway:
    sms_gateway_process.reset()
    return sms_gateway_process


@pytest.fixture
def webhook_catcher() -> Iterator[WebhookCatcher]:
    catcher = WebhookCatcher()
    yield catcher
    catcher.close()
