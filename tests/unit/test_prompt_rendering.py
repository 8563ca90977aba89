"""Rendering prompts with the real espeak-ng and sox (IVR-5): 8 kHz mono 16-bit WAV, trimmed, once.

These run the tools `make system-deps` installs; the unit tier has them on every machine it runs on.
"""

from __future__ import annotations

import array
import math
import wave
from pathlib import Path

import pytest

from campaigns.surveys.document import Prompt, parse_survey
from dialer.asterisk.prompts import PromptLibrary
from ringcast.errors import UserError

PBX_DIR = "/var/lib/ringcast/prompts"
LOUD = 32767 // 100  # the 1 % level the trimming cuts silence at
EDGE_S = 0.03


def survey(language: str, *texts: str) -> str:
    questions = "".join(
        f"  - {{id: q{n}, prompt: {{text: '{text}'}}, keys: {{'1': ok}}}}\n" for n, text in enumerate(texts)
    )
    return f"name: s\nlanguage: {language}\nquestions:\n{questions}"


def samples(path: Path) -> tuple[tuple[int, int, int], array.array[int]]:
    """(rate, channels, sample width) and the samples of a WAV file."""
    with wave.open(str(path), "rb") as audio:
        shape = (audio.getframerate(), audio.getnchannels(), audio.getsampwidth())
        return shape, array.array("h", audio.readframes(audio.getnframes()))


def local_file(library: PromptLibrary, prompt: Prompt, language: str) -> Path:
    return library.local_dir / f"{library.sound(prompt, language).rsplit('/', 1)[1]}.wav"


@pytest.mark.parametrize(
    ("language", "text"),
    [("zh", "请为本次服务打分，满意请按5"), ("en", "Please rate our service from one to five")],
)
def test_a_text_prompt_becomes_8khz_mono_16bit_speech_trimmed_at_both_ends(
    tmp_path: Path, language: str, text: str
) -> None:
    library = PromptLibrary(tmp_path / "prompts", PBX_DIR)
    document = parse_survey(survey(language, text))
    calls: list[tuple[int, int]] = []
    assert library.render_missing(document, lambda done, total: calls.append((done, total))) == 1
    assert calls == [(0, 1), (1, 1)]
    shape, sound = samples(local_file(library, Prompt(text=text), language))
    assert shape == (8000, 1, 2)
    assert len(sound) > 8000  # over a second of speech
    loud = [n for n, sample in enumerate(sound) if abs(sample) > LOUD]
    assert loud[0] < EDGE_S * 8000 and len(sound) - loud[-1] < EDGE_S * 8000  # no silence around it
    assert sorted(p.name for p in library.local_dir.iterdir()) == [
        local_file(library, Prompt(text=text), language).name
    ]

    assert library.render_missing(document) == 0
    assert library.missing(document) == []


def test_an_uploaded_recording_is_converted_to_8khz_mono(tmp_path: Path) -> None:
    source = tmp_path / "offer.wav"
    with wave.open(str(source), "wb") as out:  # half a second of 440 Hz, 44.1 kHz stereo
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(44100)
        tone = (int(8000 * math.sin(2 * math.pi * 440 * n / 44100)) for n in range(22050))
        out.writeframes(array.array("h", (s for sample in tone for s in (sample, sample))).tobytes())
    library = PromptLibrary(tmp_path / "prompts", PBX_DIR)
    name = library.install_audio(source, "offers/callback-offer")
    assert name == f"{PBX_DIR}/custom/offers/callback-offer"
    assert Prompt(audio=name).audio == name  # a survey document takes it
    shape, sound = samples(tmp_path / "prompts/custom/offers/callback-offer.wav")
    assert shape == (8000, 1, 2)
    assert abs(len(sound) - 4000) <= 2


def test_a_bad_upload_is_one_line_naming_the_file(tmp_path: Path) -> None:
    library = PromptLibrary(tmp_path / "prompts", PBX_DIR)
    text = tmp_path / "notes.txt"
    text.write_text("not audio")
    with pytest.raises(UserError, match=rf"cannot convert {text}: sox failed: .*\(give a WAV"):
        library.install_audio(text, "notes")
    with pytest.raises(UserError, match=r"no audio file"):
        library.install_audio(tmp_path / "gone.wav", "gone")
    for name in ("../etc", "/etc/cron"):
        with pytest.raises(UserError, match=rf"sound name '{name}': use letters, digits"):
            library.install_audio(text, name)
    assert list((tmp_path / "prompts/custom").iterdir()) == []  # no partial file left


def test_missing_tools_name_the_prompt_and_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    library = PromptLibrary(tmp_path / "prompts", PBX_DIR)
    with pytest.raises(UserError) as raised:
        library.render_missing(parse_survey(survey("zh", "请为本次服务打分，满意请按5，不满意请按1")))
    assert str(raised.value) == (
        "cannot render the prompt '请为本次服务打分，满意请按5，不满意请…': espeak-ng is not installed "
        "(apt-get install espeak-ng sox)"
    )
    assert list((tmp_path / "prompts").iterdir()) == []


def test_a_prompt_with_nothing_to_say_is_refused(tmp_path: Path) -> None:
    library = PromptLibrary(tmp_path / "prompts", PBX_DIR)
    with pytest.raises(UserError, match=r"cannot render the prompt '。': it is silent"):
        library.render_missing(parse_survey(survey("zh", "。")))
    assert list((tmp_path / "prompts").iterdir()) == []
