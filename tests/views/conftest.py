"""Logged-in clients, another team's assets, and helpers that make generations and outputs directly."""

import json
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from animate.models import Asset, Generation, Membership, Output
from animate.samples import make_character_png, make_driving_video
from tests.conftest import make_asset


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def reviewer_client(client, reviewer):
    client.force_login(reviewer)
    return client


@pytest.fixture
def outsider_assets(other_team, outsider, tmp_path) -> tuple[Asset, Asset]:
    image = make_asset(other_team, outsider, "image", make_character_png(tmp_path / "theirs.png", hue=90))
    clip = make_driving_video(tmp_path / "theirs.mp4", seconds=1.0, fps=8, width=160, height=224)
    return image, make_asset(other_team, outsider, "video", clip)


def post_json(client, name: str, body: dict):
    return client.post(reverse(name), data=json.dumps(body), content_type="application/json")


def generation_for(member, image, video, **fields) -> Generation:
    defaults = {
        "team_id": Membership.objects.get(user=member).team_id,
        "created_by": member,
        "image": image,
        "video": video,
        "parameters": {"mode": "animate", "resolution": "480p"},
        "estimated_cost": Decimal("0.0100"),
    }
    return Generation.objects.create(**{**defaults, **fields})


def output_for(generation: Generation, *, poster: bool = True, **fields) -> Output:
    values = {
        "team_id": generation.team_id,
        "generation": generation,
        "video_uuid": uuid.uuid4(),
        "file": f"teams/{generation.team_id}/outputs/{generation.pk}/x.mp4",
        "poster": f"teams/{generation.team_id}/posters/{uuid.uuid4().hex}.jpg" if poster else "",
        "sha256": "0" * 64,
        "size": 10,
        "content_type": "video/mp4",
        "width": 480,
        "height": 704,
        "fps": 16,
        "frames": 16,
        "duration": 1.0,
        "codec": "h264",
        "container": "mp4",
        "seed": 1234,
        "cost": Decimal("0.0100"),
    }
    return Output.objects.create(**{**values, **fields})
