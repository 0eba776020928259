"""Demo quotes (見積書), on top of the demo book, catalog, agreements and authority limits.

Our company's profile (株式会社得意商事, with a valid registration number) and quotes for kam's
clients in every status: a draft, one ready to send, one sent, one accepted, one declined (with
the customer's reason), one withdrawn, one revised (the first version kept as superseded, the
revision ready to send), and one waiting for the head of sales' approval (25% off a pump, beyond
a KAM's 15%). When demo deals exist, two of kam's deals get their quote through the deal bridge.

Everything goes through the quote services as kam, so histories and timelines show it. Dated
today; idempotent: nothing is added once these quotes exist.
"""

from decimal import Decimal
from typing import Any, Protocol

from django.db import transaction

from tokui.accounts.models import Account
from tokui.catalog.constants import ProductStatus
from tokui.catalog.models import Product
from tokui.core.exceptions import ApplicationError
from tokui.core.japanese import corporate_number_check_digit
from tokui.orders.company import company_profile_update
from tokui.orders.models import CompanyProfile, Quote
from tokui.orders.quotes import (
    quote_accept,
    quote_create,
    quote_decline,
    quote_issue,
    quote_mark_sent,
    quote_revise,
    quote_withdraw,
)
from tokui.pipeline.deal_quotes import deal_quote_create
from tokui.pipeline.models import Deal
from tokui.users.models import User


class _Writer(Protocol):
    def write(self, s: str, /) -> object: ...


def _registration_number() -> str:
    body = "010401012345"  # 東京法務局 style body; the check digit makes it valid
    return f"T{corporate_number_check_digit(body)}{body}"


COMPANY = {
    "name": "株式会社得意商事",
    "name_en": "Tokui Shoji Co., Ltd.",
    "postal_code": "1000005",
    "address": "東京都千代田区丸の内1-6-5 丸の内北口ビル 12F",
    "address_en": "12F Marunouchi Kitaguchi Bldg., 1-6-5 Marunouchi, Chiyoda-ku, Tokyo",
    "phone": "03-6268-0123",
    "fax": "03-6268-0124",
    "email": "sales@tokui-demo.example",
    "bank_account": "みずほ銀行 丸の内支店 普通 1234567 カ）トクイショウジ",
    "quote_validity_days": 30,
}

# (subject, [(sku, quantity, offered price or None)], what happens, extra)
PLANS: tuple[tuple[str, list[tuple[str, int, int | None]], str, dict[str, Any]], ...] = (
    ("第2工場 冷却水ポンプ更新", [("PMP-100A", 2, None), ("SNS-P10", 4, None)], "draft", {}),
    ("ボイラー給水ポンプ 予備機", [("PMP-150A", 1, None)], "approved", {}),
    ("空調設備 ポンプ・センサー一式", [("PMP-D25", 3, None), ("SNS-F50", 2, None)], "sent",
     {"delivery_terms": "受注後3週間・貴社第1工場納入"}),
    ("排水処理設備 ポンプ入替", [("PMP-080S", 2, None)], "accepted", {}),
    ("井水ポンプ 更新提案", [("PMP-G10", 1, None)], "declined", {}),
    ("冷温水ポンプ 年間交換分", [("PMP-100A", 4, None)], "revised", {"era_dates": True}),
    ("新ライン 大型ポンプ導入", [("PMP-150A", 5, None)], "awaiting", {}),
    ("Spare pumps for the Osaka plant", [("PMP-100A", 1, None)], "withdrawn",
     {"language": "en"}),
)  # fmt: skip


def _lines(
    plan: list[tuple[str, int, int | None]], products: dict[str, Product]
) -> list[dict[str, Any]]:
    rows = []
    for sku, quantity, offered in plan:
        product = products.get(sku)
        if product is None:
            continue
        row: dict[str, Any] = {"product": product.pk, "quantity": quantity}
        if offered is not None:
            row["unit_price"] = Decimal(offered)
        rows.append(row)
    return rows


def demo_quotes(*, stdout: _Writer | None = None) -> None:
    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message + "\n")

    admin = User.objects.filter(username="admin").first()
    kam = User.objects.filter(username="kam").first()
    if admin is not None and not CompanyProfile.objects.exists():
        company_profile_update(
            actor=admin, data={**COMPANY, "registration_number": _registration_number()}
        )
    # The deals demo may have quoted some deals already: ours are known by their subjects.
    if kam is None or Quote.objects.filter(title__in=[plan[0] for plan in PLANS]).exists():
        return
    products = {
        p.sku: p
        for p in Product.objects.filter(currency="JPY").exclude(status=ProductStatus.DISCONTINUED)
    }
    if not products:
        say("Demo quotes: load the demo catalog first.")
        return
    accounts = list(
        Account.objects.filter(owner=kam, archived_at=None, contacts__isnull=False)
        .distinct()
        .order_by("pk")[: len(PLANS)]
    )
    if not accounts:
        return
    with transaction.atomic():
        for index, (title, plan, outcome, extra) in enumerate(PLANS):
            account = accounts[index % len(accounts)]
            contact = account.contacts.filter(archived_at=None).order_by("pk").first()
            lines = _lines(plan, products)
            if outcome == "awaiting" and lines:
                # 25% off the list price: beyond a KAM's 15%, so the head of sales decides.
                product = products[plan[0][0]]
                lines[0]["unit_price"] = (product.list_price * Decimal("0.75")).quantize(Decimal(1))
            if not lines:
                continue
            try:
                with transaction.atomic():
                    _play(kam, account, contact, title, lines, outcome, extra)
            except ApplicationError as exc:
                say(f"Demo quotes: “{title}” skipped: {exc.message}")
        linked = _deal_quotes(kam)
    say(f"Demo quotes: {Quote.objects.count()} quotes ({linked} from deals), our company profile.")


def _play(
    kam: User,
    account: Account,
    contact: Any,
    title: str,
    lines: list[dict[str, Any]],
    outcome: str,
    extra: dict[str, Any],
) -> None:
    """Make one quote and take it to ``outcome`` through the services."""
    quote = quote_create(
        actor=kam,
        account=account,
        contact=contact,
        title=title,
        lines=lines,
        notes="本見積の有効期限内にご発注いただいた場合、上記価格にて納入いたします。"
        if extra.get("language") != "en"
        else "Prices are valid for orders placed within the validity period.",
        **extra,
    )
    if outcome == "draft":
        return
    quote = quote_issue(
        actor=kam,
        quote=quote,
        reason="競合他社が同等品を20%引きで提示。年間保守契約の獲得を優先します。"
        if outcome == "awaiting"
        else "",
    )
    if outcome in ("approved", "awaiting"):
        return
    if outcome == "withdrawn":
        quote_withdraw(actor=kam, quote=quote, reason="先方の計画延期により取り下げ")
        return
    quote = quote_mark_sent(actor=kam, quote=quote)
    if outcome == "accepted":
        quote_accept(actor=kam, quote=quote)
    elif outcome == "declined":
        quote_decline(
            actor=kam,
            quote=quote,
            reason="予算の都合で来期に見送り。価格は他社と同等との評価。",
        )
    elif outcome == "revised":
        revised = quote_revise(actor=kam, quote=quote)
        quote_issue(actor=kam, quote=revised)


def _deal_quotes(kam: User) -> int:
    """Quotes for two of kam's open deals with lines, through the deal bridge."""
    made = 0
    quoted = Quote.objects.filter(regarding_id__isnull=False).values("regarding_id")
    deals = (
        Deal.objects.filter(owner=kam, closed_at=None, lines__isnull=False)
        .exclude(pk__in=quoted)
        .distinct()
    )
    for deal in deals.order_by("pk")[:2]:
        try:
            with transaction.atomic():
                quote = deal_quote_create(actor=kam, deal=deal)
                if made == 0:
                    quote_issue(actor=kam, quote=quote)
        except ApplicationError:
            continue  # a deal this demo cannot quote (e.g. beyond authority): leave it
        made += 1
    return made
