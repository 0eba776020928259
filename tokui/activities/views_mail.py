"""Mail pages: write to a contact (with a template, attachments and a preview), keep the
e-mail templates, see the mailboxes that ``tokui mail fetch`` reads. Thin: the mail services
decide."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tokui.accounts.models import Contact
from tokui.accounts.selectors import contact_get
from tokui.activities.forms_mail import EmailComposeForm, EmailTemplateForm
from tokui.activities.mail import inbound, outbound
from tokui.activities.mail.templates import (
    PLACEHOLDERS,
    email_template_create,
    email_template_delete,
    email_template_get,
    email_template_list,
    email_template_may_manage,
    email_template_update,
)
from tokui.activities.selectors import interaction_get
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.views import form_status, is_htmx, maps_service_errors
from tokui.users.models import User


def _user(request: HttpRequest) -> User:
    """The signed-in user (the sign-in middleware let only them through)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied(_("Sign in first."))
    return user


def contact_email_action(request: HttpRequest, contact: Contact) -> dict[str, Any] | None:
    """The "Send e-mail" button of the contact page, for those who may send."""
    if not outbound.mail_may_send(_user(request)) or contact.archived_at is not None:
        return None
    return {"contact": contact}


def _template_initial(request: HttpRequest) -> dict[str, Any]:
    raw = request.GET.get("template", "")
    if not raw.isdecimal():
        return {}
    template = email_template_get(viewer=_user(request), template_id=int(raw))
    return {
        "template": template.pk,
        "language": template.language,
        "subject": template.subject,
        "body": template.body,
    }


@maps_service_errors
@require_http_methods(["GET", "POST"])
def email_compose(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = contact_get(viewer=_user(request), contact_id=contact_id)
    if not outbound.mail_may_send(_user(request)):
        raise PermissionDenied(_("Your role cannot send e-mail from Tokui."))
    templates = email_template_list(viewer=_user(request))
    preview = None
    language = "ja" if (get_language() or "").startswith("ja") else "en"
    if request.method == "POST":
        form = EmailComposeForm(request.POST, request.FILES, templates=templates)
        if form.is_valid():
            data = form.cleaned_data
            kwargs = {
                "actor": _user(request),
                "contact": contact,
                "subject": data["subject"],
                "body": data["body"],
                "language": data["language"],
            }
            try:
                if request.POST.get("action") == "preview":
                    preview = outbound.email_compose(**kwargs)
                else:
                    interaction = outbound.email_send(
                        **kwargs, attachments=data.get("attachments") or []
                    )
            except ApplicationError as exc:
                if exc.field == "to" or "to" in exc.errors:
                    messages.error(request, exc.errors.get("to", [exc.message])[0])
                form.add_service_error(exc)
            else:
                if preview is None:
                    return _after_send(request, interaction.pk, contact)
    else:
        if is_htmx(request) and request.GET.get("template") == "":
            return HttpResponse(status=204)  # "no template": keep what was typed
        initial = {"language": language, **_template_initial(request)}
        form = EmailComposeForm(initial=initial, templates=templates)
    template = "activities/mail/compose.html"
    if is_htmx(request) and request.method == "POST" and request.POST.get("action") == "preview":
        template += "#preview"
    elif is_htmx(request) and request.GET.get("template") is not None:
        template += "#template-fields"
    return TemplateResponse(
        request,
        template,
        {
            "contact": contact,
            "form": form,
            "preview": preview,
            "has_templates": templates.exists(),
            "may_manage": email_template_may_manage(_user(request)),
        },
        status=form_status(form),
    )


def _after_send(request: HttpRequest, interaction_id: int, contact: Contact) -> HttpResponse:
    # The mailer ran after the commit, within this request: say how it went.
    interaction = interaction_get(viewer=_user(request), interaction_id=interaction_id)
    if interaction.delivery_status == outbound.DeliveryStatus.SENT:
        messages.success(request, _("E-mail sent to %(to)s.") % {"to": interaction.email_to})
    elif interaction.delivery_status == outbound.DeliveryStatus.FAILED:
        messages.error(
            request,
            _(
                "The e-mail is on the timeline but could not be sent: %(error)s. "
                "Send it again from the timeline when the mail server is back."
            )
            % {"error": interaction.delivery_error},
        )
    else:
        messages.success(request, _("E-mail queued for %(to)s.") % {"to": interaction.email_to})
    return redirect("accounts:contact_detail", contact_id=contact.pk)


@maps_service_errors
@require_POST
def email_resend(request: HttpRequest, interaction_id: int) -> HttpResponse:
    interaction = interaction_get(viewer=_user(request), interaction_id=interaction_id)
    try:
        outbound.email_retry(actor=_user(request), interaction=interaction)
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    else:
        return _after_send_interaction(request, interaction.pk)
    return redirect("activities:interaction_detail", interaction_id=interaction.pk)


def _after_send_interaction(request: HttpRequest, interaction_id: int) -> HttpResponse:
    interaction = interaction_get(viewer=_user(request), interaction_id=interaction_id)
    if interaction.delivery_status == outbound.DeliveryStatus.SENT:
        messages.success(request, _("E-mail sent to %(to)s.") % {"to": interaction.email_to})
    else:
        messages.error(
            request,
            _("The e-mail could not be sent: %(error)s") % {"error": interaction.delivery_error},
        )
    return redirect("activities:interaction_detail", interaction_id=interaction.pk)


# --- templates --------------------------------------------------------------------------------


def _require_manager(request: HttpRequest) -> None:
    if not email_template_may_manage(_user(request)):
        raise PermissionDenied(_("Only administrators and heads of sales manage e-mail templates."))


@maps_service_errors
@require_GET
def template_index(request: HttpRequest) -> TemplateResponse:
    return TemplateResponse(
        request,
        "activities/mail/template_index.html",
        {
            "templates": email_template_list(viewer=_user(request)),
            "may_manage": email_template_may_manage(_user(request)),
            "placeholders": [("{" + k + "}", v) for k, v in PLACEHOLDERS.items()],
        },
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def template_create(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = EmailTemplateForm(request.POST or None, initial={"language": "ja"})
    if request.method == "POST" and form.is_valid():
        try:
            template = email_template_create(actor=_user(request), data=form.service_data())
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Template “%(name)s” saved.") % {"name": template.name})
            return redirect("activities:email_templates")
    return _template_form(request, form, None)


@maps_service_errors
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    _require_manager(request)
    template = email_template_get(viewer=_user(request), template_id=template_id)
    initial = {
        "name": template.name,
        "language": template.language,
        "subject": template.subject,
        "body": template.body,
        "updated_at": template.updated_at.isoformat(),
    }
    form = EmailTemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            template = email_template_update(
                actor=_user(request),
                template=template,
                data=form.service_data(),
                updated_at=form.cleaned_data.get("updated_at") or None,
            )
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Template “%(name)s” saved.") % {"name": template.name})
            return redirect("activities:email_templates")
    return _template_form(request, form, template)


def _template_form(request: HttpRequest, form: EmailTemplateForm, template: Any) -> HttpResponse:
    return TemplateResponse(
        request,
        "activities/mail/template_form.html",
        {"form": form, "template": template},
        status=form_status(form),
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def template_delete(request: HttpRequest, template_id: int) -> HttpResponse:
    _require_manager(request)
    template = email_template_get(viewer=_user(request), template_id=template_id)
    if request.method == "POST":
        email_template_delete(actor=_user(request), template=template)
        messages.success(request, _("Template “%(name)s” deleted.") % {"name": template.name})
        return redirect("activities:email_templates")
    return TemplateResponse(request, "activities/mail/template_delete.html", {"template": template})


# --- mailboxes --------------------------------------------------------------------------------


@maps_service_errors
@require_GET
def mailbox_index(request: HttpRequest) -> TemplateResponse:
    """What ``tokui mail fetch`` reads and how it went; administrators only (it shows hosts)."""
    return TemplateResponse(
        request,
        "activities/mail/mailbox_index.html",
        {"mailboxes": inbound.mailbox_list(viewer=_user(request))},
    )
