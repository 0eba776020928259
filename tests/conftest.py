"""Shared fixtures: the five roles in two teams, and factories for accounts and contacts."""

import importlib
import itertools
from collections.abc import Callable
from typing import Any

import pytest

from tokui.accounts.models import Account, Contact
from tokui.accounts.services import account_create, contact_create
from tokui.core.japanese import corporate_number_check_digit
from tokui.users.constants import Role
from tokui.users.models import Team, User

PASSWORD = "demo-tokui"
_serial = itertools.count(1)


def valid_corporate_number(body: int) -> str:
    digits = f"{body:012d}"
    return f"{corporate_number_check_digit(digits)}{digits}"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any, request: pytest.FixtureRequest) -> None:
    # Argon2 is deliberately slow; tests that check it ask for the real hasher themselves.
    if "real_hashing" not in request.keywords:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_stages(request: pytest.FixtureRequest) -> None:
    """The deal stages a migration seeds are data: a transactional test (a race on PostgreSQL,
    a browser test) empties every table when it ends, so a later test in the same worker
    would find no stage. Tests that use the database get them back first."""
    uses_db = request.node.get_closest_marker("django_db") or {
        "db",
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    if not uses_db:
        return
    request.getfixturevalue("db")
    from django.apps import apps

    from tokui.pipeline.models import Stage

    if not Stage.objects.exists():
        importlib.import_module("tokui.pipeline.migrations.0002_default_stages").create_stages(
            apps, None
        )
        importlib.import_module(
            "tokui.pipeline.migrations.0004_stage_description_ja"
        ).fill_descriptions(apps, None)


@pytest.fixture(autouse=True)
def _tasks_run_immediately(settings: Any) -> None:
    # Background tasks run in the test's own process and transaction, as they are queued.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def team_east(db: None) -> Team:
    return Team.objects.create(name="East")


@pytest.fixture
def team_west(db: None) -> Team:
    return Team.objects.create(name="West")


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(username: str, role: str, team: Team | None = None, **extra: Any) -> User:
        user = User(username=username, role=role, team=team, **extra)
        if role == Role.ADMIN:
            user.is_staff = user.is_superuser = True
        user.set_password(PASSWORD)
        user.save()
        return user

    return make


@pytest.fixture
def admin_user(make_user: Callable[..., User]) -> User:
    return make_user("admin", Role.ADMIN)


@pytest.fixture
def head(make_user: Callable[..., User]) -> User:
    return make_user("head", Role.HEAD)


@pytest.fixture
def kam(make_user: Callable[..., User], team_east: Team) -> User:
    return make_user("kam", Role.KAM, team_east, display_name="Kei Kamiya")


@pytest.fixture
def am(make_user: Callable[..., User], team_east: Team) -> User:
    return make_user("am", Role.AM, team_east)


@pytest.fixture
def west_am(make_user: Callable[..., User], team_west: Team) -> User:
    return make_user("west", Role.AM, team_west)


@pytest.fixture
def support(make_user: Callable[..., User]) -> User:
    return make_user("support", Role.SUPPORT)


@pytest.fixture
def make_account(db: None) -> Callable[..., Account]:
    def make(owner: User, **data: Any) -> Account:
        n = next(_serial)
        data.setdefault("name", f"株式会社テスト商事{n}")
        data.setdefault("name_kana", "テストショウジ")
        return account_create(actor=owner, data=data)

    return make


@pytest.fixture
def make_contact(db: None) -> Callable[..., Contact]:
    def make(account: Account, **data: Any) -> Contact:
        data.setdefault("family_name", "山田")
        data.setdefault("given_name", "太郎")
        data.setdefault("family_name_kana", "ヤマダ")
        data.setdefault("given_name_kana", "タロウ")
        return contact_create(actor=account.owner, account=account, data=data)

    return make
