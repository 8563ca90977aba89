"""`ringcast serve`: run the engine in the foreground until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal

from rich.console import Console

from dialer.engine import Engine
from ringcast.bootstrap import bootstrap
from ringcast.settings import load_settings


def serve() -> None:
    # its help: `cli.main.COMMANDS`
    engine = bootstrap(load_settings())
    asyncio.run(_serve(engine))


async def _serve(engine: Engine) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    console = Console(stderr=True)
    await engine.run(stop, on_ready=lambda: console.print("ringcast engine running; Ctrl-C to stop"))
