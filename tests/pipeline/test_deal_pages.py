"""The deal page and its forms, the account page's deals section (pages, no JavaScript)."""

import datetime
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tokui.accounts.constants import AccountKind
from tokui.accounts.models import Account, Contact
from tokui.activities.models import Appointment, Interaction
from tokui.catalog.models import Product
from tokui.core.models import AuditEvent
from tokui.pipeline.constants import StageKind
from tokui.pipeline.models import Deal, DealLine, DealNeed, DealObjection, PlaybookStep, Stage
from tokui.pipeline.services import deal_move_stage, deal_step_set
from tokui.users.models import User

pytestmark = pytest.mark.django_db

Stages = Callable[[str], Stage]


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _url(name: str, *args: object) -> str:
    return reverse(f"pipeline:{name}", args=args)


def test_the_deal_page_shows_the_header_the_path_and_the_current_playbook(
    kam: User,
    make_deal: Callable[..., Deal],
    make_contact: Callable[..., Contact],
    customer: Account,
) -> None:
    deal = make_deal(value="1,500,000", likelihood="B")

    response = _client(kam).get(_url("deal_detail", deal.pk))

    assert response.status_code == 200
    html = response.content.decode()
    assert "ポンプ更新案件" in html and customer.name in html
    assert "First contact" in html and "Contract" in html  # the path
    assert 'aria-current="step"' in html
    assert "Contact person identified" in html  # the first stage's playbook
    assert reverse("accounts:contact_create", args=[customer.pk]) in html  # how to meet it
    assert "¥1,500,000" in html


def test_an_invisible_deal_is_a_404_and_support_reads_without_forms(
    west_am: User, support: User, make_deal: Callable[..., Deal]
) -> None:
    deal = make_deal()
    assert _client(west_am).get(_url("deal_detail", deal.pk)).status_code == 404
    assert (
        _client(west_am).post(_url("deal_move", deal.pk), {"stage": "appointment"}).status_code
        == 404
    )
    response = _client(support).get(_url("deal_detail", deal.pk))
    assert response.status_code == 200
    assert _url("deal_lines", deal.pk).encode() not in response.content
    assert _client(support).post(_url("deal_need_add", deal.pk), {"text": "x"}).status_code == 403
    assert not DealNeed.objects.exists()


def test_moving_on_with_an_unmet_step_is_refused_with_the_list_and_nothing_changes(
    kam: User, make_deal: Callable[..., Deal], stage: Stages
) -> None:
    deal = make_deal()

    response = _client(kam).post(
        _url("deal_move", deal.pk), {"stage": stage("meeting").pk, "version": deal.version}
    )

    assert response.status_code == 409
    html = response.content.decode()
    assert "Still to do" in html
    assert "Contact person identified" in html and "Appointment booked in the calendar" in html
    deal.refresh_from_db()
    assert deal.stage == stage("first_contact")
    assert not AuditEvent.objects.filter(action="pipeline.deal.stage_changed").exists()


def test_a_met_playbook_moves_the_deal_and_a_stale_page_is_refused(
    kam: User,
    make_deal: Callable[..., Deal],
    make_contact: Callable[..., Contact],
    customer: Account,
    stage: Stages,
) -> None:
    contact = make_contact(customer, family_name="佐藤")
    deal = make_deal(contact=contact.pk)
    client = _client(kam)

    moved = client.post(
        _url("deal_move", deal.pk), {"stage": stage("appointment").pk, "version": deal.version}
    )
    assert moved.status_code == 302
    deal.refresh_from_db()
    assert deal.stage == stage("appointment")

    stale = client.post(_url("deal_move", deal.pk), {"stage": "first_contact", "version": 1})
    assert stale.status_code == 409
    assert "while you were editing" in stale.content.decode()
    deal.refresh_from_db()
    assert deal.stage == stage("appointment")


def test_ticking_a_manual_step_with_htmx_returns_the_refreshed_checklist(
    kam: User, make_deal: Callable[..., Deal]
) -> None:
    deal = make_deal()
    step = PlaybookStep.objects.get(stage=deal.stage, requirement="manual")

    response = _client(kam).post(
        _url("deal_step", deal.pk, step.pk), {"done": "1"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card deal-progress" id="progress"')
    assert 'aria-checked="true"' in html
    assert deal.steps_done.filter(step=step).exists()
    # Without JavaScript the same form redirects back to the checklist; unticking works too.
    back = _client(kam).post(_url("deal_step", deal.pk, step.pk), {"done": "0"})
    assert back.status_code == 302 and back["Location"].endswith("#playbook")
    assert not deal.steps_done.exists()


def test_lines_are_priced_by_the_engine_and_bad_lines_are_named_next_to_their_row(
    kam: User, make_deal: Callable[..., Deal], make_product: Callable[..., Product]
) -> None:
    pump = make_product(list_price=Decimal(120_000))
    dollars = make_product(currency="USD", list_price=Decimal("900.00"), cost=Decimal("500.00"))
    deal = make_deal()
    client = _client(kam)
    form = {
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "0",
        "lines-0-product": pump.pk,
        "lines-0-quantity": "2",
        "lines-1-product": "",
        "lines-1-quantity": "",
        "lines-2-product": pump.pk,
        "lines-2-quantity": "0",
    }

    refused = client.post(_url("deal_lines", deal.pk), form)
    assert refused.status_code == 422
    assert not DealLine.objects.exists()

    form["lines-2-quantity"] = "1"
    form["lines-2-unit_price"] = "110,000"
    saved = client.post(_url("deal_lines", deal.pk), form)
    assert saved.status_code == 302
    deal.refresh_from_db()
    assert deal.value == Decimal(120_000 * 2 + 110_000)
    assert list(deal.lines.values_list("quantity", flat=True)) == [2, 1]
    page = client.get(_url("deal_detail", deal.pk)).content.decode()
    assert "How the price was found" in page
    # A product in another currency is not offered, and posted anyway it is refused by name.
    assert dollars.sku not in page
    mixed = client.post(
        _url("deal_lines", deal.pk),
        {"lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0",
         "lines-0-product": dollars.pk, "lines-0-quantity": "1"},
    )  # fmt: skip
    assert mixed.status_code == 422
    deal.refresh_from_db()
    assert deal.lines.count() == 2


def test_more_lines_adds_blank_rows_and_saves_nothing(
    kam: User, make_deal: Callable[..., Deal], make_product: Callable[..., Product]
) -> None:
    pump = make_product()
    deal = make_deal()
    response = _client(kam).post(
        _url("deal_lines", deal.pk),
        {"lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-0-product": pump.pk,
         "lines-0-quantity": "3", "more_lines": "1"},
    )  # fmt: skip
    assert response.status_code == 200
    assert 'name="lines-3-product"' in response.content.decode()
    assert not DealLine.objects.exists()


def test_needs_and_objections_are_recorded_answered_and_removed(
    kam: User, make_deal: Callable[..., Deal]
) -> None:
    deal = make_deal()
    client = _client(kam)

    assert client.post(_url("deal_need_add", deal.pk), {"text": " "}).status_code == 422
    assert (
        client.post(
            _url("deal_need_add", deal.pk), {"text": "省エネ性能", "important": "on"}
        ).status_code
        == 302
    )
    need = DealNeed.objects.get()
    assert need.important
    assert (
        client.post(_url("deal_objection_add", deal.pk), {"text": "価格が高い"}).status_code == 302
    )
    objection = DealObjection.objects.get()
    answer = client.post(
        _url("deal_objection_answer", deal.pk, objection.pk),
        {f"o{objection.pk}-response": "5年TCOで比較", f"o{objection.pk}-resolved": "on"},
    )
    assert answer.status_code == 302
    objection.refresh_from_db()
    assert objection.resolved and objection.response == "5年TCOで比較"
    assert client.post(_url("deal_need_delete", deal.pk, need.pk)).status_code == 302
    assert not DealNeed.objects.exists()
    client.post(_url("deal_objection_answer", deal.pk, objection.pk), {"delete": "1"})
    assert not DealObjection.objects.exists()


def test_booking_and_logging_a_meeting_from_the_deal_meet_their_steps(
    kam: User, make_deal: Callable[..., Deal]
) -> None:
    deal = make_deal()
    client = _client(kam)
    starts = (timezone.localtime() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT10:00")

    bad = client.post(
        _url("deal_book", deal.pk),
        {"kind": "meeting", "title": "", "starts_at": starts, "minutes": "60"},
    )
    assert bad.status_code == 422 and not Appointment.objects.exists()
    booked = client.post(
        _url("deal_book", deal.pk),
        {
            "kind": "meeting",
            "title": "初回訪問",
            "starts_at": starts,
            "minutes": "60",
            "mode": "on_site",
        },
    )
    assert booked.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.regarding == deal
    held = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    logged = client.post(
        _url("deal_meeting", deal.pk), {"kind": "meeting", "occurred_at": held, "subject": "面談"}
    )
    assert logged.status_code == 302
    assert Interaction.objects.get(kind="meeting").regarding == deal


def test_losing_asks_for_the_reason_and_the_competitor(
    kam: User, make_deal: Callable[..., Deal], make_account: Callable[..., Account], stage: Stages
) -> None:
    rival = make_account(kam, name="競合ポンプ株式会社", kind=AccountKind.COMPETITOR)
    deal = make_deal()
    client = _client(kam)

    refused = client.post(
        _url("deal_lose", deal.pk), {"lost_reason": "competitor", "version": deal.version}
    )
    assert refused.status_code == 422
    assert "Name the competitor who won" in refused.content.decode()
    deal.refresh_from_db()
    assert deal.stage == stage("first_contact")

    lost = client.post(
        _url("deal_lose", deal.pk),
        {
            "lost_reason": "competitor",
            "lost_to": rival.pk,
            "lost_note": "価格差",
            "version": deal.version,
        },
    )
    assert lost.status_code == 302
    deal.refresh_from_db()
    assert deal.stage.kind == StageKind.LOST and deal.lost_to == rival
    page = client.get(_url("deal_detail", deal.pk)).content.decode()
    assert rival.name in page and "価格差" in page


def test_creating_a_deal_picks_the_account_then_shows_errors_next_to_fields(
    kam: User, customer: Account, west_am: User, make_account: Callable[..., Account]
) -> None:
    client = _client(kam)
    picker = client.get(_url("deal_create"), {"q": "北斗"})
    assert picker.status_code == 200 and f"?account={customer.pk}" in picker.content.decode()

    bad = client.post(
        _url("deal_create") + f"?account={customer.pk}",
        {
            "title": "",
            "owner": kam.pk,
            "currency": "JPY",
            "likelihood": "B",
            "source": "call",
            "value": "-5",
        },
    )
    assert bad.status_code == 422
    assert 'class="field field-invalid' in bad.content.decode()
    assert not Deal.objects.exists()

    made = client.post(
        _url("deal_create") + f"?account={customer.pk}",
        {"title": "新工場ライン", "owner": kam.pk, "currency": "JPY", "likelihood": "B",
         "source": "exhibition", "value": "3,000,000", "expected_close": "2030-01-31"},
    )  # fmt: skip
    deal = Deal.objects.get()
    assert made.status_code == 302 and made["Location"] == _url("deal_detail", deal.pk)
    assert deal.value == Decimal(3_000_000) and deal.source == "exhibition"
    other = make_account(west_am, name="西日本工業株式会社")
    assert client.get(_url("deal_create"), {"account": other.pk}).status_code == 404


def test_editing_with_a_stale_version_is_refused_and_keeps_the_newer_values(
    kam: User, am: User, make_deal: Callable[..., Deal]
) -> None:
    deal = make_deal()
    form = {"title": "改題", "owner": kam.pk, "currency": "JPY", "likelihood": "A",
            "source": "call", "version": deal.version}  # fmt: skip
    _client(am).post(_url("deal_edit", deal.pk), {**form, "title": "先に保存"})

    stale = _client(kam).post(_url("deal_edit", deal.pk), form)

    assert stale.status_code == 409
    deal.refresh_from_db()
    assert deal.title == "先に保存"


def test_the_account_page_lists_open_deals_and_the_closed_ones_of_the_year(
    kam: User, customer: Account, make_deal: Callable[..., Deal], stage: Stages
) -> None:
    make_deal(title="稼働中の案件")
    lost = make_deal(title="昨年の失注")
    deal_move_stage(actor=kam, deal=lost, stage="lost", lost_reason="price")

    html = _client(kam).get(reverse("accounts:detail", args=[customer.pk])).content.decode()

    assert "稼働中の案件" in html and "昨年の失注" in html
    assert "1 lost" in html
    assert f"{_url('deal_create')}?account={customer.pk}" in html


def test_the_history_shows_the_deal_s_events(kam: User, make_deal: Callable[..., Deal]) -> None:
    deal = make_deal()
    step = PlaybookStep.objects.get(stage=deal.stage, requirement="manual")
    deal_step_set(actor=kam, deal=deal, step=step, done=True)
    html = _client(kam).get(_url("deal_detail", deal.pk)).content.decode()
    assert "Deal opened" in html and "Playbook step ticked" in html
