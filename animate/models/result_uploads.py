"""Where Runware writes a result by ``uploadEndpoint``: one place per generation (numberResults 1)."""

import uuid

from django.db import models
from django.db.models import Q

from animate.models.generations import Generation


class ResultUpload(models.Model):
    """The object a generation's result is PUT to, and what became of it.

    ``bucket``: a presigned PUT into the S3 bucket (the bucket enforces nothing but the signature, so
    size and content are checked at ingestion). ``endpoint``: our own single-use PUT endpoint
    (``animate.views.result_uploads``), which refuses a second PUT, a body over ``max_bytes`` and
    anything that is not a video, and records the bytes' size and SHA-256 for ingestion to check.
    """

    class Mode(models.TextChoices):
        BUCKET = "bucket", "Presigned PUT into the bucket"
        ENDPOINT = "endpoint", "Our single-use PUT endpoint"

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for the PUT"
        RECEIVING = "receiving", "PUT in progress"
        RECEIVED = "received", "Bytes stored"
        REJECTED = "rejected", "Refused"
        USED = "used", "Taken as the output"

    # Forward-only moves (``animate.services.result_uploads.result_upload_move``).
    MOVES = {
        Status.OPEN: frozenset({Status.RECEIVING, Status.REJECTED, Status.USED}),
        Status.RECEIVING: frozenset({Status.RECEIVED, Status.REJECTED}),
        Status.RECEIVED: frozenset({Status.USED, Status.REJECTED}),
        Status.REJECTED: frozenset(),
        Status.USED: frozenset(),
    }

    generation = models.OneToOneField(Generation, on_delete=models.CASCADE, related_name="result_upload")
    # Random, in the object name and the signed token: a URL for one generation never names another's.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    mode = models.CharField(max_length=8, choices=Mode.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    # The storage name the bytes are written to (the bucket key, or the file under MEDIA_ROOT).
    name = models.CharField(max_length=255)
    max_bytes = models.BigIntegerField()
    size = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    detail = models.CharField(max_length=255, blank=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    # When the PUT began, then when its bytes were stored.
    received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["open", "receiving", "received", "rejected", "used"]),
                name="result_upload_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(mode__in=["bucket", "endpoint"]), name="result_upload_mode_valid"
            ),
            models.CheckConstraint(condition=Q(max_bytes__gt=0), name="result_upload_max_bytes_positive"),
            models.CheckConstraint(
                condition=Q(size__isnull=True) | Q(size__gt=0, size__lte=models.F("max_bytes")),
                name="result_upload_size_in_bounds",
            ),
        ]

    def __str__(self) -> str:
        return f"result upload {self.uuid} ({self.status})"
