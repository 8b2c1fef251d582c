"""Team review: verdicts (with their history), comments pinned to a time, private stars, boards of
outputs, and share links that show one output or one board to people outside the team."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from animate.models.generations import Output
from animate.models.teams import Team


class Verdict(models.Model):
    """One reviewer's decision on one output. Changing it adds a row and retires the old one
    (``is_current``), so the history stays; at most one current row per (output, reviewer)."""

    class Decision(models.TextChoices):
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    class Reason(models.TextChoices):
        FACE_DRIFT = "face_drift", "Face drift"
        IDENTITY_MISMATCH = "identity_mismatch", "Identity mismatch"
        COLOUR_SHIFT = "colour_shift", "Colour shift"
        MASK_BLEED = "mask_bleed", "Mask bleed"
        ARTEFACTS = "artefacts", "Artefacts"
        MOTION_ERROR = "motion_error", "Motion error"
        AUDIO_DESYNC = "audio_desync", "Audio desync"
        OTHER = "other", "Other"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    output = models.ForeignKey(Output, on_delete=models.CASCADE, related_name="verdicts")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    decision = models.CharField(max_length=16, choices=Decision.choices)
    # Reason slugs (``Reason`` values), sorted; empty for an approval.
    reasons = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["output", "reviewer"], condition=Q(is_current=True), name="verdict_one_current"
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | (Q(rating__gte=1) & Q(rating__lte=5)),
                name="verdict_rating_1_5",
            ),
            models.CheckConstraint(
                condition=Q(decision__in=["approved", "rejected"]), name="verdict_decision_known"
            ),
        ]
        indexes = [models.Index(fields=["output", "is_current", "decision"])]

    def __str__(self) -> str:
        return f"{self.decision} on output {self.output_id} by {self.reviewer_id}"


class Comment(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    output = models.ForeignKey(Output, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Where in the result the comment is pinned, in seconds from its start.
    at_seconds = models.FloatField()
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(at_seconds__gte=0), name="comment_time_positive")]
        indexes = [models.Index(fields=["output", "at_seconds"])]

    def __str__(self) -> str:
        return f"Comment {self.pk} at {self.at_seconds:.2f}s"


class Star(models.Model):
    """A private favourite: only its user ever sees it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    output = models.ForeignKey(Output, on_delete=models.CASCADE, related_name="stars")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "output"], name="star_user_output_unique")]

    def __str__(self) -> str:
        return f"Star {self.user_id} on {self.output_id}"


class Board(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="boards")
    name = models.CharField(max_length=80)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="board_team_name_unique")]

    def __str__(self) -> str:
        return self.name


class BoardItem(models.Model):
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="items")
    output = models.ForeignKey(Output, on_delete=models.CASCADE, related_name="board_items")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["board", "output"], name="board_item_unique")]

    def __str__(self) -> str:
        return f"Output {self.output_id} on board {self.board_id}"


class ShareLink(models.Model):
    """A read-only view of one output or one board for people without an account.

    The URL's token is signed and names this row and a random nonce; only the nonce's SHA-256 is
    stored, so the database alone cannot rebuild a working link. Expiry and revocation live here.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="share_links")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    output = models.ForeignKey(
        Output, on_delete=models.CASCADE, null=True, blank=True, related_name="share_links"
    )
    board = models.ForeignKey(
        Board, on_delete=models.CASCADE, null=True, blank=True, related_name="share_links"
    )
    nonce_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(output__isnull=False) & Q(board__isnull=True))
                | (Q(output__isnull=True) & Q(board__isnull=False)),
                name="share_link_one_target",
            ),
        ]
        indexes = [models.Index(fields=["team", "revoked_at", "expires_at"])]

    def __str__(self) -> str:
        return f"Share link {self.pk}"
