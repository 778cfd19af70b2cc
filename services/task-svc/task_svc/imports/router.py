"""imports routes (being written)."""

from labelops_common.http.routing import ApiRouter

router = ApiRouter(tags=["imports"])
