"""export-svc's declarative base: every table of this service hangs off its metadata."""

from labelops_common.db import NAMING_CONVENTION, TYPE_ANNOTATION_MAP
from sqlalchemy import BigInteger, MetaData
from sqlalchemy.orm import DeclarativeBase

#: 64-bit ids.
BigId = BigInteger()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = TYPE_ANNOTATION_MAP
