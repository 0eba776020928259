"""Writes to the catalog: product lines, products, competitors' products and price lists.

Heads of sales and administrators keep the catalog (``ROLES_EDITING_CATALOG``). Every function
checks the actor's rights, validates every field at once, writes in one transaction and
records one audit event under the record's own scope (``catalog:product:<id>`` …), never an
account's.
"""

import datetime
import itertools
import re
import unicodedata
import zlib
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.accounts.constants import AccountKind
from tokui.accounts.models import Account
from tokui.catalog.constants import (
    COMPETITOR_PRODUCT_EDITABLE_FIELDS,
    CURRENCY_DECIMALS,
    LEAD_TIME_LIMIT,
    PRICE_LIMIT,
    PRICE_LIST_EDITABLE_FIELDS,
    PRICE_LIST_ITEMS_LIMIT,
    PRODUCT_EDITABLE_FIELDS,
    PRODUCT_LINE_EDITABLE_FIELDS,
    SUBSTITUTES_LIMIT,
    Currency,
    ProductStatus,
    TaxCategory,
    Unit,
)
from tokui.catalog.formatting import format_price
from tokui.catalog.models import (
    CompetitorProduct,
    PriceList,
    PriceListItem,
    Product,
    ProductLine,
    price_list_scope,
    product_line_scope,
    product_scope,
)
from tokui.catalog.selectors import may_edit_catalog
from tokui.core.audit import audit_record, check_version, diff, snapshot
from tokui.core.exceptions import ApplicationError, NotFound, PermissionDenied
from tokui.core.japanese import fold, normalize_kana_reading
from tokui.core.validation import ErrorCollector, check_plain_text, check_text_fields

_SKU = re.compile(r"^[A-Z0-9][A-Z0-9._/\-]*$")
QUANTITY_LIMIT = 10**9


def _require_editor(actor: Any) -> None:
    if not may_edit_catalog(actor):
        raise PermissionDenied(
            _("Only heads of sales and administrators change the catalog; you can read it.")
        )


def _unknown(data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))}, status=422
        )


def clean_money(value: Any, *, currency: str) -> Decimal:
    """A price as Decimal: not negative, below a trillion, no more decimals than the currency.

    Raises ApplicationError; ``ErrorCollector.run`` puts it next to the field.
    """
    if isinstance(value, bool) or value is None or value == "":
        raise ApplicationError(_("Enter an amount."))
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(
            unicodedata.normalize("NFKC", value).replace(",", "").replace("¥", "").strip()
            if isinstance(value, str)
            else value
        )
    except (InvalidOperation, TypeError, ValueError):
        raise ApplicationError(_("Enter an amount such as 12000 or 12,000.")) from None
    if not amount.is_finite():
        raise ApplicationError(_("Enter an amount such as 12000 or 12,000."))
    if amount < 0:
        raise ApplicationError(_("A price cannot be negative."))
    if amount >= PRICE_LIMIT:
        raise ApplicationError(_("That is not a plausible price: it must be below 1 trillion."))
    places = CURRENCY_DECIMALS.get(currency, 2)  # type: ignore[call-overload]
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        if places == 0:
            raise ApplicationError(
                _("%(c)s has no minor unit: enter whole amounts.") % {"c": currency}
            )
        raise ApplicationError(
            _("%(c)s has at most %(n)d decimal places.") % {"c": currency, "n": places}
        )
    return amount.quantize(Decimal("0.01"))


def _clean_choice(clean: dict[str, Any], errors: ErrorCollector, field: str, choices: Any) -> None:
    if field in clean and clean[field] not in choices.values:
        errors.add(field, _("Choose one of: %(v)s.") % {"v": ", ".join(choices.values)})


def _resolve_line(value: Any) -> ProductLine:
    if isinstance(value, ProductLine):
        return value
    line = None
    if isinstance(value, int) and not isinstance(value, bool):
        line = ProductLine.objects.filter(pk=value).first()
    if line is None:
        raise ApplicationError(_("Choose an existing product line."))
    return line


def _resolve_products(values: Any, *, field: str) -> list[Product]:
    if not isinstance(values, list | tuple):
        raise ApplicationError(_("Give a list of products."))
    products = [v for v in values if isinstance(v, Product)]
    ids = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    if len(products) + len(ids) != len(values):
        raise ApplicationError(_("Give products by their id."))
    found = {p.pk: p for p in Product.objects.filter(pk__in=ids)}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise ApplicationError(_("No such products: %(ids)s.") % {"ids": ", ".join(missing[:10])})
    result: dict[int, Product] = {p.pk: p for p in products}
    result.update(found)
    return list(result.values())


def normalize_sku(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").strip().upper().replace(" ", "")


# Product lines ------------------------------------------------------------------------------


def product_line_clean_data(*, data: dict[str, Any], current: ProductLine | None) -> dict[str, Any]:
    _unknown(data, PRODUCT_LINE_EDITABLE_FIELDS)
    errors = ErrorCollector()
    check_text_fields(ProductLine, data, errors)
    errors.raise_if_any()
    clean = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}
    if "name" in clean:
        if not clean["name"]:
            errors.add("name", _("Enter the product line's name."))
        else:
            taken = ProductLine.objects.filter(name=clean["name"])
            if current is not None:
                taken = taken.exclude(pk=current.pk)
            if taken.exists():
                errors.add("name", _("There is already a product line with this name."))
    if "name_kana" in clean:
        clean["name_kana"] = (
            errors.run("name_kana", normalize_kana_reading, clean["name_kana"], field="name_kana")
            or ""
        )
    if "description" in clean:
        check_plain_text("description", clean["description"], errors)
    if "sort_order" in clean:
        order = clean["sort_order"]
        if order is None:
            clean["sort_order"] = 0
        elif isinstance(order, bool) or not isinstance(order, int) or not 0 <= order <= 100_000:
            errors.add("sort_order", _("Enter a number between 0 and 100,000."))
    errors.raise_if_any()
    return clean


@transaction.atomic
def product_line_create(*, actor: Any, data: dict[str, Any]) -> ProductLine:
    _require_editor(actor)
    clean = product_line_clean_data(data=data, current=None)
    if not clean.get("name"):
        raise ApplicationError(_("Enter the product line's name."), field="name", status=422)
    line = ProductLine.objects.create(**clean)
    audit_record(
        actor=actor,
        action="catalog.product_line.created",
        target=line,
        changes=diff({}, snapshot(line, clean.keys())),
        scope=product_line_scope(line.pk),
    )
    return line


@transaction.atomic
def product_line_update(
    *, actor: Any, line: ProductLine, data: dict[str, Any], version: int | None = None
) -> ProductLine:
    _require_editor(actor)
    line = ProductLine.objects.select_for_update().filter(pk=line.pk).first()  # type: ignore[assignment]
    if line is None:
        raise NotFound(_("No such product line."))
    check_version(record=line, version=version)
    clean = product_line_clean_data(data=data, current=line)
    before = snapshot(line, clean.keys())
    for key, value in clean.items():
        setattr(line, key, value)
    changes = diff(before, snapshot(line, clean.keys()))
    if not changes:
        return line
    line.version += 1
    line.updated_at = timezone.now()
    line.save(update_fields=[*clean.keys(), "version", "updated_at"])
    audit_record(
        actor=actor,
        action="catalog.product_line.updated",
        target=line,
        changes=changes,
        scope=product_line_scope(line.pk),
    )
    return line


# Products -----------------------------------------------------------------------------------


def product_clean_data(*, data: dict[str, Any], current: Product | None) -> dict[str, Any]:
    """Validate and normalise product fields (and ``substitutes``); one error lists them all."""
    _unknown(data, (*PRODUCT_EDITABLE_FIELDS, "substitutes"))
    errors = ErrorCollector()
    text = {k: v for k, v in data.items() if isinstance(v, str)}
    check_text_fields(Product, text, errors)
    errors.raise_if_any()
    clean = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}

    if "sku" in clean:
        sku = normalize_sku(clean["sku"])
        clean["sku"] = sku
        if not sku:
            errors.add("sku", _("Enter the SKU."))
        elif not _SKU.match(sku):
            errors.add("sku", _("Use letters, digits and - . _ / only in a SKU (e.g. PMP-100A)."))
        else:
            taken = Product.objects.filter(sku=sku)
            if current is not None:
                taken = taken.exclude(pk=current.pk)
            if taken.exists():
                errors.add("sku", _("Another product already has SKU %(sku)s.") % {"sku": sku})
    if "name" in clean and not clean["name"]:
        errors.add("name", _("Enter the product's name."))
    if "name_kana" in clean:
        clean["name_kana"] = (
            errors.run("name_kana", normalize_kana_reading, clean["name_kana"], field="name_kana")
            or ""
        )
    if "line" in clean:
        clean["line"] = errors.run("line", _resolve_line, clean["line"])
    _clean_choice(clean, errors, "unit", Unit)
    _clean_choice(clean, errors, "currency", Currency)
    _clean_choice(clean, errors, "tax_category", TaxCategory)
    _clean_choice(clean, errors, "status", ProductStatus)
    currency = clean.get("currency", current.currency if current else Currency.JPY)
    if currency not in Currency.values:
        currency = Currency.JPY
    if "list_price" in clean:
        clean["list_price"] = errors.run(
            "list_price", clean_money, clean["list_price"], currency=currency
        )
    elif current is not None and "currency" in clean:
        # A new currency must fit the stored price (a yen price has no sen).
        errors.run("currency", clean_money, current.list_price, currency=currency)
    if "cost" in clean:
        if clean["cost"] in (None, ""):
            clean["cost"] = None
        else:
            clean["cost"] = errors.run("cost", clean_money, clean["cost"], currency=currency)
    if "lead_time_days" in clean:
        days = clean["lead_time_days"]
        if days == "":
            clean["lead_time_days"] = None
        elif days is not None and (
            isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= LEAD_TIME_LIMIT
        ):
            errors.add(
                "lead_time_days",
                _("Enter a lead time between 0 and %(n)d days.") % {"n": LEAD_TIME_LIMIT},
            )
    for field in ("description", "advantages", "availability_note"):
        if field in clean:
            check_plain_text(field, clean[field], errors)
    if "substitutes" in clean:
        subs = errors.run("substitutes", _resolve_products, clean["substitutes"], field="")
        if subs is not None:
            if current is not None and any(p.pk == current.pk for p in subs):
                errors.add("substitutes", _("A product cannot be its own substitute."))
            if len(subs) > SUBSTITUTES_LIMIT:
                errors.add(
                    "substitutes",
                    _("At most %(n)d substitutes.") % {"n": SUBSTITUTES_LIMIT},
                )
        clean["substitutes"] = subs
    errors.raise_if_any()
    return clean


def _product_derive(product: Product) -> None:
    parts = (product.sku, product.name, product.name_kana)
    product.search_text = "|".join(fold(p) for p in parts if p)[:500]


def _sku_list(products: Any) -> str:
    return ", ".join(sorted(p.sku for p in products))


@transaction.atomic
def product_create(*, actor: Any, data: dict[str, Any]) -> Product:
    """Add a product to the catalog (and its substitutes): both or neither."""
    _require_editor(actor)
    clean = product_clean_data(data=data, current=None)
    missing = ErrorCollector()
    for field, message in (
        ("sku", _("Enter the SKU.")),
        ("name", _("Enter the product's name.")),
        ("line", _("Choose a product line.")),
        ("list_price", _("Enter the list price.")),
    ):
        if clean.get(field) in (None, ""):
            missing.add(field, message)
    missing.raise_if_any()
    substitutes = clean.pop("substitutes", None) or []
    product = Product(**clean)
    _product_derive(product)
    product.save()
    if substitutes:
        product.substitutes.set(substitutes)
    changes = diff({}, snapshot(product, clean.keys()))
    if substitutes:
        changes["substitutes"] = [None, _sku_list(substitutes)]
    audit_record(
        actor=actor,
        action="catalog.product.created",
        target=product,
        changes=changes,
        scope=product_scope(product.pk),
    )
    return product


@transaction.atomic
def product_update(
    *, actor: Any, product: Product, data: dict[str, Any], version: int | None = None
) -> Product:
    """Change a product; ``version`` is what the editor loaded (a stale one is refused)."""
    _require_editor(actor)
    locked = Product.objects.select_for_update().filter(pk=product.pk).first()
    if locked is None:
        raise NotFound(_("No such product."))
    product = locked
    check_version(record=product, version=version)
    clean = product_clean_data(data=data, current=product)
    substitutes = clean.pop("substitutes", None)
    before = snapshot(product, clean.keys())
    for key, value in clean.items():
        setattr(product, key, value)
    changes = diff(before, snapshot(product, clean.keys()))
    if substitutes is not None:
        old = _sku_list(product.substitutes.all())
        new = _sku_list(substitutes)
        if old != new:
            changes["substitutes"] = [old, new]
            product.substitutes.set(substitutes)
    if not changes:
        return product
    _product_derive(product)
    product.version += 1
    product.updated_at = timezone.now()
    product.save(update_fields=[*clean.keys(), "search_text", "version", "updated_at"])
    audit_record(
        actor=actor,
        action="catalog.product.updated",
        target=product,
        changes=changes,
        scope=product_scope(product.pk),
    )
    return product


# Competitors' products ----------------------------------------------------------------------


def _resolve_competitor(value: Any) -> Account:
    account = value if isinstance(value, Account) else None
    if account is None and isinstance(value, int) and not isinstance(value, bool):
        account = Account.objects.filter(pk=value).first()
    if account is None or account.kind != AccountKind.COMPETITOR or account.is_archived:
        raise ApplicationError(_("Choose a current account of kind competitor."))
    return account


@transaction.atomic
def competitor_product_save(
    *,
    actor: Any,
    data: dict[str, Any],
    products: list[Any] | None = None,
    record: CompetitorProduct | None = None,
    version: int | None = None,
) -> CompetitorProduct:
    """Create (``record`` None) or change a competitor's product and the products it rivals."""
    _require_editor(actor)
    _unknown(data, COMPETITOR_PRODUCT_EDITABLE_FIELDS)
    if record is not None:
        locked = CompetitorProduct.objects.select_for_update().filter(pk=record.pk).first()
        if locked is None:
            raise NotFound(_("No such competitor's product."))
        record = locked
        check_version(record=record, version=version)
    errors = ErrorCollector()
    text = {k: v for k, v in data.items() if k != "competitor"}
    check_text_fields(CompetitorProduct, text, errors)
    errors.raise_if_any()
    clean = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}
    if "competitor" in clean:
        clean["competitor"] = errors.run("competitor", _resolve_competitor, clean["competitor"])
    elif record is None:
        errors.add("competitor", _("Choose the competitor."))
    if ("name" in clean and not clean["name"]) or (record is None and "name" not in clean):
        errors.add("name", _("Enter the product's name."))
    _clean_choice(clean, errors, "currency", Currency)
    currency = clean.get("currency", record.currency if record else Currency.JPY)
    if "price" in clean and clean["price"] in ("", None):
        clean["price"] = None
    elif "price" in clean:
        clean["price"] = errors.run("price", clean_money, clean["price"], currency=currency)
    if "notes" in clean:
        check_plain_text("notes", clean["notes"], errors)
    ours = None
    if products is not None:
        ours = errors.run("products", _resolve_products, products, field="")
    errors.raise_if_any()
    if record is None:
        record = CompetitorProduct.objects.create(**clean)
        changes = diff({}, snapshot(record, clean.keys()))
        action = "catalog.competitor_product.created"
    else:
        before = snapshot(record, clean.keys())
        for key, value in clean.items():
            setattr(record, key, value)
        changes = diff(before, snapshot(record, clean.keys()))
        action = "catalog.competitor_product.updated"
        if changes:
            record.version += 1
            record.updated_at = timezone.now()
            record.save(update_fields=[*clean.keys(), "version", "updated_at"])
    if ours is not None:
        old = _sku_list(record.products.all())
        if old != _sku_list(ours):
            changes["products"] = [old, _sku_list(ours)]
            record.products.set(ours)
    if changes or action.endswith("created"):
        audit_record(
            actor=actor,
            action=action,
            target=record,
            changes=changes,
            scope=f"catalog:competitor_product:{record.pk}",
        )
    return record


# Price lists --------------------------------------------------------------------------------


def _overlapping_default(
    *, currency: str, valid_from: datetime.date, valid_to: datetime.date | None, exclude: int | None
) -> PriceList | None:
    qs = PriceList.objects.filter(is_default=True, currency=currency)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    if valid_to is not None:
        qs = qs.filter(valid_from__lte=valid_to)
    qs = qs.exclude(valid_to__lt=valid_from)
    return qs.order_by("valid_from").first()


# One transaction-scoped PostgreSQL advisory lock for every price-list write that may touch a
# default list (a fixed 32-bit key from the name, so every process computes the same one).
_DEFAULT_PRICE_LISTS_LOCK = zlib.crc32(b"tokui.catalog.default_price_lists")


def _lock_default_price_lists() -> None:
    """Serialise the check "default lists of one currency do not overlap" with the write.

    Locking the existing default rows is not enough: two transactions creating the first
    default list of a currency lock nothing, both see no overlap and both insert. On PostgreSQL
    a transaction-level advisory lock makes the second writer wait until the first commits, and
    its check then sees the first list. SQLite needs nothing: its write transactions
    (IMMEDIATE) are serialised already. Must run inside the service's transaction.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_DEFAULT_PRICE_LISTS_LOCK])


def price_list_clean_data(*, data: dict[str, Any], current: PriceList | None) -> dict[str, Any]:
    _unknown(data, PRICE_LIST_EDITABLE_FIELDS)
    errors = ErrorCollector()
    check_text_fields(PriceList, data, errors)
    errors.raise_if_any()
    clean = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}
    if "name" in clean and not clean["name"]:
        errors.add("name", _("Enter the price list's name."))
    _clean_choice(clean, errors, "currency", Currency)
    for field in ("valid_from", "valid_to"):
        given = clean.get(field)
        if given is not None and (
            not isinstance(given, datetime.date) or isinstance(given, datetime.datetime)
        ):
            errors.add(field, _("Enter a date such as 2026-04-01."))
    if "valid_from" in clean and clean["valid_from"] is None:
        errors.add("valid_from", _("Enter the first day the prices apply."))
    if "is_default" in clean and not isinstance(clean["is_default"], bool):
        errors.add("is_default", _("Answer yes or no."))
    if "notes" in clean:
        check_plain_text("notes", clean["notes"], errors)
    errors.raise_if_any()

    def value(name: str) -> Any:
        return clean.get(name, getattr(current, name) if current else None)

    valid_from, valid_to = value("valid_from"), value("valid_to")
    currency = value("currency") or Currency.JPY
    if valid_from and valid_to and valid_to < valid_from:
        errors.add("valid_to", _("The list cannot end before it starts."))
    elif valid_from and value("is_default"):
        other = _overlapping_default(
            currency=currency,
            valid_from=valid_from,
            valid_to=valid_to,
            exclude=current.pk if current else None,
        )
        if other is not None:
            until = other.valid_to.isoformat() if other.valid_to else _("open end")
            errors.add(
                "valid_from",
                _(
                    "The default %(currency)s price list “%(name)s” (%(start)s – %(end)s) is "
                    "valid on some of these days: default lists of one currency may not overlap."
                )
                % {
                    "currency": currency,
                    "name": other.name,
                    "start": other.valid_from.isoformat(),
                    "end": until,
                },
            )
    if current is not None and "currency" in clean and clean["currency"] != current.currency:
        for item in current.items.all():
            try:
                clean_money(item.unit_price, currency=clean["currency"])
            except ApplicationError as exc:
                errors.add("currency", exc.message)
                break
    errors.raise_if_any()
    return clean


@transaction.atomic
def price_list_create(*, actor: Any, data: dict[str, Any]) -> PriceList:
    _require_editor(actor)
    _lock_default_price_lists()
    clean = price_list_clean_data(data=data, current=None)
    missing = ErrorCollector()
    if not clean.get("name"):
        missing.add("name", _("Enter the price list's name."))
    if not clean.get("valid_from"):
        missing.add("valid_from", _("Enter the first day the prices apply."))
    missing.raise_if_any()
    price_list = PriceList.objects.create(**clean)
    audit_record(
        actor=actor,
        action="catalog.price_list.created",
        target=price_list,
        changes=diff({}, snapshot(price_list, clean.keys())),
        scope=price_list_scope(price_list.pk),
    )
    return price_list


def _locked_price_list(price_list: PriceList) -> PriceList:
    locked = PriceList.objects.select_for_update().filter(pk=price_list.pk).first()
    if locked is None:
        raise NotFound(_("No such price list."))
    return locked


@transaction.atomic
def price_list_update(
    *, actor: Any, price_list: PriceList, data: dict[str, Any], version: int | None = None
) -> PriceList:
    _require_editor(actor)
    _lock_default_price_lists()
    price_list = _locked_price_list(price_list)
    check_version(record=price_list, version=version)
    clean = price_list_clean_data(data=data, current=price_list)
    before = snapshot(price_list, clean.keys())
    for key, value in clean.items():
        setattr(price_list, key, value)
    changes = diff(before, snapshot(price_list, clean.keys()))
    if not changes:
        return price_list
    price_list.version += 1
    price_list.updated_at = timezone.now()
    price_list.save(update_fields=[*clean.keys(), "version", "updated_at"])
    audit_record(
        actor=actor,
        action="catalog.price_list.updated",
        target=price_list,
        changes=changes,
        scope=price_list_scope(price_list.pk),
    )
    return price_list


def _item_summary(rows: list[tuple[str, int, Decimal]]) -> list[str]:
    return [f"{sku} ≥{qty}: {price}" for sku, qty, price in sorted(rows)][:200]


@transaction.atomic
def price_list_set_items(
    *,
    actor: Any,
    price_list: PriceList,
    items: list[dict[str, Any]],
    version: int | None = None,
) -> PriceList:
    """Replace the list's items (quantity tiers) with ``items``: all of them or none.

    Each item is ``{"product": Product | id, "min_quantity": int, "unit_price": amount}``.
    Errors name the row: ``items.<index>.<field>``. Per product, a higher quantity never costs
    more per unit (tiers are monotonic).
    """
    _require_editor(actor)
    price_list = _locked_price_list(price_list)
    check_version(record=price_list, version=version)
    errors = ErrorCollector()
    if len(items) > PRICE_LIST_ITEMS_LIMIT:
        raise ApplicationError(
            _("At most %(n)d items in one price list.") % {"n": PRICE_LIST_ITEMS_LIMIT},
            field="items",
            status=422,
        )
    ids: list[int] = [i["product"] for i in items if isinstance(i.get("product"), int)]
    products = {p.pk: p for p in Product.objects.filter(pk__in=ids)}
    rows: list[tuple[int, Product, int, Decimal]] = []
    for index, item in enumerate(items):
        key = f"items.{index}"
        unknown = set(item) - {"product", "min_quantity", "unit_price"}
        if unknown:
            errors.add(key, _("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
            continue
        product = item.get("product")
        if isinstance(product, int) and not isinstance(product, bool):
            product = products.get(product)
        if not isinstance(product, Product):
            errors.add(f"{key}.product", _("Choose an existing product."))
        quantity = item.get("min_quantity", 1)
        if (
            isinstance(quantity, bool)
            or not isinstance(quantity, int)
            or not (1 <= quantity <= QUANTITY_LIMIT)
        ):
            errors.add(f"{key}.min_quantity", _("Enter a quantity of at least 1."))
        price = errors.run(
            f"{key}.unit_price", clean_money, item.get("unit_price"), currency=price_list.currency
        )
        valid_quantity = f"{key}.min_quantity" not in errors.errors
        if isinstance(product, Product) and valid_quantity and price is not None:
            rows.append((index, product, quantity, price))
    seen: dict[tuple[int, int], int] = {}
    by_product: dict[int, list[tuple[int, int, Decimal]]] = {}
    for index, product, quantity, price in rows:
        if (product.pk, quantity) in seen:
            errors.add(
                f"items.{index}.min_quantity",
                _("%(sku)s already has a price from %(q)d units in this list.")
                % {"sku": product.sku, "q": quantity},
            )
            continue
        seen[(product.pk, quantity)] = index
        by_product.setdefault(product.pk, []).append((quantity, index, price))
    names = {p.pk: p.sku for _i, p, _q, _p in rows}
    for product_id, tiers in by_product.items():
        tiers.sort()
        for (low_q, _low_i, low_price), (high_q, high_i, high_price) in itertools.pairwise(tiers):
            if high_price > low_price:
                errors.add(
                    f"items.{high_i}.unit_price",
                    _(
                        "%(sku)s from %(hq)d units cannot cost more per unit (%(hp)s) than from "
                        "%(lq)d units (%(lp)s): higher quantities get the same or a lower price."
                    )
                    % {
                        "sku": names[product_id],
                        "hq": high_q,
                        "hp": format_price(high_price, price_list.currency),
                        "lq": low_q,
                        "lp": format_price(low_price, price_list.currency),
                    },
                )
    errors.raise_if_any()
    old_items = list(price_list.items.select_related("product"))
    old = _item_summary([(i.product.sku, i.min_quantity, i.unit_price) for i in old_items])
    new = _item_summary([(p.sku, q, price) for _i, p, q, price in rows])
    if old == new:
        return price_list
    price_list.items.all().delete()
    PriceListItem.objects.bulk_create(
        PriceListItem(price_list=price_list, product=p, min_quantity=q, unit_price=price)
        for _i, p, q, price in rows
    )
    price_list.version += 1
    price_list.updated_at = timezone.now()
    price_list.save(update_fields=["version", "updated_at"])
    audit_record(
        actor=actor,
        action="catalog.price_list.items_changed",
        target=price_list,
        changes={"items": [old, new]},
        scope=price_list_scope(price_list.pk),
    )
    return price_list
