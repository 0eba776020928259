"""Deliveries (納品): shipping some quantities of an order's lines, and recording arrival.

A delivery is taken under the ORDER's row lock: the outstanding quantities are read, checked
and raised while no other delivery of the same order can run, so two shipments of the last
units never both succeed (and the database's check keeps ``delivered_quantity`` ≤ quantity
anyway). The order becomes partially delivered, or delivered once every line is complete.
Numbers: DN-YYYY-NNNNN. ``idempotency_key`` works as for orders.
"""

import datetime
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.accounts.models import Account, account_scope
from tokui.core.audit import audit_record, check_version
from tokui.core.exceptions import ApplicationError, Conflict, NotFound
from tokui.core.validation import ErrorCollector, check_plain_text
from tokui.orders.constants import DeliveryStatus, OrderStatus
from tokui.orders.models import Delivery, DeliveryLine, Order, OrderLine
from tokui.orders.numbering import next_document_number
from tokui.orders.orders import audit, bump, clean_key, locked_order, require_editor, status_label
from tokui.pricing.engine import MAX_QUANTITY
from tokui.users.models import User

# An order ships only once confirmed, and not after it is complete or cancelled.
SHIPPABLE = frozenset(
    {OrderStatus.CONFIRMED, OrderStatus.IN_FULFILMENT, OrderStatus.PARTIALLY_DELIVERED}
)


def _ref(value: Any) -> int | None:
    if isinstance(value, OrderLine):
        return value.pk
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdecimal() and len(value.strip()) <= 18:
        return int(value.strip())
    return None


def _existing(actor: User, key: str) -> Delivery | None:
    if not key:
        return None
    return Delivery.objects.filter(created_by=actor, idempotency_key=key).first()


def _audit(actor: User | None, action: str, delivery: Delivery, account_id: int, **kw: Any) -> None:
    audit_record(actor=actor, action=action, target=delivery, scope=account_scope(account_id), **kw)


def _clean_text(name: str, value: Any, limit: int, errors: ErrorCollector) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if len(text) > limit:
        errors.add(name, _("At most %(n)d characters, please.") % {"n": limit})
    check_plain_text(name, text, errors)
    return text


def _create(
    *,
    actor: User,
    order: Order | int,
    lines: Any,
    shipped_on: Any,
    carrier: Any,
    tracking_number: Any,
    key: str,
) -> Delivery:
    locked = locked_order(actor, order)
    if locked.status not in SHIPPABLE:
        if locked.status == OrderStatus.RECEIVED:
            message = _("Order %(number)s is not confirmed yet: confirm it before shipping.")
        else:
            message = _("Order %(number)s is %(status)s: nothing more can be shipped.")
        raise Conflict(message % {"number": locked.number, "status": status_label(locked.status)})
    errors = ErrorCollector()
    if not isinstance(shipped_on, datetime.date) or isinstance(shipped_on, datetime.datetime):
        errors.add("shipped_on", _("Enter a date."))
    elif not 2000 <= shipped_on.year <= 2199:
        errors.add("shipped_on", _("Enter a date between 2000 and 2199."))
    carrier = _clean_text("carrier", carrier, 100, errors)
    tracking_number = _clean_text("tracking_number", tracking_number, 100, errors)
    if not isinstance(lines, list | tuple) or not lines:
        errors.add("lines", _("Add at least one line: an order line and a quantity."))
        errors.raise_if_any()
    order_lines = {line.pk: line for line in OrderLine.objects.filter(order=locked)}
    shipping: dict[int, int] = {}
    for index, row in enumerate(lines):
        key_ = f"lines.{index}"
        if not isinstance(row, dict):
            errors.add(key_, _("A line is an order line and a quantity."))
            continue
        line = order_lines.get(_ref(row.get("order_line")) or 0)
        if line is None:
            errors.add(f"{key_}.order_line", _("Choose a line of this order."))
            continue
        if line.pk in shipping:
            errors.add(f"{key_}.order_line", _("This line is already in the delivery."))
            continue
        quantity = row.get("quantity")
        if isinstance(quantity, str) and quantity.strip().isdecimal() and len(quantity) <= 18:
            quantity = int(quantity.strip())
        if (
            isinstance(quantity, bool)
            or not isinstance(quantity, int)
            or not 1 <= quantity <= MAX_QUANTITY
        ):
            errors.add(f"{key_}.quantity", _("A quantity is a whole number of at least 1."))
            continue
        left = line.quantity - line.delivered_quantity
        if quantity > left:
            errors.add(
                f"{key_}.quantity",
                _(
                    "Line %(position)d (%(sku)s %(description)s): only %(left)d of %(quantity)d "
                    "are left to deliver."
                )
                % {
                    "position": line.position,
                    "sku": line.sku,
                    "description": line.description,
                    "left": left,
                    "quantity": line.quantity,
                },
            )
            continue
        shipping[line.pk] = quantity
    errors.raise_if_any()
    assert isinstance(shipped_on, datetime.date)
    delivery = Delivery.objects.create(
        order=locked,
        number=next_document_number("DN", shipped_on.year, digits=5),
        shipped_on=shipped_on,
        carrier=carrier,
        tracking_number=tracking_number,
        idempotency_key=key,
        created_by=actor,
    )
    DeliveryLine.objects.bulk_create(
        DeliveryLine(delivery=delivery, order_line_id=pk, quantity=quantity)
        for pk, quantity in shipping.items()
    )
    for pk, quantity in shipping.items():
        line = order_lines[pk]
        line.delivered_quantity += quantity
        if line.delivered_quantity >= line.quantity:
            line.open_promised_on = None  # nothing owed: off the late and at-risk lists
        line.save(update_fields=["delivered_quantity", "open_promised_on"])
    complete = all(line.delivered_quantity >= line.quantity for line in order_lines.values())
    before = locked.status
    locked.status = OrderStatus.DELIVERED if complete else OrderStatus.PARTIALLY_DELIVERED
    bump(locked, ["status"])
    _audit(
        actor,
        "orders.delivery.created",
        delivery,
        locked.account_id,
        changes={"lines": [None, {str(k): v for k, v in shipping.items()}]},
        note=locked.number,
    )
    if before != locked.status:
        # "orders.order.partially_delivered" or "orders.order.delivered", as the status moved.
        audit(
            actor,
            f"orders.order.{locked.status}",
            locked,
            changes={"status": [before, locked.status]},
        )
    return delivery


def delivery_create_once(
    *,
    actor: User,
    order: Order | int,
    lines: Sequence[dict[str, Any]],
    shipped_on: datetime.date,
    carrier: str = "",
    tracking_number: str = "",
    idempotency_key: str = "",
) -> tuple[Delivery, bool]:
    """``delivery_create``, also saying whether the delivery is new (False: a retry's first)."""
    require_editor(actor)
    key = clean_key(idempotency_key)
    if (found := _existing(actor, key)) is not None:
        return found, False
    try:
        with transaction.atomic():
            delivery = _create(
                actor=actor,
                order=order,
                lines=lines,
                shipped_on=shipped_on,
                carrier=carrier,
                tracking_number=tracking_number,
                key=key,
            )
            return delivery, True
    except IntegrityError:
        existing = _existing(actor, key)
        if existing is None:
            raise
        return existing, False


def delivery_create(
    *,
    actor: User,
    order: Order | int,
    lines: Sequence[dict[str, Any]],
    shipped_on: datetime.date,
    carrier: str = "",
    tracking_number: str = "",
    idempotency_key: str = "",
) -> Delivery:
    """Ship ``lines`` (``[{"order_line", "quantity"}]``) of a confirmed order."""
    delivery, _new = delivery_create_once(
        actor=actor,
        order=order,
        lines=lines,
        shipped_on=shipped_on,
        carrier=carrier,
        tracking_number=tracking_number,
        idempotency_key=idempotency_key,
    )
    return delivery


@transaction.atomic
def delivery_mark_delivered(
    *,
    actor: User,
    delivery: Delivery | int,
    delivered_on: datetime.date | None = None,
    version: int | None = None,
) -> Delivery:
    """The goods arrived (the customer signed the delivery slip)."""
    require_editor(actor)
    delivery_id = delivery.pk if isinstance(delivery, Delivery) else delivery
    visible = Account.objects.visible_to(actor).values("pk")
    orders = Order.objects.filter(account_id__in=visible).values("pk")
    found = Delivery.objects.select_for_update().filter(pk=delivery_id, order_id__in=orders).first()
    if found is None:
        raise NotFound(_("No such delivery."))
    check_version(record=found, version=version)
    if found.status != DeliveryStatus.SHIPPED:
        raise Conflict(_("Delivery %(number)s is already delivered.") % {"number": found.number})
    day = delivered_on or timezone.localdate()
    if not isinstance(day, datetime.date) or day < found.shipped_on:
        raise ApplicationError(
            _("A delivery cannot arrive before it was shipped (%(date)s).")
            % {"date": found.shipped_on.isoformat()},
            field="delivered_on",
            status=422,
        )
    found.status = DeliveryStatus.DELIVERED
    found.delivered_on = day
    found.version += 1
    found.updated_at = timezone.now()
    found.save(update_fields=["status", "delivered_on", "version", "updated_at"])
    account_id = Order.objects.values_list("account_id", flat=True).get(pk=found.order_id)
    _audit(
        actor,
        "orders.delivery.delivered",
        found,
        account_id,
        changes={"status": [DeliveryStatus.SHIPPED, found.status]},
    )
    return found
