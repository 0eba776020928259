"""Reading orders and deliveries: lists, one record, late and at-risk orders, OTIF.

Everything goes through ``Account.objects.visible_to(viewer)``: an order of an account the
viewer may not see does not exist for them (``NotFound``).
"""

import calendar
import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from tokui.accounts.models import Account, sees_every_account
from tokui.core.exceptions import NotFound
from tokui.orders.constants import OrderStatus
from tokui.orders.models import Delivery, DeliveryLine, Invoice, Order, OrderLine
from tokui.users.models import User

# Orders whose remaining goods still have to go out.
OPEN_STATUSES = (
    OrderStatus.RECEIVED,
    OrderStatus.CONFIRMED,
    OrderStatus.IN_FULFILMENT,
    OrderStatus.PARTIALLY_DELIVERED,
)


def _visible_orders(viewer: User) -> QuerySet[Order]:
    if sees_every_account(viewer):  # no condition: the (account, date) index serves the lists
        return Order.objects.all()
    visible = Account.objects.visible_to(viewer).values("pk")
    return Order.objects.filter(account_id__in=visible)


def order_list(
    *, viewer: User, account: Account | int | None = None, status: str | None = None
) -> QuerySet[Order]:
    qs = _visible_orders(viewer).select_related("account", "owner")
    if account is not None:
        qs = qs.filter(account_id=account.pk if isinstance(account, Account) else account)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-ordered_on", "-pk")


def order_get(*, viewer: User, order_id: int) -> Order:
    found = (
        _visible_orders(viewer)
        .select_related("account", "owner")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("position")))
        .filter(pk=order_id)
        .first()
    )
    if found is None:
        raise NotFound(_("No such order."))
    return found


def delivery_get(*, viewer: User, delivery_id: int) -> Delivery:
    orders = _visible_orders(viewer).values("pk")
    found = (
        Delivery.objects.select_related("order")
        .prefetch_related("lines__order_line")
        .filter(pk=delivery_id, order_id__in=orders)
        .first()
    )
    if found is None:
        raise NotFound(_("No such delivery."))
    return found


def late_orders(*, viewer: User, today: datetime.date) -> QuerySet[Order]:
    """Orders with a line promised before today whose goods are not all delivered."""
    late_line = OrderLine.objects.filter(open_promised_on__lt=today).values("order_id")
    return (
        _visible_orders(viewer)
        .filter(pk__in=late_line)
        .select_related("account")
        .order_by("ordered_on", "pk")
    )


def at_risk_orders(*, viewer: User, today: datetime.date, days: int = 3) -> QuerySet[Order]:
    """Orders with a line promised within ``days`` days from today of which nothing shipped."""
    risky_line = OrderLine.objects.filter(
        open_promised_on__gte=today,
        open_promised_on__lte=today + datetime.timedelta(days=max(days, 0)),
        delivered_quantity=0,
    ).values("order_id")
    return (
        _visible_orders(viewer)
        .filter(pk__in=risky_line)
        .select_related("account")
        .order_by("ordered_on", "pk")
    )


@dataclass(frozen=True)
class Otif:
    orders: int  # orders with a line promised in the month (not cancelled)
    on_time_in_full: int
    share: Decimal | None  # percent, one decimal; None without orders


def otif(*, viewer: User, month: datetime.date, account: Account | int | None = None) -> Otif:
    """On time in full for the orders with a line promised in ``month``: the share whose every
    line was fully delivered (arrival, else shipping date) on or before its promised date."""
    first = month.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    in_month = OrderLine.objects.filter(
        order=OuterRef("pk"), promised_on__gte=first, promised_on__lte=last
    )
    orders = _visible_orders(viewer).exclude(status=OrderStatus.CANCELLED).filter(Exists(in_month))
    if account is not None:
        orders = orders.filter(account_id=account.pk if isinstance(account, Account) else account)
    order_ids = list(orders.values_list("pk", flat=True))
    lines = list(OrderLine.objects.filter(order_id__in=order_ids))
    shipped: dict[int, list[tuple[datetime.date, int]]] = {}
    for row in DeliveryLine.objects.filter(order_line__order_id__in=order_ids).values(
        "order_line_id", "quantity", "delivery__shipped_on", "delivery__delivered_on"
    ):
        day = row["delivery__delivered_on"] or row["delivery__shipped_on"]
        shipped.setdefault(row["order_line_id"], []).append((day, row["quantity"]))
    good = dict.fromkeys(order_ids, True)
    for line in lines:
        if line.promised_on is None:
            in_time = sum(q for _d, q in shipped.get(line.pk, []))
        else:
            deadline = line.promised_on
            in_time = sum(q for d, q in shipped.get(line.pk, []) if d <= deadline)
        if in_time < line.quantity:
            good[line.order_id] = False
    count = len(order_ids)
    hits = sum(good.values())
    share = (Decimal(hits * 100) / count).quantize(Decimal("0.1")) if count else None
    return Otif(orders=count, on_time_in_full=hits, share=share)


# -- the order pages -------------------------------------------------------------------------

AT_RISK_DAYS = 3


def promise_flag(
    *, promised_on: datetime.date | None, delivered: int, quantity: int, today: datetime.date
) -> str:
    """ "late", "at_risk" or "" for a line (the rules of ``late_orders`` / ``at_risk_orders``)."""
    if promised_on is None or delivered >= quantity:
        return ""
    if promised_on < today:
        return "late"
    if promised_on <= today + datetime.timedelta(days=AT_RISK_DAYS) and delivered == 0:
        return "at_risk"
    return ""


def order_search(
    *,
    viewer: User,
    today: datetime.date,
    status: str | None = None,
    owner_id: int | None = None,
    account_name: str = "",
    ordered_from: datetime.date | None = None,
    ordered_to: datetime.date | None = None,
    late_only: bool = False,
    account_id: int | None = None,
) -> QuerySet[Order]:
    """The orders list: ``order_list`` with the page's filters, each order annotated with
    ``next_promised`` (the earliest promised date of a line not fully delivered) and
    ``has_line_at_risk`` (a line due within AT_RISK_DAYS with nothing shipped)."""
    qs = order_list(viewer=viewer, status=status, account=account_id)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    if account_name:
        qs = qs.filter(
            Q(account__name__icontains=account_name) | Q(account__name_kana__icontains=account_name)
        )
    if ordered_from:
        qs = qs.filter(ordered_on__gte=ordered_from)
    if ordered_to:
        qs = qs.filter(ordered_on__lte=ordered_to)
    if late_only:
        late = late_orders(viewer=viewer, today=today).values("pk")
        qs = qs.filter(pk__in=late)
    open_lines = (
        OrderLine.objects.filter(order=OuterRef("pk"), open_promised_on__isnull=False)
        .order_by("open_promised_on")
        .values("open_promised_on")[:1]
    )
    risky_line = OrderLine.objects.filter(
        order=OuterRef("pk"),
        open_promised_on__gte=today,
        open_promised_on__lte=today + datetime.timedelta(days=AT_RISK_DAYS),
        delivered_quantity=0,
    )
    return qs.annotate(next_promised=Subquery(open_lines), has_line_at_risk=Exists(risky_line))


def order_deliveries(*, order: Order) -> QuerySet[Delivery]:
    """The deliveries of an order (already visible), with their number of lines."""
    return (
        Delivery.objects.filter(order=order)
        .annotate(line_count=Count("lines"))
        .order_by("shipped_on", "pk")
    )


def order_invoices(*, order: Order) -> QuerySet[Invoice]:
    """The invoices and credit notes with a line of this order (already visible)."""
    ids = Invoice.objects.filter(lines__order_line__order=order).values("pk")
    return Invoice.objects.filter(pk__in=ids).order_by("issued_on", "pk")
