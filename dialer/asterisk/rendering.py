"""Text prompts rendered for the async engine: each document once per run, one rendering at a time.

`RenderOnce.ready(key, document)` makes the sound files of `document`'s text prompts
(`PromptLibrary.render_missing`, in a thread: rendering blocks for a few hundred milliseconds a
prompt) the first time `key` is asked for, and does nothing after that. The key names what was
rendered and must change when its prompts do: a survey's or a flow's version, an inbound number's
message, one sentence of a queue announcement. One lock serialises the renderings: two callers
arriving together for the same new document render it once (the second waits, then finds it
done), and the TTS tools never run twice at once. One instance is shared by the engine's FastAGI
applications (surveys, inbound flows), so a document rendered for one is ready for the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable

from dialer.asterisk.prompts import PromptLibrary, Spoken


class RenderOnce:
    def __init__(self, library: PromptLibrary) -> None:
        self.library = library
        self._rendered: set[Hashable] = set()
        self._rendering = asyncio.Lock()

    async def ready(self, key: Hashable, document: Spoken) -> None:
        """Once `document`'s text prompts exist as sound files (rendered now if `key` is new)."""
        if key in self._rendered:
            return
        async with self._rendering:
            if key not in self._rendered:
                await asyncio.to_thread(self.library.render_missing, document)
                self._rendered.add(key)
