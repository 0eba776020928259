"""Demo daily reports (日報), on top of the demo users and customer book (``tokui.web.demo``).

Each team gets its manager (東日本営業部: kam, 西日本営業部: sato) when it has none. Each sales
person gets a submitted report for every working day of the last two weeks (Japanese
holidays excluded) with the comments people really write, about their own accounts; about
half of those the manager has read, some with a comment back. kam and am have a draft for
today, so "my report" always has something to show.

Written straight to the tables (not through the services): the services would e-mail every
manager about two weeks of old reports. Deterministic (its own ``random.Random``) and
idempotent: a person's report for a day is never created twice.
"""

import datetime
import random
from typing import Protocol

from django.db import transaction
from django.utils import timezone

from tokui.accounts.models import Account
from tokui.activities.constants import ReportStatus
from tokui.activities.daily_reports import working_days
from tokui.activities.models import DailyReport, DailyReportComment
from tokui.users.models import Team, User

DEMO_REPORTS_SEED = 20264
TEAM_MANAGERS = {"東日本営業部": "kam", "西日本営業部": "sato"}
WRITERS = ("kam", "am", "ito", "sato", "suzuki", "tanaka")
TODAY_DRAFTS = ("kam", "am")

_OPENINGS = (
    "{a}様を訪問。{b}",
    "午前中は{a}様と定例ミーティング。{b}",
    "{a}様へ電話で進捗確認。{b}",
    "{a}様の購買部と打ち合わせ。{b}",
    "{a}様にオンラインで新製品を紹介。{b}",
)
_MIDDLES = (
    "来期の発注計画をヒアリングし、第2四半期に増量の可能性ありとのこと。",
    "価格改定（3%値上げ）の件は持ち帰り検討、来週回答をもらう予定。",
    "納期短縮の要望あり。工場と調整して金曜までに回答する。",
    "競合からの相見積もりが出ている様子。条件面の再提案が必要。",
    "担当者が異動とのことで、後任の方をご紹介いただいた。",
    "サンプル評価は概ね好評。正式見積の依頼を受けた。",
    "前回のクレーム対応について感謝の言葉をいただいた。",
)
_AFTERNOONS = (
    "午後は{c}様の見積書を作成し送付。",
    "午後は{c}様へ新規アポの架電、来週火曜に訪問決定。",
    "午後は社内で提案書の作成。{c}様向けの資料はほぼ完成。",
    "{c}様から問い合わせの電話、在庫状況を回答済み。",
    "午後は展示会の来場者リストへフォロー架電（5件中2件つながる）。",
)
_CLOSINGS = (
    "",
    "明日は{c}様の契約書回収に伺います。",
    "課題：見積の承認に時間がかかっているので、部長の判断を仰ぎたいです。",
    "経費精算を済ませました。",
    "来週の出張の件、ご承認をお願いします。",
)
_MANAGER_COMMENTS = (
    "お疲れさまです。価格の件、先方の予算感を先に確認しておいてください。",
    "良い進捗ですね。正式見積は私も目を通すので、送付前に共有をお願いします。",
    "競合の条件がわかれば教えてください。一緒に対策を考えましょう。",
    "後任の方には一度私からもご挨拶に伺います。日程調整をお願いします。",
    "了解です。引き続きよろしくお願いします。",
    "出張の件、承認しました。",
)
_TODAY_DRAFT = "{a}様を訪問予定。訪問後に追記します。"


class _Writer(Protocol):
    def write(self, s: str, /) -> object: ...


def _summary(rng: random.Random, names: list[str]) -> str:
    a, c = rng.sample(names, 2) if len(names) >= 2 else (names[0], names[0])
    parts = [
        rng.choice(_OPENINGS).format(a=a, b=rng.choice(_MIDDLES)),
        rng.choice(_AFTERNOONS).format(c=c),
        rng.choice(_CLOSINGS).format(c=c),
    ]
    return "\n".join(p for p in parts if p)


def _short(name: str) -> str:
    for form in ("株式会社", "有限会社", "合同会社"):
        name = name.replace(form, "")
    return name.strip() or name


def _at(day: datetime.date, hour: int, minute: int) -> datetime.datetime:
    tz = timezone.get_current_timezone()
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=tz)


def demo_reports(*, stdout: _Writer | None = None) -> dict[str, int]:
    """Load the demo reports; returns how many reports and comments this call created."""
    rng = random.Random(DEMO_REPORTS_SEED)
    today = timezone.localdate()
    days = [d for d in working_days(today - datetime.timedelta(days=14), today) if d < today]
    created = comments = 0
    with transaction.atomic():
        users = {u.username: u for u in User.objects.filter(username__in=WRITERS)}
        for team_name, username in TEAM_MANAGERS.items():
            manager = User.objects.filter(username=username).first()
            if manager is not None:
                Team.objects.filter(name=team_name, manager__isnull=True).update(manager=manager)
        managers = {t.pk: t.manager for t in Team.objects.select_related("manager") if t.manager_id}
        head = User.objects.filter(username="head").first()
        for username in WRITERS:
            user = users.get(username)
            if user is None:
                continue
            names = [
                _short(n)
                for n in Account.objects.filter(owner=user, archived_at__isnull=True)
                .order_by("sort_key")
                .values_list("name", flat=True)[:40]
            ] or ["山田商事"]
            reader = managers.get(user.team_id)
            if reader is None or reader.pk == user.pk:
                reader = head
            have = set(DailyReport.objects.filter(user=user).values_list("day", flat=True))
            for day in days:
                # One generator per person and day, so a second run decides the same way.
                rng = random.Random(f"{DEMO_REPORTS_SEED}-{username}-{day.isoformat()}")
                if day in have or rng.random() < 0.08:  # now and then someone forgets
                    continue
                submitted = _at(day, rng.randint(17, 19), rng.randint(0, 59))
                report = DailyReport(
                    user=user,
                    day=day,
                    summary=_summary(rng, names),
                    status=ReportStatus.SUBMITTED,
                    submitted_at=submitted,
                    created_at=submitted,
                    updated_at=submitted,
                )
                # The older ones the manager has read; the last days wait for them.
                if reader is not None and (today - day).days > 3 and rng.random() < 0.75:
                    report.status = ReportStatus.REVIEWED
                    report.reviewed_by = reader
                    report.reviewed_at = submitted + datetime.timedelta(hours=rng.randint(13, 16))
                report.save()
                created += 1
                if report.reviewed_by is not None and rng.random() < 0.45:
                    DailyReportComment.objects.create(
                        report=report,
                        author=report.reviewed_by,
                        body=rng.choice(_MANAGER_COMMENTS),
                        created_at=report.reviewed_at,
                    )
                    comments += 1
            if username in TODAY_DRAFTS and today not in have:
                DailyReport.objects.create(
                    user=user, day=today, summary=_TODAY_DRAFT.format(a=rng.choice(names))
                )
                created += 1
    if stdout is not None:
        stdout.write(f"Demo: {created} daily reports, {comments} manager comments.\n")
    return {"reports": created, "comments": comments}
