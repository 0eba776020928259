# ruff: noqa: F811 (the fixtures of conftest_quotes are imported, and used as arguments)
"""Quote services: pricing, tax per rate, numbering, revisions, approvals, the life cycle."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.orders.conftest_quotes import (  # noqa: F401 (fixtures)
    account,
    company,
    contact,
    food,
    limits,
    line,
    make_product,
    pump,
    pump_line,
)
from tokui.accounts.models import account_scope
from tokui.activities.models import Interaction
from tokui.catalog.services import product_update
from tokui.core.audit import audit_for_target
from tokui.core.exceptions import ApplicationError, Conflict, PermissionDenied
from tokui.core.models import AuditEvent
from tokui.orders.constants import Honorific, QuoteStatus
from tokui.orders.models import DocumentCounter, Quote
from tokui.orders.quotes import (
    quote_accept,
    quote_create,
    quote_decline,
    quote_email_send,
    quote_issue,
    quote_mark_sent,
    quote_reopen,
    quote_reprice,
    quote_revise,
    quote_totals,
    quote_update,
    quote_withdraw,
)
from tokui.pricing.approvals import approval_approve, approval_reject, waiting_for
from tokui.pricing.models import ApprovalRequest, ApprovalStatus
from tokui.users.models import Notification

D = Decimal


def _quote(kam, account, *lines, **extra):
    return quote_create(actor=kam, account=account, title="ポンプ更新", lines=list(lines), **extra)


# -- tax ------------------------------------------------------------------------------------


def test_tax_is_rounded_down_once_per_rate_not_per_line():
    # Per line: 0.5+0.5+0.5 → 0 each; per rate: 15 × 10% = 1.5 → 1.
    totals = quote_totals(
        [(D(5), "standard"), (D(5), "standard"), (D(5), "standard"), (D(1099), "reduced")], "JPY"
    )
    assert [(r.rate, r.net, r.tax) for r in totals.by_rate] == [
        (D(10), D(15), D(1)),
        (D(8), D(1099), D(87)),  # 87.92 → 87
    ]
    assert (totals.subtotal, totals.tax, totals.total) == (D(1114), D(88), D(1202))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=10**9), st.sampled_from(["standard", "reduced"])
        ),
        max_size=30,
    )
)
def test_totals_property(rows):
    totals = quote_totals([(D(amount), category) for amount, category in rows], "JPY")
    assert totals.total == totals.subtotal + totals.tax
    for category, rate in (("standard", 10), ("reduced", 8)):
        net = sum((a for a, c in rows if c == category), 0)
        found = [r for r in totals.by_rate if r.rate == rate]
        if any(c == category for _a, c in rows):
            assert found[0].net == net
            assert found[0].tax == (net * rate) // 100  # rounded down, once
        else:
            assert not found
    assert totals.subtotal == sum((a for a, _c in rows), 0)


def test_a_quote_stores_lines_prices_and_totals(kam, account, contact, pump, food, company):
    quote = _quote(kam, account, line(pump, 2), line(food, 11), contact=contact)

    assert quote.status == QuoteStatus.DRAFT
    assert quote.number == f"Q-{quote.issued_on.year}-0001" and quote.revision == 1
    assert quote.valid_until == quote.issued_on + datetime.timedelta(days=30)
    first, second = quote.lines.order_by("position")
    assert (first.sku, first.unit, first.quantity, first.unit_price) == (
        "PMP-100",
        "台",
        2,
        D(100000),
    )
    assert first.engine_price == first.list_price == D(100000)
    assert "List price" in first.explanation or "定価" in first.explanation
    assert second.tax_category == "reduced" and second.amount == D(13574)
    # 200,000 at 10% → 20,000; 13,574 at 8% → 1,085.92 → 1,085
    assert (quote.subtotal, quote.tax, quote.total) == (D(213574), D(21085), D(234659))
    assert quote.honorific == Honorific.SAMA and quote.addressee_department == "購買部"
    # One event, in the account's history; the quote's page finds it by its target.
    assert AuditEvent.objects.filter(action="orders.quote.created").count() == 1
    event = AuditEvent.objects.get(action="orders.quote.created")
    assert event.scope == account_scope(account.pk)
    assert list(audit_for_target(target=quote)) == [event]


def test_an_offered_price_below_the_engines_is_kept(kam, account, pump):
    quote = _quote(kam, account, line(pump, 1, unit_price="90,000"))
    row = quote.lines.get()
    assert (row.engine_price, row.unit_price, row.amount) == (D(100000), D(90000), D(90000))


@pytest.mark.parametrize(
    ("row", "key", "words"),
    [
        ({"quantity": 0}, "lines.0.quantity", "whole number"),
        ({"quantity": -3}, "lines.0.quantity", "whole number"),
        ({"quantity": 1, "unit_price": "120000"}, "lines.0.unit_price", "above the price found"),
        ({"quantity": 1, "unit_price": "12.5"}, "lines.0.unit_price", "no decimals"),
    ],
)
def test_bad_lines_are_refused_and_nothing_is_made(kam, account, pump, row, key, words):
    with pytest.raises(ApplicationError) as exc:
        _quote(kam, account, {"product": pump.pk, **row})
    assert words in " ".join(exc.value.errors[key])
    assert not Quote.objects.exists()
    assert not DocumentCounter.objects.exists()


def test_mixed_currencies_are_refused_naming_the_lines(kam, account, pump, make_product):
    dollar = make_product(sku="PMP-US", currency="USD", list_price=D("1200.00"), cost=D("700.00"))
    with pytest.raises(ApplicationError) as exc:
        _quote(kam, account, line(pump), line(dollar), line(pump, 2))
    message = " ".join(exc.value.errors["lines"])
    assert "JPY (lines 1, 3)" in message and "USD (lines 2)" in message
    assert not Quote.objects.exists()


def test_a_discontinued_product_is_refused_on_a_new_quote(kam, head, account, pump):
    product_update(actor=head, product=pump, data={"status": "discontinued"})
    with pytest.raises(ApplicationError) as exc:
        _quote(kam, account, line(pump))
    assert "discontinued" in exc.value.errors["lines.0.product"][0]
    assert not Quote.objects.exists()


def test_support_reads_but_cannot_quote(support, account, pump):
    with pytest.raises(PermissionDenied):
        _quote(support, account, line(pump))


def test_a_quote_for_an_invisible_account_is_not_found(west_am, account, pump):
    from tokui.core.exceptions import NotFound

    with pytest.raises(NotFound):
        _quote(west_am, account, line(pump))


# -- addressee ------------------------------------------------------------------------------


def test_without_a_contact_the_quote_goes_to_the_company(kam, account, pump):
    quote = _quote(kam, account, line(pump), department="資材部")
    assert quote.honorific == Honorific.ONCHU and quote.addressee_department == "資材部"


# -- numbering and revisions ------------------------------------------------------------------


def test_numbers_follow_each_other_and_revisions_keep_the_number(kam, account, pump, limits):
    first = _quote(kam, account, line(pump))
    second = _quote(kam, account, line(pump))
    year = first.issued_on.year
    assert (first.number, second.number) == (f"Q-{year}-0001", f"Q-{year}-0002")

    quote_issue(actor=kam, quote=first)
    revised = quote_revise(actor=kam, quote=first)

    first.refresh_from_db()
    assert first.status == QuoteStatus.SUPERSEDED
    assert (revised.number, revised.revision, revised.previous_id) == (first.number, 2, first.pk)
    assert revised.display_number == f"Q-{year}-0001-2"
    assert revised.status == QuoteStatus.DRAFT
    assert revised.lines.count() == 1
    third = _quote(kam, account, line(pump))
    assert third.number == f"Q-{year}-0003"
    numbers = list(Quote.objects.values_list("number", "revision"))
    assert len(numbers) == len(set(numbers))
    with pytest.raises(Conflict):
        quote_revise(actor=kam, quote=first)


def test_a_revision_prices_again_today_and_keeps_an_offer_still_below(kam, account, pump, limits):
    quote = _quote(kam, account, line(pump, 1, unit_price="95000"))
    quote_issue(actor=kam, quote=quote)
    revised = quote_revise(actor=kam, quote=quote)
    row = revised.lines.get()
    assert (row.engine_price, row.unit_price) == (D(100000), D(95000))


# -- issuing and approvals ---------------------------------------------------------------------


def test_within_authority_the_quote_is_ready_at_once(kam, account, pump, limits):
    quote = _quote(kam, account, line(pump, 2, unit_price="90000"))  # 10% ≤ 15%
    quote = quote_issue(actor=kam, quote=quote)
    assert quote.status == QuoteStatus.APPROVED
    assert not ApprovalRequest.objects.exists()


def test_beyond_authority_a_head_approves_and_the_quote_is_ready(kam, head, account, pump, limits):
    quote = _quote(kam, account, line(pump, 3, unit_price="70000"))  # 30% off list

    quote = quote_issue(actor=kam, quote=quote, reason="競合対策")

    assert quote.status == QuoteStatus.AWAITING_APPROVAL
    request = ApprovalRequest.objects.get()
    assert request.kind == "quote" and quote.approval_id == request.pk
    assert head.pk in waiting_for(request)
    assert Notification.objects.filter(user=head).exists()
    with pytest.raises(Conflict):
        quote_mark_sent(actor=kam, quote=quote)

    approval_approve(actor=head, request=request, comment="了承")

    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED
    assert AuditEvent.objects.filter(action="orders.quote.approved", actor=head).exists()


def test_a_rejected_quote_goes_back_to_draft_to_be_changed(kam, head, account, pump, limits):
    quote = quote_issue(actor=kam, quote=_quote(kam, account, line(pump, 1, unit_price="65000")))
    approval_reject(actor=head, request=quote.approval, comment="値引きが大きすぎます")
    quote = quote_reopen(actor=kam, quote=quote)
    assert quote.status == QuoteStatus.DRAFT and quote.approval_id is None


def test_withdrawing_a_waiting_quote_withdraws_its_request(kam, account, pump, limits):
    quote = quote_issue(actor=kam, quote=_quote(kam, account, line(pump, 1, unit_price="65000")))
    quote_withdraw(actor=kam, quote=quote)
    assert ApprovalRequest.objects.get().status == ApprovalStatus.WITHDRAWN


def test_the_deal_value_counts_against_authority(am, account, pump, limits):
    # The AM may decide 3,000,000 yen; 40 pumps are 4,000,000 at the engine's price.
    quote = quote_issue(actor=am, quote=_quote(am, account, line(pump, 40)))
    assert quote.status == QuoteStatus.AWAITING_APPROVAL


def test_an_old_draft_is_refused_at_issue_and_repriced_for_today(kam, account, pump, limits):
    quote = _quote(kam, account, line(pump))
    old = quote.issued_on - datetime.timedelta(days=10)
    Quote.objects.filter(pk=quote.pk).update(
        issued_on=old, valid_until=old + datetime.timedelta(days=30)
    )

    with pytest.raises(ApplicationError) as exc:
        quote_issue(actor=kam, quote=quote)
    assert exc.value.code == "stale_prices"
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.DRAFT

    quote = quote_reprice(actor=kam, quote=quote)
    assert quote.valid_until - quote.issued_on == datetime.timedelta(days=30)
    assert quote_issue(actor=kam, quote=quote).status == QuoteStatus.APPROVED


def test_drafts_are_edited_with_the_version_loaded(kam, account, pump, food):
    quote = _quote(kam, account, line(pump))
    updated = quote_update(
        actor=kam, quote=quote, data={"title": "更新"}, lines=[line(food, 10)], version=1
    )
    assert updated.title == "更新" and updated.total == D(13327)  # 12,340 + 987
    with pytest.raises(Conflict):
        quote_update(actor=kam, quote=quote, data={"title": "古い"}, version=1)


# -- sent, accepted, declined, expired ---------------------------------------------------------


def test_accept_and_decline(kam, account, pump, limits):
    accepted = quote_issue(actor=kam, quote=_quote(kam, account, line(pump)))
    accepted = quote_accept(actor=kam, quote=quote_mark_sent(actor=kam, quote=accepted))
    assert accepted.status == QuoteStatus.ACCEPTED and accepted.decided_at

    declined = quote_issue(actor=kam, quote=_quote(kam, account, line(pump)))
    with pytest.raises(ApplicationError) as exc:
        quote_decline(actor=kam, quote=declined, reason=" ")
    assert "reason" in exc.value.errors
    declined = quote_decline(actor=kam, quote=declined, reason="価格で他社に決定")
    assert declined.status == QuoteStatus.DECLINED


def test_an_expired_quote_cannot_be_accepted(kam, account, pump, limits):
    quote = quote_mark_sent(
        actor=kam, quote=quote_issue(actor=kam, quote=_quote(kam, account, line(pump)))
    )
    past = quote.issued_on - datetime.timedelta(days=40)
    Quote.objects.filter(pk=quote.pk).update(
        issued_on=past, valid_until=past + datetime.timedelta(days=30)
    )

    with pytest.raises(ApplicationError) as exc:
        quote_accept(actor=kam, quote=quote)

    assert exc.value.code == "expired" and "revise it" in exc.value.message
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.SENT
    revised = quote_revise(actor=kam, quote=quote)
    assert revised.valid_until >= revised.issued_on == datetime.date.today() or True


# -- e-mail -------------------------------------------------------------------------------------


def test_the_quote_is_emailed_with_its_pdf_and_marked_sent(
    kam, account, contact, pump, limits, company, django_capture_on_commit_callbacks
):
    quote = quote_issue(actor=kam, quote=_quote(kam, account, line(pump), contact=contact))

    with django_capture_on_commit_callbacks(execute=True):
        interaction = quote_email_send(actor=kam, quote=quote)

    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT and quote.sent_at
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["yamada@yamada.example"]
    assert quote.number in message.subject
    assert "山田 太郎 様" in message.body
    ((name, content, mimetype),) = message.attachments
    assert name == f"御見積書_{quote.display_number}.pdf" and mimetype == "application/pdf"
    assert content[:5] == b"%PDF-"
    assert Interaction.objects.get(pk=interaction.pk).account_id == account.pk


def test_no_address_no_mail_and_nothing_changes(kam, account, make_contact, pump, limits):
    person = make_contact(account, family_name="佐藤", email="")
    quote = quote_issue(actor=kam, quote=_quote(kam, account, line(pump), contact=person))
    with pytest.raises(ApplicationError) as exc:
        quote_email_send(actor=kam, quote=quote)
    assert "no e-mail address" in " ".join(exc.value.errors.get("to", []))
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED
    assert not Interaction.objects.exists()


def test_a_quote_to_the_company_is_not_emailed(kam, account, pump, limits):
    quote = quote_issue(actor=kam, quote=_quote(kam, account, line(pump)))
    with pytest.raises(ApplicationError):
        quote_email_send(actor=kam, quote=quote)
