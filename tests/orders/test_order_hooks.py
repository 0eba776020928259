# ruff: noqa: F811 (the fixtures of conftest_quotes are imported, and used as arguments)
"""The hand-over hooks, end to end through the services: a confirmed order counts into the
account's rebate programme once; a paid order grants the referral reward once."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.orders.conftest_quotes import (  # noqa: F401 (fixtures)
    account,
    company,
    line,
    make_product,
    pump,
    pump_line,
)
from tokui.core.exceptions import Conflict
from tokui.orders import invoices as inv
from tokui.orders.constants import OrderStatus
from tokui.orders.deliveries import delivery_create
from tokui.orders.hooks import OrderHooks, order_confirmed_hooks, order_paid_hooks
from tokui.orders.models import Order
from tokui.orders.orders import order_confirm, order_create, order_start_fulfilment
from tokui.pipeline import referrals
from tokui.pipeline.models import ReferralReward
from tokui.pricing.models import RebatePurchase
from tokui.pricing.rebates import rebate_programme_create

D = Decimal


def test_the_registry_keeps_one_of_each_and_both_hooks_are_registered():
    hooks = OrderHooks("test")
    seen = []

    def hook(order, actor):
        seen.append(order)

    hooks.register(hook)
    hooks.register(hook)
    assert len(hooks) == 1
    hooks.run("o", None)  # type: ignore[arg-type]
    assert seen == ["o"]
    hooks.unregister(hook)
    assert hook not in hooks and len(order_confirmed_hooks) >= 1 and len(order_paid_hooks) >= 1


def test_a_confirmed_order_accrues_the_rebate_once(kam, head, account, pump):
    today = timezone.localdate()
    programme = rebate_programme_create(
        actor=head,
        account=account,
        data={
            "name": "年間数量リベート",
            "period_start": today - datetime.timedelta(days=30),
            "period_end": today + datetime.timedelta(days=300),
            "tiers": [{"threshold": 1_000_000, "percent": 2}],
        },
    )
    order = order_create(actor=kam, account=account, lines=[line(pump, 3)])
    order_confirm(actor=kam, order=order)
    with pytest.raises(Conflict):
        order_confirm(actor=kam, order=order)  # a retried confirm: refused, nothing twice
    purchases = list(RebatePurchase.objects.filter(programme=programme))
    assert [(p.amount, p.source) for p in purchases] == [(D(300_000), f"order:{order.pk}")]
    # The hook itself is idempotent on the source too.
    order_confirmed_hooks.run(Order.objects.get(pk=order.pk), kam)
    assert RebatePurchase.objects.filter(programme=programme).count() == 1


def _paid(kam, account, pump):
    order = order_create(actor=kam, account=account, lines=[line(pump, 2)])
    order_confirm(actor=kam, order=order)
    order_start_fulfilment(actor=kam, order=order)
    delivery_create(
        actor=kam,
        order=order,
        lines=[{"order_line": order.lines.get().pk, "quantity": 2}],
        shipped_on=timezone.localdate(),
    )
    invoice = inv.invoice_issue(actor=kam, account=account, orders=[order])
    inv.payment_record(actor=kam, invoice=invoice, amount=invoice.total, paid_on=invoice.issued_on)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    return order


def test_a_paid_order_grants_the_referral_reward_once(
    kam, head, account, pump, company, make_account
):
    referrer = make_account(kam, name="株式会社紹介元", name_kana="ショウカイモト")
    referrals.referral_record(actor=kam, account=account, referrer=referrer)
    referrals.reward_rule_create(
        actor=head,
        data={
            "name": "初回受注謝礼",
            "trigger": "first_order_paid",
            "kind": "bonus",
            "amount": "30000",
        },
    )
    first = _paid(kam, account, pump)
    rewards = list(ReferralReward.objects.all())
    assert [(r.amount, r.source) for r in rewards] == [(D(30_000), f"order:{first.pk}")]
    _paid(kam, account, pump)  # the second paid order earns nothing more
    assert ReferralReward.objects.count() == 1
