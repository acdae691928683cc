"""The one SQLAlchemy `MetaData` every table of the projects database belongs to."""

from sqlalchemy import MetaData

metadata = MetaData()
