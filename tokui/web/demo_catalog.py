"""Demo catalog: the product line of a Japanese industrial supplier, on top of the demo book.

Five product lines (産業用ポンプ, バルブ, センサー, 保守部品 and 熱中症対策の飲料 at the reduced
8% rate), about thirty products with SKUs, units, JPY list prices and (confidential) costs, one
discontinued pump with its successor as substitute, two competitors' products compared with
ours (against the demo's competitor accounts), and the standard price list with quantity tiers.

Everything goes through the catalog services as the head of sales, so the demo has the audit
trail too. Deterministic and idempotent: nothing happens when the catalog has products.
"""

import datetime
from decimal import Decimal
from typing import Any, Protocol

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from tokui.accounts.constants import AccountKind
from tokui.accounts.models import Account
from tokui.catalog.attachments import product_attachment_add
from tokui.catalog.constants import ProductStatus, TaxCategory
from tokui.catalog.models import Product
from tokui.catalog.services import (
    competitor_product_save,
    price_list_create,
    price_list_set_items,
    product_create,
    product_line_create,
    product_update,
)
from tokui.users.models import User


class _Writer(Protocol):
    def write(self, s: str, /) -> object: ...


LINES = (
    (
        "PMP",
        "産業用ポンプ",
        "サンギョウヨウポンプ",
        "渦巻・ダイヤフラム・ギヤポンプ。工場の送液と循環に。",
    ),
    ("VLV", "バルブ", "バルブ", "ボール・バタフライ・電磁弁。配管の開閉と流量調整に。"),
    ("SNS", "センサー", "センサー", "圧力・流量・温度・液面の計測機器。IoT 監視にも対応。"),
    ("MNT", "保守部品", "ホシュブヒン", "メカニカルシール、パッキン、ダイヤフラムなどの交換部品。"),
    (
        "BEV",
        "熱中症対策飲料",
        "ネッチュウショウタイサクインリョウ",
        "現場の熱中症対策。軽減税率 8% の対象。",
    ),
)

# (line, sku, name, reading, unit, list price, cost, lead days, advantages)
PRODUCTS: tuple[tuple[str, str, str, str, str, int, int, int, str], ...] = (
    (
        "PMP",
        "PMP-100A",
        "渦巻ポンプ 100A",
        "ウズマキポンプ",
        "台",
        285000,
        171000,
        14,
        "高効率インペラで消費電力を従来比 18% 削減\n標準在庫品は 2 週間で出荷\n"
        "全国 24 拠点の保守網",
    ),
    (
        "PMP",
        "PMP-150A",
        "渦巻ポンプ 150A",
        "ウズマキポンプ",
        "台",
        398000,
        243000,
        21,
        "大流量ラインに最適\n既存 100A と据付寸法互換",
    ),
    (
        "PMP",
        "PMP-080S",
        "ステンレス渦巻ポンプ 80A",
        "ステンレスウズマキポンプ",
        "台",
        342000,
        205000,
        21,
        "SUS316 接液部で食品・薬液に対応\n衛生配管用ヘルール接続を選択可",
    ),
    (
        "PMP",
        "PMP-D25",
        "ダイヤフラムポンプ 25A",
        "ダイヤフラムポンプ",
        "台",
        168000,
        96000,
        10,
        "空運転・スラリーに強い\nエア駆動で防爆エリアにも設置可",
    ),
    (
        "PMP",
        "PMP-G10",
        "ギヤポンプ 10cc",
        "ギヤポンプ",
        "台",
        124000,
        70000,
        10,
        "高粘度液の定量移送\n脈動が少なく充填ラインに好適",
    ),
    (
        "PMP",
        "PMP-90A",
        "渦巻ポンプ 90A（旧型）",
        "ウズマキポンプ キュウガタ",
        "台",
        248000,
        160000,
        0,
        "2025 年度で生産終了。後継は PMP-100A",
    ),
    (
        "VLV",
        "VLV-B25",
        "ボールバルブ 25A",
        "ボールバルブ",
        "個",
        18500,
        9200,
        5,
        "フルボアで圧力損失が小さい\nロック付きハンドル標準装備",
    ),
    (
        "VLV",
        "VLV-B50",
        "ボールバルブ 50A",
        "ボールバルブ",
        "個",
        32800,
        16900,
        5,
        "フルボアで圧力損失が小さい\nロック付きハンドル標準装備",
    ),
    (
        "VLV",
        "VLV-F100",
        "バタフライバルブ 100A",
        "バタフライバルブ",
        "個",
        46000,
        24500,
        7,
        "軽量コンパクトで据付が容易\nEPDM シートで上水・温水に対応",
    ),
    (
        "VLV",
        "VLV-S15",
        "電磁弁 15A",
        "デンジベン",
        "個",
        21800,
        11800,
        5,
        "AC100V/DC24V 共用コイル\n消費電力 4.5W の省エネ設計",
    ),
    (
        "VLV",
        "VLV-E50",
        "電動ボールバルブ 50A",
        "デンドウボールバルブ",
        "個",
        128000,
        74000,
        14,
        "開度フィードバック付きで遠隔監視に対応\nIP67 の屋外仕様",
    ),
    (
        "VLV",
        "VLV-C25",
        "逆止弁 25A",
        "ギャクシベン",
        "個",
        9800,
        4700,
        5,
        "スイング式で圧損が小さい",
    ),
    (
        "SNS",
        "SNS-P10",
        "圧力センサー 1MPa",
        "アツリョクセンサー",
        "個",
        38000,
        17500,
        7,
        "精度 ±0.25%FS\n4-20mA と IO-Link 両対応",
    ),
    (
        "SNS",
        "SNS-F50",
        "電磁流量計 50A",
        "デンジリュウリョウケイ",
        "台",
        365000,
        212000,
        30,
        "可動部なしで保守不要\n積算値をクラウドへ送信可能",
    ),
    (
        "SNS",
        "SNS-T01",
        "温度センサー Pt100",
        "オンドセンサー",
        "個",
        14800,
        6100,
        5,
        "JIS クラス A 精度\nシース長 50〜500mm を選択可",
    ),
    (
        "SNS",
        "SNS-L20",
        "液面センサー 静電容量式",
        "エキメンセンサー",
        "個",
        52000,
        27000,
        10,
        "泡・付着に強い静電容量方式\nティーチング不要",
    ),
    (
        "SNS",
        "SNS-V01",
        "振動センサー（無線）",
        "シンドウセンサー ムセン",
        "個",
        68000,
        36000,
        14,
        "ポンプの異常を予兆検知\n電池寿命 5 年",
    ),
    (
        "SNS",
        "SNS-GW1",
        "IoT ゲートウェイ",
        "アイオーティーゲートウェイ",
        "台",
        148000,
        82000,
        14,
        "センサー 32 台まで接続\nLTE 内蔵で工事不要",
    ),
    (
        "MNT",
        "MNT-MS100",
        "メカニカルシール 100A 用",
        "メカニカルシール",
        "個",
        42000,
        18000,
        7,
        "純正品で漏れ保証 1 年",
    ),
    (
        "MNT",
        "MNT-MS150",
        "メカニカルシール 150A 用",
        "メカニカルシール",
        "個",
        56000,
        24000,
        7,
        "純正品で漏れ保証 1 年",
    ),
    (
        "MNT",
        "MNT-DP25",
        "ダイヤフラム交換キット 25A",
        "ダイヤフラムコウカンキット",
        "組",
        19800,
        7900,
        5,
        "PTFE 製で耐薬品性が高い",
    ),
    (
        "MNT",
        "MNT-GK50",
        "ガスケットセット 50A",
        "ガスケットセット",
        "箱",
        6800,
        2400,
        3,
        "10 枚入り",
    ),
    (
        "MNT",
        "MNT-BR01",
        "ベアリングユニット",
        "ベアリングユニット",
        "個",
        12500,
        5600,
        5,
        "グリース封入済みで即交換可",
    ),
    (
        "MNT",
        "MNT-OIL4",
        "ポンプ用潤滑油 4L",
        "ポンプヨウジュンカツユ",
        "本",
        7200,
        3300,
        3,
        "全機種共通グレード",
    ),
    (
        "MNT",
        "MNT-SV01",
        "定期点検サービス（1 台）",
        "テイキテンケンサービス",
        "式",
        45000,
        28000,
        14,
        "振動・電流・シール漏れを点検し報告書を提出",
    ),
    (
        "BEV",
        "BEV-OS500",
        "経口補水液 500ml（24 本入）",
        "ケイコウホスイエキ",
        "ケース",
        5400,
        3600,
        3,
        "現場の熱中症対策に\n常温で 2 年保存",
    ),
    (
        "BEV",
        "BEV-MW2L",
        "ミネラルウォーター 2L（6 本入）",
        "ミネラルウォーター",
        "ケース",
        1380,
        860,
        3,
        "備蓄・休憩所用",
    ),
    (
        "BEV",
        "BEV-ST500",
        "スポーツドリンク 500ml（24 本入）",
        "スポーツドリンク",
        "ケース",
        3980,
        2600,
        3,
        "塩分・糖分をバランスよく補給",
    ),
    (
        "BEV",
        "BEV-SL01",
        "塩タブレット（100 粒）",
        "シオタブレット",
        "箱",
        980,
        520,
        3,
        "作業中でも手軽に塩分補給",
    ),
)

# Quantity tiers of the standard list: (sku, [(from quantity, discount %)]).
TIERS = {
    "PMP-100A": ((1, 0), (3, 4), (10, 8)),
    "PMP-150A": ((1, 0), (3, 4), (10, 8)),
    "PMP-D25": ((1, 0), (5, 5)),
    "VLV-B25": ((1, 0), (10, 5), (50, 10), (100, 14)),
    "VLV-B50": ((1, 0), (10, 5), (50, 10)),
    "VLV-S15": ((1, 0), (20, 6), (100, 12)),
    "SNS-P10": ((1, 0), (10, 5), (30, 9)),
    "SNS-T01": ((1, 0), (20, 8)),
    "MNT-GK50": ((1, 0), (10, 5), (50, 10)),
    "MNT-OIL4": ((1, 0), (12, 6)),
    "BEV-OS500": ((1, 0), (10, 5), (50, 10)),
    "BEV-MW2L": ((1, 0), (20, 7)),
}


def _price(list_price: int, discount: int) -> Decimal:
    return Decimal(list_price * (100 - discount) // 100 // 10 * 10)


def demo_catalog(*, stdout: _Writer | None = None) -> None:
    """Create the demo catalog once; later calls leave it as it is."""

    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message + "\n")

    head = User.objects.filter(username="head").first()
    if head is None:
        say("Demo catalog: the demo user head is missing; load the demo first.")
        return
    if Product.objects.exists():
        say("Demo catalog: the catalog already has products; left as it is.")
        return
    with transaction.atomic():
        lines = {}
        for order, (code, name, kana, description) in enumerate(LINES, start=1):
            lines[code] = product_line_create(
                actor=head,
                data={
                    "name": name,
                    "name_kana": kana,
                    "description": description,
                    "sort_order": order * 10,
                },
            )
        products: dict[str, Product] = {}
        for line, sku, name, kana, unit, price, cost, days, advantages in PRODUCTS:
            data: dict[str, Any] = {
                "sku": sku,
                "name": name,
                "name_kana": kana,
                "line": lines[line],
                "unit": unit,
                "list_price": Decimal(price),
                "cost": Decimal(cost),
                "lead_time_days": days,
                "advantages": advantages,
                "tax_category": TaxCategory.REDUCED if line == "BEV" else TaxCategory.STANDARD,
            }
            if sku == "SNS-F50":
                data["availability_note"] = "受注生産。口径 100A 以上は要相談"
            if sku == "VLV-E50":
                data.update(
                    status=ProductStatus.UNAVAILABLE,
                    availability_note="半導体部品の入荷待ち。次回入荷は 3 週間後の見込み",
                )
            products[sku] = product_create(actor=head, data=data)
        product_update(
            actor=head,
            product=products["PMP-90A"],
            data={
                "status": ProductStatus.DISCONTINUED,
                "lead_time_days": None,
                "availability_note": "在庫限り。後継機 PMP-100A をご提案ください",
                "substitutes": [products["PMP-100A"]],
            },
        )
        product_update(
            actor=head,
            product=products["VLV-E50"],
            data={"substitutes": [products["VLV-B50"]]},
        )
        competitors = list(
            Account.objects.filter(
                kind=AccountKind.COMPETITOR, archived_at__isnull=True, merged_into__isnull=True
            ).order_by("pk")[:2]
        )
        rivals = (
            (
                "KP-100 汎用渦巻ポンプ",
                Decimal(259000),
                "価格は約 1 割安いが、消費電力が大きく 3 年で逆転する。"
                "保守拠点が少なく納期は 4〜6 週。",
                ["PMP-100A", "PMP-150A"],
            ),
            (
                "FS-50 電磁流量計",
                Decimal(348000),
                "本体価格はほぼ同等。クラウド連携は別売ゲートウェイが必要で、総額では当社が有利。",
                ["SNS-F50", "SNS-GW1"],
            ),
        )
        for account, (name, their_price, notes, skus) in zip(competitors, rivals, strict=False):
            competitor_product_save(
                actor=head,
                data={"competitor": account, "name": name, "price": their_price, "notes": notes},
                products=[products[s] for s in skus],
            )
        today = timezone.localdate()
        start = (
            datetime.date(today.year, 4, 1)
            if today.month >= 4
            else datetime.date(today.year - 1, 4, 1)
        )
        standard = price_list_create(
            actor=head,
            data={
                "name": f"標準価格表 {start.year}年度",
                "currency": "JPY",
                "valid_from": start,
                "valid_to": datetime.date(start.year + 1, 3, 31),
                "is_default": True,
                "notes": "数量割引を含む標準価格（税抜）。"
                "個別条件は契約ごとの価格で上書きされます。",
            },
        )
        list_prices = {sku: price for _l, sku, _n, _k, _u, price, *_rest in PRODUCTS}
        price_list_set_items(
            actor=head,
            price_list=standard,
            items=[
                {
                    "product": products[sku].pk,
                    "min_quantity": qty,
                    "unit_price": _price(list_prices[sku], discount),
                }
                for sku, tiers in TIERS.items()
                for qty, discount in tiers
            ],
        )
        promo = price_list_create(
            actor=head,
            data={
                "name": "期間限定 現場応援キャンペーン",
                "currency": "JPY",
                "valid_from": today - datetime.timedelta(days=10),
                "valid_to": today + datetime.timedelta(days=50),
                "is_default": False,
                "notes": "熱中症対策の飲料・塩タブレットを期間限定価格で。",
            },
        )
        price_list_set_items(
            actor=head,
            price_list=promo,
            items=[
                {"product": products["BEV-OS500"].pk, "min_quantity": 1, "unit_price": 4980},
                {"product": products["BEV-OS500"].pk, "min_quantity": 20, "unit_price": 4680},
                {"product": products["BEV-ST500"].pk, "min_quantity": 1, "unit_price": 3680},
                {"product": products["BEV-SL01"].pk, "min_quantity": 10, "unit_price": 880},
            ],
        )
        files = _demo_attachments(head=head, products=products)
    say(
        f"Demo catalog: {len(lines)} product lines, {len(products)} products, "
        f"{len(competitors)} competitors' products, 2 price lists, {files} product files."
    )


# Products that get a photo and a spec sheet: (sku, colour of the drawing, spec rows).
ATTACHED = (
    (
        "PMP-100A",
        (38, 79, 125),
        (("吐出量", "1.2 m³/min"), ("全揚程", "32 m"), ("電動機", "7.5 kW 4P")),
    ),
    (
        "PMP-080S",
        (31, 107, 67),
        (("接液部", "SUS316"), ("吐出量", "0.6 m³/min"), ("接続", "ヘルール")),
    ),
    (
        "SNS-F50",
        (154, 107, 0),
        (("口径", "50A"), ("精度", "±0.5% of rate"), ("出力", "4-20 mA / Modbus")),
    ),
)


def _demo_image(sku: str, colour: tuple[int, int, int]) -> bytes:
    """A product "photo": a simple drawing of a pump body on a plain background (PNG)."""
    import io

    from PIL import Image, ImageDraw, ImageFont  # WeasyPrint depends on Pillow

    image = Image.new("RGB", (480, 360), (244, 245, 247))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((60, 210, 420, 290), radius=12, fill=(120, 128, 138))
    draw.ellipse((150, 70, 310, 230), fill=colour, outline=(29, 38, 48), width=4)
    draw.ellipse((205, 125, 255, 175), fill=(232, 238, 246))
    draw.rectangle((300, 120, 400, 160), fill=colour, outline=(29, 38, 48), width=3)
    draw.rectangle((210, 30, 250, 80), fill=colour, outline=(29, 38, 48), width=3)
    draw.text((70, 300), sku, fill=(29, 38, 48), font=ImageFont.load_default(size=32))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _demo_spec_sheet(product: Product, rows: tuple[tuple[str, str], ...]) -> bytes:
    """A one-page spec sheet (仕様書) as a real PDF, rendered by WeasyPrint."""
    import logging

    from django.utils.html import escape
    from weasyprint import HTML

    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

    table = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    html = (
        '<html lang="ja"><head><style>@page { size: A4; margin: 18mm }'
        'body { font-family: "Noto Sans CJK JP", sans-serif; font-size: 11pt }'
        "th, td { border: 1px solid #999; padding: 4pt 8pt; text-align: left }"
        "table { border-collapse: collapse }</style></head><body>"
        f"<h1>{escape(product.sku)} {escape(product.name)} 仕様書</h1>"
        f"<p>{escape(product.advantages).replace(chr(10), '<br>')}</p>"
        f"<table>{table}</table><p>株式会社トクイ工業 技術部 発行</p></body></html>"
    )
    return HTML(string=html).write_pdf()


def _demo_attachments(*, head: User, products: dict[str, Product]) -> int:
    """A photo and a spec sheet for a few products, through the attachment service."""
    count = 0
    for sku, colour, rows in ATTACHED:
        product = products.get(sku)
        if product is None:
            continue
        uploads = (
            ("image", f"{sku}_外観.png", "外観写真", _demo_image(sku, colour), "image/png"),
            (
                "spec_sheet",
                f"{sku}_仕様書.pdf",
                "仕様書 第2版",
                _demo_spec_sheet(product, rows),
                "application/pdf",
            ),
        )
        for kind, name, title, content, content_type in uploads:
            product_attachment_add(
                actor=head,
                product=product,
                kind=kind,
                title=title,
                file=SimpleUploadedFile(name, content, content_type=content_type),
            )
            count += 1
    return count
