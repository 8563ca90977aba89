"""Prompts as sound files the PBX plays (IVR-5): text rendered by offline TTS, audio as given.

What is rendered is any `Spoken` document: a survey, an IVR flow, or one `Message` (an inbound
number's default message).

A text prompt is spoken by `espeak-ng` (voice `cmn` for a `zh` survey, `en-us` for `en`), then
`sox` makes it what Asterisk plays natively as `.wav`: 8 kHz, mono, 16-bit signed, with the
silence before and after the speech trimmed (pauses inside are kept). The file is named by the
SHA-256 of what makes the sound (`RENDERER`, the voice, the text), so an edited prompt is a new
file, an unchanged one is never rendered twice, and `sound()` names it without touching the disk.
A file is written to a temporary directory next to it and renamed into place, so Asterisk never
sees half of one, and two processes rendering the same prompt both end with the same whole file.

An audio prompt names a sound the PBX already has and is played as given; `install_audio()` puts an
uploaded recording there, converted to the same format, under `custom/`.

`local_dir` is where this process writes; `pbx_dir` is that directory as Asterisk names it, which
differs in the lab, where Asterisk runs chrooted in its Debian root (see `PromptSettings`).
Rendering blocks (a few hundred milliseconds a prompt): the async engine calls `render_missing` in
a thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
import wave
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pydantic import ValidationError

from campaigns.surveys.document import Prompt
from dialer.asterisk import rootfs
from ringcast.errors import UserError
from ringcast.settings import Settings

RENDERER = "espeak-ng|sox 8k mono s16 trimmed|1"  # change it to render every text prompt again
VOICES = {"zh": "cmn", "en": "en-us"}
HASH_CHARS = 24
LAB_PROMPTS_DIR = "/var/lib/ringcast/prompts"
CUSTOM = "custom"  # where uploaded recordings go, under the prompt directory
INSTALL_HINT = "apt-get install espeak-ng sox"
REINSTALL_HINT = "check the TTS tools: apt-get install --reinstall espeak-ng sox"
SHOWN_CHARS = 20  # of a prompt's text in an error
SOX_FORMAT = ("-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer")
TRIM = ("silence", "1", "0.02", "1%", "reverse", "silence", "1", "0.02", "1%", "reverse")

Progress = Callable[[int, int], None]


class Spoken(Protocol):
    """Prompts said in one language: a `Survey`, an IVR `Flow`, a `Message`."""

    @property
    def language(self) -> str: ...

    def prompts(self) -> Iterable[Prompt]: ...


@dataclass(frozen=True)
class Message:
    """One prompt said on its own (an inbound number's default message)."""

    prompt: Prompt
    language: str

    def prompts(self) -> Iterator[Prompt]:
        yield self.prompt


class PromptLibrary:
    """The prompt sound files in `local_dir`, which Asterisk knows as `pbx_dir`."""

    def __init__(self, local_dir: Path, pbx_dir: str) -> None:
        self.local_dir = local_dir
        self.pbx_dir = pbx_dir.rstrip("/")

    @classmethod
    def from_settings(cls, settings: Settings) -> PromptLibrary:
        """The configured directories (`settings.prompts`); unset, the lab's (its root must be built)."""
        local_dir = settings.prompts.local_dir
        pbx_dir = settings.prompts.pbx_dir or (str(local_dir.absolute()) if local_dir else LAB_PROMPTS_DIR)
        if local_dir is None:
            root = rootfs.root_path(settings.lab)
            if not rootfs.is_built(root):  # writing into it would spoil the build, which renames into it
                raise UserError(
                    f"no prompt directory configured and the lab's Asterisk root {root} is not built",
                    hint="run `ringcast lab up`, or set RINGCAST_PROMPTS__LOCAL_DIR (and __PBX_DIR) "
                    "for your Asterisk",
                )
            local_dir = root / pbx_dir.lstrip("/")
        return cls(local_dir, pbx_dir)

    def sound(self, prompt: Prompt, language: str) -> str:
        """What Asterisk's Playback or GET DATA plays for `prompt`: a path without extension, or the
        audio name as given."""
        if prompt.text is None:
            assert prompt.audio is not None  # a Prompt has one of them
            return prompt.audio
        return f"{self.pbx_dir}/{_file_stem(prompt.text, _voice(language))}"

    def missing(self, document: Spoken) -> list[Prompt]:
        """The document's text prompts with no sound file yet, each once, in the order they are played."""
        voice = _voice(document.language)
        found: dict[str, Prompt] = {}
        for prompt in document.prompts():
            if prompt.text is None:
                continue
            stem = _file_stem(prompt.text, voice)
            if stem not in found and not self._local(stem).exists():
                found[stem] = prompt
        return list(found.values())

    def local_file(self, prompt: Prompt, language: str) -> Path:
        """Where this process finds a text prompt's sound file (`sound` names it for Asterisk)."""
        assert prompt.text is not None, "an audio prompt is the PBX's own file"
        return self._local(_file_stem(prompt.text, _voice(language)))

    def render_missing(self, document: Spoken, progress: Progress | None = None) -> int:
        """Render every missing text prompt of `document`; how many were rendered. `progress(done, total)`
        is called before the first and after each."""
        missing = self.missing(document)
        voice = _voice(document.language)
        if progress is not None:
            progress(0, len(missing))
        for done, prompt in enumerate(missing, start=1):
            assert prompt.text is not None
            self._render(prompt.text, voice)
            if progress is not None:
                progress(done, len(missing))
        return len(missing)

    def install_audio(self, source: Path, name: str) -> str:
        """Convert the recording `source` (WAV, or any format sox reads) into `custom/<name>.wav`; the
        sound name to give as a survey prompt's `audio`."""
        if name.startswith("/") or not _valid_audio(name):  # a name under custom/, never a path
            raise UserError(
                f"sound name {name!r}: use letters, digits, _ and -, in parts separated by /",
                hint="e.g. --name callback-offer",
            )
        if not source.is_file():
            raise UserError(f"no audio file {source}")
        target = self.local_dir / CUSTOM / f"{name}.wav"
        what = f"cannot convert {source}"
        with _writing(target) as work:
            _run(
                ["sox", str(source), *SOX_FORMAT, str(work)], what, "give a WAV, or another format sox reads"
            )
        return f"{self.pbx_dir}/{CUSTOM}/{name}"

    def _render(self, text: str, voice: str) -> None:
        what = f"cannot render the prompt {_shortened(text)!r}"
        with _writing(self._local(_file_stem(text, voice))) as work:
            spoken = work.with_name("spoken.wav")
            _run(["espeak-ng", "-v", voice, "-w", str(spoken), "--stdin"], what, REINSTALL_HINT, text)
            _run(["sox", str(spoken), *SOX_FORMAT, str(work), *TRIM], what, REINSTALL_HINT)
            with wave.open(str(work), "rb") as rendered:
                if rendered.getnframes() == 0:
                    raise UserError(f"{what}: it is silent", hint="give the prompt words to speak")

    def _local(self, stem: str) -> Path:
        return self.local_dir / f"{stem}.wav"


@contextmanager
def _writing(target: Path) -> Iterator[Path]:
    """A path to write `target`'s content to, in a temporary directory beside it; renamed to `target`
    (readable by all) when the block ends without an error. The directory is removed either way."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".writing-") as work:
        path = Path(work) / target.name
        yield path
        path.chmod(0o644)  # Asterisk may run as another user
        os.replace(path, target)


def _run(command: list[str], what: str, hint: str, stdin: str | None = None) -> None:
    """Run a tool; a missing tool or a failure is a `UserError` starting with `what`, with `hint` for
    a failure."""
    try:
        result = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise UserError(f"{what}: {command[0]} is not installed", hint=INSTALL_HINT) from None
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
        raise UserError(f"{what}: {command[0]} failed: {last}", hint=hint)


def _valid_audio(name: str) -> bool:
    try:
        Prompt(audio=name)
    except ValidationError:
        return False
    return True


def _shortened(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def _file_stem(text: str, voice: str) -> str:
    key = json.dumps([RENDERER, voice, text], ensure_ascii=False).encode()
    return hashlib.sha256(key).hexdigest()[:HASH_CHARS]


def _voice(language: str) -> str:
    try:
        return VOICES[language]
    except KeyError:
        raise UserError(
            f"no TTS voice for language {language!r}", hint=f"use {' or '.join(VOICES)}"
        ) from None
