"""Generations and outputs made straight in the database, for review tests that need many of them."""

import uuid
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from animate.models import Asset, Generation, Membership, Output


def run(member: Any, image: Asset, video: Asset, **fields: Any) -> Generation:
    """A generation of ``member``'s (first) team; done unless ``status`` says otherwise."""
    values: dict[str, Any] = {
        "team_id": Membership.objects.filter(user=member).order_by("id").first().team_id,
        "created_by": member,
        "image": image,
        "video": video,
        "parameters": {"mode": "animate", "resolution": "480p"},
        "estimated_cost": Decimal("0.0300"),
        "status": Generation.Status.DONE,
    }
    return Generation.objects.create(**{**values, **fields})


def result(generation: Generation, *, with_files: bool = False, **fields: Any) -> Output:
    """An output of ``generation``; ``with_files`` stores small real files for its video and poster."""
    video_uuid = uuid.uuid4()
    name = f"teams/{generation.team_id}/outputs/{generation.pk}/{video_uuid}.mp4"
    poster = f"teams/{generation.team_id}/posters/{uuid.uuid4().hex}.jpg"
    if with_files:
        name = default_storage.save(name, ContentFile(b"\x00\x00\x00\x18ftypmp42" + b"v" * 2000))
        poster = default_storage.save(poster, ContentFile(b"\xff\xd8\xff" + b"p" * 100))
    values: dict[str, Any] = {
        "team_id": generation.team_id,
        "generation": generation,
        "video_uuid": video_uuid,
        "file": name,
        "poster": poster,
        "sha256": uuid.uuid4().hex * 2,
        "size": 2012,
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
    return Output.objects.create(**{**values, **fields})
