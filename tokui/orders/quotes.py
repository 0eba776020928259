"""Quotes (見積書): making, revising, issuing, sending and closing them (the write services).

A quote is made for an account (optionally addressed to one of its contacts) from catalog
products and quantities. Every line is priced by the price engine
(``tokui.pricing.quotes.price_quote``) on the quote's date; the line keeps what the engine
answered (``engine_price`` and its explanation), the price offered (``unit_price``: the engine's,
or lower when the salesperson offers less) and a snapshot of the product (code, name, unit, tax
rate), so an old quote reads and prints the same after the product is renamed, discontinued or
removed. One quote is in one currency: mixing is refused, naming the lines.

Tax is computed the qualified-invoice way: the lines' amounts are added per rate (10%, 8%) and
the tax of each rate is rounded down once (端数切捨て, ``tokui.core.money.tax_by_rate``).

The life of a quote::

    draft ──issue──► approved ("ready to send") ──send──► sent ──► accepted | declined
      │        └──► awaiting approval ──(approver approves)──► approved
      └─ edit (drafts only, with the version loaded)
    approved / sent / declined / awaiting approval ──revise──► superseded (+ a new draft,
                                                             same number, revision + 1)
    draft / awaiting approval / approved / sent ──withdraw──► withdrawn

Issuing checks the issuer's authority (``tokui.pricing.authority``) as agreements do: lines
offered below the engine's price count with their discount off the list price and their margin
over cost; the quote's net value counts against ``max_deal_value`` (yen quotes only: Tokui never
converts currencies). The engine's own price needs no approval: it already is the company's
price (agreements, discount rules and floors were approved where they needed it). Beyond
authority an approval request of kind "quote" is opened (the approver is notified by the
approvals engine) and its approval marks the quote ready to send.

Prices are valid on the quote's date: a draft dated before today is refused at issue with a
clear message and re-priced for today by ``quote_reprice``. A quote past its validity cannot be
sent or accepted ("expired: revise it").

Every write is audited twice: under the account's scope (its history and timeline) and under the
quote's own scope (``orders:quote:<id>``, the quote page's history).
"""

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from tokui.accounts.models import Account, Contact, account_scope
from tokui.activities.mail.outbound import email_send
from tokui.activities.models import Interaction
from tokui.catalog.constants import ROLES_SEEING_COST, TAX_RATES, ProductStatus, TaxCategory
from tokui.catalog.models import Product
from tokui.core.audit import audit_record, check_version
from tokui.core.exceptions import ApplicationError, Conflict, NotFound, PermissionDenied
from tokui.core.money import (
    MoneyError,
    check_amount,
    format_money,
    parse_money,
    quantize,
    tax_by_rate,
)
from tokui.core.validation import ErrorCollector, check_plain_text, check_text_fields
from tokui.orders.company import company_profile_get
from tokui.orders.constants import DocumentLanguage, Honorific, QuoteStatus
from tokui.orders.models import Quote, QuoteLine
from tokui.orders.numbering import next_document_number
from tokui.orders.selectors import visible_account
from tokui.pricing.approvals import (
    OPEN_STATUSES,
    approval_kinds,
    approval_request_create,
    approval_withdraw,
)
from tokui.pricing.authority import Needs, authority_for, breaches
from tokui.pricing.engine import MAX_QUANTITY, PricingError
from tokui.pricing.models import ApprovalRequest
from tokui.pricing.payment_terms import payment_terms_label
from tokui.pricing.quotes import agreement_applying, price_quote
from tokui.users.models import User

QUOTE_KIND = "quote"
LINES_LIMIT = 100
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
# Statuses from which a quote may be revised, withdrawn, sent, accepted or declined.
REVISABLE = frozenset(
    {QuoteStatus.AWAITING_APPROVAL, QuoteStatus.APPROVED, QuoteStatus.SENT, QuoteStatus.DECLINED}
)
WITHDRAWABLE = frozenset(
    {QuoteStatus.DRAFT, QuoteStatus.AWAITING_APPROVAL, QuoteStatus.APPROVED, QuoteStatus.SENT}
)
SENDABLE = frozenset({QuoteStatus.APPROVED, QuoteStatus.SENT})
DECIDABLE = frozenset({QuoteStatus.APPROVED, QuoteStatus.SENT})


# -- pure parts: totals, numbers -------------------------------------------------------------


@dataclass(frozen=True)
class RateTotal:
    rate: Decimal  # percent: 10, 8
    net: Decimal
    tax: Decimal


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    by_rate: tuple[RateTotal, ...] = field(default_factory=tuple)


def tax_rate_percent(category: str) -> Decimal:
    rate = TAX_RATES.get(category, TAX_RATES[TaxCategory.STANDARD])  # type: ignore[call-overload]
    return (rate * HUNDRED).quantize(Decimal(1))


def quote_totals(lines: Iterable[tuple[Decimal, str]], currency: str) -> Totals:
    """Subtotal, tax and total of ``(amount, tax category)`` lines: the amounts of each rate are
    added first and that rate's tax is rounded down once (端数切捨て), as the invoice rules ask."""
    by_rate = tax_by_rate(
        ((amount, tax_rate_percent(category)) for amount, category in lines), currency
    )
    rows = tuple(RateTotal(rate=rate, net=net, tax=tax) for rate, (net, tax) in by_rate.items())
    subtotal = quantize(sum((r.net for r in rows), Decimal(0)), currency)
    tax = quantize(sum((r.tax for r in rows), Decimal(0)), currency)
    return Totals(subtotal=subtotal, tax=tax, total=subtotal + tax, by_rate=rows)


def quote_totals_of(quote: Quote) -> Totals:
    return quote_totals(
        ((line.amount, line.tax_category) for line in quote.lines.all()), quote.currency
    )


def _next_number(year: int) -> str:
    """The next Q-YYYY-NNNN."""
    return next_document_number("Q", year)


# -- checks ----------------------------------------------------------------------------------


def _require_editor(actor: User) -> None:
    if not actor.is_active or not actor.may_edit_accounts:
        raise PermissionDenied(_("Your role can read quotes but not change them."))


def _locked_quote(actor: User, quote: Quote | int) -> Quote:
    quote_id = quote.pk if isinstance(quote, Quote) else quote
    visible = Account.objects.visible_to(actor).values("pk")
    found = Quote.objects.select_for_update().filter(pk=quote_id, account_id__in=visible).first()
    if found is None:
        raise NotFound(_("No such quote."))
    return found


def _status_label(status: str) -> str:
    return str(QuoteStatus(status).label)


def _refuse_status(quote: Quote, allowed: Iterable[str], doing: str) -> None:
    if quote.status not in allowed:
        raise Conflict(
            _("Quote %(number)s is %(status)s: it cannot be %(doing)s.")
            % {
                "number": quote.display_number,
                "status": _status_label(quote.status),
                "doing": doing,
            }
        )


def quote_is_expired(quote: Quote, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return quote.valid_until < today and quote.status in (
        QuoteStatus.DRAFT,
        QuoteStatus.AWAITING_APPROVAL,
        QuoteStatus.APPROVED,
        QuoteStatus.SENT,
    )


def _refuse_expired(quote: Quote) -> None:
    if quote.valid_until < timezone.localdate():
        raise ApplicationError(
            _(
                "Quote %(number)s expired on %(date)s: revise it to quote today's prices with a "
                "new validity."
            )
            % {"number": quote.display_number, "date": quote.valid_until.isoformat()},
            code="expired",
            status=409,
        )


def _audit(
    actor: User | None,
    action: str,
    quote: Quote,
    changes: dict[str, list[Any]] | None = None,
    note: str = "",
) -> None:
    """One event in the account's scope (its history shows it); the quote's page reads the
    events whose target is the quote (``core.audit.audit_for_target``)."""
    audit_record(
        actor=actor,
        action=action,
        target=quote,
        changes=changes,
        scope=account_scope(quote.account_id),
        note=note,
    )


def _bump(quote: Quote, fields: Sequence[str]) -> None:
    quote.version += 1
    quote.updated_at = timezone.now()
    quote.save(update_fields=[*fields, "version", "updated_at"])


# -- lines -----------------------------------------------------------------------------------


@dataclass
class PricedLine:
    number: int  # 1-based, as the person typed the lines
    product: Product
    quantity: int
    engine_price: Decimal
    unit_price: Decimal
    list_price: Decimal
    explanation: str
    description: str
    currency: str

    @property
    def amount(self) -> Decimal:
        return quantize(self.unit_price * self.quantity, self.currency)


def _ref(value: Any) -> int | None:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value.strip())
    return None


def _quantity(value: Any) -> int | None:
    if isinstance(value, str) and value.strip().isdecimal():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 1 <= value <= MAX_QUANTITY else None


def _offered(value: Any, currency: str, key: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return check_amount(value, currency, field=key)
    if isinstance(value, str):
        return parse_money(value, currency, field=key)
    raise MoneyError(_("Enter the unit price as a number."), field=key)


def price_lines(
    *, actor: User, account: Account, lines: Any, on: datetime.date
) -> list[PricedLine]:
    """Price ``lines`` (``[{"product", "quantity", "unit_price"?, "description"?}]``) for the
    account on ``on``. Every problem is collected (``lines.<n>.<field>``) and raised at once:
    unknown or discontinued products, quantities below 1, offers above the engine's price,
    prices the engine cannot find, and currencies mixed in one quote."""
    if not isinstance(lines, list | tuple):
        raise ApplicationError(_("Give the quote's lines."), field="lines", status=422)
    errors = ErrorCollector()
    if not lines:
        errors.add("lines", _("Add at least one line: a product and a quantity."))
    if len(lines) > LINES_LIMIT:
        errors.add("lines", _("A quote has at most %(n)d lines.") % {"n": LINES_LIMIT})
        errors.raise_if_any()
    ids = {i for row in lines if isinstance(row, dict) and (i := _ref(row.get("product")))}
    products = {p.pk: p for p in Product.objects.filter(pk__in=ids)}
    priced: list[PricedLine] = []
    for index, row in enumerate(lines):
        key = f"lines.{index}"
        if not isinstance(row, dict):
            errors.add(key, _("A line is a product and a quantity."))
            continue
        product = products.get(_ref(row.get("product")) or 0)
        if product is None:
            errors.add(f"{key}.product", _("Choose a product from the catalog."))
            continue
        quantity = _quantity(row.get("quantity"))
        if quantity is None:
            errors.add(
                f"{key}.quantity",
                _("A quantity is a whole number from 1 to %(max)s.") % {"max": f"{MAX_QUANTITY:,}"},
            )
            continue
        if product.status == ProductStatus.DISCONTINUED:
            errors.add(
                f"{key}.product",
                _("%(product)s is discontinued: it cannot be quoted any more.")
                % {"product": f"{product.sku} {product.name}"},
            )
            continue
        try:
            answer = price_quote(
                viewer=actor, account_id=account.pk, product_id=product.pk, quantity=quantity, on=on
            )
        except PricingError as exc:
            errors.add(f"{key}.product", f"{product.sku}: {exc.message}")
            continue
        except NotFound:
            errors.add(f"{key}.product", _("Choose a product from the catalog."))
            continue
        try:
            offered = _offered(row.get("unit_price"), answer.currency, f"{key}.unit_price")
        except MoneyError as exc:
            errors.add(f"{key}.unit_price", exc.message)
            continue
        if offered is not None and offered > answer.unit_price:
            errors.add(
                f"{key}.unit_price",
                _(
                    "The offered price %(offered)s is above the price found (%(price)s): leave it "
                    "empty to quote the price found."
                )
                % {
                    "offered": format_money(offered, answer.currency),
                    "price": format_money(answer.unit_price, answer.currency),
                },
            )
            continue
        description = row.get("description")
        description = description.strip() if isinstance(description, str) else ""
        if len(description) > 300 or "\x00" in description:
            errors.add(f"{key}.description", _("A description has at most 300 characters."))
            continue
        priced.append(
            PricedLine(
                number=index + 1,
                product=product,
                quantity=quantity,
                engine_price=answer.unit_price,
                unit_price=offered if offered is not None else answer.unit_price,
                list_price=product.list_price,
                explanation=answer.explain(_, get_language() or "en"),
                description=description or product.name,
                currency=answer.currency,
            )
        )
    currencies: dict[str, list[int]] = {}
    for line in priced:
        currencies.setdefault(line.currency, []).append(line.number)
    if len(currencies) > 1:
        parts = [
            _("%(currency)s (lines %(lines)s)")
            % {"currency": code, "lines": ", ".join(str(n) for n in numbers)}
            for code, numbers in sorted(currencies.items())
        ]
        errors.add(
            "lines",
            _(
                "A quote is in one currency, but these lines are in %(parts)s: make one quote per "
                "currency."
            )
            % {"parts": " / ".join(parts)},
        )
    errors.raise_if_any()
    return priced


def _write_lines(quote: Quote, priced: list[PricedLine]) -> None:
    quote.lines.all().delete()
    QuoteLine.objects.bulk_create(
        QuoteLine(
            quote=quote,
            position=position,
            product=line.product,
            sku=line.product.sku,
            description=line.description[:300],
            unit=line.product.unit,
            quantity=line.quantity,
            list_price=line.list_price,
            engine_price=line.engine_price,
            unit_price=line.unit_price,
            tax_category=line.product.tax_category,
            amount=line.amount,
            explanation=line.explanation,
        )
        for position, line in enumerate(priced, start=1)
    )
    currency = priced[0].currency if priced else quote.currency
    totals = quote_totals(((p.amount, p.product.tax_category) for p in priced), currency)
    quote.currency = currency
    quote.subtotal, quote.tax, quote.total = totals.subtotal, totals.tax, totals.total


def _lines_of(quote: Quote) -> list[dict[str, Any]]:
    """The quote's lines as input again (the product, quantity, offer and description)."""
    rows = []
    for line in quote.lines.select_related("product").order_by("position"):
        row: dict[str, Any] = {"product": line.product_id, "quantity": line.quantity}
        if line.unit_price < line.engine_price:
            row["unit_price"] = line.unit_price
        if line.product is not None and line.description != line.product.name:
            row["description"] = line.description
        rows.append(row)
    return rows


# -- the header ------------------------------------------------------------------------------


def _clean_contact(account: Account, contact: Any, errors: ErrorCollector) -> Contact | None:
    contact_id = _ref(contact)
    if contact is None or contact == "":
        return None
    found = (
        Contact.objects.filter(pk=contact_id, account=account, archived_at=None).first()
        if contact_id
        else None
    )
    if found is None:
        errors.add("contact", _("Choose a contact of this account."))
    return found


def _default_payment_terms(account: Account, on: datetime.date, language: str) -> str:
    applied = agreement_applying(account_id=account.pk, on=on)
    if applied is None:
        return ""
    with translation.override(language):
        return payment_terms_label(applied.record)


def _clean_header(
    *, account: Account, data: dict[str, Any], current: Quote | None
) -> dict[str, Any]:
    """Validate the quote's own fields; every problem at once. ``current``: the draft edited."""
    errors = ErrorCollector()
    text = {
        k: v
        for k, v in data.items()
        if k in ("title", "payment_terms", "delivery_terms", "notes", "addressee_department")
    }
    check_text_fields(Quote, text, errors)
    errors.raise_if_any()
    clean: dict[str, Any] = {}
    for name, value in text.items():
        clean[name] = (value or "").strip() if isinstance(value, str) else ""
    if "title" in clean and not clean["title"]:
        errors.add("title", _("Give the quote a subject, e.g. the equipment or the project."))
    if "notes" in clean:
        check_plain_text("notes", clean["notes"], errors)
    if "contact" in data:
        clean["contact"] = _clean_contact(account, data["contact"], errors)
    if "language" in data:
        if data["language"] not in DocumentLanguage.values:
            errors.add("language", _("Choose Japanese or English."))
        else:
            clean["language"] = data["language"]
    if "era_dates" in data:
        clean["era_dates"] = bool(data["era_dates"])
    issued_on = data.get("issued_on") or (current.issued_on if current else timezone.localdate())
    if not isinstance(issued_on, datetime.date) or isinstance(issued_on, datetime.datetime):
        errors.add("issued_on", _("Enter a date."))
        issued_on = timezone.localdate()
    elif not 2000 <= issued_on.year <= 2199:
        errors.add("issued_on", _("Enter a date between 2000 and 2199."))
    clean["issued_on"] = issued_on
    valid_until = data.get("valid_until")
    if valid_until is None:
        if current is not None and "issued_on" in data:
            # A new date keeps the validity's length.
            valid_until = issued_on + (current.valid_until - current.issued_on)
        elif current is not None:
            valid_until = current.valid_until
        else:
            days = company_profile_get().quote_validity_days or 30
            valid_until = issued_on + datetime.timedelta(days=days)
    if not isinstance(valid_until, datetime.date) or isinstance(valid_until, datetime.datetime):
        errors.add("valid_until", _("Enter a date."))
    elif valid_until < issued_on:
        errors.add("valid_until", _("A quote cannot expire before its date."))
    elif valid_until > issued_on + datetime.timedelta(days=366):
        errors.add("valid_until", _("A quote is valid for at most a year."))
    clean["valid_until"] = valid_until
    errors.raise_if_any()
    return clean


def _addressee(quote: Quote, department: str | None) -> None:
    """御中 for the company (and its department), 様 for a named person — never both."""
    if quote.contact_id is not None and quote.contact is not None:
        quote.honorific = Honorific.SAMA
        quote.addressee_department = quote.contact.department[:200]
    else:
        quote.honorific = Honorific.ONCHU
        if department is not None:
            quote.addressee_department = department.strip()[:200]


def _regarding_fields(regarding: models.Model | None) -> dict[str, Any]:
    if regarding is None:
        return {}
    return {
        "regarding_type": ContentType.objects.get_for_model(regarding),
        "regarding_id": regarding.pk,
    }


# -- writes ----------------------------------------------------------------------------------


@transaction.atomic
def quote_create(
    *,
    actor: User,
    account: Account,
    contact: Contact | int | None = None,
    title: str,
    lines: Sequence[dict[str, Any]],
    issued_on: datetime.date | None = None,
    valid_until: datetime.date | None = None,
    payment_terms: str | None = None,
    delivery_terms: str = "",
    notes: str = "",
    language: str = DocumentLanguage.JA,
    era_dates: bool = False,
    department: str = "",
    regarding: models.Model | None = None,
) -> Quote:
    """A new draft quote: numbered, its lines priced on ``issued_on`` (today by default).

    ``payment_terms`` None: the terms of the account's agreement on the day, if any.
    ``department``: the addressee's department when the quote is not addressed to a person.
    ``regarding``: what the quote is for (a deal), through the generic link.
    """
    _require_editor(actor)
    account = visible_account(actor, account)
    if account.is_archived:
        raise ApplicationError(_("This account is archived: restore it before quoting."))
    header = _clean_header(
        account=account,
        data={
            "title": title,
            "contact": contact,
            "issued_on": issued_on,
            "valid_until": valid_until,
            "payment_terms": payment_terms or "",
            "delivery_terms": delivery_terms,
            "notes": notes,
            "language": language,
            "era_dates": era_dates,
            "addressee_department": department,
        },
        current=None,
    )
    priced = price_lines(actor=actor, account=account, lines=lines, on=header["issued_on"])
    if payment_terms is None:
        header["payment_terms"] = _default_payment_terms(
            account, header["issued_on"], header["language"]
        )[:200]
    quote = Quote(
        account=account,
        owner=actor,
        created_by=actor,
        number=_next_number(header["issued_on"].year),
        revision=1,
        **header,
        **_regarding_fields(regarding),
    )
    _addressee(quote, header.get("addressee_department"))
    quote.save()
    _write_lines(quote, priced)
    quote.save(update_fields=["currency", "subtotal", "tax", "total"])
    _audit(
        actor,
        "orders.quote.created",
        quote,
        changes={"status": [None, quote.status], "total": [None, str(quote.total)]},
        note=quote.title,
    )
    return quote


@transaction.atomic
def quote_update(
    *,
    actor: User,
    quote: Quote,
    data: dict[str, Any],
    lines: Sequence[dict[str, Any]] | None = None,
    version: int | None = None,
) -> Quote:
    """Change a draft (fields in ``data``; ``lines`` replaces every line, re-priced on the
    quote's date). Issued quotes change only through a revision."""
    _require_editor(actor)
    quote = _locked_quote(actor, quote)
    check_version(record=quote, version=version)
    _refuse_status(quote, [QuoteStatus.DRAFT], _("edited (revise it instead)"))
    allowed = {
        "title", "contact", "issued_on", "valid_until", "payment_terms", "delivery_terms",
        "notes", "language", "era_dates", "addressee_department",
    }  # fmt: skip
    unknown = set(data) - allowed
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))}, status=422
        )
    header = _clean_header(account=quote.account, data=data, current=quote)
    before = {
        "title": quote.title,
        "issued_on": quote.issued_on.isoformat(),
        "valid_until": quote.valid_until.isoformat(),
        "total": str(quote.total),
    }
    new_date = header["issued_on"] != quote.issued_on
    if lines is None and new_date:
        lines = _lines_of(quote)
    priced = (
        price_lines(actor=actor, account=quote.account, lines=lines, on=header["issued_on"])
        if lines is not None
        else None
    )
    for name, value in header.items():
        setattr(quote, name, value)
    _addressee(quote, header.get("addressee_department"))
    fields = [*header.keys(), "honorific", "addressee_department"]
    if priced is not None:
        _write_lines(quote, priced)
        fields += ["currency", "subtotal", "tax", "total"]
    _bump(quote, sorted(set(fields)))
    after = {
        "title": quote.title,
        "issued_on": quote.issued_on.isoformat(),
        "valid_until": quote.valid_until.isoformat(),
        "total": str(quote.total),
    }
    changes = {k: [before[k], v] for k, v in after.items() if before[k] != v}
    _audit(actor, "orders.quote.updated", quote, changes=changes)
    return quote


@transaction.atomic
def quote_reprice(*, actor: User, quote: Quote, version: int | None = None) -> Quote:
    """Date a draft today and price its lines again, keeping the validity's length; an offer
    stays where it is still below the new price. What to do when issuing says the prices are
    old."""
    _require_editor(actor)
    quote = _locked_quote(actor, quote)
    check_version(record=quote, version=version)
    _refuse_status(quote, [QuoteStatus.DRAFT], _("re-priced (revise it instead)"))
    today = timezone.localdate()
    rows = _lines_of(quote)
    offers = [row.pop("unit_price", None) for row in rows]
    priced = price_lines(actor=actor, account=quote.account, lines=rows, on=today)
    for line, offer in zip(priced, offers, strict=True):
        if offer is not None and offer < line.engine_price:
            line.unit_price = offer
    before = {"issued_on": quote.issued_on.isoformat(), "total": str(quote.total)}
    quote.valid_until = today + (quote.valid_until - quote.issued_on)
    quote.issued_on = today
    _write_lines(quote, priced)
    _bump(quote, ["issued_on", "valid_until", "currency", "subtotal", "tax", "total"])
    after = {"issued_on": quote.issued_on.isoformat(), "total": str(quote.total)}
    _audit(
        actor,
        "orders.quote.repriced",
        quote,
        changes={k: [before[k], v] for k, v in after.items() if before[k] != v},
    )
    return quote


def line_margin(price: Decimal, cost: Decimal | None) -> Decimal | None:
    """The margin on cost at ``price`` in percent (None without a cost)."""
    if cost is None:
        return None
    if price <= 0:
        return -HUNDRED if cost > 0 else None
    return ((price - cost) / price * HUNDRED).quantize(CENT)


def line_discount(price: Decimal, list_price: Decimal) -> Decimal:
    """The discount off the list price in percent (never negative)."""
    if list_price <= 0:
        return Decimal(0)
    return max(Decimal(0), ((list_price - price) / list_price * HUNDRED).quantize(CENT))


def quote_needs(quote: Quote) -> Needs:
    """What issuing the quote takes: the largest discount off list and the lowest margin of the
    lines offered below the engine's price, and the net value (yen quotes)."""
    worst_discount: Decimal | None = None
    worst_margin: Decimal | None = None
    for line in quote.lines.select_related("product"):
        if line.unit_price >= line.engine_price:
            continue
        discount = line_discount(line.unit_price, line.list_price)
        if worst_discount is None or discount > worst_discount:
            worst_discount = discount
        margin = line_margin(line.unit_price, line.product.cost if line.product else None)
        if margin is not None and (worst_margin is None or margin < worst_margin):
            worst_margin = margin
    return Needs(
        discount_percent=worst_discount,
        margin_percent=worst_margin,
        deal_value=quote.subtotal if quote.currency == "JPY" else None,
    )


def quote_breaches(*, actor: User, quote: Quote) -> list[str]:
    """Why issuing needs an approval (empty: the actor may issue it alone)."""
    return breaches(authority_for(actor), quote_needs(quote))


def _quote_title(quote: Quote) -> str:
    return _("Quote %(number)s for %(account)s (%(total)s)") % {
        "number": quote.display_number,
        "account": quote.account.name,
        "total": format_money(quote.total, quote.currency),
    }


@transaction.atomic
def quote_issue(
    *, actor: User, quote: Quote, reason: str = "", version: int | None = None
) -> Quote:
    """Issue a draft: within the actor's authority it is ready to send at once; beyond it an
    approval request (kind "quote") is opened and the quote waits for it.

    Refused: a draft dated before today (prices are valid on the quote's date: re-price it),
    a validity already over, a product discontinued since the draft was made.
    """
    _require_editor(actor)
    quote = _locked_quote(actor, quote)
    check_version(record=quote, version=version)
    _refuse_status(quote, [QuoteStatus.DRAFT], _("issued"))
    today = timezone.localdate()
    if quote.issued_on < today:
        raise ApplicationError(
            _(
                "This quote is dated %(date)s and prices are valid on the quote's date: re-price "
                "it for today before issuing it."
            )
            % {"date": quote.issued_on.isoformat()},
            code="stale_prices",
            status=409,
        )
    _refuse_expired(quote)
    lines = list(quote.lines.select_related("product"))
    if not lines:
        raise ApplicationError(_("Add at least one line before issuing the quote."))
    gone = [
        line
        for line in lines
        if line.product is None or line.product.status == ProductStatus.DISCONTINUED
    ]
    if gone:
        raise ApplicationError(
            _("No longer sold: %(lines)s. Remove these lines before issuing the quote.")
            % {"lines": ", ".join(f"{line.sku} {line.description}" for line in gone)},
            status=409,
        )
    needs = quote_needs(quote)
    before = quote.status
    if not breaches(authority_for(actor), needs):
        quote.status = QuoteStatus.APPROVED
        _bump(quote, ["status"])
        _audit(actor, "orders.quote.issued", quote, changes={"status": [before, quote.status]})
        return quote
    request = approval_request_create(
        actor=actor,
        kind=QUOTE_KIND,
        title=_quote_title(quote),
        proposal={"quote": quote.pk, "number": quote.display_number},
        needs=needs,
        account=quote.account,
        subject_key=f"quote:{quote.pk}",
        reason=reason,
    )
    quote.status = QuoteStatus.AWAITING_APPROVAL
    quote.approval = request
    _bump(quote, ["status", "approval"])
    _audit(
        actor,
        "orders.quote.submitted",
        quote,
        changes={"status": [before, quote.status]},
        note=reason,
    )
    return quote


def _close_open_approval(actor: User, quote: Quote, comment: str) -> None:
    """Withdraw the quote's open approval request (only its requester may)."""
    if quote.approval_id is None:
        return
    request = ApprovalRequest.objects.filter(pk=quote.approval_id).first()
    if request is None or request.status not in OPEN_STATUSES:
        return
    if request.requester_id != actor.pk:
        raise PermissionDenied(
            _("Request #%(n)s by %(who)s is still open for this quote: only they can withdraw it.")
            % {"n": request.pk, "who": request.requester}
        )
    approval_withdraw(actor=actor, request=request, comment=comment)


@transaction.atomic
def quote_reopen(*, actor: User, quote: Quote, version: int | None = None) -> Quote:
    """Back to draft a quote waiting for approval (to change it after a rejection, or before
    the approver decides: the open request is withdrawn)."""
    _require_editor(actor)
    quote = _locked_quote(actor, quote)
    check_version(record=quote, version=version)
    _refuse_status(quote, [QuoteStatus.AWAITING_APPROVAL], _("made a draft again"))
    _close_open_approval(actor, quote, _("The quote goes back to draft to be changed."))
    before = quote.status
    quote.status = QuoteStatus.DRAFT
    quote.approval = None
    _bump(quote, ["status", "approval"])
    _audit(actor, "orders.quote.reopened", quote, changes={"status": [before, quote.status]})
    return quote


@transaction.atomic
def quote_mark_sent(*, actor: User, quote: Quote, version: int | None = None) -> Quote:
    """Record that the quote went to the customer (by mail from Tokui, by hand, by fax)."""
    _require_editor(actor)
    quote = _locked_quote(actor, quote)
    check_version(record=quote, version=version)
    _refuse_status(quote, SENDABLE, _("sent"))
    _refuse_expired(quote)
    before = quote.status
    quote.status = QuoteStatus.SENT
    quote.sent_at = timezone.now()
    _bump(quote, ["status", "sent_at"])
    _audit(actor, "orders.quote.sent", quote, changes={"status": [before, quote.status]})
    return quote


@transaction.atomic
def quote_accept(*, actor: User, quote: Quote, version: int | None = None) -> Quote:
    """The customer accepted. A quote past its validity cannot be: revise it first."""
    _require_editor(actor)
    quote = _locked_quote(actor, quote)
    check_version(record=quote, version=version)
    _refuse_status(quote, DECIDABLE, _("accepted"))
    _refuse_expired(quote)
    before = quote.status
    quote.status = QuoteStatus.ACCEPTED
    quote.decided_at = timezone.now()
    _bump(quote, ["status", "decided_at"])
    _audit(actor, "orders.quote.accepted", quote, changes={"status": [before, quote.status]})
    return quote


@transaction.atomic
def quote_decline(*, actor: User, quote: Quote, reason: str, version: int | None = None) -> Quote:
    """The customer declined; say why (price, timing, a competitor…)."""
    _require_editor(actor)
    quote = _locked_quote(actor, quote)
    check_version(record=quote, version=version)
    _refuse_status(quote, DECIDABLE, _("declined"))
    errors = ErrorCollector()
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        errors.add("reason", _("Say why the customer declined, so the next quote can do better."))
    elif len(reason) > 4000 or "\x00" in reason:
        errors.add("reason", _("At most %(n)d characters, please.") % {"n": 4000})
    check_plain_text("reason", reason, errors)
    errors.raise_if_any()
    before = quote.status
    quote.status = QuoteStatus.DECLINED
    quote.decided_at = timezone.now()
    quote.decline_reason = reason
    _bump(quote, ["status", "decided_at", "decline_reason"])
    _audit(
        actor,
        "orders.quote.declined",
        quote,
        changes={"status": [before, quote.status]},
        note=reason,
    )
    return quote


@transaction.atomic
def quote_withdraw(
    *, actor: User, quote: Quote, reason: str = "", version: int | None = None
) -> Quote:
    """We take the quote back (no longer offered); its open approval request is withdrawn."""
    _require_editor(actor)
    quote = _locked_quote(actor, quote)
    check_version(record=quote, version=version)
    _refuse_status(quote, WITHDRAWABLE, _("withdrawn"))
    reason = reason.strip()[:4000] if isinstance(reason, str) else ""
    _close_open_approval(actor, quote, _("The quote was withdrawn."))
    before = quote.status
    quote.status = QuoteStatus.WITHDRAWN
    _bump(quote, ["status"])
    _audit(
        actor,
        "orders.quote.withdrawn",
        quote,
        changes={"status": [before, quote.status]},
        note=reason,
    )
    return quote


@transaction.atomic
def quote_revise(*, actor: User, quote: Quote, version: int | None = None) -> Quote:
    """A new draft with the same number and the next revision, its lines priced again today
    (an offer stays where it is still below the new price); the old version is kept, superseded.

    Lines whose product is gone or discontinued are left out; without any line left the
    revision is refused.
    """
    _require_editor(actor)
    old = _locked_quote(actor, quote)
    check_version(record=old, version=version)
    _refuse_status(old, REVISABLE, _("revised"))
    if Quote.objects.filter(number=old.number, revision__gt=old.revision).exists():
        raise Conflict(_("This quote was already revised: open its latest version."))
    _close_open_approval(actor, old, _("Replaced by a revision of the quote."))
    today = timezone.localdate()
    rows = []
    for line in old.lines.select_related("product").order_by("position"):
        if line.product is None or line.product.status == ProductStatus.DISCONTINUED:
            continue
        row: dict[str, Any] = {"product": line.product_id, "quantity": line.quantity}
        if line.product is not None and line.description != line.product.name:
            row["description"] = line.description
        rows.append((row, line.unit_price if line.unit_price < line.engine_price else None))
    if not rows:
        raise ApplicationError(
            _("None of the quoted products is sold any more: make a new quote instead.")
        )
    # Price at today's engine price first, then keep each old offer that is still lower.
    priced = price_lines(actor=actor, account=old.account, lines=[r for r, _o in rows], on=today)
    for found, (_row, offer) in zip(priced, rows, strict=True):
        if offer is not None and offer < found.engine_price:
            found.unit_price = offer
    length = old.valid_until - old.issued_on
    new = Quote(
        account=old.account,
        contact=old.contact,
        addressee_department=old.addressee_department,
        honorific=old.honorific,
        number=old.number,
        revision=old.revision + 1,
        previous=old,
        title=old.title,
        owner=old.owner,
        issued_on=today,
        valid_until=today + length,
        payment_terms=old.payment_terms,
        delivery_terms=old.delivery_terms,
        notes=old.notes,
        language=old.language,
        era_dates=old.era_dates,
        created_by=actor,
        regarding_type_id=old.regarding_type_id,
        regarding_id=old.regarding_id,
    )
    new.save()
    _write_lines(new, priced)
    new.save(update_fields=["currency", "subtotal", "tax", "total"])
    before = old.status
    old.status = QuoteStatus.SUPERSEDED
    _bump(old, ["status"])
    _audit(
        actor,
        "orders.quote.superseded",
        old,
        changes={"status": [before, old.status]},
        note=new.display_number,
    )
    _audit(
        actor,
        "orders.quote.revised",
        new,
        changes={
            "revision": [old.revision, new.revision],
            "total": [str(old.total), str(new.total)],
        },
        note=old.display_number,
    )
    return new


# -- e-mail ----------------------------------------------------------------------------------


def _safe(text: str) -> str:
    # The mail's text goes through the template placeholders ({name}): keep braces literal.
    return text.replace("{", "｛").replace("}", "｝")


def quote_email_defaults(*, quote: Quote, sender: User) -> tuple[str, str]:
    """The subject and text of the quote's mail, in the quote's language."""
    from tokui.orders.documents import document_date

    company = company_profile_get()
    valid = document_date(quote.valid_until, quote)
    if quote.language == DocumentLanguage.EN:
        subject = f"Quotation {quote.display_number}: {_safe(quote.title)}"
        body = (
            "Dear {honorific_name},\n\n"
            f"Thank you for your enquiry. Please find attached our quotation "
            f"{quote.display_number} for “{_safe(quote.title)}”, valid until {valid}.\n\n"
            "Please do not hesitate to contact us with any questions.\n\n"
            "Best regards,\n{sender_name}"
            + (f"\n{_safe(company.name_en or company.name)}" if company.name else "")
        )
        return subject, body
    person = quote.contact
    to_line = (
        " ".join(p for p in (person.department, person.full_name) if p) + " 様"
        if person is not None
        else "{honorific_name}"
    )
    subject = f"御見積書のご送付（{quote.display_number}）{_safe(quote.title)}"
    body = (
        "{account_name}\n" + _safe(to_line) + "\n\n"
        "いつもお世話になっております。\n"
        + (f"{_safe(company.name)}の" if company.name else "")
        + "{sender_name}でございます。\n\n"
        f"「{_safe(quote.title)}」の御見積書（{quote.display_number}）をお送りいたします。\n"
        "添付のPDFをご確認くださいますよう、お願い申し上げます。\n"
        f"有効期限：{valid}\n\n"
        "ご不明な点がございましたら、お気軽にお問い合わせください。\n"
        "今後ともよろしくお願いいたします。\n\n{sender_name}"
    )
    return subject, body


@transaction.atomic
def quote_email_send(
    *,
    actor: User,
    quote: Quote,
    subject: str = "",
    body: str = "",
    version: int | None = None,
) -> Interaction:
    """E-mail the quote's PDF to its contact from Tokui and mark it sent.

    The mail lands on the account's timeline as an outbound e-mail and is delivered after
    commit (``activities.mail.outbound``). Refused: a quote not ready to send, an expired one,
    one addressed to the company (no person), a contact without an e-mail address.
    """
    from tokui.orders.documents import quote_filename, quote_pdf

    _require_editor(actor)
    locked = _locked_quote(actor, quote)
    check_version(record=locked, version=version)
    _refuse_status(locked, SENDABLE, _("sent"))
    _refuse_expired(locked)
    if locked.contact is None:
        raise ApplicationError(
            _(
                "This quote is addressed to the company (御中), not to a person: revise it to "
                "address a contact, or send the PDF yourself."
            ),
            field="to",
        )
    default_subject, default_body = quote_email_defaults(quote=locked, sender=actor)
    pdf = quote_pdf(locked)
    attachment = ContentFile(pdf, name=quote_filename(locked))
    interaction = email_send(
        actor=actor,
        contact=locked.contact,
        subject=subject.strip() or default_subject,
        body=body.strip() or default_body,
        language=locked.language,
        attachments=[attachment],
    )
    quote_mark_sent(actor=actor, quote=locked)
    return interaction


# -- the approval kind "quote" ---------------------------------------------------------------


def _proposal_quote_id(request: ApprovalRequest) -> int:
    value = (request.proposal or {}).get("quote") if isinstance(request.proposal, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _apply_quote_approval(request: ApprovalRequest, approver: User) -> None:
    quote = Quote.objects.select_for_update().filter(pk=_proposal_quote_id(request)).first()
    if quote is None:
        raise NotFound(_("The quote no longer exists."))
    if quote.status != QuoteStatus.AWAITING_APPROVAL or quote.approval_id != request.pk:
        raise Conflict(
            _("Quote %(number)s is no longer waiting for this approval (it is %(status)s).")
            % {"number": quote.display_number, "status": _status_label(quote.status)}
        )
    before = quote.status
    quote.status = QuoteStatus.APPROVED
    _bump(quote, ["status"])
    _audit(
        approver,
        "orders.quote.approved",
        quote,
        changes={"status": [before, quote.status]},
        note=f"#{request.pk}",
    )


def _pct(value: Decimal | None) -> str | None:
    return None if value is None else f"{value.quantize(Decimal('0.1')).normalize():f}%"


def describe_priced_lines(
    lines: Any, *, currency: str, subtotal: Decimal, total_label: str, viewer: User
) -> list[dict[str, Any]]:
    """What an approver sees of a quote's or an order's lines: a row per line (the price found
    vs the one proposed, discount off list, margin for those who see costs) and the total."""
    sees_cost = viewer.role in ROLES_SEEING_COST
    rows = []
    for line in lines:
        cost = line.product.cost if line.product else None
        rows.append(
            {
                "kind": _("Line %(n)d") % {"n": line.position},
                "label": f"{line.sku} {line.description} × {line.quantity}",
                "list_price": format_money(line.list_price, currency),
                "current": format_money(line.engine_price, currency),
                "proposed": format_money(line.unit_price, currency),
                "discount": _pct(line_discount(line.unit_price, line.list_price)),
                "margin": _pct(line_margin(line.unit_price, cost)) if sees_cost else None,
                "changed": line.unit_price < line.engine_price,
            }
        )
    rows.append(
        {
            "kind": _("Total"),
            "label": total_label,
            "list_price": "",
            "current": "",
            "proposed": format_money(subtotal, currency),
            "discount": None,
            "margin": None,
            "changed": False,
        }
    )
    return rows


def _describe_quote(request: ApprovalRequest, viewer: User) -> list[dict[str, Any]]:
    quote = Quote.objects.filter(pk=_proposal_quote_id(request)).first()
    if quote is None:
        return []
    return describe_priced_lines(
        quote.lines.select_related("product").order_by("position"),
        currency=quote.currency,
        subtotal=quote.subtotal,
        total_label=_("Quote %(number)s (net, before tax)") % {"number": quote.display_number},
        viewer=viewer,
    )


def _request_title(request: ApprovalRequest) -> str:
    quote = Quote.objects.select_related("account").filter(pk=_proposal_quote_id(request)).first()
    return _quote_title(quote) if quote is not None else request.title


approval_kinds.register(
    QUOTE_KIND,
    apply=_apply_quote_approval,
    describe=_describe_quote,
    label=gettext_lazy("Quote"),
    title=_request_title,
)
