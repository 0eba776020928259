"""Sending an e-mail to a contact from Tokui.

The mail is recorded first (an e-mail interaction, outbound, ``delivery_status`` "queued", its
attachments stored) and handed to the configured mailer (``MAILERS["default"]``) once the
transaction has committed; the interaction then says "sent" or "failed" with the server's
error, which the timeline shows. The generated Message-ID is stored, so a customer's reply
(In-Reply-To) is threaded to the same account when the mailbox is fetched.

Consent: ``marketing_consent`` is about marketing (campaigns, newsletters, 特定電子メール法).
A one-to-one business mail to a contact (a quote, a thank-you after a meeting) is not marketing,
so it is allowed without that consent; the compose page says so next to the contact.

Who may send: anyone who may see the contact and edit accounts, and the service department
(support staff answer customers too).
"""

import logging
import mimetypes
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from typing import IO, Any

from django.conf import settings
from django.core.mail import EmailMessage, make_msgid
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.accounts.models import Account, Contact, account_scope
from tokui.activities.constants import Direction, InteractionKind, InteractionSource
from tokui.activities.mail.templates import placeholder_values, render_placeholders
from tokui.activities.models import Interaction
from tokui.activities.services import AttachmentIn, interaction_record
from tokui.core.audit import audit_record
from tokui.core.exceptions import ApplicationError, NotFound, PermissionDenied
from tokui.core.validation import ErrorCollector
from tokui.users.constants import Role
from tokui.users.models import User

logger = logging.getLogger(__name__)

MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = int(os.environ.get("TOKUI_MAIL_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024))
MAX_ATTACHMENTS_TOTAL_BYTES = 20 * 1024 * 1024
MAX_SUBJECT = 300
MAX_BODY = 50_000
# Programs and scripts: mail filters reject them and customers must not receive them.
BLOCKED_EXTENSIONS = frozenset(
    {
        ".exe", ".com", ".bat", ".cmd", ".scr", ".pif", ".cpl", ".msi", ".msp", ".dll",
        ".js", ".jse", ".vbs", ".vbe", ".wsf", ".wsh", ".hta", ".ps1", ".psm1", ".jar",
        ".sh", ".bash", ".app", ".lnk", ".reg", ".apk", ".iso", ".img", ".vhd", ".scf",
        ".msc", ".gadget", ".inf", ".chm", ".py", ".pl", ".rb",
    }
)  # fmt: skip
# First bytes of executables (Windows PE, ELF, Mach-O) and scripts.
_EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"#!")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class DeliveryStatus:
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


def mail_may_send(user: User) -> bool:
    return user.is_active and (user.may_edit_accounts or user.role == Role.SUPPORT)


def sender_address(user: User) -> str:
    """The user's own address, or the company's sending address when the user has none."""
    return user.email or settings.DEFAULT_FROM_EMAIL


@dataclass
class Draft:
    """A mail rendered for one contact, ready to preview or send."""

    to: str
    from_header: str
    subject: str
    body: str
    attachments: list[tuple[Any, str, str]] = field(default_factory=list)  # file, name, type


def _visible_contact(*, actor: User, contact: Contact) -> Contact:
    found = (
        Contact.objects.visible_to(actor)
        .select_related("account")
        .filter(pk=contact.pk, archived_at=None)
        .first()
    )
    if found is None:
        raise NotFound(_("No such contact."))
    return found


def attachment_name(name: str) -> str:
    """A safe file name for an attachment: no path, no control characters, at most 200 long."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = _CONTROL.sub("", unicodedata.normalize("NFC", base)).strip() or "attachment"
    if len(base) > 200:
        stem, ext = os.path.splitext(base)
        base = stem[: 200 - len(ext[:20])] + ext[:20]
    return base


def _head(file: IO[bytes]) -> bytes:
    file.seek(0)
    head = file.read(8) or b""
    file.seek(0)
    return head


def check_attachments(files: Sequence[Any], errors: ErrorCollector) -> list[tuple[Any, str, str]]:
    """Number, size and type of the files to attach: ``[(file, name, content type)]``."""
    if len(files) > MAX_ATTACHMENTS:
        errors.add(
            "attachments",
            _("Attach at most %(max)d files (you chose %(n)d).")
            % {"max": MAX_ATTACHMENTS, "n": len(files)},
        )
        return []
    accepted = []
    total = 0
    mb = MAX_ATTACHMENT_BYTES // (1024 * 1024)
    for upload in files:
        name = attachment_name(getattr(upload, "name", "") or "")
        ext = os.path.splitext(name)[1].lower()
        size = getattr(upload, "size", None) or 0
        total += size
        if ext in BLOCKED_EXTENSIONS or _head(upload).startswith(_EXECUTABLE_MAGIC):
            errors.add(
                "attachments",
                _("“%(name)s” is a program or script: such files cannot be sent.") % {"name": name},
            )
        elif size > MAX_ATTACHMENT_BYTES:
            errors.add(
                "attachments",
                _("“%(name)s” is larger than %(mb)d MB: attach a smaller file or share a link.")
                % {"name": name, "mb": mb},
            )
        elif size == 0:
            errors.add("attachments", _("“%(name)s” is empty.") % {"name": name})
        else:
            content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            accepted.append((upload, name, content_type))
    if total > MAX_ATTACHMENTS_TOTAL_BYTES and accepted:
        errors.add(
            "attachments",
            _("The files add up to more than %(mb)d MB: send fewer or smaller files.")
            % {"mb": MAX_ATTACHMENTS_TOTAL_BYTES // (1024 * 1024)},
        )
    return accepted


def email_compose(
    *,
    actor: User,
    contact: Contact,
    subject: str,
    body: str,
    language: str = "ja",
    attachments: Sequence[Any] = (),
) -> Draft:
    """Render and check a mail to ``contact`` without sending it (the preview uses it too).

    Raises one ApplicationError listing every problem: no address, an empty or multi-line
    subject (header injection), an unknown placeholder, too long a text, a refused file.
    """
    if not mail_may_send(actor):
        raise PermissionDenied(_("Your role cannot send e-mail from Tokui."))
    contact = _visible_contact(actor=actor, contact=contact)
    errors = ErrorCollector()
    if not contact.email:
        errors.add("to", _("This contact has no e-mail address: add one to the contact first."))
    if contact.account.archived_at is not None:
        errors.add("to", _("This account is archived: restore it before writing to it."))
    subject = subject or ""
    body = (body or "").replace("\r\n", "\n")
    if "\n" in subject or "\r" in subject:
        errors.add("subject", _("A subject is one line: remove the line breaks."))
    values = placeholder_values(contact=contact, sender=actor, language=language)
    rendered_subject = rendered_body = ""
    try:
        rendered_subject = render_placeholders(subject, values, field="subject").strip()
    except ApplicationError as exc:
        errors.add("subject", exc.message)
    try:
        rendered_body = render_placeholders(body, values, field="body")
    except ApplicationError as exc:
        errors.add("body", exc.message)
    if "subject" not in errors.errors:
        if not rendered_subject:
            errors.add("subject", _("Enter a subject."))
        elif _CONTROL.search(rendered_subject):
            errors.add("subject", _("A subject is one line: remove the line breaks."))
        elif len(rendered_subject) > MAX_SUBJECT:
            errors.add(
                "subject",
                _("The subject is too long: at most %(limit)d characters.")
                % {"limit": MAX_SUBJECT},
            )
    if "body" not in errors.errors:
        if not rendered_body.strip():
            errors.add("body", _("Enter the text."))
        elif len(rendered_body) > MAX_BODY or "\x00" in rendered_body:
            errors.add(
                "body",
                _("The text is too long: at most %(limit)d characters.") % {"limit": MAX_BODY},
            )
    files = check_attachments(list(attachments), errors)
    errors.raise_if_any()
    from_header = str(Address(display_name=str(actor), addr_spec=sender_address(actor)))
    return Draft(
        to=contact.email,
        from_header=from_header,
        subject=rendered_subject,
        body=rendered_body,
        attachments=files,
    )


def _message_id_domain(address: str) -> str:
    domain = address.rpartition("@")[2].strip().lower()
    return domain if re.fullmatch(r"[a-z0-9.-]{1,200}", domain) else "tokui.invalid"


@transaction.atomic
def email_send(
    *,
    actor: User,
    contact: Contact,
    subject: str,
    body: str,
    language: str = "ja",
    attachments: Sequence[Any] = (),
) -> Interaction:
    """Record a mail to ``contact`` on its account's timeline and send it after commit.

    Side effects: an e-mail interaction (outbound, "queued") with its files stored, an audit
    event; after commit the mail goes to the mailer and the interaction says "sent" or "failed".
    """
    draft = email_compose(
        actor=actor,
        contact=contact,
        subject=subject,
        body=body,
        language=language,
        attachments=attachments,
    )
    contact = _visible_contact(actor=actor, contact=contact)
    message_id = make_msgid(domain=_message_id_domain(sender_address(actor)))
    files = []
    for upload, name, content_type in draft.attachments:
        upload.seek(0)
        files.append(AttachmentIn(name=name, content=upload.read(), content_type=content_type))
    interaction = interaction_record(
        actor=actor,
        account=contact.account,
        kind=InteractionKind.EMAIL,
        source=InteractionSource.MAIL_OUT,
        data={
            "direction": Direction.OUTBOUND,
            "occurred_at": timezone.now(),
            "subject": draft.subject,
            "body": draft.body,
            "contacts": [contact],
            "participants": [actor],
            "email_from": draft.from_header[:500],
            "email_to": draft.to,
            "thread_key": message_id,
            "delivery_status": DeliveryStatus.QUEUED,
        },
        message_id=message_id,
        attachments=files,
    )
    interaction_id = interaction.pk
    transaction.on_commit(lambda: email_deliver(interaction_id=interaction_id))
    return interaction


def build_message(interaction: Interaction) -> EmailMessage:
    """The mail of an outbound e-mail interaction, as Django's mailer sends it."""
    headers = {"Message-ID": interaction.message_id}
    if interaction.in_reply_to:
        headers["In-Reply-To"] = interaction.in_reply_to
        headers["References"] = interaction.in_reply_to
    author = interaction.author
    reply_to = [author.email] if author is not None and author.email else None
    message = EmailMessage(
        subject=interaction.subject,
        body=interaction.body,
        from_email=interaction.email_from or settings.DEFAULT_FROM_EMAIL,
        to=[a.strip() for a in interaction.email_to.split(",") if a.strip()],
        headers=headers,
        reply_to=reply_to,
    )
    for attachment in interaction.attachments.all():
        with attachment.file.open("rb") as handle:
            content = handle.read()
        message.attach(attachment.name, content, attachment.content_type or None)
    return message


def email_deliver(*, interaction_id: int) -> Interaction | None:
    """Hand a queued mail to the mailer; record "sent" or "failed" (with the reason).

    Runs after the commit that recorded the mail. A mail already sent is never sent again.
    """
    with transaction.atomic():
        interaction = (
            Interaction.objects.select_for_update(of=("self",))
            .select_related("author")
            .filter(pk=interaction_id, source=InteractionSource.MAIL_OUT)
            .first()
        )
        if interaction is None or interaction.delivery_status == DeliveryStatus.SENT:
            return interaction
    error = ""
    try:
        build_message(interaction).send(using="default")
    except Exception as exc:
        logger.warning("Mail %s failed: %s", interaction.message_id, exc)
        error = f"{type(exc).__name__}: {exc}"[:2000] or type(exc).__name__
    with transaction.atomic():
        interaction = Interaction.objects.select_for_update().get(pk=interaction_id)
        before = interaction.delivery_status
        interaction.delivery_status = DeliveryStatus.FAILED if error else DeliveryStatus.SENT
        interaction.delivery_error = error
        interaction.updated_at = timezone.now()
        interaction.save(update_fields=["delivery_status", "delivery_error", "updated_at"])
        audit_record(
            actor=None,
            action="activities.email.failed" if error else "activities.email.sent",
            target=interaction,
            changes={"delivery_status": [before, interaction.delivery_status]},
            scope=account_scope(interaction.account_id),
            note=error,
        )
    return interaction


def email_retry(*, actor: User, interaction: Interaction) -> Interaction:
    """Send a failed mail again (after the SMTP server is back)."""
    if not mail_may_send(actor):
        raise PermissionDenied(_("Your role cannot send e-mail from Tokui."))
    with transaction.atomic():
        found = (
            Interaction.objects.select_for_update()
            .filter(
                pk=interaction.pk,
                source=InteractionSource.MAIL_OUT,
                archived_at=None,
                account__in=Account.objects.visible_to(actor).values("pk"),
            )
            .first()
        )
        if found is None:
            raise NotFound(_("No such interaction."))
        if found.delivery_status != DeliveryStatus.FAILED:
            raise ApplicationError(_("Only a mail that failed can be sent again."))
        found.delivery_status = DeliveryStatus.QUEUED
        found.save(update_fields=["delivery_status"])
        pk = found.pk
        transaction.on_commit(lambda: email_deliver(interaction_id=pk))
    return found
