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

from animate import storage as media_storage
from animate.logredact import redact
from animate.models import Asset, Generation
from animate.runware import spec
from animate.runware.client import RunwareClient, RunwareError, RunwareTransportError
from animate.services import generations, leases, result_uploads
from animate.services.signed_media import asset_signed_url

logger = logging.getLogger(__name__)


def runware_client() -> RunwareClient:
    return RunwareClient.from_settings()


class InputTooLarge(Exception):
    """An input too big to send through ``mediaStorage`` (which carries it base64 in a JSON body)."""


def input_reference(*, asset: Asset, client: RunwareClient) -> str:
    """How Runware gets an input: a signed, expiring URL to our media endpoint when Runware can reach
    PUBLIC_BASE_URL (no copy, Range-capable); otherwise the bytes go up through ``mediaStorage``, which
    carries them base64-encoded in one JSON body, so that path is capped."""
    if media_storage.is_s3(asset.file.storage) or generations.public_base_url_reachable():
        # A bucket's presigned GET is reachable wherever the bucket is, whatever PUBLIC_BASE_URL is.
        return asset_signed_url(
            asset=asset, expires_in=int(getattr(settings, "ANIMATE_INPUT_URL_TTL", 6 * 3600))
        )
    limit = int(getattr(settings, "ANIMATE_MEDIA_STORAGE_MAX_BYTES", 64 * 1024 * 1024))
    if asset.size > limit:
        raise InputTooLarge(
            f"The {asset.get_kind_display().lower()} is {asset.size // 2**20} MiB; without a PUBLIC_BASE_URL "
            f"that Runware can reach, inputs are uploaded and limited to {limit // 2**20} MiB."
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
    upload_endpoint = result_uploads.result_upload_url(generation=generation)
    if upload_endpoint:
        task["uploadEndpoint"] = upload_endpoint
    task["includeCost"] = True
    return task


def _redacted(task: dict[str, Any]) -> dict[str, Any]:
    """The task as stored and shown to the team: webhook secrets and signed-URL tokens are credentials."""
    clean = dict(task)
    for key in ("webhookURL", "uploadEndpoint"):
        if key in clean:
            clean[key] = redact(clean[key])
    inputs = dict(clean.get("inputs", {}))
    for key in ("referenceImages", "referenceVideos"):
        inputs[key] = [redact(value) for value in inputs.get(key, [])]
    clean["inputs"] = inputs
    return clean


def _claim(generation_id: int) -> tuple[Generation, str] | str:
    """Take the right to send: a fresh webhook secret (its hash added to the valid ones) and a lease, unless
    a live run holds one (a lease whose holder is gone is taken over at once: ``services.leases``)."""
    lease = timedelta(seconds=float(getattr(settings, "ANIMATE_SUBMIT_LEASE_SECONDS", 120)))
    with transaction.atomic():
        generation = (
            Generation.objects.select_for_update().select_related("image", "video").get(pk=generation_id)
        )
        if generation.status != Generation.Status.QUEUED:
            return "skipped"
        now = timezone.now()
        if (
            generation.submit_started_at
            and now - generation.submit_started_at < lease
            and leases.lease_holder_alive(generation.submit_lease_owner)
        ):
            # Another run is sending right now; look again once its lease has run out.
            tasks_module().submit_generation.using(run_after=generation.submit_started_at + lease).enqueue(
                generation_id
            )
            return "busy"
        secret, digest = generations.webhook_secret_new()
        generation.webhook_secret_hashes = [*generation.webhook_secret_hashes, digest]
        generation.submit_attempts += 1
        generation.submit_started_at = now
        generation.submit_lease_owner = leases.lease_owner()
        generation.save(
            update_fields=[
                "webhook_secret_hashes",
                "submit_attempts",
                "submit_started_at",
                "submit_lease_owner",
                "updated_at",
            ]
        )
    return generation, secret


def generation_submit(*, generation_id: int) -> str:
    """Send one queued generation. Returns what happened: submitted / retry / failed / skipped / busy."""
    claimed = _claim(generation_id)
    if isinstance(claimed, str):
        return claimed
    generation, secret = claimed
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
        if exc.code == "conflictTaskUUID" and attempt > 1 and exc.task_uuid == str(generation.task_uuid):
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
        Generation.objects.filter(pk=generation_id).update(submit_started_at=None)
        _schedule_submit_retry(generation_id, attempt)
        return "retry"
    except InputTooLarge as exc:
        return _fail(generation_id, "inputTooLarge", str(exc))
    except Exception as exc:
        # Anything else (a missing file, a bug) must still end the generation with a visible reason.
        logger.exception("Could not submit generation %s", generation_id)
        return _fail(generation_id, "internalError", f"The task could not be sent: {type(exc).__name__}.")
    finally:
        client.close()
    with transaction.atomic():
        generation = Generation.objects.select_for_update().get(pk=generation_id)
        generation.sent_task = _redacted(task)
        generation.submit_started_at = None
        generation.save(update_fields=["sent_task", "submit_started_at", "updated_at"])
        generations.generation_transition(generation, Generation.Status.SUBMITTED)
        schedule_poll(generation_id, attempt=0)
    return "submitted"


def tasks_module() -> Any:
    from animate import tasks  # tasks import this module; imported late to keep the direction one-way

    return tasks


def _fail(generation_id: int, code: str, message: str) -> str:
    with transaction.atomic():
        generation = Generation.objects.select_for_update().get(pk=generation_id)
        generations.generation_transition(
            generation, Generation.Status.FAILED, error_code=code, error_message=message
        )
    return "failed"


def _schedule_submit_retry(generation_id: int, attempt: int) -> None:
    delay = min(60.0, float(getattr(settings, "ANIMATE_SUBMIT_RETRY_DELAY", 5.0)) * 2 ** (attempt - 1))
    run_after = timezone.now() + timedelta(seconds=delay)
    tasks_module().submit_generation.using(run_after=run_after).enqueue(generation_id)


def poll_delay(attempt: int) -> float:
    """Seconds before poll number ``attempt`` (0-based): an initial wait, then x1.5 up to a cap."""
    initial = float(getattr(settings, "ANIMATE_POLL_INITIAL_DELAY", 10.0))
    cap = float(getattr(settings, "ANIMATE_POLL_MAX_DELAY", 60.0))
    return min(cap, initial * 1.5**attempt)


def schedule_poll(generation_id: int, *, attempt: int, delay: float | None = None) -> None:
    wait = poll_delay(attempt) if delay is None else delay
    tasks_module().poll_generation.using(run_after=timezone.now() + timedelta(seconds=wait)).enqueue(
        generation_id, attempt
    )
