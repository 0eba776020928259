"""Invoice pages: the searchable list, an invoice with its payments, corrections and credit
notes, issuing one from an order or for an account's closing period, its PDF and its e-mail.

Thin: parse, call a selector or a service (tokui.orders.invoices, tokui.orders.invoice_mail),
render. Whoever may see the account sees its invoices; those who may edit accounts issue them
and record payments (support staff read them). Issued invoices are never edited.
"""

import datetime
from decimal import Decimal
from typing import Any, cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tokui.accounts.models import Account
from tokui.accounts.selectors import account_get
from tokui.activities.pdf import pdf_response
from tokui.core.audit import audit_for_target
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.money import format_money, parse_money
from tokui.core.pagination import page_slice, parse_positive_int
from tokui.core.registry import audit_action_labels
from tokui.core.views import form_status, is_htmx, maps_service_errors
from tokui.orders import invoices as services
from tokui.orders.constants import DocumentLanguage, Honorific, InvoiceKind
from tokui.orders.forms_invoices import (
    CorrectionForm,
    CreditNoteForm,
    InvoiceEmailForm,
    InvoiceFilterForm,
    PaymentForm,
    PeriodForm,
    new_key,
)
from tokui.orders.invoice_mail import (
    invoice_email_defaults,
    invoice_email_recipients,
    invoice_email_send,
    invoice_in_language,
)
from tokui.orders.models import Invoice
from tokui.orders.selectors_orders import order_get
from tokui.users.models import User

NAV = {"nav_section": "invoices"}
TEMPLATES = "orders/invoices/"
# How many form keys a session remembers (a second click of the same form does nothing).
KEYS_REMEMBERED = 50


def _viewer(request: HttpRequest) -> User:
    return cast(User, request.user)


def _may_edit(viewer: User) -> bool:
    return bool(viewer.is_active and viewer.may_edit_accounts)


def _require_editor(request: HttpRequest) -> None:
    if not _may_edit(_viewer(request)):
        raise PermissionDenied(_("Your role can read invoices but not issue them."))


def _seen(request: HttpRequest, key: str) -> bool:
    """Whether this form key was already used in this session (and remember it if not)."""
    if not key:
        return False
    used = list(request.session.get("invoice_form_keys", []))
    if key in used:
        return True
    request.session["invoice_form_keys"] = [*used, key][-KEYS_REMEMBERED:]
    return False


def _forget(request: HttpRequest, key: str) -> None:
    request.session["invoice_form_keys"] = [
        k for k in request.session.get("invoice_form_keys", []) if k != key
    ]


def _is_overdue(invoice: Invoice, today: datetime.date) -> bool:
    return (
        invoice.kind == InvoiceKind.INVOICE
        and invoice.status in services.OPEN_STATUSES
        and invoice.due_on < today
    )


# -- the list --------------------------------------------------------------------------------


@maps_service_errors
def invoice_index(request: HttpRequest) -> TemplateResponse:
    viewer = _viewer(request)
    today = timezone.localdate()
    form = InvoiceFilterForm(request.GET or None)
    values = form.values() if request.GET else {}
    search = (values.get("q") or "").strip()
    qs = services.invoice_list(
        viewer=viewer,
        date_from=values.get("date_from"),
        date_to=values.get("date_to"),
        amount_min=values.get("amount_min"),
        amount_max=values.get("amount_max"),
        status=values.get("status") or None,
        kind=values.get("kind") or None,
        q=search,
        overdue_on=today if values.get("overdue") else None,
    )
    page = page_slice(qs, page=parse_positive_int(request.GET.get("page"), 1, 10**6))
    for invoice in page.items:
        invoice.overdue = _is_overdue(invoice, today)  # type: ignore[attr-defined]
        invoice.balance = (  # type: ignore[attr-defined]
            invoice.total + invoice.credit_notes_total - invoice.paid  # type: ignore[attr-defined]
            if invoice.kind == InvoiceKind.INVOICE
            else Decimal(0)
        )
    template = TEMPLATES + "invoice_index.html"
    if is_htmx(request):
        template += "#results"
    context = {
        "page": page,
        "form": form,
        "filtered": any(v not in (None, "", False) for v in values.values()),
        **NAV,
    }
    return TemplateResponse(request, template, context)


# -- one invoice -----------------------------------------------------------------------------


def _addressee(invoice: Invoice) -> str:
    """The addressee as the Japanese invoice prints it (one rule: ``invoice_addressee``)."""
    parts = services.invoice_addressee(invoice)
    names = (parts["company"], parts["department"], parts["person"], parts["honorific"])
    return " ".join(p for p in names if p)


def _history(invoice: Invoice) -> list[dict[str, Any]]:
    return [
        {"event": e, "label": audit_action_labels.get(e.action) or e.action}
        for e in audit_for_target(target=invoice, limit=50)
    ]


def _detail_context(request: HttpRequest, invoice: Invoice, **extra: Any) -> dict[str, Any]:
    viewer = _viewer(request)
    today = timezone.localdate()
    may_edit = _may_edit(viewer)
    related = list(invoice.corrections.order_by("issued_on", "pk"))
    open_invoice = invoice.kind == InvoiceKind.INVOICE and invoice.status in services.OPEN_STATUSES
    unpaid = invoice.paid == 0
    balance = services.owed(invoice) if invoice.kind == InvoiceKind.INVOICE else Decimal(0)
    context: dict[str, Any] = {
        "invoice": invoice,
        "account": invoice.account,
        "lines": list(invoice.lines.order_by("position")),
        "payments": list(invoice.payments.order_by("paid_on", "pk")),
        "addressee": _addressee(invoice),
        "balance": balance,
        "credited": services.credited(invoice) if invoice.kind == InvoiceKind.INVOICE else 0,
        "overdue": _is_overdue(invoice, today),
        "credit": invoice.kind == InvoiceKind.CREDIT_NOTE,
        "corrected_by": [i for i in related if i.kind == InvoiceKind.INVOICE],
        "credit_notes": [i for i in related if i.kind == InvoiceKind.CREDIT_NOTE],
        "may_edit": may_edit,
        "may_pay": may_edit and open_invoice,
        "may_correct": may_edit and open_invoice and unpaid,
        "may_credit": may_edit
        and invoice.kind == InvoiceKind.INVOICE
        and invoice.status != "corrected",
        "history": _history(invoice),
        "today": today,
        **NAV,
    }
    if "payment_form" not in extra:
        context["payment_form"] = PaymentForm(
            initial={
                "key": new_key(),
                "paid_on": today,
                "amount": format_money(balance, invoice.currency),
            }
        )
    if "correction_form" not in extra:
        context["correction_form"] = CorrectionForm(invoice=invoice, initial={"key": new_key()})
    if "credit_form" not in extra:
        context["credit_form"] = CreditNoteForm(invoice=invoice, initial={"key": new_key()})
    context.update(extra)
    return context


@maps_service_errors
def invoice_detail(request: HttpRequest, invoice_id: int) -> TemplateResponse:
    invoice = services.invoice_get(viewer=_viewer(request), invoice_id=invoice_id)
    return TemplateResponse(
        request, TEMPLATES + "invoice_detail.html", _detail_context(request, invoice)
    )


@maps_service_errors
def invoice_pdf_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = services.invoice_get(viewer=_viewer(request), invoice_id=invoice_id)
    printed = invoice_in_language(invoice, request.GET.get("lang"))
    return pdf_response(services.invoice_pdf(printed), filename=services.invoice_filename(printed))


def _form_error(
    request: HttpRequest, invoice: Invoice, name: str, form: Any, open_name: str
) -> TemplateResponse:
    context = _detail_context(request, invoice, **{name: form, open_name: True})
    return TemplateResponse(request, TEMPLATES + "invoice_detail.html", context, status=422)


@maps_service_errors
@require_POST
def invoice_payment(request: HttpRequest, invoice_id: int) -> HttpResponse:
    viewer = _viewer(request)
    invoice = services.invoice_get(viewer=viewer, invoice_id=invoice_id)
    _require_editor(request)
    form = PaymentForm(request.POST)
    if not form.is_valid():
        return _form_error(request, invoice, "payment_form", form, "payment_open")
    data = form.cleaned_data
    try:
        services.payment_record(  # a second click names the same key: one payment
            actor=viewer,
            invoice=invoice,
            amount=parse_money(data["amount"], invoice.currency, field="amount"),
            paid_on=data["paid_on"],
            method=data["method"],
            reference=data["reference"],
            idempotency_key=data["key"],
        )
    except ApplicationError as exc:
        form.add_service_error(exc)
        return _form_error(request, invoice, "payment_form", form, "payment_open")
    messages.success(request, _("Payment recorded on %(number)s.") % {"number": invoice.number})
    return redirect("orders:invoice_detail", invoice_id=invoice.pk)


@maps_service_errors
@require_POST
def invoice_correction(request: HttpRequest, invoice_id: int) -> HttpResponse:
    viewer = _viewer(request)
    invoice = services.invoice_get(viewer=viewer, invoice_id=invoice_id)
    _require_editor(request)
    form = CorrectionForm(request.POST, invoice=invoice)
    if not form.is_valid():
        return _form_error(request, invoice, "correction_form", form, "correction_open")
    key = form.cleaned_data["key"]
    if _seen(request, key):
        return redirect("orders:invoice_detail", invoice_id=invoice.pk)
    try:
        new = services.invoice_correct(
            actor=viewer,
            invoice=invoice,
            quantities=form.quantities(),
            contact=invoice.contact_id if invoice.honorific == Honorific.SAMA else None,
            notes=form.cleaned_data["reason"],
        )
    except ApplicationError as exc:
        _forget(request, key)
        form.add_service_error(exc)
        return _form_error(request, invoice, "correction_form", form, "correction_open")
    messages.success(
        request,
        _("%(new)s replaces %(old)s.") % {"new": new.number, "old": invoice.number},
    )
    return redirect("orders:invoice_detail", invoice_id=new.pk)


@maps_service_errors
@require_POST
def invoice_credit_note(request: HttpRequest, invoice_id: int) -> HttpResponse:
    viewer = _viewer(request)
    invoice = services.invoice_get(viewer=viewer, invoice_id=invoice_id)
    _require_editor(request)
    form = CreditNoteForm(request.POST, invoice=invoice)
    if not form.is_valid():
        return _form_error(request, invoice, "credit_form", form, "credit_open")
    try:
        note = services.credit_note_issue(  # a second click names the same key: one note
            actor=viewer,
            invoice=invoice,
            lines=form.quantities(),
            reason=form.cleaned_data["reason"],
            idempotency_key=form.cleaned_data["key"],
        )
    except ApplicationError as exc:
        form.add_service_error(exc)
        return _form_error(request, invoice, "credit_form", form, "credit_open")
    messages.success(request, _("Credit note %(number)s issued.") % {"number": note.number})
    return redirect("orders:invoice_detail", invoice_id=note.pk)


@maps_service_errors
@require_http_methods(["GET", "POST"])
def invoice_email(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """Compose the invoice's mail (the PDF attached) to a contact of the account, send it."""
    viewer = _viewer(request)
    invoice = services.invoice_get(viewer=viewer, invoice_id=invoice_id)
    _require_editor(request)
    contacts = invoice_email_recipients(invoice)
    language = request.POST.get("language") or request.GET.get("lang") or invoice.language
    language = language if language in DocumentLanguage.values else invoice.language
    subject, body = invoice_email_defaults(invoice=invoice, sender=viewer, language=language)
    initial = {
        "to": contacts[0].pk if contacts else None,
        "language": language,
        "subject": subject,
        "body": body,
    }
    form = InvoiceEmailForm(request.POST or None, contacts=contacts, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            invoice_email_send(
                actor=viewer,
                invoice=invoice,
                to=form.cleaned_data["to"],
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                language=form.cleaned_data["language"],
            )
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(
                request, _("Invoice %(number)s was e-mailed.") % {"number": invoice.number}
            )
            return redirect("orders:invoice_detail", invoice_id=invoice.pk)
    printed = invoice_in_language(invoice, language)
    return TemplateResponse(
        request,
        TEMPLATES + "invoice_email.html",
        {
            "invoice": invoice,
            "form": form,
            "contacts": contacts,
            "language": language,
            "filename": services.invoice_filename(printed),
            **NAV,
        },
        status=form_status(form),
    )


# -- issuing ---------------------------------------------------------------------------------


@maps_service_errors
@require_POST
def invoice_issue_order(request: HttpRequest, order_id: int) -> HttpResponse:
    """Invoice the order's delivered, not yet invoiced lines; a refusal goes back to the order."""
    viewer = _viewer(request)
    order = order_get(viewer=viewer, order_id=order_id)
    _require_editor(request)
    language = request.POST.get("language", DocumentLanguage.JA)
    try:
        invoice = services.invoice_issue(
            actor=viewer,
            account=order.account_id,
            orders=[order],
            language=language if language in DocumentLanguage.values else DocumentLanguage.JA,
            idempotency_key=request.POST.get("key", "")[:100],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("orders:order_detail", order_id=order.pk)
    messages.success(request, _("Invoice %(number)s issued.") % {"number": invoice.number})
    return redirect("orders:invoice_detail", invoice_id=invoice.pk)


def _preview(viewer: User, account: Account, form: PeriodForm) -> services.Preview | None:
    data = form.cleaned_data
    try:
        return services.invoice_preview(
            actor=viewer,
            account=account,
            period_end=data["period_end"],
            language=data["language"],
            contact=data["contact"],
        )
    except ApplicationError as exc:
        form.add_service_error(exc)
    return None


@maps_service_errors
@require_http_methods(["GET", "POST"])
def invoice_issue_period(request: HttpRequest, account_id: int) -> HttpResponse:
    """The closing-period invoice: a preview of what it bills (exactly what the service would
    issue), and "Issue the invoice" to issue it."""
    viewer = _viewer(request)
    account = account_get(viewer=viewer, account_id=account_id)
    _require_editor(request)
    today = timezone.localdate()
    contacts = list(account.contacts.filter(archived_at=None).order_by("sort_key", "pk"))
    source: Any = request.POST if request.method == "POST" else request.GET
    if not source.get("period_end"):
        source = {
            "key": new_key(),
            "period_end": services.last_closing_day(account, today).isoformat(),
            "language": DocumentLanguage.JA,
        }
    form = PeriodForm(source, contacts=contacts)
    preview = None
    if form.is_valid():
        data = form.cleaned_data
        if request.method == "POST" and "confirm" in request.POST:
            try:
                invoice = services.invoice_issue(
                    actor=viewer,
                    account=account,
                    period_end=data["period_end"],
                    language=data["language"],
                    contact=data["contact"],
                    idempotency_key=data["key"],
                )
            except ApplicationError as exc:
                form.add_service_error(exc)
            else:
                messages.success(
                    request, _("Invoice %(number)s issued.") % {"number": invoice.number}
                )
                return redirect("orders:invoice_detail", invoice_id=invoice.pk)
        else:
            preview = _preview(viewer, account, form)
    return TemplateResponse(
        request,
        TEMPLATES + "invoice_period.html",
        {"account": account, "form": form, "preview": preview, **NAV},
        status=422 if form.errors and request.method == "POST" else 200,
    )
