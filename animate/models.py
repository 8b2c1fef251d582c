"""The database is the truth: every state the UI shows and every cent the ledger holds lives here."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q


class Team(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"
        REVIEWER = "reviewer", "Reviewer"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "team"], name="membership_user_team_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"

    @property
    def can_spend(self) -> bool:
        return self.role in {self.Role.ADMIN, self.Role.MEMBER}


def asset_upload_to(instance: "Asset", filename: str) -> str:
    return f"teams/{instance.team_id}/assets/{instance.sha256[:2]}/{instance.sha256}{_suffix(filename)}"


def poster_upload_to(instance: models.Model, filename: str) -> str:
    return f"teams/{instance.team_id}/posters/{uuid.uuid4().hex}.jpg"  # type: ignore[attr-defined]


def output_upload_to(instance: "Output", filename: str) -> str:
    return (
        f"teams/{instance.team_id}/outputs/{instance.generation_id}/{instance.video_uuid}{_suffix(filename)}"
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


class Generation(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SUBMITTED = "submitted", "Submitted"
        PROCESSING = "processing", "Processing"
        RECEIVING = "receiving", "Receiving results"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    TERMINAL = frozenset({Status.DONE, Status.FAILED})
    # Forward-only order of the lifecycle; a transition may skip steps but never go back.
    ORDER = {
        Status.QUEUED: 0,
        Status.SUBMITTED: 1,
        Status.PROCESSING: 2,
        Status.RECEIVING: 3,
        Status.DONE: 4,
        Status.FAILED: 4,
    }

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="generations")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    image = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="+")
    video = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="+")
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children"
    )
    task_uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Spec-named parameters the user chose (only what was set), as Runware names them.
    parameters = models.JSONField(default=dict)
    number_results = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    estimated_cost = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    actual_cost = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    # SHA-256 of every webhook secret issued for this generation (one per submit attempt); only hashes
    # are kept, and every URL Runware may have been given stays valid.
    webhook_secret_hashes = models.JSONField(default=list, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    # The task exactly as sent to Runware, with the webhook secret redacted (audit and re-runs).
    sent_task = models.JSONField(default=dict, blank=True)
    submit_attempts = models.PositiveIntegerField(default=0)
    # Set while a worker is sending the task: a second run of the submit task waits instead of racing.
    submit_started_at = models.DateTimeField(null=True, blank=True)
    poll_attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    processing_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(number_results__gte=1) & Q(number_results__lte=4), name="generation_results_1_4"
            ),
        ]
        indexes = [
            models.Index(fields=["team", "-created_at"]),
            models.Index(fields=["created_by", "status"]),
        ]

    def __str__(self) -> str:
        return f"Generation {self.pk} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL


class Output(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="outputs")
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="outputs")
    video_uuid = models.UUIDField()
    file = models.FileField(upload_to=output_upload_to, max_length=255)
    poster = models.FileField(upload_to=poster_upload_to, max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    content_type = models.CharField(max_length=64)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    fps = models.FloatField()
    frames = models.PositiveIntegerField()
    duration = models.FloatField()
    codec = models.CharField(max_length=32)
    container = models.CharField(max_length=32)
    seed = models.BigIntegerField(null=True, blank=True)
    nsfw = models.BooleanField(default=False)
    cost = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "video_uuid"], name="output_generation_video_unique"
            ),
        ]
        indexes = [models.Index(fields=["team", "-created_at"])]

    def __str__(self) -> str:
        return f"Output {self.video_uuid}"


class WebhookEvent(models.Model):
    """Every authentic webhook body, stored before processing so none is lost or unexplained."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSING = "processing", "Processing"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="webhook_events")
    body = models.JSONField()
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    detail = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["generation", "received_at"])]

    def __str__(self) -> str:
        return f"WebhookEvent {self.pk} ({self.status})"


class CostEntry(models.Model):
    """The ledger: one row per charged result, keyed so money is recorded once."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="cost_entries")
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="cost_entries")
    output = models.OneToOneField(Output, on_delete=models.SET_NULL, null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    key = models.CharField(max_length=100, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=4)
    estimated = models.DecimalField(max_digits=12, decimal_places=4)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["team", "created_at"])]

    def __str__(self) -> str:
        return f"{self.amount} USD ({self.key})"
