from django.urls import reverse

from tokui.activities.models import Mailbox


def test_a_mailbox_password_is_never_shown_and_kept_when_left_empty(client, admin_user):
    client.force_login(admin_user)
    box = Mailbox.objects.create(
        name="Sales",
        address="sales@example.jp",
        host="imap.example.jp",
        username="sales",
        password="s3cret-imap",
    )
    url = reverse("admin:activities_mailbox_change", args=[box.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "s3cret-imap" not in page.text
    data = {
        "name": "Sales desk",
        "address": "sales@example.jp",
        "host": "imap.example.jp",
        "port": 993,
        "use_ssl": "on",
        "username": "sales",
        "password": "",
        "folder": "INBOX",
        "active": "on",
    }
    assert client.post(url, data).status_code == 302
    box.refresh_from_db()
    assert (box.name, box.password) == ("Sales desk", "s3cret-imap")
    data["password"] = "new-one"
    client.post(url, data)
    box.refresh_from_db()
    assert box.password == "new-one"
