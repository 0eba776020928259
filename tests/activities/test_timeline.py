"""The account timeline: one list of interactions and audit events, keyset-paged."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tokui.accounts.models import account_scope
from tokui.accounts.services import account_update
from tokui.activities.models import Interaction
from tokui.activities.services import interaction_create, interaction_delete
from tokui.activities.timeline import (
    Cursor,
    TimelineEntry,
    TimelineSource,
    account_timeline,
    parse_kinds,
    timeline_sources,
)
from tokui.core.exceptions import ApplicationError, NotFound
from tokui.core.models import AuditEvent


@pytest.fixture
def account(kam, make_account):
    return make_account(kam, name="株式会社時系列")


def _walk(viewer, account, *, limit, kinds=None):
    """Every entry, page by page, following next_cursor."""
    seen, cursor, pages = [], None, 0
    while True:
        page = account_timeline(
            viewer=viewer, account=account, kinds=kinds, cursor=cursor, limit=limit
        )
        seen.extend(page.entries)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            return seen, pages
        assert pages < 1000


def test_interactions_and_changes_newest_first(kam, account):
    base = timezone.now() - datetime.timedelta(days=3)
    old = interaction_create(actor=kam, account=account, data={"kind": "note", "occurred_at": base})
    new = interaction_create(
        actor=kam,
        account=account,
        data={"kind": "call", "direction": "in", "occurred_at": base + datetime.timedelta(days=2)},
    )
    account_update(actor=kam, account=account, data={"industry": "製造業"})
    page = account_timeline(viewer=kam, account=account)
    sources = [(e.source, e.obj.pk) for e in page.entries]
    assert sources[0][0] == "change"  # the account change is the newest
    assert ("interaction", new.pk) in sources and ("interaction", old.pk) in sources
    assert sources.index(("interaction", new.pk)) < sources.index(("interaction", old.pk))
    # The "interaction logged" events are not shown twice: the interaction is there.
    actions = [e.obj.action for e in page.entries if e.source == "change"]
    assert "activities.interaction.created" not in actions
    assert "accounts.account.created" in actions
    assert [e.key for e in page.entries] == sorted((e.key for e in page.entries), reverse=True)


def test_kind_filter(kam, account):
    interaction_create(actor=kam, account=account, data={"kind": "note"})
    interaction_create(actor=kam, account=account, data={"kind": "call", "direction": "out"})
    calls = account_timeline(viewer=kam, account=account, kinds=frozenset({"call"}))
    assert [e.kind for e in calls.entries] == ["call"]
    changes = account_timeline(viewer=kam, account=account, kinds=frozenset({"changes"}))
    assert {e.source for e in changes.entries} == {"change"}
    both = account_timeline(viewer=kam, account=account, kinds=frozenset({"note", "changes"}))
    assert {e.kind for e in both.entries} == {"note", "changes"}
    with pytest.raises(ApplicationError):
        parse_kinds(["call", "dance"])
    assert parse_kinds([]) is None


def test_paging_is_stable_with_equal_timestamps(kam, account):
    same = timezone.now() - datetime.timedelta(hours=1)
    made = Interaction.objects.bulk_create(
        Interaction(account=account, kind="note", occurred_at=same, author=kam) for _ in range(23)
    )
    # Audit events at exactly the same instant as the interactions.
    AuditEvent.objects.bulk_create(
        AuditEvent(
            at=same,
            action="accounts.account.updated",
            target_type="accounts.account",
            target_id=str(account.pk),
            target_repr="x",
            scope=account_scope(account.pk),
        )
        for _ in range(7)
    )
    total = 23 + 7 + AuditEvent.objects.filter(scope=account_scope(account.pk)).count() - 7
    entries, pages = _walk(kam, account, limit=4)
    keys = [e.key for e in entries]
    assert len(keys) == len(set(keys)) == total  # nothing skipped, nothing repeated
    assert keys == sorted(keys, reverse=True)
    assert pages == -(-total // 4)
    assert {e.obj.pk for e in entries if e.source == "interaction"} == {i.pk for i in made}


def test_deleted_interactions_leave_and_their_deletion_shows(kam, account):
    note = interaction_create(actor=kam, account=account, data={"kind": "note", "subject": "旧"})
    interaction_delete(actor=kam, interaction=note)
    page = account_timeline(viewer=kam, account=account)
    assert not [e for e in page.entries if e.source == "interaction"]
    assert "activities.interaction.deleted" in [e.obj.action for e in page.entries]


def test_invisible_account_and_bad_cursor(kam, west_am, account):
    with pytest.raises(NotFound):
        account_timeline(viewer=west_am, account=account)
    for bad in ("nonsense", "!!!", "a" * 300, Cursor.__name__):
        with pytest.raises(ApplicationError) as exc:
            account_timeline(viewer=kam, account=account, cursor=bad)
        assert exc.value.status == 400


def test_cursor_round_trip():
    cursor = Cursor(timezone.now(), "interaction", 42)
    assert Cursor.decode(cursor.encode()) == cursor


def test_a_page_costs_the_same_queries_at_any_depth(kam, am, account, make_contact):
    contact = make_contact(account)
    base = timezone.now() - datetime.timedelta(days=30)
    for n in range(60):
        interaction_create(
            actor=kam,
            account=account,
            data={
                "kind": "call",
                "direction": "out",
                "occurred_at": base + datetime.timedelta(minutes=n),
                "contacts": [contact],
                "participants": [am],
                "body": f"**{n}**",
            },
        )
    for n in range(30):
        account_update(actor=kam, account=account, data={"industry": f"業種{n}"})
    first = account_timeline(viewer=kam, account=account, kinds=frozenset({"call"}))
    with CaptureQueriesContext(connection) as q1:
        account_timeline(viewer=kam, account=account, kinds=frozenset({"call"}))
    second = account_timeline(
        viewer=kam, account=account, kinds=frozenset({"call"}), cursor=first.next_cursor
    )
    with CaptureQueriesContext(connection) as q2:
        deep = account_timeline(
            viewer=kam, account=account, kinds=frozenset({"call"}), cursor=second.next_cursor
        )
    assert len(deep.entries) == 20
    assert len(q1.captured_queries) == len(q2.captured_queries) <= 6
    # Mixed pages too: one query per source plus the page's prefetches.
    with CaptureQueriesContext(connection) as q3:
        account_timeline(viewer=kam, account=account)
    assert len(q3.captured_queries) <= 7
    for query in q2.captured_queries:
        assert "OFFSET" not in query["sql"].upper()


def test_later_apps_add_their_own_source(kam, account):
    def fetch(query):
        if query.wants(["order"]) == []:
            return []
        at = timezone.now() + datetime.timedelta(days=1)
        return [TimelineEntry(at=at, source="order", id=1, kind="order", obj={"no": "SO-1"})]

    timeline_sources.register(
        TimelineSource(
            name="order",
            kinds=lambda: [("order", "Orders")],
            fetch=fetch,
            template="activities/interactions/_entry_change.html",
        )
    )
    try:
        page = account_timeline(viewer=kam, account=account)
        assert page.entries[0].source == "order"
        assert parse_kinds(["order"]) == frozenset({"order"})
        only = account_timeline(viewer=kam, account=account, kinds=frozenset({"order"}))
        assert [e.source for e in only.entries] == ["order"]
    finally:
        timeline_sources.unregister("order")
