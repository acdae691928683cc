"""Area-indicator lookups (the loaded editions, postcodes to areas, values by area) and, per participant, the
stored areas and the values derived from them. Participants appear by their pseudonymous id only: the home
postcode stays with the personal details; the area codes derived from it are kept here so that a new edition can
be applied without reading the postcode again."""

from sqlalchemy import Column, Index, Integer, SmallInteger, String, Table, Uuid

from medic.shared.db import UtcDateTime

from .metadata import metadata

area_lookup_editions = Table(
    "area_lookup_editions",
    metadata,
    Column("dataset", String(20), primary_key=True),
    Column("edition", String(20), primary_key=True),
    Column("geography", String(10), nullable=False),
    Column("file", String(255), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("loaded_at", UtcDateTime, nullable=False),
)

# The ONS postcode directory most recently loaded (a new edition replaces the rows).
postcode_areas = Table(
    "postcode_areas",
    metadata,
    Column("postcode", String(8), primary_key=True),
    Column("lsoa11", String(9)),
    Column("msoa11", String(9)),
    Column("lsoa21", String(9)),
    Column("msoa21", String(9)),
)

area_lookup_values = Table(
    "area_lookup_values",
    metadata,
    Column("dataset", String(20), primary_key=True),
    Column("edition", String(20), primary_key=True),
    Column("area_code", String(9), primary_key=True),
    Column("measure", String(30), primary_key=True),
    Column("value", SmallInteger, nullable=False),
    Index("ix_area_lookup_values_area_code", "area_code"),
)

participant_areas = Table(
    "participant_areas",
    metadata,
    Column("participant_id", Uuid, primary_key=True),
    Column("lsoa11", String(9)),
    Column("msoa11", String(9)),
    Column("lsoa21", String(9)),
    Column("msoa21", String(9)),
    Column("resolved_at", UtcDateTime, nullable=False),
)

participant_area_indicators = Table(
    "participant_area_indicators",
    metadata,
    Column("participant_id", Uuid, primary_key=True),
    Column("dataset", String(20), primary_key=True),
    Column("edition", String(20), primary_key=True),
    Column("measure", String(30), primary_key=True),
    Column("value", SmallInteger, nullable=False),
    Column("derived_at", UtcDateTime, nullable=False),
)
