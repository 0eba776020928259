"""Deals through the work cycle: creating, pricing lines, playbooks on stage moves, won and lost."""

import datetime
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.utils import timezone

from tokui.accounts.constants import AccountKind
from tokui.accounts.models import Account, Contact, account_scope
from tokui.activities.appointments import appointment_book
from tokui.activities.services import interaction_create
from tokui.catalog.models import Product
from tokui.catalog.services import product_update
from tokui.core.exceptions import ApplicationError, Conflict, NotFound, PermissionDenied
from tokui.core.models import AuditEvent
from tokui.pipeline.constants import LostReason
from tokui.pipeline.models import Deal, DealStageChange, PlaybookStep, Stage
from tokui.pipeline.services import (
    PlaybookRefused,
    deal_create,
    deal_lose,
    deal_move_stage,
    deal_need_add,
    deal_objection_add,
    deal_set_lines,
    deal_step_set,
    deal_update,
    deal_win,
)
from tokui.users.models import User

pytestmark = pytest.mark.django_db

Stages = Callable[[str], Stage]


def test_a_new_deal_starts_in_the_first_stage_owned_by_its_creator(
    kam: User, customer: Account, stage: Stages
) -> None:
    deal = deal_create(
        actor=kam, account=customer, data={"title": "包装ライン更新", "value": "1,200,000"}
    )

    assert deal.stage == stage("first_contact")
    assert deal.owner == kam
    assert deal.value == Decimal(1_200_000)
    assert DealStageChange.objects.filter(deal=deal, from_stage=None).count() == 1
    event = AuditEvent.objects.get(action="pipeline.deal.created")
    assert event.scope == account_scope(customer.pk)


def test_bad_fields_are_all_reported_and_nothing_is_created(kam: User, customer: Account) -> None:
    with pytest.raises(ApplicationError) as caught:
        deal_create(
            actor=kam,
            account=customer,
            data={"title": " ", "value": "-5", "likelihood": "Z", "expected_close": "next week"},
        )
    assert set(caught.value.errors) >= {"title", "value", "likelihood", "expected_close"}
    assert not Deal.objects.exists()


def test_support_reads_but_cannot_open_deals_and_others_teams_accounts_are_invisible(
    support: User, west_am: User, customer: Account
) -> None:
    with pytest.raises(PermissionDenied):
        deal_create(actor=support, account=customer, data={"title": "x"})
    with pytest.raises(NotFound):
        deal_create(actor=west_am, account=customer, data={"title": "x"})


def test_deals_are_not_opened_on_competitors(
    kam: User, make_account: Callable[..., Account]
) -> None:
    rival = make_account(kam, name="競合ポンプ株式会社", kind=AccountKind.COMPETITOR)
    with pytest.raises(ApplicationError, match="competitor"):
        deal_create(actor=kam, account=rival, data={"title": "x"})


def test_lines_are_priced_by_the_engine_and_set_the_value(
    kam: User, make_deal: Callable[..., Deal], make_product: Callable[..., Product]
) -> None:
    pump = make_product(list_price=Decimal(120_000))
    deal = make_deal()

    deal = deal_set_lines(actor=kam, deal=deal, lines=[{"product": pump.pk, "quantity": 3}])

    line = deal.lines.get()
    assert line.unit_price == Decimal(120_000)
    assert line.amount == Decimal(360_000)
    assert line.explanation  # the engine says why
    assert Deal.objects.get(pk=deal.pk).value == Decimal(360_000)


def test_mixed_currencies_discontinued_products_and_zero_quantities_are_refused_all_at_once(
    kam: User, head: User, make_deal: Callable[..., Deal], make_product: Callable[..., Product]
) -> None:
    yen = make_product()
    dollars = make_product(currency="USD", list_price=Decimal("900.00"), cost=Decimal("500.00"))
    old = make_product()
    product_update(actor=head, product=old, data={"status": "discontinued"})
    deal = make_deal()
    deal = deal_set_lines(actor=kam, deal=deal, lines=[{"product": yen.pk, "quantity": 1}])

    with pytest.raises(ApplicationError) as caught:
        deal_set_lines(
            actor=kam,
            deal=deal,
            lines=[
                {"product": yen.pk, "quantity": 0},
                {"product": dollars.pk, "quantity": 1},
                {"product": old.pk, "quantity": 1},
            ],
        )
    messages = " ".join(str(m) for m in caught.value.errors.values())
    assert "one deal has one currency" in messages
    assert "Discontinued" in messages or "discontinued" in messages
    assert "at least 1" in messages
    assert list(deal.lines.values_list("product_id", flat=True)) == [yen.pk]  # unchanged


def test_moving_forward_with_unmet_steps_is_refused_with_the_list_of_what_is_missing(
    kam: User, make_deal: Callable[..., Deal], stage: Stages
) -> None:
    deal = make_deal()

    with pytest.raises(PlaybookRefused) as caught:
        deal_move_stage(actor=kam, deal=deal, stage="appointment")

    assert [step.requirement for _stage, step in caught.value.missing] == ["contact"]
    assert "Contact person identified" in caught.value.message
    assert Deal.objects.get(pk=deal.pk).stage == stage("first_contact")


def test_skipping_stages_needs_the_skipped_stages_playbooks_too(
    kam: User,
    make_deal: Callable[..., Deal],
    make_contact: Callable[..., Contact],
    customer: Account,
) -> None:
    contact = make_contact(customer)
    deal = make_deal(contact=contact.pk)

    with pytest.raises(PlaybookRefused) as caught:
        deal_move_stage(actor=kam, deal=deal, stage="presentation")

    missing = {(s.key, step.requirement) for s, step in caught.value.missing}
    assert missing == {
        ("appointment", "appointment"),
        ("meeting", "meeting"),
        ("needs", "needs"),
        ("needs", "close_date"),
    }


def test_meeting_the_steps_lets_the_deal_move_and_back_again(
    kam: User,
    make_deal: Callable[..., Deal],
    make_contact: Callable[..., Contact],
    customer: Account,
    stage: Stages,
) -> None:
    contact = make_contact(customer)
    deal = make_deal(contact=contact.pk)
    deal = deal_move_stage(actor=kam, deal=deal, stage="appointment")
    start = timezone.now() + datetime.timedelta(days=2)
    appointment_book(
        actor=kam,
        account=customer,
        data={
            "kind": "meeting",
            "title": "初回訪問",
            "starts_at": start,
            "ends_at": start + datetime.timedelta(hours=1),
        },
        regarding=deal,
    )
    deal = deal_move_stage(actor=kam, deal=deal, stage="meeting")
    with pytest.raises(PlaybookRefused) as caught:
        deal_move_stage(actor=kam, deal=deal, stage="needs")
    assert {step.requirement for _s, step in caught.value.missing} == {"meeting"}
    interaction_create(
        actor=kam, account=customer, data={"kind": "meeting", "subject": "工場見学"}, regarding=deal
    )
    deal = deal_move_stage(actor=kam, deal=deal, stage="needs")
    assert deal.stage == stage("needs")

    back = deal_move_stage(actor=kam, deal=deal, stage="first_contact")
    assert back.stage == stage("first_contact")
    assert back.stage_changes.count() == 5


def test_manual_steps_are_ticked_and_checked_steps_cannot_be(
    kam: User, make_deal: Callable[..., Deal], stage: Stages
) -> None:
    deal = make_deal()
    presentation_held = PlaybookStep.objects.get(stage=stage("presentation"), requirement="manual")
    contact_step = PlaybookStep.objects.get(stage=stage("first_contact"), requirement="contact")

    deal = deal_step_set(actor=kam, deal=deal, step=presentation_held, done=True)
    assert deal.steps_done.filter(step=presentation_held).exists()
    with pytest.raises(ApplicationError, match="checked from the deal itself"):
        deal_step_set(actor=kam, deal=deal, step=contact_step, done=True)


def test_needs_and_objections_satisfy_their_steps(
    kam: User, make_deal: Callable[..., Deal], stage: Stages
) -> None:
    deal = make_deal(expected_close="2027-03-31")
    Deal.objects.filter(pk=deal.pk).update(stage=stage("needs"))
    with pytest.raises(PlaybookRefused):
        deal_move_stage(actor=kam, deal=deal, stage="presentation")
    deal_need_add(actor=kam, deal=deal, text="夜間の騒音を下げたい", important=True)
    deal_move_stage(actor=kam, deal=deal, stage="presentation")

    Deal.objects.filter(pk=deal.pk).update(stage=stage("objections"))
    with pytest.raises(PlaybookRefused) as caught:
        deal_move_stage(actor=kam, deal=deal, stage="contract")
    assert {step.requirement for _s, step in caught.value.missing} == {"objections"}
    deal_objection_add(actor=kam, deal=deal, text="価格が他社より高い", response="保守費込みで比較")
    assert deal_move_stage(actor=kam, deal=deal, stage="contract").stage == stage("contract")


def test_a_stale_card_is_refused_and_changes_nothing(
    kam: User,
    make_deal: Callable[..., Deal],
    make_contact: Callable[..., Contact],
    customer: Account,
    stage: Stages,
) -> None:
    contact = make_contact(customer)
    deal = make_deal()
    seen_version = deal.version
    deal_update(actor=kam, deal=deal, data={"contact": contact.pk})  # someone else, meanwhile

    with pytest.raises(Conflict):
        deal_move_stage(actor=kam, deal=deal, stage="appointment", version=seen_version)
    assert Deal.objects.get(pk=deal.pk).stage == stage("first_contact")


def test_losing_needs_a_reason_and_the_competitor_when_one_won(
    kam: User, make_deal: Callable[..., Deal], make_account: Callable[..., Account], stage: Stages
) -> None:
    rival = make_account(kam, name="競合ポンプ株式会社", kind=AccountKind.COMPETITOR)
    deal = make_deal()

    with pytest.raises(ApplicationError) as caught:
        deal_lose(actor=kam, deal=deal, reason="")
    assert "lost_reason" in caught.value.errors
    with pytest.raises(ApplicationError) as caught:
        deal_lose(actor=kam, deal=deal, reason=LostReason.COMPETITOR)
    assert "lost_to" in caught.value.errors

    lost = deal_lose(
        actor=kam, deal=deal, reason=LostReason.COMPETITOR, lost_to=rival.pk, note="価格差10%"
    )
    assert lost.stage == stage("lost") and lost.lost_to == rival and lost.closed_at

    reopened = deal_move_stage(actor=kam, deal=lost, stage="first_contact")
    assert reopened.lost_reason == "" and reopened.lost_to is None and reopened.closed_at is None


def test_winning_follows_the_playbooks_and_a_won_deal_is_not_moved_again(
    kam: User, make_deal: Callable[..., Deal], stage: Stages
) -> None:
    deal = make_deal(value="500000")
    with pytest.raises(PlaybookRefused):
        deal_win(actor=kam, deal=deal)

    Deal.objects.filter(pk=deal.pk).update(stage=stage("contract"))
    for step in PlaybookStep.objects.filter(stage=stage("contract"), requirement="manual"):
        deal_step_set(actor=kam, deal=deal, step=step, done=True)
    with pytest.raises(PlaybookRefused) as caught:
        deal_win(actor=kam, deal=deal)
    assert {step.requirement for _s, step in caught.value.missing} == {"quote"}


def test_stage_names_and_descriptions_follow_the_readers_language(stage: Stages) -> None:
    from django.utils import translation

    objections = stage("objections")
    with translation.override("ja"):
        assert objections.label == "反論処理"
        assert objections.description_label.startswith("反論・懸念を聞き")
    with translation.override("en"):
        assert objections.label == "Objections handled"
        assert objections.description_label == "Hear the objections and answer each one."


def test_a_closed_deal_is_not_changed_and_reopening_a_lost_one_checks_the_playbooks(
    kam: User, make_deal: Callable[..., Deal], stage: Stages
) -> None:
    deal = make_deal(value="800000")
    lost = deal_lose(actor=kam, deal=deal, reason=LostReason.BUDGET)

    with pytest.raises(Conflict, match="reopen it"):
        deal_update(actor=kam, deal=lost, data={"title": "書き換え"})
    with pytest.raises(Conflict):
        deal_need_add(actor=kam, deal=lost, text="後から追加")
    # Lost → won would skip every checklist: refused with the steps of every open stage.
    with pytest.raises(PlaybookRefused) as caught:
        deal_win(actor=kam, deal=lost)
    assert {s.key for s, _step in caught.value.missing} >= {"first_contact", "contract"}
    with pytest.raises(PlaybookRefused):
        deal_move_stage(actor=kam, deal=lost, stage="presentation")
    assert Deal.objects.get(pk=deal.pk).stage == stage("lost")
    # Reopening into the first stage needs nothing done before it.
    reopened = deal_move_stage(actor=kam, deal=lost, stage="first_contact")
    assert reopened.stage == stage("first_contact")


def test_the_value_of_a_deal_with_products_comes_from_them(
    kam: User, make_deal: Callable[..., Deal], make_product: Callable[..., Product]
) -> None:
    deal = deal_set_lines(
        actor=kam, deal=make_deal(), lines=[{"product": make_product().pk, "quantity": 2}]
    )
    with pytest.raises(ApplicationError) as caught:
        deal_update(actor=kam, deal=deal, data={"value": "1"})
    assert "value" in caught.value.errors
    assert Deal.objects.get(pk=deal.pk).value == Decimal(200_000)
