"""Bonus and rebate programmes: tiers, idempotent purchases, progress, settlement."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from tokui.core.exceptions import ApplicationError, Conflict, PermissionDenied
from tokui.core.models import AuditEvent
from tokui.pricing.models import CreditNote, RebateProgramme, RebatePurchase, RebateStatus
from tokui.pricing.rebates import (
    rebate_accrue_for_account,
    rebate_bonus,
    rebate_programme_cancel,
    rebate_programme_create,
    rebate_programme_list,
    rebate_progress,
    rebate_record_purchase,
    rebate_settle,
)

D = datetime.date
M = 1_000_000


def _programme(head, account, **data):
    data.setdefault("name", "2026年度 数量リベート")
    data.setdefault("period_start", D(2026, 4, 1))
    data.setdefault("period_end", D(2027, 3, 31))
    data.setdefault("tiers", [{"threshold": 50 * M, "percent": 2}])
    return rebate_programme_create(actor=head, account=account, data=data)


@pytest.fixture
def account(kam, make_account):
    return make_account(kam, name="株式会社山田商事", tier="key")


def test_two_percent_from_fifty_million_is_retroactive(head, account):
    programme = _programme(head, account)
    rebate_record_purchase(programme=programme, on=D(2026, 6, 1), amount=Decimal(30 * M),
                           source="order:1")  # fmt: skip
    before = rebate_progress(programme)
    assert (before.purchases, before.accrued, before.remaining) == (30 * M, 0, 20 * M)
    assert before.percent is None and before.bar_percent == 60
    rebate_record_purchase(programme=programme, on=D(2026, 9, 1), amount=Decimal(25 * M),
                           source="order:2")  # fmt: skip
    after = rebate_progress(programme)
    assert (after.purchases, after.percent, after.accrued) == (55 * M, 2, Decimal(1_100_000))
    assert after.next_threshold is None and after.bar_percent == 100
    # Each purchase in the programme's history; the account's timeline hears of the tier.
    assert AuditEvent.objects.filter(
        action="pricing.rebate.purchase_recorded", scope=f"pricing:rebate:{programme.pk}"
    ).count() == 2  # fmt: skip
    reached = AuditEvent.objects.get(action="pricing.rebate.tier_reached")
    assert reached.scope == f"account:{account.pk}"
    assert reached.changes["bonus"] == [None, "2%"]


def test_the_same_source_counts_once_and_another_amount_is_a_conflict(head, account):
    programme = _programme(head, account)
    first, created = rebate_record_purchase(
        programme=programme, on=D(2026, 6, 1), amount=Decimal(1000), source="order:7"
    )
    again, created_again = rebate_record_purchase(
        programme=programme, on=D(2026, 6, 1), amount=Decimal(1000), source="order:7"
    )
    assert created and not created_again and again.pk == first.pk
    with pytest.raises(Conflict) as exc:
        rebate_record_purchase(
            programme=programme, on=D(2026, 6, 1), amount=Decimal(2000), source="order:7"
        )
    assert "order:7" in exc.value.message
    assert list(RebatePurchase.objects.values_list("amount", flat=True)) == [Decimal(1000)]


def test_purchases_outside_the_period_or_in_odd_amounts_are_refused(head, account):
    programme = _programme(head, account)
    for on, amount in ((D(2027, 4, 1), Decimal(5)), (D(2026, 5, 1), Decimal("1.5"))):
        with pytest.raises(ApplicationError):
            rebate_record_purchase(programme=programme, on=on, amount=amount, source="x")
    assert not RebatePurchase.objects.exists()


def _t(millions, percent):
    return {"threshold": millions * M, "percent": percent}


@pytest.mark.parametrize(
    ("tiers", "field"),
    [
        ([], "tiers"),
        ([_t(10, 2), _t(50, 2)], "tiers.1.percent"),
        ([_t(50, 2), _t(10, 3)], "tiers.0.percent"),
        ([_t(10, 1), _t(10, 2)], "tiers.1.threshold"),
        ([{"threshold": -1, "percent": 1}], "tiers.0.threshold"),
        ([{"threshold": 1, "percent": 100}], "tiers.0.percent"),
    ],
)  # fmt: skip
def test_tiers_must_rise(head, account, tiers, field):
    with pytest.raises(ApplicationError) as exc:
        _programme(head, account, tiers=tiers)
    assert field in exc.value.errors
    assert not RebateProgramme.objects.exists()


def test_only_heads_write_programmes_and_everyone_who_sees_the_account_reads(
    head, kam, west_am, account
):
    with pytest.raises(PermissionDenied):
        _programme(kam, account)
    programme = _programme(head, account)
    assert list(rebate_programme_list(viewer=kam)) == [programme]
    assert list(rebate_programme_list(viewer=west_am)) == []


def test_accrual_goes_into_every_covering_programme_of_the_currency(head, account):
    year = _programme(head, account)
    half = _programme(head, account, name="上期キャンペーン", period_end=D(2026, 9, 30))
    dollars = _programme(head, account, name="USD", currency="USD",
                         tiers=[{"threshold": 1000, "percent": 1}])  # fmt: skip
    rows = rebate_accrue_for_account(account.pk, D(2026, 10, 5), Decimal(3 * M), "order:9")
    assert [r.programme_id for r in rows] == [year.pk]
    rows = rebate_accrue_for_account(account.pk, D(2026, 5, 5), Decimal(2 * M), "order:10")
    assert sorted(r.programme_id for r in rows) == [year.pk, half.pk]
    # Fed again: nothing new.
    rebate_accrue_for_account(account.pk, D(2026, 5, 5), Decimal(2 * M), "order:10")
    assert RebatePurchase.objects.count() == 3
    assert not dollars.purchases.exists()


def test_settle_once_after_the_period_with_a_numbered_credit_note(head, account):
    programme = _programme(head, account)
    rebate_record_purchase(programme=programme, on=D(2026, 6, 1), amount=Decimal(55 * M),
                           source="erp:2026")  # fmt: skip
    with pytest.raises(ApplicationError) as early:
        rebate_settle(actor=head, programme=programme, on=D(2027, 3, 30))
    assert early.value.code == "period_not_over"
    programme.refresh_from_db()
    assert programme.status == RebateStatus.ACTIVE and not CreditNote.objects.exists()
    rebate_settle(actor=head, programme=programme, on=D(2027, 4, 5))
    note = CreditNote.objects.get()
    assert (note.number, note.amount, note.percent) == ("CN-2027-0001", Decimal(1_100_000), 2)
    with pytest.raises(Conflict) as twice:
        rebate_settle(actor=head, programme=programme, on=D(2027, 4, 6))
    assert "CN-2027-0001" in twice.value.message
    assert CreditNote.objects.count() == 1
    with pytest.raises(Conflict):
        rebate_record_purchase(programme=programme, on=D(2026, 7, 1), amount=Decimal(1),
                               source="late")  # fmt: skip
    other = _programme(head, account, name="別枠")
    rebate_record_purchase(programme=other, on=D(2026, 6, 1), amount=Decimal(60 * M),
                           source="erp:b")  # fmt: skip
    rebate_settle(actor=head, programme=other, on=D(2027, 3, 31))
    assert other.credit_note.number == "CN-2027-0002"


def test_a_cancelled_programme_counts_nothing_and_cannot_be_settled(head, account):
    programme = _programme(head, account)
    rebate_programme_cancel(actor=head, programme=programme)
    with pytest.raises(Conflict):
        rebate_record_purchase(programme=programme, on=D(2026, 6, 1), amount=Decimal(5),
                               source="a")  # fmt: skip
    with pytest.raises(Conflict):
        rebate_settle(actor=head, programme=programme, on=D(2027, 4, 1))


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs two real connections (PostgreSQL)"
)
def test_concurrent_settles_one_wins(head, account):
    programme = _programme(head, account)
    rebate_record_purchase(programme=programme, on=D(2026, 6, 1), amount=Decimal(55 * M),
                           source="erp")  # fmt: skip
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def settle() -> None:
        barrier.wait()
        try:
            rebate_settle(actor=head, programme=programme, on=D(2027, 4, 1))
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=settle) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    assert CreditNote.objects.count() == 1


TIERS = [
    (Decimal(10 * M), Decimal(1)),
    (Decimal(50 * M), Decimal(2)),
    (Decimal(100 * M), Decimal("3.5")),
]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=10**9), max_size=8),
    st.integers(min_value=0, max_value=10**9),
)
def test_the_accrued_bonus_never_falls_as_purchases_grow(amounts, extra):
    total = Decimal(sum(amounts))
    _tier, before = rebate_bonus(total, TIERS, "JPY")
    _tier, after = rebate_bonus(total + extra, TIERS, "JPY")
    assert Decimal(0) <= before <= after
