"""From a won deal to its order (受注), and the referral rewards of paid orders: the bridge
between the pipeline and orders.

Orders sit below the pipeline (ARCHITECTURE rule 4): an order links to its deal through the
generic "regarding" fields, and orders call the pipeline back only through the hooks of
``tokui.orders.hooks`` (registered in tokui/pipeline/apps.py).
"""

from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.core.exceptions import ApplicationError, Conflict
from tokui.orders.constants import OrderSource, OrderStatus, QuoteStatus
from tokui.orders.models import Order, Quote
from tokui.orders.orders import order_create_once, order_from_quote, require_editor
from tokui.pipeline.constants import StageKind
from tokui.pipeline.models import Deal
from tokui.pipeline.referrals import referral_rewards_on_order_paid
from tokui.pipeline.selectors import deal_get
from tokui.users.models import User


def deal_order(*, deal: Deal) -> Order | None:
    """The (first, not cancelled) order taken from the deal, or None."""
    return (
        Order.objects.filter(
            regarding_type=ContentType.objects.get_for_model(Deal), regarding_id=deal.pk
        )
        .exclude(status=OrderStatus.CANCELLED)
        .order_by("pk")
        .first()
    )


def _accepted_quote(deal: Deal) -> Quote | None:
    return (
        Quote.objects.filter(
            regarding_type=ContentType.objects.get_for_model(Deal),
            regarding_id=deal.pk,
            status=QuoteStatus.ACCEPTED,
        )
        .order_by("-pk")
        .first()
    )


@transaction.atomic
def order_from_deal(*, actor: User, deal: Deal | int, customer_reference: str = "") -> Order:
    """The order of a won deal: at its accepted quote's prices when it has one (the newest),
    else its lines re-priced today by the price engine; ``regarding`` the deal.

    Idempotent: a second call returns the deal's first order (not cancelled). Refused: a deal
    that is not won, a deal without lines (and no accepted quote), lines whose product is gone.
    """
    require_editor(actor)
    found = deal_get(viewer=actor, deal_id=deal.pk if isinstance(deal, Deal) else deal)
    # Serialise two clicks on the same deal (the row lock, no joins).
    Deal.objects.select_for_update().filter(pk=found.pk).first()
    if found.stage.kind != StageKind.WON:
        raise Conflict(
            _("Deal “%(title)s” is not won: only a won deal becomes an order.")
            % {"title": found.title}
        )
    if (existing := deal_order(deal=found)) is not None:
        return existing
    quote = _accepted_quote(found)
    if quote is not None:
        return order_from_quote(
            actor=actor,
            quote=quote,
            customer_reference=customer_reference,
            regarding=found,
            source=OrderSource.DEAL,
        )
    lines = list(found.lines.select_related("product").order_by("position"))
    if not lines:
        raise ApplicationError(
            _("This deal has no products: add its lines (or accept a quote) to take the order."),
            status=422,
        )
    gone = [line for line in lines if line.product is None]
    if gone:
        raise ApplicationError(
            _("These products are no longer in the catalog: %(lines)s.")
            % {"lines": ", ".join(f"{line.sku} {line.description}" for line in gone)},
            status=422,
        )
    order, _new = order_create_once(
        actor=actor,
        account=found.account,
        contact=found.contact_id,
        lines=[{"product": line.product_id, "quantity": line.quantity} for line in lines],
        customer_reference=customer_reference,
        source=OrderSource.DEAL,
        regarding=found,
    )
    return order


def referral_rewards_on_paid_order(order: Order, actor: User | None) -> None:
    """The ``order_paid_hooks`` hook: the referred account's first paid order may earn its
    referrer a reward (granted once per rule and referral)."""
    referral_rewards_on_order_paid(
        account=order.account,
        order_ref=f"order:{order.pk}",
        amount=Decimal(order.subtotal),
        paid_on=timezone.localdate(),
        actor=actor,
        currency=order.currency,
    )
