"""The demo daily reports load on the demo book, make sense, and load only once."""

import pytest
from django.core import mail
from django.utils import timezone

from tokui.activities import daily_reports as reports
from tokui.activities.constants import ReportStatus
from tokui.activities.models import DailyReport
from tokui.users.models import Team, User
from tokui.web.demo import demo_load
from tokui.web.demo_reports import demo_reports


@pytest.mark.django_db
def test_demo_reports_assign_managers_and_fill_two_weeks_once():
    demo_load(accounts=24)  # the demo loads the daily reports with the rest
    assert DailyReport.objects.count() > 20
    assert DailyReport.objects.filter(comments__isnull=False).exists()
    assert Team.objects.get(name="東日本営業部").manager.username == "kam"
    assert Team.objects.get(name="西日本営業部").manager.username == "sato"
    today = timezone.localdate()
    assert DailyReport.objects.get(user__username="am", day=today).status == ReportStatus.DRAFT
    for report in DailyReport.objects.exclude(day=today):
        assert report.day in reports.working_days(report.day, report.day)  # never a holiday
        assert report.summary
    kam = User.objects.get(username="kam")
    assert reports.team_report_list(
        viewer=kam, date_from=today.replace(day=1) - timezone.timedelta(days=20), date_to=today
    ).exists()
    assert mail.outbox == []  # two weeks of old reports e-mail nobody
    assert demo_reports() == {"reports": 0, "comments": 0}
