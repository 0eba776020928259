"""A large, realistic-looking book for benchmarks: ``tokui seed --scale N``.

N accounts and 3·N contacts, spread over a team of owners, written with ``bulk_create`` (derived
fields computed by the same functions the services use), without audit events. Not demo data:
never run it on a database people work in.
"""

import random
from typing import TextIO

from django.db import transaction

from tokui.accounts.models import Account, Contact
from tokui.accounts.services import account_derive_fields, contact_derive_fields
from tokui.core.japanese import corporate_number_check_digit
from tokui.users.constants import Role
from tokui.users.models import Team, User

PREFIXES = [
    ("山田", "ヤマダ", "yamada"),
    ("東洋", "トウヨウ", "toyo"),
    ("大和", "ダイワ", "daiwa"),
    ("北斗", "ホクト", "hokuto"),
    ("富士", "フジ", "fuji"),
    ("朝日", "アサヒ", "asahi"),
    ("三和", "サンワ", "sanwa"),
    ("中央", "チュウオウ", "chuo"),
    ("光和", "コウワ", "kowa"),
    ("平和", "ヘイワ", "heiwa"),
    ("青葉", "アオバ", "aoba"),
    ("石川", "イシカワ", "ishikawa"),
    ("高橋", "タカハシ", "takahashi"),
    ("菱和", "リョウワ", "ryowa"),
    ("日進", "ニッシン", "nisshin"),
    ("丸和", "マルワ", "maruwa"),
    ("新星", "シンセイ", "shinsei"),
    ("太陽", "タイヨウ", "taiyo"),
]
CORES = [
    ("商事", "ショウジ", "shoji"),
    ("工業", "コウギョウ", "kogyo"),
    ("精機", "セイキ", "seiki"),
    ("物産", "ブッサン", "bussan"),
    ("電機", "デンキ", "denki"),
    ("化学", "カガク", "kagaku"),
    ("製作所", "セイサクショ", "seisakusho"),
    ("産業", "サンギョウ", "sangyo"),
    ("食品", "ショクヒン", "shokuhin"),
    ("運輸", "ウンユ", "unyu"),
    ("建設", "ケンセツ", "kensetsu"),
]
LATIN = ["Northwind", "Contoso", "Fabrikam", "Adatum", "Litware", "Tailspin", "Woodgrove", "Lamna"]
FAMILY = [
    ("佐藤", "サトウ", "sato"),
    ("鈴木", "スズキ", "suzuki"),
    ("高橋", "タカハシ", "takahashi"),
    ("田中", "タナカ", "tanaka"),
    ("伊藤", "イトウ", "ito"),
    ("渡辺", "ワタナベ", "watanabe"),
    ("山本", "ヤマモト", "yamamoto"),
    ("中村", "ナカムラ", "nakamura"),
    ("小林", "コバヤシ", "kobayashi"),
]
GIVEN = [
    ("太郎", "タロウ", "taro"),
    ("花子", "ハナコ", "hanako"),
    ("健一", "ケンイチ", "kenichi"),
    ("美咲", "ミサキ", "misaki"),
    ("翔太", "ショウタ", "shota"),
    ("陽子", "ヨウコ", "yoko"),
]
PLACES = [
    ("東京都", "千代田区", "1000005", "03"),
    ("大阪府", "大阪市北区", "5300001", "06"),
    ("愛知県", "名古屋市中区", "4600008", "052"),
    ("福岡県", "福岡市博多区", "8120011", "092"),
    ("北海道", "札幌市中央区", "0600001", "011"),
    ("神奈川県", "横浜市西区", "2200011", "045"),
]


def _phone(rng: random.Random, area: str) -> str:
    digits = 10 - len(area)
    rest = f"{rng.randrange(2 * 10 ** (digits - 1), 10**digits)}"
    return f"+81{area[1:]}{rest}"


def seed(*, scale: int, stdout: TextIO | None = None, batch: int = 5000) -> dict[str, int]:
    rng = random.Random(scale)
    east, _ = Team.objects.get_or_create(name="Bench East")
    west, _ = Team.objects.get_or_create(name="Bench West")
    owners = []
    for i in range(12):
        user, _ = User.objects.get_or_create(
            username=f"bench{i}",
            defaults={"role": Role.KAM if i % 3 == 0 else Role.AM, "team": east if i < 4 else west},
        )
        owners.append(user)
    start = Account.objects.count()
    accounts: list[Account] = []
    for n in range(start, start + scale):
        if rng.random() < 0.1:
            brand = rng.choice(LATIN)
            name, kana, slug = f"{brand} {n} Co., Ltd.", "", f"{brand.lower()}{n}"
        else:
            p, c = rng.choice(PREFIXES), rng.choice(CORES)
            form = rng.choice(["株式会社{}", "{}株式会社", "有限会社{}"])
            name, kana, slug = (
                form.format(f"{p[0]}{c[0]}{n}"),
                f"{p[1]}{c[1]}",
                f"{p[2]}-{c[2]}-{n}",
            )
        pref, city, postal, area = rng.choice(PLACES)
        body = f"{n + 10**11:012d}"
        account = Account(
            name=name,
            name_kana=kana,
            owner=rng.choice(owners),
            kind=rng.choice(["client", "client", "prospect", "partner", "contractor"]),
            tier="key" if rng.random() < 0.08 else "standard",
            industry=rng.choice(["製造業", "卸売業", "小売業", "建設業", "情報通信業"]),
            employees=rng.randrange(5, 5000),
            corporate_number=f"{corporate_number_check_digit(body)}{body}",
            website=f"https://www.{slug}.example",
            phone=_phone(rng, area),
            postal_code=postal,
            prefecture=pref,
            city=city,
        )
        account_derive_fields(account)
        accounts.append(account)
        if len(accounts) >= batch:
            _flush(accounts, rng, stdout)
            accounts = []
    _flush(accounts, rng, stdout)
    return {"accounts": Account.objects.count(), "contacts": Contact.objects.count()}


def _flush(accounts: list[Account], rng: random.Random, stdout: TextIO | None) -> None:
    if not accounts:
        return
    with transaction.atomic():
        created = Account.objects.bulk_create(accounts)
        contacts = []
        for account in created:
            domain = account.web_domain
            for k in range(3):
                family, given = rng.choice(FAMILY), rng.choice(GIVEN)
                contact = Contact(
                    account=account,
                    family_name=family[0],
                    given_name=given[0],
                    family_name_kana=family[1],
                    given_name_kana=given[1],
                    email=f"{given[2]}.{family[2]}{k}@{domain}",
                    phone=account.phone,
                    department="購買部",
                    title=rng.choice(["部長", "課長", "担当"]),
                )
                contact_derive_fields(contact)
                contacts.append(contact)
        Contact.objects.bulk_create(contacts, batch_size=2000)
    if stdout:
        stdout.write(f"  {Account.objects.count()} accounts…\n")
