"""Demo data: the customer book of a made-up Japanese B2B supplier.

A demo, a screenshot or a usability test is only convincing when the data looks like what a
sales team really keeps: 株式会社 before and after the name, kana readings for 50音順,
法人番号 with valid check digits, 03- and 06- numbers, fax numbers, a few foreign customers and
a few competitors. Everything goes through the account services, so the demo also has the audit
trail (and history panels) that real use would leave behind.

The data is generated from ``random.Random(2026)``: two loads into empty databases are the
same, which keeps screenshots and bug reports about the demo reproducible.
"""

import random
import re
import time
from dataclasses import dataclass
from typing import Any, Protocol

import phonenumbers
from django.db import transaction

from tokui.accounts.constants import AccountKind, AccountTier
from tokui.accounts.models import Account, Contact
from tokui.accounts.services import (
    account_archive,
    account_create,
    account_update,
    contact_create,
)
from tokui.core.japanese import corporate_number_check_digit
from tokui.core.models import AuditEvent
from tokui.users.constants import Role
from tokui.users.models import Team, User

DEMO_PASSWORD = "demo-tokui"
DEMO_SEED = 2026
# Past this the name parts below run out of plausible, unique company names.
MAX_ACCOUNTS = 1000

TEAM_EAST = "東日本営業部"
TEAM_WEST = "西日本営業部"


_LEGAL_FORMS = re.compile(r"株式会社|有限会社|合同会社|一般社団法人")


class _Writer(Protocol):
    def write(self, s: str, /) -> object: ...


@dataclass(frozen=True)
class _DemoUser:
    username: str
    role: str
    team: str | None
    last_name: str
    first_name: str
    display_name: str


# The five role users the docs and tests sign in as, then the rest of the sales floor.
DEMO_USERS = (
    _DemoUser("admin", Role.ADMIN, None, "管理者", "Admin", "管理者 Admin"),
    _DemoUser("head", Role.HEAD, None, "本田", "誠", "部長 本田 誠"),
    _DemoUser("kam", Role.KAM, TEAM_EAST, "上野", "敬子", "上野 敬子"),
    _DemoUser("am", Role.AM, TEAM_EAST, "安藤", "翔太", "安藤 翔太"),
    _DemoUser("support", Role.SUPPORT, None, "佐々木", "美咲", "佐々木 美咲"),
    _DemoUser("ito", Role.AM, TEAM_EAST, "伊藤", "大輔", "伊藤 大輔"),
    _DemoUser("sato", Role.KAM, TEAM_WEST, "佐藤", "健一", "佐藤 健一"),
    _DemoUser("suzuki", Role.AM, TEAM_WEST, "鈴木", "由美", "鈴木 由美"),
    _DemoUser("tanaka", Role.AM, TEAM_WEST, "田中", "隆", "田中 隆"),
)


@dataclass(frozen=True)
class _Place:
    postal_code: str
    prefecture: str
    city: str
    town: str
    area_code: str  # with the trunk 0, as dialled inside Japan
    office: str  # 登記所 part of the 法人番号 body, so numbers look regional
    weight: int


# Real postal codes for real towns; East is the 東日本営業部's territory, West the other's.
_EAST = (
    _Place("1000005", "東京都", "千代田区", "丸の内", "03", "0100", 9),
    _Place("1010021", "東京都", "千代田区", "外神田", "03", "0100", 3),
    _Place("1030027", "東京都", "中央区", "日本橋", "03", "0100", 6),
    _Place("1040061", "東京都", "中央区", "銀座", "03", "0100", 3),
    _Place("1050011", "東京都", "港区", "芝公園", "03", "0104", 4),
    _Place("1080075", "東京都", "港区", "港南", "03", "0104", 4),
    _Place("1410022", "東京都", "品川区", "東五反田", "03", "0107", 3),
    _Place("1500002", "東京都", "渋谷区", "渋谷", "03", "0110", 3),
    _Place("1600023", "東京都", "新宿区", "西新宿", "03", "0111", 5),
    _Place("1700013", "東京都", "豊島区", "東池袋", "03", "0113", 2),
    _Place("1440052", "東京都", "大田区", "蒲田", "03", "0108", 4),
    _Place("1350064", "東京都", "江東区", "青海", "03", "0106", 2),
    _Place("1920083", "東京都", "八王子市", "旭町", "042", "0133", 2),
    _Place("2200012", "神奈川県", "横浜市西区", "みなとみらい", "045", "0200", 4),
    _Place("2310023", "神奈川県", "横浜市中区", "山下町", "045", "0200", 2),
    _Place("2100007", "神奈川県", "川崎市川崎区", "駅前本町", "044", "0202", 3),
    _Place("2520239", "神奈川県", "相模原市中央区", "中央", "042", "0210", 2),
    _Place("3300854", "埼玉県", "さいたま市大宮区", "桜木町", "048", "0300", 3),
    _Place("2600028", "千葉県", "千葉市中央区", "新町", "043", "0400", 2),
    _Place("3100021", "茨城県", "水戸市", "南町", "029", "0500", 1),
    _Place("3200811", "栃木県", "宇都宮市", "大通り", "028", "0600", 1),
    _Place("3710023", "群馬県", "前橋市", "本町", "027", "0700", 1),
    _Place("9800811", "宮城県", "仙台市青葉区", "一番町", "022", "3700", 3),
    _Place("0600005", "北海道", "札幌市中央区", "北五条西", "011", "4300", 3),
    _Place("9500087", "新潟県", "新潟市中央区", "東大通", "025", "1100", 2),
    _Place("3800836", "長野県", "長野市", "南県町", "026", "1000", 1),
    _Place("4200852", "静岡県", "静岡市葵区", "紺屋町", "054", "0800", 2),
    _Place("4300933", "静岡県", "浜松市中央区", "鍛冶町", "053", "0801", 2),
)
_WEST = (
    _Place("4500002", "愛知県", "名古屋市中村区", "名駅", "052", "1800", 6),
    _Place("4600008", "愛知県", "名古屋市中区", "栄", "052", "1800", 4),
    _Place("4710026", "愛知県", "豊田市", "若宮町", "0565", "1803", 3),
    _Place("5008833", "岐阜県", "岐阜市", "神田町", "058", "2000", 1),
    _Place("5140009", "三重県", "津市", "羽所町", "059", "1900", 1),
    _Place("9200853", "石川県", "金沢市", "本町", "076", "2200", 1),
    _Place("9300002", "富山県", "富山市", "新富町", "076", "2300", 1),
    _Place("5300001", "大阪府", "大阪市北区", "梅田", "06", "1200", 7),
    _Place("5410041", "大阪府", "大阪市中央区", "北浜", "06", "1200", 6),
    _Place("5500002", "大阪府", "大阪市西区", "江戸堀", "06", "1200", 3),
    _Place("5320011", "大阪府", "大阪市淀川区", "西中島", "06", "1200", 3),
    _Place("5640063", "大阪府", "吹田市", "江坂町", "06", "1204", 2),
    _Place("5900077", "大阪府", "堺市堺区", "中瓦町", "072", "1205", 2),
    _Place("6008216", "京都府", "京都市下京区", "東塩小路町", "075", "1300", 3),
    _Place("6500001", "兵庫県", "神戸市中央区", "加納町", "078", "1400", 3),
    _Place("6600892", "兵庫県", "尼崎市", "東難波町", "06", "1401", 2),
    _Place("6308115", "奈良県", "奈良市", "大宮町", "0742", "1500", 1),
    _Place("5200044", "滋賀県", "大津市", "京町", "077", "1600", 1),
    _Place("7300011", "広島県", "広島市中区", "基町", "082", "2400", 2),
    _Place("7000907", "岡山県", "岡山市北区", "下石井", "086", "2600", 1),
    _Place("7600023", "香川県", "高松市", "寿町", "087", "2800", 1),
    _Place("7900003", "愛媛県", "松山市", "三番町", "089", "2500", 1),
    _Place("8120011", "福岡県", "福岡市博多区", "博多駅前", "092", "2900", 4),
    _Place("8100001", "福岡県", "福岡市中央区", "天神", "092", "2900", 3),
    _Place("8020001", "福岡県", "北九州市小倉北区", "浅野", "093", "2901", 1),
    _Place("8600806", "熊本県", "熊本市中央区", "花畑町", "096", "3300", 1),
    _Place("8920842", "鹿児島県", "鹿児島市", "東千石町", "099", "3400", 1),
    _Place("9000015", "沖縄県", "那覇市", "久茂地", "098", "3600", 1),
)
# Tokyo and Osaka numbers start with these digits after the area code in practice.
_LOCAL_FIRST_DIGITS = {"03": "33566", "06": "46667"}
# Where the Japan offices of foreign companies sit.
_FOREIGN_OFFICE_TOWNS = {"丸の内", "港南", "西新宿", "みなとみらい", "梅田", "北浜", "栄", "加納町"}

_KANTO = frozenset({"東京都", "神奈川県", "埼玉県", "千葉県", "茨城県", "栃木県", "群馬県"})
_KANSAI = frozenset({"大阪府", "京都府", "兵庫県", "奈良県", "滋賀県"})
_CHUBU = frozenset({"愛知県", "岐阜県", "三重県", "静岡県", "長野県"})
_KYUSHU = frozenset({"福岡県", "熊本県", "鹿児島県"})
_SETOUCHI = frozenset({"岡山県", "広島県", "香川県", "愛媛県"})
_HOKURIKU = frozenset({"石川県", "富山県"})


@dataclass(frozen=True)
class _Part:
    kanji: str
    kana: str
    romaji: str
    region: frozenset[str] | None = None  # only plausible for companies in these prefectures


_PREFIXES = (
    _Part("山田", "ヤマダ", "yamada"),
    _Part("東洋", "トウヨウ", "toyo"),
    _Part("大和", "ダイワ", "daiwa"),
    _Part("北斗", "ホクト", "hokuto"),
    _Part("日本", "ニホン", "nihon"),
    _Part("三和", "サンワ", "sanwa"),
    _Part("富士", "フジ", "fuji"),
    _Part("中央", "チュウオウ", "chuo"),
    _Part("朝日", "アサヒ", "asahi"),
    _Part("光和", "コウワ", "kowa"),
    _Part("丸栄", "マルエイ", "maruei"),
    _Part("大成", "タイセイ", "taisei"),
    _Part("昭和", "ショウワ", "showa"),
    _Part("平和", "ヘイワ", "heiwa"),
    _Part("協和", "キョウワ", "kyowa"),
    _Part("共栄", "キョウエイ", "kyoei"),
    _Part("新日本", "シンニホン", "shinnihon"),
    _Part("東邦", "トウホウ", "toho"),
    _Part("太陽", "タイヨウ", "taiyo"),
    _Part("菱和", "リョウワ", "ryowa"),
    _Part("明治", "メイジ", "meiji"),
    _Part("大正", "タイショウ", "taisho"),
    _Part("高橋", "タカハシ", "takahashi"),
    _Part("小林", "コバヤシ", "kobayashi"),
    _Part("松本", "マツモト", "matsumoto"),
    _Part("中村", "ナカムラ", "nakamura"),
    _Part("石川", "イシカワ", "ishikawa"),
    _Part("森田", "モリタ", "morita"),
    _Part("岡本", "オカモト", "okamoto"),
    _Part("青葉", "アオバ", "aoba"),
    _Part("若葉", "ワカバ", "wakaba"),
    _Part("桜井", "サクライ", "sakurai"),
    _Part("第一", "ダイイチ", "daiichi"),
    _Part("日東", "ニットウ", "nitto"),
    _Part("日進", "ニッシン", "nisshin"),
    _Part("東亜", "トウア", "toa"),
    _Part("八洲", "ヤシマ", "yashima"),
    _Part("丸一", "マルイチ", "maruichi"),
    _Part("丸三", "マルサン", "marusan"),
    _Part("山一", "ヤマイチ", "yamaichi"),
    _Part("三栄", "サンエイ", "sanei"),
    _Part("信和", "シンワ", "shinwa"),
    _Part("誠和", "セイワ", "seiwa"),
    _Part("永和", "エイワ", "eiwa"),
    _Part("千代田", "チヨダ", "chiyoda", frozenset({"東京都"})),
    _Part("武蔵野", "ムサシノ", "musashino", frozenset({"東京都", "埼玉県"})),
    _Part("湘南", "ショウナン", "shonan", frozenset({"神奈川県"})),
    _Part("相模", "サガミ", "sagami", frozenset({"神奈川県"})),
    _Part("関東", "カントウ", "kanto", _KANTO),
    _Part("上州", "ジョウシュウ", "joshu", frozenset({"群馬県"})),
    _Part("東北", "トウホク", "tohoku", frozenset({"宮城県"})),
    _Part("北海", "ホッカイ", "hokkai", frozenset({"北海道"})),
    _Part("越後", "エチゴ", "echigo", frozenset({"新潟県"})),
    _Part("信州", "シンシュウ", "shinshu", frozenset({"長野県"})),
    _Part("駿河", "スルガ", "suruga", frozenset({"静岡県"})),
    _Part("中部", "チュウブ", "chubu", _CHUBU),
    _Part("尾張", "オワリ", "owari", frozenset({"愛知県"})),
    _Part("北陸", "ホクリク", "hokuriku", _HOKURIKU),
    _Part("関西", "カンサイ", "kansai", _KANSAI),
    _Part("浪速", "ナニワ", "naniwa", frozenset({"大阪府"})),
    _Part("瀬戸内", "セトウチ", "setouchi", _SETOUCHI),
    _Part("九州", "キュウシュウ", "kyushu", _KYUSHU),
    _Part("博多", "ハカタ", "hakata", frozenset({"福岡県"})),
    _Part("琉球", "リュウキュウ", "ryukyu", frozenset({"沖縄県"})),
)


@dataclass(frozen=True)
class _Core:
    kanji: str
    kana: str
    romaji: str
    industry: str
    forms: str = "k"  # k 株式会社, y 有限会社, g 合同会社
    office: bool = True  # sits in an office building rather than its own plant or shop


_CORES = (
    _Core("商事", "ショウジ", "shoji", "卸売業"),
    _Core("工業", "コウギョウ", "kogyo", "製造業", office=False),
    _Core("製作所", "セイサクショ", "seisakusho", "製造業", "ky", office=False),
    _Core("精機", "セイキ", "seiki", "精密機械器具製造業", office=False),
    _Core("物産", "ブッサン", "bussan", "卸売業"),
    _Core("電機", "デンキ", "denki", "電気機械器具製造業", office=False),
    _Core("化学", "カガク", "kagaku", "化学工業", office=False),
    _Core("産業", "サンギョウ", "sangyo", "製造業"),
    _Core("食品", "ショクヒン", "shokuhin", "食品製造業", office=False),
    _Core("運輸", "ウンユ", "unyu", "運輸業", "ky", office=False),
    _Core("建設", "ケンセツ", "kensetsu", "建設業"),
    _Core("機械", "キカイ", "kikai", "生産用機械器具製造業", office=False),
    _Core("電子", "デンシ", "denshi", "電子部品・デバイス製造業", office=False),
    _Core("印刷", "インサツ", "insatsu", "印刷業", "ky", office=False),
    _Core("物流", "ブツリュウ", "butsuryu", "倉庫業", office=False),
    _Core("金属", "キンゾク", "kinzoku", "金属製品製造業", office=False),
    _Core("樹脂", "ジュシ", "jushi", "プラスチック製品製造業", office=False),
    _Core("塗料", "トリョウ", "toryo", "化学工業", office=False),
    _Core("繊維", "センイ", "seni", "繊維工業"),
    _Core("薬品", "ヤクヒン", "yakuhin", "医薬品卸売業"),
    _Core("製菓", "セイカ", "seika", "食品製造業", office=False),
    _Core("水産", "スイサン", "suisan", "水産食料品製造業", office=False),
    _Core("設備", "セツビ", "setsubi", "設備工事業", "ky"),
    _Core("電設", "デンセツ", "densetsu", "電気工事業", "ky"),
    _Core("商会", "ショウカイ", "shokai", "卸売業", "ky"),
    _Core("商店", "ショウテン", "shoten", "小売業", "ky", office=False),
    _Core("工務店", "コウムテン", "komuten", "建設業", "ky", office=False),
    _Core("ストア", "ストア", "store", "小売業", office=False),
    _Core("通商", "ツウショウ", "tsusho", "卸売業"),
    _Core("倉庫", "ソウコ", "soko", "倉庫業", office=False),
    _Core("不動産", "フドウサン", "fudosan", "不動産業"),
    _Core("リース", "リース", "lease", "物品賃貸業"),
    _Core("技研", "ギケン", "giken", "製造業", "kg", office=False),
    _Core("テクノ", "テクノ", "techno", "製造業", "kg"),
    _Core("情報システム", "ジョウホウシステム", "johosystem", "情報通信業", "kg"),
    _Core("ソフトウェア", "ソフトウェア", "software", "情報通信業", "kg"),
    _Core("ソリューションズ", "ソリューションズ", "solutions", "情報通信業", "kg"),
    _Core("エンジニアリング", "エンジニアリング", "engineering", "技術サービス業", "kg"),
)
# 一般社団法人: industry bodies a supplier partners with; prefixed by a region or 日本.
_ASSOCIATIONS = (
    _Core("産業振興会", "サンギョウシンコウカイ", "sangyo-shinko", "業界団体"),
    _Core("物流協議会", "ブツリュウキョウギカイ", "logistics", "業界団体"),
    _Core("ものづくり協会", "モノヅクリキョウカイ", "monozukuri", "業界団体"),
    _Core("食品衛生協会", "ショクヒンエイセイキョウカイ", "food-hygiene", "業界団体"),
    _Core("情報技術協会", "ジョウホウギジュツキョウカイ", "it-kyokai", "業界団体"),
)
# 会社法人等番号 kind digits (the 5th and 6th of the 12-digit body) per legal form.
_FORM_CODE = {"k": "01", "y": "02", "g": "03", "a": "05"}


@dataclass(frozen=True)
class _Name:
    kanji: str
    kana: str
    romaji: str


def _names(text: str) -> tuple[_Name, ...]:
    """Parse ``漢字:カナ:romaji`` triples; a compact table beats hundreds of constructor calls."""
    return tuple(_Name(*item.split(":")) for item in text.split())


_FAMILY_NAMES = _names(
    "佐藤:サトウ:sato 鈴木:スズキ:suzuki 高橋:タカハシ:takahashi 田中:タナカ:tanaka "
    "伊藤:イトウ:ito 渡辺:ワタナベ:watanabe 山本:ヤマモト:yamamoto 中村:ナカムラ:nakamura "
    "小林:コバヤシ:kobayashi 加藤:カトウ:kato 吉田:ヨシダ:yoshida 山田:ヤマダ:yamada "
    "佐々木:ササキ:sasaki 山口:ヤマグチ:yamaguchi 松本:マツモト:matsumoto 井上:イノウエ:inoue "
    "木村:キムラ:kimura 林:ハヤシ:hayashi 斎藤:サイトウ:saito 清水:シミズ:shimizu "
    "山崎:ヤマザキ:yamazaki 森:モリ:mori 池田:イケダ:ikeda 橋本:ハシモト:hashimoto 阿部:アベ:abe "
    "石川:イシカワ:ishikawa 山下:ヤマシタ:yamashita 中島:ナカジマ:nakajima 石井:イシイ:ishii "
    "小川:オガワ:ogawa 前田:マエダ:maeda 岡田:オカダ:okada 長谷川:ハセガワ:hasegawa "
    "藤田:フジタ:fujita 後藤:ゴトウ:goto 近藤:コンドウ:kondo 村上:ムラカミ:murakami "
    "遠藤:エンドウ:endo 青木:アオキ:aoki 坂本:サカモト:sakamoto 西村:ニシムラ:nishimura "
    "福田:フクダ:fukuda 太田:オオタ:ota 三浦:ミウラ:miura 藤井:フジイ:fujii 岡本:オカモト:okamoto "
    "松田:マツダ:matsuda 中川:ナカガワ:nakagawa 原田:ハラダ:harada 小野:オノ:ono "
    "竹内:タケウチ:takeuchi 金子:カネコ:kaneko 和田:ワダ:wada 中野:ナカノ:nakano 上田:ウエダ:ueda "
    "森田:モリタ:morita 柴田:シバタ:shibata 酒井:サカイ:sakai 工藤:クドウ:kudo "
    "横山:ヨコヤマ:yokoyama 宮崎:ミヤザキ:miyazaki 宮本:ミヤモト:miyamoto 内田:ウチダ:uchida "
    "高木:タカギ:takagi 谷口:タニグチ:taniguchi 丸山:マルヤマ:maruyama 今井:イマイ:imai "
    "河野:コウノ:kono 藤原:フジワラ:fujiwara 村田:ムラタ:murata 武田:タケダ:takeda"
)
_GIVEN_NAMES = _names(
    "健一:ケンイチ:kenichi 大輔:ダイスケ:daisuke 誠:マコト:makoto 浩:ヒロシ:hiroshi "
    "隆:タカシ:takashi 翔太:ショウタ:shota 拓也:タクヤ:takuya 直樹:ナオキ:naoki "
    "和也:カズヤ:kazuya 健太:ケンタ:kenta 哲也:テツヤ:tetsuya 剛:ツヨシ:tsuyoshi 修:オサム:osamu "
    "亮:リョウ:ryo 雄一:ユウイチ:yuichi 達也:タツヤ:tatsuya 博之:ヒロユキ:hiroyuki "
    "一郎:イチロウ:ichiro 悠斗:ユウト:yuto 光太郎:コウタロウ:kotaro 美咲:ミサキ:misaki "
    "由美:ユミ:yumi 恵子:ケイコ:keiko 陽子:ヨウコ:yoko 真由美:マユミ:mayumi 愛:アイ:ai "
    "彩:アヤ:aya 麻衣:マイ:mai 千尋:チヒロ:chihiro 智子:トモコ:tomoko 裕子:ユウコ:yuko "
    "明美:アケミ:akemi 奈々:ナナ:nana さくら:サクラ:sakura 香織:カオリ:kaori 沙織:サオリ:saori "
    "直美:ナオミ:naomi 瞳:ヒトミ:hitomi 結衣:ユイ:yui"
)

_SENIOR_TITLES = ("代表取締役", "代表取締役社長", "取締役", "部長", "部長", "本部長")
_TITLES = ("部長", "次長", "課長", "課長", "係長", "主任", "主任", "担当", "担当", "")
_DEPARTMENTS = (
    "購買部",
    "購買部",
    "資材部",
    "調達部",
    "営業部",
    "総務部",
    "製造部",
    "生産管理部",
    "技術部",
    "品質保証部",
    "経営企画部",
    "経理部",
    "情報システム部",
    "物流部",
)

_ACCOUNT_NOTES = (
    "締め日は20日、翌月末払い。請求書は紙での郵送を希望。",
    "購買部経由の発注のみ受付。見積書は課長宛てに送付すること。",
    "毎年3月に設備更新の予算が確定するため、見積は2月中旬までに提出。",
    "展示会で名刺交換。製品デモの日程を調整中。",
    "相見積りが前提。価格より納期と品質を重視する傾向。",
    "年2回（6月・12月）に定例会議あり。次回は先方本社で開催。",
    "担当者交代あり。前任者から引継ぎ済みで、関係は良好。",
    "主力製品の部材を継続受注中。来期は数量増の見込み。",
    "インボイス登録番号は確認済み。",
    "新工場の立ち上げに合わせて設備更新の相談あり。",
    "与信審査済み。取引上限は月額500万円。",
    "お盆と年末年始は長期休業のため、納期に注意。",
    "サンプル提供済み。評価結果待ち。",
    "代理店経由の取引。直接取引への切替を打診中。",
    "品質監査を年1回受け入れ。前回の指摘事項なし。",
)
_COMPETITOR_NOTES = (
    "同業の競合。価格攻勢が強く、値引き要請の背景になっている。",
    "西日本でシェアを伸ばしている競合。",
    "主要顧客への提案で何度か競合。短納期が強み。",
)
_CONTACT_NOTES = (
    "決裁権あり。キーパーソン。",
    "連絡はメールを希望。",
    "午前中は会議が多く、電話は午後がつながりやすい。",
    "技術的な問い合わせの窓口。",
    "請求書の送付先担当。",
    "英語対応可。",
    "前任者から引継ぎ（2025年4月）。",
)


@dataclass(frozen=True)
class _Country:
    legal_form: str
    tld: str
    cities: tuple[tuple[str, str], ...]  # (city, street)
    phone_prefix: str  # "" when we know no range reserved for fiction
    family_names: tuple[str, ...]
    given_names: tuple[str, ...]


_ANGLO_FAMILY = ("Smith", "Johnson", "Williams", "Brown", "Taylor", "Wilson", "Clarke", "Evans")
_ANGLO_GIVEN = ("Emma", "Oliver", "James", "Sophie", "Olivia", "Jack", "Charlotte", "Daniel")
_COUNTRIES = (
    # Ofcom keeps 020 7946 0xxx for drama; NANP keeps 555-01xx; ACMA keeps 02 5550 xxxx.
    _Country(
        "Ltd.",
        "co.uk",
        (("London, UK", "80 Fenchurch Street"), ("London, UK", "12 Moorgate")),
        "+44 20 7946 0",
        _ANGLO_FAMILY,
        _ANGLO_GIVEN,
    ),
    _Country(
        "Inc.",
        "com",
        (
            ("New York, NY, USA", "200 Park Avenue"),
            ("San Francisco, CA, USA", "555 Mission Street"),
        ),
        "+1 212 555 01",
        _ANGLO_FAMILY,
        _ANGLO_GIVEN,
    ),
    _Country(
        "GmbH",
        "de",
        (
            ("München, Deutschland", "Leopoldstraße 120"),
            ("Hamburg, Deutschland", "Am Sandtorkai 50"),
        ),
        "",
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner"),
        ("Lukas", "Anna", "Felix", "Lena", "Jonas", "Laura"),
    ),
    _Country(
        "B.V.",
        "nl",
        (("Amsterdam, Nederland", "Herengracht 450"),),
        "",
        ("de Vries", "Jansen", "van Dijk", "Bakker", "Visser"),
        ("Daan", "Sanne", "Lotte", "Bram", "Femke"),
    ),
    _Country(
        "Pte. Ltd.",
        "com.sg",
        (("Singapore", "1 Raffles Place"), ("Singapore", "8 Marina Boulevard")),
        "",
        ("Tan", "Lim", "Ng", "Lee", "Wong"),
        ("Wei Ling", "Jun Jie", "Hui Min", "Kai Wen", "Rachel"),
    ),
    _Country(
        "Pty Ltd",
        "com.au",
        (("Sydney, Australia", "200 George Street"),),
        "+61 2 5550 ",
        _ANGLO_FAMILY,
        _ANGLO_GIVEN,
    ),
)
_FOREIGN_FIRST = _names(
    "Northwind:ノースウインド:northwind Contoso:コントソ:contoso Fabrikam:ファブリカム:fabrikam "
    "Tailspin:テイルスピン:tailspin Litware:リットウェア:litware Proseware:プロスウェア:proseware "
    "Adatum:アデイタム:adatum Woodgrove:ウッドグローブ:woodgrove Relecloud:リレクラウド:relecloud "
    "Wingtip:ウイングティップ:wingtip Lucerne:ルツェルン:lucerne Alpine:アルパイン:alpine "
    "Coho:コーホー:coho Trey:トレイ:trey VanArsdel:ヴァンアースデル:vanarsdel "
    "Southridge:サウスリッジ:southridge Tailwind:テイルウインド:tailwind "
    "Northbrook:ノースブルック:northbrook Greenfield:グリーンフィールド:greenfield "
    "Silverline:シルバーライン:silverline Redwood:レッドウッド:redwood Lamna:ラムナ:lamna"
)
_FOREIGN_SECOND = (
    ("Traders", "トレーダーズ", "Wholesale trade"),
    ("Systems", "システムズ", "Information technology"),
    ("Industries", "インダストリーズ", "Manufacturing"),
    ("Logistics", "ロジスティクス", "Logistics"),
    ("Components", "コンポーネンツ", "Electronic components"),
    ("Robotics", "ロボティクス", "Industrial machinery"),
    ("Foods", "フーズ", "Food manufacturing"),
    ("Materials", "マテリアルズ", "Chemicals"),
    ("Electronics", "エレクトロニクス", "Electronics"),
    ("Pharma", "ファーマ", "Pharmaceuticals"),
    ("Software", "ソフトウェア", "Software"),
    ("Instruments", "インスツルメンツ", "Precision instruments"),
)
_FOREIGN_NOTES = (
    "Prefers e-mail over phone; usually replies within a day.",
    "Purchasing decisions are made at headquarters; the local team recommends.",
    "Met at a trade fair in Tokyo. Samples shipped, evaluation under way.",
    "Framework agreement renewed every April.",
    "Invoices in USD, payment 60 days net.",
)
_FOREIGN_TITLES = (
    ("Managing Director", ""),
    ("Head of Procurement", "Procurement"),
    ("Purchasing Manager", "Procurement"),
    ("Buyer", "Procurement"),
    ("Operations Manager", "Operations"),
    ("Supply Chain Manager", "Supply Chain"),
    ("Finance Manager", "Finance"),
)


class _Generator:
    """Makes one plausible company after another, never repeating a name, number or domain."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        # Names already in the database (a demo loaded next to real data must not clash).
        self.existing: frozenset[str] = frozenset(Account.objects.values_list("name", flat=True))
        self.bases: set[str] = {_LEGAL_FORMS.sub("", name) for name in self.existing}
        self.pairs: set[tuple[str, str]] = set()
        self.domains: set[str] = set()
        self.phones: set[str] = set()
        self.corporate_numbers: set[str] = {
            number
            for number in Account.objects.values_list("corporate_number", flat=True)
            if number
        }

    # Numbers -----------------------------------------------------------------------------

    def jp_phone(self, area_code: str, *, near: str = "") -> str:
        """A valid fixed-line number in ``area_code``; ``near`` gives a fax next to the phone."""
        for attempt in range(200):
            if near and attempt < 20:
                head, last = near[:-1], int(near[-1])
                candidate = f"{head}{(last + 1 + attempt) % 10}"
            else:
                digits = 10 - len(area_code)
                first = self.rng.choice(_LOCAL_FIRST_DIGITS.get(area_code, "23456789"))
                local = first + "".join(self.rng.choice("0123456789") for _ in range(digits - 1))
                if len(area_code) == 2:
                    candidate = f"{area_code}-{local[:4]}-{local[4:]}"
                elif len(area_code) == 3:
                    candidate = f"{area_code}-{local[:3]}-{local[3:]}"
                else:
                    candidate = f"{area_code}-{local[:2]}-{local[2:]}"
            # 089-2… is really 0892 (another town): keep numbers in the place's own area code.
            if candidate not in self.phones and _valid(candidate, area_code=area_code):
                self.phones.add(candidate)
                return candidate
        raise RuntimeError(f"No valid demo phone number found for area code {area_code}.")

    def mobile(self) -> str:
        for _attempt in range(100):
            prefix = self.rng.choice(("090", "090", "080", "070"))
            block = self.rng.randint(1000, 9999)
            candidate = f"{prefix}-{block}-{self.rng.randint(0, 9999):04d}"
            if candidate not in self.phones and _valid(candidate):
                self.phones.add(candidate)
                return candidate
        raise RuntimeError("No valid demo mobile number found.")

    def foreign_phone(self, country: _Country) -> str:
        if not country.phone_prefix:
            return ""
        width = 4 - len(country.phone_prefix.rsplit(" ", 1)[-1])
        for _attempt in range(50):
            candidate = f"{country.phone_prefix}{self.rng.randrange(10**width):0{width}d}"
            if candidate not in self.phones and _valid(candidate):
                self.phones.add(candidate)
                return candidate
        return ""

    def corporate_number(self, place: _Place, form: str) -> str:
        """A 法人番号: 登記所 code, kind of company, serial, check digit in front."""
        while True:
            body = f"{place.office}{_FORM_CODE[form]}{self.rng.randint(1, 999999):06d}"
            number = f"{corporate_number_check_digit(body)}{body}"
            if number not in self.corporate_numbers:
                self.corporate_numbers.add(number)
                return number

    # Addresses ---------------------------------------------------------------------------

    def place(self, region: str, *, towns: set[str] | None = None) -> _Place:
        pool: tuple[_Place, ...] = _EAST if region == "east" else _WEST
        if towns:
            pool = tuple(p for p in pool if p.town in towns) or pool
        return self.rng.choices(pool, weights=[p.weight for p in pool])[0]

    def street(self, place: _Place) -> str:
        rng = self.rng
        if place.town.endswith("町") and rng.random() < 0.4:
            return f"{place.town}{rng.randint(1, 250)}番地"
        return f"{place.town}{rng.randint(1, 5)}-{rng.randint(1, 20)}-{rng.randint(1, 15)}"

    def building(self, place: _Place) -> str:
        rng = self.rng
        name = rng.choice(
            (
                f"{place.town}センタービル",
                f"{place.town}第一ビル",
                f"{place.town}スクエア",
                f"{place.town}プレイス",
                "グランドタワー",
                "中央ビルディング",
                "第二共同ビル",
            )
        )
        floor = rng.randint(2, 24)
        return f"{name} {floor}F" if rng.random() < 0.6 else f"{name}{floor}階"

    # Companies ---------------------------------------------------------------------------

    def japanese_company(self, region: str) -> dict[str, Any]:
        rng = self.rng
        place = self.place(region)
        roll = rng.random()
        form = "k" if roll < 0.83 else "y" if roll < 0.91 else "g" if roll < 0.97 else "a"
        cores: tuple[_Core, ...]
        while True:
            if form == "a":
                cores = _ASSOCIATIONS
                prefixes = [
                    p for p in _PREFIXES if p.kanji == "日本" or (p.region and len(p.region) > 1)
                ]
            else:
                cores = tuple(c for c in _CORES if form in c.forms)
                prefixes = list(_PREFIXES)
            prefixes = [p for p in prefixes if p.region is None or place.prefecture in p.region]
            for _attempt in range(300):
                prefix, core = rng.choice(prefixes), rng.choice(cores)
                domain_base = f"{prefix.romaji}-{core.romaji}"
                if (
                    (prefix.kanji, core.kanji) not in self.pairs
                    and domain_base not in self.domains
                    and prefix.kanji + core.kanji not in self.bases
                ):
                    break
            else:
                if form != "k":
                    form = "k"  # the few 有限会社 and associations ran out: a 株式会社 will do
                    continue
                raise RuntimeError("Ran out of demo company names: load fewer accounts.")
            break
        self.pairs.add((prefix.kanji, core.kanji))
        self.domains.add(domain_base)
        base = prefix.kanji + core.kanji
        if form == "k":
            name = f"株式会社{base}" if rng.random() < 0.55 else f"{base}株式会社"
        else:
            legal = {"y": "有限会社", "g": "合同会社", "a": "一般社団法人"}[form]
            name = f"{legal}{base}"
        slug = domain_base if rng.random() < 0.7 else domain_base.replace("-", "")
        # Reserved names only (RFC 2606 .example): demo mail and links must never reach a real firm.
        domain = f"{slug}.example"
        phone = self.jp_phone(place.area_code) if rng.random() < 0.96 else ""
        data: dict[str, Any] = {
            "name": name,
            "name_kana": prefix.kana + core.kana,
            "industry": core.industry,
            "postal_code": place.postal_code,
            "prefecture": place.prefecture,
            "city": place.city,
            "street": self.street(place),
        }
        if rng.random() < 0.9:
            data["corporate_number"] = self.corporate_number(place, form)
        if rng.random() < 0.85:
            data["website"] = f"https://www.{domain}"
        if phone:
            data["phone"] = phone
            if rng.random() < 0.65:
                data["fax"] = self.jp_phone(place.area_code, near=phone)
        if rng.random() < (0.6 if core.office else 0.15):
            data["building"] = self.building(place)
        return {"data": data, "domain": domain, "place": place, "foreign": None, "form": form}

    def foreign_company(self, region: str) -> dict[str, Any]:
        rng = self.rng
        for _attempt in range(500):
            first = rng.choice(_FOREIGN_FIRST)
            second = rng.choice(_FOREIGN_SECOND) if rng.random() < 0.85 else None
            key = (first.kanji, second[0] if second else "")
            brand = f"{first.kanji} {second[0]}" if second else first.kanji
            if key not in self.pairs and not any(n.startswith(f"{brand} ") for n in self.existing):
                break
        else:
            raise RuntimeError("Ran out of demo company names: load fewer accounts.")
        self.pairs.add(key)
        brand_kana = first.kana + (second[1] if second else "")
        slug = brand.lower().replace(" ", "")
        industry = second[2] if second else "Wholesale trade"
        country = rng.choice(_COUNTRIES)
        data: dict[str, Any] = {"industry": industry}
        place = None
        if rng.random() < 0.45:
            # The Japan subsidiary: a registered company with a 法人番号 and a Tokyo/Osaka office.
            form = "k" if rng.random() < 0.7 else "g"
            name = f"{brand} Japan {'K.K.' if form == 'k' else 'G.K.'}"
            place = self.place(region, towns=_FOREIGN_OFFICE_TOWNS)
            domain = f"{slug}-japan.example"
            data.update(
                name=name,
                name_kana=f"{brand_kana}ジャパン",
                corporate_number=self.corporate_number(place, form),
                phone=self.jp_phone(place.area_code),
                postal_code=place.postal_code,
                prefecture=place.prefecture,
                city=place.city,
                street=self.street(place),
                building=self.building(place),
            )
        else:
            name = f"{brand} {country.legal_form}"
            domain = f"{slug}-{country.tld.replace('.', '-')}.example"
            city, street = rng.choice(country.cities)
            data.update(name=name, city=city, street=street)
            if rng.random() < 0.5:
                data["name_kana"] = brand_kana
            if phone := self.foreign_phone(country):
                data["phone"] = phone
        self.domains.add(domain)
        data["website"] = f"https://www.{domain}"
        return {"data": data, "domain": domain, "place": place, "foreign": country, "form": None}

    # People ------------------------------------------------------------------------------

    def japanese_contact(
        self,
        *,
        domain: str,
        place: _Place | None,
        senior: bool,
        used: set[str],
        association: bool = False,
    ) -> dict[str, Any]:
        rng = self.rng
        family, given = rng.choice(_FAMILY_NAMES), rng.choice(_GIVEN_NAMES)
        if association:
            # An association has 理事 and a 事務局, not 取締役 and 購買部.
            title = rng.choice(("代表理事", "専務理事", "事務局長") if senior else _TITLES[3:])
            department = "" if title.endswith("理事") else "事務局"
        else:
            title = rng.choice(_SENIOR_TITLES if senior else _TITLES)
            if title.startswith("代表"):
                department = ""
            elif title in ("取締役", "本部長"):
                department = rng.choice(("営業本部", "管理本部", "生産本部"))
            else:
                department = rng.choice(_DEPARTMENTS)
        data: dict[str, Any] = {
            "family_name": family.kanji,
            "given_name": given.kanji,
            "family_name_kana": family.kana,
            "given_name_kana": given.kana,
            "title": title,
            "department": department,
            "email": _email(rng, family.romaji, given.romaji, domain, used),
            "marketing_consent": rng.random() < 0.6,
        }
        if place is not None and rng.random() < 0.7:
            data["phone"] = self.jp_phone(place.area_code)
        if rng.random() < 0.5:
            data["mobile"] = self.mobile()
        if rng.random() < 0.15:
            data["notes"] = rng.choice(_CONTACT_NOTES)
        return data

    def foreign_contact(self, *, domain: str, country: _Country, used: set[str]) -> dict[str, Any]:
        rng = self.rng
        family, given = rng.choice(country.family_names), rng.choice(country.given_names)
        title, department = rng.choice(_FOREIGN_TITLES)
        data: dict[str, Any] = {
            "family_name": family,
            "given_name": given,
            "title": title,
            "department": department,
            "email": _email(rng, _ascii(family), _ascii(given), domain, used, western=True),
            "marketing_consent": rng.random() < 0.6,
        }
        if rng.random() < 0.6 and (phone := self.foreign_phone(country)):
            data["phone"] = phone
        return data


def _valid(number: str, *, area_code: str = "") -> bool:
    """What the services accept (phonenumbers, region JP), optionally in one exact area code."""
    try:
        parsed = phonenumbers.parse(number, "JP")
    except phonenumbers.NumberParseException:
        return False
    if not phonenumbers.is_valid_number(parsed):
        return False
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return not area_code or national.startswith(f"{area_code}-")


def _ascii(name: str) -> str:
    text = name.lower().replace("ü", "ue").replace("ö", "oe").replace("ä", "ae").replace("ß", "ss")
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum())


def _email(
    rng: random.Random,
    family: str,
    given: str,
    domain: str,
    used: set[str],
    *,
    western: bool = False,
) -> str:
    """A company e-mail address in one of the house styles companies actually use."""
    styles = (
        (f"{given}.{family}", f"{given[0]}.{family}", f"{given}{family[0]}")
        if western
        else (f"{given[0]}.{family}", f"{family}.{given}", f"{family}-{given[0]}", family)
    )
    local = rng.choice(styles)
    candidate, n = local, 1
    while candidate in used:
        n += 1
        candidate = f"{local}{n}"
    used.add(candidate)
    return f"{candidate}@{domain}"


def _counts(*, created: int) -> dict[str, int]:
    return {
        "teams": Team.objects.count(),
        "users": User.objects.count(),
        "accounts": Account.objects.count(),
        "contacts": Contact.objects.count(),
        "audit_events": AuditEvent.objects.count(),
        "created": created,
    }


def _ensure_users() -> dict[str, User]:
    """The demo's teams and users; an existing user of the same name keeps their password."""
    teams = {name: Team.objects.get_or_create(name=name)[0] for name in (TEAM_EAST, TEAM_WEST)}
    users: dict[str, User] = {}
    for spec in DEMO_USERS:
        user = User.objects.filter(username=spec.username).first()
        is_new = user is None
        if user is None:
            user = User(username=spec.username)
        user.role = spec.role
        user.team = teams[spec.team] if spec.team else None
        user.last_name, user.first_name = spec.last_name, spec.first_name
        user.display_name = spec.display_name
        user.email = f"{spec.username}@tokui-demo.example"
        user.is_active = True
        user.is_staff = user.is_superuser = spec.role == Role.ADMIN
        if is_new or not user.has_usable_password():
            user.set_password(DEMO_PASSWORD)
        user.save()
        users[spec.username] = user
    return users


def _owner_plan(rng: random.Random, users: dict[str, User], accounts: int) -> list[User]:
    """Who owns which account: kam about 40 of 320, am about 30, the head a few, others the rest."""
    plan = [users["kam"]] * round(accounts * 40 / 320)
    plan += [users["am"]] * round(accounts * 30 / 320)
    plan += [users["head"]] * round(accounts * 8 / 320)
    others = [users[name] for name in ("ito", "sato", "suzuki", "tanaka")]
    plan += [others[i % len(others)] for i in range(max(0, accounts - len(plan)))]
    plan = plan[:accounts]
    rng.shuffle(plan)
    return plan


def _kind_and_tier(rng: random.Random, owner: User, *, foreign: bool) -> tuple[str, str]:
    """A KAM's book is mostly clients, many of them key; the rest of the floor prospects more."""
    kinds: tuple[str, ...]
    weights: tuple[int, ...]
    if owner.role == Role.KAM:
        kinds, weights, key_share = ("client", "prospect", "partner"), (70, 20, 10), 0.25
    elif owner.role == Role.HEAD:
        kinds, weights, key_share = ("client", "partner", "prospect"), (70, 20, 10), 0.35
    elif foreign:
        kinds, weights, key_share = ("client", "prospect", "partner"), (45, 40, 15), 0.08
    else:
        kinds = ("client", "prospect", "partner", "contractor", "competitor")
        weights, key_share = (45, 30, 9, 12, 4), 0.07
    kind = rng.choices(kinds, weights=weights)[0]
    is_key = kind == AccountKind.CLIENT and rng.random() < key_share
    return kind, (AccountTier.KEY if is_key else AccountTier.STANDARD).value


def _add_history(
    rng: random.Random, gen: _Generator, users: dict[str, User], created: list[dict[str, Any]]
) -> tuple[int, int]:
    """Edits and archivings a year of real use leaves behind, so history panels are not empty.

    Returns (edits, archived).
    """
    head = users["head"]
    accounts = [item["account"] for item in created]
    pool = accounts[:]
    rng.shuffle(pool)
    touched: set[int] = set()

    def pick(test: Any) -> Account | None:
        for account in pool:
            if account.pk not in touched and test(account):
                touched.add(account.pk)
                return account
        return None

    edits = 0
    # A prospect places its first order.
    for _ in range(5):
        account = pick(lambda a: a.kind == AccountKind.PROSPECT and a.owner.role != Role.HEAD)
        if account is None:
            break
        note = "2025年11月に初回受注。継続取引に向けて定例訪問を開始。"
        notes = f"{account.notes}\n{note}" if account.notes else note
        account_update(
            actor=account.owner, account=account, data={"kind": "client", "notes": notes}
        )
        edits += 1
    # The head of sales promotes some of kam's clients to key accounts.
    for _ in range(3):
        account = pick(
            lambda a: (
                a.owner.username == "kam"
                and a.kind == AccountKind.CLIENT
                and a.tier != AccountTier.KEY
            )
        )
        if account is None:
            break
        account_update(actor=head, account=account, data={"tier": "key"})
        edits += 1
    # New numbers after a switchboard change.
    places = {item["account"].pk: item["place"] for item in created}
    for _ in range(3):
        account = pick(lambda a: bool(a.phone) and places.get(a.pk) is not None)
        if account is None:
            break
        phone = gen.jp_phone(places[account.pk].area_code)
        data = {"phone": phone}
        if account.fax:
            data["fax"] = gen.jp_phone(places[account.pk].area_code, near=phone)
        account_update(actor=account.owner, account=account, data=data)
        edits += 1
    # An office move within the same city.
    for _ in range(2):
        account = pick(lambda a: places.get(a.pk) is not None)
        if account is None:
            break
        place = places[account.pk]
        data = {"street": gen.street(place), "building": gen.building(place)}
        account_update(actor=account.owner, account=account, data=data)
        edits += 1
    # Hand-overs inside a team, decided by the head of sales.
    for source, target in (("ito", "am"), ("tanaka", "sato")):
        account = pick(lambda a, s=source: a.owner.username == s)
        if account is None:
            continue
        account_update(actor=head, account=account, data={"owner": users[target]})
        edits += 1
    # A competitor that left the market and prospects that went quiet: three in all.
    archived = 0
    # Each rule archives until the running total reaches its limit; later rules fill the gaps
    # a small demo leaves (no competitor, no prospect left untouched).
    for test, limit in (
        (lambda a: a.kind == AccountKind.COMPETITOR, 1),
        (lambda a: a.kind == AccountKind.PROSPECT, 3),
        (lambda a: a.kind != AccountKind.CLIENT, 3),
        (lambda a: True, 3),
    ):
        while archived < limit and (account := pick(test)) is not None:
            account_archive(actor=account.owner, account=account)
            archived += 1
    return edits, archived


def demo_load(*, accounts: int = 320, stdout: _Writer | None = None) -> dict[str, int]:
    """Fill an empty Tokui with a believable customer book; a second call changes nothing.

    Returns the database's counts (teams, users, accounts, contacts, audit_events) and
    ``created``: 1 when this call loaded the demo, 0 when it was already there.
    """
    if accounts < 1 or accounts > MAX_ACCOUNTS:
        raise ValueError(f"accounts must be between 1 and {MAX_ACCOUNTS}.")

    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message + "\n")

    with transaction.atomic():
        if User.objects.filter(username="admin").exists() and Account.objects.exists():
            return _counts(created=0)
        started = time.monotonic()
        rng = random.Random(DEMO_SEED)
        users = _ensure_users()
        say(f"Demo: {len(DEMO_USERS)} users in teams {TEAM_EAST} and {TEAM_WEST}.")
        gen = _Generator(rng)
        created: list[dict[str, Any]] = []
        contacts = 0
        for index, owner in enumerate(_owner_plan(rng, users, accounts), start=1):
            if owner.team is not None:
                region = "east" if owner.team.name == TEAM_EAST else "west"
            else:
                region = rng.choice(("east", "east", "west"))
            foreign = rng.random() < 0.15
            company = gen.foreign_company(region) if foreign else gen.japanese_company(region)
            data = company["data"]
            kind, tier = _kind_and_tier(rng, owner, foreign=foreign)
            if company["form"] == "a":
                kind, tier = "partner", "standard"
            data.update(kind=kind, tier=tier, owner=owner)
            if rng.random() < 0.35:
                if foreign:
                    data["notes"] = rng.choice(_FOREIGN_NOTES)
                elif kind == AccountKind.COMPETITOR:
                    data["notes"] = rng.choice(_COMPETITOR_NOTES)
                else:
                    data["notes"] = rng.choice(_ACCOUNT_NOTES)
            account = account_create(actor=owner, data=data)
            used: set[str] = set()
            count = rng.choices((1, 2, 3, 4), weights=(30, 35, 23, 12))[0]
            for n in range(count):
                country = company["foreign"]
                if country is not None and company["place"] is None:
                    person = gen.foreign_contact(
                        domain=company["domain"], country=country, used=used
                    )
                else:
                    person = gen.japanese_contact(
                        domain=company["domain"],
                        place=company["place"],
                        senior=n == 0,
                        used=used,
                        association=company["form"] == "a",
                    )
                contact_create(actor=owner, account=account, data=person)
                contacts += 1
            created.append({"account": account, "place": company["place"]})
            if index % 100 == 0:
                say(f"Demo: {index}/{accounts} accounts…")
        edits, archived = _add_history(rng, gen, users, created)
        # The data bank's other parts, each from its own module (idempotent on their own).
        from tokui.web.demo_calendar import demo_calendar
        from tokui.web.demo_catalog import demo_catalog
        from tokui.web.demo_dedupe import demo_duplicates
        from tokui.web.demo_interactions import demo_interactions
        from tokui.web.demo_mail import demo_mail
        from tokui.web.demo_pricing import demo_pricing
        from tokui.web.demo_reports import demo_reports
        from tokui.web.demo_screening import demo_screening
        from tokui.web.demo_segments import demo_segments

        demo_segments(stdout=stdout)
        demo_duplicates(stdout=stdout)
        demo_screening(stdout=stdout)
        # Every interaction remembered: the timeline first, then the calendar (whose held
        # appointments log meetings), mail threads, and the daily reports built from all three.
        demo_interactions(stdout=stdout)
        demo_calendar(stdout=stdout)
        demo_mail(stdout=stdout)
        demo_reports(stdout=stdout)
        demo_catalog(stdout=stdout)
        demo_pricing(stdout=stdout)  # key-account agreements on the catalog's products
        from tokui.web.demo_pricing_rules import demo_pricing_rules

        demo_pricing_rules(stdout=stdout)  # discount rules and bonus programmes
        from tokui.web.demo_approvals import demo_approvals

        demo_approvals(stdout=stdout)  # authority limits and approval requests (稟議)
        from tokui.web.demo_deals import demo_deals

        demo_deals(stdout=stdout)  # deals in every stage, before quotes and referrals
        from tokui.web.demo_quotes import demo_quotes

        demo_quotes(stdout=stdout)  # our company profile and quotes (見積書), some from deals
        from tokui.web.demo_referrals import demo_referrals

        # After the demo deals: referred accounts with a won deal earn their rewards.
        demo_referrals(stdout=stdout)
        from tokui.web.demo_orders import demo_orders

        # After quotes (an accepted one becomes an order) and referrals (paid orders earn).
        demo_orders(stdout=stdout)
        say(
            f"Demo: {len(created)} accounts, {contacts} contacts, {edits} edits, "
            f"{archived} archived in {time.monotonic() - started:.1f} s."
        )
        return _counts(created=1)
