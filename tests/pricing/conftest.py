"""Pricing tests price catalog records: reuse the catalog's fixtures."""

from tests.catalog.conftest import make_product, pump_line

__all__ = ["make_product", "pump_line"]
