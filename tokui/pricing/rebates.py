"""Bonus and rebate programmes: retroactive volume bonuses, accrued from purchases, settled once.

A programme belongs to one account and one period (a fiscal year, say) and has tiers
"from this much in purchases, this percent"; the percent rises with the threshold. The highest
tier the period's purchases reach applies to all of them (retroactively): 2% from ¥50,000,000
on purchases of ¥55,000,000 is ¥1,100,000. Programmes of one account may overlap: each counts
on its own.

Purchases come from orders (``rebate_accrue_for_account``, what issue 7's orders call) or an
ERP feed, each with a ``source`` ("order:123") counted once per programme: feeding it again
changes nothing, feeding it with another amount is a Conflict. At the period end a head of
sales settles the programme, exactly once, as a numbered credit note (``CN-YYYY-NNNN``).

Heads of sales and administrators write programmes, record purchases by hand and settle;
everyone who may see the account reads them. Every write records an audit event: creating,
reaching a tier, settling and cancelling under ``account:<id>`` (the account's history); each
counted purchase under ``pricing:rebate:<id>``, so a year of orders does not flood the timeline.
"""

import datetime
import itertools
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.accounts.models import Account, account_scope
from tokui.catalog.constants import Currency
from tokui.core.audit import audit_record
from tokui.core.exceptions import ApplicationError, Conflict, NotFound, PermissionDenied
from tokui.core.money import MoneyError, check_amount, format_money, parse_money, quantize
from tokui.core.validation import ErrorCollector, check_plain_text, check_text_fields
from tokui.pricing.models import (
    CreditNote,
    RebateProgramme,
    RebatePurchase,
    RebateStatus,
    RebateTier,
)
from tokui.users.constants import Role
from tokui.users.models import User

ROLES_WRITING_REBATES = frozenset({Role.ADMIN, Role.HEAD})
PROGRAMME_FIELDS = ("name", "currency", "period_start", "period_end", "tiers", "notes")
TIERS_LIMIT = 20
AMOUNT_LIMIT = Decimal(10) ** 13  # per purchase and per threshold: ten trillion
PERIOD_LIMIT_DAYS = 366 * 5


def rebate_scope(programme_id: int) -> str:
    """The audit scope of one programme's purchases (the account's timeline keeps the rest)."""
    return f"pricing:rebate:{programme_id}"


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def may_write_rebates(user: Any) -> bool:
    return _signed_in(user) and user.role in ROLES_WRITING_REBATES


def _require_writer(actor: User) -> None:
    if not may_write_rebates(actor):
        raise PermissionDenied(
            _("Only heads of sales and administrators change bonus programmes; you can read them.")
        )


# -- selectors -------------------------------------------------------------------------------


def rebate_programme_list(
    *, viewer: Any, account_id: int | None = None, status: str | None = None
) -> QuerySet[RebateProgramme]:
    """Programmes of accounts the viewer may see, newest period first, with tiers and totals."""
    if not _signed_in(viewer):
        return RebateProgramme.objects.none()
    qs = RebateProgramme.objects.filter(account__in=Account.objects.visible_to(viewer).values("pk"))
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    if status in RebateStatus.values:
        qs = qs.filter(status=status)
    return (
        qs.select_related("account", "credit_note")
        .prefetch_related(Prefetch("tiers", queryset=RebateTier.objects.order_by("threshold")))
        .annotate(purchases_total=Sum("purchases__amount"))
        .order_by("-period_start", "name", "id")
    )


def rebate_programme_get(*, viewer: Any, programme_id: int) -> RebateProgramme:
    programme = rebate_programme_list(viewer=viewer).filter(pk=programme_id).first()
    if programme is None:
        raise NotFound(_("No such bonus programme."))
    return programme


def rebate_purchase_list(*, programme: RebateProgramme) -> QuerySet[RebatePurchase]:
    """The programme's counted purchases (the caller already checked it is visible)."""
    return programme.purchases.order_by("-on", "-id")


def credit_note_get(*, viewer: Any, credit_note_id: int) -> CreditNote:
    note = (
        CreditNote.objects.filter(
            pk=credit_note_id,
            programme__account__in=Account.objects.visible_to(viewer).values("pk"),
        )
        .select_related("programme", "programme__account", "issued_by")
        .first()
        if _signed_in(viewer)
        else None
    )
    if note is None:
        raise NotFound(_("No such credit note."))
    return note


@dataclass(frozen=True)
class RebateProgress:
    """Where a programme stands: purchases so far, the tier reached, the bonus accrued
    (retroactive: the reached tier's percent of all purchases, rounded per currency), and what
    the next tier needs."""

    currency: str
    purchases: Decimal
    percent: Decimal | None  # the reached tier's, None below the first
    threshold: Decimal | None
    accrued: Decimal
    next_threshold: Decimal | None
    next_percent: Decimal | None
    remaining: Decimal | None  # still needed for the next tier
    bar_percent: int  # 0–100: progress towards the next tier (100 at the top tier)


def rebate_bonus(purchases: Decimal, tiers: list[tuple[Decimal, Decimal]], currency: str) -> Any:
    """The reached tier of ``tiers`` (``(threshold, percent)``, any order) and the bonus."""
    reached = [(t, p) for t, p in sorted(tiers) if purchases >= t]
    if not reached or purchases <= 0:
        return None, quantize(Decimal(0), currency)
    threshold, percent = reached[-1]
    return (threshold, percent), quantize(purchases * percent / 100, currency)


def rebate_progress(
    programme: RebateProgramme, *, purchases: Decimal | None = None
) -> RebateProgress:
    """The progress of ``programme``; ``purchases`` (a total already summed) saves a query."""
    currency = programme.currency
    if purchases is None:
        purchases = getattr(programme, "purchases_total", None)
        if purchases is None and not hasattr(programme, "purchases_total"):
            purchases = programme.purchases.aggregate(total=Sum("amount"))["total"]
    total = quantize(purchases or Decimal(0), currency)
    tiers = sorted((t.threshold, t.percent) for t in programme.tiers.all())
    reached, accrued = rebate_bonus(total, tiers, currency)
    upcoming = [(t, p) for t, p in tiers if t > total or (total <= 0 and t == 0)]
    nxt = upcoming[0] if upcoming else None
    remaining = quantize(nxt[0] - total, currency) if nxt else None
    if nxt is None:
        bar = 100 if tiers else 0
    elif nxt[0] <= 0:
        bar = 0
    else:
        bar = max(0, min(100, int(total * 100 / nxt[0])))
    return RebateProgress(
        currency=currency,
        purchases=total,
        percent=reached[1] if reached else None,
        threshold=reached[0] if reached else None,
        accrued=accrued,
        next_threshold=nxt[0] if nxt else None,
        next_percent=nxt[1] if nxt else None,
        remaining=remaining,
        bar_percent=bar,
    )


# -- programme services ----------------------------------------------------------------------


def _clean_date(value: Any) -> datetime.date:
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value.strip())
        except ValueError:
            raise ApplicationError(_("Enter a date as YYYY-MM-DD.")) from None
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise ApplicationError(_("Enter a date as YYYY-MM-DD."))
    return value


def _clean_amount(value: Any, currency: str, *, allow_negative: bool = False) -> Decimal:
    if isinstance(value, bool) or value is None or value == "":
        raise ApplicationError(_("Enter an amount."))
    if isinstance(value, str):
        amount = parse_money(value, currency, allow_negative=allow_negative)
    elif isinstance(value, Decimal | int):
        amount = check_amount(value, currency, allow_negative=allow_negative)
    else:
        raise ApplicationError(_("Enter an amount such as 50000000 or 50,000,000."))
    if abs(amount) >= AMOUNT_LIMIT:
        raise ApplicationError(_("That is not a plausible amount: it must be below 10 trillion."))
    return amount


def _clean_percent(value: Any) -> Decimal:
    message = _("Enter a bonus above 0% and below 100%, with at most 2 decimals.")
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


def _clean_tiers(rows: Any, currency: str, errors: ErrorCollector) -> list[tuple[Decimal, Decimal]]:
    if not isinstance(rows, list | tuple) or not rows:
        errors.add("tiers", _("Give at least one tier: from which purchases, which bonus."))
        return []
    if len(rows) > TIERS_LIMIT:
        errors.add("tiers", _("At most %(n)d tiers.") % {"n": TIERS_LIMIT})
        return []
    clean: list[tuple[Decimal, Decimal, int]] = []
    for index, row in enumerate(rows):
        key = f"tiers.{index}"
        if not isinstance(row, dict) or set(row) - {"threshold", "percent"}:
            errors.add(key, _("Give threshold and percent only."))
            continue
        threshold = errors.run(f"{key}.threshold", _clean_amount, row.get("threshold"), currency)
        percent = errors.run(f"{key}.percent", _clean_percent, row.get("percent"))
        if threshold is not None and percent is not None:
            clean.append((threshold, percent, index))
    clean.sort()
    for (low_t, low_p, _i), (high_t, high_p, high_i) in itertools.pairwise(clean):
        if high_t == low_t:
            errors.add(
                f"tiers.{high_i}.threshold",
                _("Two tiers start at %(amount)s: keep one.")
                % {"amount": format_money(high_t, currency)},
            )
        elif high_p <= low_p:
            errors.add(
                f"tiers.{high_i}.percent",
                _(
                    "The tier from %(high)s must give more than the %(percent)s%% from %(low)s: "
                    "the bonus rises with the purchases."
                )
                % {
                    "high": format_money(high_t, currency),
                    "low": format_money(low_t, currency),
                    "percent": f"{low_p.normalize():f}",
                },
            )
    return [(t, p) for t, p, _i in clean]


def _programme_summary(tiers: list[tuple[Decimal, Decimal]], currency: str) -> str:
    return "; ".join(f"≥{format_money(t, currency)}: {p.normalize():f}%" for t, p in tiers)


@transaction.atomic
def rebate_programme_create(
    *, actor: User, account: Account, data: dict[str, Any]
) -> RebateProgramme:
    """Add a bonus programme to ``account``.

    ``data``: name, currency (JPY by default), period_start, period_end, tiers
    (``[{"threshold": amount, "percent": p}, …]``, the percent rising with the threshold),
    notes. Errors name the field (``tiers.<index>.<field>`` for a tier).
    """
    found = Account.objects.visible_to(actor).filter(pk=account.pk).first()
    if found is None:
        raise NotFound(_("No such account."))
    _require_writer(actor)
    unknown = set(data) - set(PROGRAMME_FIELDS)
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))}, status=422
        )
    errors = ErrorCollector()
    texts = {k: data.get(k) or "" for k in ("name", "notes")}
    check_text_fields(RebateProgramme, texts, errors)
    errors.raise_if_any()
    name = str(texts["name"]).strip()
    notes = str(texts["notes"]).strip()
    if not name:
        errors.add("name", _("Enter the programme's name."))
    check_plain_text("notes", notes, errors)
    currency: str = data.get("currency") or Currency.JPY
    valid_currency = currency in Currency.values
    if not valid_currency:
        errors.add("currency", _("Choose one of: %(v)s.") % {"v": ", ".join(Currency.values)})
    start = errors.run("period_start", _clean_date, data.get("period_start"))
    end = errors.run("period_end", _clean_date, data.get("period_end"))
    if start and end:
        if end < start:
            errors.add("period_end", _("The period cannot end before it starts."))
        elif (end - start).days > PERIOD_LIMIT_DAYS:
            errors.add("period_end", _("A period is at most five years."))
    tiers = _clean_tiers(data.get("tiers"), currency, errors) if valid_currency else []
    errors.raise_if_any()
    programme = RebateProgramme.objects.create(
        account=found,
        name=name,
        currency=currency,
        period_start=start,
        period_end=end,
        notes=notes,
    )
    RebateTier.objects.bulk_create(
        RebateTier(programme=programme, threshold=t, percent=p) for t, p in tiers
    )
    audit_record(
        actor=actor,
        action="pricing.rebate.created",
        target=programme,
        changes={
            "name": [None, name],
            "period": [None, f"{start.isoformat()} – {end.isoformat()}"],
            "tiers": [None, _programme_summary(tiers, currency)],
        },
        scope=account_scope(found.pk),
    )
    return programme


def _locked(programme: RebateProgramme | int) -> RebateProgramme:
    pk = programme if isinstance(programme, int) else programme.pk
    locked = RebateProgramme.objects.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise NotFound(_("No such bonus programme."))
    return locked


def _visible_locked(actor: User, programme: RebateProgramme) -> RebateProgramme:
    locked = _locked(programme)
    if not Account.objects.visible_to(actor).filter(pk=locked.account_id).exists():
        raise NotFound(_("No such bonus programme."))
    return locked


def _refuse_closed(programme: RebateProgramme) -> None:
    if programme.status == RebateStatus.SETTLED:
        raise Conflict(
            _("The programme “%(name)s” is settled: it counts no more purchases.")
            % {"name": programme.name},
            code="settled",
        )
    if programme.status == RebateStatus.CANCELLED:
        raise Conflict(
            _("The programme “%(name)s” is cancelled.") % {"name": programme.name},
            code="cancelled",
        )


@transaction.atomic
def rebate_programme_cancel(
    *, actor: User, programme: RebateProgramme, reason: str = ""
) -> RebateProgramme:
    """Stop a programme that is still accruing; its purchases stay, nothing is paid."""
    _require_writer(actor)
    programme = _visible_locked(actor, programme)
    _refuse_closed(programme)
    programme.status = RebateStatus.CANCELLED
    programme.version += 1
    programme.updated_at = timezone.now()
    programme.save(update_fields=["status", "version", "updated_at"])
    audit_record(
        actor=actor,
        action="pricing.rebate.cancelled",
        target=programme,
        changes={"status": [RebateStatus.ACTIVE, RebateStatus.CANCELLED]},
        scope=account_scope(programme.account_id),
        note=reason[:1000],
    )
    return programme


# -- purchases -------------------------------------------------------------------------------


def _record_into(
    *,
    programme: RebateProgramme,
    on: datetime.date,
    amount: Decimal,
    source: str,
    description: str,
    actor: User | None,
) -> tuple[RebatePurchase, bool]:
    """Record into a locked, accruing programme covering ``on``; (row, created)."""
    existing = RebatePurchase.objects.filter(programme=programme, source=source).first()
    if existing is not None:
        if existing.amount != amount:
            raise Conflict(
                _(
                    "“%(source)s” is already counted in “%(name)s” with %(old)s, not %(new)s. "
                    "A source is counted once: record a correction under a new source."
                )
                % {
                    "source": source,
                    "name": programme.name,
                    "old": format_money(existing.amount, programme.currency),
                    "new": format_money(amount, programme.currency),
                },
                field="source",
                code="source_conflict",
            )
        return existing, False
    tiers = sorted((t.threshold, t.percent) for t in programme.tiers.all())
    before = programme.purchases.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    purchase = RebatePurchase.objects.create(
        programme=programme, on=on, amount=amount, source=source, description=description
    )
    # Each purchase is in the programme's own history; the account's timeline gets the news
    # that matters (a tier reached), not one line per order.
    audit_record(
        actor=actor,
        action="pricing.rebate.purchase_recorded",
        target=programme,
        changes={"purchases": [None, f"{source}: {format_money(amount, programme.currency)}"]},
        scope=rebate_scope(programme.pk),
    )
    old_tier, _old = rebate_bonus(before, tiers, programme.currency)
    new_tier, accrued = rebate_bonus(before + amount, tiers, programme.currency)
    if new_tier is not None and new_tier != old_tier:
        audit_record(
            actor=actor,
            action="pricing.rebate.tier_reached",
            target=programme,
            changes={
                "bonus": [
                    f"{old_tier[1].normalize():f}%" if old_tier else None,
                    f"{new_tier[1].normalize():f}%",
                ],
                "accrued": [None, format_money(accrued, programme.currency)],
            },
            scope=account_scope(programme.account_id),
        )
    return purchase, True


def _clean_purchase(
    *, currency: str, on: Any, amount: Any, source: Any, description: Any
) -> tuple[datetime.date, Decimal, str, str]:
    errors = ErrorCollector()
    day = errors.run("on", _clean_date, on)
    value = errors.run("amount", _clean_amount, amount, currency, allow_negative=True)
    source = source.strip() if isinstance(source, str) else ""
    description = description.strip() if isinstance(description, str) else ""
    if not source:
        errors.add("source", _("Name the purchase's source, e.g. order:123."))
    check_text_fields(RebatePurchase, {"source": source, "description": description}, errors)
    errors.raise_if_any()
    return day, value, source, description


def _check_covers(programme: RebateProgramme, on: datetime.date) -> None:
    if not programme.period_start <= on <= programme.period_end:
        raise ApplicationError(
            _("%(day)s is outside the programme's period (%(start)s – %(end)s).")
            % {
                "day": on.isoformat(),
                "start": programme.period_start.isoformat(),
                "end": programme.period_end.isoformat(),
            },
            field="on",
            status=422,
            code="outside_period",
        )


@transaction.atomic
def rebate_record_purchase(
    *,
    on: datetime.date,
    amount: Decimal,
    source: str,
    description: str = "",
    programme: RebateProgramme | None = None,
    account: Account | None = None,
    actor: User | None = None,
) -> tuple[RebatePurchase, bool]:
    """Count one purchase towards ``programme`` (or the one accruing programme of ``account``
    covering ``on``); returns the row and whether it is new.

    Idempotent on ``source``: the same source with the same amount returns the existing row and
    changes nothing; with another amount it is a Conflict. Only inside the period, and only
    while the programme accrues (settled or cancelled: Conflict). A return is a negative amount.
    ``actor`` None is the system (an order); a person must be a head of sales or administrator.
    """
    if actor is not None:
        _require_writer(actor)
    if (programme is None) == (account is None):
        raise ValueError("give a programme or an account")
    if programme is None:
        assert account is not None
        candidates = list(
            RebateProgramme.objects.filter(
                account=account,
                status=RebateStatus.ACTIVE,
                period_start__lte=on,
                period_end__gte=on,
            ).values_list("pk", flat=True)
        )
        if len(candidates) != 1:
            raise ApplicationError(
                _("The account has %(n)d accruing programmes on %(day)s: name the programme.")
                % {"n": len(candidates), "day": on},
                field="programme",
                status=422,
            )
        locked = _locked(candidates[0])
    else:
        locked = _visible_locked(actor, programme) if actor is not None else _locked(programme)
    day, value, source, description = _clean_purchase(
        currency=locked.currency, on=on, amount=amount, source=source, description=description
    )
    existing = RebatePurchase.objects.filter(programme=locked, source=source).first()
    if existing is None:
        _refuse_closed(locked)
        _check_covers(locked, day)
    return _record_into(
        programme=locked,
        on=day,
        amount=value,
        source=source,
        description=description,
        actor=actor,
    )


@transaction.atomic
def rebate_accrue_for_account(
    account_id: int,
    on: datetime.date,
    amount: Decimal,
    source: str,
    *,
    currency: str = Currency.JPY,
    description: str = "",
) -> list[RebatePurchase]:
    """Count a purchase (an order) into every accruing programme of the account that covers
    ``on`` and is in ``currency``; others are skipped. Idempotent on ``source`` per programme.

    What orders call when they are confirmed (issue 7). Returns the rows, new or existing.
    """
    try:
        check_amount(amount, currency, allow_negative=True)
    except (MoneyError, TypeError) as exc:
        raise ApplicationError(str(exc), field="amount", status=422) from None
    ids = list(
        RebateProgramme.objects.filter(
            account_id=account_id,
            currency=currency,
            status=RebateStatus.ACTIVE,
            period_start__lte=on,
            period_end__gte=on,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    rows = []
    for pk in ids:
        locked = _locked(pk)
        if locked.status != RebateStatus.ACTIVE:
            continue  # settled or cancelled since the list was read
        day, value, clean_source, clean_description = _clean_purchase(
            currency=currency, on=on, amount=amount, source=source, description=description
        )
        row, _created = _record_into(
            programme=locked,
            on=day,
            amount=value,
            source=clean_source,
            description=clean_description,
            actor=None,
        )
        rows.append(row)
    return rows


# -- settlement ------------------------------------------------------------------------------


def _next_number(year: int) -> str:
    """The next free ``CN-YYYY-NNNN`` of ``year`` (numbers past 9999 simply grow)."""
    prefix = f"CN-{year}-"
    used = CreditNote.objects.filter(number__startswith=prefix).values_list("number", flat=True)
    numbers = [int(tail) for n in used if (tail := n.removeprefix(prefix)).isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


@transaction.atomic
def rebate_settle(*, actor: User, programme: RebateProgramme, on: datetime.date) -> RebateProgramme:
    """Settle a programme at its period end: exactly once, with a credit note for the bonus.

    Only on or after the period's last day; the row lock makes concurrent settles queue, and
    the second finds it settled (Conflict). The credit note is numbered ``CN-YYYY-NNNN`` by
    the year of ``on``, one sequence per year. No tier reached: settled without a credit note.
    """
    _require_writer(actor)
    programme = _visible_locked(actor, programme)
    if programme.status == RebateStatus.SETTLED:
        note = CreditNote.objects.filter(programme=programme).first()
        raise Conflict(
            _("The programme “%(name)s” is already settled%(note)s.")
            % {"name": programme.name, "note": f" ({note.number})" if note else ""},
            code="settled",
        )
    _refuse_closed(programme)
    if on < programme.period_end:
        raise ApplicationError(
            _("The programme runs until %(end)s: settle it on or after its last day.")
            % {"end": programme.period_end.isoformat()},
            field="on",
            status=422,
            code="period_not_over",
        )
    progress = rebate_progress(programme)
    note_number = ""
    if progress.accrued > 0 and progress.percent is not None:
        for _attempt in range(5):
            number = _next_number(on.year)
            try:
                with transaction.atomic():
                    CreditNote.objects.create(
                        programme=programme,
                        number=number,
                        purchases=progress.purchases,
                        percent=progress.percent,
                        amount=progress.accrued,
                        issued_on=on,
                        issued_by=actor,
                    )
            except IntegrityError:
                if CreditNote.objects.filter(programme=programme).exists():
                    raise Conflict(_("The programme is already settled."), code="settled") from None
                continue  # another settlement took the number: take the next
            note_number = number
            break
        else:
            raise Conflict(_("Could not number the credit note; try again."))
    programme.status = RebateStatus.SETTLED
    programme.version += 1
    programme.updated_at = timezone.now()
    programme.save(update_fields=["status", "version", "updated_at"])
    audit_record(
        actor=actor,
        action="pricing.rebate.settled",
        target=programme,
        changes={
            "status": [RebateStatus.ACTIVE, RebateStatus.SETTLED],
            "credit_note": [
                None,
                f"{note_number}: {format_money(progress.accrued, programme.currency)}"
                if note_number
                else _("none: no tier reached"),
            ],
        },
        scope=account_scope(programme.account_id),
    )
    return programme
