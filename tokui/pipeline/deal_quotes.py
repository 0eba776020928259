"""From a deal to its quotes (見積書): the bridge between the pipeline and orders.

Orders sit below the pipeline (ARCHITECTURE rule 4), so a quote links to its deal through the
generic "regarding" fields (``Quote.regarding_type`` / ``regarding_id``); this module, above
both, makes a quote from a deal's lines and lists a deal's quotes.
"""

import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.accounts.models import Contact
from tokui.core.exceptions import ApplicationError
from tokui.orders.constants import DocumentLanguage, QuoteStatus
from tokui.orders.models import Quote
from tokui.orders.quotes import price_lines, quote_create
from tokui.orders.selectors import quote_regarding
from tokui.pipeline.models import Deal
from tokui.pipeline.selectors import deal_get
from tokui.users.models import User

# A quote of the deal in one of these counts as "a quote is issued" for the playbook.
ISSUED_QUOTE_STATUSES = frozenset({QuoteStatus.APPROVED, QuoteStatus.SENT, QuoteStatus.ACCEPTED})


@transaction.atomic
def deal_quote_create(
    *,
    actor: User,
    deal: Deal,
    contact: Contact | int | None = None,
    valid_until: datetime.date | None = None,
    notes: str = "",
    language: str = DocumentLanguage.JA,
) -> Quote:
    """A draft quote of the deal's lines (product, quantity; the deal's price offered where it
    is below today's engine price), addressed to ``contact`` or else the deal's contact.

    Refused with a clear message: a deal without lines, lines whose product is gone. The quote
    service refuses the rest (discontinued products, mixed currencies, authority at issue).
    """
    deal = deal_get(viewer=actor, deal_id=deal.pk)
    lines = list(deal.lines.select_related("product").order_by("position"))
    if not lines:
        raise ApplicationError(
            _("This deal has no products yet: add its lines before making a quote."), status=422
        )
    gone = [line for line in lines if line.product is None]
    if gone:
        raise ApplicationError(
            _("These products are no longer in the catalog: %(lines)s. Remove them first.")
            % {"lines": ", ".join(f"{line.sku} {line.description}" for line in gone)},
            status=422,
        )
    rows = []
    for line in lines:
        row: dict[str, object] = {"product": line.product_id, "quantity": line.quantity}
        if line.product is not None and line.description != line.product.name:
            row["description"] = line.description
        rows.append((row, line.unit_price))
    # The deal's price is offered where it is below today's engine price; otherwise the engine's.
    priced = price_lines(
        actor=actor, account=deal.account, lines=[r for r, _p in rows], on=timezone.localdate()
    )
    final = []
    for (row, deal_price), found in zip(rows, priced, strict=True):
        if deal_price < found.engine_price:
            row = {**row, "unit_price": deal_price}
        final.append(row)
    return quote_create(
        actor=actor,
        account=deal.account,
        contact=contact if contact is not None else deal.contact_id,
        title=deal.title,
        lines=final,
        valid_until=valid_until,
        notes=notes,
        language=language,
        regarding=deal,
    )


def deal_quotes(*, viewer: User, deal: Deal) -> QuerySet[Quote]:
    """The deal's quotes (every version), newest first; the deal must be visible."""
    deal = deal_get(viewer=viewer, deal_id=deal.pk)
    return quote_regarding(viewer=viewer, obj=deal)


def deal_has_issued_quote(*, deal: Deal) -> bool:
    """True when one of the deal's quotes is ready to send, sent or accepted."""
    return Quote.objects.filter(
        regarding_type=ContentType.objects.get_for_model(Deal),
        regarding_id=deal.pk,
        status__in=ISSUED_QUOTE_STATUSES,
    ).exists()
