"""Reads of the catalog. Everyone signed in reads it; cost and margin only ``ROLES_SEEING_COST``."""

import datetime
from collections import defaultdict
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.accounts.constants import AccountKind
from tokui.accounts.models import Account
from tokui.catalog.constants import ROLES_EDITING_CATALOG, ROLES_SEEING_COST, ProductStatus
from tokui.catalog.models import CompetitorProduct, PriceList, PriceListItem, Product, ProductLine
from tokui.core.exceptions import NotFound
from tokui.core.japanese import fold


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def may_read_catalog(user: Any) -> bool:
    return _signed_in(user)


def may_edit_catalog(user: Any) -> bool:
    return _signed_in(user) and user.role in ROLES_EDITING_CATALOG


def sees_cost(user: Any) -> bool:
    """Cost and margin are confidential: heads of sales and administrators only."""
    return _signed_in(user) and user.role in ROLES_SEEING_COST


def product_list(
    *,
    viewer: Any,
    search: str = "",
    line: int | None = None,
    status: str | None = None,
) -> QuerySet[Product]:
    """Products by line and SKU; search folds width and kana (ﾎﾟﾝﾌﾟ finds ポンプ and ぽんぷ)."""
    if not may_read_catalog(viewer):
        return Product.objects.none()
    qs = Product.objects.select_related("line")
    folded = fold(search)
    if folded:
        qs = qs.filter(search_text__contains=folded)
    if line:
        qs = qs.filter(line_id=line)
    if status in ProductStatus.values:
        qs = qs.filter(status=status)
    return qs.order_by("line__sort_order", "line__name", "sku")


def product_get(*, viewer: Any, product_id: int) -> Product:
    if not may_read_catalog(viewer):
        raise NotFound(_("No such product."))
    product = (
        Product.objects.select_related("line")
        .prefetch_related(
            Prefetch("substitutes", queryset=Product.objects.select_related("line")),
            Prefetch("substitute_for", queryset=Product.objects.select_related("line")),
            Prefetch(
                "competitor_products",
                queryset=CompetitorProduct.objects.select_related("competitor"),
            ),
        )
        .filter(pk=product_id)
        .first()
    )
    if product is None:
        raise NotFound(_("No such product."))
    return product


def product_price_tiers(
    *, product: Product, on: datetime.date | None = None
) -> list[tuple[PriceList, list[PriceListItem]]]:
    """The product's quantity tiers in each price list valid on ``on`` (today), default first."""
    day = on or timezone.localdate()
    items = (
        PriceListItem.objects.filter(product=product, price_list__valid_from__lte=day)
        .filter(Q(price_list__valid_to__isnull=True) | Q(price_list__valid_to__gte=day))
        .select_related("price_list")
        .order_by("-price_list__is_default", "price_list__name", "price_list_id", "min_quantity")
    )
    grouped: dict[int, list[PriceListItem]] = defaultdict(list)
    lists: dict[int, PriceList] = {}
    for item in items:
        lists[item.price_list_id] = item.price_list
        grouped[item.price_list_id].append(item)
    return [(lists[pk], grouped[pk]) for pk in lists]


def product_line_list(*, viewer: Any) -> QuerySet[ProductLine]:
    if not may_read_catalog(viewer):
        return ProductLine.objects.none()
    return ProductLine.objects.annotate(product_count=Count("products")).order_by(
        "sort_order", "name"
    )


def product_line_get(*, viewer: Any, line_id: int) -> ProductLine:
    line = product_line_list(viewer=viewer).filter(pk=line_id).first()
    if line is None:
        raise NotFound(_("No such product line."))
    return line


def price_list_list(*, viewer: Any) -> QuerySet[PriceList]:
    if not may_read_catalog(viewer):
        return PriceList.objects.none()
    return PriceList.objects.annotate(item_count=Count("items")).order_by(
        "-is_default", "currency", "-valid_from", "name"
    )


def price_list_get(*, viewer: Any, price_list_id: int) -> PriceList:
    price_list = (
        price_list_list(viewer=viewer)
        .prefetch_related(
            Prefetch(
                "items",
                queryset=PriceListItem.objects.select_related("product").order_by(
                    "product__sku", "min_quantity"
                ),
            )
        )
        .filter(pk=price_list_id)
        .first()
    )
    if price_list is None:
        raise NotFound(_("No such price list."))
    return price_list


def competitor_account_choices(*, viewer: Any) -> QuerySet[Account]:
    """Competitor accounts a competitor's product may name."""
    return (
        Account.objects.visible_to(viewer)
        .filter(kind=AccountKind.COMPETITOR, archived_at__isnull=True)
        .order_by("sort_key", "name")
    )


def competitor_product_list(
    *,
    viewer: Any,
    search: str = "",
    competitor: int | None = None,
    product: int | None = None,
) -> QuerySet[CompetitorProduct]:
    """Competitors' products by competitor and name, with our products they rival (one query
    each). ``search`` looks in their name and the competitor's name."""
    if not may_read_catalog(viewer):
        return CompetitorProduct.objects.none()
    qs = CompetitorProduct.objects.select_related("competitor").prefetch_related(
        Prefetch("products", queryset=Product.objects.order_by("sku"))
    )
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(competitor__name__icontains=search))
    if competitor:
        qs = qs.filter(competitor_id=competitor)
    if product:
        qs = qs.filter(products=product)
    return qs.order_by("competitor__sort_key", "competitor__name", "name", "id")


def competitor_product_get(*, viewer: Any, competitor_product_id: int) -> CompetitorProduct:
    record = competitor_product_list(viewer=viewer).filter(pk=competitor_product_id).first()
    if record is None:
        raise NotFound(_("No such competitor's product."))
    return record


def competitor_products_of_account(*, viewer: Any, account: Account) -> list[CompetitorProduct]:
    """The products of a competitor account that ours are compared with (for its page)."""
    return list(competitor_product_list(viewer=viewer).filter(competitor=account))
