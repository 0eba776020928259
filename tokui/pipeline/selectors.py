"""Reads of deals: lists with filters, one deal, the board's columns, the forecast, white space.

A deal is visible exactly when its account is (``Account.objects.visible_to``); everything
here starts from ``deals_visible_to``. Totals are computed in SQL over every matching deal,
while the board loads only the first cards of each column (the rest page in), so a board of
thousands of open deals costs a few queries and a bounded amount of rendering.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, DecimalField, F, QuerySet, Sum, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.accounts.models import Account, sees_every_account
from tokui.catalog.constants import ProductStatus
from tokui.catalog.models import Product, ProductLine
from tokui.core.exceptions import NotFound
from tokui.pipeline.constants import LIKELIHOOD_WEIGHTS, Likelihood, StageKind
from tokui.pipeline.models import Deal, DealLine, Stage
from tokui.users.models import User

BOARD_CARDS_PER_COLUMN = 50


def deals_visible_to(viewer: User) -> QuerySet[Deal]:
    deals = Deal.objects.filter(archived_at=None)
    if sees_every_account(viewer):
        return deals  # no condition to test on every row (the board reads thousands)
    return deals.filter(account__in=Account.objects.visible_to(viewer).values("pk"))


@dataclass(frozen=True)
class DealFilters:
    owner: int | None = None
    team: int | None = None
    tier: str = ""
    close_month: datetime.date | None = None  # the first day of the month
    account: int | None = None
    stage: int | None = None
    q: str = ""
    open_only: bool = False

    @classmethod
    def from_query(cls, params: Any) -> "DealFilters":
        """Filters from a query string (bad values are ignored, not errors: a filter link)."""

        def number(name: str) -> int | None:
            value = str(params.get(name, "") or "").strip()
            return int(value) if value.isdecimal() and len(value) <= 12 else None

        month = None
        raw = str(params.get("close_month", "") or "").strip()
        if raw:
            try:
                month = datetime.date.fromisoformat(f"{raw[:7]}-01")
            except ValueError:
                month = None
            if month is not None and not 1900 <= month.year <= 9000:
                month = None  # a filter link from far away: ignored, not an overflow
        return cls(
            owner=number("owner"),
            team=number("team"),
            tier=str(params.get("tier", "") or "").strip()[:20],
            close_month=month,
            account=number("account"),
            stage=number("stage"),
            q=str(params.get("q", "") or "").strip()[:100],
            open_only=str(params.get("open", "")) in ("1", "true", "on"),
        )

    def as_query(self) -> dict[str, str]:
        values = {
            "owner": self.owner,
            "team": self.team,
            "tier": self.tier,
            "close_month": self.close_month.strftime("%Y-%m") if self.close_month else "",
            "account": self.account,
            "stage": self.stage,
            "q": self.q,
            "open": "1" if self.open_only else "",
        }
        return {key: str(value) for key, value in values.items() if value not in (None, "")}


def _filtered(viewer: User, filters: DealFilters) -> QuerySet[Deal]:
    deals = deals_visible_to(viewer)
    if filters.owner:
        deals = deals.filter(owner_id=filters.owner)
    if filters.team:
        deals = deals.filter(owner__team_id=filters.team)
    if filters.tier:
        deals = deals.filter(account__tier=filters.tier)
    if filters.close_month:
        start = filters.close_month
        end = (start + datetime.timedelta(days=32)).replace(day=1)
        deals = deals.filter(expected_close__gte=start, expected_close__lt=end)
    if filters.account:
        deals = deals.filter(account_id=filters.account)
    if filters.stage:
        deals = deals.filter(stage_id=filters.stage)
    if filters.q:
        deals = deals.filter(title__icontains=filters.q) | deals.filter(
            account__name__icontains=filters.q
        )
    if filters.open_only:
        deals = deals.filter(stage__kind=StageKind.OPEN)
    return deals


def deal_list(*, viewer: User, filters: DealFilters | None = None) -> QuerySet[Deal]:
    """Deals the viewer may see, filtered, with what a list row shows."""
    return (
        _filtered(viewer, filters or DealFilters())
        .select_related("account", "owner", "stage", "contact")
        .order_by(F("expected_close").asc(nulls_last=True), "pk")
    )


def deal_get(*, viewer: User, deal_id: int) -> Deal:
    deal = (
        deals_visible_to(viewer)
        .select_related("account", "owner", "stage", "contact", "lost_to")
        .filter(pk=deal_id)
        .first()
    )
    if deal is None:
        raise NotFound(_("No such deal."))
    return deal


def deals_for_account(*, viewer: User, account: Account) -> QuerySet[Deal]:
    return deal_list(viewer=viewer, filters=DealFilters(account=account.pk)).order_by(
        "stage__kind", F("expected_close").asc(nulls_last=True), "pk"
    )


def stages_in_use() -> list[Stage]:
    return list(Stage.objects.filter(active=True).order_by("position", "pk"))


def weighted(value: Decimal, likelihood: str) -> Decimal:
    return value * LIKELIHOOD_WEIGHTS.get(Likelihood(likelihood), 0) / 100


_WEIGHTED = Sum(
    Case(
        *[
            When(likelihood=key, then=F("value") * Value(Decimal(weight) / 100))
            for key, weight in LIKELIHOOD_WEIGHTS.items()
        ],
        default=Value(Decimal(0)),
        output_field=DecimalField(max_digits=20, decimal_places=2),
    )
)


@dataclass(frozen=True, slots=True)
class CardAccount:
    pk: int
    name: str
    tier: str


@dataclass
class Card:
    """What a board card shows of a deal: read as plain values, not model instances (a board
    holds hundreds of cards). The view adds its display values as attributes."""

    pk: int
    title: str
    value: Decimal
    currency: str
    likelihood: str
    expected_close: datetime.date | None
    version: int
    stage_id: int
    stage_entered_at: datetime.datetime
    owner_id: int
    account: CardAccount


_CARD_FIELDS = (
    "pk",
    "title",
    "value",
    "currency",
    "likelihood",
    "expected_close",
    "version",
    "stage_id",
    "stage_entered_at",
    "owner_id",
    "account_id",
    "account__name",
    "account__tier",
)
_CARD_ORDER = (F("expected_close").asc(nulls_last=True), F("pk").asc())


def _cards(rows: Iterable[dict[str, Any]]) -> list[Card]:
    return [
        Card(
            pk=row["pk"],
            title=row["title"],
            value=row["value"],
            currency=row["currency"],
            likelihood=row["likelihood"],
            expected_close=row["expected_close"],
            version=row["version"],
            stage_id=row["stage_id"],
            stage_entered_at=row["stage_entered_at"],
            owner_id=row["owner_id"],
            account=CardAccount(row["account_id"], row["account__name"], row["account__tier"]),
        )
        for row in rows
    ]


@dataclass
class Column:
    stage: Stage
    deals: list[Card] = field(default_factory=list)
    count: int = 0
    totals: dict[str, Decimal] = field(default_factory=dict)  # currency → value
    weighted: dict[str, Decimal] = field(default_factory=dict)  # currency → weighted value

    @property
    def more(self) -> int:
        return max(self.count - len(self.deals), 0)


def board_columns(
    *,
    viewer: User,
    filters: DealFilters | None = None,
    per_column: int = BOARD_CARDS_PER_COLUMN,
    closed_since: datetime.date | None = None,
) -> list[Column]:
    """The board: one column per active stage with its first cards and totals over all cards.

    Open stages show every open deal; the won and lost columns show deals closed since
    ``closed_since`` (default: the start of the current month), so the board stays about work
    in progress. The queries do not grow with the deals: the stages, the totals (grouped by
    stage, currency and likelihood; weighted here), and per column its first ``per_column``
    cards along the (stage, expected close) index (a window function over all deals was
    slower on SQLite: it sorts every deal).
    """
    filters = filters or DealFilters()
    stages = stages_in_use()
    since = closed_since or timezone.localdate().replace(day=1)
    base = _on_board(_filtered(viewer, filters), since)
    columns = {stage.pk: Column(stage=stage) for stage in stages}
    for row in (
        base.values_list("stage_id", "currency", "likelihood")
        .annotate(n=Count("pk"), total=Sum("value"))
        .order_by()
    ):
        stage_id, currency, likelihood, n, total = row
        column = columns.get(stage_id)
        if column is None:
            continue
        total = total or Decimal(0)
        column.count += n
        column.totals[currency] = column.totals.get(currency, Decimal(0)) + total
        column.weighted[currency] = column.weighted.get(currency, Decimal(0)) + weighted(
            total, likelihood
        )
    for column in columns.values():
        column.weighted = {c: v.quantize(Decimal(1)) for c, v in column.weighted.items()}
        if column.count:
            column.deals = _first_cards(base.filter(stage_id=column.stage.pk), per_column)
    return [columns[stage.pk] for stage in stages]


def _on_board(deals: QuerySet[Deal], since: datetime.date) -> QuerySet[Deal]:
    """Open deals, and deals closed (won or lost) since ``since``. Only closed deals have a
    ``closed_at`` (reopening clears it), so no join to the stage is needed."""
    return deals.exclude(closed_at__lt=_start_of(since))


def _first_cards(deals: QuerySet[Deal], limit: int) -> list[Card]:
    """The first ``limit`` cards of one column by expected close (no date last), read along
    the (stage, expected close) index: it stops after ``limit`` rows however long the column."""
    dated = _cards(
        deals.filter(expected_close__isnull=False)
        .order_by("expected_close", "pk")
        .values(*_CARD_FIELDS)[:limit]
    )
    if len(dated) < limit:
        dated += _cards(
            deals.filter(expected_close=None)
            .order_by("pk")
            .values(*_CARD_FIELDS)[: limit - len(dated)]
        )
    return dated


def _start_of(day: datetime.date) -> datetime.datetime:
    """The first moment of ``day`` in the current time zone (an index-friendly bound)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def board_column_page(
    *,
    viewer: User,
    stage: Stage,
    filters: DealFilters | None = None,
    offset: int = 0,
    limit: int = BOARD_CARDS_PER_COLUMN,
) -> list[Card]:
    """More cards of one column (the board's "show more")."""
    filters = filters or DealFilters()
    since = timezone.localdate().replace(day=1)
    return _cards(
        _on_board(_filtered(viewer, filters), since)
        .filter(stage=stage)
        .order_by(*_CARD_ORDER)
        .values(*_CARD_FIELDS)[offset : offset + limit]
    )


@dataclass
class ForecastMonth:
    month: datetime.date
    count: int = 0
    value: dict[str, Decimal] = field(default_factory=dict)
    weighted: dict[str, Decimal] = field(default_factory=dict)
    won: dict[str, Decimal] = field(default_factory=dict)


def forecast(
    *,
    viewer: User,
    filters: DealFilters | None = None,
    months: int = 6,
    start: datetime.date | None = None,
) -> list[ForecastMonth]:
    """Open deals by expected close month (value and weighted by likelihood), beside what was
    won in each month. Open deals whose close date has passed count in the first month: they
    are still expected, only late."""
    filters = filters or DealFilters()
    first = (start or timezone.localdate()).replace(day=1)
    result = []
    month = first
    for _i in range(months):
        result.append(ForecastMonth(month=month))
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    end = month
    by_month = {row.month: row for row in result}
    base = _filtered(viewer, filters)
    open_rows = (
        base.filter(stage__kind=StageKind.OPEN, expected_close__lt=end)
        .annotate(month=TruncMonth("expected_close"))
        .values("month", "currency")
        .annotate(n=Count("pk"), total=Sum("value"), weighted=_WEIGHTED)
    )
    for row in open_rows:
        month_of = row["month"]
        if isinstance(month_of, datetime.datetime):
            month_of = month_of.date()
        target = by_month.get(month_of) if month_of and month_of >= first else result[0]
        if target is None:
            continue
        target.count += row["n"]
        target.value[row["currency"]] = target.value.get(row["currency"], Decimal(0)) + (
            row["total"] or Decimal(0)
        )
        target.weighted[row["currency"]] = target.weighted.get(row["currency"], Decimal(0)) + (
            row["weighted"] or Decimal(0)
        ).quantize(Decimal(1))
    won = base.filter(stage__kind=StageKind.WON, closed_at__isnull=False)
    for deal in won.filter(closed_at__date__gte=first, closed_at__date__lt=end).only(
        "closed_at", "value", "currency"
    ):
        closed = timezone.localtime(deal.closed_at).date().replace(day=1)
        target = by_month.get(closed)
        if target is not None:
            target.won[deal.currency] = target.won.get(deal.currency, Decimal(0)) + deal.value
    return result


@dataclass(frozen=True)
class WhiteSpace:
    """What an account buys and what it does not yet (cross-sell), with suggested products."""

    bought_lines: list[ProductLine]
    open_lines: list[ProductLine]  # product lines it does not buy yet
    suggestions: list[tuple[Product, str]]  # product, why


def _bought_product_ids(account_id: int) -> set[int]:
    """Products the account has bought: lines of its won deals (orders will add theirs)."""
    return set(
        DealLine.objects.filter(
            deal__account_id=account_id, deal__stage__kind=StageKind.WON, product__isnull=False
        ).values_list("product_id", flat=True)
    )


def white_space(*, viewer: User, account: Account, limit: int = 8) -> WhiteSpace:
    """The account's white space: product lines it does not buy yet, and products to suggest.

    Suggestions, strongest first: products that other customers who bought what this account
    bought also bought; the best sellers of the lines it does not buy yet; and the sellable
    products of lines the needs on its open deals name.
    """
    if not Account.objects.visible_to(viewer).filter(pk=account.pk).exists():
        raise NotFound(_("No such account."))
    bought = _bought_product_ids(account.pk)
    lines = list(ProductLine.objects.order_by("sort_order", "name"))
    bought_line_ids = set(Product.objects.filter(pk__in=bought).values_list("line_id", flat=True))
    bought_lines = [line for line in lines if line.pk in bought_line_ids]
    open_lines = [line for line in lines if line.pk not in bought_line_ids]
    sellable = Product.objects.filter(status=ProductStatus.ACTIVE).exclude(pk__in=bought)
    suggestions: dict[int, tuple[Product, str]] = {}

    if bought:
        peers = (
            DealLine.objects.filter(product_id__in=bought, deal__stage__kind=StageKind.WON)
            .exclude(deal__account_id=account.pk)
            .values("deal__account_id")
        )
        counts: dict[int, int] = defaultdict(int)
        for product_id in DealLine.objects.filter(
            deal__account_id__in=peers,
            deal__stage__kind=StageKind.WON,
            product__in=sellable,
        ).values_list("product_id", flat=True):
            counts[product_id] += 1
        ranked = sorted(counts, key=lambda pid: (-counts[pid], pid))[:limit]
        for product in Product.objects.filter(pk__in=ranked).select_related("line"):
            suggestions[product.pk] = (
                product,
                _("Bought by %(n)d customers who buy what this account buys.")
                % {"n": counts[product.pk]},
            )
    # Best sellers of the lines it does not buy yet (by won deals across all customers).
    popular = (
        DealLine.objects.filter(
            deal__stage__kind=StageKind.WON,
            product__in=sellable.filter(line__in=[line.pk for line in open_lines]),
        )
        .values("product_id")
        .annotate(n=Count("deal", distinct=True))
        .order_by("-n", "product_id")[:limit]
    )
    popular_counts = {row["product_id"]: row["n"] for row in popular}
    for product in Product.objects.filter(pk__in=popular_counts).select_related("line"):
        suggestions.setdefault(
            product.pk,
            (
                product,
                _("Sells well in %(line)s, a line this account does not buy yet (%(n)d won deals).")
                % {
                    "line": product.line.name if product.line else "—",
                    "n": popular_counts[product.pk],
                },
            ),
        )
    need_lines = set(
        Deal.objects.filter(
            account=account, stage__kind=StageKind.OPEN, needs__line__isnull=False
        ).values_list("needs__line_id", flat=True)
    )
    if need_lines:
        for product in sellable.filter(line_id__in=need_lines).select_related("line")[:limit]:
            suggestions.setdefault(
                product.pk,
                (product, _("Its line answers a need recorded on an open deal.")),
            )
    return WhiteSpace(
        bought_lines=bought_lines,
        open_lines=open_lines,
        suggestions=list(suggestions.values())[: limit * 2],
    )
