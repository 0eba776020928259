import csv
import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tokui.accounts.exports import escape_formula
from tokui.accounts.segments import account_set_tags, segment_create
from tokui.core.models import AuditEvent

BOM = b"\xef\xbb\xbf"


@pytest.fixture
def book(kam, am, west_am, make_account, make_contact):
    mine = make_account(
        kam,
        name="株式会社東洋精機",
        name_kana="トウヨウセイキ",
        industry="精密機械器具製造業",
        prefecture="東京都",
        phone="03-1234-5678",
        employees=500,
        rank="A",
        tier="key",
    )
    account_set_tags(actor=kam, account=mine, names=["展示会2026", "既存深耕"])
    make_contact(mine, email="yamada@toyo.example", phone="03-1234-5679")
    team = make_account(am, name="大和物産株式会社", name_kana="ダイワブッサン", industry="卸売業")
    make_contact(team, family_name="佐藤", given_name="花子")
    west = make_account(west_am, name="北斗電機株式会社", industry="精密機械器具製造業")
    make_contact(west, family_name="西田")
    return {"mine": mine, "team": team, "west": west}


@pytest.fixture
def kam_client(client, kam):
    client.force_login(kam)
    return client


def _csv(response, encoding="utf-8-sig"):
    assert response.status_code == 200, response.content
    body = b"".join(response.streaming_content)  # the test client closes it when consumed
    return body, list(csv.reader(io.StringIO(body.decode(encoding))))


def _xlsx(response):
    assert response.status_code == 200
    body = b"".join(response.streaming_content)  # consumed, it closes the temporary file
    return openpyxl.load_workbook(io.BytesIO(body)).active


def test_csv_export_is_utf8_with_bom_and_holds_only_visible_accounts(book, kam_client):
    response = kam_client.get(reverse("accounts:export", kwargs={"fmt": "csv"}))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="tokui-accounts-')
    body, rows = _csv(response)
    assert body.startswith(BOM)
    header, *data = rows
    assert header[:4] == ["ID", "Company name", "Legal form", "Kana reading"]
    assert header[-3:] == ["Tags", "Created", "Updated"]
    assert len(header) == 23
    names = [row[1] for row in data]
    assert names == ["大和物産株式会社", "株式会社東洋精機"]  # 50音順, like the list
    row = dict(zip(header, data[1], strict=True))
    assert row["Phone"] == "03-1234-5678"
    assert row["Employees"] == "500"
    assert row["Tier"] == "Key account"
    assert row["Owner"] == "kam"
    assert row["Tags"] == "展示会2026, 既存深耕"
    assert row["Legal form"] == "株式会社"


def test_export_applies_the_list_filters(book, kam_client):
    response = kam_client.get(
        reverse("accounts:export", kwargs={"fmt": "csv"}), {"q": "とうよう", "tier": "key"}
    )
    _body, rows = _csv(response)
    assert [row[1] for row in rows[1:]] == ["株式会社東洋精機"]
    by_industry = kam_client.get(
        reverse("accounts:export", kwargs={"fmt": "csv"}), {"industry": "卸売", "page": "7"}
    )
    assert [row[1] for row in _csv(by_industry)[1][1:]] == ["大和物産株式会社"]


def test_a_segment_shared_by_a_head_never_exports_another_teams_account(book, kam_client, head):
    segment = segment_create(
        actor=head, name="精密機械", filters={"industry": ["精密機械"]}, shared=True
    )
    head_view = segment_create(actor=head, name="北斗", filters={"search": "北斗"}, shared=True)
    response = kam_client.get(
        reverse("accounts:export", kwargs={"fmt": "csv"}), {"segment": segment.pk}
    )
    assert [row[1] for row in _csv(response)[1][1:]] == ["株式会社東洋精機"]
    response = kam_client.get(
        reverse("accounts:export", kwargs={"fmt": "csv"}), {"segment": head_view.pk}
    )
    assert _csv(response)[1][1:] == []
    contacts = kam_client.get(
        reverse("accounts:contact_export", kwargs={"fmt": "xlsx"}), {"segment": segment.pk}
    )
    sheet = _xlsx(contacts)
    assert [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["株式会社東洋精機"]


def test_another_users_private_segment_is_a_404(book, kam_client, am):
    private = segment_create(actor=am, name="非公開", filters={"tier": ["key"]})
    response = kam_client.get(
        reverse("accounts:export", kwargs={"fmt": "csv"}), {"segment": private.pk}
    )
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="accounts.export").exists()


def test_every_export_is_recorded_with_its_row_count_and_filters(book, kam_client, kam):
    _xlsx(kam_client.get(reverse("accounts:export", kwargs={"fmt": "xlsx"}), {"tier": "key"}))
    event = AuditEvent.objects.get(action="accounts.export")
    assert event.actor == kam
    assert event.changes["rows"] == [None, 1]
    assert event.changes["list"] == [None, "accounts"]
    assert event.changes["format"] == [None, "xlsx"]
    assert event.changes["filters"][1] == {"tier": "key", "sort": "name"}


def test_formulas_are_escaped_in_csv_and_xlsx(kam, kam_client, make_account):
    make_account(
        kam,
        name='=HYPERLINK("http://evil.example","click")',
        name_kana="アア",
        industry="+81 dial",
        city="-2+3",
        street="@SUM(1+1)",
        employees=42,
    )
    _body, rows = _csv(kam_client.get(reverse("accounts:export", kwargs={"fmt": "csv"})))
    header, row = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert row["Company name"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["Industry"] == "'+81 dial"
    assert row["City"] == "'-2+3"
    assert row["Street address"] == "'@SUM(1+1)"
    assert row["Employees"] == "42"

    sheet = _xlsx(kam_client.get(reverse("accounts:export", kwargs={"fmt": "xlsx"})))
    cells = {c.value: c for c in next(sheet.iter_rows(min_row=1, max_row=1))}
    assert list(cells) == header
    values = next(sheet.iter_rows(min_row=2, max_row=2))
    by_label = dict(zip(header, values, strict=True))
    assert by_label["Company name"].value == '\'=HYPERLINK("http://evil.example","click")'
    assert by_label["Company name"].data_type == "s"  # text, not a formula
    assert by_label["Industry"].value == "'+81 dial"
    assert by_label["Street address"].value == "'@SUM(1+1)"
    assert by_label["Employees"].value == 42  # numbers stay numbers where the column is numeric
    assert by_label["ID"].data_type == "n"


@pytest.mark.parametrize("value", ["=1", "+1", "-1", "@a", "\tx", "\rx"])
def test_every_dangerous_start_is_escaped(value):
    assert escape_formula(value) == "'" + value
    assert escape_formula("a" + value) == "a" + value
    assert escape_formula(5) == 5


def test_xlsx_opens_with_a_bold_frozen_header_and_phone_numbers_as_text(book, kam_client):
    response = kam_client.get(reverse("accounts:export", kwargs={"fmt": "xlsx"}))
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert 'filename="tokui-accounts-' in response["Content-Disposition"]
    sheet = _xlsx(response)
    assert sheet.title == "Accounts"
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].value == "ID" and sheet["A1"].font.b
    assert sheet.column_dimensions["B"].width > sheet.column_dimensions["A"].width
    rows = list(sheet.iter_rows(min_row=2, values_only=False))
    assert len(rows) == 2
    header = [c.value for c in sheet[1]]
    toyo = dict(zip(header, rows[1], strict=True))
    assert toyo["Phone"].value == "03-1234-5678" and toyo["Phone"].data_type == "s"
    assert toyo["Created"].is_date


def test_headers_follow_the_users_language(book, kam_client):
    response = kam_client.get(
        reverse("accounts:export", kwargs={"fmt": "csv"}), headers={"Accept-Language": "ja"}
    )
    header = _csv(response)[1][0]
    assert header[1] == "会社名"
    sheet = _xlsx(
        kam_client.get(
            reverse("accounts:export", kwargs={"fmt": "xlsx"}), headers={"Accept-Language": "ja"}
        )
    )
    assert sheet.title == "取引先"


def test_cp932_csv_replaces_what_shift_jis_cannot_hold(kam, kam_client, make_account):
    make_account(kam, name="𠮷野家食品株式会社", name_kana="ヨシノヤ", industry="Société 〜 ①")
    response = kam_client.get(
        reverse("accounts:export", kwargs={"fmt": "csv"}), {"encoding": "cp932"}
    )
    assert response["Content-Type"] == "text/csv; charset=windows-31j"
    body, rows = _csv(response, encoding="cp932")
    assert not body.startswith(BOM)
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Company name"] == "?野家食品株式会社"
    assert row["Industry"] == "Societe ～ ①"


def test_contacts_export_has_the_contact_columns(book, kam_client):
    response = kam_client.get(reverse("accounts:contact_export", kwargs={"fmt": "csv"}))
    _body, rows = _csv(response)
    header = rows[0]
    assert header[:3] == ["ID", "Account ID", "Account name"]
    assert "Consents to marketing" in header
    assert len(header) == 15
    assert sorted(row[3] for row in rows[1:]) == ["佐藤", "山田"]  # never 西田
    yamada = next(dict(zip(header, r, strict=True)) for r in rows[1:] if r[3] == "山田")
    assert yamada["Phone"] == "03-1234-5679"
    assert yamada["Consents to marketing"] == "no"


def test_the_export_buttons_carry_the_lists_filters(book, kam_client):
    page = kam_client.get(reverse("accounts:index"), {"q": "東洋", "page": "1"})
    assert 'href="/accounts/export.csv?q=%E6%9D%B1%E6%B4%8B"' in page.text
    assert 'href="/accounts/export.xlsx?q=%E6%9D%B1%E6%B4%8B"' in page.text
    contacts = kam_client.get(reverse("accounts:contact_index"), {"q": "山田"})
    assert 'href="/contacts/export.csv?q=%E5%B1%B1%E7%94%B0"' in contacts.text


def test_export_queries_do_not_grow_with_rows(kam, kam_client, make_account):
    def export_queries():
        with CaptureQueriesContext(connection) as ctx:
            response = kam_client.get(reverse("accounts:export", kwargs={"fmt": "csv"}))
            rows = _csv(response)[1]
        return len(ctx.captured_queries), len(rows) - 1

    for i in range(5):
        account_set_tags(actor=kam, account=make_account(kam), names=[f"タグ{i}", "共通"])
    small = export_queries()
    for i in range(45):
        account_set_tags(actor=kam, account=make_account(kam), names=[f"タグ{i}"])
    large = export_queries()
    assert (small[1], large[1]) == (5, 50)
    assert large[0] == small[0]


# The command line ----------------------------------------------------------------------------


def test_the_command_refuses_to_guess_whose_view_to_export(book, tmp_path):
    with pytest.raises(CommandError, match="--as USER"):
        call_command("export", "accounts", "-o", str(tmp_path / "a.csv"))
    with pytest.raises(CommandError, match="no user named"):
        call_command("export", "accounts", "-o", str(tmp_path / "a.csv"), "--as", "nobody")
    assert not list(tmp_path.iterdir())


def test_the_command_exports_what_the_user_sees_with_filters(book, tmp_path):
    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / "accounts.csv"
    call_command(
        "export",
        "accounts",
        "-o",
        str(target),
        "--as",
        "kam",
        "--industry",
        "製造業",
        stdout=out,
        stderr=err,
    )
    rows = list(csv.reader(io.StringIO(target.read_bytes().decode("utf-8-sig"))))
    assert [row[1] for row in rows[1:]] == ["株式会社東洋精機"]
    assert "Exported 1 accounts" in out.getvalue()
    event = AuditEvent.objects.get(action="accounts.export")
    assert event.actor.username == "kam"
    assert event.changes["filters"][1]["industry"] == ["製造業"]
    assert [p.name for p in tmp_path.iterdir()] == ["accounts.csv"]  # no temporary file left


def test_the_command_writes_xlsx_in_japanese_with_a_segment(book, tmp_path, kam):
    segment = segment_create(actor=kam, name="東京", filters={"prefecture": ["東京都"]})
    target = tmp_path / "export.xlsx"
    call_command(
        "export",
        "contacts",
        "-o",
        str(target),
        "--as",
        "kam",
        "--segment",
        str(segment.pk),
        "--lang",
        "ja",
        stdout=io.StringIO(),
    )
    sheet = openpyxl.load_workbook(target).active
    assert sheet.title == "担当者"
    assert [r[2] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["株式会社東洋精機"]


def test_the_command_reports_characters_cp932_cannot_hold(kam, make_account, tmp_path):
    make_account(kam, name="𠮷田商店株式会社")
    err = io.StringIO()
    target = tmp_path / "sjis.csv"
    call_command(
        "export",
        "accounts",
        "-o",
        str(target),
        "--as",
        "kam",
        "--encoding",
        "cp932",
        stdout=io.StringIO(),
        stderr=err,
    )
    assert "?田商店株式会社" in target.read_bytes().decode("cp932")
    assert "𠮷 ×1" in err.getvalue()


def test_the_command_refuses_a_private_segment_of_someone_else(book, tmp_path, am):
    private = segment_create(actor=am, name="非公開", filters={"tier": ["key"]})
    with pytest.raises(CommandError, match="No such segment"):
        call_command(
            "export",
            "accounts",
            "-o",
            str(tmp_path / "x.csv"),
            "--as",
            "kam",
            "--segment",
            str(private.pk),
        )
