"""Demo interactions, on top of the demo customer book (``tokui.web.demo``).

Ninety days of a sales floor's contact with its customers: calls (in and out, with outcomes),
meetings and visits, e-mails, faxes, letters, chat messages and notes, in Japanese business
language (English for the foreign accounts). Key accounts get several a month, other clients
and partners a few, prospects one or two. Each is logged by the account's owner (sometimes a
colleague joins), through the interaction services like everything else, so the timeline and
the audit trail look as they would after real use. Dates are relative to today, so today and
this week always have something.

Deterministic (its own ``random.Random``) and idempotent: nothing is done when hand-logged
interactions are already there.
"""

import datetime
import random
from typing import Any, Protocol

from django.db import transaction
from django.utils import timezone

from tokui.accounts.constants import AccountKind, AccountTier
from tokui.accounts.models import Account, Contact
from tokui.activities.constants import InteractionSource
from tokui.activities.models import Interaction
from tokui.activities.services import interaction_create
from tokui.users.models import User

DEMO_INTERACTIONS_SEED = 20264
DAYS = 90


class _Writer(Protocol):
    def write(self, s: str, /) -> object: ...


# (kind, direction, subject, body, call outcome) — {name} is the contact's family name.
_JA: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "call",
        "out",
        "",
        "{name}様に来月分の発注予定を確認。数量は前月並み、納期は第2週希望。",
        "reached",
    ),
    ("call", "out", "", "{name}様不在。折り返しをお願いした。", "call_back"),
    (
        "call",
        "in",
        "",
        "{name}様より見積の単価について問い合わせ。**ロット1,000個以上**で再見積を約束。",
        "reached",
    ),
    ("call", "out", "", "留守番電話に新製品サンプルの件を残した。", "voicemail"),
    ("call", "in", "", "納品遅延の連絡あり。配送業者の事情で1日遅れ。先方了承済み。", "reached"),
    ("call", "out", "", "年末の挨拶回りの日程調整。", "no_answer"),
    (
        "meeting",
        "",
        "定例打合せ（月次）",
        "- 前月実績の振り返り\n- 来期の価格改定案を説明\n- 次回：見積書を持参",
        "",
    ),
    (
        "meeting",
        "",
        "新製品のご紹介",
        "{name}様ほか2名。**省エネ型モデル**に関心。デモ機の貸出を検討いただく。",
        "",
    ),
    (
        "meeting",
        "",
        "来期の取引条件について",
        "値引き率の見直し要望あり（2%）。社内で検討し、来週回答する。",
        "",
    ),
    (
        "visit",
        "",
        "工場見学",
        "生産ラインを見学。品質管理の体制について説明を受けた。\n> 不良率は0.1%未満とのこと",
        "",
    ),
    ("visit", "", "ご挨拶訪問", "担当者交代のご挨拶。{name}様に後任を紹介。", ""),
    (
        "email",
        "out",
        "お見積書送付の件",
        "{name}様\n\nいつもお世話になっております。\nご依頼のお見積書を添付いたします。\nご確認のほどよろしくお願いいたします。",
        "",
    ),
    (
        "email",
        "in",
        "Re: 納期のご確認",
        "ご連絡ありがとうございます。\n納期の件、承知いたしました。\n引き続きよろしくお願いいたします。",
        "",
    ),
    ("fax", "in", "注文書（FAX）", "注文書を受領。品番A-120 ×300、希望納期は月末。", ""),
    ("fax", "out", "納品書控え送付", "納品書の控えをFAXで送付。", ""),
    ("letter", "out", "お礼状", "先日のご来社のお礼状を送付。", ""),
    (
        "letter",
        "in",
        "契約更新のご案内",
        "先方より契約更新の書面を受領。内容を法務に確認依頼。",
        "",
    ),
    (
        "chat",
        "in",
        "",
        "{name}様からチャット：明日の打合せを14時に変更できないか。→ 了承と返信。",
        "",
    ),
    (
        "note",
        "",
        "社内メモ",
        "競合A社が**10%安い**提案をしている模様。次回訪問で品質面の優位性を説明する。",
        "",
    ),
    ("note", "", "", "決裁者は{name}部長。稟議は毎月第3週に回る。", ""),
)
_EN: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "call",
        "out",
        "",
        "Called {name} about the Q3 forecast. Volumes flat; wants delivery in week 2.",
        "reached",
    ),
    (
        "call",
        "in",
        "",
        "{name} asked about lead times for the new model. Promised an answer by Friday.",
        "reached",
    ),
    ("call", "out", "", "Left a voicemail about the sample shipment.", "voicemail"),
    (
        "meeting",
        "",
        "Quarterly business review",
        "- Review of last quarter\n- **Price increase** from April explained\n"
        "- Next: send revised quote",
        "",
    ),
    (
        "email",
        "out",
        "Quotation for your review",
        "Dear {name},\n\nPlease find our quotation attached.\n\nBest regards",
        "",
    ),
    ("email", "in", "Re: Shipping schedule", "Thanks, the schedule works for us.", ""),
    (
        "note",
        "",
        "Internal note",
        "Decision maker is {name}. Budget approved in April each year.",
        "",
    ),
)
_MODES = ("on_site", "online", "our_office")


def _per_account(rng: random.Random, account: Account) -> int:
    if account.tier == AccountTier.KEY:
        return rng.randint(8, 14)
    if account.kind in (AccountKind.CLIENT, AccountKind.PARTNER):
        return rng.randint(2, 5)
    if account.kind == AccountKind.PROSPECT:
        return rng.randint(0, 2)
    return rng.randint(0, 1)


def _when(rng: random.Random, now: datetime.datetime, *, recent: bool) -> datetime.datetime:
    """A working hour on a weekday in the last 90 days (today, earlier, when ``recent``)."""
    local = timezone.localtime(now)
    for _attempt in range(20):
        days = 0 if recent else rng.randint(1, DAYS)
        day = local - datetime.timedelta(days=days)
        if day.weekday() >= 5 and not recent:
            continue
        moment = day.replace(hour=rng.randint(9, 18), minute=rng.choice((0, 10, 15, 30, 45, 50)))
        if moment <= local:
            return moment.replace(second=0, microsecond=0)
    return (local - datetime.timedelta(hours=1)).replace(second=0, microsecond=0)


def demo_interactions(*, stdout: _Writer | None = None) -> None:
    """Log ninety days of interactions for the demo accounts; idempotent."""

    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message + "\n")

    if Interaction.objects.filter(source=InteractionSource.MANUAL).exists():
        say("Demo interactions: already there.")
        return
    users = list(User.objects.filter(is_active=True).order_by("username"))
    if not users:
        say("Demo interactions: no users; load the demo first.")
        return
    rng = random.Random(DEMO_INTERACTIONS_SEED)
    now = timezone.now()
    made = 0
    with transaction.atomic():
        accounts = list(
            Account.objects.filter(archived_at__isnull=True, merged_into__isnull=True)
            .select_related("owner", "owner__team")
            .order_by("pk")
        )
        contacts: dict[int, list[Contact]] = {}
        for contact in Contact.objects.filter(archived_at__isnull=True).order_by("pk"):
            contacts.setdefault(contact.account_id, []).append(contact)
        recent_left = 6  # a few logged today, so "today" has content
        for account in accounts:
            people = contacts.get(account.pk, [])
            english = account.name.isascii()
            library = _EN if english else _JA
            team = [
                u for u in users if account.owner.team_id and u.team_id == account.owner.team_id
            ]
            for _n in range(_per_account(rng, account)):
                kind, direction, subject, body, outcome = rng.choice(library)
                contact = rng.choice(people) if people else None
                name = (
                    contact.family_name if contact else ("ご担当者" if not english else "the buyer")
                )
                recent = account.tier == AccountTier.KEY and recent_left > 0 and rng.random() < 0.3
                if recent:
                    recent_left -= 1
                data: dict[str, Any] = {
                    "kind": kind,
                    "direction": direction,
                    "subject": subject,
                    "body": body.format(name=name),
                    "occurred_at": _when(rng, now, recent=recent),
                    "contacts": [contact] if contact and kind != "note" else [],
                }
                if kind == "call":
                    data["outcome"] = outcome
                    data["duration_seconds"] = (
                        rng.randint(2, 25) * 60 + rng.randint(0, 59)
                        if outcome == "reached"
                        else None
                    )
                if kind in ("meeting", "visit"):
                    data["meeting_mode"] = "on_site" if kind == "visit" else rng.choice(_MODES)
                    if data["meeting_mode"] != "online":
                        data["location"] = (
                            "Head office" if english else f"{account.city or '本社'} 会議室"
                        )
                    colleagues = [u for u in team if u.pk != account.owner_id]
                    if colleagues and rng.random() < 0.4:
                        data["participants"] = [account.owner, rng.choice(colleagues)]
                    if people and len(people) > 1 and rng.random() < 0.5:
                        data["contacts"] = rng.sample(people, 2)
                interaction_create(actor=account.owner, account=account, data=data)
                made += 1
    say(f"Demo interactions: {made} logged over the last {DAYS} days.")
