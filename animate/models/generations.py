"""Generations (one Runware task each), their stored outputs and the webhook bodies that announced them."""

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q, TextChoices

from animate.models.media import Asset, output_upload_to, poster_upload_to
from animate.models.teams import Team


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
    # The timestamp field of each step after Queued (``created_at``). Every step a run went through keeps
    # one, also when the news of it came late or the run skipped over it (see ``steps_stamp``).
    STEP_STAMPS = {
        Status.SUBMITTED: "submitted_at",
        Status.PROCESSING: "processing_at",
        Status.RECEIVING: "receiving_at",
        Status.DONE: "completed_at",
        Status.FAILED: "completed_at",
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
    # Money held against the budgets while the run is in flight: the estimate at submit, less what has
    # been charged since; zero once the run ends (see animate.services.budgets).
    reserved_cost = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    # SHA-256 of every webhook secret issued for this generation (one per submit attempt); only hashes
    # are kept, and every URL Runware may have been given stays valid.
    webhook_secret_hashes = models.JSONField(default=list, blank=True)
    # Runware's error for the run: why it failed, or, on a done run, why some of its results are missing
    # (``results_failed``) or what Runware reported after the results were in.
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    # How many of the numberResults Runware ended in error: a done run with some is a partial success
    # ("Done — 2 of 3"), keeping the results that arrived.
    results_failed = models.PositiveSmallIntegerField(default=0)
    # Since when getResponse has answered that Runware does not know the task; cleared by any other
    # answer. Past ANIMATE_UNKNOWN_TASK_SECONDS the run fails (animate.services.polling.generation_poll).
    unknown_since = models.DateTimeField(null=True, blank=True)
    # Dismissed by its creator from "Your runs" on the create page; it stays everywhere else.
    dismissed_at = models.DateTimeField(null=True, blank=True)
    # The task exactly as sent to Runware, with the webhook secret redacted (audit and re-runs).
    sent_task = models.JSONField(default=dict, blank=True)
    submit_attempts = models.PositiveIntegerField(default=0)
    # Set while a worker is sending the task: a second run of the submit task waits instead of racing.
    submit_started_at = models.DateTimeField(null=True, blank=True)
    # The process holding that lease (animate.services.leases): a new boot of the same process takes it
    # over at once instead of waiting for it to run out.
    submit_lease_owner = models.CharField(max_length=128, blank=True)
    poll_attempts = models.PositiveIntegerField(default=0)
    # The videoUUIDs taken as this generation's results, each claimed under the row lock before its video
    # is fetched, so that however deliveries interleave there are never more than numberResults.
    result_uuids = models.JSONField(default=list, blank=True)
    # Set while a task applying this generation's webhook bodies is queued: a burst of deliveries queues
    # one task, not one each (animate.services.webhook_events.webhook_drain_schedule).
    webhook_drain_queued = models.BooleanField(default=False)
    # Chosen at submit time: every stored result of this generation is added to it.
    board = models.ForeignKey(
        "animate.Board", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The client's ``Idempotency-Key`` (blank without one): a repeat of the same key in the team is
    # answered with this generation instead of a second paid task; ``request_fingerprint`` is the hash
    # of the request the key was first used with, so a different request under the same key is refused.
    idempotency_key = models.CharField(max_length=255, blank=True, default="")
    request_fingerprint = models.CharField(max_length=64, blank=True, default="")
    # Hash of the input files, parameters and explicit seed (blank with a random seed): the same job
    # again is confirmed before it is paid for twice (animate.services.generations).
    job_fingerprint = models.CharField(max_length=64, blank=True, default="")
    # The team preset the settings came from, for its average cost and approval rate.
    preset = models.ForeignKey(
        "animate.Preset", on_delete=models.SET_NULL, null=True, blank=True, related_name="generations"
    )
    # Each stored result gets the driving video's audio back (the model's output is silent); set at
    # submit time, on by default when the driving video has a sound track (animate.services.remux).
    keep_audio = models.BooleanField(default=False)
    # Archived generations leave the gallery's default view; they stay in the ledger and audit log.
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    processing_at = models.DateTimeField(null=True, blank=True)
    receiving_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(number_results__gte=1) & Q(number_results__lte=4), name="generation_results_1_4"
            ),
            models.CheckConstraint(
                condition=Q(reserved_cost__gte=0), name="generation_reserved_not_negative"
            ),
            # One generation per key and team, whatever races: the second insert fails and is answered
            # with the first.
            models.UniqueConstraint(
                fields=["team", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="generation_team_idempotency_key_unique",
            ),
            # A failed result takes one of the run's places; a done run has at least one result, and a
            # result counted as failed always comes with Runware's error.
            models.CheckConstraint(
                condition=Q(results_failed__lte=F("number_results"))
                & (~Q(status="done") | Q(results_failed__lt=F("number_results")))
                & (Q(results_failed=0) | ~Q(error_code="")),
                name="generation_results_failed_in_range",
            ),
            # Only an ended run can be dismissed.
            models.CheckConstraint(
                condition=Q(dismissed_at__isnull=True) | Q(status__in=["done", "failed"]),
                name="generation_dismissed_only_when_ended",
            ),
        ]
        indexes = [
            models.Index(fields=["team", "-created_at"]),
            models.Index(fields=["created_by", "status"]),
            # Budget checks sum the reservations of a team's runs in flight, which are few.
            models.Index(
                fields=["team", "created_by"],
                condition=Q(reserved_cost__gt=0),
                name="generation_reserved_idx",
            ),
            # Cost reports split spend by run status: the runs that did not end "done" are the few.
            models.Index(
                fields=["team", "status"], condition=~Q(status="done"), name="generation_not_done_idx"
            ),
            models.Index(
                fields=["team", "job_fingerprint"],
                condition=~Q(job_fingerprint=""),
                name="generation_job_fingerprint_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Generation {self.pk} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def is_partial(self) -> bool:
        """Done, but with some of its results ended in error by Runware."""
        return self.status == self.Status.DONE and self.results_failed > 0

    @property
    def is_done_with_error(self) -> bool:
        """Done, and Runware reported an error too: for missing results, or after every result."""
        return self.status == self.Status.DONE and bool(self.error_code)

    def steps_stamp(self, target: str, now: Any) -> list[str]:
        """Set the missing timestamps of the steps up to ``target`` and return the fields set.

        A run may skip a step (a webhook result can overtake the submit's acknowledgement, so a run goes
        from Queued to Receiving) or learn of it late (that acknowledgement, after the result): the step
        still happened, so it is stamped when it is first known. Failing skips nothing: a run that failed
        before it was submitted never was.
        """
        reached = self.ORDER[self.Status(target)]
        fields = []
        for status, name in self.STEP_STAMPS.items():
            if status in self.TERMINAL and status != target:
                continue
            passed = status == target or (target != self.Status.FAILED and self.ORDER[status] < reached)
            if passed and getattr(self, name) is None:
                setattr(self, name, now)
                fields.append(name)
        return fields


class Output(models.Model):
    class Audio(TextChoices):
        PROVIDER = "provider", "As delivered (silent)"
        KEPT = "kept", "Driving video's audio"
        FAILED = "failed", "Audio could not be added"

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
    # ``file`` (with ``sha256`` and ``size``) is what people play and download. When the driving video's
    # audio was added, ``file`` is that re-muxed copy and Runware's own file stays in ``original_file``
    # (the ledger and reconciliation speak of that one); otherwise ``file`` is Runware's and these are blank.
    audio = models.CharField(max_length=16, choices=Audio.choices, default=Audio.PROVIDER)
    audio_note = models.CharField(max_length=255, blank=True)
    original_file = models.FileField(max_length=255, blank=True)
    original_sha256 = models.CharField(max_length=64, blank=True)
    original_size = models.BigIntegerField(null=True, blank=True)
    # Archived outputs leave the gallery's default view; purged ones have had their stored files
    # deleted (``file`` and ``poster`` are then empty). Neither ever deletes the row.
    archived_at = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "video_uuid"], name="output_generation_video_unique"
            ),
            models.CheckConstraint(
                condition=Q(purged_at__isnull=True) | Q(archived_at__isnull=False),
                name="output_purged_only_when_archived",
            ),
            # Runware's file is never dropped for the re-muxed one (until an admin purges both).
            models.CheckConstraint(
                condition=~Q(audio="kept") | ~Q(original_file="") | Q(purged_at__isnull=False),
                name="output_kept_audio_keeps_the_original",
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
    # A replay is a new row holding the same body, applied through the same ingestion path.
    replay_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replays"
    )
    replayed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    detail = models.CharField(max_length=255, blank=True)
    # SHA-256 of the body as canonical JSON: an identical body delivered again is counted here, not stored.
    body_sha256 = models.CharField(max_length=64, blank=True)
    duplicates = models.PositiveIntegerField(default=0)
    last_duplicate_at = models.DateTimeField(null=True, blank=True)
    # What in this body was beyond what the generation asked for (a result past numberResults, a result
    # after it was done, a refused result URL); blank when nothing. Its claimed cost is a flagged ledger row.
    anomaly = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One live copy of a body per generation, even when its replays arrive at the same instant;
            # a copy whose processing failed does not count, so a replay of it is stored and applied.
            models.UniqueConstraint(
                fields=["generation", "body_sha256"],
                condition=~Q(status="failed") & ~Q(body_sha256=""),
                name="webhookevent_one_live_copy_of_a_body",
            ),
        ]
        indexes = [
            models.Index(fields=["generation", "received_at"]),
            models.Index(fields=["generation", "body_sha256"]),
            models.Index(fields=["generation", "status"]),
        ]

    def __str__(self) -> str:
        return f"WebhookEvent {self.pk} ({self.status})"
