"""API v1: approvals."""

from ninja import Router

router = Router(tags=["approvals"])
