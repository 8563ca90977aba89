"""`ringcast ivr` with a flow's survey nodes and menu keys: an unknown survey is a problem with its path
(validate, activate), and a flow stored with a menu key `#` still loads and lists, its `#` a problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaigns import ivr_store
from campaigns.persistence.db import Database
from campaigns.persistence.models import IvrFlow
from campaigns.surveys.document import parse_survey
from campaigns.surveys.store import create_survey
from tests.db.importing import Run
from tests.db.test_ivr_cli import output, run  # noqa: F401 (the `run` fixture)
from tests.db.test_ivr_store import CHANGE
from tests.unit.test_survey_document import GOOD as SURVEY

pytestmark = pytest.mark.db

WITH_SURVEY = """name: feedback
start: rate
nodes:
  rate: {type: survey, survey: 满意度回访, next: bye}
  bye: {type: hangup, prompt: {text: 再见}}
"""
HASH_KEY = """name: legacy
start: menu
nodes:
  menu: {type: menu, prompt: {text: 请按井号}, keys: {"#": bye}}
  bye: {type: hangup}
"""
HASH_PROBLEM = (
    "nodes.menu.keys.#: # ends what the caller keys on the PBX, so a menu never hears it: use 0-9 or *"
)


def test_validate_and_activate_name_an_unknown_survey_with_its_path(
    run: Run,  # noqa: F811
    database: Database,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    flow = tmp_path / "feedback.yaml"
    flow.write_text(WITH_SURVEY, encoding="utf-8")
    problem = f"{flow}: nodes.rate.survey: no survey 满意度回访 (`ringcast survey list` shows them)\n"
    code, out, err = output(run, capsys, "validate", flow)
    assert (code, out) == (2, problem) and err.count("\n") == 1  # then one line, no traceback
    assert output(run, capsys, "create", flow, "--activate")[:2] == (2, problem)
    assert output(run, capsys, "create", flow)[0] == 0  # a draft
    assert output(run, capsys, "activate", "feedback")[:2] == (2, problem.replace(str(flow), "feedback"))

    create_survey(database, parse_survey(SURVEY))
    assert output(run, capsys, "validate", flow) == (0, f"{flow}: flow feedback, 2 nodes: valid\n", "")
    assert output(run, capsys, "activate", "feedback") == (0, "IVR flow feedback, version 1: active\n", "")


def test_a_flow_stored_with_a_menu_key_hash_loads_and_lists_but_is_not_activated(
    run: Run,  # noqa: F811
    database: Database,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    with database.session() as session:  # as stored before the parse refused it
        session.add(IvrFlow(name="legacy", document=HASH_KEY, version=1, active=False))
    assert list(ivr_store.get_flow(database, "legacy").flow.nodes) == ["menu", "bye"]
    code, out, _ = output(run, capsys, "list")
    assert code == 0 and "legacy" in out and "inactive" in out
    assert output(run, capsys, "activate", "legacy")[:2] == (2, f"legacy: {HASH_PROBLEM}\n")
    with pytest.raises(ivr_store.FlowError) as refused:
        ivr_store.activate_flow(database, "legacy", CHANGE)
    assert refused.value.problems == [HASH_PROBLEM]
    flow = tmp_path / "legacy.yaml"
    flow.write_text(HASH_KEY, encoding="utf-8")
    assert output(run, capsys, "validate", flow)[:2] == (2, f"{flow}: {HASH_PROBLEM}\n")
