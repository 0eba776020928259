"""Tasks: owners and rights, statuses, lists, reminders sent exactly once, pages."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tokui.activities.constants import TaskStatus
from tokui.activities.models import Task
from tokui.activities.task_selectors import task_get, task_list
from tokui.activities.task_services import (
    task_cancel,
    task_complete,
    task_create,
    task_reopen,
    task_update,
)
from tokui.activities.tasks import send_task_reminders, task_reminders_send
from tokui.core.exceptions import ApplicationError, Conflict, NotFound, PermissionDenied
from tokui.core.models import AuditEvent


def hours(n: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(hours=n)


@pytest.fixture
def account(kam, make_account):
    return make_account(kam, name="株式会社山田商事")


def test_create_defaults_the_owner_and_audits_under_the_account(kam, account):
    task = task_create(
        actor=kam, data={"title": "見積を送る", "account": account, "due_at": hours(5)}
    )
    assert task.owner == kam and task.created_by == kam
    assert task.status == TaskStatus.OPEN
    event = AuditEvent.objects.get(action="activities.task.created")
    assert event.scope == f"account:{account.pk}"


def test_assigning_to_others_is_for_heads_and_within_a_team(kam, am, west_am, head, support):
    task_create(actor=kam, data={"title": "同じチーム", "owner": am})
    task_create(actor=head, data={"title": "部長から", "owner": west_am})
    with pytest.raises(ApplicationError) as caught:
        task_create(actor=kam, data={"title": "他チーム", "owner": west_am})
    assert "owner" in caught.value.errors
    with pytest.raises(ApplicationError):
        task_create(actor=support, data={"title": "x", "owner": kam})
    task_create(actor=support, data={"title": "自分の"})  # support keeps its own tasks
    assert Task.objects.count() == 3


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"title": "x", "priority": "whenever"}, "priority"),
        ({"title": "x", "due_at": hours(1), "remind_at": hours(2)}, "remind_at"),
        ({"title": "x", "notes": "<b>bold</b>"}, "notes"),
        ({"title": "x", "due_at": datetime.datetime(1, 1, 1, tzinfo=datetime.UTC)}, "due_at"),
    ],
)
def test_bad_input_is_refused_and_nothing_saved(kam, data, field):
    with pytest.raises(ApplicationError) as caught:
        task_create(actor=kam, data=data)
    assert field in caught.value.errors
    assert not Task.objects.exists()


def test_tasks_of_invisible_accounts_and_strangers_contacts_are_refused(
    kam, west_am, account, make_account, make_contact
):
    with pytest.raises(ApplicationError) as caught:
        task_create(actor=west_am, data={"title": "x", "account": account})
    assert "account" in caught.value.errors
    other = make_contact(make_account(kam, name="別会社"))
    with pytest.raises(ApplicationError) as caught:
        task_create(actor=kam, data={"title": "x", "account": account, "contact": other})
    assert "contact" in caught.value.errors


def test_complete_reopen_cancel(kam, account):
    task = task_create(actor=kam, data={"title": "電話する", "account": account})
    task_complete(actor=kam, task=task)
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and task.completed_at is not None
    task_complete(actor=kam, task=task)  # a double click changes nothing
    assert AuditEvent.objects.filter(action="activities.task.completed").count() == 1
    task_reopen(actor=kam, task=task)
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN and task.completed_at is None
    task_cancel(actor=kam, task=task)
    task.refresh_from_db()
    with pytest.raises(ApplicationError):
        task_complete(actor=kam, task=task)


def test_visibility_and_rights(kam, am, west_am, support, account):
    task = task_create(actor=kam, data={"title": "共有", "account": account})
    private = task_create(actor=kam, data={"title": "私用"})
    assert task_get(viewer=am, task_id=task.pk) == task  # team's account
    assert task_get(viewer=am, task_id=private.pk) == private  # team member's, no account
    with pytest.raises(NotFound):
        task_get(viewer=west_am, task_id=task.pk)
    with pytest.raises(NotFound):
        task_complete(actor=west_am, task=task)
    with pytest.raises(PermissionDenied):
        task_complete(actor=support, task=task)  # sees the account, may not edit it
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_stale_edit_is_refused(kam, account):
    task = task_create(actor=kam, data={"title": "元"})
    task_update(actor=kam, task=task, data={"title": "新"}, version=1)
    with pytest.raises(Conflict):
        task_update(actor=kam, task=task, data={"title": "古"}, version=1)
    task.refresh_from_db()
    assert task.title == "新"


def test_lists_filter_by_due(kam, am):
    overdue = task_create(actor=kam, data={"title": "遅れ", "due_at": hours(-2)})
    today_end = timezone.make_aware(
        datetime.datetime.combine(timezone.localdate(), datetime.time(23, 59))
    )
    later_today = task_create(actor=kam, data={"title": "今日", "due_at": today_end})
    upcoming = task_create(actor=kam, data={"title": "来週", "due_at": hours(24 * 7)})
    undated = task_create(actor=kam, data={"title": "いつか"})
    done = task_create(actor=kam, data={"title": "済み"})
    task_complete(actor=kam, task=done)
    teammate = task_create(actor=am, data={"title": "同僚の"})
    assert list(task_list(viewer=kam, due="overdue")) == [overdue]
    assert later_today in task_list(viewer=kam, due="today")
    assert list(task_list(viewer=kam, due="upcoming")) == [upcoming, undated]
    assert list(task_list(viewer=kam, due="done")) == [done]
    assert list(task_list(viewer=kam, due="open"))[-1] == undated  # undated last
    assert teammate not in task_list(viewer=kam, scope="mine")
    assert teammate in task_list(viewer=kam, scope="team")


def test_reminders_are_sent_once_and_rearmed_when_moved(kam):
    kam.email = "kam@example.co.jp"
    kam.save(update_fields=["email"])
    task = task_create(
        actor=kam, data={"title": "見積の期限", "due_at": hours(3), "remind_at": hours(-0.1)}
    )
    task_create(actor=kam, data={"title": "まだ", "remind_at": hours(2)})
    done = task_create(actor=kam, data={"title": "済", "remind_at": hours(-1)})
    task_complete(actor=kam, task=done)
    send_task_reminders.enqueue()
    assert len(mail.outbox) == 1
    assert "見積の期限" in mail.outbox[0].subject
    assert mail.outbox[0].to == ["kam@example.co.jp"]
    send_task_reminders.enqueue()
    assert task_reminders_send() == {"sent": 0, "skipped": 0, "failed": 0}
    assert len(mail.outbox) == 1  # never twice
    task.refresh_from_db()
    assert task.reminded_at is not None
    task_update(actor=kam, task=task, data={"remind_at": hours(-0.05)})
    task_reminders_send()
    assert len(mail.outbox) == 2


def test_a_failed_mail_is_retried(kam, settings, monkeypatch):
    kam.email = "kam@example.co.jp"
    kam.save(update_fields=["email"])
    task_create(actor=kam, data={"title": "再送", "remind_at": hours(-1)})

    def broken(self, fail_silently=False):
        raise OSError("connection refused")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", broken)
    assert task_reminders_send()["failed"] == 1
    monkeypatch.undo()
    assert task_reminders_send()["sent"] == 1


def test_task_pages_and_quick_complete(client, kam, account):
    client.force_login(kam)
    response = client.post(
        reverse("activities:task_create") + f"?account={account.pk}",
        {"title": "資料を送る", "owner": kam.pk, "priority": "high", "due_at": ""},
    )
    assert response.status_code == 302
    task = Task.objects.get()
    assert task.account == account
    page = client.get(reverse("activities:task_index"))
    assert "資料を送る" in page.text
    assert "資料を送る" in client.get(reverse("accounts:detail", args=[account.pk])).text
    row = client.post(
        reverse("activities:task_toggle", args=[task.pk]),
        {"done": "1"},
        headers={"HX-Request": "true"},
    )
    assert row.status_code == 200 and "task-done" in row.text
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    bad = client.post(
        reverse("activities:task_edit", args=[task.pk]),
        {"title": "", "owner": kam.pk, "priority": "normal"},
    )
    assert bad.status_code == 422


def test_task_pages_hide_other_teams_tasks(client, kam, west_am):
    task = task_create(actor=kam, data={"title": "秘密"})
    client.force_login(west_am)
    assert client.get(reverse("activities:task_edit", args=[task.pk])).status_code == 404
    assert (
        client.post(reverse("activities:task_toggle", args=[task.pk]), {"done": "1"}).status_code
        == 404
    )
