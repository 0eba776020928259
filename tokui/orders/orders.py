"""Orders (受注): taking them (by hand, from an accepted quote, as a reorder, from a customer's
system), and moving them along (the write services).

Every line is priced by the price engine (``tokui.pricing.quotes.price_quote``) on the order's
date, as quotes are (``tokui.orders.quotes.price_lines``). The assortment check refuses products
that are discontinued or temporarily unavailable, naming their lead time and substitutes, so
the person taking the order can offer one (``order_set_line_substitute`` swaps a line later).

The life of an order::

    received ──confirm──► confirmed ──start fulfilment──► in fulfilment
        (deliveries: ``tokui.orders.deliveries``) ──► partially delivered ──► delivered
    received / confirmed / in fulfilment ──cancel (reason)──► cancelled (nothing delivered)

``idempotency_key``: the same (creator, key) returns the first order instead of a second, also
when two requests race (the unique constraint decides; the loser reads the winner's order).

Prices beyond authority (as quotes do, ``tokui.orders.quotes.quote_issue``): a line may ask for
a ``unit_price`` *below* the engine's price (a discount; by hand, by API or from an import). A
price *above* the engine's price is refused (a customer's system must never be overcharged
silently). The order's needs (largest discount off list, lowest margin of the discounted lines,
net value in yen: ``order_needs``) are checked against the creator's authority
(``tokui.pricing.authority``):

* within it, the price is taken at once: the line keeps the engine's price and the agreed one,
  and its explanation says who granted it;
* beyond it, the order is created "received" with an approval request of kind "order"
  (``Order.approval``). ``order_confirm`` refuses it, naming the request, until the request is
  approved; a rejected request leaves the order received (confirm says it was rejected: change
  the order with the customer or cancel it). Approving applies nothing else. When nobody has
  the authority to approve, the order is refused (errors on the discounted lines' prices).

An order from an accepted quote keeps the quote's (already approved) prices; a reorder and an
order from a won deal take the engine's prices. ``regarding`` links an order to what it came
from (a won deal: ``tokui.pipeline.deal_orders``). Confirming runs ``order_confirmed_hooks``
(``tokui.orders.hooks``: the rebate accrual) inside the transaction.
"""

import datetime
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, pgettext
from django.utils.translation import gettext as _

from tokui.accounts.models import Account, Contact, account_scope
from tokui.catalog.constants import ProductStatus
from tokui.catalog.models import Product
from tokui.core.audit import audit_record, check_version
from tokui.core.exceptions import ApplicationError, Conflict, NotFound, PermissionDenied
from tokui.core.money import MoneyError, check_amount, format_money, parse_money, quantize
from tokui.core.validation import ErrorCollector, check_plain_text
from tokui.orders.constants import OrderSource, OrderStatus, QuoteStatus
from tokui.orders.hooks import order_confirmed_hooks
from tokui.orders.models import Order, OrderLine, Quote
from tokui.orders.numbering import next_document_number
from tokui.orders.quotes import (
    PricedLine,
    describe_priced_lines,
    line_discount,
    line_margin,
    price_lines,
    quote_totals,
)
from tokui.orders.selectors import visible_account
from tokui.pricing.approvals import (
    OPEN_STATUSES,
    approval_kinds,
    approval_request_create,
    approval_withdraw,
)
from tokui.pricing.authority import Needs, authority_for, breaches
from tokui.pricing.engine import PricingError
from tokui.pricing.models import ApprovalRequest, ApprovalStatus
from tokui.pricing.quotes import price_quote
from tokui.users.models import User

ORDER_KIND = "order"
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
LINES_LIMIT = 100
KEY_LIMIT = 100
TEXT_LIMIT = 4000
# Statuses in which nothing was shipped yet and the order may still change or be cancelled.
CHANGEABLE = frozenset({OrderStatus.RECEIVED, OrderStatus.CONFIRMED, OrderStatus.IN_FULFILMENT})


# -- checks ----------------------------------------------------------------------------------


def require_editor(actor: User) -> None:
    if not actor.is_active or not actor.may_edit_accounts:
        raise PermissionDenied(_("Your role can read orders but not change them."))


def locked_order(actor: User, order: Order | int) -> Order:
    """The order under a row lock (no joins: PostgreSQL re-checks only the locked row)."""
    order_id = order.pk if isinstance(order, Order) else order
    visible = Account.objects.visible_to(actor).values("pk")
    found = Order.objects.select_for_update().filter(pk=order_id, account_id__in=visible).first()
    if found is None:
        raise NotFound(_("No such order."))
    return found


def status_label(status: str) -> str:
    return str(OrderStatus(status).label)


def _refuse_status(order: Order, allowed: Sequence[str] | frozenset[str], doing: str) -> None:
    if order.status not in allowed:
        raise Conflict(
            _("Order %(number)s is %(status)s: it cannot be %(doing)s.")
            % {"number": order.number, "status": status_label(order.status), "doing": doing}
        )


def audit(
    actor: User | None,
    action: str,
    order: Order,
    changes: dict[str, list[Any]] | None = None,
    note: str = "",
) -> None:
    audit_record(
        actor=actor,
        action=action,
        target=order,
        changes=changes,
        scope=account_scope(order.account_id),
        note=note,
    )


def bump(order: Order, fields: Sequence[str]) -> None:
    order.version += 1
    order.updated_at = timezone.now()
    order.save(update_fields=[*fields, "version", "updated_at"])


def clean_key(value: Any) -> str:
    key = value.strip() if isinstance(value, str) else ""
    if len(key) > KEY_LIMIT or not key.isprintable():
        raise ApplicationError(
            _("An idempotency key is at most %(n)d printable characters.") % {"n": KEY_LIMIT},
            field="idempotency_key",
            status=422,
        )
    return key


def _ref(value: Any) -> int | None:
    if isinstance(value, Product | OrderLine):
        return value.pk
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdecimal() and len(value.strip()) <= 18:
        return int(value.strip())
    return None


def _product_label(product: Product) -> str:
    return f"{product.sku} {product.name}"


def assortment_problem(product: Product) -> str | None:
    """Why the product cannot be ordered now (discontinued or unavailable), with its lead time
    and substitutes, or None when it can be."""
    if product.status == ProductStatus.ACTIVE:
        return None
    substitutes = [
        _product_label(p)
        for p in product.substitutes.filter(status=ProductStatus.ACTIVE).order_by("sku")
    ]
    if product.status == ProductStatus.DISCONTINUED:
        message = _("%(product)s is discontinued.") % {"product": _product_label(product)}
    else:
        message = _("%(product)s is temporarily unavailable.") % {
            "product": _product_label(product)
        }
        if product.lead_time_days is not None:
            message += " " + _("Lead time: %(days)d days.") % {"days": product.lead_time_days}
    if substitutes:
        message += " " + _("Substitutes: %(list)s.") % {"list": ", ".join(substitutes)}
    else:
        message += " " + _("It has no substitute in the catalog.")
    return message


# -- lines -----------------------------------------------------------------------------------


def _clean_date(value: Any, key: str, errors: ErrorCollector) -> datetime.date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        errors.add(key, _("Enter a date."))
        return None
    if not 2000 <= value.year <= 2199:
        errors.add(key, _("Enter a date between 2000 and 2199."))
        return None
    return value


def price_order_lines(
    *, actor: User, account: Account, lines: Any, on: datetime.date
) -> list[tuple[PricedLine, datetime.date | None]]:
    """Check and price ``lines`` (``[{"product", "quantity", "unit_price"?, "promised_on"?}]``)
    on ``on``; every problem at once, keyed ``lines.<n>.<field>``."""
    if not isinstance(lines, list | tuple):
        raise ApplicationError(_("Give the order's lines."), field="lines", status=422)
    errors = ErrorCollector()
    if not lines:
        errors.add("lines", _("Add at least one line: a product and a quantity."))
    if len(lines) > LINES_LIMIT:
        errors.add("lines", _("An order has at most %(n)d lines.") % {"n": LINES_LIMIT})
    errors.raise_if_any()
    ids = {i for row in lines if isinstance(row, dict) and (i := _ref(row.get("product")))}
    products = {p.pk: p for p in Product.objects.filter(pk__in=ids)}
    result: list[tuple[PricedLine, datetime.date | None]] = []
    for index, row in enumerate(lines):
        key = f"lines.{index}"
        if not isinstance(row, dict):
            errors.add(key, _("A line is a product and a quantity."))
            continue
        product = products.get(_ref(row.get("product")) or 0)
        if product is not None and (problem := assortment_problem(product)):
            errors.add(f"{key}.product", problem)
            continue
        promised_on = _clean_date(row.get("promised_on"), f"{key}.promised_on", errors)
        wanted = row.get("unit_price")
        single = {"product": row.get("product"), "quantity": row.get("quantity")}
        try:
            (priced,) = price_lines(actor=actor, account=account, lines=[single], on=on)
        except ApplicationError as exc:
            for field, messages in exc.errors.items():
                for message in messages:
                    errors.add(field.replace("lines.0", key, 1), message)
            if not exc.errors:
                errors.add(key, exc.message)
            continue
        priced.number = index + 1
        try:
            asked = _asked_price(wanted, priced.currency, f"{key}.unit_price")
        except MoneyError as exc:
            errors.add(f"{key}.unit_price", exc.message)
            continue
        if asked is not None and asked > priced.engine_price:
            errors.add(
                f"{key}.unit_price",
                _(
                    "The price sent (%(sent)s) is above the price found (%(price)s): an order "
                    "is never charged above the price found. Leave it empty to take the price "
                    "found."
                )
                % {
                    "sent": format_money(asked, priced.currency),
                    "price": format_money(priced.engine_price, priced.currency),
                },
            )
            continue
        if asked is not None:
            priced.unit_price = asked
        result.append((priced, promised_on))
    currencies: dict[str, list[int]] = {}
    for priced, _promised in result:
        currencies.setdefault(priced.currency, []).append(priced.number)
    if len(currencies) > 1:
        parts = [
            _("%(currency)s (lines %(lines)s)")
            % {"currency": code, "lines": ", ".join(str(n) for n in numbers)}
            for code, numbers in sorted(currencies.items())
        ]
        errors.add(
            "lines",
            _("An order is in one currency, but these lines are in %(parts)s: split the order.")
            % {"parts": " / ".join(parts)},
        )
    errors.raise_if_any()
    return result


def _asked_price(value: Any, currency: str, key: str) -> Decimal | None:
    """The unit price a line asks for (None: the engine's)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise MoneyError(_("Enter the unit price as a number."), field=key)
    if isinstance(value, Decimal | int):
        return check_amount(value, currency, field=key)
    if isinstance(value, float):
        try:
            return check_amount(Decimal(str(value)), currency, field=key)
        except InvalidOperation:
            raise MoneyError(_("Enter the unit price as a number."), field=key) from None
    if isinstance(value, str):
        return parse_money(value, currency, field=key)
    raise MoneyError(_("Enter the unit price as a number."), field=key)


# -- prices beyond authority -----------------------------------------------------------------


def order_needs(lines: Sequence[PricedLine], currency: str) -> Needs | None:
    """What the lines asked below the engine's price take (as ``quote_needs``): the largest
    discount off list, the lowest margin, the net value (yen). None: every line is at the
    engine's price, which needs nobody's authority."""
    discounted = [line for line in lines if line.unit_price < line.engine_price]
    if not discounted:
        return None
    worst_discount: Decimal | None = None
    worst_margin: Decimal | None = None
    for line in discounted:
        discount = line_discount(line.unit_price, line.list_price)
        if worst_discount is None or discount > worst_discount:
            worst_discount = discount
        margin = line_margin(line.unit_price, line.product.cost)
        if margin is not None and (worst_margin is None or margin < worst_margin):
            worst_margin = margin
    subtotal = sum((line.amount for line in lines), Decimal(0))
    return Needs(
        discount_percent=worst_discount,
        margin_percent=worst_margin,
        deal_value=subtotal if currency == "JPY" else None,
    )


def _note_agreed(line: PricedLine, text: str) -> None:
    line.explanation = (line.explanation + "\n" if line.explanation else "") + text


def _agreed_text(line: PricedLine, actor: User, *, within: bool) -> str:
    values = {
        "price": format_money(line.unit_price, line.currency),
        "engine": format_money(line.engine_price, line.currency),
        "who": actor.get_full_name() or actor.get_username(),
    }
    if within:
        return (
            _(
                "Agreed price %(price)s (the price found is %(engine)s), granted by %(who)s "
                "within their authority."
            )
            % values
        )
    return (
        _(
            "Agreed price %(price)s (the price found is %(engine)s), asked by %(who)s beyond "
            "their authority: it needs an approval."
        )
        % values
    )


def _order_title(order: Order) -> str:
    return _("Order %(number)s for %(account)s (%(total)s)") % {
        "number": order.number,
        "account": order.account.name,
        "total": format_money(order.total, order.currency),
    }


def _open_order_approval(
    actor: User, order: Order, needs: Needs, priced: list[tuple[PricedLine, datetime.date | None]]
) -> None:
    """The approval request of an order priced beyond the creator's authority."""
    try:
        request = approval_request_create(
            actor=actor,
            kind=ORDER_KIND,
            title=_order_title(order),
            proposal={"order": order.pk, "number": order.number},
            needs=needs,
            account=order.account,
            subject_key=f"order:{order.pk}",
        )
    except ApplicationError as exc:
        if exc.errors:
            raise
        errors = ErrorCollector()
        for index, (line, _promised) in enumerate(priced):
            if line.unit_price < line.engine_price:
                errors.add(f"lines.{index}.unit_price", exc.message)
        errors.raise_if_any()
        raise
    order.approval = request
    order.save(update_fields=["approval"])
    audit(
        actor,
        "orders.order.price_submitted",
        order,
        changes={"approval": [None, request.pk]},
        note=", ".join(breaches(authority_for(actor), needs)),
    )


def order_approval_problem(order: Order) -> str | None:
    """Why the order cannot be confirmed yet because of its prices (None: it can)."""
    if order.approval_id is None:
        return None
    request = ApprovalRequest.objects.filter(pk=order.approval_id).first()
    if request is None or request.status == ApprovalStatus.APPROVED:
        return None
    if request.status == ApprovalStatus.REJECTED:
        return _(
            "The prices of order %(number)s were rejected (request #%(n)s): agree another price "
            "with the customer in a new order, or cancel this one."
        ) % {"number": order.number, "n": request.pk}
    if request.status in OPEN_STATUSES:
        return _(
            "Order %(number)s waits for approval request #%(n)s of its prices: it can be "
            "confirmed once the request is approved."
        ) % {"number": order.number, "n": request.pk}
    return _(
        "The approval request #%(n)s of order %(number)s was withdrawn: the order cannot be "
        "confirmed at these prices."
    ) % {"number": order.number, "n": request.pk}


def _line_rows(
    order: Order, priced: list[tuple[PricedLine, datetime.date | None]]
) -> list[OrderLine]:
    return [
        OrderLine(
            order=order,
            position=position,
            product=line.product,
            sku=line.product.sku,
            description=line.description[:300],
            unit=line.product.unit,
            quantity=line.quantity,
            list_price=line.list_price,
            engine_price=line.engine_price,
            unit_price=line.unit_price,
            tax_category=line.product.tax_category,
            amount=line.amount,
            promised_on=promised_on,
            open_promised_on=promised_on,
            explanation=line.explanation,
        )
        for position, (line, promised_on) in enumerate(priced, start=1)
    ]


def set_totals(order: Order, lines: Sequence[OrderLine]) -> None:
    totals = quote_totals(((line.amount, line.tax_category) for line in lines), order.currency)
    order.subtotal, order.tax, order.total = totals.subtotal, totals.tax, totals.total


# -- creating --------------------------------------------------------------------------------


def _live_contact(account_id: int, contact_id: int | None) -> int | None:
    """A copied contact (of a quote, an old order) if still a current contact of the account:
    one archived since is left off (the order goes to the company) rather than refusing."""
    if contact_id is None:
        return None
    live = Contact.objects.filter(pk=contact_id, account_id=account_id, archived_at=None)
    return contact_id if live.exists() else None


def _existing(actor: User, key: str) -> Order | None:
    if not key:
        return None
    return Order.objects.filter(created_by=actor, idempotency_key=key).first()


def _clean_header(
    *,
    account: Account,
    contact: Any,
    customer_reference: Any,
    delivery_address: Any,
    notes: Any,
    ordered_on: Any,
) -> dict[str, Any]:
    errors = ErrorCollector()
    clean: dict[str, Any] = {}
    for name, value, limit in (
        ("customer_reference", customer_reference, 100),
        ("delivery_address", delivery_address, TEXT_LIMIT),
        ("notes", notes, TEXT_LIMIT),
    ):
        text = value.strip() if isinstance(value, str) else ""
        if len(text) > limit:
            errors.add(name, _("At most %(n)d characters, please.") % {"n": limit})
        check_plain_text(name, text, errors)
        clean[name] = text
    clean["contact"] = None
    if contact not in (None, ""):
        contact_id = contact.pk if isinstance(contact, Contact) else _ref(contact)
        found = (
            Contact.objects.filter(pk=contact_id, account=account, archived_at=None).first()
            if contact_id
            else None
        )
        if found is None:
            errors.add("contact", _("Choose a contact of this account."))
        clean["contact"] = found
    day = _clean_date(ordered_on, "ordered_on", errors)
    clean["ordered_on"] = day or timezone.localdate()
    errors.raise_if_any()
    return clean


def _create(
    *,
    actor: User,
    account: Account,
    header: dict[str, Any],
    priced: list[tuple[PricedLine, datetime.date | None]],
    source: str,
    key: str,
    quote: Quote | None = None,
    reorder_of: Order | None = None,
    regarding: models.Model | None = None,
    check_authority: bool = False,
) -> Order:
    needs = order_needs([p for p, _d in priced], priced[0][0].currency) if check_authority else None
    within = needs is None or not breaches(authority_for(actor), needs)
    if needs is not None:
        for line, _promised in priced:
            if line.unit_price < line.engine_price:
                _note_agreed(line, _agreed_text(line, actor, within=within))
    order = Order(
        account=account,
        owner=actor,
        created_by=actor,
        number=next_document_number("SO", header["ordered_on"].year, digits=5),
        source=source,
        quote=quote,
        reorder_of=reorder_of,
        currency=priced[0][0].currency,
        idempotency_key=key,
        **header,
    )
    if regarding is not None:
        order.regarding_type = ContentType.objects.get_for_model(regarding)
        order.regarding_id = regarding.pk
    order.save()
    rows = OrderLine.objects.bulk_create(_line_rows(order, priced))
    set_totals(order, rows)
    order.save(update_fields=["subtotal", "tax", "total"])
    audit(
        actor,
        "orders.order.created",
        order,
        changes={"status": [None, order.status], "total": [None, str(order.total)]},
        note=order.customer_reference,
    )
    if needs is not None and not within:
        _open_order_approval(actor, order, needs, priced)
    return order


def _once(actor: User, key: str, make: Any) -> tuple[Order, bool]:
    """Run ``make`` in its own (sub)transaction; a race lost on the idempotency key returns
    the winner's order."""
    try:
        with transaction.atomic():
            return make(), True
    except IntegrityError:
        existing = _existing(actor, key)
        if existing is None:
            raise
        return existing, False


def order_create_once(
    *,
    actor: User,
    account: Account | int,
    lines: Sequence[dict[str, Any]],
    contact: Contact | int | None = None,
    customer_reference: str = "",
    ordered_on: datetime.date | None = None,
    delivery_address: str = "",
    notes: str = "",
    source: str = OrderSource.MANUAL,
    idempotency_key: str = "",
    regarding: models.Model | None = None,
) -> tuple[Order, bool]:
    """``order_create``, also saying whether the order is new (False: a retry's first order)."""
    require_editor(actor)
    key = clean_key(idempotency_key)
    if (found := _existing(actor, key)) is not None:
        return found, False
    account = visible_account(actor, account)
    if account.is_archived:
        raise ApplicationError(_("This account is archived: restore it before taking orders."))
    if source not in OrderSource.values:
        raise ApplicationError(_("Unknown order source."), field="source", status=422)
    header = _clean_header(
        account=account,
        contact=contact,
        customer_reference=customer_reference,
        delivery_address=delivery_address,
        notes=notes,
        ordered_on=ordered_on,
    )
    priced = price_order_lines(actor=actor, account=account, lines=lines, on=header["ordered_on"])
    return _once(
        actor,
        key,
        lambda: _create(
            actor=actor,
            account=account,
            header=header,
            priced=priced,
            source=source,
            key=key,
            regarding=regarding,
            check_authority=True,
        ),
    )


def order_create(
    *,
    actor: User,
    account: Account | int,
    lines: Sequence[dict[str, Any]],
    contact: Contact | int | None = None,
    customer_reference: str = "",
    ordered_on: datetime.date | None = None,
    delivery_address: str = "",
    notes: str = "",
    source: str = OrderSource.MANUAL,
    idempotency_key: str = "",
) -> Order:
    """A new order (received), numbered SO-YYYY-NNNNN, its lines priced on ``ordered_on``;
    a line's ``unit_price`` below the price found is a discount checked against the actor's
    authority (see the module's docstring)."""
    order, _new = order_create_once(
        actor=actor,
        account=account,
        lines=lines,
        contact=contact,
        customer_reference=customer_reference,
        ordered_on=ordered_on,
        delivery_address=delivery_address,
        notes=notes,
        source=source,
        idempotency_key=idempotency_key,
    )
    return order


def order_from_quote(
    *,
    actor: User,
    quote: Quote | int,
    customer_reference: str = "",
    ordered_on: datetime.date | None = None,
    delivery_address: str = "",
    notes: str = "",
    idempotency_key: str = "",
    regarding: models.Model | None = None,
    source: str = OrderSource.QUOTE,
) -> Order:
    """An order from an accepted quote: its lines at the quote's prices (approved there)."""
    require_editor(actor)
    key = clean_key(idempotency_key)
    if (found := _existing(actor, key)) is not None:
        return found
    quote_id = quote.pk if isinstance(quote, Quote) else quote
    visible = Account.objects.visible_to(actor).values("pk")
    source_quote = Quote.objects.filter(pk=quote_id, account_id__in=visible).first()
    if source_quote is None:
        raise NotFound(_("No such quote."))
    if source_quote.status != QuoteStatus.ACCEPTED:
        raise Conflict(
            _("Quote %(number)s is %(status)s: only an accepted quote becomes an order.")
            % {
                "number": source_quote.display_number,
                "status": str(QuoteStatus(source_quote.status).label),
            }
        )
    account = source_quote.account
    header = _clean_header(
        account=account,
        contact=_live_contact(account.pk, source_quote.contact_id),
        customer_reference=customer_reference,
        delivery_address=delivery_address,
        notes=notes,
        ordered_on=ordered_on,
    )
    errors = ErrorCollector()
    priced: list[tuple[PricedLine, datetime.date | None]] = []
    for index, qline in enumerate(
        source_quote.lines.select_related("product").order_by("position")
    ):
        if qline.product is None:
            errors.add(
                f"lines.{index}.product",
                _("%(line)s is no longer in the catalog.") % {"line": qline.description},
            )
            continue
        if problem := assortment_problem(qline.product):
            errors.add(f"lines.{index}.product", problem)
            continue
        priced.append(
            (
                PricedLine(
                    number=index + 1,
                    product=qline.product,
                    quantity=qline.quantity,
                    engine_price=qline.engine_price,
                    unit_price=qline.unit_price,
                    list_price=qline.list_price,
                    explanation=qline.explanation,
                    description=qline.description,
                    currency=source_quote.currency,
                ),
                None,
            )
        )
    errors.raise_if_any()
    if not priced:
        raise ApplicationError(_("The quote has no lines."))

    def make() -> Order:
        # One order per accepted quote, whoever takes it and from where (the quote's page, the
        # won deal's "Take the order"): the quote's row lock serialises two takers.
        Quote.objects.select_for_update().filter(pk=source_quote.pk).first()
        taken = (
            Order.objects.filter(quote=source_quote)
            .exclude(status=OrderStatus.CANCELLED)
            .order_by("pk")
            .first()
        )
        if taken is not None:
            return taken
        return _create(
            actor=actor,
            account=account,
            header=header,
            priced=priced,
            source=source,
            key=key,
            quote=source_quote,
            regarding=regarding,
        )

    order, _new = _once(actor, key, make)
    return order


def order_reorder(*, actor: User, order: Order | int, idempotency_key: str = "") -> Order:
    """A new order with the same products and quantities, priced again today."""
    require_editor(actor)
    order_id = order.pk if isinstance(order, Order) else order
    visible = Account.objects.visible_to(actor).values("pk")
    old = Order.objects.filter(pk=order_id, account_id__in=visible).first()
    if old is None:
        raise NotFound(_("No such order."))
    rows = [
        {"product": line.product_id, "quantity": line.quantity}
        for line in old.lines.order_by("position")
    ]
    if any(row["product"] is None for row in rows):
        raise ApplicationError(
            _("A product of this order is no longer in the catalog: make a new order instead.")
        )
    key = clean_key(idempotency_key)
    if (found := _existing(actor, key)) is not None:
        return found
    account = visible_account(actor, old.account_id)
    if account.is_archived:
        raise ApplicationError(_("This account is archived: restore it before taking orders."))
    header = _clean_header(
        account=account,
        contact=_live_contact(account.pk, old.contact_id),
        customer_reference="",
        delivery_address=old.delivery_address,
        notes="",
        ordered_on=None,
    )
    priced = price_order_lines(actor=actor, account=account, lines=rows, on=header["ordered_on"])
    new, _new = _once(
        actor,
        key,
        lambda: _create(
            actor=actor,
            account=account,
            header=header,
            priced=priced,
            source=OrderSource.MANUAL,
            key=key,
            reorder_of=old,
        ),
    )
    return new


# -- moving along ----------------------------------------------------------------------------


def _move(
    actor: User,
    order: Order | int,
    version: int | None,
    allowed: list[str],
    target: str,
    doing: str,
) -> Order:
    require_editor(actor)
    locked = locked_order(actor, order)
    check_version(record=locked, version=version)
    _refuse_status(locked, allowed, doing)
    before = locked.status
    locked.status = target
    bump(locked, ["status"])
    audit(actor, f"orders.order.{target}", locked, changes={"status": [before, target]})
    return locked


@transaction.atomic
def order_confirm(*, actor: User, order: Order | int, version: int | None = None) -> Order:
    """Received → confirmed (we accept the order and its dates). Refused while the order's
    prices wait for an approval (or were rejected). Runs ``order_confirmed_hooks``."""
    require_editor(actor)
    locked = locked_order(actor, order)
    check_version(record=locked, version=version)
    _refuse_status(locked, [OrderStatus.RECEIVED], pgettext("order action", "confirmed"))
    if (problem := order_approval_problem(locked)) is not None:
        raise Conflict(problem)
    confirmed = _move(
        actor,
        locked,
        version,
        [OrderStatus.RECEIVED],
        OrderStatus.CONFIRMED,
        pgettext("order action", "confirmed"),
    )
    order_confirmed_hooks.run(confirmed, actor)
    return confirmed


@transaction.atomic
def order_start_fulfilment(*, actor: User, order: Order | int, version: int | None = None) -> Order:
    """Confirmed → in fulfilment (picking, production, procurement started)."""
    return _move(
        actor,
        order,
        version,
        [OrderStatus.CONFIRMED],
        OrderStatus.IN_FULFILMENT,
        pgettext("order action", "put into fulfilment"),
    )


@transaction.atomic
def order_cancel(
    *, actor: User, order: Order | int, reason: str, version: int | None = None
) -> Order:
    """Cancel an order nothing of which was delivered; say why."""
    require_editor(actor)
    locked = locked_order(actor, order)
    check_version(record=locked, version=version)
    reason = reason.strip() if isinstance(reason, str) else ""
    errors = ErrorCollector()
    if not reason:
        errors.add("reason", _("Say why the order is cancelled."))
    elif len(reason) > TEXT_LIMIT:
        errors.add("reason", _("At most %(n)d characters, please.") % {"n": TEXT_LIMIT})
    check_plain_text("reason", reason, errors)
    errors.raise_if_any()
    if locked.lines.filter(delivered_quantity__gt=0).exists() or locked.deliveries.exists():
        raise Conflict(
            _("Order %(number)s was already (partly) delivered: it cannot be cancelled.")
            % {"number": locked.number}
        )
    _refuse_status(locked, CHANGEABLE, pgettext("order action", "cancelled"))
    _close_open_approval(actor, locked, reason)
    before = locked.status
    locked.status = OrderStatus.CANCELLED
    locked.cancelled_at = timezone.now()
    locked.cancel_reason = reason
    bump(locked, ["status", "cancelled_at", "cancel_reason"])
    locked.lines.update(open_promised_on=None)  # nothing is owed on a cancelled order
    audit(
        actor,
        "orders.order.cancelled",
        locked,
        changes={"status": [before, locked.status]},
        note=reason,
    )
    return locked


@transaction.atomic
def order_set_line_substitute(
    *,
    actor: User,
    order: Order | int,
    line: OrderLine | int,
    product: Product | int,
    version: int | None = None,
) -> Order:
    """The assortment change: replace a line's product with one of its substitutes (with the
    customer's agreement), priced on the order's date; the line remembers what it replaced."""
    require_editor(actor)
    locked = locked_order(actor, order)
    check_version(record=locked, version=version)
    _refuse_status(locked, CHANGEABLE, pgettext("order action", "changed"))
    row = OrderLine.objects.filter(order=locked, pk=_ref(line) or 0).first()
    if row is None:
        raise NotFound(_("No such line on this order."))
    if row.delivered_quantity:
        raise Conflict(_("This line was already (partly) delivered: it cannot be changed."))
    current = Product.objects.filter(pk=row.product_id or 0).first()
    new = Product.objects.filter(pk=_ref(product) or 0).first()
    if (
        current is None
        or new is None
        or not current.substitutes.filter(pk=new.pk).exists()
        or new.pk == current.pk
    ):
        raise ApplicationError(
            _("Choose one of the product's substitutes."), field="product", status=422
        )
    if problem := assortment_problem(new):
        raise ApplicationError(problem, field="product", status=422)
    try:
        answer = price_quote(
            viewer=actor,
            account_id=locked.account_id,
            product_id=new.pk,
            quantity=row.quantity,
            on=locked.ordered_on,
        )
    except PricingError as exc:
        raise ApplicationError(f"{new.sku}: {exc.message}", field="product", status=422) from exc
    if answer.currency != locked.currency:
        raise ApplicationError(
            _("%(product)s is priced in %(currency)s, the order in %(order)s.")
            % {
                "product": _product_label(new),
                "currency": answer.currency,
                "order": locked.currency,
            },
            field="product",
            status=422,
        )
    before = f"{row.sku} {row.description}"
    row.substitute_for_id = row.substitute_for_id or current.pk
    row.product = new
    row.sku = new.sku
    row.description = new.name[:300]
    row.unit = new.unit
    row.tax_category = new.tax_category
    row.list_price = new.list_price
    row.engine_price = row.unit_price = answer.unit_price
    row.amount = quantize(answer.unit_price * row.quantity, locked.currency)
    row.explanation = answer.explain(_, get_language() or "en")
    row.save()
    old_total = str(locked.total)
    lines = list(locked.lines.all())
    set_totals(locked, lines)
    fields = ["subtotal", "tax", "total"]
    if locked.approval_id is not None and not any(x.unit_price < x.engine_price for x in lines):
        # The discounted line was the one replaced: nothing is left to approve.
        _close_open_approval(actor, locked, _("The discounted line was replaced by a substitute."))
        locked.approval = None
        fields.append("approval")
    bump(locked, fields)
    audit(
        actor,
        "orders.order.line_substituted",
        locked,
        changes={
            f"lines.{row.position}": [before, f"{row.sku} {row.description}"],
            "total": [old_total, str(locked.total)],
        },
    )
    return locked


# -- the approval kind "order" ---------------------------------------------------------------


def _close_open_approval(actor: User, order: Order, comment: str) -> None:
    """Withdraw a cancelled order's open approval request (when the actor made it; otherwise
    it stays, and approving it later is refused)."""
    if order.approval_id is None:
        return
    request = ApprovalRequest.objects.filter(pk=order.approval_id).first()
    if request is None or request.status not in OPEN_STATUSES or request.requester_id != actor.pk:
        return
    approval_withdraw(actor=actor, request=request, comment=comment)


def _proposal_order_id(request: ApprovalRequest) -> int:
    value = (request.proposal or {}).get("order") if isinstance(request.proposal, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _apply_order_approval(request: ApprovalRequest, approver: User) -> None:
    """Approving applies nothing but the record: the order may now be confirmed."""
    order = Order.objects.select_for_update().filter(pk=_proposal_order_id(request)).first()
    if order is None:
        raise NotFound(_("The order no longer exists."))
    if order.approval_id != request.pk or order.status == OrderStatus.CANCELLED:
        raise Conflict(
            _("Order %(number)s is no longer waiting for this approval (it is %(status)s).")
            % {"number": order.number, "status": status_label(order.status)}
        )
    audit(
        approver,
        "orders.order.price_approved",
        order,
        changes={"approval": [request.pk, request.pk]},
        note=f"#{request.pk}",
    )


def _describe_order(request: ApprovalRequest, viewer: User) -> list[dict[str, Any]]:
    order = Order.objects.filter(pk=_proposal_order_id(request)).first()
    if order is None:
        return []
    return describe_priced_lines(
        order.lines.select_related("product").order_by("position"),
        currency=order.currency,
        subtotal=order.subtotal,
        total_label=_("Order %(number)s (net, before tax)") % {"number": order.number},
        viewer=viewer,
    )


def _request_title(request: ApprovalRequest) -> str:
    order = Order.objects.select_related("account").filter(pk=_proposal_order_id(request)).first()
    return _order_title(order) if order is not None else request.title


approval_kinds.register(
    ORDER_KIND,
    apply=_apply_order_approval,
    describe=_describe_order,
    label=gettext_lazy("Order"),
    title=_request_title,
)
