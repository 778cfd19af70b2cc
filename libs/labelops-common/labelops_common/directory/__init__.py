"""What a service knows of projects and people: project-svc's answers over gRPC, cached.

Every request a service serves for a project needs its organization (for access) and its
labeling config; asking project-svc each time would double every request, so answers are
kept for a few seconds (a config edited in project-svc is seen within `ttl_seconds`).
User names are kept for a minute and never fail a read: without project-svc, a user is
served as `{"id": n}`.
"""

from labelops_common.directory.projects import ProjectDirectory, ProjectInfo
from labelops_common.directory.users import PersonAnswer, UserDirectory, UserObject

__all__ = ["PersonAnswer", "ProjectDirectory", "ProjectInfo", "UserDirectory", "UserObject"]
