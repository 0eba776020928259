"""API v1: pricing_rules."""

from ninja import Router

router = Router(tags=["pricing_rules"])
