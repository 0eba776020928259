"""Writes to key-account agreements: the agreement, its special prices and its discounts.

Editors of the account may write (``user.may_edit_accounts`` and the account visible to them;
an invisible account is NotFound). Every function validates every field at once, writes in
one transaction with the account row locked (so two agreements of one account can never be
saved overlapping by a race) and records one audit event under ``account:<id>``, so the
change shows in the account's history.

An account has at most one agreement valid on any day: the price engine reads exactly one.
An agreement ``applies_to_group`` also covers the account's subsidiaries (at any depth) that
have no agreement of their own valid on the day (see ``tokui.pricing.quotes``).
Special prices and discounts are replaced together, all or nothing, by ``agreement_set_terms``.
"""

import datetime
import itertools
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.accounts.models import Account, account_scope
from tokui.catalog.constants import Currency
from tokui.catalog.models import Product, ProductLine
from tokui.core.audit import audit_record, check_version, diff, snapshot
from tokui.core.exceptions import ApplicationError, NotFound, PermissionDenied
from tokui.core.money import check_amount, format_money, parse_money
from tokui.core.validation import ErrorCollector, check_plain_text, check_text_fields
from tokui.pricing.models import (
    MONTH_END,
    Agreement,
    AgreementDiscount,
    AgreementPrice,
    BusinessDayRule,
)
from tokui.users.models import User

AGREEMENT_EDITABLE_FIELDS = (
    "name",
    "currency",
    "valid_from",
    "valid_to",
    "closing_day",
    "payment_month_offset",
    "payment_day",
    "business_day_rule",
    "applies_to_group",
    "notes",
)
PRICE_LIMIT = Decimal(10) ** 12
QUANTITY_LIMIT = 10**9
TERMS_LIMIT = 2000
PAYMENT_MONTHS_LIMIT = 12


def _editable_account(actor: User, account_id: int, *, lock: bool = False) -> Account:
    """The account, if ``actor`` may edit its agreements: invisible is NotFound."""
    accounts = Account.objects.visible_to(actor)
    if lock:
        accounts = accounts.select_for_update()
    account = accounts.filter(pk=account_id).first()
    if account is None:
        raise NotFound(_("No such account."))
    if not actor.may_edit_accounts:
        raise PermissionDenied(_("Your role can read accounts but not change their terms."))
    return account


def _locked_agreement(actor: User, agreement: Agreement) -> tuple[Account, Agreement]:
    account = _editable_account(actor, agreement.account_id, lock=True)
    locked = Agreement.objects.select_for_update().filter(pk=agreement.pk).first()
    if locked is None or locked.account_id != account.pk:
        raise NotFound(_("No such agreement."))
    return account, locked


def _clean_date(value: Any) -> datetime.date:
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value.strip())
        except ValueError:
            raise ApplicationError(_("Enter a date as YYYY-MM-DD.")) from None
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise ApplicationError(_("Enter a date as YYYY-MM-DD."))
    return value


def _clean_day(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 28:
        raise ApplicationError(_("Enter a day from 1 to 28, or 0 for the month end."))
    return value


def clean_price(value: Any, *, currency: str) -> Decimal:
    """A special price: not negative, below a trillion, in the currency's minor units."""
    if isinstance(value, bool) or value is None or value == "":
        raise ApplicationError(_("Enter an amount."))
    amount: Decimal | int
    if isinstance(value, str):
        amount = parse_money(value, currency)
    elif isinstance(value, Decimal | int):
        amount = value
    else:
        raise ApplicationError(_("Enter an amount such as 12000 or 12,000."))
    try:
        checked = check_amount(amount, currency)
    except (InvalidOperation, TypeError):
        raise ApplicationError(_("Enter an amount such as 12000 or 12,000.")) from None
    if checked >= PRICE_LIMIT:
        raise ApplicationError(_("That is not a plausible price: it must be below 1 trillion."))
    return checked


def _clean_percent(value: Any) -> Decimal:
    message = _("Enter a discount above 0% and below 100%, with at most 2 decimals.")
    if isinstance(value, str):
        try:
            value = Decimal(value.strip().rstrip("%").strip())
        except InvalidOperation:
            raise ApplicationError(message) from None
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise ApplicationError(message)
    percent = Decimal(value)
    if not (percent.is_finite() and 0 < percent < 100) or percent != percent.quantize(
        Decimal("0.01")
    ):
        raise ApplicationError(message)
    return percent


def agreement_clean_data(
    *, data: dict[str, Any], current: Agreement | None, account: Account
) -> dict[str, Any]:
    """Validate and normalise agreement fields; one ApplicationError lists every problem."""
    unknown = set(data) - set(AGREEMENT_EDITABLE_FIELDS)
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))}, status=422
        )
    errors = ErrorCollector()
    check_text_fields(Agreement, {k: v for k, v in data.items() if k in ("name", "notes")}, errors)
    errors.raise_if_any()
    clean = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}
    if "name" in clean and not clean["name"]:
        errors.add("name", _("Enter the agreement's name."))
    if "notes" in clean:
        check_plain_text("notes", clean["notes"] or "", errors)
        clean["notes"] = clean["notes"] or ""
    if "currency" in clean and clean["currency"] not in Currency.values:
        errors.add("currency", _("Choose one of: %(v)s.") % {"v": ", ".join(Currency.values)})
    if "valid_from" in clean:
        clean["valid_from"] = errors.run("valid_from", _clean_date, clean["valid_from"])
    if "valid_to" in clean:
        if clean["valid_to"] in (None, ""):
            clean["valid_to"] = None
        else:
            clean["valid_to"] = errors.run("valid_to", _clean_date, clean["valid_to"])
    for field in ("closing_day", "payment_day"):
        if field in clean:
            clean[field] = errors.run(field, _clean_day, clean[field])
    if "payment_month_offset" in clean:
        months = clean["payment_month_offset"]
        if (
            isinstance(months, bool)
            or not isinstance(months, int)
            or not 0 <= months <= PAYMENT_MONTHS_LIMIT
        ):
            errors.add(
                "payment_month_offset",
                _("Enter a number of months from 0 (this month) to %(n)d.")
                % {"n": PAYMENT_MONTHS_LIMIT},
            )
    if "applies_to_group" in clean and not isinstance(clean["applies_to_group"], bool):
        errors.add("applies_to_group", _("Answer yes or no."))
    if "business_day_rule" in clean and clean["business_day_rule"] not in BusinessDayRule.values:
        errors.add(
            "business_day_rule",
            _("Choose one of: %(v)s.") % {"v": ", ".join(BusinessDayRule.values)},
        )
    errors.raise_if_any()

    def value(field: str) -> Any:
        return clean[field] if field in clean else getattr(current, field, None)

    if {"closing_day", "payment_month_offset", "payment_day"} & clean.keys():
        closing = value("closing_day") or MONTH_END
        paid = value("payment_day") or MONTH_END
        if value("payment_month_offset") == 0 and (
            (closing == MONTH_END and paid != MONTH_END) or (MONTH_END != paid < closing)
        ):
            errors.add(
                "payment_day",
                _(
                    "Paid in the closing month, the payment day cannot come before the "
                    "closing day: choose a later day or pay in the next month."
                ),
            )

    start, end = value("valid_from"), value("valid_to")
    if start is None:
        errors.add("valid_from", _("Enter the first day the agreement applies."))
    elif end is not None and end < start:
        errors.add("valid_to", _("The agreement cannot end before it starts."))
    else:
        others = Agreement.objects.filter(account=account)
        if current is not None:
            others = others.exclude(pk=current.pk)
        others = others.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=start))
        if end is not None:
            others = others.filter(valid_from__lte=end)
        clash = others.order_by("valid_from").first()
        if clash is not None:
            errors.add(
                "valid_from",
                _(
                    "This period overlaps the agreement “%(name)s” (%(start)s – %(end)s): an "
                    "account has one agreement on any day. Shorten that one first."
                )
                % {
                    "name": clash.name,
                    "start": clash.valid_from.isoformat(),
                    "end": clash.valid_to.isoformat() if clash.valid_to else "…",
                },
            )
    changes_currency = current is not None and clean.get("currency", current.currency) != (
        current.currency
    )
    if (
        changes_currency
        and current is not None
        and (current.prices.exists() or current.discounts.filter(product__isnull=False).exists())
    ):
        errors.add(
            "currency",
            _(
                "The agreement has prices or product discounts in %(c)s: clear them before "
                "changing its currency."
            )
            % {"c": current.currency},
        )
    errors.raise_if_any()
    return clean


@transaction.atomic
def agreement_create(*, actor: User, account: Account, data: dict[str, Any]) -> Agreement:
    """Add an agreement to ``account``; its period may not overlap another of the account's."""
    account = _editable_account(actor, account.pk, lock=True)
    clean = agreement_clean_data(data=data, current=None, account=account)
    if not clean.get("name"):
        raise ApplicationError(_("Enter the agreement's name."), field="name", status=422)
    agreement = Agreement.objects.create(account=account, **clean)
    audit_record(
        actor=actor,
        action="pricing.agreement.created",
        target=agreement,
        changes=diff({}, snapshot(agreement, clean.keys())),
        scope=account_scope(account.pk),
    )
    return agreement


@transaction.atomic
def agreement_update(
    *, actor: User, agreement: Agreement, data: dict[str, Any], version: int | None = None
) -> Agreement:
    """Change an agreement; ``version`` is what the editor loaded (a stale one is refused)."""
    account, agreement = _locked_agreement(actor, agreement)
    check_version(record=agreement, version=version)
    clean = agreement_clean_data(data=data, current=agreement, account=account)
    before = snapshot(agreement, clean.keys())
    for key, value in clean.items():
        setattr(agreement, key, value)
    changes = diff(before, snapshot(agreement, clean.keys()))
    if not changes:
        return agreement
    agreement.version += 1
    agreement.updated_at = timezone.now()
    agreement.save(update_fields=[*clean.keys(), "version", "updated_at"])
    audit_record(
        actor=actor,
        action="pricing.agreement.updated",
        target=agreement,
        changes=changes,
        scope=account_scope(account.pk),
    )
    return agreement


def _id(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, Product | ProductLine):
        return value.pk
    return None


def _clean_prices(
    rows: list[dict[str, Any]], currency: str, products: dict[int, Product], errors: ErrorCollector
) -> list[tuple[Product, int, Decimal]]:
    clean: list[tuple[int, Product, int, Decimal]] = []
    for index, row in enumerate(rows):
        key = f"prices.{index}"
        if not isinstance(row, dict) or set(row) - {"product", "min_quantity", "unit_price"}:
            errors.add(key, _("Give product, min_quantity and unit_price only."))
            continue
        product = products.get(_id(row.get("product")) or 0)
        if product is None:
            errors.add(f"{key}.product", _("Choose an existing product."))
        elif product.currency != currency:
            errors.add(
                f"{key}.product",
                _("%(sku)s is priced in %(p)s, not in the agreement's %(c)s.")
                % {"sku": product.sku, "p": product.currency, "c": currency},
            )
            product = None
        quantity = row.get("min_quantity", 1)
        if (
            isinstance(quantity, bool)
            or not isinstance(quantity, int)
            or not 1 <= quantity <= QUANTITY_LIMIT
        ):
            errors.add(f"{key}.min_quantity", _("Enter a quantity of at least 1."))
            quantity = None
        price = errors.run(
            f"{key}.unit_price", clean_price, row.get("unit_price"), currency=currency
        )
        if product is not None and quantity is not None and price is not None:
            clean.append((index, product, quantity, price))
    tables: dict[int, list[tuple[int, int, Decimal]]] = {}
    for index, product, quantity, price in clean:
        tables.setdefault(product.pk, []).append((quantity, index, price))
    names = {product.pk: product.sku for _i, product, _q, _p in clean}
    for product_id, table in tables.items():
        table.sort()
        sku = names[product_id]
        if table[0][0] != 1:
            errors.add(
                f"prices.{table[0][1]}.min_quantity",
                _(
                    "Special prices for %(sku)s must start at 1 unit, or a customer buying "
                    "fewer could pay less per unit elsewhere."
                )
                % {"sku": sku},
            )
        for (low_q, _low_i, low_p), (high_q, high_i, high_p) in itertools.pairwise(table):
            if high_q == low_q:
                errors.add(
                    f"prices.{high_i}.min_quantity",
                    _("%(sku)s already has a price from %(q)d units.") % {"sku": sku, "q": high_q},
                )
            elif high_p > low_p:
                errors.add(
                    f"prices.{high_i}.unit_price",
                    _(
                        "%(sku)s from %(hq)d units cannot cost more per unit (%(hp)s) than from "
                        "%(lq)d units (%(lp)s): buying more never raises the unit price."
                    )
                    % {
                        "sku": sku,
                        "hq": high_q,
                        "hp": format_money(high_p, currency),
                        "lq": low_q,
                        "lp": format_money(low_p, currency),
                    },
                )
    return [(product, quantity, price) for _i, product, quantity, price in clean]


def _clean_discounts(
    rows: list[dict[str, Any]],
    currency: str,
    products: dict[int, Product],
    lines: dict[int, ProductLine],
    errors: ErrorCollector,
) -> list[tuple[Product | None, ProductLine | None, Decimal]]:
    clean: list[tuple[Product | None, ProductLine | None, Decimal]] = []
    seen: set[tuple[str, int]] = set()
    for index, row in enumerate(rows):
        key = f"discounts.{index}"
        if not isinstance(row, dict) or set(row) - {"product", "line", "percent"}:
            errors.add(key, _("Give a product or a product line, and percent only."))
            continue
        product_id, line_id = _id(row.get("product")), _id(row.get("line"))
        product = line = None
        if (row.get("product") is None) == (row.get("line") is None):
            errors.add(
                f"{key}.product",
                _("A discount is for one product or for one product line: choose one."),
            )
        elif row.get("product") is not None:
            product = products.get(product_id or 0)
            if product is None:
                errors.add(f"{key}.product", _("Choose an existing product."))
            elif product.currency != currency:
                errors.add(
                    f"{key}.product",
                    _("%(sku)s is priced in %(p)s, not in the agreement's %(c)s.")
                    % {"sku": product.sku, "p": product.currency, "c": currency},
                )
                product = None
        else:
            line = lines.get(line_id or 0)
            if line is None:
                errors.add(f"{key}.line", _("Choose an existing product line."))
        percent = errors.run(f"{key}.percent", _clean_percent, row.get("percent"))
        target = ("product", product.pk) if product else ("line", line.pk) if line else None
        if target is not None and target in seen:
            errors.add(
                f"{key}.{target[0]}",
                _("This agreement already has a discount for it: keep one."),
            )
            continue
        if target is not None:
            seen.add(target)
        if (product or line) is not None and percent is not None:
            clean.append((product, line, percent))
    return clean


def _terms_summary(agreement: Agreement) -> str:
    prices = [
        f"{p.product.sku}≥{p.min_quantity}:{p.unit_price.normalize():f}"
        for p in agreement.prices.select_related("product").order_by("product__sku", "min_quantity")
    ]
    discounts = [
        f"{d.product.sku if d.product else d.line.name if d.line else '?'}:-{d.percent}%"
        for d in agreement.discounts.select_related("product", "line").order_by("id")
    ]
    return "; ".join(prices + discounts)


@transaction.atomic
def agreement_set_terms(
    *,
    actor: User,
    agreement: Agreement,
    prices: list[dict[str, Any]],
    discounts: list[dict[str, Any]],
    version: int | None = None,
) -> Agreement:
    """Replace the agreement's special prices and discounts: all of them or none.

    ``prices`` rows are ``{"product": Product | id, "min_quantity": int, "unit_price": amount}``;
    per product the table starts at 1 unit and never rises with quantity. ``discounts`` rows
    are ``{"product": ...}`` or ``{"line": ProductLine | id}`` with ``"percent"`` (0 < p < 100).
    Products must be priced in the agreement's currency. Errors name the row:
    ``prices.<index>.<field>``, ``discounts.<index>.<field>``.
    """
    account, agreement = _locked_agreement(actor, agreement)
    check_version(record=agreement, version=version)
    if not isinstance(prices, list | tuple) or not isinstance(discounts, list | tuple):
        raise ApplicationError(_("Give lists of prices and discounts."), status=422)
    if len(prices) + len(discounts) > TERMS_LIMIT:
        raise ApplicationError(
            _("At most %(n)d prices and discounts in one agreement.") % {"n": TERMS_LIMIT},
            field="prices",
            status=422,
        )
    rows = [*prices, *discounts]
    product_ids = {i for r in rows if isinstance(r, dict) and (i := _id(r.get("product")))}
    line_ids = {i for r in rows if isinstance(r, dict) and (i := _id(r.get("line")))}
    products = {p.pk: p for p in Product.objects.filter(pk__in=product_ids)}
    lines = {line.pk: line for line in ProductLine.objects.filter(pk__in=line_ids)}
    errors = ErrorCollector()
    new_prices = _clean_prices(list(prices), agreement.currency, products, errors)
    new_discounts = _clean_discounts(list(discounts), agreement.currency, products, lines, errors)
    errors.raise_if_any()
    old = _terms_summary(agreement)
    agreement.prices.all().delete()
    agreement.discounts.all().delete()
    AgreementPrice.objects.bulk_create(
        AgreementPrice(agreement=agreement, product=p, min_quantity=q, unit_price=price)
        for p, q, price in new_prices
    )
    AgreementDiscount.objects.bulk_create(
        AgreementDiscount(agreement=agreement, product=p, line=line, percent=percent)
        for p, line, percent in new_discounts
    )
    new = _terms_summary(agreement)
    if old == new:
        return agreement
    agreement.version += 1
    agreement.updated_at = timezone.now()
    agreement.save(update_fields=["version", "updated_at"])
    audit_record(
        actor=actor,
        action="pricing.agreement.terms_changed",
        target=agreement,
        changes={"terms": [old, new]},
        scope=account_scope(account.pk),
    )
    return agreement


def agreement_merge_check(*, survivor: Account, merged: Account) -> None:
    """Refuse a merge that would give the survivor two agreements valid on the same day.

    Registered as the merge check of ``pricing.Agreement`` (``tokui.core.registry``): the
    merge calls it with both accounts locked, before anything moves.
    """
    theirs = list(Agreement.objects.filter(account_id=merged.pk).order_by("valid_from", "pk"))
    if not theirs:
        return
    ours = Agreement.objects.filter(account_id=survivor.pk)
    for agreement in theirs:
        overlap = ours.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=agreement.valid_from))
        if agreement.valid_to is not None:
            overlap = overlap.filter(valid_from__lte=agreement.valid_to)
        clash = overlap.order_by("valid_from", "pk").first()
        if clash is not None:
            raise ApplicationError(
                _(
                    "Both accounts have agreements valid on the same days (“%(a)s” and "
                    "“%(b)s”): an account has one agreement on any day. Shorten one of them "
                    "first; nothing was merged."
                )
                % {"a": clash.name, "b": agreement.name},
                field="merged",
                status=409,
                code="conflict",
            )
