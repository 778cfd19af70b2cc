"""storage-sync's declarative base: every table of this service hangs off its metadata."""

from labelops_common.db import make_base

Base = make_base()
