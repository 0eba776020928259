"""Reads of interactions. A viewer sees an interaction exactly when they may see its account;
a deleted (archived) interaction is seen by nobody. Invisible and missing are the same: NotFound.
"""

import datetime
from collections.abc import Iterable
from typing import Any

from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.utils.translation import gettext as _

from tokui.accounts.models import Account, Contact
from tokui.activities.constants import InteractionKind, InteractionSource
from tokui.activities.markdown import render_markdown
from tokui.activities.models import Interaction, InteractionAttachment
from tokui.core.exceptions import NotFound
from tokui.users.constants import ROLES_SEEING_ALL
from tokui.users.models import User


def _visible(qs: QuerySet[Any], viewer: User, prefix: str = "account__") -> QuerySet[Any]:
    """Rows whose account ``viewer`` may see (the rule of ``Account.visible_to``)."""
    if not isinstance(viewer, User) or not viewer.is_active:
        return qs.none()
    if viewer.role in ROLES_SEEING_ALL:
        return qs
    return qs.filter(**{f"{prefix}in": Account.objects.visible_to(viewer).values("pk")})


def interaction_list(
    *,
    viewer: User,
    account_id: int | None = None,
    contact_id: int | None = None,
    kind: str | Iterable[str] | None = None,
    author: str | None = None,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
) -> QuerySet[Interaction]:
    """Visible interactions, newest first, with what a list shows loaded for the page.

    ``author`` is a user name; ``since`` is inclusive and ``until`` exclusive.
    """
    qs: QuerySet[Interaction] = _visible(
        Interaction.objects.filter(archived_at__isnull=True), viewer
    )
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    if contact_id is not None:
        qs = qs.filter(contacts__id=contact_id)
    if kind:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        qs = qs.filter(kind__in=kinds)
    if author:
        qs = qs.filter(author__username=author)
    if since is not None:
        qs = qs.filter(occurred_at__gte=since)
    if until is not None:
        qs = qs.filter(occurred_at__lt=until)
    return qs.select_related("account", "author").order_by("-occurred_at", "-id")


def interaction_get(*, viewer: User, interaction_id: int) -> Interaction:
    found = (
        _visible(Interaction.objects.filter(archived_at__isnull=True), viewer)
        .select_related("account", "account__owner", "author")
        .filter(pk=interaction_id)
        .first()
    )
    if found is None:
        raise NotFound(_("No such interaction."))
    interactions_prepare([found])
    return found


def interaction_attachment_get(*, viewer: User, attachment_id: int) -> InteractionAttachment:
    found = (
        _visible(
            InteractionAttachment.objects.filter(interaction__archived_at__isnull=True),
            viewer,
            prefix="interaction__account__",
        )
        .filter(pk=attachment_id)
        .first()
    )
    if found is None:
        raise NotFound(_("No such file."))
    return found


def body_is_markdown(interaction: Interaction) -> bool:
    """Notes typed in Tokui are Markdown; mail and what other systems send is plain text."""
    return interaction.kind != InteractionKind.EMAIL and interaction.source in (
        InteractionSource.MANUAL,
        InteractionSource.API,
        InteractionSource.APPOINTMENT,
    )


def interactions_prepare(items: list[Interaction]) -> list[Interaction]:
    """Load what a list of interactions shows, for the whole list in one pass per relation
    (contacts, our people, files), and render each body once (Markdown or plain text)."""
    prefetch_related_objects(
        items,
        Prefetch(
            "contacts",
            queryset=Contact.objects.order_by("family_name_kana", "id"),
        ),
        "participants",
        "attachments",
    )
    for item in items:
        seconds = item.duration_seconds
        item.duration_minutes = None if seconds is None else -(-seconds // 60)  # type: ignore[attr-defined]
        item.body_markdown = body_is_markdown(item)  # type: ignore[attr-defined]
        item.body_html = (  # type: ignore[attr-defined]
            render_markdown(item.body) if item.body_markdown else None  # type: ignore[attr-defined]
        )
    return items


def contact_interactions(*, viewer: User, contact: Contact, limit: int = 20) -> list[Interaction]:
    """The newest interactions a contact took part in. ``contact`` must be visible."""
    items = list(interaction_list(viewer=viewer, contact_id=contact.pk)[:limit])
    return interactions_prepare(items)


def interaction_participant_choices() -> QuerySet[User]:
    """Colleagues who may be named as "our people" on an interaction: active users."""
    return User.objects.filter(is_active=True).order_by("username")
