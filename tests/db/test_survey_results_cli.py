"""`ringcast survey results|export`: every format read back, and one-line errors that write nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import typer
from openpyxl import load_workbook

import cli.main
from campaigns.persistence.db import Database
from cli.survey_results import export, results
from reports.survey_export import export_header
from reports.surveys import By, Period, result_header, result_rows, survey_results
from tests.db.importing import Run, cli_on
from tests.db.rows import Seed
from tests.db.survey_rows import NAME, PHONE, SurveyData, add_survey_data

pytestmark = pytest.mark.db

QUESTIONS = ["score", "callback", "old"]


@pytest.fixture
def run(database: Database, seed: Seed, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Run:
    """The CLI with `survey results` and `survey export`, on `database`."""
    run = cli_on(database, monkeypatch, tmp_path)
    survey_app = typer.Typer(no_args_is_help=True)
    survey_app.command("results")(results)
    survey_app.command("export")(export)
    app = typer.Typer(no_args_is_help=True)
    app.add_typer(survey_app, name="survey")
    monkeypatch.setattr(cli.main, "app", app)
    monkeypatch.setenv("COLUMNS", "200")
    return run


@pytest.fixture
def data(database: Database, seed: Seed) -> SurveyData:
    return add_survey_data(database, seed)


def output(run: Run, capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(*args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def read_xlsx(path: Path) -> list[list[Any]]:
    sheet = load_workbook(path).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def as_text(rows: list[list[Any]]) -> list[list[str]]:
    return [["" if value is None else str(value) for value in row] for row in rows]


@pytest.mark.usefixtures("data")
def test_results_table_by_agent(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = output(run, capsys, "survey", "results", NAME, "--by", "agent")
    assert (code, err) == (0, "")
    header = next(line for line in out.splitlines() if "┃" in line)
    assert [cell.strip() for cell in header.split("┃")[1:-1]] == result_header(By.AGENT)
    cells = [[cell.strip() for cell in line.split("│")[1:-1]] for line in out.splitlines() if "│" in line]
    assert cells[0] == ["agent1", "3", "3", "100.0%", "score", "1", "很不满意", "1", "33.3%", "66.7%", "3.33"]
    assert cells[1] == ["", "", "", "", "", "2", "不满意", "0", "0.0%", "", ""]
    assert [row[0] for row in cells if row[0]] == ["agent1", "agent2", "(none)"]


@pytest.mark.usefixtures("data")
def test_results_table_without_responses(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = output(run, capsys, "survey", "results", NAME, "--since", "2027-01-01")
    assert (code, out) == (0, f"survey {NAME}: no responses\n")


@pytest.mark.usefixtures("data")
def test_results_csv_by_day(
    run: Run, database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results.csv"
    code, printed, _ = output(run, capsys, "survey", "results", NAME, "--by", "day", "--out", out)
    assert (code, printed) == (0, f"results of survey {NAME} written to {out}\n")
    rows = read_csv(out)
    assert rows[0] == result_header(By.DAY)
    day1 = ["2026-11-23", "2", "2", "1.0"]
    assert rows[1:8] == [
        [*day1, "score", "1", "很不满意", "1", "0.5", "0.5", "3.0"],
        [*day1, "score", "2", "不满意", "0", "0.0", "0.5", "3.0"],
        [*day1, "score", "3", "一般", "0", "0.0", "0.5", "3.0"],
        [*day1, "score", "4", "满意", "0", "0.0", "0.5", "3.0"],
        [*day1, "score", "5", "很满意", "1", "0.5", "0.5", "3.0"],
        [*day1, "score", "invalid", "", "0", "", "0.5", "3.0"],
        [*day1, "score", "no_input", "", "0", "", "0.5", "3.0"],
    ]
    assert rows[8] == [*day1, "callback", "1", "需要回电", "1", "1.0", "", ""]
    assert [row[0] for row in rows[1:]] == ["2026-11-23"] * 14 + ["2026-11-24"] * 14 + ["2026-11-25"] * 14
    assert rows[1:] == as_text(list(result_rows(survey_results(database, NAME, By.DAY, Period()))))


@pytest.mark.usefixtures("data")
def test_results_xlsx_by_campaign(
    run: Run, database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results.xlsx"
    code, _, err = output(
        run, capsys, "survey", "results", NAME, "--by", "campaign", "--format", "xlsx", "--out", out
    )
    assert (code, err) == (0, "")
    rows = read_xlsx(out)
    assert rows[0] == result_header(By.CAMPAIGN)
    assert rows[1] == ["冬季回访", 2, 0, 0, "score", "1", "很不满意", 0, 0, None, None]
    assert rows[6:8] == [
        ["冬季回访", 2, 0, 0, "score", "invalid", None, 1, None, None, None],
        ["冬季回访", 2, 0, 0, "score", "no_input", None, 1, None, None, None],
    ]
    assert rows[15] == ["秋季回访", 4, 4, 1, "score", "1", "很不满意", 1, 0.25, 0.75, 3.5]
    assert rows[1:] == list(result_rows(survey_results(database, NAME, By.CAMPAIGN, Period())))


@pytest.mark.usefixtures("data")
def test_results_json_printed_and_written(
    run: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, printed, _ = output(
        run, capsys, "survey", "results", NAME, "--format", "json", "--until", "2026-11-23"
    )
    assert code == 0
    data = json.loads(printed)
    assert (data["survey"], data["by"], data["since"], data["until"]) == (NAME, None, None, "2026-11-23")
    (group,) = data["groups"]
    assert (group["group"], group["responses"], group["complete"], group["completion_rate"]) == (
        NAME,
        2,
        2,
        1.0,
    )
    score = group["questions"][0]
    assert (score["answered"], score["scale"], score["csat"], score["mean_score"]) == (2, 5, 0.5, 3.0)
    out = tmp_path / "results.json"
    assert run("survey", "results", NAME, "--until", "2026-11-23", "--out", out) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == data


NO_QUEUE = ("", "")  # an outbound response's queue and inbound call


def expected_export(data: SurveyData) -> list[list[str]]:
    r1, r2, r3, r4, r5, r6 = (str(n) for n in data.responses)
    a1, a2, a3, a4 = (str(n) for n in data.attempts)

    def line(response: str, started: str, status: str, *rest: str) -> list[str]:
        return [response, f"2026-11-{started}:00+00:00", f"2026-11-{started}:40+00:00", status, *rest]

    return [
        export_header(QUESTIONS),
        line(
            r1,
            "23T01:30",
            "complete",
            "秋季回访",
            "agent1",
            a1,
            PHONE,
            *NO_QUEUE,
            "5",
            "很满意",
            "",
            "",
            "",
            "",
        ),
        line(
            r2,
            "23T23:30",
            "complete",
            "秋季回访",
            "agent1",
            a2,
            PHONE,
            *NO_QUEUE,
            "1",
            "很不满意",
            "1",
            "需要回电",
            "",
            "",
        ),
        line(
            r3,
            "24T02:00",
            "partial",
            "冬季回访",
            "agent2",
            a3,
            PHONE,
            *NO_QUEUE,
            "",
            "(invalid)",
            "",
            "",
            "",
            "",
        ),
        line(r4, "24T03:00", "partial", "冬季回访", "", "", "", *NO_QUEUE, "", "(no_input)", "", "", "", ""),
        line(
            r5,
            "24T04:00",
            "complete",
            "秋季回访",
            "agent2",
            a4,
            PHONE,
            *NO_QUEUE,
            "4",
            "满意",
            "",
            "",
            "",
            "",
        ),
        line(
            r6,
            "25T00:10",
            "complete",
            "秋季回访",
            "agent1",
            "",
            "",
            *NO_QUEUE,
            "4",
            "满意",
            "",
            "",
            "2",
            "是",
        ),
    ]


def test_export_csv(run: Run, data: SurveyData, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "responses.csv"
    code, printed, _ = output(run, capsys, "survey", "export", NAME, "--out", out)
    assert (code, printed) == (0, f"6 responses of survey {NAME} written to {out}\n")
    assert read_csv(out) == expected_export(data)


def test_export_xlsx(run: Run, data: SurveyData, tmp_path: Path) -> None:
    out = tmp_path / "responses.xlsx"
    assert run("survey", "export", NAME, "--out", out, "--since", "2026-11-24") == 0
    expected = expected_export(data)
    assert as_text(read_xlsx(out)) == [expected[0], *expected[3:]]
    assert read_xlsx(out)[1][0] == data.responses[2]  # numbers stay numbers


def test_export_json(run: Run, data: SurveyData, tmp_path: Path) -> None:
    out = tmp_path / "responses.data"
    assert run("survey", "export", NAME, "--format", "json", "--out", out) == 0
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert [row["response_id"] for row in exported] == data.responses
    assert exported[1] == {
        "response_id": data.responses[1],
        "started_at": "2026-11-23T23:30:00+00:00",
        "ended_at": "2026-11-23T23:30:40+00:00",
        "status": "complete",
        "campaign": "秋季回访",
        "agent": "agent1",
        "attempt_id": data.attempts[1],
        "phone": PHONE,
        "queue": None,
        "inbound_call_id": None,
        "answers": {
            "score": {"key": "1", "meaning": "很不满意", "result": "answered"},
            "callback": {"key": "1", "meaning": "需要回电", "result": "answered"},
        },
    }
    assert exported[2]["answers"] == {"score": {"key": None, "meaning": None, "result": "invalid"}}
    assert run("survey", "export", NAME, "--out", out, "--format", "json", "--since", "2027-01-01") == 0
    assert json.loads(out.read_text(encoding="utf-8")) == []


@pytest.mark.usefixtures("data")
@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("results", "满意度"), "no survey named '满意度' (`ringcast survey list` shows them)"),
        (
            ("export", "满意度", "--out", "x.csv"),
            "no survey named '满意度' (`ringcast survey list` shows them)",
        ),
        (
            ("results", NAME, "--since", "2026-11-31"),
            "--since '2026-11-31' is not a date (give a UTC day as YYYY-MM-DD)",
        ),
        (
            ("export", NAME, "--out", "x.csv", "--until", "11/30"),
            "--until '11/30' is not a date (give a UTC day as YYYY-MM-DD)",
        ),
        (
            ("results", NAME, "--since", "2026-11-30", "--until", "2026-11-01"),
            "--since 2026-11-30 is after --until 2026-11-01 (give the earlier day first)",
        ),
        (
            ("export", NAME, "--out", "x.txt"),
            "cannot tell which format to write x.txt in"
            " (give --format, or a file ending in .csv, .xlsx or .json)",
        ),
        (("results", NAME, "--format", "csv"), "--format csv writes a file (give --out FILE)"),
        (
            ("results", NAME, "--format", "table", "--out", "x.csv"),
            "--format table is printed, not written to --out (give --format csv, xlsx or json)",
        ),
        (
            ("export", NAME, "--out", "missing/x.csv"),
            "cannot write missing/x.csv: No such file or directory"
            " (check that its directory exists and is writable)",
        ),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    run: Run,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    error: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert output(run, capsys, "survey", *args) == (2, "", f"error: {error}\n")
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith("x")] == []


@pytest.mark.usefixtures("data")
def test_an_unknown_format_or_grouping_is_a_usage_error(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = output(run, capsys, "survey", "results", NAME, "--by", "week")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "'week' is not one of" in err
    code, _, err = output(run, capsys, "survey", "export", NAME, "--format", "table", "--out", "x.csv")
    assert code == 2 and "'table' is not one of" in err
