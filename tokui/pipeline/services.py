"""Writes to deals (商談): the deal, its lines, its playbook steps, needs, objections, stage moves.

Who may write: editors (``user.may_edit_accounts``) who can see the deal's account; an
invisible deal is NotFound. Every write locks the deal row (``select_for_update``), checks the
``version`` the caller loaded when one is given (a stale board card or form is refused with who
changed it), bumps the version and records one audit event under the account's scope (so it
shows in the account's history) with the deal named in the note.

Stage moves (``deal_move_stage``) follow the playbooks: moving *forward* past a stage needs
every required step of that stage met — the stage the deal is in and every stage it would
skip. The refusal lists every missing step, by stage. Moving back is always allowed (the work
cycle does go back: new objections, a new decision maker). Won and lost are stages of their own
kind: winning is a forward move to the won stage and hands the deal over (``deal_win``);
losing needs a reason (``deal_lose``). A lost deal may be reopened; a won deal has been handed
over to orders and contracts and is not moved again.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Model, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.accounts.constants import AccountKind
from tokui.accounts.models import Account, Contact, account_scope
from tokui.activities.constants import AppointmentStatus, InteractionKind
from tokui.activities.models import Appointment, Interaction
from tokui.catalog.constants import Currency
from tokui.catalog.models import Product, ProductLine
from tokui.core.audit import audit_record, check_version, diff, snapshot
from tokui.core.exceptions import ApplicationError, Conflict, NotFound, PermissionDenied
from tokui.core.money import check_amount, format_money, parse_money
from tokui.core.validation import ErrorCollector, check_plain_text
from tokui.orders.constants import QuoteStatus
from tokui.orders.models import Quote
from tokui.pipeline.constants import DealSource, Likelihood, LostReason, Requirement, StageKind
from tokui.pipeline.models import (
    Deal,
    DealLine,
    DealNeed,
    DealObjection,
    DealStageChange,
    DealStepDone,
    PlaybookStep,
    Stage,
)
from tokui.pricing.quotes import price_quote
from tokui.users.models import User

DEAL_FIELDS = (
    "title",
    "contact",
    "owner",
    "currency",
    "value",
    "expected_close",
    "source",
    "likelihood",
    "description",
)
TITLE_LIMIT = 200
TEXT_LIMIT = 4000
LINES_LIMIT = 100
QUANTITY_LIMIT = 10**9
VALUE_LIMIT = Decimal(10) ** 14
# Quotes in these statuses count as "a quote is issued" for the playbook.
ISSUED_QUOTE_STATUSES = (QuoteStatus.APPROVED, QuoteStatus.SENT, QuoteStatus.ACCEPTED)


# -- access -------------------------------------------------------------------------------------


def _check_editor(actor: User) -> None:
    if not actor.may_edit_accounts:
        raise PermissionDenied(_("Your role can read deals but not change them."))


def _visible_account(actor: User, account_id: int) -> Account:
    account = Account.objects.visible_to(actor).filter(pk=account_id).first()
    if account is None:
        raise NotFound(_("No such account."))
    return account


def _locked_deal(
    actor: User, deal: Deal | int, version: int | None = None, *, closed_ok: bool = False
) -> Deal:
    """The deal row, locked, if ``actor`` may change it; ``version`` is checked when given.

    A won or lost deal is closed: its fields, lines, steps, needs and objections stay as they
    were when it closed (a won deal's value is what rewards and hand-over used). Only a stage
    move (``closed_ok``) touches a closed deal: reopening a lost one.
    """
    _check_editor(actor)
    deal_id = deal if isinstance(deal, int) else deal.pk
    # The lock reads the deal row alone: after waiting for another mover, PostgreSQL re-checks
    # the row's new version, but joined rows (its old stage) only in their old versions, and
    # would drop the deal as if it were gone.
    locked = Deal.objects.select_for_update().filter(pk=deal_id, archived_at=None).first()
    if (
        locked is None
        or not Account.objects.visible_to(actor).filter(pk=locked.account_id).exists()
    ):
        raise NotFound(_("No such deal."))
    check_version(record=locked, version=version)
    if not closed_ok and locked.stage.kind != StageKind.OPEN:
        raise Conflict(
            _("This deal is closed (%(stage)s): reopen it before changing it.")
            % {"stage": locked.stage.label}
            if locked.stage.kind == StageKind.LOST
            else _("This deal is won and handed over; it is not changed any more.")
        )
    return locked


def _touch(deal: Deal, fields: list[str]) -> None:
    deal.version += 1
    deal.updated_at = timezone.now()
    deal.save(update_fields=[*fields, "version", "updated_at"])


def _audit(
    actor: User,
    action: str,
    deal: Deal,
    changes: dict[str, list[Any]] | None = None,
    note: str = "",
) -> None:
    audit_record(
        actor=actor,
        action=action,
        target=deal,
        changes=changes,
        scope=account_scope(deal.account_id),
        note=note,
    )


# -- cleaning -----------------------------------------------------------------------------------


def _id(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, Model):
        return int(value.pk)
    if isinstance(value, bool):
        raise ValueError
    return int(value)


def _clean_date(value: Any) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        value = datetime.date.fromisoformat(value.strip())
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise ValueError
    return value


def _clean_value(value: Any, currency: str) -> Decimal:
    if value in (None, ""):
        return Decimal(0)
    amount = parse_money(value, currency) if isinstance(value, str) else value
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise ApplicationError(_("Enter an amount such as 1200000 or 1,200,000."))
    checked = check_amount(amount, currency)
    if checked >= VALUE_LIMIT:
        raise ApplicationError(_("That is not a plausible value: it must be below 100 trillion."))
    return checked


def deal_clean_data(
    *, data: dict[str, Any], current: Deal | None, account: Account, actor: User
) -> dict[str, Any]:
    """Validate the deal fields present in ``data``; every problem is reported at once."""
    errors = ErrorCollector()
    clean: dict[str, Any] = {}
    unknown = set(data) - set(DEAL_FIELDS)
    if unknown:
        errors.add(
            "__all__", _("Unknown fields: %(names)s.") % {"names": ", ".join(sorted(unknown))}
        )
    if "title" in data:
        title = str(data["title"] or "").strip()
        if not title:
            errors.add("title", _("Give the deal a title, such as 'Packaging renewal 2027'."))
        elif len(title) > TITLE_LIMIT:
            errors.add("title", _("At most %(limit)d characters.") % {"limit": TITLE_LIMIT})
        else:
            check_plain_text("title", title, errors)
            clean["title"] = title
    if "contact" in data:
        try:
            contact_id = _id(data["contact"])
        except (TypeError, ValueError):
            contact_id = -1
        if contact_id is None:
            clean["contact"] = None
        else:
            contact = Contact.objects.filter(
                pk=contact_id, account=account, archived_at=None
            ).first()
            if contact is None:
                errors.add("contact", _("Choose a contact person of this account."))
            else:
                clean["contact"] = contact
    if "owner" in data:
        try:
            owner_id = _id(data["owner"])
        except (TypeError, ValueError):
            owner_id = -1
        owner = User.objects.filter(pk=owner_id, is_active=True).first() if owner_id else None
        if owner is None or not owner.may_edit_accounts:
            errors.add("owner", _("Choose an active user who works on deals."))
        elif not Account.objects.visible_to(owner).filter(pk=account.pk).exists():
            errors.add("owner", _("%(user)s cannot see this account.") % {"user": owner})
        else:
            clean["owner"] = owner
    currency = current.currency if current else Currency.JPY
    if "currency" in data:
        value = str(data["currency"] or "")
        if value not in Currency.values:
            errors.add("currency", _("Choose a currency from the list."))
        elif current and value != current.currency and current.lines.exists():
            errors.add(
                "currency",
                _(
                    "The deal has product lines in %(currency)s: remove them before changing "
                    "its currency."
                )
                % {"currency": current.currency},
            )
        else:
            currency = clean["currency"] = value
    if "value" in data:
        value = errors.run("value", _clean_value, data["value"], currency)
        if current and current.lines.exists():
            if value is not None and value != current.value:
                errors.add(
                    "value", _("The value is the total of the deal's products: change those.")
                )
        elif value is not None:
            clean["value"] = value
    if "expected_close" in data:
        try:
            clean["expected_close"] = _clean_date(data["expected_close"])
        except (TypeError, ValueError):
            errors.add("expected_close", _("Enter a date as YYYY-MM-DD."))
    for name, choices, message in (
        ("source", DealSource, _("Choose where the deal came from.")),
        ("likelihood", Likelihood, _("Choose A, B or C.")),
    ):
        if name in data:
            value = str(data[name] or "")
            if value not in choices.values:
                errors.add(name, message)
            else:
                clean[name] = value
    if "description" in data:
        description = str(data["description"] or "").replace("\r\n", "\n")
        if len(description) > TEXT_LIMIT:
            errors.add("description", _("At most %(limit)d characters.") % {"limit": TEXT_LIMIT})
        else:
            clean["description"] = description
    errors.raise_if_any()
    return clean


# -- deals --------------------------------------------------------------------------------------


def first_open_stage() -> Stage:
    stage = (
        Stage.objects.filter(active=True, kind=StageKind.OPEN).order_by("position", "pk").first()
    )
    if stage is None:
        raise ApplicationError(_("No open stage is set up: an administrator must add one."))
    return stage


def stage_of_kind(kind: str) -> Stage:
    stage = Stage.objects.filter(active=True, kind=kind).order_by("position", "pk").first()
    if stage is None:
        raise ApplicationError(
            _("No active stage of kind '%(kind)s' is set up: an administrator must add one.")
            % {"kind": StageKind(kind).label}
        )
    return stage


@transaction.atomic
def deal_create(*, actor: User, account: Account | int, data: dict[str, Any]) -> Deal:
    """Open a deal on ``account`` in the first open stage; the owner defaults to ``actor``."""
    _check_editor(actor)
    account_id = account if isinstance(account, int) else account.pk
    account = _visible_account(actor, account_id)
    if account.archived_at is not None:
        raise ApplicationError(_("This account is archived: restore it before opening a deal."))
    if account.kind == AccountKind.COMPETITOR:
        raise ApplicationError(_("A competitor is not a customer: deals are opened on customers."))
    data = {"owner": actor.pk, **data}
    if "title" not in data:
        data["title"] = ""
    clean = deal_clean_data(data=data, current=None, account=account, actor=actor)
    stage = first_open_stage()
    deal = Deal.objects.create(account=account, stage=stage, **clean)
    DealStageChange.objects.create(deal=deal, from_stage=None, to_stage=stage, actor=actor)
    _audit(
        actor,
        "pipeline.deal.created",
        deal,
        diff({}, snapshot(deal, clean.keys())),
        note=deal.title,
    )
    return deal


@transaction.atomic
def deal_update(
    *, actor: User, deal: Deal | int, data: dict[str, Any], version: int | None = None
) -> Deal:
    """Change a deal's fields (not its stage: ``deal_move_stage``; not its lines)."""
    deal = _locked_deal(actor, deal, version)
    clean = deal_clean_data(data=data, current=deal, account=deal.account, actor=actor)
    before = snapshot(deal, clean.keys())
    for key, value in clean.items():
        setattr(deal, key, value)
    changes = diff(before, snapshot(deal, clean.keys()))
    if not changes:
        return deal
    _touch(deal, list(clean.keys()))
    _audit(actor, "pipeline.deal.updated", deal, changes, note=deal.title)
    return deal


@dataclass(frozen=True)
class LineIn:
    product: int
    quantity: int
    unit_price: Decimal | None = None


def _clean_lines(deal: Deal, lines: list[Any], *, actor: User, on: datetime.date) -> list[DealLine]:
    errors = ErrorCollector()
    if len(lines) > LINES_LIMIT:
        raise ApplicationError(
            _("At most %(limit)d lines.") % {"limit": LINES_LIMIT}, field="lines"
        )
    built: list[DealLine] = []
    for number, raw in enumerate(lines, start=1):
        line = raw if isinstance(raw, LineIn) else None
        if line is None:
            try:
                raw = dict(raw)
                line = LineIn(
                    product=int(_id(raw.get("product")) or 0),
                    quantity=int(raw.get("quantity", "")),
                    unit_price=raw.get("unit_price") or None,
                )
            except (TypeError, ValueError):
                errors.add(
                    f"lines.{number}",
                    _("Line %(n)d: choose a product and a whole quantity.") % {"n": number},
                )
                continue
        field = f"lines.{number}"
        product = Product.objects.filter(pk=line.product).first()
        if product is None:
            errors.add(field, _("Line %(n)d: no such product.") % {"n": number})
            continue
        if not product.is_sellable:
            errors.add(
                field,
                _("Line %(n)d: %(product)s is %(status)s and cannot be offered.")
                % {"n": number, "product": product, "status": product.get_status_display()},
            )
            continue
        if product.currency != deal.currency:
            errors.add(
                field,
                _(
                    "Line %(n)d: %(product)s is priced in %(currency)s but the deal is in "
                    "%(deal_currency)s; one deal has one currency."
                )
                % {
                    "n": number,
                    "product": product,
                    "currency": product.currency,
                    "deal_currency": deal.currency,
                },
            )
            continue
        if isinstance(line.quantity, bool) or not 0 < line.quantity < QUANTITY_LIMIT:
            errors.add(field, _("Line %(n)d: the quantity must be at least 1.") % {"n": number})
            continue
        try:
            priced = price_quote(
                viewer=actor,
                account_id=deal.account_id,
                product_id=product.pk,
                quantity=line.quantity,
                on=on,
            )
        except ApplicationError as exc:
            errors.add(field, _("Line %(n)d: %(reason)s") % {"n": number, "reason": exc.message})
            continue
        unit_price = priced.unit_price
        if line.unit_price is not None:
            try:
                unit_price = _clean_value(line.unit_price, deal.currency)
            except ApplicationError as exc:
                errors.add(
                    field, _("Line %(n)d: %(reason)s") % {"n": number, "reason": exc.message}
                )
                continue
        built.append(
            DealLine(
                deal=deal,
                position=number,
                product=product,
                sku=product.sku,
                description=product.name,
                quantity=line.quantity,
                unit_price=unit_price,
                amount=unit_price * line.quantity,
                priced_on=on,
                explanation=priced.explain(),
            )
        )
    errors.raise_if_any()
    return built


@transaction.atomic
def deal_set_lines(
    *, actor: User, deal: Deal | int, lines: list[Any], version: int | None = None
) -> Deal:
    """Replace the deal's product lines, priced by the price engine today, all or nothing.

    Each line is ``{"product": id, "quantity": n, "unit_price": optional}`` (or a ``LineIn``);
    without a unit price the engine's price for the account is used. The deal's value becomes
    the sum of the lines. Refused: discontinued or unavailable products, a product in another
    currency than the deal's, quantities below 1 — each line's problem named.
    """
    deal = _locked_deal(actor, deal, version)
    built = _clean_lines(deal, list(lines), actor=actor, on=timezone.localdate())
    before = [f"{line.sku} × {line.quantity}" for line in deal.lines.all()]
    deal.lines.all().delete()
    DealLine.objects.bulk_create(built)
    old_value = deal.value
    if built:
        deal.value = sum((line.amount for line in built), Decimal(0))
    _touch(deal, ["value"])
    changes: dict[str, list[Any]] = {
        "lines": [", ".join(before), ", ".join(f"{line.sku} × {line.quantity}" for line in built)]
    }
    if old_value != deal.value:
        changes["value"] = [
            format_money(old_value, deal.currency),
            format_money(deal.value, deal.currency),
        ]
    _audit(actor, "pipeline.deal.lines_changed", deal, changes, note=deal.title)
    return deal


# -- the playbook -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepState:
    step: PlaybookStep
    met: bool
    done_by: str = ""
    done_at: datetime.datetime | None = None


def _regarding(deal: Deal) -> dict[str, Any]:
    return {"regarding_type": ContentType.objects.get_for_model(Deal), "regarding_id": deal.pk}


def _requirement_met(deal: Deal, requirement: str, ticked: set[int], step: PlaybookStep) -> bool:
    match requirement:
        case Requirement.MANUAL:
            return step.pk in ticked
        case Requirement.CONTACT:
            return deal.contact_id is not None
        case Requirement.VALUE:
            return deal.value > 0
        case Requirement.CLOSE_DATE:
            return deal.expected_close is not None
        case Requirement.PRODUCTS:
            return deal.lines.exists()
        case Requirement.NEEDS:
            return deal.needs.exists()
        case Requirement.OBJECTIONS:
            return deal.objections.exists()
        case Requirement.APPOINTMENT:
            return (
                Appointment.objects.filter(**_regarding(deal))
                .exclude(status=AppointmentStatus.CANCELLED)
                .exists()
            )
        case Requirement.MEETING:
            return (
                Interaction.objects.filter(
                    **_regarding(deal), kind__in=(InteractionKind.MEETING, InteractionKind.VISIT)
                ).exists()
                or Appointment.objects.filter(
                    **_regarding(deal), status=AppointmentStatus.HELD
                ).exists()
            )
        case Requirement.QUOTE:
            return Quote.objects.filter(
                **_regarding(deal), status__in=ISSUED_QUOTE_STATUSES
            ).exists()
    return False


def playbook_state(*, deal: Deal, stages: list[Stage] | None = None) -> dict[int, list[StepState]]:
    """Every step of ``stages`` (default: the deal's current stage) and whether it is met."""
    stages = stages if stages is not None else [deal.stage]
    done = {
        row.step_id: row for row in DealStepDone.objects.filter(deal=deal).select_related("done_by")
    }
    ticked = set(done)
    states: dict[int, list[StepState]] = {}
    steps = PlaybookStep.objects.filter(stage__in=stages).order_by(
        "stage__position", "position", "pk"
    )
    for step in steps:
        row = done.get(step.pk)
        states.setdefault(step.stage_id, []).append(
            StepState(
                step=step,
                met=_requirement_met(deal, step.requirement, ticked, step),
                done_by=str(row.done_by) if row and row.done_by else "",
                done_at=row.done_at if row else None,
            )
        )
    return states


def _stages_to_pass(current: Stage, target: Stage) -> list[Stage]:
    """The stages whose playbooks a forward move from ``current`` to ``target`` must satisfy:
    the current stage and every active open stage between them."""
    if current.kind != StageKind.OPEN:
        # Reopened (from lost): the work of every open stage before the target counts, as
        # for a deal moving there from the start of the cycle.
        before = Stage.objects.filter(active=True, kind=StageKind.OPEN)
        if target.kind == StageKind.OPEN:
            before = before.filter(position__lt=target.position)
        return sorted(before, key=lambda s: (s.position, s.pk))
    if target.position <= current.position and target.kind == StageKind.OPEN:
        return []
    between = Stage.objects.filter(
        active=True,
        kind=StageKind.OPEN,
        position__gte=current.position,
        position__lt=target.position if target.kind == StageKind.OPEN else 1 << 30,
    ).exclude(pk=target.pk)
    stages = list(between)
    if current.kind == StageKind.OPEN and current not in stages:
        stages.insert(0, current)
    return sorted(stages, key=lambda s: (s.position, s.pk))


def deal_missing_steps(*, deal: Deal, target: Stage) -> list[tuple[Stage, PlaybookStep]]:
    """The required steps not met for moving ``deal`` to ``target`` (empty: the move is fine)."""
    if target.kind == StageKind.LOST:
        return []
    stages = _stages_to_pass(deal.stage, target)
    if not stages:
        return []
    states = playbook_state(deal=deal, stages=stages)
    return [
        (stage, state.step)
        for stage in stages
        for state in states.get(stage.pk, [])
        if state.step.required and not state.met
    ]


def _missing_message(missing: list[tuple[Stage, PlaybookStep]], target: Stage) -> str:
    lines = [f"• {stage.label}: {step.label}" for stage, step in missing]
    return _("The deal cannot move to “%(stage)s” yet. Still to do:\n%(steps)s") % {
        "stage": target.label,
        "steps": "\n".join(lines),
    }


class PlaybookRefused(ApplicationError):
    """A move refused by the playbook; ``missing`` lists (stage, step) still to do."""

    def __init__(self, message: str, missing: list[tuple[Stage, PlaybookStep]]) -> None:
        super().__init__(message, status=409)
        self.missing = missing


@transaction.atomic
def deal_step_set(
    *,
    actor: User,
    deal: Deal | int,
    step: PlaybookStep | int,
    done: bool,
    note: str = "",
    version: int | None = None,
) -> Deal:
    """Tick (or untick) a manual playbook step on the deal."""
    deal = _locked_deal(actor, deal, version)
    step_id = step if isinstance(step, int) else step.pk
    found = PlaybookStep.objects.select_related("stage").filter(pk=step_id).first()
    if found is None:
        raise NotFound(_("No such playbook step."))
    step = found
    if step.requirement != Requirement.MANUAL:
        raise ApplicationError(
            _("“%(step)s” is checked from the deal itself (%(how)s), not ticked by hand.")
            % {"step": step.label, "how": Requirement(step.requirement).label}
        )
    note = (note or "").strip()[:300]
    existing = DealStepDone.objects.filter(deal=deal, step=step).first()
    if done and existing is None:
        DealStepDone.objects.create(deal=deal, step=step, done_by=actor, note=note)
        changes = {step.label: ["", "✓"]}
    elif not done and existing is not None:
        existing.delete()
        changes = {step.label: ["✓", ""]}
    else:
        return deal
    _touch(deal, [])
    _audit(actor, "pipeline.deal.step_changed", deal, changes, note=deal.title)
    return deal


# -- stage moves --------------------------------------------------------------------------------


def _record_move(
    actor: User, deal: Deal, target: Stage, extra_fields: list[str], changes: dict[str, list[Any]]
) -> None:
    previous = deal.stage
    deal.stage = target
    deal.stage_entered_at = timezone.now()
    _touch(deal, ["stage", "stage_entered_at", *extra_fields])
    DealStageChange.objects.create(deal=deal, from_stage=previous, to_stage=target, actor=actor)
    _audit(
        actor,
        "pipeline.deal.stage_changed",
        deal,
        {"stage": [previous.label, target.label], **changes},
        note=deal.title,
    )


@transaction.atomic
def deal_move_stage(
    *,
    actor: User,
    deal: Deal | int,
    stage: Stage | int | str,
    version: int | None = None,
    lost_reason: str = "",
    lost_note: str = "",
    lost_to: Account | int | None = None,
) -> Deal:
    """Move the deal to ``stage`` (a Stage, its id or its key), following the playbooks.

    Refused with a clear message: an unknown or retired stage, a won deal (handed over), a
    forward move with required steps unmet (``PlaybookRefused`` lists them), a move to lost
    without a reason. Concurrent moves of one deal: the row lock serialises them and the
    ``version`` check refuses the one that moved a card it saw in an older state.
    """
    deal = _locked_deal(actor, deal, version, closed_ok=True)
    if isinstance(stage, Stage):
        target = Stage.objects.filter(pk=stage.pk).first()
    elif isinstance(stage, int):
        target = Stage.objects.filter(pk=stage).first()
    else:
        target = Stage.objects.filter(key=str(stage)).first()
    if target is None:
        raise NotFound(_("No such stage."))
    if not target.active:
        raise ApplicationError(
            _("The stage “%(stage)s” is no longer in use.") % {"stage": target.label}
        )
    if deal.stage.kind == StageKind.WON:
        raise Conflict(
            _(
                "This deal is won and handed over to orders and contracts; it is not moved again. "
                "Open a new deal for new business."
            )
        )
    if target.pk == deal.stage_id:
        return deal
    if target.kind == StageKind.LOST:
        return _lose(actor, deal, target, lost_reason, lost_note, lost_to)
    missing = deal_missing_steps(deal=deal, target=target)
    if missing:
        raise PlaybookRefused(_missing_message(missing, target), missing)
    if target.kind == StageKind.WON:
        return _win(actor, deal, target)
    fields: list[str] = []
    changes: dict[str, list[Any]] = {}
    if deal.stage.kind == StageKind.LOST:
        # Reopened: the loss no longer stands.
        changes["lost_reason"] = [deal.get_lost_reason_display(), ""]
        deal.closed_at = None
        deal.lost_reason = ""
        deal.lost_note = ""
        deal.lost_to = None
        fields = ["closed_at", "lost_reason", "lost_note", "lost_to"]
    _record_move(actor, deal, target, fields, changes)
    return deal


def _lose(
    actor: User, deal: Deal, target: Stage, reason: str, note: str, lost_to: Account | int | None
) -> Deal:
    errors = ErrorCollector()
    if reason not in LostReason.values:
        errors.add("lost_reason", _("Say why the deal was lost."))
    note = (note or "").replace("\r\n", "\n").strip()
    if len(note) > TEXT_LIMIT:
        errors.add("lost_note", _("At most %(limit)d characters.") % {"limit": TEXT_LIMIT})
    competitor = None
    if lost_to not in (None, ""):
        try:
            competitor_id = _id(lost_to)
        except (TypeError, ValueError):
            competitor_id = -1
        competitor = Account.objects.filter(
            pk=competitor_id or -1, kind=AccountKind.COMPETITOR
        ).first()
        if competitor is None:
            errors.add("lost_to", _("Choose the competitor from the list of competitors."))
    if reason == LostReason.COMPETITOR and competitor is None and "lost_to" not in errors.errors:
        errors.add("lost_to", _("Name the competitor who won."))
    errors.raise_if_any()
    deal.closed_at = timezone.now()
    deal.lost_reason = reason
    deal.lost_note = note
    deal.lost_to = competitor
    _record_move(
        actor,
        deal,
        target,
        ["closed_at", "lost_reason", "lost_note", "lost_to"],
        {
            "lost_reason": ["", deal.get_lost_reason_display()],
            **({"lost_to": ["", str(competitor)]} if competitor else {}),
        },
    )
    return deal


def _win(actor: User, deal: Deal, target: Stage) -> Deal:
    if deal.value <= 0:
        raise ApplicationError(_("A won deal needs its value: add products or enter the value."))
    deal.closed_at = timezone.now()
    deal.likelihood = Likelihood.A
    _record_move(actor, deal, target, ["closed_at", "likelihood"], {})
    deal_hand_over(actor=actor, deal=deal)
    return deal


def deal_win(*, actor: User, deal: Deal | int, version: int | None = None) -> Deal:
    """Move the deal to the won stage (playbooks apply) and hand it over."""
    return deal_move_stage(
        actor=actor, deal=deal, stage=stage_of_kind(StageKind.WON), version=version
    )


def deal_lose(
    *,
    actor: User,
    deal: Deal | int,
    reason: str,
    note: str = "",
    lost_to: Account | int | None = None,
    version: int | None = None,
) -> Deal:
    """Move the deal to the lost stage with the reason and, if one won, the competitor."""
    return deal_move_stage(
        actor=actor,
        deal=deal,
        stage=stage_of_kind(StageKind.LOST),
        version=version,
        lost_reason=reason,
        lost_note=note,
        lost_to=lost_to,
    )


def deal_hand_over(*, actor: User, deal: Deal) -> None:
    """The explicit hand-over of a won deal to the apps below: each is called here in turn.

    Today: referral rewards whose trigger is the referred account's first won deal; contracts
    will add their call here — explicit calls, not signals (ARCHITECTURE rule 4). The order is
    not made here: winning a deal is not yet the customer's purchase order, so the account
    manager takes it from the deal page when it comes (``deal_orders.order_from_deal``).
    """
    from tokui.pipeline import referrals

    deal.handed_over_at = timezone.now()
    deal.save(update_fields=["handed_over_at"])
    referrals.referral_rewards_on_deal_won(deal=deal, actor=actor)
    _audit(actor, "pipeline.deal.handed_over", deal, note=deal.title)


# -- needs and objections -----------------------------------------------------------------------


def _clean_text(field: str, value: Any, *, required_message: str) -> str:
    text = str(value or "").replace("\r\n", "\n").strip()
    if not text:
        raise ApplicationError(required_message, field=field)
    if len(text) > TEXT_LIMIT:
        raise ApplicationError(
            _("At most %(limit)d characters.") % {"limit": TEXT_LIMIT}, field=field
        )
    return text


@transaction.atomic
def deal_need_add(
    *,
    actor: User,
    deal: Deal | int,
    text: str,
    line: ProductLine | int | None = None,
    important: bool = False,
) -> DealNeed:
    """Record a need the customer expressed, optionally tied to one of our product lines."""
    deal = _locked_deal(actor, deal)
    text = _clean_text("text", text, required_message=_("Describe the need."))
    product_line = None
    if line not in (None, ""):
        try:
            line_id = _id(line)
        except (TypeError, ValueError):
            line_id = -1
        product_line = ProductLine.objects.filter(pk=line_id or -1).first()
        if product_line is None:
            raise ApplicationError(_("Choose a product line from the list."), field="line")
    need = DealNeed.objects.create(
        deal=deal, text=text, line=product_line, important=bool(important), recorded_by=actor
    )
    _touch(deal, [])
    _audit(actor, "pipeline.deal.need_added", deal, {"need": ["", text[:200]]}, note=deal.title)
    return need


@transaction.atomic
def deal_need_delete(*, actor: User, need: DealNeed | int) -> None:
    need_id = need if isinstance(need, int) else need.pk
    found = DealNeed.objects.filter(pk=need_id).first()
    if found is None:
        raise NotFound(_("No such need."))
    deal = _locked_deal(actor, found.deal_id)
    found.delete()
    _touch(deal, [])
    _audit(
        actor, "pipeline.deal.need_removed", deal, {"need": [found.text[:200], ""]}, note=deal.title
    )


@transaction.atomic
def deal_objection_add(
    *, actor: User, deal: Deal | int, text: str, response: str = "", resolved: bool = False
) -> DealObjection:
    """Log an objection the customer raised and, when there is one, our answer."""
    deal = _locked_deal(actor, deal)
    text = _clean_text("text", text, required_message=_("Describe the objection."))
    response = str(response or "").replace("\r\n", "\n").strip()
    if len(response) > TEXT_LIMIT:
        raise ApplicationError(
            _("At most %(limit)d characters.") % {"limit": TEXT_LIMIT}, field="response"
        )
    objection = DealObjection.objects.create(
        deal=deal, text=text, response=response, resolved=bool(resolved), recorded_by=actor
    )
    _touch(deal, [])
    _audit(
        actor,
        "pipeline.deal.objection_added",
        deal,
        {"objection": ["", text[:200]]},
        note=deal.title,
    )
    return objection


@transaction.atomic
def deal_objection_update(
    *, actor: User, objection: DealObjection | int, response: str, resolved: bool
) -> DealObjection:
    objection_id = objection if isinstance(objection, int) else objection.pk
    found = DealObjection.objects.filter(pk=objection_id).first()
    if found is None:
        raise NotFound(_("No such objection."))
    deal = _locked_deal(actor, found.deal_id)
    response = str(response or "").replace("\r\n", "\n").strip()
    if len(response) > TEXT_LIMIT:
        raise ApplicationError(
            _("At most %(limit)d characters.") % {"limit": TEXT_LIMIT}, field="response"
        )
    before = snapshot(found, ["response", "resolved"])
    found.response = response
    found.resolved = bool(resolved)
    found.save(update_fields=["response", "resolved"])
    changes = diff(before, snapshot(found, ["response", "resolved"]))
    if changes:
        _touch(deal, [])
        _audit(actor, "pipeline.deal.objection_answered", deal, changes, note=deal.title)
    return found


@transaction.atomic
def deal_objection_delete(*, actor: User, objection: DealObjection | int) -> None:
    objection_id = objection if isinstance(objection, int) else objection.pk
    found = DealObjection.objects.filter(pk=objection_id).first()
    if found is None:
        raise NotFound(_("No such objection."))
    deal = _locked_deal(actor, found.deal_id)
    found.delete()
    _touch(deal, [])
    _audit(
        actor,
        "pipeline.deal.objection_removed",
        deal,
        {"objection": [found.text[:200], ""]},
        note=deal.title,
    )


def deal_lines_total(deal: Deal) -> Decimal:
    return deal.lines.aggregate(total=Sum("amount"))["total"] or Decimal(0)
