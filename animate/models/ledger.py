"""The money ledger."""

from django.conf import settings
from django.db import models

from animate.models.generations import Generation, Output
from animate.models.teams import Team


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
