"""Discount rules: their services (writes) and selectors (reads), and the rules a quote uses.

A discount rule takes a percentage off the base price for every account and product its
conditions select (segment, account tier, product line, volume, promotion period). Heads of
sales and administrators write them (``may_write_rules``); everyone signed in reads them. The
price engine (``tokui.pricing.engine``) decides precedence; ``discount_rules_for_quote`` builds
its inputs, so a rule prices the same whoever asks.

Every write validates every field at once, runs in one transaction with the rule row locked,
checks the ``version`` the editor loaded and records one audit event under
``pricing:discount_rule:<id>``. Pages and the API write through
``tokui.pricing.approvals.rule_propose``: a rule whose discount is above the writer's authority
becomes an approval request (kind "discount_rule") and is written here once approved.
"""

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.accounts.constants import AccountTier
from tokui.accounts.models import Segment
from tokui.accounts.segments import segment_get
from tokui.accounts.selectors import account_segment_ids
from tokui.catalog.models import ProductLine
from tokui.core.audit import audit_record, check_version, diff, snapshot
from tokui.core.exceptions import ApplicationError, NotFound, PermissionDenied
from tokui.core.validation import ErrorCollector, check_plain_text, check_text_fields
from tokui.pricing import engine
from tokui.pricing.models import DiscountRule, DiscountRuleKind
from tokui.users.constants import Role
from tokui.users.models import User

ROLES_WRITING_RULES = frozenset({Role.ADMIN, Role.HEAD})
RULE_EDITABLE_FIELDS = (
    "name",
    "kind",
    "percent",
    "priority",
    "stackable",
    "valid_from",
    "valid_to",
    "segment",
    "account_tier",
    "line",
    "min_quantity",
    "active",
    "notes",
)
PRIORITY_LIMIT = 1_000_000
QUANTITY_LIMIT = engine.MAX_QUANTITY


def discount_rule_scope(rule_id: int) -> str:
    """The audit scope of one discount rule's history."""
    return f"pricing:discount_rule:{rule_id}"


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def may_read_rules(user: Any) -> bool:
    return _signed_in(user)


def may_write_rules(user: Any) -> bool:
    return _signed_in(user) and user.role in ROLES_WRITING_RULES


def require_rule_writer(actor: User) -> None:
    if not may_write_rules(actor):
        raise PermissionDenied(
            _("Only heads of sales and administrators change discount rules; you can read them.")
        )


# -- selectors -------------------------------------------------------------------------------


def discount_rule_list(
    *, viewer: Any, active: bool | None = None, kind: str | None = None
) -> QuerySet[DiscountRule]:
    """Every rule, active first, then by priority (highest first) and name."""
    if not may_read_rules(viewer):
        return DiscountRule.objects.none()
    qs = DiscountRule.objects.select_related("segment", "line")
    if active is not None:
        qs = qs.filter(active=active)
    if kind in DiscountRuleKind.values:
        qs = qs.filter(kind=kind)
    return qs.order_by("-active", "-priority", "name", "id")


def discount_rule_get(*, viewer: Any, rule_id: int) -> DiscountRule:
    rule = discount_rule_list(viewer=viewer).filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(_("No such discount rule."))
    return rule


def discount_rule_names(*, viewer: Any, rule_ids: list[int]) -> dict[int, str]:
    """Names of rules by id, for explanations that list candidates (one query)."""
    if not rule_ids:
        return {}
    return dict(discount_rule_list(viewer=viewer).filter(pk__in=rule_ids).values_list("pk", "name"))


def discount_rule_segment_choices(*, viewer: User) -> QuerySet[Segment]:
    """Segments a rule may use: the writer's own and the shared ones."""
    if not isinstance(viewer, User) or not viewer.is_active:
        return Segment.objects.none()
    return Segment.objects.filter(Q(owner_id=viewer.pk) | Q(shared=True)).order_by("name", "id")


def discount_rule_engine(rule: DiscountRule) -> engine.DiscountRule:
    """The engine's mirror of a stored rule."""
    return engine.DiscountRule(
        id=rule.pk,
        kind=engine.RuleKind(rule.kind),
        percent=rule.percent,
        priority=rule.priority,
        stackable=rule.stackable,
        valid_from=rule.valid_from,
        valid_to=rule.valid_to,
        segment_id=rule.segment_id,
        account_tier=rule.account_tier or None,
        line_id=rule.line_id,
        min_quantity=rule.min_quantity,
        name=rule.name,
    )


def discount_rules_for_quote(
    *, account_id: int, account_tier: str, line_id: int | None, on: datetime.date
) -> tuple[tuple[engine.DiscountRule, ...], frozenset[int]]:
    """The active rules valid on ``on`` whose account and product conditions may match, and the
    ids of the segments (of those rules) the account belongs to.

    Quantity is left to the engine, so the explanation can say "from 100 units". Segment
    membership is evaluated with the segment's saved filters regardless of who asks (one query
    per segment): a price never depends on the viewer.
    """
    rules = list(
        DiscountRule.objects.filter(active=True)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=on))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .filter(Q(account_tier="") | Q(account_tier=account_tier))
        .filter(Q(line__isnull=True) | Q(line_id=line_id))
        .select_related("segment")
        .order_by("id")
    )
    segments = {rule.segment_id: rule.segment for rule in rules if rule.segment is not None}
    member_of = account_segment_ids(account_id=account_id, segments=list(segments.values()))
    chosen = [rule for rule in rules if rule.segment_id is None or rule.segment_id in member_of]
    return tuple(discount_rule_engine(rule) for rule in chosen), member_of


# -- services --------------------------------------------------------------------------------


def _clean_date(value: Any) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value.strip())
        except ValueError:
            raise ApplicationError(_("Enter a date as YYYY-MM-DD.")) from None
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise ApplicationError(_("Enter a date as YYYY-MM-DD."))
    return value


def clean_percent(value: Any) -> Decimal:
    """A discount: above 0 and below 100, with at most 2 decimals (``"5"``, ``"7.5%"``)."""
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


def _clean_int(value: Any, low: int, high: int, message: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ApplicationError(message)
    return value


def _pk(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, Segment | ProductLine):
        return value.pk
    return None


def discount_rule_clean_data(
    *, actor: User, data: dict[str, Any], current: DiscountRule | None
) -> dict[str, Any]:
    """Validate and normalise rule fields; one ApplicationError lists every problem.

    The kind's condition is required: a segment for SEGMENT, an account tier for TIER, a
    product line for PRODUCT_LINE, more than 1 unit for VOLUME, both dates for PROMOTION.
    """
    unknown = set(data) - set(RULE_EDITABLE_FIELDS)
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))}, status=422
        )
    errors = ErrorCollector()
    check_text_fields(
        DiscountRule,
        {k: v for k, v in data.items() if k in ("name", "notes", "account_tier")},
        errors,
    )
    errors.raise_if_any()
    clean = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}
    if "name" in clean and not clean["name"]:
        errors.add("name", _("Enter the rule's name."))
    if "notes" in clean:
        clean["notes"] = clean["notes"] or ""
        check_plain_text("notes", clean["notes"], errors)
    if "kind" in clean and clean["kind"] not in DiscountRuleKind.values:
        errors.add("kind", _("Choose one of: %(v)s.") % {"v": ", ".join(DiscountRuleKind.values)})
    if "percent" in clean:
        clean["percent"] = errors.run("percent", clean_percent, clean["percent"])
    if "priority" in clean:
        clean["priority"] = errors.run(
            "priority",
            _clean_int,
            clean["priority"],
            -PRIORITY_LIMIT,
            PRIORITY_LIMIT,
            _("Enter a whole number from %(low)s to %(high)s.")
            % {"low": f"{-PRIORITY_LIMIT:,}", "high": f"{PRIORITY_LIMIT:,}"},
        )
    for flag in ("stackable", "active"):
        if flag in clean and not isinstance(clean[flag], bool):
            errors.add(flag, _("Choose yes or no."))
    for name in ("valid_from", "valid_to"):
        if name in clean:
            clean[name] = errors.run(name, _clean_date, clean[name])
    if "min_quantity" in clean:
        clean["min_quantity"] = errors.run(
            "min_quantity",
            _clean_int,
            clean["min_quantity"] if clean["min_quantity"] not in (None, "") else 1,
            1,
            QUANTITY_LIMIT,
            _("Enter a quantity from 1 to %(max)s.") % {"max": f"{QUANTITY_LIMIT:,}"},
        )
    if "account_tier" in clean:
        clean["account_tier"] = clean["account_tier"] or ""
        if clean["account_tier"] and clean["account_tier"] not in AccountTier.values:
            errors.add(
                "account_tier", _("Choose one of: %(v)s.") % {"v": ", ".join(AccountTier.values)}
            )
    if "segment" in clean:
        if clean["segment"] in (None, ""):
            clean["segment"] = None
        else:
            segment_id = _pk(clean["segment"])
            segment = None
            if segment_id is not None:
                try:
                    segment = segment_get(viewer=actor, segment_id=segment_id)
                except NotFound:
                    segment = None
            if segment is None:
                errors.add("segment", _("Choose one of your segments or a shared one."))
            clean["segment"] = segment
    if "line" in clean:
        if clean["line"] in (None, ""):
            clean["line"] = None
        else:
            line = ProductLine.objects.filter(pk=_pk(clean["line"]) or 0).first()
            if line is None:
                errors.add("line", _("Choose an existing product line."))
            clean["line"] = line
    errors.raise_if_any()

    def value(name: str) -> Any:
        if name in clean:
            return clean[name]
        if current is None:
            return {"min_quantity": 1}.get(name)
        return getattr(current, name)

    if current is None:
        for name, message in (
            ("name", _("Enter the rule's name.")),
            ("kind", _("Choose the kind of rule.")),
            ("percent", _("Enter the discount.")),
        ):
            if value(name) in (None, ""):
                errors.add(name, message)
    start, end = value("valid_from"), value("valid_to")
    if start and end and end < start:
        errors.add("valid_to", _("The rule cannot end before it starts."))
    kind = value("kind")
    if kind == DiscountRuleKind.SEGMENT and value("segment") is None:
        errors.add("segment", _("A segment rule needs a segment: choose one."))
    elif kind == DiscountRuleKind.TIER and not value("account_tier"):
        errors.add("account_tier", _("An account tier rule needs a tier: choose one."))
    elif kind == DiscountRuleKind.PRODUCT_LINE and value("line") is None:
        errors.add("line", _("A product line rule needs a product line: choose one."))
    elif kind == DiscountRuleKind.VOLUME and (value("min_quantity") or 1) <= 1:
        errors.add(
            "min_quantity", _("A volume rule starts above 1 unit: enter the quantity it needs.")
        )
    elif kind == DiscountRuleKind.PROMOTION:
        if not start:
            errors.add("valid_from", _("A promotion needs its first day."))
        if not end:
            errors.add("valid_to", _("A promotion needs its last day."))
    errors.raise_if_any()
    return clean


def _audit_changes(rule: DiscountRule, before: dict[str, Any], fields: list[str]) -> dict:
    return diff(before, snapshot(rule, fields))


@transaction.atomic
def discount_rule_create(*, actor: User, data: dict[str, Any]) -> DiscountRule:
    """Add a discount rule; it applies to quotes at once (from its first day, if set)."""
    require_rule_writer(actor)
    clean = discount_rule_clean_data(actor=actor, data=data, current=None)
    rule = DiscountRule.objects.create(**clean)
    audit_record(
        actor=actor,
        action="pricing.discount_rule.created",
        target=rule,
        changes=_audit_changes(rule, {}, list(clean)),
        scope=discount_rule_scope(rule.pk),
    )
    return rule


def _locked(rule: DiscountRule) -> DiscountRule:
    locked = DiscountRule.objects.select_for_update().filter(pk=rule.pk).first()
    if locked is None:
        raise NotFound(_("No such discount rule."))
    return locked


@transaction.atomic
def discount_rule_update(
    *, actor: User, rule: DiscountRule, data: dict[str, Any], version: int | None = None
) -> DiscountRule:
    """Change a rule; ``version`` is what the editor loaded (a stale one is refused)."""
    require_rule_writer(actor)
    rule = _locked(rule)
    check_version(record=rule, version=version)
    clean = discount_rule_clean_data(actor=actor, data=data, current=rule)
    fields = list(clean)
    before = snapshot(rule, fields)
    for key, value in clean.items():
        setattr(rule, key, value)
    changes = _audit_changes(rule, before, fields)
    if not changes:
        return rule
    rule.version += 1
    rule.updated_at = timezone.now()
    rule.save(update_fields=[*fields, "version", "updated_at"])
    audit_record(
        actor=actor,
        action="pricing.discount_rule.updated",
        target=rule,
        changes=changes,
        scope=discount_rule_scope(rule.pk),
    )
    return rule


@transaction.atomic
def discount_rule_deactivate(
    *, actor: User, rule: DiscountRule, version: int | None = None
) -> DiscountRule:
    """Stop a rule from applying; it stays listed (and in old explanations) as inactive."""
    require_rule_writer(actor)
    rule = _locked(rule)
    check_version(record=rule, version=version)
    if not rule.active:
        return rule
    rule.active = False
    rule.version += 1
    rule.updated_at = timezone.now()
    rule.save(update_fields=["active", "version", "updated_at"])
    audit_record(
        actor=actor,
        action="pricing.discount_rule.deactivated",
        target=rule,
        changes={"active": [True, False]},
        scope=discount_rule_scope(rule.pk),
    )
    return rule
