"""Demo mail, on top of the demo customer book (``tokui.web.demo``).

E-mail templates in Japanese and English (アポイントのお礼, ご提案書送付, 新製品のご案内 …),
a thread of sent and received mails on two of kam's key accounts (the last reply arrived this
morning), and two mailboxes — kam's own and the shared 営業窓口 — configured but inactive,
pointing at a host that does not exist, so an administrator sees how a mailbox looks.

Idempotent: templates and mailboxes by name, mails by their Message-ID.
"""

import datetime
from typing import Protocol

from django.db import transaction
from django.utils import timezone

from tokui.accounts.constants import AccountTier
from tokui.accounts.models import Account, Contact
from tokui.activities.constants import Direction, InteractionKind, InteractionSource
from tokui.activities.mail.outbound import DeliveryStatus
from tokui.activities.mail.templates import email_template_create, honorific_name
from tokui.activities.models import EmailTemplate, Interaction, Mailbox
from tokui.activities.services import interaction_record
from tokui.users.models import User


class _Writer(Protocol):
    def write(self, s: str, /) -> object: ...


TEMPLATES: tuple[tuple[str, str, str, str], ...] = (
    (
        "アポイントのお礼",
        "ja",
        "本日はお時間をいただきありがとうございました（{account_name}様）",
        "{account_name}\n{department}\n{honorific_name}\n\n"
        "いつも大変お世話になっております。{sender_name}でございます。\n\n"
        "本日はご多忙のところお時間をいただき、誠にありがとうございました。\n"
        "お打ち合わせでいただいたご要望をもとに、改めてご提案をお送りいたします。\n\n"
        "引き続きどうぞよろしくお願い申し上げます。\n\n{sender_name}",
    ),
    (
        "ご提案書送付",
        "ja",
        "【ご提案書送付】{account_name}様",
        "{account_name}\n{honorific_name}\n\n"
        "いつもお世話になっております。{sender_name}です。\n\n"
        "先日お話しした件につきまして、ご提案書を添付にてお送りいたします。\n"
        "ご不明な点がございましたら、お気軽にお問い合わせください。\n\n"
        "何卒よろしくお願いいたします。\n\n{sender_name}",
    ),
    (
        "新製品のご案内",
        "ja",
        "新製品のご案内",
        "{account_name}\n{honorific_name}\n\n"
        "平素より格別のお引き立てを賜り、厚く御礼申し上げます。\n"
        "このたび弊社では新製品を発売いたしましたので、ご案内申し上げます。\n"
        "詳しい資料をお持ちしてご説明に伺えれば幸いです。\n\n{sender_name}",
    ),
    (
        "Thank you for the meeting",
        "en",
        "Thank you for your time today",
        "Dear {honorific_name},\n\n"
        "Thank you for meeting us today. As agreed, we will send you our proposal "
        "for {account_name} by the end of the week.\n\nBest regards,\n{sender_name}",
    ),
    (
        "Proposal",
        "en",
        "Our proposal for {account_name}",
        "Dear {honorific_name},\n\nPlease find our proposal attached. "
        "I would be glad to walk you through it.\n\nBest regards,\n{sender_name}",
    ),
)

MAILBOXES = (
    {
        "name": "営業窓口（共有）",
        "address": "sales@tokui-demo.example",
        "shared": True,
        "owner": "head",
        "username": "sales@tokui-demo.example",
    },
    {
        "name": "kam",
        "address": "kam@tokui-demo.example",
        "shared": False,
        "owner": "kam",
        "username": "kam@tokui-demo.example",
    },
)


def _thread(*, user: User, contact: Contact) -> list[tuple[str, int, str, str]]:
    """(direction, hours ago, subject, body) of a short proposal thread."""
    name = honorific_name(contact, "ja")
    company = contact.account.name
    return [
        (
            Direction.OUTBOUND,
            96,
            f"【ご提案書送付】{company}様",
            f"{company}\n{name}\n\nいつもお世話になっております。{user}です。\n\n"
            "先日お話しした件につきまして、ご提案書をお送りいたします。\nご検討のほど、"
            f"よろしくお願いいたします。\n\n{user}",
        ),
        (
            Direction.INBOUND,
            72,
            f"Re: 【ご提案書送付】{company}様",
            f"{user}様\n\nお世話になっております。{contact.family_name}です。\n"
            "ご提案書を拝受しました。社内で検討のうえ、来週中にご連絡いたします。\n"
            "一点、納期について確認させてください。最短でいつ頃になりますでしょうか。",
        ),
        (
            Direction.OUTBOUND,
            48,
            f"Re: 【ご提案書送付】{company}様",
            f"{name}\n\nご確認ありがとうございます。\n"
            "納期はご発注から最短 3 週間を見込んでおります。\n\n"
            f"引き続きよろしくお願いいたします。\n{user}",
        ),
        (
            Direction.INBOUND,
            2,
            f"Re: 【ご提案書送付】{company}様",
            f"{user}様\n\n承知しました。ありがとうございます。\n"
            "来週の定例で社内決裁にかけます。結果は追ってご連絡いたします。",
        ),
    ]


def _mail_thread(*, user: User, contact: Contact) -> int:
    now = timezone.now()
    root = f"<demo-{contact.account_id}-1@tokui-demo.example>"
    created = 0
    previous = ""
    for n, (direction, hours, subject, body) in enumerate(
        _thread(user=user, contact=contact), start=1
    ):
        message_id = f"<demo-{contact.account_id}-{n}@tokui-demo.example>"
        previous_id, previous = previous, message_id
        if Interaction.objects.filter(message_id=message_id).exists():
            continue
        ours = f"{user} <{user.email}>"
        theirs = f"{contact.full_name} <{contact.email}>"
        outgoing = direction == Direction.OUTBOUND
        interaction_record(
            actor=user if outgoing else None,
            account=contact.account,
            kind=InteractionKind.EMAIL,
            source=InteractionSource.MAIL_OUT if outgoing else InteractionSource.MAIL_IN,
            data={
                "direction": direction,
                "occurred_at": now - datetime.timedelta(hours=hours),
                "subject": subject,
                "body": body,
                "contacts": [contact],
                "participants": [user],
                "email_from": ours if outgoing else theirs,
                "email_to": contact.email if outgoing else user.email,
                "in_reply_to": previous_id,
                "thread_key": root,
                "delivery_status": DeliveryStatus.SENT if outgoing else "",
            },
            message_id=message_id,
        )
        created += 1
    return created


def demo_mail(*, stdout: _Writer | None = None) -> None:
    """E-mail templates, two mail threads on kam's key accounts, two inactive mailboxes."""

    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message + "\n")

    users = {u.username: u for u in User.objects.filter(username__in=("kam", "head"))}
    if len(users) < 2:
        say("Demo mail: the demo users kam and head are missing; load the demo first.")
        return
    head, kam = users["head"], users["kam"]
    with transaction.atomic():
        templates = 0
        for name, language, subject, body in TEMPLATES:
            if not EmailTemplate.objects.filter(name=name).exists():
                email_template_create(
                    actor=head,
                    data={"name": name, "language": language, "subject": subject, "body": body},
                )
                templates += 1
        mailboxes = 0
        for spec in MAILBOXES:
            if not Mailbox.objects.filter(name=spec["name"]).exists():
                Mailbox.objects.create(
                    name=spec["name"],
                    address=spec["address"],
                    host="imap.tokui-demo.example",
                    port=993,
                    use_ssl=True,
                    username=spec["username"],
                    password="",
                    shared=spec["shared"],
                    owner=users[str(spec["owner"])],
                    active=False,
                )
                mailboxes += 1
        contacts = list(
            Contact.objects.filter(
                account__in=Account.objects.filter(
                    owner=kam, tier=AccountTier.KEY, archived_at=None
                ),
                archived_at=None,
            )
            .exclude(email="")
            .select_related("account")
            .order_by("account_id", "id")
        )
        mails = 0
        seen: set[int] = set()
        for contact in contacts:
            if contact.account_id in seen:
                continue
            seen.add(contact.account_id)
            mails += _mail_thread(user=kam, contact=contact)
            if len(seen) == 2:
                break
    say(f"Demo mail: {templates} templates, {mailboxes} mailboxes, {mails} mails in threads.")
