"""A load generator for the simulator's generic `/send`: how many accepted messages per second.

`python -m sms.gateway_sim.load URL [--seconds 5] [--connections 4] [--processes 2] [--client
httpx|raw] [--token T]` sends unique-keyed messages over keep-alive connections for a fixed time
(bounded: it always stops) and prints the rate the clients saw; the gateway's own count is in its
`/_control/stats` and its log. `httpx` is the client the adapters use; `raw` is a minimal asyncio
HTTP/1.1 client, to measure the server when httpx itself is the bottleneck (on a 2-core machine
the httpx clients need more CPU than the server).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import time
import uuid
from urllib.parse import urlsplit

import httpx


async def _httpx_worker(url: str, headers: dict[str, str], client: httpx.AsyncClient, until: float) -> int:
    sent = 0
    while time.monotonic() < until:
        key = uuid.uuid4().hex
        reply = await client.post(
            url, json={"to": "+8613800138000", "text": "load"}, headers=headers | {"idempotency-key": key}
        )
        sent += reply.status_code == 200
    return sent


async def _raw_worker(url: str, headers: dict[str, str], until: float) -> int:
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    sent = 0
    while time.monotonic() < until:
        body = json.dumps({"to": "+8613800138000", "text": "load"}).encode()
        head = (
            f"POST {parts.path} HTTP/1.1\r\nhost: {parts.netloc}\r\ncontent-type: application/json\r\n"
            f"idempotency-key: {uuid.uuid4().hex}\r\n{extra}content-length: {len(body)}\r\n\r\n"
        )
        writer.write(head.encode() + body)
        status_line = await reader.readline()
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await reader.readexactly(length)
        sent += status_line.split()[1] == b"200"
    writer.close()
    return sent


async def _run_process(
    url: str, client_kind: str, connections: int, seconds: float, token: str | None
) -> int:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    until = time.monotonic() + seconds
    if client_kind == "raw":
        counts = await asyncio.gather(*(_raw_worker(url, headers, until) for _ in range(connections)))
        return sum(counts)
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, trust_env=False, timeout=10.0) as client:
        counts = await asyncio.gather(
            *(_httpx_worker(url, headers, client, until) for _ in range(connections))
        )
    return sum(counts)


def _process_main(args: tuple[str, str, int, float, str | None]) -> int:
    return asyncio.run(_run_process(*args))


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m sms.gateway_sim.load", description=__doc__)
    p.add_argument("url", help="the generic send URL, e.g. http://127.0.0.1:8080/send")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--connections", type=int, default=4, help="keep-alive connections per process")
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--client", choices=("httpx", "raw"), default="httpx")
    p.add_argument("--token", help="bearer token, when the gateway requires one")
    args = p.parse_args()
    job = (args.url, args.client, args.connections, min(args.seconds, 600.0), args.token)
    started = time.monotonic()
    with multiprocessing.Pool(args.processes) as pool:
        accepted = sum(pool.map(_process_main, [job] * args.processes))
    elapsed = time.monotonic() - started
    print(
        f"{accepted} accepted in {elapsed:.2f} s: {accepted / args.seconds:.0f}/s "
        f"({args.processes} x {args.connections} {args.client} connections)"
    )


if __name__ == "__main__":
    main()
