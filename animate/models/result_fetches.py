"""Who is fetching a result's video right now, so a webhook and a poll announcing it at once fetch it once."""

from django.db import models

from animate.models.generations import Generation


class ResultFetch(models.Model):
    """A claim on getting the bytes of one result (its uploaded object, or its ``videoURL``) into storage.

    Held only while the fetch runs: the row is deleted when it ends, stored or not. A claim left by a
    process that died is taken over once its holder is known gone or the claim is older than a fetch can
    last (``animate.services.result_fetches``).
    """

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="+")
    video_uuid = models.UUIDField()
    # ``animate.services.leases.lease_owner()`` of the process fetching (host:pid:boot).
    owner = models.CharField(max_length=128)
    claimed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["generation", "video_uuid"], name="resultfetch_one_per_result"),
        ]

    def __str__(self) -> str:
        return f"fetch of {self.video_uuid} by {self.owner}"
