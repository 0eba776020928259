"""API v1: agreements."""

from ninja import Router

router = Router(tags=["agreements"])
