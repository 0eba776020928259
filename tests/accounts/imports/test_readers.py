import io
import zipfile

import openpyxl
import pytest

from tests.accounts.imports.conftest import csv_bytes
from tokui.accounts.imports.readers import (
    CSV,
    VCARD,
    XLSX,
    ImportFileError,
    open_table,
    sniff_format,
)

HEADER = ["会社名", "電話番号", "備考"]
ROW = ["株式会社山田商事", "03-1234-5678", "東京本社"]


def read(data: bytes, *, name: str = "f.csv", encoding: str = "auto"):
    file = io.BytesIO(data)
    table = open_table(file, file_format=sniff_format(file, name), encoding=encoding)
    return table, list(table.rows())


def xlsx_bytes(rows) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_utf8_csv_is_read_row_by_row_with_spreadsheet_row_numbers():
    table, rows = read(csv_bytes([HEADER, ROW, ["有限会社テスト", "", ""]]))
    assert table.encoding == "utf-8"
    assert table.headers == HEADER
    assert [r.number for r in rows] == [2, 3]
    assert rows[0].cells == ROW
    assert table.count() == 2


def test_utf8_with_bom_drops_the_mark_from_the_first_column_name():
    table, rows = read(csv_bytes([HEADER, ROW], bom=True))
    assert table.encoding == "utf-8-sig"
    assert table.headers[0] == "会社名"
    assert rows[0].cells == ROW


def test_cp932_is_detected_without_being_told():
    table, rows = read(
        csv_bytes([HEADER, ROW, ["髙橋工業株式会社", "06-1234-5678", "①"]], encoding="cp932")
    )
    assert table.encoding == "cp932"
    assert rows[0].cells == ROW
    assert rows[1].cells[0] == "髙橋工業株式会社"  # a CP932-only character


def test_a_cp932_character_deep_in_an_ascii_file_is_still_detected():
    rows = [["name", "notes"]] + [[f"Company {i}", "x"] for i in range(5000)] + [["山田", "メモ"]]
    table, read_rows = read(csv_bytes(rows, encoding="cp932"))
    assert table.encoding == "cp932"
    assert read_rows[-1].cells == ["山田", "メモ"]


def test_quotes_and_newlines_inside_fields_stay_in_their_cell():
    data = 'name,notes\r\n"Acme, Inc.","first line\r\nsecond ""quoted"" line"\r\nBeta,x\r\n'
    _table, rows = read(data.encode())
    assert rows[0].cells == ["Acme, Inc.", 'first line\r\nsecond "quoted" line']
    assert rows[1].number == 3


def test_tab_separated_text_is_read_too():
    table, rows = read(b"name\tphone\r\nAcme\t03-1234-5678\r\n", name="f.txt")
    assert table.headers == ["name", "phone"]
    assert rows[0].cells == ["Acme", "03-1234-5678"]


def test_ragged_rows_are_refused_one_by_one_and_the_rest_is_read():
    data = csv_bytes([HEADER, ROW, ["only one"], [*ROW, "extra"], [*ROW, ""], ROW])
    _table, rows = read(data)
    assert [bool(r.problem) for r in rows] == [False, True, True, False, False]
    assert "1 cells but the file has 3 columns" in rows[1].problem
    assert "4 cells but the file has 3 columns" in rows[2].problem
    assert rows[3].cells == ROW  # an empty cell past the end is only padding


def test_undecodable_bytes_reject_their_row_only_and_name_the_bytes():
    good = "株式会社山田商事,03-1234-5678,ok\r\n".encode()
    broken = b"\xff\xfe broken,03-1111-2222,x\r\n"
    data = ",".join(HEADER).encode() + b"\r\n" + good + broken + good
    _table, rows = read(data, encoding="utf-8")
    assert [bool(r.problem) for r in rows] == [False, True, False]
    assert "0xFF 0xFE" in rows[1].problem
    assert "会社名" in rows[1].problem
    assert rows[1].number == 3


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\r\n\r\n  \r\n", b",,,\r\n"])
def test_an_empty_file_is_refused_as_a_whole(data):
    with pytest.raises(ImportFileError, match=r"empty|no column names"):
        read(data)


def test_duplicate_column_names_are_refused_naming_them():
    with pytest.raises(ImportFileError) as exc:
        read(csv_bytes([["会社名", "電話番号", "会社名"], ["a", "b", "c"]]))
    assert "“会社名” (columns 1, 3)" in exc.value.message


def test_formulas_are_plain_text():
    _table, rows = read(csv_bytes([["name", "notes"], ["=cmd|' /C calc'!A0", "@SUM(1+1)"]]))
    assert rows[0].cells == ["=cmd|' /C calc'!A0", "@SUM(1+1)"]


def test_xlsx_is_read_in_streaming_mode_and_formulas_are_not_evaluated():
    data = xlsx_bytes(
        [HEADER, ROW, [None, None, None], ["合同会社テスト", 312345678, "=1+1"], ["x", 1.5, None]]
    )
    table, rows = read(data, name="book.xlsx")
    assert table.file_format == XLSX
    assert table.headers == HEADER
    assert rows[0].cells == ROW
    assert rows[1].blank
    assert rows[2].cells == ["合同会社テスト", "312345678", "=1+1"]
    assert rows[3].cells == ["x", "1.5", ""]
    assert [r.number for r in rows] == [2, 3, 4, 5]
    assert table.count() == 4


def test_an_xlsx_over_the_size_limit_is_refused_before_it_is_opened(settings):
    settings.TOKUI_IMPORT_MAX_BYTES = 1000
    with pytest.raises(ImportFileError, match="limit for XLSX files"):
        read(xlsx_bytes([HEADER, ROW]), name="big.xlsx")


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<a>" + "0" * 50_000_000 + "</a>")
    with pytest.raises(ImportFileError, match="zip bomb"):
        read(out.getvalue(), name="bomb.xlsx")


def test_a_damaged_xlsx_is_refused_with_a_message():
    with pytest.raises(ImportFileError, match="not a readable XLSX"):
        read(b"PK\x03\x04 this is not really a zip", name="broken.xlsx")


def test_an_old_xls_is_refused_with_what_to_do():
    with pytest.raises(ImportFileError, match=r"\.xlsx or CSV"):
        read(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, name="old.xls")


VCARDS = """BEGIN:VCARD
VERSION:3.0
N:山田;太郎;;;
FN:山田 太郎
ORG:株式会社山田商事;営業部
TITLE:部長
EMAIL;TYPE=INTERNET,WORK:taro@yamada.example.jp
TEL;TYPE=WORK,VOICE:03-1234-5678
TEL;TYPE=CELL:090-1234-5678
TEL;TYPE=WORK,FAX:03-1234-5679
ADR;TYPE=WORK:;;丸の内1-1-1;千代田区;東京都;100-0005;日本
X-PHONETIC-LAST-NAME:ヤマダ
X-PHONETIC-FIRST-NAME:タロウ
END:VCARD
BEGIN:VCARD
VERSION:3.0
N:Broken
THIS LINE IS NOT A PROPERTY
END:VCARD
BEGIN:VCARD
VERSION:2.1
N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E4=BD=90=E8=97=A4;=E8=8A=B1=E5=AD=90
ORG:Contoso Ltd.
SOUND;X-IRMC-N:サトウ;ハナコ;;;
END:VCARD
"""


def test_vcards_become_contact_rows_with_the_org_as_company():
    table, rows = read(VCARDS.replace("\n", "\r\n").encode(), name="cards.vcf")
    assert table.file_format == VCARD
    first = dict(zip(table.headers, rows[0].cells, strict=True))
    assert first["family_name"] == "山田"
    assert first["given_name"] == "太郎"
    assert first["account"] == "株式会社山田商事"
    assert first["department"] == "営業部"
    assert first["title"] == "部長"
    assert first["email"] == "taro@yamada.example.jp"
    assert first["phone"] == "03-1234-5678"
    assert first["mobile"] == "090-1234-5678"
    assert first["account_fax"] == "03-1234-5679"
    assert first["account_postal_code"] == "100-0005"
    assert first["account_address"] == "東京都 千代田区 丸の内1-1-1"
    assert first["family_name_kana"] == "ヤマダ"
    assert "cannot be read" in rows[1].problem  # one broken card, the others are read
    third = dict(zip(table.headers, rows[2].cells, strict=True))
    assert third["family_name"] == "佐藤"
    assert third["given_name"] == "花子"
    assert third["family_name_kana"] == "サトウ"
    assert [r.number for r in rows] == [1, 2, 3]
    assert table.count() == 3


def test_rows_can_be_skipped_to_resume():
    data = csv_bytes([HEADER] + [[f"会社{i}", "", ""] for i in range(10)])
    file = io.BytesIO(data)
    table = open_table(file, file_format=CSV)
    rows = list(table.rows(skip=7))
    assert [r.cells[0] for r in rows] == ["会社7", "会社8", "会社9"]
    assert rows[0].number == 9
    xlsx = open_table(
        io.BytesIO(xlsx_bytes([HEADER] + [[f"会社{i}"] for i in range(10)])), file_format=XLSX
    )
    assert [r.cells[0] for r in xlsx.rows(skip=8)] == ["会社8", "会社9"]
