"""The meeting brief: visibility, content, the section registry, and the PDF."""

import datetime
import re
import shutil
import subprocess
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from tokui.activities.brief import appointment_brief_get, brief_sections
from tokui.activities.constants import InteractionKind, TaskStatus
from tokui.activities.models import Appointment, Interaction, Task
from tokui.core.exceptions import NotFound
from tokui.core.sections import Section
from tokui.users.services import api_token_create

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def meeting(kam, make_account, make_contact):
    account = make_account(
        kam,
        name="株式会社ブリーフ商事",
        name_kana="ブリーフショウジ",
        tier="key",
        prefecture="東京都",
        city="千代田区",
        street="丸の内1-1-1",
    )
    boss = make_contact(account, family_name="相沢", given_name="一郎", family_name_kana="アイザワ")
    buyer = make_contact(
        account, family_name="渡辺", given_name="花子", family_name_kana="ワタナベ"
    )
    start = datetime.datetime(2026, 12, 3, 14, 0, tzinfo=TOKYO)
    appointment = Appointment.objects.create(
        account=account,
        organizer=kam,
        title="来期価格の協議",
        agenda="1. 来期の価格改定\n2. 納期短縮の要望",
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=1),
        place="先方本社 会議室A",
    )
    appointment.contacts.set([buyer])
    for n in range(12):
        Interaction.objects.create(
            kind=InteractionKind.CALL,
            account=account,
            author=kam,
            subject=f"電話{n:02d}",
            occurred_at=start - datetime.timedelta(days=30 - n),
        )
    Task.objects.create(title="見積書を持参", owner=kam, account=account)
    Task.objects.create(title="済んだこと", owner=kam, account=account, status=TaskStatus.DONE)
    return {"appointment": appointment, "account": account, "boss": boss, "buyer": buyer}


def test_brief_holds_people_attending_first_and_the_last_ten_interactions(
    meeting, kam, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        brief = appointment_brief_get(viewer=kam, appointment_id=meeting["appointment"].pk)
    assert [c.pk for c in brief.people] == [meeting["buyer"].pk, meeting["boss"].pk]
    assert brief.attending == {meeting["buyer"].pk}
    assert [i.subject for i in brief.interactions] == [f"電話{n:02d}" for n in range(11, 1, -1)]
    assert [t.title for t in brief.open_tasks] == ["見積書を持参"]


def test_brief_is_not_found_for_who_may_not_see_the_account(meeting, west_am, client):
    with pytest.raises(NotFound):
        appointment_brief_get(viewer=west_am, appointment_id=meeting["appointment"].pk)
    client.force_login(west_am)
    pk = meeting["appointment"].pk
    assert client.get(reverse("activities:appointment_brief", args=[pk])).status_code == 404
    assert client.get(reverse("activities:appointment_brief_pdf", args=[pk])).status_code == 404


def test_brief_page_shows_no_panels_for_apps_that_are_not_there(meeting, kam, client):
    client.force_login(kam)
    page = client.get(reverse("activities:appointment_brief", args=[meeting["appointment"].pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "株式会社ブリーフ商事" in text and "来期の価格改定" in text and "会議室A" in text
    for absent in ("Open deals", "Complaints", "Agreed prices", "Contract"):
        assert absent not in text


def test_registered_sections_appear_on_the_brief(meeting, kam, client, tmp_path, settings):
    template_dir = tmp_path / "templates"
    (template_dir / "x").mkdir(parents=True)
    (template_dir / "x" / "_brief_deals.html").write_text(
        '<section class="brief-panel"><h2>Open deals</h2>{{ n }} 件</section>'
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], template_dir]}
    ]
    brief_sections.register(Section("deals", "x/_brief_deals.html", lambda r, a: {"n": 3}))
    try:
        client.force_login(kam)
        page = client.get(reverse("activities:appointment_brief", args=[meeting["appointment"].pk]))
        assert "Open deals" in page.content.decode() and "3 件" in page.content.decode()
    finally:
        brief_sections.unregister("deals")


def _pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "brief.pdf"
    path.write_bytes(data)
    if shutil.which("pdftotext") is None:
        return ""
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def test_brief_pdf_is_a_real_pdf_with_the_account_name(meeting, kam, client, tmp_path):
    client.force_login(kam)
    answer = client.get(
        reverse("activities:appointment_brief_pdf", args=[meeting["appointment"].pk])
    )
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/pdf"
    data = answer.content
    assert data.startswith(b"%PDF")
    text = _pdf_text(data, tmp_path)
    if text:
        assert "株式会社ブリーフ商事" in text
        assert "来期価格の協議" in text
        assert re.search(r"\b1\s*/\s*1\b", text)  # page numbers


def test_api_brief_pdf(meeting, kam, west_am, client, tmp_path):
    url = f"/api/v1/appointments/{meeting['appointment'].pk}/brief.pdf"
    token = api_token_create(actor=kam, user=kam)[1]
    answer = client.get(url, headers={"Authorization": f"Bearer {token}", "Accept-Language": "ja"})
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")
    text = _pdf_text(answer.content, tmp_path)
    if text:
        assert "株式会社ブリーフ商事" in text
    other = api_token_create(actor=west_am, user=west_am)[1]
    denied = client.get(url, headers={"Authorization": f"Bearer {other}"})
    assert denied.status_code == 404 and denied.json()["error"]["code"] == "not_found"
    assert (
        client.get(
            "/api/v1/appointments/999999/brief.pdf", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 404
    )
