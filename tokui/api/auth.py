from typing import Any

from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer, django_auth

from tokui.users.models import User
from tokui.users.services import api_token_authenticate


class PersonalTokenAuth(HttpBearer):
    """``Authorization: Bearer tku_…`` with a token from ``tokui token create``."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_authenticate(key=token)
        if user is None:
            return None
        request.user = user
        return user


# A signed-in browser session works too (with its CSRF token for writes).
API_AUTH = [PersonalTokenAuth(), django_auth]


def request_user(request: HttpRequest) -> User:
    """The authenticated user (by token or session); the router's auth has already checked."""
    user = request.user
    if not isinstance(user, User):
        raise AuthenticationError()
    return user
