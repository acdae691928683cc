"""The one SQLAlchemy `MetaData` every table of the outreach database belongs to."""

from sqlalchemy import MetaData

metadata = MetaData()
