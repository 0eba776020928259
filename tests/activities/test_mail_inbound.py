"""`tokui mail fetch` against a real IMAP server (dovecot in a temp dir)."""

import base64
from email.header import Header
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tokui.activities.constants import Direction, InteractionKind, InteractionSource
from tokui.activities.mail.inbound import ANSWER_TASK_SOURCE, mail_fetch_all
from tokui.activities.mail.tasks import mail_fetch_enqueue_if_due, mail_fetch_task
from tokui.activities.models import Interaction, Mailbox, Task
from tokui.core.models import AuditEvent

from .mailservers import ImapServer, imap_server  # noqa: F401


def iso2022(text: str) -> str:
    return Header(text, "iso-2022-jp").encode()


def jis_mail(
    *,
    sender: str,
    to: str = "sales@tokui.example",
    subject: str = "お見積りの件",
    body: str = "いつもお世話になっております。\r\n見積書をお送りします。\r\n",
    message_id: str | None = "<m1@customer.example>",
    extra: str = "",
) -> bytes:
    headers = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {iso2022(subject)}",
        "Date: Thu, 26 Nov 2026 10:00:00 +0900",
        "MIME-Version: 1.0",
        'Content-Type: text/plain; charset="ISO-2022-JP"',
        "Content-Transfer-Encoding: 7bit",
    ]
    if message_id:
        headers.append(f"Message-ID: {message_id}")
    if extra:
        headers.append(extra)
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body.encode("iso2022_jp")


def with_attachment(*, sender: str, message_id: str, payload: bytes, name: str) -> bytes:
    encoded = base64.encodebytes(payload).decode()
    fname = Header(name, "utf-8").encode()
    return (
        f"From: {sender}\r\nTo: sales@tokui.example\r\nSubject: =?UTF-8?B?"
        f"{base64.b64encode('資料送付'.encode()).decode()}?=\r\n"
        f"Message-ID: {message_id}\r\nDate: Thu, 26 Nov 2026 11:00:00 +0900\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="XX"\r\n\r\n'
        "--XX\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head>"
        "<body><p>資料を&amp;添付します。</p><p>よろしく</p></body></html>\r\n"
        "--XX\r\nContent-Type: application/pdf\r\n"
        f'Content-Disposition: attachment; filename="{fname}"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n--XX--\r\n"
    ).encode()


@pytest.fixture
def customer(kam, make_account, make_contact):
    account = make_account(kam, name="株式会社山田商事", website="https://www.yamada.co.jp")
    contact = make_contact(account, email="Taro.Yamada@Yamada.co.jp")
    return account, contact


@pytest.fixture
def mailbox(imap_server: ImapServer, kam):  # noqa: F811
    return Mailbox.objects.create(
        name="kam",
        address="kam@tokui.example",
        host=imap_server.host,
        port=imap_server.port,
        use_ssl=False,
        username=imap_server.username,
        password=imap_server.password,
        owner=kam,
    )


def test_fetch_matches_contact_decodes_japanese_and_never_duplicates(
    imap_server,  # noqa: F811
    mailbox,
    customer,
):
    account, contact = customer
    imap_server.append(jis_mail(sender="山田 <taro.yamada@yamada.co.jp>"))

    out = StringIO()
    call_command("mail", "fetch", stdout=out)

    mail = Interaction.objects.get()
    assert mail.account == account
    assert list(mail.contacts.all()) == [contact]
    assert mail.kind == InteractionKind.EMAIL
    assert mail.direction == Direction.INBOUND
    assert mail.source == InteractionSource.MAIL_IN
    assert mail.subject == "お見積りの件"
    assert "見積書をお送りします。" in mail.body
    assert mail.message_id == "<m1@customer.example>"
    assert mail.mailbox == mailbox
    assert mail.occurred_at.isoformat().startswith("2026-11-26T01:00:00")
    assert "1 stored" in out.getvalue()
    assert AuditEvent.objects.filter(
        action="activities.interaction.recorded", scope=f"account:{account.pk}"
    ).exists()
    # Nothing is marked seen or deleted on the server.
    assert all(b"\\Seen" not in f and b"\\Deleted" not in f for f in imap_server.flags())

    # Re-running finds nothing new; starting over (a new UIDVALIDITY) stores nothing twice.
    call_command("mail", "fetch", stdout=StringIO())
    Mailbox.objects.filter(pk=mailbox.pk).update(uid_validity=1, last_uid=0)
    out = StringIO()
    call_command("mail", "fetch", stdout=out)
    assert Interaction.objects.count() == 1
    assert "1 already known" in out.getvalue()


def test_fetch_reads_incrementally_by_uid(imap_server, mailbox, customer):  # noqa: F811
    imap_server.append(jis_mail(sender="taro.yamada@yamada.co.jp", message_id="<a@x>"))
    mail_fetch_all()
    imap_server.append(jis_mail(sender="taro.yamada@yamada.co.jp", message_id="<b@x>"))
    [summary] = mail_fetch_all()
    assert summary.new == 1 and summary.stored == 1
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 2 and mailbox.uid_validity
    assert mailbox.last_error == "" and mailbox.last_fetched_at is not None


def test_attachment_stored_and_html_converted_safely(imap_server, mailbox, customer):  # noqa: F811
    pdf = b"%PDF-1.4 test"
    imap_server.append(
        with_attachment(
            sender="taro.yamada@yamada.co.jp",
            message_id="<att@x>",
            payload=pdf,
            name="見積書.pdf",
        )
    )
    mail_fetch_all()
    mail = Interaction.objects.get()
    assert mail.subject == "資料送付"
    assert "資料を&添付します。" in mail.body
    assert "alert" not in mail.body and "color" not in mail.body and "<p>" not in mail.body
    [attachment] = mail.attachments.all()
    assert attachment.name == "見積書.pdf"
    assert attachment.size == len(pdf)
    assert attachment.content_type == "application/pdf"
    import hashlib

    assert attachment.sha256 == hashlib.sha256(pdf).hexdigest()
    with attachment.file.open("rb") as handle:
        assert handle.read() == pdf


def test_huge_attachment_not_kept_but_message_is(
    imap_server,  # noqa: F811
    mailbox,
    customer,
    monkeypatch,
):
    monkeypatch.setattr("tokui.activities.mail.inbound.MAX_ATTACHMENT_BYTES", 1000)
    imap_server.append(
        with_attachment(
            sender="taro.yamada@yamada.co.jp",
            message_id="<big@x>",
            payload=b"%PDF" + b"x" * 5000,
            name="big.pdf",
        )
    )
    mail_fetch_all()
    mail = Interaction.objects.get()
    assert not mail.attachments.exists()
    assert "big.pdf" in mail.body


def test_huge_message_keeps_headers_only(imap_server, mailbox, customer, monkeypatch):  # noqa: F811
    monkeypatch.setattr("tokui.activities.mail.inbound.MAX_MESSAGE_BYTES", 200)
    imap_server.append(jis_mail(sender="taro.yamada@yamada.co.jp", body="本文" * 500))
    mail_fetch_all()
    mail = Interaction.objects.get()
    assert mail.subject == "お見積りの件"
    assert "本文本文" not in mail.body


def test_domain_match_but_not_free_mail(imap_server, mailbox, customer):  # noqa: F811
    account, _contact = customer
    imap_server.append(jis_mail(sender="suzuki@mail.yamada.co.jp", message_id="<d1@x>"))
    imap_server.append(jis_mail(sender="someone@gmail.com", message_id="<d2@x>"))
    [summary] = mail_fetch_all()
    assert summary.stored == 1 and summary.unmatched == 1
    mail = Interaction.objects.get()
    assert mail.account == account and not mail.contacts.exists()
    assert not Task.objects.exists()  # a personal mailbox makes no "answer" tasks


def test_thread_reply_goes_to_the_same_account(imap_server, mailbox, customer):  # noqa: F811
    account, _contact = customer
    imap_server.append(jis_mail(sender="taro.yamada@yamada.co.jp", message_id="<root@x>"))
    imap_server.append(
        jis_mail(
            sender="private@gmail.com",
            message_id="<reply@x>",
            subject="Re: お見積りの件",
            extra="In-Reply-To: <root@x>\r\nReferences: <root@x>",
        )
    )
    mail_fetch_all()
    reply = Interaction.objects.get(message_id="<reply@x>")
    assert reply.account == account
    assert reply.in_reply_to == "<root@x>"
    assert reply.thread_key == "<root@x>"


def test_own_address_makes_it_outbound(imap_server, mailbox, customer):  # noqa: F811
    imap_server.append(
        jis_mail(sender="kam@tokui.example", to="taro.yamada@yamada.co.jp", message_id="<o@x>")
    )
    mail_fetch_all()
    mail = Interaction.objects.get()
    assert mail.direction == Direction.OUTBOUND
    assert mail.contacts.count() == 1


def test_shared_mailbox_unknown_sender_gets_one_answer_task(
    imap_server,  # noqa: F811
    mailbox,
    customer,
    kam,
):
    mailbox.shared = True
    mailbox.save()
    imap_server.append(jis_mail(sender="新規 <new@startup.example>", message_id="<n1@x>"))
    imap_server.append(jis_mail(sender="new@startup.example", message_id="<n2@x>"))
    imap_server.append(jis_mail(sender="suzuki@yamada.co.jp", message_id="<n3@x>"))
    imap_server.append(jis_mail(sender="taro.yamada@yamada.co.jp", message_id="<n4@x>"))
    [summary] = mail_fetch_all()
    assert summary.tasks == 2
    unmatched = Task.objects.get(account=None)
    assert unmatched.title == "Answer: お見積りの件"
    assert unmatched.owner == kam and unmatched.source == ANSWER_TASK_SOURCE
    assert "new@startup.example" in unmatched.notes and "2026-11-26" in unmatched.notes
    by_domain = Task.objects.get(account__isnull=False)
    assert by_domain.interaction.message_id == "<n3@x>"
    # Mail from unmatched senders is not stored; the known contact's is, with no task.
    assert set(Interaction.objects.values_list("message_id", flat=True)) == {"<n3@x>", "<n4@x>"}

    # Fetching everything again (new UIDVALIDITY) makes no second task.
    Mailbox.objects.filter(pk=mailbox.pk).update(uid_validity=1, last_uid=0)
    mail_fetch_all()
    assert Task.objects.count() == 2


def test_message_without_message_id_gets_a_stable_synthetic_one(
    imap_server,  # noqa: F811
    mailbox,
    customer,
):
    imap_server.append(jis_mail(sender="taro.yamada@yamada.co.jp", message_id=None))
    mail_fetch_all()
    Mailbox.objects.filter(pk=mailbox.pk).update(uid_validity=1, last_uid=0)
    mail_fetch_all()
    mail = Interaction.objects.get()
    assert mail.message_id.endswith("@synthetic.tokui>")


def test_broken_mime_and_unknown_charset_are_stored_safely(
    imap_server,  # noqa: F811
    mailbox,
    customer,
):
    imap_server.append(
        b"From: taro.yamada@yamada.co.jp\r\nTo: sales@tokui.example\r\n"
        b"Subject: =?x-unknown-42?B?gqCCog==?=\r\nMessage-ID: <broken@x>\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="nope"\r\n\r\n'
        b"--wrong\r\nContent-Type: text/plain; charset=klingon\r\n\r\n\x82\xa0\x82\xa2\xff\x00\r\n"
    )
    imap_server.append(
        b"From: taro.yamada@yamada.co.jp\r\nSubject: sjis\r\nMessage-ID: <sjis@x>\r\n"
        b"Content-Type: text/plain; charset=Shift_JIS\r\n\r\n"
        + "①お世話になっております".encode("cp932")
    )
    [summary] = mail_fetch_all()
    assert summary.stored == 2 and not summary.error
    assert "①お世話になっております" in Interaction.objects.get(message_id="<sjis@x>").body
    broken = Interaction.objects.get(message_id="<broken@x>")
    assert "\x00" not in broken.body and "\x00" not in broken.subject


def test_error_in_one_mailbox_does_not_stop_the_others(
    imap_server,  # noqa: F811
    mailbox,
    customer,
):
    Mailbox.objects.create(
        name="aaa-broken",
        address="x@tokui.example",
        host="127.0.0.1",
        port=imap_server.port,
        use_ssl=False,
        username="tester",
        password="wrong",
    )
    imap_server.append(jis_mail(sender="taro.yamada@yamada.co.jp"))
    out = StringIO()
    call_command("mail", "fetch", stdout=out)
    broken = Mailbox.objects.get(name="aaa-broken")
    assert broken.last_error and broken.last_uid == 0
    assert Interaction.objects.count() == 1
    assert "aaa-broken" in out.getvalue() and "error" in out.getvalue()


def test_fetch_one_mailbox_by_name_and_unknown_name(imap_server, mailbox, customer):  # noqa: F811
    with pytest.raises(CommandError, match="no mailbox named"):
        call_command("mail", "fetch", "--mailbox", "nope", stdout=StringIO())
    out = StringIO()
    call_command("mail", "fetch", "--mailbox", "kam", stdout=out)
    assert out.getvalue().startswith("kam:")


def test_periodic_task_fetches_active_mailboxes(imap_server, mailbox, customer):  # noqa: F811
    imap_server.append(jis_mail(sender="taro.yamada@yamada.co.jp"))
    result = mail_fetch_task.enqueue()
    assert result.return_value == {"mailboxes": 1, "stored": 1, "errors": []}
    assert Interaction.objects.count() == 1


def test_scheduler_enqueues_only_with_an_active_mailbox(db):
    assert mail_fetch_enqueue_if_due() is False
    Mailbox.objects.create(
        name="dead", address="a@b.example", host="127.0.0.1", port=9, use_ssl=False, username="u"
    )
    assert mail_fetch_enqueue_if_due() is True  # run at once in tests: the error is recorded
    assert Mailbox.objects.get().last_error
