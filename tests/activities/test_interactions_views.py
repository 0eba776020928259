"""Pages: the account timeline, quick call logging, the full form, edit, delete, files."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tokui.accounts.services import account_update
from tokui.activities.models import Interaction
from tokui.activities.services import AttachmentIn, interaction_create, interaction_record
from tokui.core.models import AuditEvent

HX = {"HX-Request": "true"}


@pytest.fixture
def account(kam, make_account):
    return make_account(kam, name="株式会社画面テスト", industry="卸売業")


@pytest.fixture
def contact(account, make_contact):
    return make_contact(account, family_name="高橋", given_name="一郎")


@pytest.fixture
def kam_client(client, kam):
    client.force_login(kam)
    return client


def test_account_page_shows_the_timeline_instead_of_the_history_card(
    kam_client, kam, account, contact
):
    interaction_create(
        actor=kam,
        account=account,
        data={
            "kind": "call",
            "direction": "out",
            "outcome": "reached",
            "contacts": [contact],
            "duration_seconds": 125,
            "body": "**単価**の件",
        },
    )
    account_update(actor=kam, account=account, data={"industry": "製造業"})
    page = kam_client.get(reverse("accounts:detail", args=[account.pk]))
    assert page.status_code == 200
    text = page.text
    assert 'id="timeline"' in text
    assert 'id="history-title"' not in text
    assert "Account changed" in text and "<del>卸売業</del>" in text
    assert "<strong>単価</strong>の件" in text
    assert "3 min" in text and "Reached" in text and "高橋" in text
    assert reverse("activities:call_log", args=[account.pk]) in text  # actions + quick form
    assert 'hx-post="' + reverse("activities:call_log", args=[account.pk]) in text


def test_filter_chips_work_with_and_without_htmx(kam_client, kam, account):
    interaction_create(actor=kam, account=account, data={"kind": "note", "subject": "メモ一"})
    interaction_create(
        actor=kam, account=account, data={"kind": "call", "direction": "in", "subject": "電話一"}
    )
    plain = kam_client.get(reverse("accounts:detail", args=[account.pk]) + "?tl=call")
    assert "電話一" in plain.text and "メモ一" not in plain.text
    fragment = kam_client.get(
        reverse("activities:account_timeline", args=[account.pk]) + "?kind=note", headers=HX
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "メモ一" in fragment.text and "電話一" not in fragment.text
    assert 'id="timeline-body"' in fragment.text


def test_load_more_pages_with_htmx_and_without(kam_client, kam, account):
    base = timezone.now() - datetime.timedelta(days=10)
    Interaction.objects.bulk_create(
        Interaction(
            account=account,
            kind="note",
            subject=f"件名{n:02d}",
            occurred_at=base + datetime.timedelta(minutes=n),
            author=kam,
        )
        for n in range(45)
    )
    page = kam_client.get(reverse("accounts:detail", args=[account.pk]))
    assert "件名44" in page.text and "件名10" not in page.text
    assert 'hx-trigger="revealed, click"' in page.text
    more = page.context["page"].next_cursor if "page" in page.context else None
    url = reverse("activities:account_timeline", args=[account.pk])
    first = kam_client.get(url, headers=HX)
    cursor = first.context["page"].next_cursor
    assert cursor and (more is None or more == cursor)
    items = kam_client.get(f"{url}?cursor={cursor}", headers=HX)
    assert items.status_code == 200
    assert items.text.lstrip().startswith("<li")
    assert "件名25" in items.text and "件名44" not in items.text
    full = kam_client.get(f"{url}?cursor={cursor}")
    assert full.status_code == 200 and "<html" in full.text and "件名25" in full.text
    # A broken cursor starts again from the top instead of failing.
    broken = kam_client.get(f"{url}?cursor=%%%")
    assert broken.status_code == 200 and "件名44" in broken.text


def test_timeline_page_queries_do_not_grow_with_depth(kam_client, kam, account, make_contact):
    contact = make_contact(account)
    base = timezone.now() - datetime.timedelta(days=10)
    for n in range(50):
        interaction_create(
            actor=kam,
            account=account,
            data={
                "kind": "note",
                "occurred_at": base + datetime.timedelta(minutes=n),
                "contacts": [contact],
            },
        )
    url = reverse("activities:account_timeline", args=[account.pk])
    cursor = kam_client.get(url, headers=HX).context["page"].next_cursor
    with CaptureQueriesContext(connection) as q1:
        kam_client.get(f"{url}?cursor={cursor}", headers=HX)
    cursor = kam_client.get(f"{url}?cursor={cursor}", headers=HX).context["page"].next_cursor
    with CaptureQueriesContext(connection) as q2:
        kam_client.get(f"{url}?cursor={cursor}", headers=HX)
    assert len(q1.captured_queries) == len(q2.captured_queries) <= 12


def test_quick_call_with_htmx_answers_with_the_timeline(kam_client, kam, account, contact):
    response = kam_client.post(
        reverse("activities:call_log", args=[account.pk]),
        {
            "call-direction": "in",
            "call-contact": contact.pk,
            "call-outcome": "call_back",
            "call-duration_minutes": "4",
            "call-note": "折り返し希望",
        },
        headers=HX,
    )
    assert response.status_code == 200
    assert 'id="timeline-body"' in response.text and "Call logged." in response.text
    call = Interaction.objects.get()
    assert (call.kind, call.direction, call.outcome, call.duration_seconds) == (
        "call",
        "in",
        "call_back",
        240,
    )
    assert list(call.contacts.all()) == [contact]
    assert call.author == kam


def test_quick_call_without_js_redirects_back(kam_client, account, contact):
    next_url = reverse("accounts:contact_detail", args=[contact.pk])
    response = kam_client.post(
        reverse("activities:call_log", args=[account.pk]),
        {"call-direction": "out", "call-outcome": "reached", "next": next_url},
    )
    assert response.status_code == 302 and response["Location"] == next_url
    evil = kam_client.post(
        reverse("activities:call_log", args=[account.pk]),
        {"call-direction": "out", "call-outcome": "reached", "next": "https://evil.example/"},
    )
    assert evil["Location"].startswith(reverse("accounts:detail", args=[account.pk]))
    assert Interaction.objects.count() == 2


def test_quick_call_errors_show_next_to_fields_and_save_nothing(
    kam_client, account, make_account, make_contact
):
    stranger = make_contact(make_account(account.owner, name="株式会社他社"))
    url = reverse("activities:call_log", args=[account.pk])
    bad = {"call-direction": "up", "call-outcome": "reached", "call-duration_minutes": "-3"}
    plain = kam_client.post(url, bad)
    assert plain.status_code == 422
    assert "field-invalid" in plain.text
    htmx = kam_client.post(url, bad, headers=HX)
    assert htmx.status_code == 200 and "field-invalid" in htmx.text and " open" in htmx.text
    other = kam_client.post(
        url, {"call-direction": "out", "call-outcome": "reached", "call-contact": stranger.pk}
    )
    assert other.status_code == 422
    assert not Interaction.objects.exists()


def test_full_form_logs_a_meeting_and_drops_hidden_fields(kam_client, am, account, contact):
    url = reverse("activities:interaction_new", args=[account.pk])
    get = kam_client.get(url + f"?kind=meeting&contact={contact.pk}")
    assert get.status_code == 200 and 'value="meeting"' in get.text
    response = kam_client.post(
        url,
        {
            "kind": "meeting",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "direction": "out",  # hidden for meetings; the form drops it
            "outcome": "reached",
            "duration_minutes": "30",
            "meeting_mode": "on_site",
            "location": "大阪支店",
            "subject": "定例会議",
            "contacts": [contact.pk],
            "participants": [am.pk],
            "body": "- 価格改定\n- 納期",
        },
    )
    assert response.status_code == 302, response.text
    meeting = Interaction.objects.get()
    assert (meeting.kind, meeting.direction, meeting.outcome, meeting.duration_seconds) == (
        "meeting",
        "",
        "",
        None,
    )
    assert meeting.location == "大阪支店"
    assert list(meeting.participants.all()) == [am]


def test_full_form_refuses_the_future_with_a_field_error(kam_client, account):
    later = timezone.localtime() + datetime.timedelta(days=2)
    response = kam_client.post(
        reverse("activities:interaction_new", args=[account.pk]),
        {"kind": "note", "occurred_at": later.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 422
    assert "future" in response.text
    assert not Interaction.objects.exists()


def test_preview_renders_markdown_safely_with_and_without_js(kam_client, account):
    payload = "**太字** <script>alert(1)</script> [x](javascript:alert(1))"
    fragment = kam_client.post(reverse("activities:markdown_preview"), {"body": payload})
    assert fragment.status_code == 200
    assert "<strong>太字</strong>" in fragment.text
    assert "<script>" not in fragment.text and 'href="javascript' not in fragment.text
    page = kam_client.post(
        reverse("activities:interaction_new", args=[account.pk]),
        {
            "kind": "note",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "body": payload,
            "preview": "1",
        },
    )
    assert page.status_code == 200
    assert "<strong>太字</strong>" in page.text and "<script>alert" not in page.text
    assert not Interaction.objects.exists()


def test_edit_and_delete_with_confirm(kam_client, kam, account):
    note = interaction_create(actor=kam, account=account, data={"kind": "note", "body": "旧"})
    edit_url = reverse("activities:interaction_edit", args=[note.pk])
    form = kam_client.get(edit_url)
    assert form.status_code == 200 and "旧" in form.text
    response = kam_client.post(
        edit_url,
        {
            "version": 1,
            "kind": "note",
            "occurred_at": timezone.localtime(note.occurred_at).strftime("%Y-%m-%dT%H:%M"),
            "body": "新",
        },
    )
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.body == "新" and note.version == 2
    stale = kam_client.post(
        edit_url,
        {"version": 1, "kind": "note", "occurred_at": "2025-01-01T10:00", "body": "もっと新"},
    )
    assert stale.status_code == 422 and "while you were editing" in stale.text
    delete_url = reverse("activities:interaction_delete", args=[note.pk])
    confirm = kam_client.get(delete_url)
    assert confirm.status_code == 200 and "Delete this interaction?" in confirm.text
    done = kam_client.post(delete_url, {"version": 2})
    assert done.status_code == 302
    note.refresh_from_db()
    assert note.archived_at is not None
    assert (
        kam_client.get(reverse("activities:interaction_detail", args=[note.pk])).status_code == 404
    )


def test_visibility_and_rights(client, kam, am, west_am, account):
    note = interaction_create(actor=kam, account=account, data={"kind": "note"})
    client.force_login(west_am)
    for url in (
        reverse("activities:account_timeline", args=[account.pk]),
        reverse("activities:call_log", args=[account.pk]),
        reverse("activities:interaction_new", args=[account.pk]),
        reverse("activities:interaction_detail", args=[note.pk]),
        reverse("activities:interaction_edit", args=[note.pk]),
        reverse("activities:interaction_delete", args=[note.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(
            reverse("activities:call_log", args=[account.pk]),
            {"call-direction": "out", "call-outcome": "reached"},
        ).status_code
        == 404
    )
    client.force_login(am)  # same team, not the author nor the owner
    assert client.get(reverse("activities:interaction_detail", args=[note.pk])).status_code == 200
    assert client.get(reverse("activities:interaction_edit", args=[note.pk])).status_code == 403
    assert client.post(reverse("activities:interaction_delete", args=[note.pk])).status_code == 403
    note.refresh_from_db()
    assert note.archived_at is None


def test_attachments_download_only_for_those_who_see_the_account(client, kam, west_am, account):
    mail = interaction_record(
        actor=None,
        account=account,
        kind="email",
        source="mail_in",
        data={"direction": "in", "subject": "資料送付", "body": "<b>plain</b>\n二行目"},
        message_id="<files@example.jp>",
        attachments=[AttachmentIn("資料.html", b"<script>alert(1)</script>", "text/html")],
    )
    attachment = mail.attachments.get()
    url = reverse("activities:interaction_attachment", args=[attachment.pk])
    client.force_login(kam)
    page = client.get(reverse("accounts:detail", args=[account.pk]))
    assert url in page.text
    assert "&lt;b&gt;plain&lt;/b&gt;" in page.text  # mail bodies are plain text
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"
    client.force_login(west_am)
    assert client.get(url).status_code == 404


def test_contact_page_lists_their_interactions_and_logs_a_call(
    kam_client, kam, account, contact, make_contact
):
    other = make_contact(account, family_name="別人")
    interaction_create(
        actor=kam,
        account=account,
        data={"kind": "note", "subject": "本人と", "contacts": [contact]},
    )
    interaction_create(
        actor=kam, account=account, data={"kind": "note", "subject": "別人と", "contacts": [other]}
    )
    page = kam_client.get(reverse("accounts:contact_detail", args=[contact.pk]))
    assert page.status_code == 200
    assert "本人と" in page.text and "別人と" not in page.text
    assert f'<option value="{contact.pk}" selected>' in page.text
    listing = kam_client.get(reverse("activities:interaction_index") + f"?contact={contact.pk}")
    assert listing.status_code == 200 and "本人と" in listing.text and "別人と" not in listing.text


def test_notes_with_xss_payloads_render_harmlessly_on_the_account_page(kam_client, kam, account):
    payloads = [
        "<script>alert('x')</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<a href="javascript:alert(1)">a</a>',
        "![pixel](https://tracker.example/p.gif)",
    ]
    for text in payloads:
        interaction_create(actor=kam, account=account, data={"kind": "note", "body": text})
    page = kam_client.get(reverse("accounts:detail", args=[account.pk]))
    body = page.text
    assert "<script>alert" not in body
    assert not re.search(r"<img[^>]*onerror", body)
    assert not re.search(r'<a [^>]*href="(javascript|data):', body, re.IGNORECASE)
    assert not re.search(r"<img[^>]*tracker", body)
    # Typed HTML is shown as text, so a reader sees what was written.
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in body


def test_audit_labels_for_interactions(kam_client, kam, account):
    note = interaction_create(actor=kam, account=account, data={"kind": "note", "subject": "件"})
    kam_client.post(
        reverse("activities:interaction_delete", args=[note.pk]), {"version": note.version}
    )
    page = kam_client.get(reverse("accounts:detail", args=[account.pk]))
    assert "Interaction deleted" in page.text
    assert AuditEvent.objects.filter(action="activities.interaction.deleted").count() == 1
