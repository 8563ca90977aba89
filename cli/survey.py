"""`ringcast survey ...`: keypress survey documents (SRV-1). `validate` checks a YAML or JSON file and
lists every problem, one line each with its place in the document; the survey commands that store and
run surveys come with the rest of issue 6."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from campaigns.surveys.document import SurveyError, parse_survey
from ringcast.errors import UserError

survey_app = typer.Typer(no_args_is_help=True, help="Keypress surveys (满意度调查).")
console = Console(highlight=False, soft_wrap=True)


@survey_app.command("validate")
def validate(file: Path = typer.Argument(..., help="The survey, YAML or JSON.")) -> None:
    """Check a survey document: shapes, keys, where each answer leads, loops and unreachable questions."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"survey {file}: cannot be read as UTF-8 text ({error.__class__.__name__})") from None
    try:
        survey = parse_survey(text, str(file))
    except SurveyError as error:
        for problem in error.problems:
            console.print(f"{file}: {problem}", markup=False)
        raise UserError(f"survey {file}: {len(error.problems)} problem(s), listed above") from None
    console.print(f"{file}: survey {survey.name}, {len(survey.questions)} questions: valid", markup=False)
