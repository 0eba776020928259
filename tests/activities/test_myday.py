""" "My day": today's appointments, due tasks and accounts without contact, in one query."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tokui.accounts.models import Account
from tokui.activities.appointments import appointment_book
from tokui.activities.models import Interaction
from tokui.activities.myday import my_day, quiet_accounts
from tokui.activities.task_services import task_create


def today_at(hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(
        datetime.datetime.combine(timezone.localdate(), datetime.time(hour, minute))
    )


def age(account: Account, days: int) -> None:
    Account.objects.filter(pk=account.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=days)
    )


def test_quiet_accounts_follow_the_tier_cadence(kam, am, make_account):
    key_quiet = make_account(kam, name="キー静か", tier="key")
    age(key_quiet, 20)  # key accounts: 14 days
    key_recent = make_account(kam, name="キー最近", tier="key")
    age(key_recent, 20)
    Interaction.objects.create(
        account=key_recent, kind="call", direction="out", occurred_at=timezone.now()
    )
    standard = make_account(kam, name="標準", tier="standard")
    age(standard, 20)  # standard accounts: 45 days, not yet
    old_standard = make_account(kam, name="標準古い", tier="standard")
    age(old_standard, 60)
    Interaction.objects.create(
        account=old_standard,
        kind="note",
        occurred_at=timezone.now() - datetime.timedelta(days=50),
    )
    colleague = make_account(am, name="同僚の", tier="key")
    age(colleague, 30)
    with CaptureQueriesContext(connection) as queries:
        found = quiet_accounts(viewer=kam)
    assert [a.name for a in found] == ["標準古い", "キー静か"]  # longest silent first
    assert found[0].days_quiet == 50
    assert len(queries) == 2  # the cadences, then one aggregate query over the accounts


def test_heads_see_their_teams_quiet_accounts_and_support_none(
    kam, head, support, make_account, team_east
):
    quiet = make_account(kam, name="静か", tier="key")
    age(quiet, 30)
    assert quiet_accounts(viewer=head) == [quiet]  # no team: everyone's
    head.team = team_east
    head.save(update_fields=["team"])
    assert quiet_accounts(viewer=head) == [quiet]
    assert quiet_accounts(viewer=support) == []


def test_my_day_lists_todays_appointments_and_due_tasks(client, kam, am, make_account):
    account = make_account(kam, name="今日の客")
    later = max(timezone.localtime() + datetime.timedelta(minutes=20), today_at(0, 30))
    if later.date() == timezone.localdate():
        appointment_book(
            actor=kam,
            account=account,
            data={
                "title": "今日の訪問",
                "starts_at": later,
                "ends_at": later + datetime.timedelta(minutes=10),
            },
        )
    task_create(
        actor=kam,
        data={"title": "遅れた仕事", "due_at": timezone.now() - datetime.timedelta(days=1)},
    )
    task_create(
        actor=am,
        data={"title": "他人の仕事", "due_at": timezone.now() - datetime.timedelta(days=1)},
    )
    day = my_day(viewer=kam)
    assert [t.title for t in day.overdue] == ["遅れた仕事"]
    if later.date() == timezone.localdate():
        assert [a.title for a in day.appointments] == ["今日の訪問"]
    client.force_login(kam)
    page = client.get(reverse("web:dashboard"))
    assert page.status_code == 200
    assert "遅れた仕事" in page.text
    assert "他人の仕事" not in page.text
