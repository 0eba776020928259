import io

from django.utils import timezone

from tokui.catalog.models import Product
from tokui.pricing.models import Agreement
from tokui.pricing.quotes import price_quote
from tokui.users.models import User


def test_the_demo_gives_two_key_accounts_an_agreement_the_quote_applies(db):
    from tokui.web.demo import demo_load
    from tokui.web.demo_catalog import demo_catalog
    from tokui.web.demo_pricing import demo_pricing

    demo_load(accounts=120)
    demo_catalog(stdout=io.StringIO())
    demo_pricing(stdout=io.StringIO())
    agreements = list(Agreement.objects.select_related("account"))
    assert len(agreements) == 4  # three accounts, one with last year's too
    assert all(a.account.tier == "key" and a.prices.exists() for a in agreements)
    kam = User.objects.get(username="kam")
    first = min(agreements, key=lambda a: a.account_id)
    pump = Product.objects.get(sku="PMP-100A")
    quote = price_quote(
        viewer=kam, account_id=first.account_id, product_id=pump.pk, quantity=5,
        on=timezone.localdate(),
    )  # fmt: skip
    assert quote.unit_price == 248_000
    assert first.name in quote.text
    demo_pricing(stdout=io.StringIO())
    assert Agreement.objects.count() == 4
