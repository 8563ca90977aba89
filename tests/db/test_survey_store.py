"""Survey definitions (SRV-1): stored by name as JSON, versioned by update, read back as they were given."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from campaigns.persistence.db import Database
from campaigns.persistence.models import Survey as SurveyRow
from campaigns.surveys.document import parse_survey
from campaigns.surveys.store import (
    StoredSurvey,
    create_survey,
    list_surveys,
    load_survey,
    load_survey_named,
    update_survey,
)
from ringcast.errors import UserError
from tests.unit.test_survey_document import GOOD

pytestmark = pytest.mark.db

SHORT = (
    "name: 满意度回访\nlanguage: en\nquestions:\n  - {id: q, prompt: {text: Press one}, keys: {'1': yes}}\n"
)


def test_create_stores_the_document_as_json_and_loads_it_back(database: Database) -> None:
    survey = parse_survey(GOOD)
    survey_id = create_survey(database, survey)
    with database.session() as session:
        definition = session.scalars(select(SurveyRow.definition)).one()
        assert load_survey(session, survey_id) == StoredSurvey(survey_id, "满意度回访", 1, survey)
    assert definition == survey.model_dump(exclude_none=True)
    assert "invalid" not in definition["questions"][1]  # no nulls for what was not given
    assert load_survey_named(database, "满意度回访") == StoredSurvey(survey_id, "满意度回访", 1, survey)


def test_a_name_is_taken_once(database: Database) -> None:
    create_survey(database, parse_survey(GOOD))
    with pytest.raises(UserError) as raised:
        create_survey(database, parse_survey(SHORT))
    assert str(raised.value) == (
        "survey 满意度回访 already exists (change it with `ringcast survey update 满意度回访 FILE`)"
    )
    assert load_survey_named(database, "满意度回访").survey == parse_survey(GOOD)


def test_update_replaces_the_document_under_the_next_version(database: Database) -> None:
    survey_id = create_survey(database, parse_survey(GOOD))
    assert update_survey(database, "满意度回访", parse_survey(SHORT)) == 2
    assert update_survey(database, "满意度回访", parse_survey(GOOD)) == 3
    with database.session() as session:
        assert load_survey(session, survey_id) == StoredSurvey(survey_id, "满意度回访", 3, parse_survey(GOOD))
    assert update_survey(database, "满意度回访", parse_survey(SHORT)) == 4
    assert load_survey_named(database, "满意度回访").survey.language == "en"


def test_update_errors_change_nothing(database: Database) -> None:
    create_survey(database, parse_survey(GOOD))
    with pytest.raises(UserError) as raised:
        update_survey(database, "other", parse_survey(GOOD))
    assert str(raised.value) == (
        "the document is survey 满意度回访, not other "
        "(set `name: other` in it (a survey keeps its name), or create it as a new survey)"
    )
    renamed = parse_survey(GOOD.replace("name: 满意度回访", "name: other"))
    with pytest.raises(UserError, match=r"no survey named 'other' \(`ringcast survey list` shows them\)"):
        update_survey(database, "other", renamed)
    assert load_survey_named(database, "满意度回访").version == 1


def test_unknown_surveys_and_listing(database: Database) -> None:
    with database.session() as session, pytest.raises(UserError, match=r"no survey with id 99"):
        load_survey(session, 99)
    with pytest.raises(UserError, match=r"no survey named '满意度回访'"):
        load_survey_named(database, "满意度回访")
    assert list_surveys(database) == []
    create_survey(database, parse_survey(GOOD))
    create_survey(database, parse_survey(SHORT.replace("满意度回访", "A-check")))
    assert [(s.name, s.version, s.survey.language) for s in list_surveys(database)] == [
        ("A-check", 1, "en"),
        ("满意度回访", 1, "zh"),
    ]
