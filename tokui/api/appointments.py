"""/api/v1/ endpoints for appointments (see tokui.activities)."""

from ninja import Router

router = Router(tags=["appointments"])
