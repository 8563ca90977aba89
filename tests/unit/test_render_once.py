"""`RenderOnce`, the engine's one way to render text prompts: once per key, one rendering at a time."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import cast

from campaigns.surveys.document import Prompt
from dialer.asterisk.prompts import Message, PromptLibrary, Spoken
from dialer.asterisk.rendering import RenderOnce


class CountingLibrary:
    """Renders nothing; counts the renderings and the most that ever ran at once."""

    def __init__(self) -> None:
        self.rendered: list[Spoken] = []
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def render_missing(self, document: Spoken) -> int:
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        time.sleep(0.05)  # long enough for the other callers to arrive meanwhile
        with self._lock:
            self.running -= 1
            self.rendered.append(document)
        return 1


def test_a_key_is_rendered_once_however_many_ask_for_it_at_once() -> None:
    library = CountingLibrary()
    render = RenderOnce(cast(PromptLibrary, library))
    hello = Message(Prompt(text="您好"), "zh")
    bye = Message(Prompt(text="再见"), "zh")

    async def main() -> None:
        await asyncio.gather(*(render.ready(("message", hello), hello) for _ in range(5)))
        await asyncio.gather(render.ready(("message", bye), bye), render.ready(("message", hello), hello))

    asyncio.run(main())
    assert library.rendered == [hello, bye]
    assert library.most_at_once == 1  # the lock: the TTS tools never run twice at once
