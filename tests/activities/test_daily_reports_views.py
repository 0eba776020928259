"""Daily report pages and /api/v1/daily-reports."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tokui.activities import daily_reports as reports
from tokui.activities.constants import ReportStatus
from tokui.activities.models import DailyReport, DailyReportComment
from tokui.users.services import api_token_create

DAY = datetime.date(2026, 11, 16)


@pytest.fixture
def east(team_east, kam, am):
    team_east.manager = kam
    team_east.save()
    kam.email = "kam@example.jp"
    kam.save()
    return team_east


def test_navigation_links_to_the_daily_report(client, am):
    client.force_login(am)
    page = client.get(reverse("web:dashboard")).content.decode()
    assert reverse("activities:daily_report") in page


def test_my_report_page_defaults_to_today_and_submits(
    client, east, am, django_capture_on_commit_callbacks
):
    client.force_login(am)
    page = client.get(reverse("activities:daily_report"))
    assert page.status_code == 200
    today = timezone.localdate()
    assert today.isoformat() in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            reverse("activities:daily_report"),
            {"day": today.isoformat(), "summary": "新規2件に架電。", "submit": "1"},
        )
    assert answer.status_code == 302
    report = DailyReport.objects.get(user=am, day=today)
    assert report.status == ReportStatus.SUBMITTED and report.summary == "新規2件に架電。"
    assert len(mail.outbox) == 1
    page = client.get(answer["Location"]).content.decode()
    assert "新規2件に架電。" in page


def test_my_report_shows_errors_next_to_the_field_and_saves_nothing(client, east, am):
    client.force_login(am)
    answer = client.post(
        reverse("activities:daily_report"),
        {"day": DAY.isoformat(), "summary": "<b>太字</b>", "submit": "1"},
    )
    assert answer.status_code == 422
    assert "HTML" in answer.content.decode()
    assert not DailyReport.objects.exists()


def test_a_past_day_and_a_bad_date_render(client, east, am):
    client.force_login(am)
    assert (
        client.get(reverse("activities:daily_report"), {"date": DAY.isoformat()}).status_code == 200
    )
    assert client.get(reverse("activities:daily_report"), {"date": "2026-13-45"}).status_code == 200


def test_team_reports_only_for_managers_and_unread_first(client, east, kam, am, west_am):
    reports.daily_report_save(actor=am, day=DAY, summary="本日の報告", submit=True)
    client.force_login(am)
    assert client.get(reverse("activities:daily_report_team")).status_code == 404
    client.force_login(kam)
    page = client.get(
        reverse("activities:daily_report_team"), {"from": "2026-11-01", "to": "2026-11-30"}
    )
    assert page.status_code == 200
    assert "本日の報告" in page.content.decode()
    partial = client.get(
        reverse("activities:daily_report_team"),
        {"from": "2026-11-01", "to": "2026-11-30"},
        headers={"HX-Request": "true"},
    )
    assert "<html" not in partial.content.decode() and "本日の報告" in partial.content.decode()


def test_report_detail_comment_marks_read(client, east, kam, am, west_am):
    report = reports.daily_report_save(actor=am, day=DAY, summary="報告です", submit=True)
    url = reverse("activities:daily_report_detail", args=[am.pk, DAY.isoformat()])
    client.force_login(west_am)
    assert client.get(url).status_code == 404
    assert (
        client.post(
            reverse("activities:daily_report_comment", args=[report.pk]), {"body": "x"}
        ).status_code
        == 404
    )
    client.force_login(kam)
    assert "報告です" in client.get(url).content.decode()
    answer = client.post(
        reverse("activities:daily_report_comment", args=[report.pk]), {"body": "了解です"}
    )
    assert answer.status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.REVIEWED
    assert "了解です" in client.get(url).content.decode()
    # An empty comment is refused next to the field.
    answer = client.post(reverse("activities:daily_report_comment", args=[report.pk]), {"body": ""})
    assert answer.status_code == 422
    assert DailyReportComment.objects.count() == 1


def test_mark_read_without_comment(client, east, kam, am):
    report = reports.daily_report_save(actor=am, day=DAY, summary="報告", submit=True)
    client.force_login(am)
    assert client.post(reverse("activities:daily_report_read", args=[report.pk])).status_code == 403
    client.force_login(kam)
    assert client.post(reverse("activities:daily_report_read", args=[report.pk])).status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.REVIEWED


def test_rollups_page(client, east, kam, am, head):
    reports.daily_report_save(actor=am, day=DAY, summary="報告", submit=True)
    client.force_login(kam)
    page = client.get(reverse("activities:daily_report_rollups"), {"date": DAY.isoformat()})
    assert page.status_code == 200
    client.force_login(head)
    page = client.get(
        reverse("activities:daily_report_rollups"),
        {"period": "month", "by": "team", "date": DAY.isoformat()},
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert "East" in text
    assert "Labor Thanksgiving Day" in text  # November's holidays are named


# API ----------------------------------------------------------------------------------------


def _auth(user):
    return {"Authorization": f"Bearer {api_token_create(actor=user, user=user)[1]}"}


def test_api_put_get_list_and_comment(
    client, east, kam, am, west_am, django_capture_on_commit_callbacks
):
    headers = _auth(am)
    url = f"/api/v1/daily-reports/{DAY.isoformat()}"
    empty = client.get(url, headers=headers)
    assert empty.status_code == 200 and empty.json()["report"] is None
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.put(
            url,
            {"summary": "API から提出", "submit": True},
            content_type="application/json",
            headers=headers,
        )
    assert saved.status_code == 200, saved.content
    body = saved.json()
    assert body["status"] == "submitted" and body["user"] == "am"
    assert len(mail.outbox) == 1
    stale = client.put(
        url, {"summary": "古い", "version": 1}, content_type="application/json", headers=headers
    )
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "conflict"
    extra = client.put(
        url, {"summary": "x", "bogus": 1}, content_type="application/json", headers=headers
    )
    assert extra.status_code == 422

    listing = client.get(
        "/api/v1/daily-reports",
        {"user": "am", "date_from": "2026-11-01", "date_to": "2026-11-30"},
        headers=_auth(kam),
    )
    assert listing.status_code == 200 and listing.json()["count"] == 1
    assert (
        client.get("/api/v1/daily-reports", {"user": "am"}, headers=_auth(west_am)).status_code
        == 404
    )
    assert (
        client.get("/api/v1/daily-reports", {"user": "nobody"}, headers=headers).status_code == 404
    )
    assert (
        client.get(
            "/api/v1/daily-reports",
            {"date_from": "2026-11-30", "date_to": "2026-11-01"},
            headers=headers,
        ).status_code
        == 422
    )

    report_id = body["id"]
    denied = client.post(
        f"/api/v1/daily-reports/{report_id}/comments",
        {"body": "横から"},
        content_type="application/json",
        headers=_auth(west_am),
    )
    assert denied.status_code == 404
    made = client.post(
        f"/api/v1/daily-reports/{report_id}/comments",
        {"body": "確認しました"},
        content_type="application/json",
        headers=_auth(kam),
    )
    assert made.status_code == 201 and made.json()["author"] == "kam"
    assert DailyReport.objects.get(pk=report_id).status == ReportStatus.REVIEWED
    day = client.get(url, headers=headers).json()
    assert day["report"]["comments"][0]["body"] == "確認しました"


def test_api_future_day_is_refused(client, east, am):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    answer = client.put(
        f"/api/v1/daily-reports/{tomorrow.isoformat()}",
        {"summary": "未来"},
        content_type="application/json",
        headers=_auth(am),
    )
    assert answer.status_code == 422 and "day" in answer.json()["error"]["fields"]
    assert not DailyReport.objects.exists()
