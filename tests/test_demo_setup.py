from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from animate.models import Asset, Membership, Team


@pytest.fixture(autouse=True)
def _development(settings):
    settings.DEBUG = True  # as `make run` runs it


def test_demo_setup_creates_the_team_user_and_media_once(db, settings):
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    first, second = StringIO(), StringIO()
    call_command("demo_setup", stdout=first)
    call_command("demo_setup", stdout=second)
    assert Team.objects.count() == 1
    user = get_user_model().objects.get(username="demo")
    assert user.check_password("animate-demo")
    assert Membership.objects.get(user=user).role == Membership.Role.ADMIN
    assert sorted(Asset.objects.values_list("kind", flat=True)) == ["image", "video"]
    assert "http://127.0.0.1:8000/" in first.getvalue() and "password: animate-demo" in first.getvalue()
    assert "Created sample media" not in second.getvalue()
    from animate.models import Budget

    assert (
        Budget.objects.get().monthly_limit == 25
        and "/costs/ (team budget $25.00 a month)" in second.getvalue()
    )


def test_a_half_made_demo_is_completed_on_the_next_run(db):
    call_command("demo_setup", stdout=StringIO())
    Asset.objects.filter(kind="video").delete()
    out = StringIO()
    call_command("demo_setup", stdout=out)
    assert "Created sample media: video." in out.getvalue()
    assert sorted(Asset.objects.values_list("kind", flat=True)) == ["image", "video"]


def test_outside_debug_the_default_password_is_refused(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEMO_PASSWORD"):
        call_command("demo_setup", stdout=StringIO())
    assert not get_user_model().objects.exists()
    call_command("demo_setup", "--password", "a-long-unique-passphrase", stdout=StringIO())
    assert get_user_model().objects.get().check_password("a-long-unique-passphrase")


def test_an_empty_username_is_refused(db):
    with pytest.raises(CommandError, match="username"):
        call_command("demo_setup", "--username", " ", stdout=StringIO())


def test_demo_video_is_a_real_playable_clip(db):
    call_command("demo_setup", stdout=StringIO())
    video = Asset.objects.get(kind="video")
    assert video.duration == 3.0 and video.fps == 16 and video.frames == 48
