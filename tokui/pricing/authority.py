"""Authority limits: what each person may decide alone (maximum discount, minimum margin,
maximum deal value), and what a proposal needs.

A role has one ``AuthorityLimit`` row; a person may have their own row, which overrides the
role's field by field (an empty field keeps the role's value). On a role row an empty field
means "no limit of that kind". A role without a row gets ``DEFAULTS``: administrators and heads
of sales decide anything (the reporting line has to end somewhere on a fresh installation);
everyone else may not go below the list price and may not decide deal values alone — fail
closed, so a missing row never lets a discount through unseen.

Writes (``authority_limit_set`` / ``authority_limit_delete``) are for heads of sales and
administrators and are audited.
"""

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.catalog.models import Product, ProductLine
from tokui.core.audit import audit_record, diff, snapshot
from tokui.core.exceptions import ApplicationError, NotFound, PermissionDenied
from tokui.core.money import format_money
from tokui.core.validation import ErrorCollector
from tokui.pricing.models import Agreement, AuthorityLimit
from tokui.users.constants import Role
from tokui.users.models import User

LIMIT_FIELDS = ("max_discount_percent", "min_margin_percent", "max_deal_value")
ROLES_MANAGING_AUTHORITY = frozenset({Role.ADMIN, Role.HEAD})
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
DEAL_VALUE_LIMIT = Decimal(10) ** 15


@dataclass(frozen=True)
class Authority:
    """Limits of one person; ``None`` means no limit of that kind."""

    max_discount_percent: Decimal | None = None
    min_margin_percent: Decimal | None = None
    max_deal_value: Decimal | None = None


UNLIMITED = Authority()
NOTHING = Authority(max_discount_percent=Decimal(0), max_deal_value=Decimal(0))
# Without a role row. Demo data and a typical setup: AM 5% / 30%, KAM 15% / 20%, head 40% / 5%.
DEFAULTS: dict[str, Authority] = {
    Role.ADMIN: UNLIMITED,
    Role.HEAD: UNLIMITED,
    Role.KAM: NOTHING,
    Role.AM: NOTHING,
    Role.SUPPORT: NOTHING,
}


@dataclass(frozen=True)
class Needs:
    """What a proposal takes: its largest discount, its lowest margin, its value (None: n/a)."""

    discount_percent: Decimal | None = None
    margin_percent: Decimal | None = None
    deal_value: Decimal | None = None

    def as_json(self) -> dict[str, str | None]:
        return {
            name: None if value is None else str(value)
            for name, value in dataclasses.asdict(self).items()
        }

    @classmethod
    def from_json(cls, data: Any) -> "Needs":
        data = data if isinstance(data, dict) else {}
        values: dict[str, Decimal | None] = {}
        for name in ("discount_percent", "margin_percent", "deal_value"):
            raw = data.get(name)
            try:
                values[name] = None if raw in (None, "") else Decimal(str(raw))
            except InvalidOperation:
                values[name] = None
        return cls(**values)


def _row_authority(row: AuthorityLimit) -> Authority:
    return Authority(**{name: getattr(row, name) for name in LIMIT_FIELDS})


def authority_for(user: User, *, rows: Iterable[AuthorityLimit] | None = None) -> Authority:
    """The person's limits: their role's row overridden field by field by their own row.

    ``rows`` lets a caller that checks many people load the table once.
    """
    if not user.is_active:
        return NOTHING
    table = list(rows) if rows is not None else list(AuthorityLimit.objects.all())
    role_row = next((r for r in table if r.role == user.role), None)
    base = _row_authority(role_row) if role_row else DEFAULTS.get(user.role, NOTHING)
    own = next((r for r in table if r.user_id == user.pk), None)
    if own is None:
        return base
    return dataclasses.replace(
        base,
        **{name: getattr(own, name) for name in LIMIT_FIELDS if getattr(own, name) is not None},
    )


def _pct(value: Decimal) -> str:
    text = f"{value.quantize(CENT).normalize():f}"
    return text


def breaches(authority: Authority, needs: Needs, *, own: bool = True) -> list[str]:
    """Why ``needs`` is outside ``authority`` (empty: within it). ``own``: say "your" limit."""
    reasons: list[str] = []
    limit = authority.max_discount_percent
    if needs.discount_percent is not None and limit is not None and needs.discount_percent > limit:
        message = (
            _("%(n)s%% discount is above your limit of %(l)s%%.")
            if own
            else _("%(n)s%% discount is above the requester's limit of %(l)s%%.")
        )
        reasons.append(message % {"n": _pct(needs.discount_percent), "l": _pct(limit)})
    floor = authority.min_margin_percent
    if needs.margin_percent is not None and floor is not None and needs.margin_percent < floor:
        message = (
            _("%(n)s%% margin is below your minimum of %(l)s%%.")
            if own
            else _("%(n)s%% margin is below the requester's minimum of %(l)s%%.")
        )
        reasons.append(message % {"n": _pct(needs.margin_percent), "l": _pct(floor)})
    cap = authority.max_deal_value
    if needs.deal_value is not None and cap is not None and needs.deal_value > cap:
        message = (
            _("A deal value of %(n)s is above your limit of %(l)s.")
            if own
            else _("A deal value of %(n)s is above the requester's limit of %(l)s.")
        )
        reasons.append(
            message % {"n": format_money(needs.deal_value, "JPY"), "l": format_money(cap, "JPY")}
        )
    return reasons


def covers(authority: Authority, needs: Needs) -> bool:
    return not breaches(authority, needs)


# -- what agreement terms need ------------------------------------------------------------------


def _ref(value: Any) -> int | None:
    if isinstance(value, Product | ProductLine):
        return value.pk
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _margin(price: Decimal, cost: Decimal | None) -> Decimal | None:
    if cost is None:
        return None
    if price <= 0:
        return -HUNDRED if cost > 0 else None
    return ((price - cost) / price * HUNDRED).quantize(CENT)


def _discount(price: Decimal, list_price: Decimal) -> Decimal:
    if list_price <= 0:
        return Decimal(0)
    return max(Decimal(0), ((list_price - price) / list_price * HUNDRED).quantize(CENT))


def agreement_terms_needs(
    agreement: Agreement, prices: list[dict[str, Any]], discounts: list[dict[str, Any]]
) -> Needs:
    """The largest discount off the list price and the lowest margin the proposed terms give.

    Special prices are compared with the product's list price; a product line's discount counts
    for every product of the line. Products without a cost do not count for the margin.
    Rows that are not valid are ignored here: ``agreement_set_terms`` refuses them.
    """
    product_ids = {
        i for r in prices + discounts if isinstance(r, dict) and (i := _ref(r.get("product")))
    }
    line_ids = {i for r in discounts if isinstance(r, dict) and (i := _ref(r.get("line")))}
    products = {p.pk: p for p in Product.objects.filter(pk__in=product_ids)}
    line_products: dict[int, list[Product]] = {}
    for product in Product.objects.filter(line_id__in=line_ids, currency=agreement.currency):
        line_products.setdefault(product.line_id, []).append(product)
    worst_discount: Decimal | None = None
    worst_margin: Decimal | None = None

    def note(discount: Decimal | None, margin: Decimal | None) -> None:
        nonlocal worst_discount, worst_margin
        if discount is not None and (worst_discount is None or discount > worst_discount):
            worst_discount = discount
        if margin is not None and (worst_margin is None or margin < worst_margin):
            worst_margin = margin

    for row in prices:
        if not isinstance(row, dict):
            continue
        priced = products.get(_ref(row.get("product")) or 0)
        try:
            price = Decimal(str(row.get("unit_price")).replace(",", "").strip())
        except (InvalidOperation, ValueError):
            continue
        if priced is None or not price.is_finite():
            continue
        note(_discount(price, priced.list_price), _margin(price, priced.cost))
    for row in discounts:
        if not isinstance(row, dict):
            continue
        try:
            percent = Decimal(str(row.get("percent")).rstrip("%").strip())
        except (InvalidOperation, ValueError):
            continue
        if not percent.is_finite():
            continue
        targets: list[Product] = []
        if (discounted := products.get(_ref(row.get("product")) or 0)) is not None:
            targets = [discounted]
        elif (line_id := _ref(row.get("line"))) is not None:
            targets = line_products.get(line_id, [])
        note(percent.quantize(CENT), None)
        for target in targets:
            price = target.list_price * (HUNDRED - percent) / HUNDRED
            note(None, _margin(price, target.cost))
    return Needs(discount_percent=worst_discount, margin_percent=worst_margin)


def agreement_current_terms(
    agreement: Agreement,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The agreement's terms in force, in the shape ``agreement_set_terms`` takes."""
    prices = [
        {"product": p.product_id, "min_quantity": p.min_quantity, "unit_price": str(p.unit_price)}
        for p in agreement.prices.order_by("product_id", "min_quantity")
    ]
    discounts = [
        {"product": d.product_id, "percent": str(d.percent)}
        if d.product_id
        else {"line": d.line_id, "percent": str(d.percent)}
        for d in agreement.discounts.order_by("id")
    ]
    return prices, discounts


# -- reading and writing the limits -------------------------------------------------------------


def may_manage_authority(user: User) -> bool:
    return user.is_active and user.role in ROLES_MANAGING_AUTHORITY


def authority_limit_list(*, viewer: User) -> QuerySet[AuthorityLimit]:
    if not may_manage_authority(viewer):
        raise PermissionDenied(_("Only heads of sales and administrators see authority limits."))
    return AuthorityLimit.objects.select_related("user")


def _clean_limit(field: str, value: Any) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ApplicationError(_("Enter a number."))
    try:
        number = Decimal(str(value).replace(",", "").replace("%", "").replace("¥", "").strip())
    except InvalidOperation:
        raise ApplicationError(_("Enter a number.")) from None
    if not number.is_finite():
        raise ApplicationError(_("Enter a number."))
    if field == "max_deal_value":
        if number < 0 or number >= DEAL_VALUE_LIMIT or number != number.to_integral_value():
            raise ApplicationError(_("Enter a whole amount in yen, 0 or more."))
        return number
    if number != number.quantize(CENT):
        raise ApplicationError(_("Enter a percentage with at most 2 decimals."))
    if field == "max_discount_percent" and not 0 <= number < 100:
        raise ApplicationError(_("Enter a discount from 0% to below 100%."))
    if field == "min_margin_percent" and not -100 < number < 100:
        raise ApplicationError(_("Enter a margin above -100% and below 100%."))
    return number


@transaction.atomic
def authority_limit_set(
    *, actor: User, role: str = "", user: User | None = None, data: dict[str, Any]
) -> AuthorityLimit:
    """Set a role's limits (``role``) or one person's overrides (``user``); empty = no value."""
    if not may_manage_authority(actor):
        raise PermissionDenied(_("Only heads of sales and administrators change authority limits."))
    if bool(role) == (user is not None):
        raise ApplicationError(_("Choose a role or a person."), status=422)
    if role and role not in Role.values:
        raise ApplicationError(_("Choose an existing role."), field="role", status=422)
    unknown = set(data) - set(LIMIT_FIELDS)
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))}, status=422
        )
    errors = ErrorCollector()
    clean = {name: errors.run(name, _clean_limit, name, data[name]) for name in data}
    errors.raise_if_any()
    lookup = {"role": role} if role else {"user": user, "role": ""}
    row = AuthorityLimit.objects.select_for_update().filter(**lookup).first()
    created = row is None
    if row is None:
        row = AuthorityLimit(**lookup)
    before = {} if created else snapshot(row, LIMIT_FIELDS)
    for name, value in clean.items():
        setattr(row, name, value)
    changes = diff(before, snapshot(row, LIMIT_FIELDS))
    if not changes and not created:
        return row
    row.updated_at = timezone.now()
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise ApplicationError(
            _("Someone set these limits at the same time: reload and try again."), status=409
        ) from None
    audit_record(
        actor=actor,
        action="pricing.authority.changed",
        target=row,
        changes=changes,
        note=str(row),
    )
    return row


@transaction.atomic
def authority_limit_delete(*, actor: User, limit_id: int) -> None:
    """Remove a person's overrides (role rows are only changed, never removed here)."""
    if not may_manage_authority(actor):
        raise PermissionDenied(_("Only heads of sales and administrators change authority limits."))
    row = AuthorityLimit.objects.select_for_update().filter(pk=limit_id, role="").first()
    if row is None:
        raise NotFound(_("No such override."))
    audit_record(
        actor=actor,
        action="pricing.authority.removed",
        target=row,
        changes=diff(snapshot(row, LIMIT_FIELDS), dict.fromkeys(LIMIT_FIELDS)),
        note=str(row),
    )
    row.delete()
