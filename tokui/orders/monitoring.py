"""Watching orders: late and at-risk order lines, an account's buying rhythm, the daily digest.

- ``late_lines`` / ``late_counts``: the lines of open orders promised before today and not fully
  delivered (late, 遅延) or promised within ``AT_RISK_DAYS`` with nothing shipped (at risk,
  遅延の恐れ). A line still owed carries ``open_promised_on`` (null once fully delivered or
  its order cancelled), so the lists read one range of that index: the open front of the book,
  never every line ever promised.
- ``buying_rhythm`` / ``rhythm_check``: the average interval between an account's orders; an
  overdue rhythm gives the owner one open task (never two for the same account).
- ``order_digest_send``: one mail a day per owner with late or at-risk orders or overdue
  invoices on their accounts. A sent digest is recorded as an audit event (action
  ``orders.digest.sent``, target the owner, note the day): no new model, and a second run the
  same day finds it and sends nothing.
"""

import calendar
import datetime
import logging
import os
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.tasks import task
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tokui.accounts.models import Account, sees_every_account
from tokui.activities.constants import TaskStatus
from tokui.activities.models import Task
from tokui.activities.schedule import Job
from tokui.activities.task_services import task_create
from tokui.activities.tasks import task_pending
from tokui.core.audit import audit_record
from tokui.core.exceptions import ApplicationError
from tokui.core.models import AuditEvent
from tokui.core.money import format_money
from tokui.orders.constants import InvoiceKind, OrderStatus
from tokui.orders.invoices import OPEN_STATUSES as INVOICE_OPEN_STATUSES
from tokui.orders.invoices import overdue_invoices, owed
from tokui.orders.models import DeliveryLine, Invoice, Order, OrderLine
from tokui.orders.selectors_orders import OPEN_STATUSES
from tokui.users.models import User

logger = logging.getLogger(__name__)

AT_RISK_DAYS = 3
RHYTHM_ORDERS = 10  # the last N orders the average interval is taken over
RHYTHM_MIN_ORDERS = 3
RHYTHM_FACTOR = 1.5
RHYTHM_TASK_SOURCE = "orders.rhythm"
DIGEST_ACTION = "orders.digest.sent"
SORTS = ("late", "-late")


# -- late and at-risk lines ------------------------------------------------------------------


def late_lines(
    *,
    viewer: User | None,
    today: datetime.date,
    owner_id: int | None = None,
    team_id: int | None = None,
    account_id: int | None = None,
    kind: str = "",
    sort: str = "late",
) -> QuerySet[OrderLine]:
    """Late and at-risk lines of open orders of the accounts ``viewer`` sees, most late first
    (``sort="-late"``: the closest first). ``kind``: "late", "at_risk" or both. ``viewer``
    None: every account (the system's own reads, e.g. finding whom the digest goes to)."""
    # Only lines still owed carry ``open_promised_on`` (null once delivered or cancelled): the
    # range below reads that index alone, whatever the size of the book.
    lines = OrderLine.objects.filter(
        open_promised_on__lte=today + datetime.timedelta(days=AT_RISK_DAYS)
    )
    late = Q(open_promised_on__lt=today)
    at_risk = Q(open_promised_on__gte=today, delivered_quantity=0)
    lines = lines.filter(
        late if kind == "late" else at_risk if kind == "at_risk" else late | at_risk
    )
    # The conditions on the order are written "column + 0": on an index SQLite would start
    # from the visible accounts' (or the owner's) every order, half the book; the range of
    # owed lines is the small side, and each of its rows finds its order by primary key.
    if viewer is not None and not sees_every_account(viewer):
        visible = Account.objects.visible_to(viewer).values("pk")
        lines = lines.alias(order_account=F("order__account_id") + 0).filter(
            order_account__in=visible
        )
    if account_id:
        lines = lines.filter(order__account_id=account_id)  # one account: its index is best
    if owner_id:
        lines = lines.alias(by_owner=F("order__owner_id") + 0).filter(by_owner=owner_id)
    if team_id:
        team = User.objects.filter(team_id=team_id).values("pk")
        lines = lines.alias(by_team=F("order__owner_id") + 0).filter(by_team__in=team)
    ascending = ("open_promised_on", "order_id", "pk")
    order_by = ascending if sort != "-late" else tuple(f"-{field}" for field in ascending)
    return lines.select_related("order", "order__account", "order__owner").order_by(*order_by)


def late_line_rows(lines: list[OrderLine], today: datetime.date) -> list[dict[str, Any]]:
    """What the page and the mail show of each line: outstanding quantity, days late/left."""
    rows = []
    for line in lines:
        assert line.promised_on is not None
        days = (today - line.promised_on).days
        rows.append(
            {
                "line": line,
                "order": line.order,
                "account": line.order.account,
                "owner": line.order.owner,
                "outstanding": line.quantity - line.delivered_quantity,
                "late": days > 0,
                "days_late": max(days, 0),
                "days_left": max(-days, 0),
            }
        )
    return rows


@dataclass(frozen=True)
class LateCounts:
    late: int
    at_risk: int


def late_counts(
    *,
    viewer: User,
    today: datetime.date,
    owner_id: int | None = None,
    team_id: int | None = None,
    account_id: int | None = None,
) -> LateCounts:
    """Counts for the top of the page, the dashboard panel, the account page: one query."""
    qs = late_lines(
        viewer=viewer, today=today, owner_id=owner_id, team_id=team_id, account_id=account_id
    ).order_by()
    found = qs.aggregate(
        late=Count("pk", filter=Q(open_promised_on__lt=today)),
        at_risk=Count("pk", filter=Q(open_promised_on__gte=today)),
    )
    return LateCounts(late=found["late"], at_risk=found["at_risk"])


# -- buying rhythm ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Rhythm:
    orders: int  # orders counted (the last RHYTHM_ORDERS, cancelled ones left out)
    average_days: float | None  # None with fewer than two orders
    last_ordered_on: datetime.date | None
    days_since: int | None
    next_expected_on: datetime.date | None
    overdue: bool


def rhythm_of(dates: list[datetime.date], today: datetime.date) -> Rhythm:
    """The rhythm of order dates (newest first, at most RHYTHM_ORDERS of them)."""
    if not dates:
        return Rhythm(0, None, None, None, None, False)
    newest, oldest = dates[0], dates[-1]
    days_since = (today - newest).days
    if len(dates) < 2:
        return Rhythm(len(dates), None, newest, days_since, None, False)
    average = (newest - oldest).days / (len(dates) - 1)
    expected = newest + datetime.timedelta(days=round(average))
    overdue = len(dates) >= RHYTHM_MIN_ORDERS and days_since > average * RHYTHM_FACTOR
    return Rhythm(len(dates), round(average, 1), newest, days_since, expected, overdue)


def _order_dates(account_id: int) -> list[datetime.date]:
    return list(
        Order.objects.filter(account_id=account_id)
        .exclude(status=OrderStatus.CANCELLED)
        .order_by("-ordered_on", "-pk")
        .values_list("ordered_on", flat=True)[:RHYTHM_ORDERS]
    )


def buying_rhythm(account: Account | int, *, today: datetime.date) -> Rhythm:
    """The account's buying rhythm: average interval over its last orders, days since the last,
    the next expected order and whether it is overdue (one query)."""
    account_id = account.pk if isinstance(account, Account) else account
    return rhythm_of(_order_dates(account_id), today)


def _rhythm_task_open(account_id: int) -> bool:
    return Task.objects.filter(
        account_id=account_id, source=RHYTHM_TASK_SOURCE, status=TaskStatus.OPEN
    ).exists()


def rhythm_check(*, today: datetime.date) -> list[Task]:
    """For each active account whose rhythm is overdue, one open task for its owner, due today;
    an account that already has an open rhythm task gets no second one."""
    candidates = (
        Order.objects.exclude(status=OrderStatus.CANCELLED)
        .filter(account__archived_at=None, account__owner__is_active=True)
        .values("account_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=RHYTHM_MIN_ORDERS)
        .values_list("account_id", flat=True)
    )
    created = []
    for account_id in candidates.order_by("account_id"):
        rhythm = buying_rhythm(account_id, today=today)
        if not rhythm.overdue or _rhythm_task_open(account_id):
            continue
        try:
            made = _rhythm_task(account_id, rhythm, today)
        except ApplicationError:
            logger.exception("Could not raise the buying rhythm task of account %s", account_id)
            continue
        if made is not None:
            created.append(made)
    return created


@transaction.atomic
def _rhythm_task(account_id: int, rhythm: Rhythm, today: datetime.date) -> Task | None:
    # The account's row lock serialises concurrent checks: the second sees the first's task.
    account = Account.objects.select_for_update().get(pk=account_id)
    if _rhythm_task_open(account_id):
        return None
    owner = User.objects.get(pk=account.owner_id)
    title = _("Buying rhythm overdue: %(account)s") % {"account": account.name}
    notes = _(
        "%(account)s orders about every %(average)s days; the last order was %(days)d days "
        "ago (%(last)s). Ask whether they need anything."
    ) % {
        "account": account.name,
        "average": rhythm.average_days,
        "days": rhythm.days_since or 0,
        "last": rhythm.last_ordered_on.isoformat() if rhythm.last_ordered_on else "",
    }
    return task_create(
        actor=owner,
        data={
            "title": title[:300],
            "notes": notes,
            "owner": owner,
            "account": account,
            "due_at": datetime.datetime.combine(today, datetime.time(18, 0)),
        },
        source=RHYTHM_TASK_SOURCE,
    )


# -- the account page's "Orders" section -------------------------------------------------------


def _months_back(today: datetime.date, count: int) -> list[datetime.date]:
    """The first days of the last ``count`` months, oldest first (this month last)."""
    first = today.replace(day=1)
    months = []
    for _i in range(count):
        months.append(first)
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    return months[::-1]


@dataclass(frozen=True)
class MonthOtif:
    month: datetime.date
    orders: int
    on_time_in_full: int
    share: Decimal | None


@dataclass(frozen=True)
class AccountOtif:
    account_id: int
    name: str
    orders: int
    on_time_in_full: int
    share: Decimal


@dataclass(frozen=True)
class BookOtif:
    months: list[MonthOtif]
    accounts: list[AccountOtif]  # the worst first (at least MIN_ORDERS_RANKED orders)


MIN_ORDERS_RANKED = 3


def _share(hits: int, count: int) -> Decimal | None:
    return (Decimal(hits * 100) / count).quantize(Decimal("0.1")) if count else None


def _otif(
    orders: QuerySet[Order], today: datetime.date, months: int, *, rank: bool = True
) -> BookOtif:
    """OTIF of ``orders`` (the rule of ``selectors_orders.otif``: an order counts in every
    month one of its lines is promised in; it is on time in full when every line was fully
    delivered — arrival, else shipping date — on or before its promised date) for each of the
    last ``months`` months, and per account over the whole period. Three queries, whatever
    the number of orders (subqueries, never long lists of ids); a fourth names the ranked
    accounts when ``rank``."""
    firsts = _months_back(today, months)
    start = firsts[0]
    end = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    in_period = (
        orders.exclude(status=OrderStatus.CANCELLED)
        .filter(
            pk__in=OrderLine.objects.filter(promised_on__gte=start, promised_on__lte=end).values(
                "order_id"
            )
        )
        .values("pk")
    )
    shipped: dict[int, list[tuple[datetime.date, int]]] = {}
    for line_id, quantity, shipped_on, delivered_on in DeliveryLine.objects.filter(
        order_line__order_id__in=in_period
    ).values_list("order_line_id", "quantity", "delivery__shipped_on", "delivery__delivered_on"):
        shipped.setdefault(line_id, []).append((delivered_on or shipped_on, quantity))
    good: dict[int, bool] = {}
    account_of: dict[int, int] = {}
    in_month: dict[datetime.date, set[int]] = {m: set() for m in firsts}
    for line_id, order_id, account_id, quantity, promised_on in OrderLine.objects.filter(
        order_id__in=in_period
    ).values_list("pk", "order_id", "order__account_id", "quantity", "promised_on"):
        account_of[order_id] = account_id
        deliveries = shipped.get(line_id, [])
        if promised_on is None:
            in_time = sum(q for _d, q in deliveries)
        else:
            in_time = sum(q for d, q in deliveries if d <= promised_on)
            month = promised_on.replace(day=1)
            if month in in_month:
                in_month[month].add(order_id)
        good[order_id] = good.get(order_id, True) and in_time >= quantity
    result = []
    for month in firsts:
        ids = in_month[month]
        hits = sum(1 for i in ids if good[i])
        result.append(MonthOtif(month, len(ids), hits, _share(hits, len(ids))))
    per_account: dict[int, list[int]] = {}
    for order_id, ok in good.items():
        counted = per_account.setdefault(account_of[order_id], [0, 0])
        counted[0] += 1
        counted[1] += int(ok)
    if not rank:
        return BookOtif(months=result, accounts=[])
    ranked = {pk: c for pk, c in per_account.items() if c[0] >= MIN_ORDERS_RANKED}
    names = dict(Account.objects.filter(pk__in=list(ranked)).values_list("pk", "name"))
    accounts = sorted(
        (
            AccountOtif(pk, names.get(pk, ""), count, hits, _share(hits, count) or Decimal(0))
            for pk, (count, hits) in ranked.items()
        ),
        key=lambda a: (a.share, -a.orders, a.name),
    )
    return BookOtif(months=result, accounts=accounts)


def otif_by_month(*, account: Account, today: datetime.date, months: int = 6) -> list[MonthOtif]:
    """OTIF of one account for each of the last ``months`` months (``_otif``)."""
    return _otif(Order.objects.filter(account_id=account.pk), today, months, rank=False).months


def book_otif(*, viewer: User, today: datetime.date, months: int = 6) -> BookOtif:
    """OTIF of every account the viewer sees, by month, and the accounts ranked worst first."""
    orders = Order.objects.all()
    if not sees_every_account(viewer):
        orders = orders.filter(account_id__in=Account.objects.visible_to(viewer).values("pk"))
    return _otif(orders, today, months)


RECENT_ORDERS = 5


def account_orders_overview(
    *, viewer: User, account: Account, today: datetime.date
) -> dict[str, Any]:
    """The account page's "Orders" section: recent orders (each with ``is_late``), the buying
    rhythm, late / at-risk counts and OTIF of the last six months (about eight queries)."""
    recent = list(
        Order.objects.filter(account_id=account.pk)
        .select_related("owner")
        .order_by("-ordered_on", "-pk")[:RECENT_ORDERS]
    )
    late_ids = set(
        OrderLine.objects.filter(
            order_id__in=[o.pk for o in recent if o.status in OPEN_STATUSES],
            open_promised_on__lt=today,
        ).values_list("order_id", flat=True)
    )
    for order in recent:
        order.is_late = order.pk in late_ids  # type: ignore[attr-defined]
    return {
        "orders": recent,
        "rhythm": buying_rhythm(account, today=today),
        "counts": late_counts(viewer=viewer, today=today, account_id=account.pk),
        "otif": otif_by_month(account=account, today=today),
    }


# -- the daily digest ------------------------------------------------------------------------


def _absolute(name: str, *args: Any) -> str:
    """A link for a mail: absolute, on TOKUI_BASE_URL."""
    return f"{settings.TOKUI_BASE_URL.rstrip('/')}{reverse(name, args=args)}"


def _digest_for(owner: User, today: datetime.date) -> tuple[list[dict[str, Any]], list[Invoice]]:
    lines = list(late_lines(viewer=owner, today=today).filter(order__account__owner=owner)[:200])
    invoices = list(overdue_invoices(viewer=owner, today=today).filter(account__owner=owner)[:200])
    return late_line_rows(lines, today), invoices


def _digest_body(owner: User, rows: list[dict[str, Any]], invoices: list[Invoice]) -> str:
    parts = [_("Good morning %(name)s,") % {"name": owner}, ""]
    late = [r for r in rows if r["late"]]
    risky = [r for r in rows if not r["late"]]
    for title, chosen in ((_("Late orders"), late), (_("Orders at risk of being late"), risky)):
        if not chosen:
            continue
        parts.append(f"{title} ({len(chosen)})")
        for r in chosen:
            order, line = r["order"], r["line"]
            days = r["days_late"] if r["late"] else r["days_left"]
            when = (
                ngettext("%(n)d day late", "%(n)d days late", days)
                if r["late"]
                else ngettext("due in %(n)d day", "due in %(n)d days", days)
                if days
                else _("due today")
            ) % {"n": days}
            url = _absolute(
                "orders:order_detail",
                order.pk,
            )
            parts.append(
                f"- {r['account'].name} {order.number}: {line.description} × {r['outstanding']}"
                f" ({_('promised')} {line.promised_on}, {when})\n  {url}"
            )
        parts.append("")
    if invoices:
        parts.append(f"{_('Overdue invoices')} ({len(invoices)})")
        for invoice in invoices:
            url = _absolute(
                "orders:invoice_detail",
                invoice.pk,
            )
            parts.append(
                f"- {invoice.account.name} {invoice.number}: "
                f"{format_money(owed(invoice), invoice.currency)}"
                f" ({_('due')} {invoice.due_on})\n  {url}"
            )
        parts.append("")
    parts.append(_("All late orders: %(url)s") % {"url": _absolute("orders:late_orders")})
    parts += ["", "-- ", _("You receive this because you own these accounts in Tokui.")]
    return "\n".join(parts)


def _send_digest(address: str, subject: str, body: str) -> None:
    EmailMessage(subject=subject, body=body, to=[address]).send()


def order_digest_send(*, today: datetime.date) -> int:
    """Mail each owner with late or at-risk orders or overdue invoices on their accounts their
    digest for ``today``; returns how many were sent. Owners with nothing to report get
    nothing, and an owner whose digest of ``today`` went out already gets no second one."""
    late_owner_ids = set(
        late_lines(viewer=None, today=today)
        .order_by()
        .values_list("order__account__owner_id", flat=True)
        .distinct()
    )
    overdue = Invoice.objects.filter(
        kind=InvoiceKind.INVOICE, status__in=INVOICE_OPEN_STATUSES, due_on__lt=today
    )
    sent = 0
    owners = User.objects.filter(
        Q(pk__in=late_owner_ids) | Q(pk__in=overdue.values("account__owner_id")),
        is_active=True,
    ).exclude(email="")
    for owner in owners.order_by("pk"):
        if _digest_one(owner.pk, today):
            sent += 1
    return sent


@transaction.atomic
def _digest_one(owner_id: int, today: datetime.date) -> bool:
    owner = User.objects.select_for_update().get(pk=owner_id)
    day = today.isoformat()
    if AuditEvent.objects.filter(
        action=DIGEST_ACTION, target_type="users.user", target_id=str(owner.pk), note=day
    ).exists():
        return False
    with translation.override(settings.LANGUAGE_CODE):
        rows, invoices = _digest_for(owner, today)
        if not rows and not invoices:
            return False
        subject = _("Tokui: %(late)d late, %(risk)d at risk, %(overdue)d overdue invoices") % {
            "late": sum(1 for r in rows if r["late"]),
            "risk": sum(1 for r in rows if not r["late"]),
            "overdue": len(invoices),
        }
        body = _digest_body(owner, rows, invoices)
    audit_record(
        actor=None,
        action=DIGEST_ACTION,
        target=owner,
        scope=f"user:{owner.pk}",
        changes={"lines": [None, len(rows)], "invoices": [None, len(invoices)]},
        note=day,
    )
    address = owner.email
    # robust: a mail server that is down must not undo the record nor stop the other digests.
    transaction.on_commit(lambda: _send_digest(address, subject, body), robust=True)
    return True


# -- background jobs -------------------------------------------------------------------------


@task
def send_order_digest() -> int:
    return order_digest_send(today=timezone.localdate())


@task
def check_buying_rhythm() -> int:
    return len(rhythm_check(today=timezone.localdate()))


DIGEST_TASK_PATH = "tokui.orders.monitoring.send_order_digest"
RHYTHM_TASK_PATH = "tokui.orders.monitoring.check_buying_rhythm"


def _after_digest_hour() -> bool:
    try:
        hour = int(os.environ.get("TOKUI_ORDER_DIGEST_HOUR", "7"))
    except ValueError:
        hour = 7
    return timezone.localtime().hour >= hour


def digest_enqueue_if_due() -> bool:
    """Enqueue the digest run once the morning hour has come (each owner gets one a day)."""
    if not _after_digest_hour() or task_pending(DIGEST_TASK_PATH):
        return False
    send_order_digest.enqueue()
    return True


def rhythm_enqueue_if_due() -> bool:
    if not _after_digest_hour() or task_pending(RHYTHM_TASK_PATH):
        return False
    check_buying_rhythm.enqueue()
    return True


# Scheduler jobs for ``tokui serve`` (passed to tokui.activities.schedule.start_scheduler):
# hourly, and both runs are idempotent per day. Cron alternative: ``tokui orders digest`` and
# ``tokui orders rhythm`` once every morning.
ORDER_JOBS = (
    Job("order digest", "TOKUI_ORDER_DIGEST_MINUTES", 60, digest_enqueue_if_due),
    Job("buying rhythm", "TOKUI_BUYING_RHYTHM_MINUTES", 60, rhythm_enqueue_if_due),
)
