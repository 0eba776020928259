"""Demo deals (商談) for kam, am and head, on their demo clients and prospects.

About thirty deals (28) spread over every stage of the work cycle, each built the way a person
would: opened through ``deal_create``, then stage by stage — the contact chosen, an appointment
booked for the deal, a meeting logged, needs recorded, products priced by the engine through
``deal_set_lines``, objections logged and answered, a quote issued for the deal — and moved with
``deal_move_stage`` only once the playbook is met. A few are won (this month and last) and a
few lost, with the reason and the competitor who won. The history is then spread over the
weeks the deal took, so the account and deal pages read like real work.

Deterministic and idempotent: nothing happens when deals exist already. Call after the catalog
and pricing demos (products and agreements) and before the quote and referral demos.
"""

import contextlib
import datetime
import random
from decimal import Decimal
from typing import Protocol

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from tokui.accounts.constants import AccountKind
from tokui.accounts.models import Account
from tokui.activities.appointments import appointment_book
from tokui.activities.constants import AppointmentStatus
from tokui.activities.models import Appointment
from tokui.activities.services import interaction_create
from tokui.catalog.constants import ProductStatus
from tokui.catalog.models import Product, ProductLine
from tokui.core.exceptions import ApplicationError
from tokui.core.models import AuditEvent
from tokui.orders.models import Quote
from tokui.orders.quotes import quote_create, quote_issue
from tokui.pipeline.constants import LostReason, Requirement, StageKind
from tokui.pipeline.models import Deal, DealStageChange, PlaybookStep, Stage
from tokui.pipeline.services import (
    deal_create,
    deal_lose,
    deal_move_stage,
    deal_need_add,
    deal_objection_add,
    deal_set_lines,
    deal_step_set,
    deal_update,
    deal_win,
)
from tokui.users.models import User

DEMO_DEALS_SEED = 20260611
USERS = ("kam", "am", "head")

# Where each demo deal ends: stage key → how many.
PLAN = (
    ("first_contact", 3),
    ("appointment", 3),
    ("meeting", 3),
    ("needs", 3),
    ("presentation", 3),
    ("objections", 3),
    ("contract", 3),
    ("won", 4),
    ("lost", 3),
)

TITLES = (
    "第{n}工場 送液ポンプ更新",
    "冷却水ライン 省エネ改修",
    "{year}年度 保守部品 年間契約",
    "排水処理設備 バルブ交換",
    "IoT 監視センサー 導入",
    "新工場 配管設備一式",
    "老朽ポンプ 計画更新",
    "洗浄ライン 増設",
    "薬液移送ポンプ 切替",
    "流量計 更新（{n}ライン）",
    "ボイラー周り 計装見直し",
    "定期点検 部品手配",
)
MEETING_NOTES = "設備の稼働状況と更新時期、決裁の流れを確認。次回は提案内容を説明。"
SOURCES = ("call", "meeting", "campaign", "exhibition", "inbound", "referral", "existing")
NEEDS = (
    ("停止時間を最小限にして更新したい", "PMP"),
    ("電力コストを年間1割下げたい", "PMP"),
    ("漏れの多いバルブをまとめて交換したい", "VLV"),
    ("遠隔で圧力と流量を監視したい", "SNS"),
    ("保守部品の在庫を減らしたい", "MNT"),
    ("納期を3か月以内にしたい", None),
)
OBJECTIONS = (
    ("他社見積より1割高い", "5年間の電力・保守を含めた総コストで比較資料を提示", True),
    ("現行機との互換性が不安", "現地調査のうえ配管アダプタを無償で用意", True),
    ("稟議が年度末までに通るか分からない", "", False),
    ("納期が長い", "標準在庫品への置き換えで6週間に短縮", True),
)
LOST_NOTES = (
    ("price", "最終的に価格差が埋まらなかった。次回更新時に再提案。"),
    ("competitor", "競合が大幅値引きで受注。保守対応で差別化を継続。"),
    ("timing", "設備投資が来期に延期。半年後に再訪問する。"),
)


class _Writer(Protocol):
    def write(self, s: str, /) -> object: ...


def _local(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))


class _Builder:
    """Walks one deal through the cycle, meeting each stage's playbook as a person would."""

    def __init__(self, rng: random.Random, products: list[Product], lines: dict[str, ProductLine]):
        self.rng = rng
        self.products = products
        self.lines = lines
        self.stages = list(Stage.objects.filter(active=True).order_by("position", "pk"))
        self.steps: dict[int, list[PlaybookStep]] = {}
        for step in PlaybookStep.objects.order_by("position", "pk"):
            self.steps.setdefault(step.stage_id, []).append(step)

    def open_stages(self) -> list[Stage]:
        return [s for s in self.stages if s.kind == StageKind.OPEN]

    def meet(self, user: User, deal: Deal, stage: Stage) -> Deal:
        """Do what the stage's playbook asks, and a few of its optional steps."""
        for step in self.steps.get(stage.pk, []):
            if not step.required and self.rng.random() < 0.7:
                continue
            deal = self._do(user, deal, step)
        return deal

    def _do(self, user: User, deal: Deal, step: PlaybookStep) -> Deal:
        rng = self.rng
        match step.requirement:
            case Requirement.MANUAL:
                deal_step_set(actor=user, deal=deal, step=step, done=True)
            case Requirement.CONTACT:
                if deal.contact_id is None:
                    contact = deal.account.contacts.filter(archived_at=None).order_by("pk").first()
                    if contact is not None:
                        deal_update(actor=user, deal=deal, data={"contact": contact.pk})
            case Requirement.APPOINTMENT:
                ahead = timezone.localtime() + datetime.timedelta(days=rng.randint(2, 12))
                starts = ahead.replace(hour=rng.choice((10, 14, 15)), minute=0, second=0)
                appointment_book(
                    actor=user,
                    account=deal.account,
                    data={
                        "kind": "meeting",
                        "title": f"{deal.title} 打ち合わせ",
                        "starts_at": starts,
                        "ends_at": starts + datetime.timedelta(hours=1),
                        "mode": "on_site",
                        "contacts": [deal.contact_id] if deal.contact_id else [],
                    },
                    allow_conflicts=True,
                    regarding=deal,
                )
            case Requirement.MEETING:
                # In office hours, days ago (the demo may load at night).
                held = (timezone.localtime() - datetime.timedelta(days=rng.randint(3, 20))).replace(
                    hour=rng.choice((10, 13, 16)), minute=0, second=0, microsecond=0
                )
                interaction_create(
                    actor=user,
                    account=deal.account,
                    data={
                        "kind": "meeting",
                        "occurred_at": held,
                        "subject": f"{deal.title}：現状ヒアリング",
                        "body": MEETING_NOTES,
                        "contacts": [deal.contact_id] if deal.contact_id else [],
                    },
                    regarding=deal,
                )
                # The appointment booked for the deal took place.
                Appointment.objects.filter(
                    regarding_id=deal.pk, regarding_type=ContentType.objects.get_for_model(Deal)
                ).update(
                    starts_at=held,
                    ends_at=held + datetime.timedelta(hours=1),
                    status=AppointmentStatus.HELD,
                )
            case Requirement.NEEDS:
                for text, code in rng.sample(NEEDS, k=rng.randint(1, 2)):
                    line = self.lines.get(code) if code else None
                    deal_need_add(
                        actor=user, deal=deal, text=text, line=line, important=rng.random() < 0.4
                    )
            case Requirement.CLOSE_DATE:
                if deal.expected_close is None:
                    close = timezone.localdate() + datetime.timedelta(days=rng.randint(20, 140))
                    deal_update(actor=user, deal=deal, data={"expected_close": close})
            case Requirement.PRODUCTS | Requirement.VALUE:
                if not deal.lines.exists():
                    picks = rng.sample(self.products, k=min(len(self.products), rng.randint(1, 3)))
                    deal_set_lines(
                        actor=user,
                        deal=deal,
                        lines=[{"product": p.pk, "quantity": rng.choice((1, 2, 3, 5, 10))}
                               for p in picks],
                    )  # fmt: skip
            case Requirement.OBJECTIONS:
                for text, answer, resolved in rng.sample(OBJECTIONS, k=rng.randint(1, 2)):
                    deal_objection_add(
                        actor=user, deal=deal, text=text, response=answer, resolved=resolved
                    )
            case Requirement.QUOTE:
                self._quote(user, deal)
        return Deal.objects.select_related("stage", "account").get(pk=deal.pk)

    def _quote(self, user: User, deal: Deal) -> None:
        # One quote per deal: the objections and the contract checklists both ask for one.
        if Quote.objects.filter(
            regarding_type=ContentType.objects.get_for_model(Deal), regarding_id=deal.pk
        ).exists():
            return
        lines = [{"product": line.product_id, "quantity": line.quantity}
                 for line in deal.lines.all() if line.product_id]  # fmt: skip
        if not lines:
            return
        try:
            quote = quote_create(
                actor=user,
                account=deal.account,
                contact=deal.contact_id,
                title=deal.title,
                lines=lines,
                regarding=deal,
            )
            quote_issue(actor=user, quote=quote)
        except ApplicationError:
            pass  # e.g. beyond the owner's authority: the quote waits for approval

    def move(self, user: User, deal: Deal, stage: Stage) -> Deal:
        deal = deal_move_stage(actor=user, deal=deal, stage=stage)
        return Deal.objects.select_related("stage", "account").get(pk=deal.pk)


def _accounts(users: list[User]) -> list[tuple[User, Account]]:
    pairs: list[tuple[User, Account]] = []
    for user in users:
        for account in (
            Account.objects.filter(
                owner=user,
                archived_at__isnull=True,
                merged_into__isnull=True,
                kind__in=(AccountKind.CLIENT, AccountKind.PROSPECT),
                contacts__isnull=False,
            )
            .distinct()
            .order_by("-tier", "pk")[:14]
        ):
            pairs.append((user, account))
    return pairs


def _spread_history(deal: Deal, *, started: datetime.datetime, ended: datetime.datetime) -> None:
    """Spread the deal's audit events and stage changes between ``started`` and ``ended``."""
    events = list(
        AuditEvent.objects.filter(target_type="pipeline.deal", target_id=str(deal.pk)).order_by(
            "id"
        )
    )
    changes = list(DealStageChange.objects.filter(deal=deal).order_by("pk"))
    span = (ended - started) / max(len(events) - 1, 1)
    moves = iter(changes[1:])
    when = started
    for index, event in enumerate(events):
        when = started + span * index
        AuditEvent.objects.filter(pk=event.pk).update(at=when)
        if event.action == "pipeline.deal.stage_changed":
            change = next(moves, None)
            if change is not None:
                DealStageChange.objects.filter(pk=change.pk).update(at=when)
    if changes:
        DealStageChange.objects.filter(pk=changes[0].pk).update(at=started)
    Deal.objects.filter(pk=deal.pk).update(created_at=started, stage_entered_at=when)
    if deal.closed_at is not None:
        Deal.objects.filter(pk=deal.pk).update(closed_at=ended)


def demo_deals(*, stdout: _Writer | None = None) -> None:
    """Deals in every stage for the demo sales users; once."""

    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message + "\n")

    users = [u for name in USERS if (u := User.objects.filter(username=name).first())]
    if not users:
        say("Demo deals: the demo users are missing; load the demo first.")
        return
    if Deal.objects.exists():
        say("Demo deals: already there.")
        return
    products = list(
        Product.objects.filter(status=ProductStatus.ACTIVE, currency="JPY").order_by("sku")
    )
    if not products:
        say("Demo deals: load the demo catalog first.")
        return
    lines = {p.sku.split("-")[0]: p.line for p in products if p.line_id}
    rng = random.Random(DEMO_DEALS_SEED)
    builder = _Builder(rng, products, lines)
    pairs = _accounts(users)
    if not pairs:
        say("Demo deals: no demo clients with contacts.")
        return
    by_key = {s.key: s for s in builder.stages}
    competitors = list(
        Account.objects.filter(kind=AccountKind.COMPETITOR, archived_at__isnull=True).order_by("pk")
    )
    today = timezone.localdate()
    now = timezone.now()
    created = 0
    targets = [key for key, count in PLAN for _ in range(count) if key in by_key]
    with transaction.atomic():
        for number, target_key in enumerate(targets):
            user, account = pairs[(number * 5) % len(pairs)]
            target = by_key[target_key]
            opens = builder.open_stages()
            title = rng.choice(TITLES).format(n=rng.randint(1, 3), year=today.year)
            late = target.kind == StageKind.OPEN and number % 7 == 3
            close = today + datetime.timedelta(
                days=-rng.randint(4, 25) if late else rng.randint(10, 150)
            )
            position = (
                [s.pk for s in opens].index(target.pk) if target.kind == StageKind.OPEN else 0
            )
            likelihood = "A" if position >= 5 else ("B" if position >= 2 else "C")
            if rng.random() < 0.25:
                likelihood = rng.choice("ABC")
            deal = deal_create(
                actor=user,
                account=account,
                data={
                    "title": title,
                    "value": Decimal(rng.randrange(8, 120) * 100_000),
                    "expected_close": close,
                    "source": rng.choice(SOURCES),
                    "likelihood": likelihood,
                },
            )
            deal = Deal.objects.select_related("stage", "account").get(pk=deal.pk)
            stop = target if target.kind == StageKind.OPEN else None
            # The lost ones fall somewhere along the way; the won ones pass every stage.
            if target.kind == StageKind.LOST:
                stop = opens[min(number % 5 + 1, len(opens) - 1)]
            for stage in opens:
                if stop is not None and stage.pk == stop.pk:
                    break
                deal = builder.meet(user, deal, stage)
                following = opens[opens.index(stage) + 1] if stage != opens[-1] else None
                try:
                    if following is None:
                        break
                    deal = builder.move(user, deal, following)
                except ApplicationError:
                    break  # a step could not be met (e.g. a quote awaiting approval)
            if target.kind == StageKind.WON:
                deal = builder.meet(user, deal, deal.stage)
                with contextlib.suppress(ApplicationError):
                    deal_win(actor=user, deal=deal)
            elif target.kind == StageKind.LOST:
                reason, note = LOST_NOTES[number % len(LOST_NOTES)]
                rival = competitors[number % len(competitors)] if competitors else None
                if reason == LostReason.COMPETITOR and rival is None:
                    reason = LostReason.PRICE
                deal_lose(
                    actor=user,
                    deal=deal,
                    reason=reason,
                    note=note,
                    lost_to=rival if reason == LostReason.COMPETITOR else None,
                )
            deal = Deal.objects.get(pk=deal.pk)
            weeks = 1 + position + (6 if target.kind != StageKind.OPEN else 0)
            started = now - datetime.timedelta(days=7 * weeks + rng.randint(0, 6))
            ended = now - datetime.timedelta(hours=rng.randint(2, 60))
            if deal.closed_at is not None:
                # Won and lost this month and last.
                ended = now - datetime.timedelta(days=(number % 2) * 30 + rng.randint(1, 12))
                started = min(started, ended - datetime.timedelta(days=40))
            _spread_history(deal, started=started, ended=ended)
            created += 1
    won = Deal.objects.filter(stage__kind=StageKind.WON).count()
    lost = Deal.objects.filter(stage__kind=StageKind.LOST).count()
    say(f"Demo deals: {created} deals ({won} won, {lost} lost).")
