"""Demo appointments, tasks and calendar feeds, on top of the demo customer book.

For each salesperson: this week's and next week's appointments on their own accounts (phone
appointments and meetings, at the customer's, online or at our office), a cancelled one, held
ones in the past (logged on the timeline), and tasks overdue, due today, upcoming and done.
A few accounts were last called weeks ago, so "no contact for a while" has content. Every user
gets a calendar feed. Dates are relative to today, so "my day" always has content.

Deterministic (its own ``random.Random``) and idempotent: it does nothing when the demo users
already have appointments. Writes go through the services; past appointments are booked ahead
and then moved back (the services refuse booking the past, as they should).
"""

import datetime
import random
from typing import Protocol

from django.db import transaction
from django.utils import timezone

from tokui.accounts.models import Account
from tokui.activities.appointments import (
    appointment_book,
    appointment_cancel,
    appointment_mark_held,
)
from tokui.activities.calendar_feed import calendar_feed_get_or_create
from tokui.activities.constants import AppointmentKind, MeetingMode, TaskPriority
from tokui.activities.models import Appointment
from tokui.activities.services import interaction_create
from tokui.activities.task_services import task_complete, task_create
from tokui.core.models import AuditEvent
from tokui.users.models import User

DEMO_CALENDAR_SEED = 20264
SALES = ("kam", "am", "ito", "sato", "suzuki", "tanaka", "head")

MEETINGS = (
    "定例打合せ",
    "新製品のご提案",
    "価格改定のご説明",
    "年間契約の更新相談",
    "品質改善のご報告",
    "工場見学のご案内",
    "来期の販売計画すり合わせ",
    "新任ご担当者へのご挨拶",
)
CALLS = ("納期調整の電話", "見積内容の確認", "請求書の件でお電話", "サンプル送付の確認")
PLACES_ON_SITE = ("先方本社 会議室", "先方 第2工場", "先方 東京支店 応接室")
PLACES_OURS = ("当社 本社 3F 会議室A", "当社 大阪支店 商談室")
TASKS = (
    ("見積書を再提出する", TaskPriority.HIGH),
    ("議事録を共有する", TaskPriority.NORMAL),
    ("サンプルを手配する", TaskPriority.NORMAL),
    ("与信枠の見直しを依頼する", TaskPriority.URGENT),
    ("お礼状を送る", TaskPriority.LOW),
    ("価格表を更新して送付", TaskPriority.HIGH),
    ("次回訪問の日程を調整", TaskPriority.NORMAL),
)
CANCEL_REASONS = ("先方のご都合により延期", "担当者急病のため中止", "社内会議と重なったため再調整")


class _Writer(Protocol):
    def write(self, s: str, /) -> object: ...


def _shown(value: datetime.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _book(
    rng: random.Random,
    user: User,
    account: Account,
    starts: datetime.datetime,
    colleagues: list[User],
) -> Appointment:
    phone = rng.random() < 0.35
    contacts = list(account.contacts.filter(archived_at__isnull=True)[:2])
    if phone:
        data = {
            "kind": AppointmentKind.PHONE,
            "title": rng.choice(CALLS),
            "phone_number": account.phone or "",
            "mode": "",
        }
        length = datetime.timedelta(minutes=rng.choice((15, 30)))
    else:
        mode = rng.choice(
            (MeetingMode.ON_SITE, MeetingMode.ON_SITE, MeetingMode.ONLINE, MeetingMode.OUR_OFFICE)
        )
        data = {
            "kind": AppointmentKind.MEETING,
            "title": rng.choice(MEETINGS),
            "mode": mode,
            "place": rng.choice(PLACES_ON_SITE)
            if mode == MeetingMode.ON_SITE
            else (rng.choice(PLACES_OURS) if mode == MeetingMode.OUR_OFFICE else ""),
            "meeting_url": (
                f"https://teams.example.com/l/meetup/{rng.randrange(10**8):08d}"
                if mode == MeetingMode.ONLINE
                else ""
            ),
            "participants": rng.sample(colleagues, k=1)
            if colleagues and rng.random() < 0.3
            else [],
        }
        length = datetime.timedelta(minutes=rng.choice((60, 60, 90)))
    data.update(
        starts_at=starts,
        ends_at=starts + length,
        contacts=contacts[: rng.randint(1, 2)] if contacts else [],
        agenda="1. 前回の振り返り\n2. ご提案内容\n3. 次のステップ",
    )
    return appointment_book(actor=user, account=account, data=data, allow_conflicts=True)


def demo_calendar(*, stdout: _Writer | None = None) -> None:
    """Appointments, tasks and feeds for the demo users; idempotent."""

    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message + "\n")

    users = {u.username: u for u in User.objects.filter(username__in=SALES, is_active=True)}
    if "kam" not in users:
        say("Demo calendar: the demo users are missing; load the demo first.")
        return
    if Appointment.objects.filter(organizer__in=users.values()).exists():
        say("Demo calendar: already there.")
        return
    rng = random.Random(DEMO_CALENDAR_SEED)
    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    now = timezone.now()
    booked = held = tasks = 0
    with transaction.atomic():
        for username in SALES:
            user = users.get(username)
            if user is None:
                continue
            accounts = list(
                Account.objects.filter(
                    owner=user, archived_at__isnull=True, merged_into__isnull=True
                )
                .exclude(kind="competitor")
                .order_by("pk")[:40]
            )
            if not accounts:
                continue
            # A few accounts last heard from weeks ago: "no contact for a while" on my day.
            quiet = [a for a in accounts if a.tier == "key"][:2] + [
                a for a in accounts if a.tier != "key"
            ][:2]
            for account in quiet:
                days = rng.randint(20, 40) if account.tier == "key" else rng.randint(50, 80)
                interaction_create(
                    actor=user,
                    account=account,
                    data={
                        "kind": "call",
                        "direction": "out",
                        "occurred_at": now - datetime.timedelta(days=days),
                        "subject": "定期フォローの電話",
                        "outcome": "reached",
                    },
                )
            accounts = [a for a in accounts if a not in quiet] or accounts
            colleagues = [
                u for u in users.values() if u.pk != user.pk and u.team_id == user.team_id
            ]
            slots: list[datetime.datetime] = []
            for offset in range(14):  # this week and next, weekdays
                day = monday + datetime.timedelta(days=offset)
                if day.weekday() >= 5:
                    continue
                for hour in rng.sample((9, 10, 11, 13, 14, 15, 16, 17), k=rng.randint(1, 3)):
                    slots.append(_local(day, hour, rng.choice((0, 0, 30))))
            if username == "kam":  # the demo signs in as kam: today is always busy
                slots += [_local(today, 10), _local(today, 14), _local(today, 16, 30)]
            # Past meetings: the last three weeks, held.
            past = [
                _local(today - datetime.timedelta(days=d), rng.choice((10, 14, 15)))
                for d in rng.sample(range(1, 22), k=5)
            ]
            for starts in sorted(set(slots)) + past:
                account = rng.choice(accounts)
                ahead = starts
                in_past = starts < now
                if in_past:  # book ahead, then move back to when it took place
                    ahead = now + datetime.timedelta(days=1)
                appointment = _book(rng, user, account, ahead, colleagues)
                booked += 1
                if in_past:
                    length = appointment.ends_at - appointment.starts_at
                    Appointment.objects.filter(pk=appointment.pk).update(
                        starts_at=starts, ends_at=starts + length
                    )
                    appointment.refresh_from_db()
                    # The booking's history says what the booking was: a week before, for then.
                    AuditEvent.objects.filter(
                        action="activities.appointment.booked", target_id=str(appointment.pk)
                    ).update(
                        at=starts - datetime.timedelta(days=7),
                        changes={
                            "starts_at": [None, _shown(appointment.starts_at)],
                            "ends_at": [None, _shown(appointment.ends_at)],
                        },
                    )
                    if starts.date() < today or username != "kam":
                        appointment_mark_held(
                            actor=user,
                            appointment=appointment,
                            record_interaction=True,
                            notes="先方より前向きなご回答。次回までに見積を更新する。",
                        )
                        held += 1
            # One cancelled meeting after today, so today's stay on "my day" whatever the hour.
            upcoming = list(
                Appointment.objects.filter(
                    organizer=user, starts_at__gte=_local(today + datetime.timedelta(days=1), 0)
                ).order_by("starts_at")
            )
            if len(upcoming) > 2:
                appointment_cancel(
                    actor=user, appointment=upcoming[1], reason=rng.choice(CANCEL_REASONS)
                )
            # Tasks: overdue, due today, upcoming, done.
            dues = [
                now - datetime.timedelta(days=2),
                now - datetime.timedelta(hours=3),
                _local(today, 17),
                _local(today, 18, 30),
                now + datetime.timedelta(days=3),
                now + datetime.timedelta(days=8),
                None,
            ]
            for (title, priority), due in zip(rng.sample(TASKS, k=len(TASKS)), dues, strict=True):
                account = rng.choice(accounts)
                data = {"title": title, "priority": priority, "account": account}
                if due is not None:
                    data["due_at"] = due
                    if due > now:
                        data["remind_at"] = due - datetime.timedelta(hours=2)
                task = task_create(actor=user, data=data)
                tasks += 1
                if title == "お礼状を送る":
                    task_complete(actor=user, task=task)
        for user in User.objects.filter(is_active=True):
            calendar_feed_get_or_create(actor=user, user=user)
    say(f"Demo calendar: {booked} appointments ({held} held), {tasks} tasks.")
