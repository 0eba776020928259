"""Parsing and matching of mail, without a server: whatever arrives, nothing crashes."""

from email.header import Header

import pytest

from tokui.activities.mail.matching import account_for_domain, is_free_mail
from tokui.activities.mail.parsing import html_to_text, parse_message


def test_iso_2022_jp_subject_and_body():
    name, subject = Header("山田", "iso-2022-jp").encode(), Header("見積", "iso-2022-jp").encode()
    raw = (
        f"From: {name} <yamada@example.co.jp>\r\nSubject: {subject}\r\n".encode()
        + b"Message-ID: <x@y>\r\n"
        b"In-Reply-To: <a@b>\r\nReferences: <root@b> <a@b>\r\n"
        b"Content-Type: text/plain; charset=ISO-2022-JP\r\n\r\n"
        + "お世話になります".encode("iso2022_jp")
    )
    mail = parse_message(raw)
    assert mail.from_name == "山田" and mail.from_address == "yamada@example.co.jp"
    assert mail.subject == "見積"
    assert mail.text == "お世話になります"
    assert mail.thread_root == "<root@b>" and mail.thread_ids == ["<a@b>", "<root@b>"]


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage \r\n\r\n\x00",
        b"Subject: =?unknown?Q?=E3=81=82?=\r\n\r\nbody",
        b"Content-Type: multipart/mixed\r\n\r\nno boundary at all",
        b"From: <<<@@@>>>\r\nTo: ,,,\r\nDate: not a date\r\n\r\nx",
        b'Content-Type: text/plain; charset=""\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!',
    ],
)
def test_broken_messages_parse_without_raising(raw):
    mail = parse_message(raw)
    assert mail.message_id.endswith("@synthetic.tokui>")
    assert "\x00" not in mail.text and "\x00" not in mail.subject
    assert parse_message(raw).message_id == mail.message_id  # stable


def test_header_newlines_cannot_smuggle_headers():
    mail = parse_message(b"Subject: a\r\n b\r\nMessage-ID: <s@x>\r\n\r\n")
    assert mail.subject == "a b"


def test_html_to_text_drops_script_and_style():
    text = html_to_text(
        "<style>x{}</style><p>Hello&nbsp;<b>there</b></p><script>evil()</script><br>二行目"
    )
    assert "evil" not in text and "x{}" not in text
    assert text.splitlines()[0].startswith("Hello") and "二行目" in text


def test_free_mail_domains():
    assert is_free_mail("a@gmail.com") and is_free_mail("a@yahoo.co.jp")
    assert is_free_mail("a@outlook.jp") and is_free_mail("a@icloud.com")
    assert not is_free_mail("a@yamada.co.jp")


def test_domain_match_needs_exactly_one_account(kam, make_account):
    assert account_for_domain("x@gmail.com") is None
    one = make_account(kam, website="https://www.yamada.co.jp")
    assert account_for_domain("x@sub.yamada.co.jp") == one
    assert account_for_domain("x@co.jp") is None
    make_account(kam, website="yamada.co.jp/other")
    assert account_for_domain("x@yamada.co.jp") is None  # two companies: no guess
