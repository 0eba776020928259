"""Notifications: rows under the bell, one e-mail per person after commit, the page."""

import pytest
from django.core import mail
from django.urls import reverse

from tests.activities.mailservers import free_port
from tokui.users.models import Notification
from tokui.users.notifications import notification_open, notify


def test_notify_writes_rows_and_mails_each_person_after_commit(
    kam, head, make_user, django_capture_on_commit_callbacks, settings
):
    settings.TOKUI_BASE_URL = "https://tokui.example.jp"
    kam.email = "kam@example.jp"
    kam.save()
    no_mail = make_user("nomail", "am")
    gone = make_user("gone", "am", is_active=False, email="gone@example.jp")
    with django_capture_on_commit_callbacks(execute=True):
        created = notify(
            users=[kam, kam, no_mail, gone, head],
            title="Approval needed: 条件",
            body="山田商事の値引き",
            url="/pricing/approvals/1/",
        )
        assert mail.outbox == []  # nothing is sent before the commit
    assert len(created) == 3  # each once, the inactive skipped
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["kam@example.jp"]
    assert message.subject == "Approval needed: 条件"
    assert "https://tokui.example.jp/pricing/approvals/1/" in message.body


def test_notify_without_mail_sends_nothing(kam, django_capture_on_commit_callbacks):
    kam.email = "kam@example.jp"
    kam.save()
    with django_capture_on_commit_callbacks(execute=True):
        notify(users=[kam], title="x", mail=False)
    assert mail.outbox == []
    assert Notification.objects.filter(user=kam).count() == 1


def test_opening_marks_read_and_others_cannot_open_mine(kam, am):
    (note,) = notify(users=[kam], title="x", url="/pricing/approvals/1/", mail=False)
    from tokui.core.exceptions import NotFound

    with pytest.raises(NotFound):
        notification_open(actor=am, notification_id=note.pk)
    assert notification_open(actor=kam, notification_id=note.pk).read_at is not None


def test_bell_count_page_open_and_mark_all_read(client, kam):
    notify(users=[kam], title="承認依頼 A", url="/notifications/", mail=False)
    (second,) = notify(users=[kam], title="承認依頼 B", url="https://evil.example/", mail=False)
    client.force_login(kam)
    page = client.get(reverse("pricing:notification_index"))
    assert page.status_code == 200
    assert '<span class="bell-count">2</span>' in page.text
    assert "承認依頼 A" in page.text and "承認依頼 B" in page.text
    response = client.post(reverse("pricing:notification_open", args=[second.pk]))
    assert (
        response.status_code == 302 and response["Location"] == "/notifications/"
    )  # no open redirect
    assert '<span class="bell-count">1</span>' in client.get("/notifications/").text
    client.post(reverse("pricing:notification_read_all"))
    assert not Notification.objects.filter(user=kam, read_at=None).exists()
    assert "bell-count" not in client.get("/notifications/").text


def test_a_mail_server_that_is_down_loses_no_notification(
    kam, django_capture_on_commit_callbacks, settings
):
    settings.MAILERS = {  # nothing listens on that port: the SMTP connection is refused
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 2},
        }
    }
    kam.email = "kam@example.jp"
    kam.save()
    with django_capture_on_commit_callbacks(execute=True):
        notify(users=[kam], title="Approval needed", url="/pricing/approvals/1/")
    # The in-app notification stays; the failed mail is logged, not raised at the person.
    assert Notification.objects.filter(user=kam, title="Approval needed").count() == 1
