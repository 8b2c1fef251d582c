"""Someone logged in with an admin-given temporary password chooses their own before anything else."""

from animate.models import Membership, TemporaryPassword


def test_a_temporary_password_leads_to_the_password_page_until_replaced(
    client, team, admin, django_user_model
):
    user = django_user_model.objects.create_user(username="newbie", password="temp-pass-123")
    Membership.objects.create(user=user, team=team, role="member")
    TemporaryPassword.objects.create(user=user, created_by=admin)
    client.post("/accounts/login/", {"username": "newbie", "password": "temp-pass-123"})

    assert client.get("/").url == "/account/password/"
    assert client.get("/api/assets/").json() == {
        "errors": {"detail": ["Choose your own password first (you logged in with a temporary one)."]}
    }
    assert client.get("/account/password/").status_code == 200
    weak = client.post("/account/password/", {"new_password1": "a", "new_password2": "a"})
    assert weak.status_code == 400 and client.get("/").status_code == 302

    done = client.post(
        "/account/password/", {"new_password1": "my-own-choice-77", "new_password2": "my-own-choice-77"}
    )

    assert done.status_code == 302 and client.get("/").status_code == 200
    assert not TemporaryPassword.objects.exists()
    client.logout()
    signed_in = client.post("/accounts/login/", {"username": "newbie", "password": "my-own-choice-77"})
    assert signed_in.status_code == 302 and client.get("/").status_code == 200


def test_an_ordinary_login_is_not_held_up(client, member):
    client.post("/accounts/login/", {"username": "mia", "password": "pw-mia"})
    assert client.get("/").status_code == 200
