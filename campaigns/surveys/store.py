"""Survey definitions in the database (SRV-1): create, update, load and list the `surveys` rows.

This module owns the `surveys` table; responses and answers are written elsewhere. A survey is
stored by name, its document in `definition` as the JSON of `Survey.model_dump(exclude_none=True)`
(read back with `Survey.model_validate`), with a `version` that starts at 1 and grows by one with
every update, so a response can say which version its respondent heard. A survey keeps its name: an
update's document must carry the name it is stored under.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.agent_store import named
from campaigns.persistence.db import Database
from campaigns.persistence.models import Survey as SurveyRow
from campaigns.surveys.document import Survey
from ringcast.errors import UserError


@dataclass(frozen=True)
class StoredSurvey:
    """A survey as stored: its row's id, name and version, and the document."""

    id: int
    name: str
    version: int
    survey: Survey


def create_survey(database: Database, survey: Survey) -> int:
    """Store a new survey (version 1); its id. A `UserError` if one has that name already."""
    with database.session() as session:
        if session.scalar(select(SurveyRow.id).where(SurveyRow.name == survey.name)) is not None:
            raise UserError(
                f"survey {survey.name} already exists",
                hint=f"change it with `ringcast survey update {survey.name} FILE`",
            )
        row = SurveyRow(name=survey.name, version=1, definition=_definition(survey))
        session.add(row)
        session.flush()
        return row.id


def update_survey(database: Database, name: str, survey: Survey) -> int:
    """Replace the document of survey `name`; its new version."""
    if survey.name != name:
        raise UserError(
            f"the document is survey {survey.name}, not {name}",
            hint=f"set `name: {name}` in it (a survey keeps its name), or create it as a new survey",
        )
    with database.session() as session:
        row = named(session, SurveyRow, name, lock=True)
        row.version += 1
        row.definition = _definition(survey)
        return row.version


def load_survey(session: Session, survey_id: int) -> StoredSurvey:
    """The survey with id `survey_id`, in the caller's transaction."""
    row = session.get(SurveyRow, survey_id)
    if row is None:
        raise UserError(f"no survey with id {survey_id}", hint="`ringcast survey list` shows them")
    return _stored(row)


def load_survey_named(database: Database, name: str) -> StoredSurvey:
    with database.session() as session:
        return _stored(named(session, SurveyRow, name))


def list_surveys(database: Database) -> list[StoredSurvey]:
    """Every survey, by name."""
    with database.session() as session:
        return [_stored(row) for row in session.scalars(select(SurveyRow).order_by(SurveyRow.name))]


def _definition(survey: Survey) -> dict[str, object]:
    return survey.model_dump(exclude_none=True)


def _stored(row: SurveyRow) -> StoredSurvey:
    return StoredSurvey(row.id, row.name, row.version, Survey.model_validate(row.definition))
