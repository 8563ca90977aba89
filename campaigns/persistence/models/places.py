"""Number places (号码归属地): the region, city and carrier texts of a number, one row per distinct set.

phonenumbers' prefix data gives each number its province or state, city and carrier, in Chinese
and in English (IMP-3). A few thousand sets cover every number of a country, so leads refer to
theirs by `leads.place_id` instead of carrying the six texts: a fifth of the bytes of an imported
lead, which an import writes (and SQLite's write-ahead log twice). `key` identifies a set, NULLs
included (`campaigns.place_store.place_key`, which finds or adds places by it). A place is never
changed or deleted, so `leads.place_id` needs no foreign key (which would cost PostgreSQL a
trigger query per imported lead, as `leads.list_id`'s module doc explains).
"""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.persistence.models.base import Base


class NumberPlace(Base):
    __tablename__ = "number_places"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(400), unique=True)  # the six texts, joined
    region: Mapped[str | None] = mapped_column(String(64))  # province or state, Chinese
    city: Mapped[str | None] = mapped_column(String(64))
    carrier: Mapped[str | None] = mapped_column(String(64))
    region_en: Mapped[str | None] = mapped_column(String(64))
    city_en: Mapped[str | None] = mapped_column(String(64))
    carrier_en: Mapped[str | None] = mapped_column(String(64))
