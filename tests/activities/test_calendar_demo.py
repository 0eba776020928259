"""The calendar demo data: content for "my day" today, and idempotent."""

import io

import pytest
from django.utils import timezone

from tokui.activities.models import Appointment, CalendarFeed, Interaction, Task
from tokui.activities.myday import my_day
from tokui.users.models import User
from tokui.web.demo import demo_load
from tokui.web.demo_calendar import demo_calendar

pytestmark = pytest.mark.django_db


def test_demo_calendar_fills_my_day_and_runs_once():
    out = io.StringIO()
    demo_load(accounts=40, stdout=out)  # the demo loads the calendar with the rest
    assert "appointments" in out.getvalue()
    kam = User.objects.get(username="kam")
    day = my_day(viewer=kam)
    assert len(day.appointments) >= 3
    assert day.overdue
    assert Appointment.objects.filter(status="cancelled").exists()
    assert Appointment.objects.filter(status="held", starts_at__lt=timezone.now()).exists()
    assert Interaction.objects.filter(source="appointment").exists()
    assert Task.objects.filter(status="done").exists()
    assert CalendarFeed.objects.filter(user=kam, revoked_at=None).exists()
    count = Appointment.objects.count()
    demo_calendar(stdout=io.StringIO())
    assert Appointment.objects.count() == count
