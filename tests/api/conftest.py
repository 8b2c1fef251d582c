"""The API's cast: an owner, a creator and a reviewer in one team, an outsider in another; API clients;
assets and helpers that make generations and outputs directly."""

import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files import File
from rest_framework.test import APIClient

from animate.models import Asset, Generation, Membership, Output, Team
from animate.samples import make_character_png, make_driving_video
from animate.services.media import asset_create

User = get_user_model()

ASSETS = "/api/assets/"
QUOTE = "/api/quote/"
GENERATIONS = "/api/generations/"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def team(db) -> Team:
    return Team.objects.create(name="Studio", slug="studio")


@pytest.fixture
def other_team(db) -> Team:
    return Team.objects.create(name="Elsewhere", slug="elsewhere")


def _member(team: Team, username: str, role: str) -> object:
    user = User.objects.create_user(username=username, password="pw-for-tests")
    Membership.objects.create(user=user, team=team, role=role)
    return user


@pytest.fixture
def owner(team: Team) -> object:
    return _member(team, "owner", Membership.Role.ADMIN)


@pytest.fixture
def creator(team: Team) -> object:
    return _member(team, "creator", Membership.Role.MEMBER)


@pytest.fixture
def reviewer(team: Team) -> object:
    return _member(team, "reviewer", Membership.Role.REVIEWER)


@pytest.fixture
def outsider(other_team: Team) -> object:
    return _member(other_team, "outsider", Membership.Role.ADMIN)


def api_client(user: object | None = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def api(creator: object) -> APIClient:
    return api_client(creator)


@pytest.fixture
def png_path(tmp_path: Path) -> Path:
    return make_character_png(tmp_path / "character.png", width=256, height=384)


@pytest.fixture
def mp4_path(tmp_path: Path) -> Path:
    return make_driving_video(tmp_path / "driving.mp4", seconds=3.0, fps=16)


def stored_asset(team: Team, user: object, kind: str, source: Path) -> Asset:
    with source.open("rb") as handle:
        return asset_create(team=team, user=user, kind=kind, uploaded_file=File(handle, name=source.name))


@pytest.fixture
def image(team: Team, creator: object, png_path: Path) -> Asset:
    return stored_asset(team, creator, "image", png_path)


@pytest.fixture
def video(team: Team, creator: object, mp4_path: Path) -> Asset:
    return stored_asset(team, creator, "video", mp4_path)


@pytest.fixture
def foreign_image(other_team: Team, outsider: object, tmp_path: Path) -> Asset:
    source = make_character_png(tmp_path / "theirs.png", width=256, height=384, hue=90)
    return stored_asset(other_team, outsider, "image", source)


def upload_file(client: APIClient, source: Path, **extra: object):
    with source.open("rb") as handle:
        return client.post(ASSETS, {"file": handle, **extra}, format="multipart")


def stored_files(root: Path) -> list[Path]:
    return [item for item in root.rglob("*") if item.is_file()] if root.exists() else []


def make_generation(team: Team, user: object, image: Asset, video: Asset, **fields: object) -> Generation:
    return Generation.objects.create(
        team=team, created_by=user, image=image, video=video, estimated_cost=Decimal("0.0300"), **fields
    )


def make_output(generation: Generation, **fields: object) -> Output:
    video_uuid = uuid.uuid4()
    defaults = {
        "team_id": generation.team_id,
        "generation": generation,
        "video_uuid": video_uuid,
        "file": f"teams/{generation.team_id}/outputs/{generation.pk}/{video_uuid}.mp4",
        "sha256": "0" * 64,
        "size": 1000,
        "content_type": "video/mp4",
        "width": 480,
        "height": 704,
        "fps": 16.0,
        "frames": 48,
        "duration": 3.0,
        "codec": "h264",
        "container": "mp4",
        "seed": 42,
        "cost": Decimal("0.0300"),
    }
    return Output.objects.create(**{**defaults, **fields})
