"""Fixtures of the DB tests."""

from __future__ import annotations

import pytest

from campaigns.persistence.db import Database
from tests.db.rows import Seed, add_seed


@pytest.fixture
def seed(database: Database) -> Seed:
    """A campaign, a list and a dialable lead, committed."""
    return add_seed(database)
