"""In-app notifications: what a user is told (budget alerts, a low balance...), read or not."""

from django.conf import settings
from django.db import models

from animate.models.teams import Team


class Notification(models.Model):
    class Kind(models.TextChoices):
        SPEND_ALERT = "spend_alert", "Budget alert"
        LOW_BALANCE = "low_balance", "Low balance"
        RECONCILIATION = "reconciliation", "Reconciliation"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "team", "read_at", "-created_at"])]

    def __str__(self) -> str:
        return self.title
