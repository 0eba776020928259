"""``tokui mail fetch``: read IMAP mailboxes and put each message on its account's timeline.

Per mailbox: the folder is opened read-only (EXAMINE), so Tokui never marks a message seen or
deleted. Messages are read in UID order from ``last_uid`` on; when the server's UIDVALIDITY
changes, reading starts again from the first message and the Message-ID (unique in the
database; a stable hash of the headers when a message has none) keeps every message once.
Each message is stored in its own transaction together with the new ``last_uid``, so a run
that stops half-way resumes where it stopped.

What is kept:

- a message matched to an account (see ``matching``): an e-mail interaction, inbound, or
  outbound when the sender is the mailbox's own address or a Tokui user, with its contacts,
  our people, thread headers and attachments (files over the size limit are named in the text
  instead of stored);
- a message matching no account: nothing, except in a *shared* mailbox, where the first mail
  of an unknown sender (an address that is no contact's) becomes a task "Answer: <subject>"
  for the mailbox's owner, holding sender, subject and date in its notes;
- an unknown sender's first mail to a shared mailbox that does match an account (by its
  domain): the interaction and the task, linked.

A failing mailbox (connection, login, folder) records ``last_error`` and the others go on.
"""

import contextlib
import datetime
import imaplib
import logging
import os
import re
import ssl
from dataclasses import dataclass

from django.db import DatabaseError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.accounts.models import Account, account_scope
from tokui.activities.constants import Direction, InteractionKind, InteractionSource, TaskPriority
from tokui.activities.mail.matching import match_mail, users_by_address
from tokui.activities.mail.outbound import attachment_name
from tokui.activities.mail.parsing import ParsedMail, format_addresses, parse_message
from tokui.activities.models import Interaction, Mailbox, Task
from tokui.activities.services import AttachmentIn, interaction_record
from tokui.core.audit import audit_record
from tokui.core.exceptions import PermissionDenied
from tokui.users.models import User

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = int(os.environ.get("TOKUI_MAIL_MAX_MESSAGE_BYTES", 30 * 1024 * 1024))
MAX_ATTACHMENT_BYTES = int(os.environ.get("TOKUI_MAIL_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024))
BATCH_SIZE = 500  # messages per mailbox and run; the next run goes on
IMAP_TIMEOUT = 30
ANSWER_TASK_SOURCE = "mail_answer"
EARLIEST = datetime.datetime(1990, 1, 1, tzinfo=datetime.UTC)


class Outcome:
    STORED = "stored"
    DUPLICATE = "duplicate"
    UNMATCHED = "unmatched"


@dataclass
class FetchSummary:
    mailbox: str
    new: int = 0
    stored: int = 0
    duplicates: int = 0
    unmatched: int = 0
    tasks: int = 0
    error: str = ""

    def line(self) -> str:
        text = _(
            "%(name)s: %(new)d new, %(stored)d stored, %(dup)d already known, "
            "%(unmatched)d unmatched, %(tasks)d tasks"
        ) % {
            "name": self.mailbox,
            "new": self.new,
            "stored": self.stored,
            "dup": self.duplicates,
            "unmatched": self.unmatched,
            "tasks": self.tasks,
        }
        if self.error:
            text += " — " + _("error: %(e)s") % {"e": self.error}
        return text


# --- storing one message ----------------------------------------------------------------------


def _occurred_at(parsed: ParsedMail) -> datetime.datetime:
    now = timezone.now()
    if parsed.date is None or parsed.date < EARLIEST:
        return now
    return min(parsed.date, now)


def _attachments(parsed: ParsedMail) -> tuple[list[AttachmentIn], list[str]]:
    kept: list[AttachmentIn] = []
    notes: list[str] = []
    mb = MAX_ATTACHMENT_BYTES // (1024 * 1024)
    for item in parsed.attachments:
        name = attachment_name(item.name)
        stem, ext = os.path.splitext(name)
        if not re.search(r"\w", stem):
            name = "attachment" + ext[:20]
        if len(item.data) > MAX_ATTACHMENT_BYTES:
            notes.append(
                _("[Attachment “%(name)s” (%(size)d MB) not kept: larger than %(mb)d MB.]")
                % {"name": name, "size": len(item.data) // (1024 * 1024), "mb": mb}
            )
        elif item.data:
            kept.append(AttachmentIn(name=name, content=item.data, content_type=item.content_type))
    return kept, notes


def _sender_display(parsed: ParsedMail) -> str:
    return f"{parsed.from_name} <{parsed.from_address}>".strip()


def _first_mail_of(address: str, *, exclude: Interaction | None) -> bool:
    marker = f"<{address}>"
    tasks = Task.objects.filter(source=ANSWER_TASK_SOURCE, notes__icontains=marker)
    if tasks.exists():
        return False
    earlier = Interaction.objects.filter(email_from__iendswith=marker)
    if exclude is not None:
        earlier = earlier.exclude(pk=exclude.pk)
    return not earlier.exists()


def _answer_task(
    *,
    mailbox: Mailbox,
    parsed: ParsedMail,
    account: Account | None,
    interaction: Interaction | None,
) -> Task | None:
    owner = mailbox.owner
    if owner is None or not owner.is_active or not parsed.from_address:
        return None
    if not _first_mail_of(parsed.from_address.lower(), exclude=interaction):
        return None
    subject = parsed.subject or _("(no subject)")
    when = timezone.localtime(_occurred_at(parsed)).strftime("%Y-%m-%d %H:%M")
    notes = "\n".join(
        [
            _("From: %(sender)s")
            % {"sender": f"{parsed.from_name} <{parsed.from_address.lower()}>"},
            _("Subject: %(subject)s") % {"subject": subject},
            _("Date: %(date)s") % {"date": when},
            _("Mailbox: %(mailbox)s") % {"mailbox": mailbox.name},
            "",
            parsed.text[:2000],
        ]
    )
    task = Task.objects.create(
        title=(_("Answer: %(subject)s") % {"subject": subject})[:300],
        notes=notes,
        account=account,
        owner=owner,
        due_at=timezone.now() + datetime.timedelta(days=1),
        priority=TaskPriority.HIGH,
        source=ANSWER_TASK_SOURCE,
        interaction=interaction,
    )
    audit_record(
        actor=None,
        action="activities.task.created",
        target=task,
        changes={"title": [None, task.title], "owner": [None, str(owner)]},
        scope=account_scope(account.pk) if account is not None else "",
    )
    return task


def mail_store(*, mailbox: Mailbox, raw: bytes, truncated: bool = False) -> tuple[str, bool]:
    """Store one fetched message; returns (outcome, whether an "answer" task was created).

    Idempotent: a Message-ID seen before is a duplicate and changes nothing.
    """
    parsed = parse_message(raw)
    if Interaction.objects.filter(message_id=parsed.message_id).exists():
        return Outcome.DUPLICATE, False
    own = {mailbox.address.lower()} if mailbox.address else set()
    users = users_by_address(parsed.addresses())
    sender = parsed.from_address.lower()
    outgoing = bool(sender) and (sender in own or sender in users)
    recipients = [addr.lower() for _name, addr in [*parsed.to, *parsed.cc]]
    match = match_mail(
        sender=sender,
        recipients=recipients,
        own_addresses=own | set(users),
        thread_ids=parsed.thread_ids,
        outgoing=outgoing,
    )
    wants_task = mailbox.shared and not outgoing and match.unknown_sender
    if match.account is None:
        task = None
        if wants_task:
            task = _answer_task(mailbox=mailbox, parsed=parsed, account=None, interaction=None)
        return Outcome.UNMATCHED, task is not None

    files, notes = _attachments(parsed)
    body = parsed.text
    if truncated:
        notes.insert(
            0,
            _("[This message is larger than %(mb)d MB: only its headers were kept.]")
            % {"mb": MAX_MESSAGE_BYTES // (1024 * 1024)},
        )
    if notes:
        body = (body + "\n\n" + "\n".join(notes)).strip()
    participants = list(users.values())
    if not mailbox.shared and mailbox.owner is not None and mailbox.owner.is_active:
        participants.append(mailbox.owner)
    thread_key = match.thread.thread_key if match.thread and match.thread.thread_key else ""
    interaction = interaction_record(
        actor=None,
        account=match.account,
        kind=InteractionKind.EMAIL,
        source=InteractionSource.MAIL_IN,
        data={
            "direction": Direction.OUTBOUND if outgoing else Direction.INBOUND,
            "occurred_at": _occurred_at(parsed),
            "subject": parsed.subject[:300],
            "body": body,
            "contacts": match.contacts,
            "participants": list({u.pk: u for u in participants}.values()),
            "in_reply_to": parsed.in_reply_to[:998],
            "thread_key": (thread_key or parsed.thread_root)[:998],
            "email_from": _sender_display(parsed)[:500] if sender else "",
            "email_to": format_addresses(parsed.to),
            "email_cc": format_addresses(parsed.cc),
            "mailbox": mailbox,
        },
        message_id=parsed.message_id,
        attachments=files,
    )
    task = None
    if wants_task:
        task = _answer_task(
            mailbox=mailbox, parsed=parsed, account=match.account, interaction=interaction
        )
    return Outcome.STORED, task is not None


# --- reading a mailbox ------------------------------------------------------------------------


def imap_connect(mailbox: Mailbox) -> imaplib.IMAP4:
    """Connect and sign in (TLS from the first byte, or plain, as the mailbox says)."""
    conn: imaplib.IMAP4
    if mailbox.use_ssl:
        context = ssl.create_default_context()
        conn = imaplib.IMAP4_SSL(
            mailbox.host, mailbox.port, ssl_context=context, timeout=IMAP_TIMEOUT
        )
    else:
        conn = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=IMAP_TIMEOUT)
    try:
        conn.login(mailbox.username, mailbox.password)
    except Exception:
        _logout(conn)
        raise
    return conn


def _logout(conn: imaplib.IMAP4) -> None:
    with contextlib.suppress(imaplib.IMAP4.error, OSError):
        conn.logout()


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _uid_validity(conn: imaplib.IMAP4) -> int | None:
    _typ, data = conn.response("UIDVALIDITY")
    for item in data or []:
        if item and str(item.decode() if isinstance(item, bytes) else item).isdigit():
            return int(item)
    return None


def _fetch_one(conn: imaplib.IMAP4, uid: int) -> tuple[bytes, bool]:
    """The message's bytes; only its header when it is larger than the limit."""
    typ, data = conn.uid("FETCH", str(uid), "(RFC822.SIZE)")
    size = 0
    if typ == "OK" and data and data[0]:
        found = re.search(rb"RFC822\.SIZE (\d+)", data[0] if isinstance(data[0], bytes) else b"")
        size = int(found.group(1)) if found else 0
    truncated = size > MAX_MESSAGE_BYTES
    part = "BODY.PEEK[HEADER]" if truncated else "BODY.PEEK[]"
    typ, data = conn.uid("FETCH", str(uid), f"({part})")
    if typ != "OK":
        raise imaplib.IMAP4.error(f"FETCH {uid} failed")
    for item in data or []:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1], truncated
    raise imaplib.IMAP4.error(f"FETCH {uid} returned no message")


def mailbox_fetch(*, mailbox: Mailbox, connect: object = None) -> FetchSummary:
    """Fetch the new messages of one mailbox. Never raises: the error is in the summary and
    in ``mailbox.last_error``."""
    summary = FetchSummary(mailbox=mailbox.name)
    opener = connect if callable(connect) else imap_connect
    conn: imaplib.IMAP4 | None = None
    try:
        conn = opener(mailbox)
        typ, data = conn.select(_quoted(mailbox.folder), readonly=True)
        if typ != "OK":
            raise imaplib.IMAP4.error(
                _("The folder “%(folder)s” cannot be opened.") % {"folder": mailbox.folder}
            )
        validity = _uid_validity(conn)
        last_uid = mailbox.last_uid
        if validity is not None and mailbox.uid_validity != validity:
            # A new mailbox, or the server renumbered it: read everything again; the
            # Message-IDs keep what is already stored from being stored twice.
            last_uid = 0
            mailbox.uid_validity = validity
            mailbox.last_uid = 0
            mailbox.save(update_fields=["uid_validity", "last_uid"])
        typ, data = conn.uid("SEARCH", f"UID {last_uid + 1}:*")
        if typ != "OK":
            raise imaplib.IMAP4.error("UID SEARCH failed")
        uids = sorted(int(x) for x in (data[0] or b"").split() if x.isdigit() and int(x) > last_uid)
        summary.new = len(uids)
        for uid in uids[:BATCH_SIZE]:
            raw, truncated = _fetch_one(conn, uid)
            _store_and_advance(
                mailbox=mailbox, uid=uid, raw=raw, truncated=truncated, summary=summary
            )
    except DatabaseError:
        raise
    except (imaplib.IMAP4.error, OSError, ssl.SSLError, UnicodeError, EOFError) as exc:
        summary.error = str(exc) or type(exc).__name__
    finally:
        if conn is not None:
            _logout(conn)
    mailbox.last_fetched_at = timezone.now()
    mailbox.last_error = summary.error[:2000]
    mailbox.save(update_fields=["last_fetched_at", "last_error"])
    return summary


def _store_and_advance(
    *, mailbox: Mailbox, uid: int, raw: bytes, truncated: bool, summary: FetchSummary
) -> None:
    try:
        with transaction.atomic():
            outcome, task = mail_store(mailbox=mailbox, raw=raw, truncated=truncated)
            Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=uid)
    except DatabaseError:
        raise
    except Exception as exc:
        logger.exception("Mailbox %s: message UID %s could not be stored", mailbox.name, uid)
        summary.error = _("message UID %(uid)d skipped: %(e)s") % {"uid": uid, "e": exc}
        Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=uid)
        mailbox.last_uid = uid
        return
    mailbox.last_uid = uid
    summary.tasks += int(task)
    if outcome == Outcome.STORED:
        summary.stored += 1
    elif outcome == Outcome.DUPLICATE:
        summary.duplicates += 1
    else:
        summary.unmatched += 1


def mail_fetch_all(*, name: str | None = None, connect: object = None) -> list[FetchSummary]:
    """Fetch every active mailbox (or the one named, active or not)."""
    mailboxes = Mailbox.objects.select_related("owner").order_by("name")
    mailboxes = mailboxes.filter(name=name) if name else mailboxes.filter(active=True)
    summaries = []
    for mailbox in mailboxes:
        try:
            summaries.append(mailbox_fetch(mailbox=mailbox, connect=connect))
        except DatabaseError as exc:
            summaries.append(FetchSummary(mailbox=mailbox.name, error=str(exc)))
    return summaries


def mailbox_list(*, viewer: User) -> QuerySet[Mailbox]:
    """The mailboxes ``tokui mail fetch`` reads and how it went: administrators only (the list
    shows hosts and user names)."""
    if not (viewer.is_active and viewer.is_superuser):
        raise PermissionDenied(_("Only administrators see the mailboxes."))
    return Mailbox.objects.select_related("owner").order_by("name")
