from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command

from animate.models import Asset, Membership, Team


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


def test_demo_video_is_a_real_playable_clip(db):
    call_command("demo_setup", stdout=StringIO())
    video = Asset.objects.get(kind="video")
    assert video.duration == 3.0 and video.fps == 16 and video.frames == 48
