"""/api/v1/ endpoints for reports (see tokui.activities)."""

from ninja import Router

router = Router(tags=["reports"])
