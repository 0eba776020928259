"""/api/v1/ endpoints for telephony (see tokui.activities)."""

from ninja import Router

router = Router(tags=["telephony"])
