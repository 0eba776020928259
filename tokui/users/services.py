"""Writes about users: API tokens and the record of sign-in attempts."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.core.audit import audit_record
from tokui.core.exceptions import ApplicationError, NotFound
from tokui.users.models import ApiToken, LoginAttempt, User

TOKEN_PREFIX = "tku_"


@transaction.atomic
def api_token_create(*, actor: User | None, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Create a personal API token for ``user``; returns the record and the token itself.

    The token is not stored, only its hash: the caller must show it now or never.
    """
    if not user.is_active:
        raise ApplicationError(_("User %(u)s is deactivated.") % {"u": user.username})
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:100], prefix=key[:12], key_hash=ApiToken.hash_key(key)
    )
    audit_record(actor=actor, action="users.api_token.created", target=token)
    return token, key


@transaction.atomic
def api_token_revoke(*, actor: User | None, token: ApiToken) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="users.api_token.revoked", target=token)
    return token


def api_token_authenticate(*, key: str) -> User | None:
    """The active user a token belongs to, or None for an unknown or revoked token."""
    if not key.startswith(TOKEN_PREFIX) or len(key) > 100:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash_key(key), revoked_at=None, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Record use at most once a minute: no write on every request.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def api_token_get_for_user(*, user: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        raise NotFound(_("No such token."))
    return token


def login_throttle_wait_seconds(*, username: str, ip_address: str | None) -> int:
    """Seconds until this user name (or address) may try again; 0 when it may try now."""
    window = timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS)
    since = timezone.now() - window
    limit = settings.LOGIN_THROTTLE_FAILURES
    failures = LoginAttempt.objects.filter(at__gte=since, succeeded=False)
    by_name = failures.filter(username=username.lower()[:150]).order_by("-at")
    by_ip = failures.filter(ip_address=ip_address).order_by("-at") if ip_address else None
    for attempts, allowed in ((by_name, limit), (by_ip, limit * 4)):
        if attempts is None:
            continue
        recent = list(attempts.values_list("at", flat=True)[:allowed])
        if len(recent) >= allowed:
            oldest = recent[-1]
            return max(1, int((oldest + window - timezone.now()).total_seconds()))
    return 0


def login_attempt_record(*, username: str, ip_address: str | None, succeeded: bool) -> None:
    LoginAttempt.objects.create(
        username=username.lower()[:150], ip_address=ip_address, succeeded=succeeded
    )
    if succeeded:
        # A successful sign-in clears the user name's failures so a typo later starts afresh.
        LoginAttempt.objects.filter(username=username.lower()[:150], succeeded=False).delete()
