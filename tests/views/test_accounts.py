"""Signing in, and the lockout after too many failures (django-axes): per account and per address."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.utils import timezone

LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def _sign_in(client, username, password, address="10.1.2.3"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_the_right_password_signs_in(client, member):
    response = _sign_in(client, "mia", "pw-mia")
    assert response.status_code == 302 and client.session[SESSION_KEY] == str(member.pk)


def test_after_too_many_wrong_passwords_even_the_right_one_is_refused_with_a_clear_message(client, member):
    for _ in range(4):
        assert _sign_in(client, "mia", "wrong").status_code == 200  # the form again, with its error
    locked = _sign_in(client, "mia", "wrong")
    assert locked.status_code == 429
    right = _sign_in(client, "mia", "pw-mia")
    assert right.status_code == 429 and SESSION_KEY not in client.session
    html = right.content.decode()
    assert "Too many failed attempts for this account or from this address. Try again in 15 minutes." in html
    assert '<label for="id_username">Username</label>' in html  # still the sign-in page
    # Locked per account: from another address, the right password is still refused.
    assert _sign_in(client, "mia", "pw-mia", address="10.9.9.9").status_code == 429


def test_failures_for_many_accounts_from_one_address_lock_that_address(client, member, admin):
    for name in ("ann", "bob", "cy", "dee", "eve"):
        _sign_in(client, name, "guess", address="10.4.4.4")
    assert _sign_in(client, "mia", "pw-mia", address="10.4.4.4").status_code == 429
    assert _sign_in(client, "ada", "pw-ada", address="10.5.5.5").status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, member):
    for _ in range(5):
        _sign_in(client, "mia", "wrong")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert _sign_in(client, "mia", "pw-mia").status_code == 302


def test_admins_see_the_lockout_list(client, member, django_user_model):
    for _ in range(5):
        _sign_in(client, "mia", "wrong", address="10.7.7.7")
    staff = django_user_model.objects.create_superuser("root", password="pw-root-long-enough")
    client.force_login(staff)
    page = client.get("/admin/axes/accessattempt/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "mia" in html and "10.7.7.7" in html
