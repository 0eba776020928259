"""Stage and playbook settings: services (invariants, audit) and the settings pages."""

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.models import AuditEvent
from tokui.pipeline import stages as svc
from tokui.pipeline.models import Deal, PlaybookStep, Stage
from tokui.pipeline.services import PlaybookRefused, deal_move_stage
from tokui.users.models import User

pytestmark = pytest.mark.django_db

Stages = Callable[[str], Stage]


def _keys() -> list[str]:
    return list(Stage.objects.filter(active=True).values_list("key", flat=True))


def test_an_open_stage_is_added_after_the_last_open_one_and_audited(admin_user: User) -> None:
    stage = svc.stage_create(
        actor=admin_user, data={"name": "Trial delivery", "name_ja": "試験導入", "kind": "open"}
    )
    assert stage.key == "trial_delivery"
    assert _keys()[-4:] == ["contract", "trial_delivery", "won", "lost"]
    assert AuditEvent.objects.filter(
        action="pipeline.stage.created", scope=svc.STAGES_SCOPE
    ).exists()


def test_only_administrators_change_stages_and_heads_read_them(
    head: User, kam: User, stage: Stages
) -> None:
    with pytest.raises(PermissionDenied):
        svc.stage_create(actor=head, data={"name": "x"})
    with pytest.raises(PermissionDenied):
        svc.stage_set_active(actor=head, stage=stage("needs"), active=False)
    assert svc.stage_settings_list(viewer=head)
    with pytest.raises(PermissionDenied):
        svc.stage_settings_list(viewer=kam)


def test_a_stage_with_open_deals_is_not_retired_and_says_how_many_and_where(
    admin_user: User, make_deal: Callable[..., Deal], stage: Stages
) -> None:
    make_deal()
    make_deal()
    with pytest.raises(ApplicationError) as caught:
        svc.stage_set_active(actor=admin_user, stage=stage("first_contact"), active=False)
    assert "2 open deals" in caught.value.message and "Appointment booked" in caught.value.message
    assert stage("first_contact").active


def test_the_last_won_stage_stays_and_kinds_in_use_do_not_change(
    admin_user: User, make_deal: Callable[..., Deal], stage: Stages
) -> None:
    with pytest.raises(ApplicationError, match="one won"):
        svc.stage_set_active(actor=admin_user, stage=stage("won"), active=False)
    make_deal()
    with pytest.raises(ApplicationError) as caught:
        svc.stage_update(actor=admin_user, stage=stage("first_contact"), data={"kind": "won"})
    assert "kind" in caught.value.errors
    assert stage("won").active and stage("first_contact").kind == "open"


def test_retiring_a_stage_takes_it_out_of_the_cycle_and_back(
    admin_user: User, kam: User, make_deal: Callable[..., Deal], stage: Stages
) -> None:
    svc.stage_set_active(actor=admin_user, stage=stage("objections"), active=False)
    assert "objections" not in _keys()
    deal = make_deal()
    with pytest.raises(ApplicationError):
        deal_move_stage(actor=kam, deal=deal, stage="objections")
    svc.stage_set_active(actor=admin_user, stage=stage("objections"), active=True)
    assert "objections" in _keys()


def test_reordering_stays_within_open_stages(admin_user: User, stage: Stages) -> None:
    svc.stage_move(actor=admin_user, stage=stage("needs"), up=True)
    assert _keys()[:4] == ["first_contact", "appointment", "needs", "meeting"]
    with pytest.raises(ApplicationError):
        svc.stage_move(actor=admin_user, stage=stage("contract"), up=False)  # not past won
    with pytest.raises(ApplicationError):
        svc.stage_move(actor=admin_user, stage=stage("first_contact"), up=True)


def test_playbook_steps_are_added_changed_moved_and_removed_and_apply_to_moves(
    admin_user: User, kam: User, make_deal: Callable[..., Deal], stage: Stages
) -> None:
    first = stage("first_contact")
    PlaybookStep.objects.filter(stage=first, requirement="contact").update(required=False)
    step = svc.step_add(
        actor=admin_user,
        stage=first,
        data={
            "text": "NDA signed",
            "text_ja": "秘密保持契約締結",
            "requirement": "manual",
            "required": True,
        },
    )
    deal = make_deal()
    with pytest.raises(PlaybookRefused) as caught:
        deal_move_stage(actor=kam, deal=deal, stage="appointment")
    assert [s.text for _stage, s in caught.value.missing] == ["NDA signed"]

    svc.step_update(actor=admin_user, step=step, data={"required": False})
    svc.step_move(actor=admin_user, step=step, up=True)
    assert list(first.steps.values_list("text", flat=True))[-2] == "NDA signed"
    deal_move_stage(actor=kam, deal=deal, stage="appointment")
    svc.step_remove(actor=admin_user, step=step)
    assert not PlaybookStep.objects.filter(pk=step.pk).exists()
    with pytest.raises(ApplicationError) as bad:
        svc.step_add(actor=admin_user, stage=first, data={"text": "", "requirement": "telepathy"})
    assert set(bad.value.errors) == {"text", "requirement"}


def test_the_settings_pages(admin_user: User, head: User, kam: User, stage: Stages) -> None:
    admin = Client()
    admin.force_login(admin_user)
    page = admin.get(reverse("pipeline:stage_settings"))
    assert page.status_code == 200 and "Objections handled" in page.content.decode()
    bad = admin.post(reverse("pipeline:stage_settings"), {"name": "", "kind": "open"})
    assert bad.status_code == 422 and "field-invalid" in bad.content.decode()
    added = admin.post(reverse("pipeline:stage_settings"), {"name": "Trial", "kind": "open"})
    assert added.status_code == 302
    refused = admin.post(
        reverse("pipeline:stage_active", args=[stage("won").pk]), {"active": "0"}, follow=True
    )
    assert "must stay in use" in refused.content.decode()
    edit = admin.post(
        reverse("pipeline:stage_step_add", args=[stage("trial").pk]),
        {"text": "Samples sent", "requirement": "manual", "required": "on"},
    )
    assert edit.status_code == 302 and stage("trial").steps.count() == 1

    reader = Client()
    reader.force_login(head)
    assert reader.get(reverse("pipeline:stage_settings")).status_code == 200
    assert (
        reader.post(reverse("pipeline:stage_settings"), {"name": "X", "kind": "open"}).status_code
        == 403
    )
    other = Client()
    other.force_login(kam)
    assert other.get(reverse("pipeline:stage_settings")).status_code == 403
