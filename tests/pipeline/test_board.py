"""The pipeline board, the deal list and the forecast: pages, filters, visibility, card moves."""

import datetime
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tokui.accounts.constants import AccountKind
from tokui.accounts.models import Account
from tokui.core.models import AuditEvent
from tokui.pipeline.constants import LostReason, StageKind
from tokui.pipeline.models import Deal, DealStageChange, Stage
from tokui.pipeline.services import deal_move_stage
from tokui.users.models import User

pytestmark = pytest.mark.django_db

Stages = Callable[[str], Stage]
MakeDeal = Callable[..., Deal]

BOARD = "/deals/board/"
MOVE = "/deals/board/move/"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def signed_in(client: Client) -> Callable[[User], Client]:
    def sign_in(user: User) -> Client:
        client.force_login(user)
        return client

    return sign_in


def put_in(deal: Deal, stage: Stage, **fields: Any) -> Deal:
    """Test setup: place a deal in a stage directly (the playbooks are tested elsewhere)."""
    Deal.objects.filter(pk=deal.pk).update(stage=stage, **fields)
    deal.refresh_from_db()
    return deal


def column(response: Any, key: str) -> Any:
    return next(c for c in response.context["columns"] if c.stage.key == key)


def test_deals_redirects_to_the_board_and_the_nav_links_to_it(
    signed_in: Callable[[User], Client], kam: User
) -> None:
    client = signed_in(kam)
    assert client.get("/deals/").url == reverse("pipeline:board")
    page = client.get(BOARD)
    assert page.status_code == 200
    assert f'href="{BOARD}" aria-current="page"' in page.content.decode()


def test_columns_show_every_active_stage_with_totals_that_match_the_deals(
    signed_in: Callable[[User], Client], kam: User, make_deal: MakeDeal, stage: Stages
) -> None:
    make_deal(title="包装ライン", value="1,000,000", likelihood="A")
    make_deal(title="搬送ポンプ", value="500,000", likelihood="C")
    put_in(make_deal(title="冷却装置", value="300,000", likelihood="B"), stage("appointment"))
    usd = make_deal(title="Export pumps", currency="USD", value="1000.50", likelihood="B")

    response = signed_in(kam).get(BOARD)

    keys = [c.stage.key for c in response.context["columns"]]
    assert keys == list(Stage.objects.filter(active=True).values_list("key", flat=True))
    first = column(response, "first_contact")
    assert first.count == 3
    assert first.totals == {"JPY": Decimal(1_500_000), "USD": Decimal("1000.50")}
    assert first.weighted["JPY"] == Decimal(900_000)  # 80% of 1,000,000 + 20% of 500,000
    assert column(response, "appointment").totals == {"JPY": Decimal(300_000)}
    html = response.content.decode()
    assert "¥1,500,000" in html and "$1,000.50" in html and "weighted ¥900,000" in html
    assert f'data-deal="{usd.pk}"' in html


def test_japanese_readers_see_yen_the_japanese_way(
    signed_in: Callable[[User], Client], kam: User, make_deal: MakeDeal
) -> None:
    make_deal(value="1,200,000")
    client = signed_in(kam)
    html = client.get(BOARD, headers={"Accept-Language": "ja"}).content.decode()
    assert "1,200,000円" in html
    assert "初回接触" in html  # the stage's Japanese name


def test_cards_show_late_close_dates_owner_and_days_in_stage(
    signed_in: Callable[[User], Client], kam: User, make_deal: MakeDeal
) -> None:
    late = make_deal(title="遅延案件", expected_close=timezone.localdate() - datetime.timedelta(3))
    Deal.objects.filter(pk=late.pk).update(
        stage_entered_at=timezone.now() - datetime.timedelta(days=12)
    )
    html = signed_in(kam).get(BOARD).content.decode()
    card = re.search(r'<li class="deal-card is-late".*?</li>', html, re.S)
    assert card is not None
    assert "遅延案件" in card.group() and "Kei Kamiya" in card.group()
    assert "12 days in stage" in card.group()


def test_filters_by_owner_team_tier_and_close_month(
    signed_in: Callable[[User], Client],
    head: User,
    kam: User,
    am: User,
    west_am: User,
    make_account: Callable[..., Account],
    make_deal: MakeDeal,
) -> None:
    next_month = (timezone.localdate().replace(day=1) + datetime.timedelta(days=40)).replace(day=5)
    key = make_account(kam, name="株式会社大口", tier="key")
    mine = make_deal(title="KAM案件", account=key, expected_close=next_month)
    am_account = make_account(am, name="株式会社小口")
    theirs = make_deal(actor=am, account=am_account, title="AM案件")
    west = make_deal(actor=west_am, account=make_account(west_am), title="西案件")
    client = signed_in(head)

    def shown(**params: Any) -> set[int]:
        response = client.get(BOARD, params)
        return {d.pk for c in response.context["columns"] for d in c.deals}

    assert shown() == {mine.pk, theirs.pk, west.pk}
    assert shown(owner=am.pk) == {theirs.pk}
    assert shown(team=west_am.team_id) == {west.pk}
    assert shown(tier="key") == {mine.pk}
    assert shown(close_month=next_month.strftime("%Y-%m")) == {mine.pk}
    assert shown(owner="junk", close_month="13-99") == {mine.pk, theirs.pk, west.pk}
    # The filters stay in the form (and so in the URL of the GET form).
    html = client.get(BOARD, {"owner": am.pk}).content.decode()
    assert f'<option value="{am.pk}" selected>' in html


def test_another_teams_deals_are_not_on_my_board(
    signed_in: Callable[[User], Client],
    kam: User,
    west_am: User,
    make_account: Callable[..., Account],
    make_deal: MakeDeal,
) -> None:
    make_deal(title="東の案件")
    make_deal(actor=west_am, account=make_account(west_am), title="西の案件", value="9,999")
    response = signed_in(kam).get(BOARD)
    html = response.content.decode()
    assert "東の案件" in html and "西の案件" not in html
    assert "9,999" not in html
    assert sum(c.count for c in response.context["columns"]) == 1
    # and the move page of their deal does not exist for me
    other = Deal.objects.get(title="西の案件")
    assert signed_in(kam).get(f"{MOVE}{other.pk}/").status_code == 404


def test_the_board_page_costs_the_same_queries_for_10_and_60_deals(
    signed_in: Callable[[User], Client],
    kam: User,
    am: User,
    make_deal: MakeDeal,
    stage: Stages,
    django_assert_max_num_queries: Any,
) -> None:
    client = signed_in(kam)
    keys = ["first_contact", "appointment", "meeting", "needs", "presentation"]

    def add(n: int) -> None:
        for i in range(n):
            deal = make_deal(
                actor=kam, title=f"案件{i}", value=str(10_000 * (i + 1)), likelihood="ABC"[i % 3]
            )
            put_in(deal, stage(keys[i % len(keys)]), owner=am if i % 2 else kam)

    add(10)
    with django_assert_max_num_queries(30) as small:
        assert client.get(BOARD).status_code == 200
    add(50)
    with django_assert_max_num_queries(len(small.captured_queries)) as large:
        assert client.get(BOARD).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)


def test_show_more_pages_in_the_rest_of_a_column(
    signed_in: Callable[[User], Client], kam: User, make_deal: MakeDeal, stage: Stages
) -> None:
    for i in range(28):
        make_deal(title=f"案件{i:02d}")
    client = signed_in(kam)
    board = client.get(BOARD)
    first = column(board, "first_contact")
    assert len(first.deals) == 25 and first.more == 3
    assert "offset=25" in board.content.decode()
    more = client.get(
        f"/deals/board/column/{stage('first_contact').pk}/?offset=25", headers=HTMX
    ).content.decode()
    assert more.count('<li class="deal-card') == 3
    assert "案件27" in more and "案件00" not in more
    assert "Show more" not in more


# -- moves ----------------------------------------------------------------------------------------


def test_a_card_moves_and_the_two_columns_come_back(
    signed_in: Callable[[User], Client],
    kam: User,
    customer: Account,
    make_contact: Callable[..., Any],
    make_deal: MakeDeal,
    stage: Stages,
) -> None:
    deal = make_deal(contact=make_contact(customer), value="800,000")
    target = stage("appointment")

    response = signed_in(kam).post(
        MOVE,
        {"deal": deal.pk, "stage": target.pk, "version": deal.version, "from": deal.stage_id},
        headers=HTMX,
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-outcome="moved"' in html
    assert f'id="col-{target.pk}"' in html and f'id="col-{deal.stage_id}"' in html
    assert html.count('class="board-col ') == 2
    deal.refresh_from_db()
    assert deal.stage == target
    assert DealStageChange.objects.filter(deal=deal, to_stage=target).exists()


def test_the_playbook_refusal_lists_the_missing_steps_and_nothing_moves(
    signed_in: Callable[[User], Client], kam: User, make_deal: MakeDeal, stage: Stages
) -> None:
    deal = make_deal()  # no contact person yet
    before = AuditEvent.objects.count()

    response = signed_in(kam).post(
        MOVE,
        {"deal": deal.pk, "stage": stage("meeting").pk, "version": deal.version},
        headers=HTMX,
    )

    assert response.status_code == 409
    html = response.content.decode()
    assert 'data-outcome="refused"' in html
    assert "Contact person identified" in html
    assert "Appointment booked in the calendar" in html  # the skipped stage's step too
    assert html.index("First contact") < html.index("Appointment booked")
    deal.refresh_from_db()
    assert deal.stage == stage("first_contact")
    assert AuditEvent.objects.count() == before


def test_without_javascript_a_move_redirects_and_a_refusal_is_a_page(
    signed_in: Callable[[User], Client],
    kam: User,
    customer: Account,
    make_contact: Callable[..., Any],
    make_deal: MakeDeal,
    stage: Stages,
) -> None:
    client = signed_in(kam)
    refused = make_deal(title="未設定")
    page = client.get(f"{MOVE}{refused.pk}/")
    assert page.status_code == 200 and 'name="stage"' in page.content.decode()
    answer = client.post(MOVE, {"deal": refused.pk, "stage": stage("appointment").pk})
    assert answer.status_code == 409
    assert (
        "<html" in answer.content.decode()
        and "Contact person identified" in answer.content.decode()
    )

    deal = make_deal(contact=make_contact(customer))
    answer = client.post(
        MOVE,
        {"deal": deal.pk, "stage": stage("appointment").pk, "board_query": "tier=key"},
    )
    assert answer.status_code == 302 and answer.url == f"{BOARD}?tier=key"
    deal.refresh_from_db()
    assert deal.stage.key == "appointment"


def test_a_stale_card_is_refused_and_refreshed(
    signed_in: Callable[[User], Client],
    kam: User,
    customer: Account,
    make_contact: Callable[..., Any],
    make_deal: MakeDeal,
    stage: Stages,
) -> None:
    deal = make_deal(contact=make_contact(customer))
    seen = deal.version
    deal_move_stage(actor=kam, deal=deal, stage=stage("appointment"))  # someone else moved it

    response = signed_in(kam).post(
        MOVE,
        {"deal": deal.pk, "stage": stage("lost").pk, "version": seen, "from": deal.stage_id},
        headers=HTMX,
    )

    assert response.status_code == 409
    html = response.content.decode()
    assert 'data-outcome="conflict"' in html and "while you were editing" in html
    # The card comes back in the column it really is in, with its current version.
    deal.refresh_from_db()
    assert deal.stage.key == "appointment"
    assert f'id="col-{stage("appointment").pk}"' in html
    assert f'data-version="{deal.version}"' in html


def test_moving_to_lost_asks_for_the_reason_and_the_competitor(
    signed_in: Callable[[User], Client],
    kam: User,
    make_account: Callable[..., Account],
    make_deal: MakeDeal,
    stage: Stages,
) -> None:
    rival = make_account(kam, name="競合工業株式会社", kind=AccountKind.COMPETITOR)
    deal = make_deal()
    lost = stage("lost")
    client = signed_in(kam)

    form = client.get(f"{MOVE}{deal.pk}/?stage=lost", headers=HTMX).content.decode()
    assert 'name="lost_reason"' in form and "競合工業株式会社" in form
    assert f'<option value="{lost.pk}" selected>' in form

    no_reason = client.post(MOVE, {"deal": deal.pk, "stage": lost.pk}, headers=HTMX)
    assert no_reason.status_code == 422
    assert "Say why the deal was lost." in no_reason.content.decode()

    no_rival = client.post(
        MOVE,
        {"deal": deal.pk, "stage": lost.pk, "lost_reason": LostReason.COMPETITOR},
        headers=HTMX,
    )
    assert (
        no_rival.status_code == 422 and "Name the competitor who won." in no_rival.content.decode()
    )
    deal.refresh_from_db()
    assert deal.stage.key == "first_contact" and deal.closed_at is None

    done = client.post(
        MOVE,
        {
            "deal": deal.pk,
            "stage": lost.pk,
            "lost_reason": LostReason.COMPETITOR,
            "lost_to": rival.pk,
            "lost_note": "価格で競り負けた",
        },
        headers=HTMX,
    )
    assert done.status_code == 200
    deal.refresh_from_db()
    assert deal.stage.kind == StageKind.LOST and deal.lost_to == rival
    # Lost this month: on the board's Lost column.
    assert deal.pk in [d.pk for d in column(client.get(BOARD), "lost").deals]


def test_support_reads_the_board_but_cannot_move_cards(
    signed_in: Callable[[User], Client], support: User, make_deal: MakeDeal, stage: Stages
) -> None:
    deal = make_deal()
    client = signed_in(support)
    html = client.get(BOARD).content.decode()
    assert f'data-deal="{deal.pk}"' in html and 'draggable="false"' in html
    assert "Move to…" not in html
    answer = client.post(MOVE, {"deal": deal.pk, "stage": stage("appointment").pk}, headers=HTMX)
    assert answer.status_code == 403


def test_bad_move_input_is_a_clear_error(
    signed_in: Callable[[User], Client], kam: User, make_deal: MakeDeal
) -> None:
    deal = make_deal()
    client = signed_in(kam)
    assert client.post(MOVE, {"deal": "x", "stage": "1"}).status_code == 404
    assert client.post(MOVE, {"deal": deal.pk, "stage": "999999"}).status_code == 404
    assert client.get(MOVE).status_code == 405


# -- the list -------------------------------------------------------------------------------------


def test_the_list_sorts_filters_and_exports(
    signed_in: Callable[[User], Client], kam: User, make_deal: MakeDeal, stage: Stages
) -> None:
    small = make_deal(title="小型案件", value="100,000", likelihood="A")
    big = make_deal(title="大型案件", value="9,000,000", likelihood="B")
    put_in(make_deal(title="失注案件", value="50,000"), stage("lost"), closed_at=timezone.now())
    client = signed_in(kam)

    by_value = client.get("/deals/list/", {"sort": "-value"})
    assert [d.pk for d in by_value.context["page"].items][:2] == [big.pk, small.pk]
    html = by_value.content.decode()
    assert "¥4,500,000" in html  # 50% of 9,000,000
    open_only = client.get("/deals/list/", {"open": "1"})
    assert {d.title for d in open_only.context["page"].items} == {"小型案件", "大型案件"}
    in_stage = client.get("/deals/list/", {"stage": stage("lost").pk})
    assert [d.title for d in in_stage.context["page"].items] == ["失注案件"]

    export = client.get("/deals/list/", {"format": "csv", "open": "1"})
    text = export.content.decode("utf-8")
    assert text.startswith("\ufeff") and "大型案件" in text and "失注案件" not in text


# -- the forecast ---------------------------------------------------------------------------------


def test_forecast_sums_and_weights_by_month(
    signed_in: Callable[[User], Client], kam: User, make_deal: MakeDeal, stage: Stages
) -> None:
    today = timezone.localdate()
    this_month = today.replace(day=1)
    next_month = (this_month + datetime.timedelta(days=32)).replace(day=1)
    make_deal(value="1,000,000", likelihood="A", expected_close=this_month + datetime.timedelta(27))
    make_deal(value="400,000", likelihood="B", expected_close=next_month)
    make_deal(value="100,000", likelihood="C", expected_close=next_month + datetime.timedelta(3))
    make_deal(value="300,000", likelihood="C", expected_close=this_month - datetime.timedelta(20))
    put_in(
        make_deal(value="2,000,000", likelihood="A"),
        stage("won"),
        closed_at=timezone.now(),
    )

    response = signed_in(kam).get("/deals/forecast/")

    rows = response.context["rows"]
    assert len(rows) == 6
    assert rows[0]["count"] == 2  # this month's deal and the late one
    assert rows[0]["value"] == ["¥1,300,000"]
    assert rows[0]["weighted"] == ["¥860,000"]  # 80% of 1,000,000 + 20% of 300,000
    assert rows[0]["won"] == ["¥2,000,000"]
    assert rows[1]["count"] == 2
    assert rows[1]["weighted"] == ["¥220,000"]  # 50% of 400,000 + 20% of 100,000
    assert response.context["late"] == 1
    assert response.context["totals"]["value"] == ["¥1,800,000"]
    html = response.content.decode()
    assert "1 open deal is past its expected close date" in html
    assert 'class="bar-weighted"' in html and "style=" not in html.split("<main")[1]
