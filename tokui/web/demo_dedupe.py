"""Demo duplicates: the same companies typed twice, the way it happens in a real customer book.

Someone writes 山田商会(株) where the book has 山田商会株式会社, a foreign customer is entered as
"Contoso Co.,Ltd." next to "Contoso Co., Ltd.", a company is typed in katakana with its own
website, and a head office is entered again with a contact whose e-mail address is already on
file. All of them are owned in kam's team, so kam sees them on the duplicates page.

Everything goes through ``account_create`` and ``contact_create``; calling it again changes
nothing (each duplicate is recognised by its name).
"""

from typing import Any, Protocol

from django.db import transaction
from django.db.models import Q

from tokui.accounts.models import Account, Contact
from tokui.accounts.services import account_create, contact_create
from tokui.core.japanese import format_phone, split_legal_form
from tokui.users.models import User


class _Writer(Protocol):
    def write(self, s: str, /) -> object: ...


def _current(owner_ids: list[int]) -> Any:
    return Account.objects.filter(
        owner_id__in=owner_ids, archived_at__isnull=True, merged_into__isnull=True
    ).order_by("id")


def _plan(kam: User, team: list[User]) -> list[dict[str, Any]]:
    """What to create: ``(owner, account data, contacts)``, derived from kam's own accounts."""
    plans: list[dict[str, Any]] = []
    kam_accounts = _current([kam.pk]).exclude(name__startswith="Contoso ")
    used: list[int] = []  # one duplicate per original
    # 1. The legal form abbreviated and moved: 山田商会株式会社 → 山田商会(株).
    source = (
        kam_accounts.filter(name__contains="山田商事").exclude(phone="").first()
        or kam_accounts.filter(name__contains="山田").exclude(phone="").first()
        or kam_accounts.filter(name__startswith="株式会社").exclude(phone="").first()
    )
    if source is not None:
        used.append(source.pk)
        _form, _position, core = split_legal_form(source.name)
        plans.append(
            {
                "owner": team[0],
                "data": {
                    "name": f"{core}(株)",
                    "name_kana": source.name_kana,
                    "kind": "prospect",
                    "phone": format_phone(source.phone),
                    "prefecture": source.prefecture,
                    "city": source.city,
                    "notes": "展示会の名刺から登録。",
                },
                "contacts": [
                    {
                        "family_name": "高木",
                        "given_name": "彩",
                        "family_name_kana": "タカギ",
                        "given_name_kana": "アヤ",
                        "department": "購買部",
                        "title": "担当",
                    }
                ],
            }
        )
    # 2. A foreign customer typed twice, with and without a space in "Co., Ltd.".
    contoso = {
        "name_kana": "コントソ",
        "kind": "client",
        "industry": "Wholesale trade",
        "phone": "03-6850-4411",
        "postal_code": "105-0011",
        "city": "港区",
        "prefecture": "東京都",
        "street": "芝公園2-4-1",
    }
    plans.append(
        {
            "owner": kam,
            "data": {
                **contoso,
                "name": "Contoso Co., Ltd.",
                "website": "https://www.contoso.example",
            },
            "contacts": [
                {
                    "family_name": "Smith",
                    "given_name": "Emma",
                    "title": "Purchasing Manager",
                    "email": "emma.smith@contoso.example",
                }
            ],
        }
    )
    plans.append(
        {
            "owner": team[0],
            "data": {
                **contoso,
                "name": "Contoso Co.,Ltd.",
                "website": "contoso.example/ja/",
                "kind": "prospect",
            },
            "contacts": [
                {
                    "family_name": "Brown",
                    "given_name": "Oliver",
                    "title": "Operations Manager",
                    "email": "oliver.brown@contoso.example",
                }
            ],
        }
    )
    # 3. The same company typed in katakana, found through its website.
    source = (
        kam_accounts.exclude(website="")
        .exclude(name_kana="")
        .exclude(pk__in=used)
        .filter(name__startswith="株式会社")
        .first()
    )
    if source is not None:
        used.append(source.pk)
        plans.append(
            {
                "owner": team[0],
                "data": {
                    "name": source.name_kana,
                    "name_kana": source.name_kana,
                    "kind": "prospect",
                    "website": f"http://{source.web_domain}/company/",
                },
                "contacts": [
                    {
                        "family_name": "小野",
                        "given_name": "直樹",
                        "family_name_kana": "オノ",
                        "given_name_kana": "ナオキ",
                        "department": "総務部",
                        "title": "課長",
                    }
                ],
            }
        )
    # 4. The head office entered again, with a contact already on file.
    contact = (
        Contact.objects.filter(
            account__in=kam_accounts.exclude(website="")
            .exclude(pk__in=used)
            .filter(Q(name__contains="株式会社") | Q(name__contains="有限会社"))
        )
        .exclude(email="")
        .select_related("account")
        .order_by("account_id", "id")
        .first()
    )
    if contact is not None:
        _form, _position, core = split_legal_form(contact.account.name)
        plans.append(
            {
                "owner": team[0],
                "data": {"name": f"{core} 本社", "kind": "prospect"},
                "contacts": [
                    {
                        "family_name": contact.family_name,
                        "given_name": contact.given_name,
                        "family_name_kana": contact.family_name_kana,
                        "given_name_kana": contact.given_name_kana,
                        "title": contact.title,
                        "email": contact.email,
                    }
                ],
            }
        )
    return plans


def demo_duplicates(*, stdout: _Writer | None = None) -> None:
    """Add a few duplicate accounts in kam's team to a loaded demo; a second call adds nothing."""

    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message + "\n")

    kam = User.objects.filter(username="kam", is_active=True).first()
    if kam is None:
        say("Demo duplicates: no user kam (load the demo first); nothing added.")
        return
    team = [
        u for u in User.objects.filter(username="am", is_active=True) if u.team_id == kam.team_id
    ]
    team = team or [kam]
    created = 0
    with transaction.atomic():
        for plan in _plan(kam, team):
            data = plan["data"]
            if Account.objects.filter(name=data["name"]).exists():
                continue
            owner: User = plan["owner"]
            account = account_create(actor=owner, data={**data, "owner": owner})
            for person in plan["contacts"]:
                contact_create(actor=owner, account=account, data=person)
            created += 1
    if created:
        say(f"Demo duplicates: {created} duplicate accounts added for the duplicates page.")
    else:
        say("Demo duplicates: already there (nothing changed).")
