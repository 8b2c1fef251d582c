"""Webhook deliveries that were refused: counted per generation, their bodies never stored."""

from django.db import models

from animate.models.generations import Generation


class WebhookRejection(models.Model):
    class Reason(models.TextChoices):
        SECRET = "secret", "Wrong secret"
        FOREIGN_TASK = "foreign_task", "taskUUID of another task"
        OVERSIZE = "oversize", "Body too large"
        MALFORMED = "malformed", "Unreadable body"

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="webhook_rejections")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    count = models.PositiveIntegerField(default=0)
    first_at = models.DateTimeField(auto_now_add=True)
    last_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["generation", "reason"], name="webhook_rejection_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.count} × {self.reason} for generation {self.generation_id}"
