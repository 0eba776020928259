"""Journeys through issue 4: the timeline, safe notes, booking, "my day" and the daily report.

Each journey is what a key account manager does in a real browser against the live server.
"""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Dialog, Page, expect

from tokui.activities.appointments import appointment_book
from tokui.activities.constants import TaskStatus
from tokui.activities.models import Appointment, Task
from tokui.activities.services import interaction_create
from tokui.activities.task_services import task_create
from tokui.users.constants import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "demo-tokui"


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))


def at_local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def local_input(day: datetime.date, hour: int, minute: int = 0) -> str:
    """The value a datetime-local input takes."""
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}"


def mark_page(page: Page) -> None:
    """A flag on the window: it survives htmx swaps and is gone after any page load."""
    page.evaluate("window.__tokuiNoReload = true")


def still_same_page(page: Page) -> bool:
    return bool(page.evaluate("window.__tokuiNoReload === true"))


# 1. Quick call logging on the account page ---------------------------------------------------


def test_kam_logs_a_call_from_the_account_page_and_filters_the_timeline(
    page: Page, live_server, kam, make_account, make_contact
):
    account = make_account(kam, name="株式会社山田商事", name_kana="ヤマダショウジ")
    make_contact(account)
    sato = make_contact(
        account,
        family_name="佐藤",
        given_name="花子",
        family_name_kana="サトウ",
        given_name_kana="ハナコ",
        title="購買部長",
    )
    interaction_create(
        actor=kam,
        account=account,
        data={
            "kind": "note",
            "body": "前回の打ち合わせメモ",
            "occurred_at": timezone.now() - datetime.timedelta(days=2),
        },
    )

    sign_in(page, live_server.url, "kam")
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    expect(page.get_by_role("heading", name="株式会社山田商事")).to_be_visible()
    mark_page(page)

    timeline = page.locator("#timeline")
    entries = timeline.locator(".tl-entry")
    expect(timeline.locator(".tl-entry.tl-note")).to_contain_text("前回の打ち合わせメモ")

    # The quick form, in the timeline: direction, contact, outcome, duration, a short note
    timeline.locator("summary", has_text="Log a call").click()
    form = timeline.locator("form.quick-call")
    form.get_by_label("Inbound").check()
    form.get_by_label("With").select_option(label=f"{sato.full_name} · 購買部長")
    form.get_by_label("Outcome").select_option(label="Asked to call back")
    form.get_by_label("Minutes").fill("12")
    form.get_by_label("Note", exact=True).fill("見積もりの件で折り返し希望。来週月曜に再連絡。")
    form.get_by_role("button", name="Save call").click()

    # In place (htmx), on top of the timeline
    expect(timeline.get_by_role("status")).to_have_text("Call logged.")
    top = entries.first
    expect(top).to_have_class(re.compile(r"\btl-call\b"))
    for text in ("Inbound", "Asked to call back", "12 min", "佐藤 花子", "来週月曜に再連絡"):
        expect(top).to_contain_text(text)
    assert still_same_page(page), "logging a call reloaded the page instead of swapping in place"

    # And after a reload too
    page.reload()
    top = page.locator("#timeline .tl-entry").first
    expect(top).to_have_class(re.compile(r"\btl-call\b"))
    expect(top).to_contain_text("来週月曜に再連絡")
    expect(page.locator("#timeline .tl-entry:not(.tl-call)").first).to_be_visible()

    # Calls only: the note and the account's history leave the timeline
    mark_page(page)
    timeline = page.locator("#timeline")
    chip = timeline.get_by_role("link", name="Call", exact=True)
    chip.click()
    expect(timeline.get_by_role("link", name="Call", exact=True)).to_have_attribute(
        "aria-current", "true"
    )
    expect(timeline.locator(".tl-entry:not(.tl-call)")).to_have_count(0)
    expect(timeline.locator(".tl-entry.tl-call")).to_have_count(1)
    expect(timeline).not_to_contain_text("前回の打ち合わせメモ")
    assert still_same_page(page), "the filter reloaded the page instead of swapping in place"


# 2. A note in Markdown, rendered safely ------------------------------------------------------

HOSTILE_NOTE = (
    "**価格改定**について協議。\n\n"
    "- 5%の値上げに難色\n"
    "- 代替案を来週提示\n\n"
    "<script>alert(1)</script>\n\n"
    "[link](javascript:alert(1)) と [社内Wiki](https://wiki.example.com/yamada)\n"
)


def _assert_rendered_safely(area) -> None:
    expect(area.locator("strong")).to_have_text("価格改定")
    expect(area.locator("li")).to_have_count(2)
    # The script tag is shown as text, never as an element
    expect(area).to_contain_text("<script>alert(1)</script>")
    expect(area.locator("script")).to_have_count(0)
    # The javascript: link is gone; the ordinary one stays, and opens nothing of ours
    expect(area.get_by_role("link", name="link", exact=True)).to_have_count(0)
    expect(area.locator("a[href^='javascript' i]")).to_have_count(0)
    wiki = area.get_by_role("link", name="社内Wiki")
    expect(wiki).to_have_attribute("href", "https://wiki.example.com/yamada")
    expect(wiki).to_have_attribute("rel", re.compile(r"noopener"))


def test_kam_writes_a_markdown_note_and_no_script_runs(page: Page, live_server, kam, make_account):
    account = make_account(kam, name="株式会社山田商事", name_kana="ヤマダショウジ")
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)

    sign_in(page, live_server.url, "kam")
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    page.locator("#timeline").get_by_role("link", name="Log an interaction").click()
    expect(page.get_by_role("heading", name="Log an interaction")).to_be_visible()

    page.get_by_role("radio", name="Note", exact=True).check()
    page.get_by_label("Subject").fill("価格改定の打ち合わせ")
    page.get_by_label("Notes", exact=True).fill(HOSTILE_NOTE)

    # The preview, in place
    mark_page(page)
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#body-preview")
    _assert_rendered_safely(preview)
    assert still_same_page(page), "the preview reloaded the page instead of swapping in place"

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Note logged.")).to_be_visible()
    note = page.locator("#timeline .tl-entry.tl-note").first
    expect(note).to_contain_text("価格改定の打ち合わせ")
    _assert_rendered_safely(note.locator(".md"))
    expect(page.locator("a[href^='javascript' i]")).to_have_count(0)

    assert dialogs == [], f"a script ran: {dialogs}"


# 3. Booking over another appointment, then rescheduling ---------------------------------------


def test_kam_books_over_a_conflict_then_reschedules_and_the_timeline_shows_it(
    page: Page, live_server, kam, make_account, make_contact
):
    account = make_account(kam, name="株式会社山田商事", name_kana="ヤマダショウジ")
    make_contact(account)
    other = make_account(kam, name="東洋精機株式会社", name_kana="トウヨウセイキ")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    appointment_book(
        actor=kam,
        account=other,
        data={
            "kind": "meeting",
            "title": "東洋精機 定例会",
            "starts_at": at_local(tomorrow, 10, 30),
            "ends_at": at_local(tomorrow, 11, 30),
        },
    )

    sign_in(page, live_server.url, "kam")
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    page.get_by_role("link", name="Book a meeting", exact=True).click()
    expect(page.get_by_role("heading", name="Book a meeting")).to_be_visible()

    page.get_by_label("Title").fill("価格交渉")
    page.get_by_label("Starts").fill(local_input(tomorrow, 10))
    page.get_by_label("Ends").fill(local_input(tomorrow, 11))

    # The overlap shows while the form is filled in, before anything is saved
    conflicts = page.locator("#conflicts").last
    expect(conflicts).to_contain_text("This time overlaps other appointments")
    expect(conflicts).to_contain_text("東洋精機 定例会")
    expect(page.locator("#conflicts")).to_have_count(1)  # the check replaces its region
    assert not Appointment.objects.filter(account=account).exists()

    # Saving asks again; "Book anyway" books it
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.locator("#conflicts")).to_contain_text("東洋精機 定例会")
    assert not Appointment.objects.filter(account=account).exists()
    page.get_by_role("button", name="Book anyway").click()

    expect(page.get_by_text("Appointment booked.")).to_be_visible()
    expect(page.get_by_role("heading", name="価格交渉")).to_be_visible()
    expect(page.locator(".props")).to_contain_text("10:00–11:00")
    expect(page.locator(".props")).to_contain_text("株式会社山田商事")

    # Reschedule to a free afternoon slot
    page.get_by_role("link", name="Change or reschedule").click()
    page.get_by_label("Starts").fill(local_input(tomorrow, 15))
    page.get_by_label("Ends").fill(local_input(tomorrow, 16))
    expect(page.locator("#conflicts").last).to_contain_text("No overlaps")
    reason = "先方の都合で午後に変更"
    page.get_by_label("Reason for the change").fill(reason)
    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_text("Changes saved.")).to_be_visible()
    expect(page.locator(".props")).to_contain_text("15:00–16:00")
    history = page.locator(".history")
    expect(history).to_contain_text("Appointment rescheduled")
    expect(history.locator("ins", has_text="15:00").first).to_be_visible()

    # The account's timeline shows the booking and the change, old and new time
    page.get_by_role("link", name="株式会社山田商事").first.click()
    timeline = page.locator("#timeline")
    change = timeline.locator(".tl-entry.tl-changes", has_text="Appointment rescheduled")
    expect(change).to_contain_text("価格交渉")
    expect(change.locator("del", has_text="10:00").first).to_be_visible()
    expect(change.locator("ins", has_text="15:00").first).to_be_visible()
    expect(timeline.locator(".tl-entry", has_text="Appointment booked")).to_be_visible()

    expect(change).to_contain_text(reason)


# 4. "My day": complete an overdue task in place ----------------------------------------------


def test_kam_completes_an_overdue_task_from_my_day(page: Page, live_server, kam, make_account):
    account = make_account(kam, name="株式会社山田商事", name_kana="ヤマダショウジ")
    now = timezone.now()
    overdue = task_create(
        actor=kam,
        data={
            "title": "見積書を送付",
            "account": account,
            "due_at": now - datetime.timedelta(days=1),
        },
    )
    task_create(
        actor=kam,
        data={
            "title": "請求書の確認",
            "account": account,
            "due_at": now - datetime.timedelta(days=2),
        },
    )

    sign_in(page, live_server.url, "kam")
    page.goto(f"{live_server.url}/")
    myday = page.locator(".myday")
    expect(myday.get_by_role("link", name="見積書を送付")).to_be_visible()
    item = myday.locator("li", has_text="見積書を送付")
    expect(item).to_contain_text("Overdue")

    checkbox = myday.get_by_role("checkbox", name=re.compile("見積書を送付"))
    mark_page(page)
    checkbox.check()
    expect(myday.get_by_role("link", name="見積書を送付")).to_have_count(0)
    expect(myday.get_by_role("link", name="請求書の確認")).to_be_visible()
    assert still_same_page(page), "completing the task reloaded the page"
    overdue.refresh_from_db()
    assert overdue.status == TaskStatus.DONE
    page.reload()
    expect(page.locator(".myday").get_by_role("link", name="見積書を送付")).to_have_count(0)
    assert Task.objects.filter(status=TaskStatus.OPEN).count() == 1


# 5. The daily report, to the manager and back ------------------------------------------------


def test_kam_submits_the_daily_report_and_the_manager_comments(
    page: Page, new_context, live_server, kam, make_user, team_east, make_account
):
    manager = make_user("mori", Role.KAM, team_east, display_name="Mori Manager")
    team_east.manager = manager
    team_east.save(update_fields=["manager"])
    account = make_account(kam, name="株式会社山田商事", name_kana="ヤマダショウジ")
    interaction_create(
        actor=kam,
        account=account,
        data={"kind": "call", "direction": "out", "outcome": "reached", "body": "価格の相談"},
    )
    summary = "山田商事様と来期の価格改定を協議。代替案を来週提示。"
    reply = "代替案は水曜までに一度見せてください。"

    # The KAM writes and submits today's report
    sign_in(page, live_server.url, "kam")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Daily report").click()
    expect(page.get_by_role("heading", name=re.compile("Daily report"))).to_be_visible()
    expect(page.locator("#day-interactions .count")).to_have_text("1")
    page.get_by_label("Comments on your day").fill(summary)
    page.get_by_role("button", name="Submit to my manager").click()
    expect(page.get_by_text("Report submitted. Your manager has been told.")).to_be_visible()
    expect(page.get_by_text("Submitted, unread")).to_be_visible()

    # The manager signs in (another browser), reads it and comments
    boss = new_context().new_page()
    sign_in(boss, live_server.url, "mori")
    boss.get_by_role("navigation", name="Main").get_by_role("link", name="Daily report").click()
    boss.get_by_role("link", name="Team reports").click()
    row = boss.locator("#results tbody tr", has_text="Kei Kamiya")
    expect(row).to_contain_text("Submitted, unread")
    row.get_by_role("link").first.click()
    expect(boss.locator(".report-summary")).to_have_text(summary)
    boss.get_by_role("textbox", name="Comment", exact=True).fill(reply)
    boss.get_by_role("button", name="Comment and mark as read").click()
    expect(boss.get_by_text("Comment added.")).to_be_visible()
    expect(boss.locator(".report-comments")).to_contain_text(reply)
    expect(boss.get_by_text("Read by Mori Manager")).to_be_visible()

    # The KAM sees the comment on their report
    page.reload()
    comments = page.locator(".report-comments")
    expect(comments).to_contain_text("Mori Manager")
    expect(comments).to_contain_text(reply)
    expect(page.get_by_text("Read by Mori Manager")).to_be_visible()
