"""Reads about users: who may be chosen as an owner by whom."""

from django.db.models import Q, QuerySet

from tokui.users.constants import ROLES_OWNING, ROLES_SEEING_ALL
from tokui.users.models import User


def user_assignable_owners(*, viewer: User) -> QuerySet[User]:
    """Users the viewer may make the owner of an account.

    Heads of sales and administrators assign anyone in sales; a KAM or AM assigns themself or
    a member of their own team.
    """
    qs = User.objects.filter(is_active=True, role__in=ROLES_OWNING).select_related("team")
    if viewer.role in ROLES_SEEING_ALL:
        return qs.order_by("username")
    scope = Q(pk=viewer.pk)
    if viewer.team_id:
        scope |= Q(team_id=viewer.team_id)
    return qs.filter(scope).order_by("username")


def user_get_by_username(*, username: str) -> User | None:
    return User.objects.filter(username=username).first()
