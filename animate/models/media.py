"""Uploaded inputs (character images, driving videos) and where stored files live."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from animate.models.teams import Team

# Every stored name has a part of its own (``_unique``): two requests storing the same upload, or a webhook
# and a poll storing the same result, at the same moment write two objects, and the one whose row loses
# on the unique constraint deletes its own. A shared name would be overwritten by the second writer
# (a local move or an S3 PUT replaces it silently), and the loser's clean-up would delete the winner's file.


def _unique() -> str:
    return uuid.uuid4().hex[:12]


def asset_upload_to(instance: "Asset", filename: str) -> str:
    sha256 = instance.sha256
    return f"teams/{instance.team_id}/assets/{sha256[:2]}/{sha256}-{_unique()}{_suffix(filename)}"


def poster_upload_to(instance: models.Model, filename: str) -> str:
    return f"teams/{instance.team_id}/posters/{uuid.uuid4().hex}.jpg"  # type: ignore[attr-defined]


def output_upload_to(instance: models.Model, filename: str) -> str:
    return (
        f"teams/{instance.team_id}/outputs/{instance.generation_id}/"  # type: ignore[attr-defined]
        f"{instance.video_uuid}-{_unique()}{_suffix(filename)}"  # type: ignore[attr-defined]
    )


def _suffix(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:].lower()[:8] if dot >= 0 else ""


class Asset(models.Model):
    class Kind(models.TextChoices):
        IMAGE = "image", "Character image"
        VIDEO = "video", "Driving video"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="assets")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    file = models.FileField(upload_to=asset_upload_to, max_length=255)
    poster = models.FileField(upload_to=poster_upload_to, max_length=255, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=64)
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    # Video-only metadata (null for images).
    fps = models.FloatField(null=True, blank=True)
    frames = models.PositiveIntegerField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True)
    codec = models.CharField(max_length=32, blank=True)
    container = models.CharField(max_length=32, blank=True)
    has_audio = models.BooleanField(default=False)
    # Whether results can carry this sound as it is or need it transcoded (animate.services.remux).
    audio_codec = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "sha256"], name="asset_team_sha256_unique"),
            models.CheckConstraint(
                condition=Q(kind="image") | Q(duration__isnull=False), name="asset_video_has_duration"
            ),
        ]
        indexes = [models.Index(fields=["team", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.original_name or self.sha256[:12]}"
