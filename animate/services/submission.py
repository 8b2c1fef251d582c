"""Sending a queued generation to Runware (runs in the background worker).

The task is built from the stored choices, the inputs are made reachable for Runware, and the request is
sent with the generation's fixed taskUUID, so every retry — the client's own or a re-run of this task
after a crash — can only ever create one paid task at Runware.
"""

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from animate.models import Asset, Generation
from animate.runware import spec
from animate.runware.client import RunwareClient, RunwareError, RunwareTransportError
from animate.services import generations

logger = logging.getLogger(__name__)

REDACTED = "[redacted]"


def runware_client() -> RunwareClient:
    return RunwareClient.from_settings()


def input_reference(*, asset: Asset, client: RunwareClient) -> str:
    """How Runware gets an input: a signed, expiring URL to our media endpoint when Runware can reach
    PUBLIC_BASE_URL (no copy, Range-capable); otherwise the bytes go up through ``mediaStorage``."""
    if generations.public_base_url_reachable():
        from animate.media_views import asset_signed_url

        return asset_signed_url(
            asset=asset, expires_in=int(getattr(settings, "ANIMATE_INPUT_URL_TTL", 6 * 3600))
        )
    with asset.file.open("rb") as handle:
        return client.upload_media(handle.read()).media_uuid


def _task_for(generation: Generation, *, secret: str, client: RunwareClient) -> dict[str, Any]:
    choices = dict(generation.parameters)
    choices["referenceImages"] = [input_reference(asset=generation.image, client=client)]
    choices["referenceVideos"] = [input_reference(asset=generation.video, client=client)]
    task = spec.build_task(choices, task_uuid=str(generation.task_uuid))
    if generations.public_base_url_reachable():
        task["webhookURL"] = generations.webhook_url(generation, secret)
    task["includeCost"] = True
    return task


def _redacted(task: dict[str, Any]) -> dict[str, Any]:
    clean = dict(task)
    if "webhookURL" in clean:
        clean["webhookURL"] = clean["webhookURL"].rsplit("/", 2)[0] + f"/{REDACTED}/"
    inputs = dict(clean.get("inputs", {}))
    for key in ("referenceImages", "referenceVideos"):
        # Signed URLs are credentials too; keep only what identifies the input.
        inputs[key] = [
            value.split("?")[0].rsplit("/", 1)[0] + "/…" if value.startswith("http") else value
            for value in inputs.get(key, [])
        ]
    clean["inputs"] = inputs
    return clean


def generation_submit(*, generation_id: int) -> str:
    """Send one queued generation. Returns what happened: submitted / retry / failed / skipped."""
    with transaction.atomic():
        generation = (
            Generation.objects.select_for_update().select_related("image", "video").get(pk=generation_id)
        )
        if generation.status != Generation.Status.QUEUED:
            return "skipped"
        secret, secret_hash = generations.webhook_secret_new()
        generation.webhook_secret_hash = secret_hash
        generation.submit_attempts += 1
        generation.save(update_fields=["webhook_secret_hash", "submit_attempts", "updated_at"])
    attempt = generation.submit_attempts
    client = runware_client()
    try:
        task = _task_for(generation, secret=secret, client=client)
        problems = spec.validate(task)
        if problems:
            return _fail(
                generation_id, "invalidParameter", "; ".join(f"{p.parameter}: {p.message}" for p in problems)
            )
        client.submit(task)
    except RunwareError as exc:
        if exc.code == "conflictTaskUUID" and attempt > 1:
            # An earlier run of this task got the request through before dying: Runware already has it.
            logger.info(
                "Generation %s already accepted by Runware (conflictTaskUUID on re-run)", generation_id
            )
        else:
            return _fail(generation_id, exc.code or "runwareError", exc.message or str(exc))
    except RunwareTransportError as exc:
        limit = int(getattr(settings, "ANIMATE_MAX_SUBMIT_ATTEMPTS", 5))
        if attempt >= limit:
            return _fail(
                generation_id,
                "unreachable",
                f"Runware could not be reached after {attempt} attempts ({exc}).",
            )
        _schedule_submit_retry(generation_id, attempt)
        return "retry"
    finally:
        client.close()
    with transaction.atomic():
        generation = Generation.objects.select_for_update().get(pk=generation_id)
        generation.sent_task = _redacted(task)
        generation.save(update_fields=["sent_task", "updated_at"])
        generations.generation_transition(generation, Generation.Status.SUBMITTED)
        schedule_poll(generation_id, attempt=0)
    return "submitted"


def _fail(generation_id: int, code: str, message: str) -> str:
    with transaction.atomic():
        generation = Generation.objects.select_for_update().get(pk=generation_id)
        generations.generation_transition(
            generation, Generation.Status.FAILED, error_code=code, error_message=message
        )
    return "failed"


def _schedule_submit_retry(generation_id: int, attempt: int) -> None:
    from animate import tasks

    delay = min(60.0, float(getattr(settings, "ANIMATE_SUBMIT_RETRY_DELAY", 5.0)) * 2 ** (attempt - 1))
    run_after = timezone.now() + timedelta(seconds=delay)
    tasks.submit_generation.using(run_after=run_after).enqueue(generation_id)


def poll_delay(attempt: int) -> float:
    """Seconds before poll number ``attempt`` (0-based): an initial wait, then x1.5 up to a cap."""
    initial = float(getattr(settings, "ANIMATE_POLL_INITIAL_DELAY", 10.0))
    cap = float(getattr(settings, "ANIMATE_POLL_MAX_DELAY", 60.0))
    return min(cap, initial * 1.5**attempt)


def schedule_poll(generation_id: int, *, attempt: int, delay: float | None = None) -> None:
    from animate import tasks

    wait = poll_delay(attempt) if delay is None else delay
    tasks.poll_generation.using(run_after=timezone.now() + timedelta(seconds=wait)).enqueue(
        generation_id, attempt
    )
