"""In-app notifications (the bell in the header) and their e-mail copies.

``notify`` is what higher apps call inside their service's transaction: the rows are written
in that transaction (so a rolled-back change notifies nobody) and the mail goes out after the
commit, one message per person with an address, in the site's language (a person's own
language is not stored). Links in mail are absolute (``TOKUI_BASE_URL``).
"""

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from tokui.core.exceptions import NotFound
from tokui.users.models import Notification, User

TITLE_LIMIT = 300
BODY_LIMIT = 5000


def absolute_url(url: str) -> str:
    if not url or url.startswith(("http://", "https://")):
        return url
    return f"{getattr(settings, 'TOKUI_BASE_URL', '').rstrip('/')}{url}"


def _send_mail(notification_ids: list[int]) -> int:
    sent = 0
    notifications = Notification.objects.filter(pk__in=notification_ids).select_related("user")
    with translation.override(settings.LANGUAGE_CODE):
        for notification in notifications:
            address = notification.user.email
            if not address or not notification.user.is_active:
                continue
            body = notification.body
            if notification.url:
                body = f"{body}\n\n{absolute_url(notification.url)}".strip()
            footer = _("You receive this because you use Tokui.")
            EmailMessage(
                subject=notification.title, body=f"{body}\n\n-- \n{footer}", to=[address]
            ).send()
            sent += 1
    return sent


def notify(
    *, users: Iterable[User], title: str, body: str = "", url: str = "", mail: bool = True
) -> list[Notification]:
    """Tell ``users`` (each once; inactive people are skipped) about something at ``url``."""
    people: dict[int, User] = {}
    for user in users:
        if user is not None and user.pk and user.is_active:
            people.setdefault(user.pk, user)
    now = timezone.now()
    created = Notification.objects.bulk_create(
        Notification(
            user=user,
            title=str(title)[:TITLE_LIMIT],
            body=str(body)[:BODY_LIMIT],
            url=url[:500],
            created_at=now,
        )
        for user in people.values()
    )
    if mail and created:
        ids = [n.pk for n in created if n.pk]
        if not ids:  # backends that do not return ids from bulk_create
            ids = list(
                Notification.objects.filter(user__in=people, created_at=now).values_list(
                    "pk", flat=True
                )
            )
        # robust: a mail server that is down must not turn a saved decision into an error page.
        transaction.on_commit(lambda: _send_mail(ids), robust=True)
    return created


def notification_list(*, viewer: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=viewer)


def unread_count(*, viewer: User) -> int:
    return Notification.objects.filter(user=viewer, read_at=None).count()


def notification_open(*, actor: User, notification_id: int) -> Notification:
    """Mark one of the actor's notifications read and return it (someone else's is NotFound)."""
    notification = Notification.objects.filter(pk=notification_id, user=actor).first()
    if notification is None:
        raise NotFound(_("No such notification."))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notification_mark_all_read(*, actor: User) -> int:
    return Notification.objects.filter(user=actor, read_at=None).update(read_at=timezone.now())


def unread_notifications(request: HttpRequest) -> dict[str, Any]:
    """Context processor: the bell's count, counted only when a page shows it (one query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notifications_unread": SimpleLazyObject(lambda: unread_count(viewer=user))}
