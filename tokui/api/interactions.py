"""/api/v1/ endpoints for interactions (see tokui.activities)."""

from ninja import Router

router = Router(tags=["interactions"])
