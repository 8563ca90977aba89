"""Number places in the database: the ids of sets of place texts, found or added, and a lead's place.

Leads refer to their region, city and carrier texts by `leads.place_id` (`NumberPlace`). Whoever
writes a lead with a place (the importer, an agent's screen making a caller's lead, a purge that
keeps only the region) asks `place_ids` for the ids of its sets of texts (`place_id` for one
set): one query finds those already there, and the others are added with `ON CONFLICT DO
NOTHING` then read back, so two writers adding the same place at once both get its one row. The
set with no text at all is no place: a NULL `place_id`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from campaigns.persistence.models import Base, Lead, NumberPlace
from imports.number_facts import Place

KEY_SEPARATOR = "\x1f"  # ASCII unit separator: in no place text
_PLACES = Base.metadata.tables["number_places"]


class PlaceTexts(NamedTuple):
    """A place's texts as `NumberPlace` stores them (None where phonenumbers has none; never '')."""

    region: str | None
    city: str | None
    carrier: str | None
    region_en: str | None
    city_en: str | None
    carrier_en: str | None


NO_PLACE = PlaceTexts(None, None, None, None, None, None)


def texts_of(place: Place) -> PlaceTexts:
    return PlaceTexts(
        place.region_zh, place.city_zh, place.carrier_zh, place.region_en, place.city_en, place.carrier_en
    )


def place_key(texts: PlaceTexts) -> str:
    """The texts joined on `KEY_SEPARATOR`, a missing one as '' (no text is empty, so this is
    one-to-one); migration 0022 computes the same in SQL."""
    return KEY_SEPARATOR.join(text or "" for text in texts)


def place_ids(connection: Connection, wanted: Collection[PlaceTexts]) -> dict[PlaceTexts, int | None]:
    """The id of each set of texts (None for `NO_PLACE`), adding the places not there yet."""
    keys = {place_key(texts): texts for texts in wanted if texts != NO_PLACE}
    found = _ids(connection, list(keys))
    missing = sorted(key for key in keys if key not in found)  # in one order for every writer: no deadlock
    if missing:
        insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
        rows = [{"key": key, **keys[key]._asdict()} for key in missing]
        connection.execute(insert(_PLACES).on_conflict_do_nothing(index_elements=["key"]), rows)
        found |= _ids(connection, missing)
    ids: dict[PlaceTexts, int | None] = {texts: found[key] for key, texts in keys.items()}
    if NO_PLACE in wanted:
        ids[NO_PLACE] = None
    return ids


def place_id(connection: Connection, texts: PlaceTexts) -> int | None:
    """The id of one set of texts (None for `NO_PLACE`), adding the place if it is not there yet."""
    return place_ids(connection, [texts])[texts]


def regions_only(connection: Connection, ids: Collection[int | None]) -> dict[int | None, int | None]:
    """For each of these places, the id of the place with its region alone (what a purge keeps);
    no place (None) stays none."""
    columns = (_PLACES.c.id, _PLACES.c.region, _PLACES.c.region_en)
    query = select(*columns).where(_PLACES.c.id.in_([place_id for place_id in ids if place_id is not None]))
    kept = {
        place_id: PlaceTexts(region, None, None, region_en, None, None)
        for place_id, region, region_en in connection.execute(query)
    }
    new_ids = place_ids(connection, set(kept.values()))
    regions: dict[int | None, int | None] = {None: None}
    regions.update((place_id, new_ids[texts]) for place_id, texts in kept.items())
    return regions


def place_of(session: Session, lead: Lead) -> PlaceTexts:
    """The lead's place texts (`NO_PLACE` if it has none)."""
    place = session.get(NumberPlace, lead.place_id) if lead.place_id is not None else None
    if place is None:
        return NO_PLACE
    return PlaceTexts(
        place.region, place.city, place.carrier, place.region_en, place.city_en, place.carrier_en
    )


def _ids(connection: Connection, keys: list[str]) -> dict[str, int]:
    if not keys:
        return {}
    rows = connection.execute(select(_PLACES.c.key, _PLACES.c.id).where(_PLACES.c.key.in_(keys)))
    return {key: place_id for key, place_id in rows}
