"""`ringcast survey validate`: every problem on a line of its own, a non-zero exit; a good survey passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import run
from tests.unit.test_survey_document import GOOD


def test_validate_lists_every_problem_then_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: t\nquestions:\n  - {id: a, prompt: {text: A}, keys: {1: ok, x: bad}, next: {1: zz}}\n"
    )
    assert run(["survey", "validate", str(bad)]) != 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        f"{bad}: questions[0].keys.x: a key is one of 0-9, * or #",
        f"{bad}: questions[0].next.1: no question zz (give a question id or end)",
    ]
    assert captured.err.strip() == f"error: survey {bad}: 2 problem(s), listed above"


def test_validate_a_good_survey(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD, encoding="utf-8")
    assert run(["survey", "validate", str(good)]) == 0
    assert capsys.readouterr().out == f"{good}: survey 满意度回访, 2 questions: valid\n"


def test_an_unreadable_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    binary = tmp_path / "survey.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert run(["survey", "validate", str(binary)]) != 0
    assert (
        capsys.readouterr().err.strip()
        == f"error: survey {binary}: cannot be read as UTF-8 text (UnicodeDecodeError)"
    )
