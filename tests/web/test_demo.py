"""The demo data: what the docs promise (five role users, one password) and that it is valid."""

import io
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from tokui.accounts.models import Account, Contact
from tokui.activities.models import (
    Appointment,
    CalendarFeed,
    DailyReport,
    EmailTemplate,
    Interaction,
    Mailbox,
    Task,
)
from tokui.core.japanese import (
    is_kana_reading,
    normalize_corporate_number,
    normalize_phone,
    normalize_postal_code,
)
from tokui.core.models import AuditEvent
from tokui.orders.constants import InvoiceKind, OrderStatus
from tokui.orders.invoices import overdue_invoices
from tokui.orders.models import Delivery, Invoice, Order, Payment, Quote
from tokui.orders.selectors_orders import at_risk_orders, late_orders
from tokui.pipeline.models import Deal, Referral, ReferralReward
from tokui.pricing.models import Agreement, ApprovalRequest, CreditNote, RebateProgramme
from tokui.users.constants import Role
from tokui.users.models import User
from tokui.web.demo import DEMO_PASSWORD, demo_load

pytestmark = pytest.mark.django_db

DEMO_ROLES = {
    "admin": Role.ADMIN,
    "head": Role.HEAD,
    "kam": Role.KAM,
    "am": Role.AM,
    "support": Role.SUPPORT,
}


def _totals() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "accounts": Account.objects.count(),
        "contacts": Contact.objects.count(),
        "audit_events": AuditEvent.objects.count(),
    }


def test_demo_creates_the_five_role_users_with_the_documented_password() -> None:
    counts = demo_load(accounts=30)

    assert counts["created"] == 1
    for username, role in DEMO_ROLES.items():
        user = User.objects.get(username=username)
        assert user.role == role
        assert user.is_active
        assert user.check_password(DEMO_PASSWORD)
        assert user.display_name
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert User.objects.get(username="kam").team == User.objects.get(username="am").team
    assert not User.objects.filter(is_superuser=True).exclude(username="admin").exists()


def test_demo_accounts_and_contacts_hold_valid_data() -> None:
    demo_load(accounts=30)

    accounts = list(Account.objects.all())
    # The book itself, plus a few planted duplicates (spelled differently) for the duplicates page.
    assert 30 <= len(accounts) <= 40
    assert len({a.name for a in accounts}) == len(accounts)
    numbers = [a.corporate_number for a in accounts if a.corporate_number]
    assert numbers
    assert len(set(numbers)) == len(numbers)
    for account in accounts:
        if account.corporate_number:
            assert normalize_corporate_number(account.corporate_number) == account.corporate_number
        if account.name_kana:
            assert is_kana_reading(account.name_kana)
            assert "カブシキガイシャ" not in account.name_kana
        for number in (account.phone, account.fax):
            if number:
                assert normalize_phone(number) == number
        if account.postal_code:
            assert normalize_postal_code(account.postal_code) == account.postal_code
        assert "<" not in account.notes
        assert 1 <= account.contacts.count() <= 4
    for contact in Contact.objects.all():
        assert contact.family_name
        for number in (contact.phone, contact.mobile):
            if number:
                assert normalize_phone(number) == number
    assert Account.objects.filter(kind="client", tier="key").exists()
    assert Account.objects.exclude(archived_at=None).count() == 3
    assert AuditEvent.objects.filter(action="accounts.account.updated").exists()


def test_kam_sees_only_their_team_and_head_sees_everything() -> None:
    demo_load(accounts=30)
    kam = User.objects.get(username="kam")
    head = User.objects.get(username="head")

    visible_to_kam = Account.objects.visible_to(kam)
    assert 0 < visible_to_kam.count() < Account.objects.visible_to(head).count()
    assert Account.objects.visible_to(head).count() == Account.objects.count()
    assert all(
        a.owner_id == kam.pk or a.owner.team_id == kam.team_id
        for a in visible_to_kam.select_related("owner")
    )
    assert Account.objects.filter(owner=kam).exists()


def test_loading_twice_changes_nothing() -> None:
    first = demo_load(accounts=30)
    before = _totals()

    second = demo_load(accounts=30)

    assert second["created"] == 0
    assert _totals() == before
    assert {k: v for k, v in second.items() if k != "created"} == {
        k: v for k, v in first.items() if k != "created"
    }


def test_demo_is_deterministic() -> None:
    demo_load(accounts=30)
    names = list(Account.objects.order_by("id").values_list("name", "corporate_number"))
    for model in (Payment, Invoice, Delivery, Order):  # lines go with them
        for row in model.objects.order_by("-pk"):  # a correction protects what it corrects
            row.delete()
    for quote in Quote.objects.order_by("-revision"):  # a revision protects what it revises
        quote.delete()
    for model in (
        ReferralReward,
        Referral,
        Deal,
        DailyReport,
        Task,
        Interaction,
        Appointment,
        CalendarFeed,
        EmailTemplate,
        Mailbox,
        ApprovalRequest,
        Agreement,
        CreditNote,
        RebateProgramme,
    ):
        model.objects.all().delete()
    Contact.objects.all().delete()
    Account.objects.all().delete()
    AuditEvent.objects.all().delete()

    demo_load(accounts=30)

    assert list(Account.objects.order_by("id").values_list("name", "corporate_number")) == names


def test_demo_command_reports_what_it_did() -> None:
    out = io.StringIO()
    call_command("demo", "--accounts", "12", stdout=out)
    assert re.search(r"Demo data loaded: 1[2-9] accounts", out.getvalue())

    out = io.StringIO()
    call_command("demo", "--accounts", "12", stdout=out)
    assert "(nothing changed)" in out.getvalue()


def test_demo_orders_show_today_s_picture() -> None:
    """What the order pages promise on a fresh demo: history in a rhythm, a late order partly
    delivered, one at risk, one waiting to be confirmed, an overdue invoice, a credit note."""
    demo_load(accounts=60)
    kam = User.objects.get(username="kam")
    today = timezone.localdate()

    assert Order.objects.filter(status=OrderStatus.PAID).count() >= 10
    late = list(late_orders(viewer=kam, today=today))
    assert [o.status for o in late] == [OrderStatus.PARTIALLY_DELIVERED]
    assert at_risk_orders(viewer=kam, today=today).count() == 1
    assert Order.objects.filter(status=OrderStatus.RECEIVED, source="api").exists()
    assert Order.objects.filter(reorder_of__isnull=False).exists()
    assert Order.objects.filter(status=OrderStatus.CANCELLED).count() == 1
    assert overdue_invoices(viewer=kam, today=today).count() == 1
    assert Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).count() == 1
    # Every paid invoice is paid in full, on its due date.
    for invoice in Invoice.objects.filter(status="paid"):
        assert invoice.paid == invoice.total
        assert {p.paid_on for p in invoice.payments.all()} == {invoice.due_on}
