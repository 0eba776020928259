import pytest
from django.urls import reverse

from tokui.users.models import LoginAttempt


@pytest.mark.real_hashing
def test_passwords_are_hashed_with_argon2(kam):
    kam.set_password("demo-tokui")
    kam.save()
    assert kam.password.startswith("argon2")


def test_sign_in_and_out(client, kam):
    response = client.post(reverse("login"), {"username": "kam", "password": "demo-tokui"})
    assert response.status_code == 302
    assert client.get(reverse("web:dashboard")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("web:dashboard")).status_code == 302


def test_a_wrong_password_is_refused_with_a_message(client, kam):
    response = client.post(reverse("login"), {"username": "kam", "password": "wrong"})
    assert response.status_code == 401
    assert "correct username and password" in response.text


def test_repeated_failures_throttle_even_the_right_password(client, kam, settings):
    settings.LOGIN_THROTTLE_FAILURES = 3
    for _ in range(3):
        client.post(reverse("login"), {"username": "kam", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "kam", "password": "demo-tokui"})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.text
    assert client.get(reverse("web:dashboard")).status_code == 302


def test_throttling_is_per_user_name(client, kam, am, settings):
    settings.LOGIN_THROTTLE_FAILURES = 3
    for _ in range(3):
        client.post(reverse("login"), {"username": "kam", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "am", "password": "demo-tokui"})
    assert response.status_code == 302


def test_success_clears_earlier_failures(client, kam):
    client.post(reverse("login"), {"username": "kam", "password": "wrong"})
    client.post(reverse("login"), {"username": "kam", "password": "demo-tokui"})
    assert not LoginAttempt.objects.filter(username="kam", succeeded=False).exists()


def test_next_cannot_redirect_off_site(client, kam):
    response = client.post(
        reverse("login"),
        {"username": "kam", "password": "demo-tokui", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("web:dashboard")


def test_the_browser_language_is_the_default_and_the_switch_overrides_it(client, kam):
    page = client.get(reverse("login"), headers={"Accept-Language": "ja,en;q=0.5"})
    assert "ログイン" in page.text
    client.post(reverse("set_language"), {"language": "en", "next": "/login/"})
    page = client.get(reverse("login"), headers={"Accept-Language": "ja"})
    assert "Sign in" in page.text


def test_admin_is_for_administrators_only(client, admin_user, head):
    head.is_staff = True  # staff status alone is not enough: the role decides
    head.save()
    client.force_login(head)
    assert client.get("/admin/").status_code == 302
    client.force_login(admin_user)
    assert client.get("/admin/").status_code == 200
