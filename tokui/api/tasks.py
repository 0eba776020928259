"""/api/v1/ endpoints for tasks (see tokui.activities)."""

from ninja import Router

router = Router(tags=["tasks"])
