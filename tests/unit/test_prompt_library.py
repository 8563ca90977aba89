"""Prompt sound names (IVR-5): stable content-hash names, audio as given, what is missing, where files go."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from campaigns.surveys.document import Prompt, parse_survey
from dialer.asterisk.prompts import PromptLibrary
from ringcast.errors import UserError
from ringcast.settings import LabSettings, PromptSettings, Settings, load_settings
from tests.unit.test_survey_document import GOOD

PBX_DIR = "/var/lib/ringcast/prompts"
GREETING = Prompt(text="您好，这里是回访电话")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in [k for k in os.environ if k.startswith("RINGCAST_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("RINGCAST_DATA_DIR", str(tmp_path / "data"))


def test_a_text_prompt_is_named_by_a_stable_hash_of_voice_and_text(tmp_path: Path) -> None:
    library = PromptLibrary(tmp_path / "prompts", PBX_DIR + "/")
    # Pinned: a changed name would render every stored survey's prompts again.
    assert library.sound(GREETING, "zh") == f"{PBX_DIR}/fc00d75dbbd645bb66643693"
    assert library.sound(GREETING, "en") == f"{PBX_DIR}/837a0bbd0644b7861b47ac6c"  # another voice
    assert library.sound(Prompt(text="您好，这里是回访电话。"), "zh") != library.sound(GREETING, "zh")
    assert (
        PromptLibrary(tmp_path, "/elsewhere").sound(GREETING, "zh") == "/elsewhere/fc00d75dbbd645bb66643693"
    )
    assert not (tmp_path / "prompts").exists()  # naming touches no disk


def test_an_audio_prompt_is_played_as_given() -> None:
    library = PromptLibrary(Path("/nowhere"), PBX_DIR)
    assert library.sound(Prompt(audio="custom/callback-offer"), "zh") == "custom/callback-offer"


def test_a_language_without_a_voice_is_one_line() -> None:
    with pytest.raises(UserError, match=r"no TTS voice for language 'fr' \(use zh or en\)"):
        PromptLibrary(Path("/nowhere"), PBX_DIR).sound(GREETING, "fr")


def test_missing_lists_each_unrendered_text_prompt_once_in_playing_order(tmp_path: Path) -> None:
    survey = parse_survey(
        GOOD.replace("closing: {text: 感谢您的配合，再见}", "closing: {text: 输入有误}")  # a repeated text
    )
    library = PromptLibrary(tmp_path, PBX_DIR)
    assert [p.text for p in library.missing(survey)] == [
        "您好，这里是回访电话",
        "请为本次服务打分，满意请按5，不满意请按1",
        "输入有误",
    ]  # the audio prompt is the PBX's own
    (tmp_path / f"{library.sound(GREETING, 'zh').rsplit('/', 1)[1]}.wav").write_bytes(b"RIFF")
    assert [p.text for p in library.missing(survey)] == [
        "请为本次服务打分，满意请按5，不满意请按1",
        "输入有误",
    ]


def test_configured_directories(tmp_path: Path) -> None:
    both = Settings(prompts=PromptSettings(local_dir=tmp_path / "share", pbx_dir="/mnt/prompts"))
    library = PromptLibrary.from_settings(both)
    assert (library.local_dir, library.pbx_dir) == (tmp_path / "share", "/mnt/prompts")
    local_only = PromptLibrary.from_settings(Settings(prompts=PromptSettings(local_dir=tmp_path)))
    assert (local_only.local_dir, local_only.pbx_dir) == (tmp_path, str(tmp_path))


def test_unset_directories_are_the_labs_inside_its_root(tmp_path: Path) -> None:
    settings = Settings(lab=LabSettings(cache_dir=tmp_path))
    with pytest.raises(UserError, match=r"lab's Asterisk root .* is not built \(run `ringcast lab up`"):
        PromptLibrary.from_settings(settings)
    assert not (tmp_path / "sid-root").exists()  # a build would rename into it
    (tmp_path / "sid-root/usr/sbin").mkdir(parents=True)
    (tmp_path / "sid-root/usr/sbin/asterisk").touch()
    (tmp_path / "sid-root/usr/share/asterisk/sounds/en_US_f_Allison").mkdir(parents=True)
    library = PromptLibrary.from_settings(settings)
    assert (library.local_dir, library.pbx_dir) == (tmp_path / "sid-root/var/lib/ringcast/prompts", PBX_DIR)


def test_the_pbx_directory_must_be_absolute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RINGCAST_PROMPTS__PBX_DIR", "var/lib/prompts")
    with pytest.raises(UserError, match=r"invalid setting prompts.pbx_dir: .*RINGCAST_PROMPTS__PBX_DIR"):
        load_settings()
