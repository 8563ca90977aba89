"""`ringcast survey ...`: keypress survey documents (SRV-1) and their prompts (IVR-5).

`validate` checks a YAML or JSON file and lists every problem, one line each with its place in the
document. `create` and `update` check the same way, render the survey's text prompts that have no
sound file yet (offline TTS, a progress bar on a terminal), then store the document; prompts come
first, so a stored survey's prompts are ready and a failed render stores nothing. `show` prints a
stored survey as YAML (which `update` takes back) or JSON, with its version; `list` all of them.
`prompt upload` installs a recording as a sound a survey can play (`audio:`). Thin over
`campaigns.surveys.store` and `dialer.asterisk.prompts`.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from campaigns.surveys import store
from campaigns.surveys.document import Survey, SurveyError, parse_survey
from cli.campaign import open_database, print_json
from dialer.asterisk.prompts import PromptLibrary
from ringcast.errors import UserError
from ringcast.settings import load_settings

survey_app = typer.Typer(no_args_is_help=True)  # its help: `cli.main.COMMANDS`
prompt_app = typer.Typer(no_args_is_help=True, help="Recorded prompts surveys play.")
survey_app.add_typer(prompt_app, name="prompt")
console = Console(highlight=False, soft_wrap=True)

FILE_HELP = "The survey, YAML or JSON."


class Format(StrEnum):
    YAML = "yaml"
    JSON = "json"


@survey_app.command("validate")
def validate(file: Path = typer.Argument(..., help=FILE_HELP)) -> None:
    """Check a survey document: shapes, keys, where each answer leads, loops and unreachable questions."""
    survey = _read(file)
    console.print(f"{file}: survey {survey.name}, {len(survey.questions)} questions: valid", markup=False)


@survey_app.command("create")
def create(file: Path = typer.Argument(..., help=FILE_HELP)) -> None:
    """Check a survey, render its text prompts and store it (version 1)."""
    survey = _read(file)
    with open_database() as database:
        rendered = _render(survey)
        store.create_survey(database, survey)
    console.print(f"created survey {survey.name}, version 1: {_summary(survey, rendered)}", markup=False)


@survey_app.command("update")
def update(
    name: str = typer.Argument(..., help="The stored survey's name (the document must carry it)."),
    file: Path = typer.Argument(..., help=FILE_HELP),
) -> None:
    """Replace a survey's document with a checked new one, as its next version."""
    survey = _read(file)
    with open_database() as database:
        rendered = _render(survey)
        version = store.update_survey(database, name, survey)
    console.print(f"updated survey {name} to version {version}: {_summary(survey, rendered)}", markup=False)


@survey_app.command("show")
def show(
    name: str = typer.Argument(..., help="The survey's name."),
    output: Format = typer.Option(Format.YAML, "--format", help="yaml (what update takes) or json."),
) -> None:
    """Print a stored survey's document and its version."""
    with open_database() as database:
        stored = store.load_survey_named(database, name)
    document = stored.survey.model_dump(exclude_none=True)
    if output is Format.JSON:
        print_json({"name": stored.name, "version": stored.version, "survey": document})
        return
    typer.echo(f"# survey {stored.name}, version {stored.version}")
    typer.echo(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), nl=False)


@survey_app.command("list")
def list_all() -> None:
    """Every stored survey with its version, language and number of questions."""
    with open_database() as database:
        surveys = store.list_surveys(database)
    if not surveys:
        typer.echo("no surveys yet (store one with `ringcast survey create FILE`)")
        return
    table = Table("survey", "version", "language", "questions")
    for stored in surveys:
        table.add_row(
            stored.name, str(stored.version), stored.survey.language, str(len(stored.survey.questions))
        )
    Console().print(table)


@prompt_app.command("upload")
def upload(
    file: Path = typer.Argument(..., help="The recording: WAV, or another format sox reads."),
    name: str = typer.Option(..., "--name", help="Its sound name, e.g. callback-offer."),
) -> None:
    """Install a recording (converted to 8 kHz mono WAV) as a sound survey prompts can play."""
    sound = PromptLibrary.from_settings(load_settings()).install_audio(file, name)
    console.print(f"{file}: installed as {sound} (give it as a prompt's audio)", markup=False)


def _read(file: Path) -> Survey:
    """The survey in `file`; else every problem printed on a line of its own, and a `UserError`."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"survey {file}: cannot be read as UTF-8 text ({error.__class__.__name__})") from None
    try:
        return parse_survey(text, str(file))
    except SurveyError as error:
        for problem in error.problems:
            console.print(f"{file}: {problem}", markup=False)
        raise UserError(f"survey {file}: {len(error.problems)} problem(s), listed above") from None


def _render(survey: Survey) -> int:
    """Render the survey's missing text prompts, with a progress bar on a terminal; how many."""
    library = PromptLibrary.from_settings(load_settings())
    bar_console = Console(stderr=True)
    if not bar_console.is_terminal:
        return library.render_missing(survey)
    columns = (TextColumn("rendering prompts"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=bar_console, transient=True) as bar:
        task = bar.add_task("render", total=None)
        return library.render_missing(
            survey, lambda done, total: bar.update(task, completed=done, total=total)
        )


def _summary(survey: Survey, rendered: int) -> str:
    return f"{len(survey.questions)} questions, {rendered} prompt(s) rendered"
