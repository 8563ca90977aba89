"""Command line of the SMS gateway simulator: `python -m sms.gateway_sim --help`.

It prints `listening on http://HOST:PORT` (flushed) once it accepts connections, so a caller that
asked for `--port 0` learns the port, and stops cleanly on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from pathlib import Path

from sms.gateway_sim.aliyun_api import AliyunApi
from sms.gateway_sim.app import GatewaySim
from sms.gateway_sim.faults import FaultPlan, FaultSettings
from sms.gateway_sim.generic_api import GenericApi
from sms.gateway_sim.http_server import serve
from sms.gateway_sim.ledger import Ledger
from sms.gateway_sim.shape import Shape
from sms.gateway_sim.twilio_api import TwilioApi

SHAPES = ("generic", "twilio", "aliyun")


def _per_shape(values: list[str], option: str) -> dict[str, str]:
    """`URL` (every shape) or `SHAPE=URL` values -> URL per shape."""
    urls: dict[str, str] = {}
    for value in values:
        shape, sep, url = value.partition("=")
        if sep and shape in SHAPES:
            urls[shape] = url
        elif "://" in value:
            urls.update(dict.fromkeys(SHAPES, value))
        else:
            raise SystemExit(f"{option}: expected URL or SHAPE=URL, got {value!r}")
    return urls


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m sms.gateway_sim", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0: any free port (printed at start)")
    p.add_argument("--log", type=Path, help="the append-only JSON-lines log of accepted messages")
    p.add_argument("--generic-token", help="require 'Authorization: Bearer TOKEN' on /send")
    p.add_argument("--generic-basic", metavar="USER:PASSWORD", help="require this basic auth on /send")
    p.add_argument("--twilio-account", default="AC00000000000000000000000000000000")
    p.add_argument("--twilio-token", default="sim-twilio-token")
    p.add_argument("--aliyun-key-id", default="sim-key-id")
    p.add_argument("--aliyun-key-secret", default="sim-key-secret")
    p.add_argument("--dlr-url", action="append", default=[], metavar="[SHAPE=]URL")
    p.add_argument("--mo-url", action="append", default=[], metavar="[SHAPE=]URL")
    p.add_argument(
        "--faults", default="{}", help="initial fault settings as JSON, e.g. '{\"server_error\": 0.1}'"
    )
    return p.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    plan = FaultPlan(FaultSettings.model_validate(json.loads(args.faults)))
    ledger = Ledger(args.log)
    shapes: list[Shape] = [
        GenericApi(args.generic_token, args.generic_basic),
        TwilioApi(args.twilio_account, args.twilio_token),
        AliyunApi(args.aliyun_key_id, args.aliyun_key_secret),
    ]
    sim = GatewaySim(shapes, plan, ledger)
    dlr_urls, mo_urls = _per_shape(args.dlr_url, "--dlr-url"), _per_shape(args.mo_url, "--mo-url")
    for shape in SHAPES:
        sim.set_initial_webhooks(shape, dlr_urls.get(shape), mo_urls.get(shape))
    server = await serve(sim.handle, args.host, args.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"listening on http://{host}:{port}", flush=True)
    try:
        await stop.wait()
    finally:
        server.close()
        await sim.webhooks.aclose()
        ledger.close()


def main() -> None:
    asyncio.run(run(parse_args()))


if __name__ == "__main__":
    main()
