import io

from tokui.catalog.constants import ProductStatus, TaxCategory
from tokui.catalog.models import CompetitorProduct, PriceList, Product
from tokui.catalog.selectors import product_price_tiers
from tokui.core.models import AuditEvent


def test_the_demo_catalog_is_plausible_and_loaded_once(db):
    from tokui.web.demo import demo_load
    from tokui.web.demo_catalog import demo_catalog

    demo_load(accounts=120)
    demo_catalog(stdout=io.StringIO())  # demo_load may call it too: once or twice is the same
    assert 25 <= Product.objects.count() <= 40
    gone = Product.objects.get(status=ProductStatus.DISCONTINUED)
    assert gone.substitutes.filter(status=ProductStatus.ACTIVE).exists()
    assert Product.objects.filter(tax_category=TaxCategory.REDUCED).exists()
    assert all(p.cost is not None and p.cost < p.list_price for p in Product.objects.all())
    assert CompetitorProduct.objects.filter(competitor__kind="competitor").exists()
    standard = PriceList.objects.get(is_default=True)
    pump = Product.objects.get(sku="PMP-100A")
    tiers = dict(product_price_tiers(product=pump))
    prices = [item.unit_price for item in tiers[standard]]
    assert prices == sorted(prices, reverse=True) and len(prices) == 3
    events = AuditEvent.objects.count()
    demo_catalog(stdout=io.StringIO())
    assert AuditEvent.objects.count() == events


def test_the_demo_catalog_needs_the_demo_users(db):
    from tokui.web.demo_catalog import demo_catalog

    out = io.StringIO()
    demo_catalog(stdout=out)
    assert "load the demo first" in out.getvalue()
    assert not Product.objects.exists()
