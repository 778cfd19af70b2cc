"""export-svc's declarative base: every table of this service hangs off its metadata."""

from labelops_common.db import NAMING_CONVENTION, TYPE_ANNOTATION_MAP
from sqlalchemy import BigInteger, Integer, MetaData
from sqlalchemy.orm import DeclarativeBase

#: 64-bit ids on PostgreSQL; plain INTEGER on SQLite, whose rowid autoincrement needs it.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = TYPE_ANNOTATION_MAP
