"""The shared cast: a team with an admin, a member and a reviewer; an outsider in another team."""

from pathlib import Path

import pytest
from django.core.files import File

from animate.models import Asset, Membership, Team
from animate.samples import make_character_png, make_driving_video
from tests.s3kit import s3_media, s3_server  # noqa: F401 (fixtures: a real S3-compatible server)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _member(django_user_model, team: Team, username: str, role: str):
    user = django_user_model.objects.create_user(username=username, password="pw-" + username)
    Membership.objects.create(user=user, team=team, role=role)
    return user


@pytest.fixture
def team(db) -> Team:
    return Team.objects.create(name="Studio", slug="studio")


@pytest.fixture
def other_team(db) -> Team:
    return Team.objects.create(name="Rivals", slug="rivals")


@pytest.fixture
def admin(django_user_model, team):
    return _member(django_user_model, team, "ada", Membership.Role.ADMIN)


@pytest.fixture
def member(django_user_model, team):
    return _member(django_user_model, team, "mia", Membership.Role.MEMBER)


@pytest.fixture
def reviewer(django_user_model, team):
    return _member(django_user_model, team, "rey", Membership.Role.REVIEWER)


@pytest.fixture
def outsider(django_user_model, other_team):
    return _member(django_user_model, other_team, "oscar", Membership.Role.ADMIN)


def make_asset(team: Team, user, kind: str, path: Path) -> Asset:
    from animate.services.media import asset_create

    with open(path, "rb") as handle:
        return asset_create(team=team, user=user, kind=kind, uploaded_file=File(handle, name=path.name))


@pytest.fixture
def image_asset(team, member, tmp_path) -> Asset:
    return make_asset(
        team, member, "image", make_character_png(tmp_path / "character.png", width=240, height=360)
    )


@pytest.fixture
def video_asset(team, member, tmp_path) -> Asset:
    path = make_driving_video(tmp_path / "driving.mp4", seconds=1.0, fps=8, width=160, height=240)
    return make_asset(team, member, "video", path)


@pytest.fixture
def hooked_generation(team, member, image_asset, video_asset):
    """Make submitted generations whose webhook secret is known: ``(generation, secret)``."""
    from animate.models import Generation
    from animate.services.generations import webhook_secret_new

    def make() -> tuple[Generation, str]:
        secret, digest = webhook_secret_new()
        generation = Generation.objects.create(
            team=team,
            created_by=member,
            image=image_asset,
            video=video_asset,
            status="submitted",
            webhook_secret_hashes=[digest],
        )
        return generation, secret

    return make
