"""Approvals (稟議): routing, decisions, locking of approved terms, concurrency."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection, connections

from tokui.accounts.models import account_scope
from tokui.core.exceptions import ApplicationError, Conflict, PermissionDenied
from tokui.core.models import AuditEvent
from tokui.pricing.approvals import (
    agreement_propose_terms,
    approval_approve,
    approval_chain_save,
    approval_reject,
    approval_request_create,
    approval_request_get,
    approval_request_list,
    approval_resubmit,
    approval_return,
    approval_route,
    approval_withdraw,
    reporting_line,
    waiting_for,
)
from tokui.pricing.authority import Needs
from tokui.pricing.models import (
    AgreementDiscount,
    ApprovalDecision,
    ApprovalRequest,
    ApprovalStatus,
    AuthorityLimit,
)
from tokui.pricing.services import agreement_create, agreement_set_terms
from tokui.users.constants import Role
from tokui.users.models import Notification, Team

D = Decimal


@pytest.fixture
def limits(db):
    for role, discount, margin in (
        (Role.AM, "5", "30"),
        (Role.KAM, "15", "20"),
        (Role.HEAD, "40", "5"),
    ):
        AuthorityLimit.objects.create(
            role=role, max_discount_percent=D(discount), min_margin_percent=D(margin)
        )


@pytest.fixture
def agreement(kam, make_account):
    account = make_account(kam, name="株式会社山田商事")
    return agreement_create(
        actor=kam, account=account, data={"name": "2026年度 取引条件",
                                          "valid_from": datetime.date(2026, 4, 1)}
    )  # fmt: skip


@pytest.fixture
def product(make_product):
    return make_product(list_price=D(100_000), cost=D(50_000))


def _propose(actor, agreement, percent, product, **kw):
    return agreement_propose_terms(
        actor=actor,
        agreement=agreement,
        prices=[],
        discounts=[{"product": product.pk, "percent": str(percent)}],
        **kw,
    )


# -- routing ---------------------------------------------------------------------------------


def test_route_goes_to_the_first_manager_up_the_line_with_enough_authority(
    limits, make_user, team_east, kam, head
):
    leader = make_user("leader", Role.KAM)
    team_east.manager = leader
    team_east.save()
    small = Needs(discount_percent=D(10))
    large = Needs(discount_percent=D(25))
    am = make_user("am2", Role.AM, team_east)
    assert approval_route(requester=am, kind="agreement_terms", needs=small) == [
        {"mode": "any", "approvers": [leader.pk]}
    ]
    # The team leader (KAM, 15%) cannot approve 25%: the heads of sales can.
    assert approval_route(requester=am, kind="agreement_terms", needs=large) == [
        {"mode": "any", "approvers": [head.pk]}
    ]


def test_route_never_includes_the_requester_and_falls_back_to_admins(
    limits, head, admin_user, team_east, kam
):
    team_east.manager = kam
    team_east.save()
    route = approval_route(requester=kam, kind="agreement_terms", needs=Needs(D(10)))
    assert route == [{"mode": "any", "approvers": [head.pk]}]
    route = approval_route(requester=head, kind="agreement_terms", needs=Needs(D(10)))
    assert route == [{"mode": "any", "approvers": [admin_user.pk]}]


def test_a_reporting_line_that_loops_is_detected_and_skipped(limits, make_user, head):
    a, b = Team.objects.create(name="A"), Team.objects.create(name="B")
    ma = make_user("ma", Role.AM, b)
    mb = make_user("mb", Role.AM, a)
    a.manager, b.manager = ma, mb
    a.save()
    b.save()
    requester = make_user("r", Role.AM, a)
    managers, looped = reporting_line(requester)
    assert looped and managers == [ma, mb]
    route = approval_route(requester=requester, kind="agreement_terms", needs=Needs(D(10)))
    assert route == [{"mode": "any", "approvers": [head.pk]}]


def test_nobody_with_authority_is_a_clear_error(limits, kam):
    with pytest.raises(ApplicationError, match="Nobody has the authority"):
        approval_route(requester=kam, kind="agreement_terms", needs=Needs(D(90)))


def test_a_configured_chain_routes_step_by_step_and_skips_the_requester(
    limits, head, kam, make_user, admin_user
):
    director = make_user("director", Role.HEAD)
    approval_chain_save(
        actor=head,
        name="大口値引き",
        kind="agreement_terms",
        active=True,
        steps=[{"mode": "any", "approvers": [kam.pk, head.pk]},
               {"mode": "all", "approvers": [director.pk, admin_user.pk]}],
    )  # fmt: skip
    route = approval_route(requester=kam, kind="agreement_terms", needs=Needs(D(25)))
    assert route == [
        {"mode": "any", "approvers": [head.pk]},
        {"mode": "all", "approvers": sorted([director.pk, admin_user.pk])},
    ]


def test_circular_or_empty_chains_are_refused(limits, head, kam, make_user):
    gone = make_user("gone", Role.HEAD, is_active=False)
    with pytest.raises(ApplicationError) as exc:
        approval_chain_save(
            actor=head,
            name="円環",
            kind="agreement_terms",
            active=True,
            steps=[{"mode": "any", "approvers": [head.pk]},
                   {"mode": "any", "approvers": [kam.pk, head.pk]},
                   {"mode": "any", "approvers": [gone.pk]}],
        )  # fmt: skip
    assert "one step only" in exc.value.errors["steps.1.approvers"][0]
    assert "active approver" in exc.value.errors["steps.2.approvers"][0]
    with pytest.raises(ApplicationError) as exc:
        approval_chain_save(actor=head, name="x", kind="nope", active=True, steps=[])
    assert {"kind", "steps"} <= set(exc.value.errors)
    with pytest.raises(PermissionDenied):
        approval_chain_save(
            actor=kam, name="x", kind="agreement_terms", active=True,
            steps=[{"mode": "any", "approvers": [head.pk]}],
        )  # fmt: skip
    from tokui.pricing.models import ApprovalChain

    assert not ApprovalChain.objects.exists()


# -- proposing terms --------------------------------------------------------------------------


def test_terms_within_authority_apply_at_once(limits, kam, agreement, product):
    outcome = _propose(kam, agreement, 10, product)
    assert outcome.applied and outcome.request is None
    assert AgreementDiscount.objects.get(agreement=agreement).percent == D(10)
    assert not ApprovalRequest.objects.exists()


def test_terms_beyond_authority_open_a_request_and_change_nothing_yet(
    limits, kam, head, agreement, product
):
    outcome = _propose(kam, agreement, 25, product, reason="競合対抗")
    assert not outcome.applied
    request = outcome.request
    assert request.status == ApprovalStatus.PENDING
    assert request.route == [{"mode": "any", "approvers": [head.pk]}]
    assert request.needs["discount_percent"] == "25.00"
    assert request.subject_key == f"agreement:{agreement.pk}"
    assert not AgreementDiscount.objects.filter(agreement=agreement).exists()
    assert ApprovalDecision.objects.get(request=request).decision == "submit"
    event = AuditEvent.objects.get(action="pricing.approval.submitted")
    assert event.scope == account_scope(agreement.account_id)
    assert Notification.objects.filter(user=head, url__endswith=f"/{request.pk}/").exists()


def test_bad_rows_are_refused_before_any_request_exists(limits, kam, agreement, product):
    with pytest.raises(ApplicationError) as exc:
        agreement_propose_terms(
            actor=kam,
            agreement=agreement,
            prices=[{"product": product.pk, "min_quantity": 1, "unit_price": "-5"}],
            discounts=[{"product": product.pk, "percent": "25"}],
        )
    assert exc.value.status == 422 and "prices.0.unit_price" in exc.value.errors
    assert not ApprovalRequest.objects.exists()
    assert not AuditEvent.objects.filter(action="pricing.agreement.terms_changed").exists()


def test_a_second_proposal_while_one_is_open_is_a_conflict_naming_it(
    limits, kam, am, agreement, product
):
    first = _propose(kam, agreement, 25, product).request
    with pytest.raises(Conflict, match=f"#{first.pk}"):
        _propose(kam, agreement, 30, product)
    with pytest.raises(Conflict):
        _propose(am, agreement, 3, product)  # even within authority while one is open
    assert ApprovalRequest.objects.count() == 1


def test_approval_applies_the_terms_and_locks_them(limits, kam, head, agreement, product):
    request = _propose(kam, agreement, 25, product).request
    mail.outbox.clear()
    approval_approve(actor=head, request=request, comment="了承")
    request.refresh_from_db()
    agreement.refresh_from_db()
    assert request.status == ApprovalStatus.APPROVED and request.decided_at
    assert agreement.approved_by_id == request.pk
    assert AgreementDiscount.objects.get(agreement=agreement).percent == D(25)
    changed = AuditEvent.objects.get(action="pricing.agreement.terms_changed")
    assert changed.actor == kam  # set as the requester, with the approval recorded
    assert AuditEvent.objects.get(action="pricing.agreement.terms_approved").actor == head
    assert Notification.objects.filter(user=kam, title__startswith="Approved").exists()

    # Locked: even a change within the KAM's own 15% needs a new approval now.
    outcome = _propose(kam, agreement, 10, product)
    assert not outcome.applied
    assert outcome.request.proposal["locked_by"] == request.pk
    approval_withdraw(actor=kam, request=outcome.request)
    # The head's authority covers the approved 25%: the head may change it directly.
    outcome = _propose(head, agreement, 20, product)
    assert outcome.applied
    agreement.refresh_from_db()
    assert agreement.approved_by_id is None


def test_approving_ones_own_request_is_refused(limits, head, admin_user, agreement, product):
    AuthorityLimit.objects.filter(role=Role.HEAD).update(max_discount_percent=D(10))
    request = _propose(head, agreement, 25, product).request
    assert head.pk not in request.route[0]["approvers"]
    with pytest.raises(PermissionDenied, match="own request"):
        approval_approve(actor=head, request=request)
    request.refresh_from_db()
    assert request.status == ApprovalStatus.PENDING


def test_only_a_current_approver_decides(limits, kam, am, head, agreement, product):
    request = _propose(kam, agreement, 25, product).request
    with pytest.raises(PermissionDenied):
        approval_approve(actor=am, request=request)
    with pytest.raises(ApplicationError) as exc:
        approval_reject(actor=head, request=request, comment="  ")
    assert "comment" in exc.value.errors
    request.refresh_from_db()
    assert request.status == ApprovalStatus.PENDING
    assert request.decisions.count() == 1


def test_second_approval_is_a_conflict(limits, kam, head, make_user, agreement, product):
    other_head = make_user("head2", Role.HEAD)
    request = _propose(kam, agreement, 25, product).request
    assert set(request.route[0]["approvers"]) == {head.pk, other_head.pk}
    approval_approve(actor=head, request=request)
    with pytest.raises(Conflict, match="already approved"):
        approval_approve(actor=other_head, request=request)
    with pytest.raises(Conflict):
        approval_reject(actor=other_head, request=request, comment="遅い")
    assert AgreementDiscount.objects.get(agreement=agreement).percent == D(25)
    assert request.decisions.filter(decision="approve").count() == 1


def test_a_stale_version_is_a_conflict(limits, kam, head, agreement, product):
    request = _propose(kam, agreement, 25, product).request
    with pytest.raises(Conflict):
        approval_approve(actor=head, request=request, version=request.version + 1)


def test_mode_all_completes_when_everyone_has_approved(
    limits, kam, head, make_user, agreement, product
):
    director = make_user("director", Role.HEAD)
    approval_chain_save(
        actor=head, name="全員", kind="agreement_terms", active=True,
        steps=[{"mode": "all", "approvers": [head.pk, director.pk]}],
    )  # fmt: skip
    request = _propose(kam, agreement, 25, product).request
    approval_approve(actor=head, request=request)
    request.refresh_from_db()
    assert request.status == ApprovalStatus.PENDING and waiting_for(request) == [director.pk]
    with pytest.raises(Conflict, match="already approved"):
        approval_approve(actor=head, request=request)
    assert not AgreementDiscount.objects.filter(agreement=agreement).exists()
    approval_approve(actor=director, request=request)
    request.refresh_from_db()
    assert request.status == ApprovalStatus.APPROVED


def test_sequential_steps_notify_the_next_approvers(
    limits, kam, head, admin_user, agreement, product
):
    approval_chain_save(
        actor=head, name="二段", kind="agreement_terms", active=True,
        steps=[{"mode": "any", "approvers": [head.pk]},
               {"mode": "any", "approvers": [admin_user.pk]}],
    )  # fmt: skip
    request = _propose(kam, agreement, 25, product).request
    assert not Notification.objects.filter(user=admin_user).exists()
    approval_approve(actor=head, request=request)
    request.refresh_from_db()
    assert request.step == 1 and request.status == ApprovalStatus.PENDING
    assert Notification.objects.filter(user=admin_user).exists()
    with pytest.raises(PermissionDenied):
        approval_approve(actor=head, request=request)
    approval_approve(actor=admin_user, request=request)
    request.refresh_from_db()
    assert request.status == ApprovalStatus.APPROVED


def test_a_failing_apply_rolls_the_whole_approval_back(limits, kam, head, agreement, product):
    request = _propose(kam, agreement, 25, product).request
    # Meanwhile someone with authority changes the terms the request was based on.
    agreement_set_terms(
        actor=head, agreement=agreement, prices=[],
        discounts=[{"product": product.pk, "percent": "5"}],
    )  # fmt: skip
    with pytest.raises(Conflict, match=r"not saved.*changed after"):
        approval_approve(actor=head, request=request)
    request.refresh_from_db()
    assert request.status == ApprovalStatus.PENDING
    assert request.decisions.filter(decision="approve").count() == 0
    assert AgreementDiscount.objects.get(agreement=agreement).percent == D(5)


def test_return_then_resubmit_with_new_terms(limits, kam, head, agreement, product):
    request = _propose(kam, agreement, 30, product).request
    with pytest.raises(PermissionDenied):
        approval_resubmit(actor=head, request=request)
    approval_return(actor=head, request=request, comment="25%までにしてください")
    request.refresh_from_db()
    assert request.status == ApprovalStatus.RETURNED
    assert Notification.objects.filter(user=kam, body="25%までにしてください").exists()
    # Proposing again resubmits the same request with the new terms.
    again = _propose(kam, agreement, 25, product).request
    assert again.pk == request.pk and again.status == ApprovalStatus.PENDING
    assert again.proposal["discounts"][0]["percent"] == "25"
    approval_approve(actor=head, request=again)
    assert AgreementDiscount.objects.get(agreement=agreement).percent == D(25)


def test_reject_and_withdraw_close_the_request(limits, kam, head, agreement, product):
    request = _propose(kam, agreement, 30, product).request
    approval_reject(actor=head, request=request, comment="高すぎる")
    request.refresh_from_db()
    assert request.status == ApprovalStatus.REJECTED
    with pytest.raises(Conflict):
        approval_withdraw(actor=kam, request=request)
    second = _propose(kam, agreement, 30, product).request  # a new request may be opened
    with pytest.raises(PermissionDenied):
        approval_withdraw(actor=head, request=second)
    approval_withdraw(actor=kam, request=second)
    second.refresh_from_db()
    assert second.status == ApprovalStatus.WITHDRAWN
    assert not AgreementDiscount.objects.filter(agreement=agreement).exists()


def test_visibility_of_requests(limits, kam, am, west_am, head, agreement, product):
    request = _propose(kam, agreement, 25, product).request
    assert list(approval_request_list(viewer=head, waiting_for_me=True)) == [request]
    assert list(approval_request_list(viewer=kam, mine=True)) == [request]
    assert list(approval_request_list(viewer=kam, waiting_for_me=True)) == []
    assert list(approval_request_list(viewer=west_am)) == []
    from tokui.core.exceptions import NotFound

    with pytest.raises(NotFound):
        approval_request_get(viewer=west_am, request_id=request.pk)
    assert approval_request_get(viewer=head, request_id=request.pk) == request


def test_unknown_kind_is_refused(kam):
    with pytest.raises(ApplicationError):
        approval_request_create(actor=kam, kind="nope", title="x", proposal={}, needs=Needs())


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_let_exactly_one_win(limits, kam, head, make_user, agreement, product):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        "file:memorydb"
    ):
        pytest.skip("Threads need a database file or a server; in-memory SQLite shares one.")
    other_head = make_user("head2", Role.HEAD)
    request = _propose(kam, agreement, 25, product).request
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(approver):
        try:
            barrier.wait()
            approval_approve(actor=approver, request=request)
            outcomes.append("approved")
        except ApplicationError as exc:
            outcomes.append(exc.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(u,)) for u in (head, other_head)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("approved") == 1
    assert any("already approved" in o for o in outcomes)
    request.refresh_from_db()
    assert request.status == ApprovalStatus.APPROVED
    assert request.decisions.filter(decision="approve").count() == 1
    assert AgreementDiscount.objects.get(agreement=agreement).percent == D(25)


def test_team_admin_refuses_a_reporting_line_loop(make_user, admin_user):
    from tokui.users.admin import TeamAdminForm

    a, b = Team.objects.create(name="A"), Team.objects.create(name="B")
    ma = make_user("ma", Role.KAM, b)
    mb = make_user("mb", Role.KAM, a)
    b.manager = mb
    b.save()
    form = TeamAdminForm(data={"name": "A", "manager": ma.pk}, instance=a)
    assert not form.is_valid()
    assert "leads back" in str(form.errors)
    own = make_user("own", Role.KAM, a)  # a manager who sits in the team itself is fine
    assert TeamAdminForm(data={"name": "A", "manager": own.pk}, instance=a).is_valid()
