"""Sending mail to a contact: templates, placeholders, attachments, a real SMTP server."""

from email.header import decode_header, make_header

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tokui.activities.constants import Direction, InteractionKind, InteractionSource
from tokui.activities.mail import outbound
from tokui.activities.mail.templates import (
    email_template_create,
    email_template_delete,
    email_template_update,
    honorific_name,
)
from tokui.activities.models import EmailTemplate, Interaction
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.models import AuditEvent

from .mailservers import SmtpServer, free_port, smtp_server  # noqa: F401


@pytest.fixture
def sender(kam):
    kam.email = "kamiya@tokui.example"
    kam.save()
    return kam


@pytest.fixture
def contact(sender, make_account, make_contact):
    account = make_account(sender, name="株式会社山田商事")
    return make_contact(account, email="taro@yamada.co.jp", department="購買部")


def send(actor, contact, capture, **kwargs):
    kwargs.setdefault("subject", "{account_name} {honorific_name}")
    kwargs.setdefault(
        "body", "{honorific_name}\n\nいつもお世話になっております。{sender_name}です。"
    )
    with capture(execute=True):
        return outbound.email_send(actor=actor, contact=contact, **kwargs)


def test_send_through_a_real_smtp_server(
    smtp_server: SmtpServer,  # noqa: F811
    sender,
    contact,
    django_capture_on_commit_callbacks,
):
    pdf = SimpleUploadedFile("提案書.pdf", b"%PDF-1.4 proposal", content_type="application/pdf")
    interaction = send(sender, contact, django_capture_on_commit_callbacks, attachments=[pdf])

    interaction.refresh_from_db()
    assert interaction.delivery_status == "sent" and interaction.delivery_error == ""
    assert interaction.kind == InteractionKind.EMAIL
    assert interaction.direction == Direction.OUTBOUND
    assert interaction.source == InteractionSource.MAIL_OUT
    assert interaction.subject == "株式会社山田商事 山田 様"
    assert list(interaction.contacts.all()) == [contact]
    assert interaction.attachments.get().name == "提案書.pdf"

    [received] = smtp_server.received
    assert received["to"] == ["taro@yamada.co.jp"]
    [message] = smtp_server.messages()
    # The raw header is MIME-encoded ASCII and decodes to the Japanese subject.
    head = received["data"].split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    assert str(make_header(decode_header(message["Subject"]))) == "株式会社山田商事 山田 様"
    assert message["Message-ID"] == interaction.message_id
    assert interaction.message_id.endswith("@tokui.example>")
    assert "kamiya@tokui.example" in message["From"] and "Kei Kamiya" in message["From"]
    body = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert body.startswith("山田 様\n") and "Kei Kamiyaです。" in body
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "提案書.pdf"
    assert attachment.get_content() == b"%PDF-1.4 proposal"
    assert AuditEvent.objects.filter(
        action="activities.email.sent", scope=f"account:{contact.account_id}"
    ).exists()


def test_unreachable_server_marks_failed_and_retry_sends(
    settings, sender, contact, django_capture_on_commit_callbacks
):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 2},
        }
    }
    interaction = send(sender, contact, django_capture_on_commit_callbacks)
    interaction.refresh_from_db()
    assert interaction.delivery_status == "failed"
    assert "Connection refused" in interaction.delivery_error or interaction.delivery_error

    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        outbound.email_retry(actor=sender, interaction=interaction)
    interaction.refresh_from_db()
    assert interaction.delivery_status == "sent" and len(mail.outbox) == 1
    with pytest.raises(ApplicationError, match="failed"):
        outbound.email_retry(actor=sender, interaction=interaction)


@pytest.mark.parametrize(
    ("subject", "body", "field"),
    [
        ("Hello\r\nBcc: victim@example.com", "text", "subject"),
        ("Hello\nX-Evil: 1", "text", "subject"),
        ("{unknown}", "text", "subject"),
        ("ok", "Dear {contact.account.owner.password}", "body"),
        ("ok", "{nope}", "body"),
        ("", "text", "subject"),
        ("ok", "   ", "body"),
        ("x" * 301, "text", "subject"),
    ],
)
def test_bad_mail_is_refused_and_nothing_recorded(sender, contact, subject, body, field):
    with pytest.raises(ApplicationError) as caught:
        outbound.email_send(actor=sender, contact=contact, subject=subject, body=body)
    assert field in caught.value.errors
    assert not Interaction.objects.exists() and not mail.outbox


def test_unknown_placeholder_message_names_it(sender, contact):
    with pytest.raises(ApplicationError) as caught:
        outbound.email_compose(actor=sender, contact=contact, subject="{oops}", body="x")
    assert "{oops}" in caught.value.errors["subject"][0]
    assert "{contact_name}" in caught.value.errors["subject"][0]


def test_lone_braces_are_kept(sender, contact):
    draft = outbound.email_compose(
        actor=sender, contact=contact, subject="Price {", body="a } b { c {contact_name}"
    )
    assert draft.subject == "Price {" and draft.body == "a } b { c 山田 太郎"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("setup.exe", b"MZ\x90\x00"),
        ("invoice.pdf", b"MZ\x90\x00 disguised"),
        ("run.sh", b"#!/bin/sh\n"),
        ("empty.pdf", b""),
    ],
)
def test_executable_or_empty_attachment_refused(sender, contact, name, content):
    upload = SimpleUploadedFile(name, content)
    with pytest.raises(ApplicationError) as caught:
        outbound.email_send(
            actor=sender, contact=contact, subject="s", body="b", attachments=[upload]
        )
    assert "attachments" in caught.value.errors
    assert not Interaction.objects.exists()


def test_huge_attachment_refused(sender, contact, monkeypatch):
    monkeypatch.setattr(outbound, "MAX_ATTACHMENT_BYTES", 1024)
    upload = SimpleUploadedFile("big.pdf", b"%PDF" + b"x" * 2048)
    with pytest.raises(ApplicationError, match="larger than"):
        outbound.email_send(
            actor=sender, contact=contact, subject="s", body="b", attachments=[upload]
        )
    assert not Interaction.objects.exists()


def test_contact_without_address_or_invisible(sender, west_am, contact, make_contact):
    contact.email = ""
    contact.save()
    with pytest.raises(ApplicationError) as caught:
        outbound.email_send(actor=sender, contact=contact, subject="s", body="b")
    assert "to" in caught.value.errors
    with pytest.raises(ApplicationError) as caught:
        outbound.email_send(actor=west_am, contact=contact, subject="s", body="b")
    assert caught.value.status == 404


def test_honorific_by_language(sender, contact, make_contact):
    assert honorific_name(contact, "ja") == "山田 様"
    assert honorific_name(contact, "en") == "山田 様"  # no romanised name to use
    smith = make_contact(contact.account, family_name="Smith", given_name="Anna")
    assert honorific_name(smith, "en") == "Anna Smith"
    assert honorific_name(smith, "ja") == "Smith 様"


# --- templates ----------------------------------------------------------------------------------


def test_templates_managed_by_admins_and_heads_only(head, kam, admin_user):
    data = {"name": "お礼", "language": "ja", "subject": "お礼", "body": "{honorific_name}"}
    with pytest.raises(PermissionDenied):
        email_template_create(actor=kam, data=data)
    template = email_template_create(actor=head, data=data)
    template = email_template_update(
        actor=admin_user, template=template, data={"subject": "本日のお礼"}
    )
    assert template.subject == "本日のお礼"
    with pytest.raises(ApplicationError) as caught:
        email_template_update(actor=head, template=template, data={"body": "{bad}"})
    assert "body" in caught.value.errors
    with pytest.raises(ApplicationError) as caught:
        email_template_create(actor=head, data={**data, "subject": "a\nb"})
    assert "subject" in caught.value.errors and "name" in caught.value.errors  # taken too
    email_template_delete(actor=head, template=template)
    assert not EmailTemplate.objects.exists()


def test_stale_template_edit_refused(head):
    template = email_template_create(
        actor=head, data={"name": "t", "language": "en", "subject": "s", "body": "b"}
    )
    stale = template.updated_at.isoformat()
    email_template_update(actor=head, template=template, data={"body": "new"})
    with pytest.raises(ApplicationError) as caught:
        email_template_update(actor=head, template=template, data={"body": "x"}, updated_at=stale)
    assert caught.value.status == 409


# --- pages --------------------------------------------------------------------------------------


def test_contact_page_has_the_button_and_compose_sends(
    client, sender, contact, head, django_capture_on_commit_callbacks
):
    template = email_template_create(
        actor=head,
        data={
            "name": "アポイントのお礼",
            "language": "ja",
            "subject": "本日はありがとうございました",
            "body": "{account_name}\n{honorific_name}\n\n{sender_name}",
        },
    )
    client.force_login(sender)
    page = client.get(reverse("accounts:contact_detail", args=[contact.pk]))
    compose_url = reverse("activities:email_compose", args=[contact.pk])
    assert compose_url in page.content.decode()

    filled = client.get(compose_url, {"template": template.pk})
    assert "本日はありがとうございました" in filled.content.decode()

    preview = client.post(
        compose_url,
        {"language": "ja", "subject": template.subject, "body": template.body, "action": "preview"},
    )
    assert preview.status_code == 200
    assert "株式会社山田商事\n山田 様" in preview.content.decode()
    assert not Interaction.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(
            compose_url,
            {
                "language": "ja",
                "subject": template.subject,
                "body": template.body,
                "action": "send",
                "attachments": [SimpleUploadedFile("a.txt", b"hello")],
            },
        )
    assert sent.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["taro@yamada.co.jp"]
    assert Interaction.objects.get().delivery_status == "sent"


def test_compose_shows_errors_next_to_fields(client, sender, contact):
    client.force_login(sender)
    response = client.post(
        reverse("activities:email_compose", args=[contact.pk]),
        {"language": "ja", "subject": "x {what}", "body": "b", "action": "send"},
    )
    assert response.status_code == 422
    assert "{what}" in response.content.decode()
    assert not Interaction.objects.exists()


def test_template_pages(client, head, kam):
    client.force_login(head)
    response = client.post(
        reverse("activities:email_template_create"),
        {
            "name": "ご提案書送付",
            "language": "ja",
            "subject": "ご提案書",
            "body": "{honorific_name}",
        },
    )
    assert response.status_code == 302
    template = EmailTemplate.objects.get()
    assert client.get(reverse("activities:email_templates")).status_code == 200
    response = client.post(
        reverse("activities:email_template_edit", args=[template.pk]),
        {
            "name": "ご提案書送付",
            "language": "ja",
            "subject": "ご提案書",
            "body": "{oops}",
            "updated_at": template.updated_at.isoformat(),
        },
    )
    assert response.status_code == 422
    client.force_login(kam)
    assert client.get(reverse("activities:email_template_create")).status_code == 403
    assert client.get(reverse("activities:email_templates")).status_code == 200
    client.force_login(head)
    client.post(reverse("activities:email_template_delete", args=[template.pk]))
    assert not EmailTemplate.objects.exists()


def test_mailbox_page_is_for_admins(client, admin_user, kam):
    client.force_login(kam)
    assert client.get(reverse("activities:mailboxes")).status_code == 403
    client.force_login(admin_user)
    assert client.get(reverse("activities:mailboxes")).status_code == 200
