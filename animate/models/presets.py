"""Team presets: named sets of generation settings, shared by everyone in the team."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from animate.models.teams import Team

PRESET_NAME_MAX = 80


class Preset(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="presets")
    name = models.CharField(max_length=PRESET_NAME_MAX)
    # Flat, spec-named choices as the services take them (``ParameterForm.choices()``): never inputs.
    parameters = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # "Draft" and "draft" are the same preset to the people choosing from the list.
            models.UniqueConstraint("team", Lower("name"), name="preset_team_name_unique"),
        ]
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name
