"""Daily reports (日報): who reads whose, the assembled day, submit/comment flow, rollups."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from tokui.activities import daily_reports as reports
from tokui.activities.constants import (
    AppointmentStatus,
    CallOutcome,
    Direction,
    InteractionKind,
    ReportStatus,
    TaskStatus,
)
from tokui.activities.models import Appointment, DailyReport, DailyReportComment, Interaction, Task
from tokui.core.exceptions import ApplicationError, Conflict, NotFound, PermissionDenied
from tokui.core.models import AuditEvent

TOKYO = ZoneInfo("Asia/Tokyo")
DAY = datetime.date(2026, 11, 16)  # a Monday; its week has no public holiday
EARLIER = datetime.date(2026, 11, 13)  # the Friday before: another week


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TOKYO)


@pytest.fixture
def east(team_east, kam, am):
    team_east.manager = kam
    team_east.save()
    for user, address in ((kam, "kam@example.jp"), (am, "am@example.jp")):
        user.email = address
        user.save()
    return team_east


@pytest.fixture
def day_of_am(east, kam, am, west_am, make_account):
    """A hand-made day for am: the numbers the rollup must give back."""
    a1, a2, a3 = make_account(kam), make_account(am), make_account(am)
    west = make_account(west_am)

    def call(account, direction, outcome, when, **extra):
        return Interaction.objects.create(
            kind=InteractionKind.CALL,
            direction=direction,
            outcome=outcome,
            account=account,
            author=am,
            occurred_at=when,
            subject="架電",
            **extra,
        )

    call(a1, Direction.OUTBOUND, CallOutcome.REACHED, at(DAY, 9))
    call(a1, Direction.OUTBOUND, CallOutcome.NO_ANSWER, at(DAY, 9, 30))
    call(a2, Direction.INBOUND, CallOutcome.REACHED, at(DAY, 11))
    call(west, Direction.OUTBOUND, CallOutcome.REACHED, at(DAY, 13))  # kam may not see it
    call(a1, Direction.OUTBOUND, CallOutcome.REACHED, at(DAY, 14), archived_at=at(DAY, 15))
    call(a1, Direction.OUTBOUND, CallOutcome.REACHED, at(EARLIER, 10))
    meeting = Interaction.objects.create(
        kind=InteractionKind.MEETING, account=a2, author=kam, occurred_at=at(DAY, 16)
    )
    meeting.participants.set([am, kam])
    Interaction.objects.create(
        kind=InteractionKind.EMAIL,
        direction=Direction.OUTBOUND,
        account=a3,
        author=am,
        occurred_at=at(DAY, 17),
    )
    Interaction.objects.create(
        kind=InteractionKind.NOTE, account=a1, author=am, occurred_at=at(DAY, 18)
    )
    Appointment.objects.create(
        account=a1,
        organizer=am,
        title="定例会",
        starts_at=at(DAY, 10),
        ends_at=at(DAY, 11),
        status=AppointmentStatus.HELD,
    )
    cancelled = Appointment.objects.create(
        account=a2,
        organizer=kam,
        title="価格協議",
        starts_at=at(DAY, 15),
        ends_at=at(DAY, 16),
        status=AppointmentStatus.CANCELLED,
    )
    cancelled.participants.set([am])
    Task.objects.create(
        title="見積送付", owner=am, account=a1, status=TaskStatus.DONE, completed_at=at(DAY, 12)
    )
    Task.objects.create(
        title="経費精算", owner=am, status=TaskStatus.DONE, completed_at=at(DAY, 19)
    )
    Task.objects.create(
        title="先週の宿題", owner=am, status=TaskStatus.DONE, completed_at=at(EARLIER, 12)
    )
    Task.objects.create(title="契約書の回収", owner=am, account=a2, due_at=at(EARLIER, 18))
    DailyReport.objects.create(
        user=am, day=DAY, summary="訪問1件", status=ReportStatus.SUBMITTED, submitted_at=at(DAY, 19)
    )
    DailyReport.objects.create(user=am, day=DAY + datetime.timedelta(days=1), summary="下書き")
    return {"a1": a1, "a2": a2, "a3": a3, "west": west}


# Who reads whom -----------------------------------------------------------------------------


def test_readers_are_the_person_their_team_manager_heads_and_admins(
    east, kam, am, west_am, head, admin_user, support
):
    assert reports.may_read(viewer=am, user=am)
    assert reports.may_read(viewer=kam, user=am)  # manages East
    assert reports.may_read(viewer=head, user=am)
    assert reports.may_read(viewer=admin_user, user=west_am)
    assert not reports.may_read(viewer=am, user=kam)  # a colleague, not the manager
    assert not reports.may_read(viewer=west_am, user=am)
    assert not reports.may_read(viewer=support, user=am)
    assert not reports.may_read(viewer=kam, user=west_am)


def test_others_reading_a_report_they_may_not_is_not_found(east, am, west_am, support):
    report = reports.daily_report_save(actor=am, day=DAY, summary="本日は訪問2件", submit=True)
    for stranger in (west_am, support):
        with pytest.raises(NotFound):
            reports.report_get(viewer=stranger, report_id=report.pk)
        with pytest.raises(NotFound):
            reports.report_day(viewer=stranger, user=am, day=DAY)


def test_a_draft_stays_private_until_submitted(east, kam, am):
    draft = reports.daily_report_save(actor=am, day=DAY, summary="まだ途中")
    assert draft.status == ReportStatus.DRAFT
    with pytest.raises(NotFound):
        reports.report_get(viewer=kam, report_id=draft.pk)
    assert reports.report_day(viewer=kam, user=am, day=DAY).report is None
    assert reports.report_day(viewer=am, user=am, day=DAY).report == draft
    assert not reports.team_report_list(viewer=kam, date_from=DAY, date_to=DAY).exists()


# The assembled day --------------------------------------------------------------------------


def test_the_day_holds_what_the_person_did_as_the_viewer_may_see_it(day_of_am, kam, am, head):
    own = reports.report_day(viewer=am, user=am, day=DAY)
    # 3 calls (not the archived one, nor the one on a West account am may not see), the meeting
    # am joined, an e-mail, a note.
    assert len(own.interactions) == 6
    assert [a.title for a in own.appointments] == ["定例会", "価格協議"]
    assert len(own.appointments_held) == 1 and len(own.appointments_cancelled) == 1
    assert {t.title for t in own.tasks_completed} == {"見積送付", "経費精算"}
    assert [t.title for t in own.tasks_overdue] == ["契約書の回収"]
    assert own.counts["calls_out"] == 2 and own.counts["accounts_touched"] == 3

    # kam manages am but may not see the West account's call either; the head of sales does.
    as_manager = reports.report_day(viewer=kam, user=am, day=DAY)
    assert len(as_manager.interactions) == 6
    assert day_of_am["west"].pk not in {i.account_id for i in as_manager.interactions}
    # A task without an account is part of the report the manager reads.
    assert {t.title for t in as_manager.tasks_completed} == {"見積送付", "経費精算"}
    as_head = reports.report_day(viewer=head, user=am, day=DAY)
    assert len(as_head.interactions) == 7
    assert as_head.counts["calls_out"] == 3 and as_head.counts["accounts_touched"] == 4


# Submit, edit, read, comment ----------------------------------------------------------------


def test_submit_notifies_the_manager_after_commit(
    east, kam, am, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        draft = reports.daily_report_save(actor=am, day=DAY, summary="下書きです")
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        report = reports.daily_report_save(
            actor=am,
            day=DAY,
            summary="A社訪問。見積の再提出を依頼された。",
            submit=True,
            version=draft.version,
        )
    assert report.status == ReportStatus.SUBMITTED and report.submitted_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["kam@example.jp"]
    assert "A社訪問" in mail.outbox[0].body
    assert f"/daily-reports/{am.pk}/{DAY.isoformat()}/" in mail.outbox[0].body
    actions = list(
        AuditEvent.objects.filter(scope=reports.report_scope(report)).values_list(
            "action", flat=True
        )
    )
    assert "activities.daily_report.submitted" in actions


def test_a_manager_comment_marks_read_and_an_edit_after_reading_returns_it_to_submitted(
    east, kam, am, django_capture_on_commit_callbacks
):
    report = reports.daily_report_save(actor=am, day=DAY, summary="初版", submit=True)
    with django_capture_on_commit_callbacks(execute=True):
        reports.daily_report_comment(actor=kam, report=report, body="よく頑張りました。")
    report.refresh_from_db()
    assert report.status == ReportStatus.REVIEWED and report.reviewed_by == kam
    assert mail.outbox[-1].to == ["am@example.jp"]

    with django_capture_on_commit_callbacks(execute=True):
        reports.daily_report_save(actor=am, day=DAY, summary="訂正版", version=report.version)
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED  # unread again for the manager
    assert report.summary == "訂正版"
    assert mail.outbox[-1].to == ["kam@example.jp"]
    edit = AuditEvent.objects.get(action="activities.daily_report.edited_after_submit")
    assert edit.changes["summary"] == ["初版", "訂正版"]
    assert edit.changes["status"] == [ReportStatus.REVIEWED, ReportStatus.SUBMITTED]


def test_stale_edit_is_refused_and_changes_nothing(east, am):
    first = reports.daily_report_save(actor=am, day=DAY, summary="一回目")
    reports.daily_report_save(actor=am, day=DAY, summary="二回目", version=first.version)
    with pytest.raises(Conflict):
        reports.daily_report_save(actor=am, day=DAY, summary="古い画面から", version=first.version)
    assert DailyReport.objects.get(user=am, day=DAY).summary == "二回目"


@pytest.mark.parametrize(
    ("summary", "submit", "day_offset", "field"),
    [
        ("明日の分", False, 1, "day"),
        ("<script>alert(1)</script>", False, 0, "summary"),
        ("x" * (reports.SUMMARY_MAX_LENGTH + 1), False, 0, "summary"),
        ("", True, 0, "summary"),
        ("NUL\x00", False, 0, "summary"),
    ],
)
def test_bad_reports_are_refused_and_nothing_is_saved(east, am, summary, submit, day_offset, field):
    from django.utils import timezone

    day = timezone.localdate() + datetime.timedelta(days=day_offset)
    with pytest.raises(ApplicationError) as caught:
        reports.daily_report_save(actor=am, day=day, summary=summary, submit=submit)
    assert field in caught.value.errors
    assert not DailyReport.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="activities.daily_report").exists()


def test_only_readers_comment_and_the_author_cannot_mark_their_own_report_read(
    east, kam, am, west_am
):
    report = reports.daily_report_save(actor=am, day=DAY, summary="報告", submit=True)
    with pytest.raises(NotFound):
        reports.daily_report_comment(actor=west_am, report=report, body="横から失礼")
    with pytest.raises(PermissionDenied):
        reports.daily_report_mark_read(actor=am, report=report)
    with pytest.raises(ApplicationError):
        reports.daily_report_comment(actor=kam, report=report, body="   ")
    assert not DailyReportComment.objects.exists()
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    # The author may answer their manager; that does not mark it read.
    reports.daily_report_comment(actor=am, report=report, body="補足します")
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED


def test_without_a_team_manager_the_heads_of_sales_are_told(
    team_west, west_am, head, django_capture_on_commit_callbacks
):
    head.email = "head@example.jp"
    head.save()
    with django_capture_on_commit_callbacks(execute=True):
        reports.daily_report_save(actor=west_am, day=DAY, summary="報告", submit=True)
    assert mail.outbox[0].to == ["head@example.jp"]


def test_team_list_puts_unread_first(east, kam, am, make_user):
    ito = make_user("ito", "am", east)
    old = reports.daily_report_save(actor=am, day=EARLIER, summary="先週", submit=True)
    reports.daily_report_save(actor=ito, day=DAY, summary="今週", submit=True)
    read = reports.daily_report_save(actor=am, day=DAY, summary="今週", submit=True)
    reports.daily_report_mark_read(actor=kam, report=read)
    items = list(reports.team_report_list(viewer=kam, date_from=EARLIER, date_to=DAY))
    assert [(r.user.username, r.day, r.status) for r in items] == [
        ("ito", DAY, ReportStatus.SUBMITTED),
        ("am", EARLIER, ReportStatus.SUBMITTED),
        ("am", DAY, ReportStatus.REVIEWED),
    ]
    assert old in items


def test_a_list_range_is_bounded(east, am):
    with pytest.raises(ApplicationError):
        reports.report_list(viewer=am, date_from=DAY, date_to=DAY - datetime.timedelta(days=1))
    with pytest.raises(ApplicationError):
        reports.report_list(viewer=am, date_from=DAY - datetime.timedelta(days=400), date_to=DAY)


# Working days and rollups -------------------------------------------------------------------


def test_working_days_leave_out_weekends_and_japanese_holidays():
    # 2026-11-23 (Mon) is 勤労感謝の日, 2026-11-03 (Tue) 文化の日.
    week = reports.working_days(datetime.date(2026, 11, 23), datetime.date(2026, 11, 29))
    assert week == [datetime.date(2026, 11, d) for d in (24, 25, 26, 27)]
    november = reports.working_days(datetime.date(2026, 11, 1), datetime.date(2026, 11, 30))
    assert len(november) == 21 - 2
    assert datetime.date(2026, 11, 3) not in november
    # Golden Week 2026: 4/29, 5/3–5/6 (5/6 is the substitute holiday for 5/3, a Sunday).
    gw = reports.working_days(datetime.date(2026, 4, 27), datetime.date(2026, 5, 8))
    assert datetime.date(2026, 5, 6) not in gw and datetime.date(2026, 4, 29) not in gw
    assert datetime.date(2026, 5, 4) not in gw and datetime.date(2026, 5, 5) not in gw
    assert len(gw) == 10 - 4


def test_rollup_per_person_matches_the_hand_made_day(
    day_of_am, kam, am, django_assert_max_num_queries
):
    with django_assert_max_num_queries(1):
        rollup = reports.report_rollup(viewer=kam, period="week", day=DAY, by="person")
    assert (rollup.start, rollup.end) == (DAY, DAY + datetime.timedelta(days=6))
    assert len(rollup.working_days) == 5
    rows = {r.obj.username: r for r in rollup.rows}
    assert set(rows) == {"kam", "am"}
    assert rows["am"].values == {
        "calls_out": 2,  # the West account's call is not kam's to see; the archived one is gone
        "calls_in": 1,
        "calls_reached": 2,
        "meetings": 1,
        "emails": 1,
        "appointments_held": 1,
        "appointments_cancelled": 1,
        "tasks_completed": 2,
        "accounts_touched": 3,
        "reports_submitted": 1,
    }
    assert rows["am"].expected_reports == 5 and rows["am"].submission_rate == 20
    assert rows["kam"].values["meetings"] == 1
    assert rows["kam"].values["appointments_cancelled"] == 1
    assert rows["kam"].values["calls_out"] == 0


def test_rollup_per_team_counts_a_shared_meeting_once(
    day_of_am, head, team_west, django_assert_max_num_queries
):
    with django_assert_max_num_queries(1):
        rollup = reports.report_rollup(viewer=head, period="week", day=DAY, by="team")
    rows = {r.label: r for r in rollup.rows}
    east = rows["East"]
    assert east.values["meetings"] == 1  # am and kam both joined it
    assert east.values["appointments_cancelled"] == 1
    assert east.values["calls_out"] == 3 and east.values["calls_reached"] == 3
    assert east.values["accounts_touched"] == 4
    assert east.expected_reports == 5 * 2
    assert all(v == 0 for v in rows["West"].values.values())


def test_rollup_month_and_people_visible_to_a_plain_member(day_of_am, am, kam):
    rollup = reports.report_rollup(viewer=am, period="month", day=DAY, by="person")
    assert (rollup.start, rollup.end) == (datetime.date(2026, 11, 1), datetime.date(2026, 11, 30))
    assert [r.obj.username for r in rollup.rows] == ["am"]  # only themself
    assert rollup.rows[0].values["calls_out"] == 3  # the whole month, without the West account
    assert rollup.rows[0].values["tasks_completed"] == 3
    assert not reports.report_rollup(viewer=am, period="week", day=DAY, by="team").rows


def test_rollup_refuses_unknown_periods(am):
    with pytest.raises(ApplicationError):
        reports.report_rollup(viewer=am, period="year")
