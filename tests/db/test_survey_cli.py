"""`ringcast survey create|update|show|list|prompt upload`: checked, prompts rendered, stored, versioned."""

from __future__ import annotations

import array
import json
import wave
from pathlib import Path

import pytest
import typer

import cli.main
from campaigns.persistence.db import Database
from campaigns.surveys.document import parse_survey
from cli.survey import survey_app
from tests.db.importing import Run, cli_on
from tests.unit.test_survey_document import GOOD

pytestmark = pytest.mark.db

PBX_DIR = "/pbx/prompts"
TEXT_PROMPTS = 4  # GOOD's intro, score question, invalid and closing; its callback question is audio


@pytest.fixture
def run(database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Run:
    """The CLI with the survey commands, on `database`, writing prompts to tmp_path/prompts."""
    run = cli_on(database, monkeypatch, tmp_path)
    monkeypatch.setenv("RINGCAST_PROMPTS__LOCAL_DIR", str(tmp_path / "prompts"))
    monkeypatch.setenv("RINGCAST_PROMPTS__PBX_DIR", PBX_DIR)
    app = typer.Typer(no_args_is_help=True)
    app.add_typer(survey_app, name="survey")
    monkeypatch.setattr(cli.main, "app", app)
    return run


def output(run: Run, capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one command (what came before is dropped)."""
    capsys.readouterr()
    code = run("survey", *args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def document(tmp_path: Path, text: str, name: str = "survey.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_create_renders_prompts_then_update_renders_only_new_ones(
    run: Run, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    good = document(tmp_path, GOOD)
    assert output(run, capsys, "create", good) == (
        0,
        f"created survey 满意度回访, version 1: 2 questions, {TEXT_PROMPTS} prompt(s) rendered\n",
        "",
    )
    rendered = sorted((tmp_path / "prompts").glob("*.wav"))
    assert len(rendered) == TEXT_PROMPTS
    code, _, err = output(run, capsys, "create", good)
    assert (code, err) == (
        2,
        "error: survey 满意度回访 already exists (change it with `ringcast survey update 满意度回访 FILE`)\n",
    )

    edited = document(tmp_path, GOOD.replace("输入有误", "输入有误，请重试"), "edited.yaml")
    assert output(run, capsys, "update", "满意度回访", edited) == (
        0,
        "updated survey 满意度回访 to version 2: 2 questions, 1 prompt(s) rendered\n",
        "",
    )
    assert len(list((tmp_path / "prompts").glob("*.wav"))) == TEXT_PROMPTS + 1
    code, _, err = output(run, capsys, "update", "other", edited)
    assert (code, err.startswith("error: the document is survey 满意度回访, not other")) == (2, True)


def test_a_bad_document_lists_its_problems_and_stores_nothing(
    run: Run, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = document(tmp_path, "name: t\nquestions:\n  - {id: a, prompt: {text: A}, keys: {x: bad}}\n")
    code, out, err = output(run, capsys, "create", bad)
    assert (code, out, err) == (
        2,
        f"{bad}: questions[0].keys.x: a key is one of 0-9, * or #\n",
        f"error: survey {bad}: 1 problem(s), listed above\n",
    )
    assert output(run, capsys, "list") == (
        0,
        "no surveys yet (store one with `ringcast survey create FILE`)\n",
        "",
    )
    assert not (tmp_path / "prompts").exists()


def test_show_prints_the_stored_document_and_its_version(
    run: Run, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    good = document(tmp_path, GOOD)
    assert run("survey", "create", good) == 0
    assert run("survey", "update", "满意度回访", good) == 0
    code, out, err = output(run, capsys, "show", "满意度回访")
    assert (code, err, out.splitlines()[0]) == (0, "", "# survey 满意度回访, version 2")
    assert parse_survey(out) == parse_survey(GOOD)  # what update takes back
    code, out, _ = output(run, capsys, "show", "满意度回访", "--format", "json")
    shown = json.loads(out)
    assert (code, shown["name"], shown["version"]) == (0, "满意度回访", 2)
    assert parse_survey(json.dumps(shown["survey"])) == parse_survey(GOOD)
    code, out, _ = output(run, capsys, "list")
    assert code == 0 and "满意度回访" in out and "│ 2 " in out
    code, _, err = output(run, capsys, "show", "nothing")
    assert (code, err) == (2, "error: no survey named 'nothing' (`ringcast survey list` shows them)\n")


def test_prompt_upload_installs_a_converted_recording(
    run: Run, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    recording = tmp_path / "offer.wav"
    with wave.open(str(recording), "wb") as out:  # a quarter second of noise at 16 kHz
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(array.array("h", ((n * 7919) % 20000 - 10000 for n in range(4000))).tobytes())
    assert output(run, capsys, "prompt", "upload", recording, "--name", "callback-offer") == (
        0,
        f"{recording}: installed as {PBX_DIR}/custom/callback-offer (give it as a prompt's audio)\n",
        "",
    )
    with wave.open(str(tmp_path / "prompts/custom/callback-offer.wav"), "rb") as installed:
        assert (installed.getframerate(), installed.getnchannels(), installed.getnframes()) == (8000, 1, 2000)
    code, _, err = output(run, capsys, "prompt", "upload", recording, "--name", "bad name")
    assert (code, err.startswith("error: sound name 'bad name': use letters, digits")) == (2, True)
