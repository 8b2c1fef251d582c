"""One ingestion path for results, whether they come by webhook or by polling getResponse.

Each result is keyed by (taskUUID, videoUUID) and applied at most once: the Output row and the ledger row
both carry unique constraints, so duplicates, retries and replays change nothing. Slow I/O (downloading
the video) happens outside any transaction; state changes happen in short transactions that lock the
generation row.

A generation takes at most ``numberResults`` results, whatever the order deliveries arrive in: each new
videoUUID claims a place under the row lock (``result_admit``) before its video is fetched. A failure
takes one place (Runware reports each result on its own, so a result that ended before the failure may
still arrive after it); a done generation has none left. A body beyond that is stored and answered 2xx
like any other, its webhook event is marked with the anomaly, and any cost it claims is written as a
flagged ledger row that reconciliation shows, never added to the generation's actual cost.

Webhook bodies reach ``results_apply`` through ``animate.services.webhook_events``, which stores them and
applies them in arrival order.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from animate import events
from animate.models import CostEntry, Generation, Output
from animate.runware import spec
from animate.services import boards, budgets, generations, ledger, remux, result_fetches, result_uploads
from animate.services.downloads import (
    DownloadFailed,
    DownloadRejected,
    checked_provider_url,
    decode_inline_video,
    download_provider_file,
)
from animate.services.media import MediaRejected, output_store

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApplySummary:
    outputs_created: int = 0
    duplicates: int = 0
    status: str = ""
    anomalies: tuple[str, ...] = ()


def results_apply(*, generation_id: int, results: list[spec.VideoResult]) -> ApplySummary:
    """Apply results in order. A result whose video cannot be fetched right now does not stop the others;
    the first such failure is raised once all are applied, so the caller can retry later."""
    task_uuid = str(Generation.objects.values_list("task_uuid", flat=True).get(pk=generation_id))
    created = duplicates = 0
    anomalies: list[str] = []
    deferred: DownloadFailed | None = None
    for result in results:
        if result.task_uuid and result.task_uuid != task_uuid:
            logger.warning("Ignoring a result of task %s for generation %s", result.task_uuid, generation_id)
            continue
        if result.status == "processing":
            generations.generation_advance(generation_id, Generation.Status.PROCESSING)
        elif result.status == "error":
            anomaly = result_error_apply(generation_id=generation_id, task_uuid=task_uuid, result=result)
            if anomaly:
                anomalies.append(anomaly)
        elif result.status == "success":
            try:
                outcome = result_ingest(generation_id=generation_id, result=result)
            except DownloadFailed as exc:
                logger.warning(
                    "Result %s of generation %s not fetched yet: %s", result.video_uuid, generation_id, exc
                )
                deferred = deferred or exc
                continue
            if outcome == CREATED:
                created += 1
            elif outcome == DUPLICATE:
                duplicates += 1
            else:
                anomalies.append(outcome)
    for anomaly in anomalies:
        logger.warning("Anomalous result for generation %s: %s", generation_id, anomaly)
    if deferred is not None:
        raise deferred
    status = Generation.objects.values_list("status", flat=True).get(pk=generation_id)
    return ApplySummary(
        outputs_created=created, duplicates=duplicates, status=status, anomalies=tuple(anomalies)
    )


# What ``result_ingest`` did with a result, when it is not an anomaly (then: the anomaly's description).
CREATED = "created"
DUPLICATE = "duplicate"


def result_places(generation: Generation) -> int:
    """How many results ``generation`` takes: numberResults, less the places Runware's errors ended.

    A run that failed for another reason (stopped waiting, unknown to Runware, timed out) keeps every
    place: a result that arrives late was still paid for, so it is stored and shown."""
    if generation.status == Generation.Status.DONE:
        return len(generation.result_uuids)
    return generation.number_results - generation.results_failed


def result_admit(*, generation_id: int, video_uuid: str, cost: Decimal | None) -> str | None:
    """Take ``video_uuid`` as one of the generation's results, under the row lock; None when it is (or
    already was) taken, else the anomaly, whose claimed cost is then recorded as a flagged ledger row."""
    with transaction.atomic():
        generation = Generation.objects.select_for_update().select_related("video").get(pk=generation_id)
        if video_uuid in generation.result_uuids:
            return None
        places = result_places(generation)
        if len(generation.result_uuids) < places:
            generation.result_uuids = [*generation.result_uuids, video_uuid]
            generation.save(update_fields=["result_uuids", "updated_at"])
            return None
        n = generation.number_results
        if generation.status == Generation.Status.DONE:
            anomaly = f"result {video_uuid} after the generation was done (numberResults {n})"
        elif generation.status == Generation.Status.FAILED:
            anomaly = f"result {video_uuid} after the generation failed (numberResults {n})"
        else:
            anomaly = f"result {video_uuid} beyond numberResults ({n})"
        _charge_flagged(
            generation,
            key=f"{generation.task_uuid}:{video_uuid}",
            cost=cost,
            video_uuid=video_uuid,
            reason=anomaly,
        )
        return anomaly


def result_error_apply(*, generation_id: int, task_uuid: str, result: spec.VideoResult) -> str | None:
    """Apply Runware's error for the task, once: it ends one of the run's results (the others may still
    arrive, or have), and its cost is recorded. None, or the anomaly when every result was already in:
    that error is then shown on the run (never hidden behind a plain "Done") and its claimed cost is
    flagged.

    With numberResults > 1 the run ends when every place is settled: failed if no result arrived, else
    done with the results that did ("Done — 2 of 3"). getResponse answering no result still processing
    settles the places no result will take (``_settle_if_over``).
    """
    # Errors carry no videoUUID; Runware ends a task with one error, so one key per task.
    key = f"{task_uuid}:error"
    code = result.error_code or "error"
    message = result.error_message or "Runware reported an error for this task."
    with transaction.atomic():
        generation = Generation.objects.select_for_update().select_related("video").get(pk=generation_id)
        if CostEntry.objects.filter(key=key).exists() or _error_applied(generation, code, message):
            return None  # this error was applied before (a webhook and a poll both report it)
        first = not generation.error_code
        claimed = len(generation.result_uuids)
        if generation.status == Generation.Status.DONE or claimed >= generation.number_results:
            anomaly = f"error after all {generation.number_results} result(s) were in"
            _charge_flagged(
                generation, key=key, cost=result.cost, reason=anomaly, kind=CostEntry.Kind.FAILED_CHARGED
            )
            if first:
                generation.error_code = code[:64]
                generation.error_message = f"After the results were in, Runware reported: {message}"[:2000]
                generation.save(update_fields=["error_code", "error_message", "updated_at"])
                generations.publish_status(generation)
            return anomaly
        if result.cost is not None:
            _charge(generation_id, key=key, cost=result.cost, kind=CostEntry.Kind.FAILED_CHARGED)
            generation.refresh_from_db(fields=["actual_cost", "reserved_cost"])
        if generation.is_terminal or not first:
            return None  # already ended (e.g. stopped waiting), or this error was counted before
        generation.results_failed = 1
        generation.error_code = code[:64]
        generation.error_message = message[:2000]
        if not _settle(generation):
            # A webhook says nothing of the other results: getResponse tells whether any is still
            # processing (a task-wide error ends them all), one look shortly, beside the poll chain.
            from animate import tasks

            delay = float(getattr(settings, "ANIMATE_ERROR_CHECK_DELAY", 2.0))
            run_after = timezone.now() + timedelta(seconds=delay)
            transaction.on_commit(
                lambda: tasks.check_generation.using(run_after=run_after).enqueue(generation_id)
            )
    return None


def _error_applied(generation: Generation, code: str, message: str) -> bool:
    """Whether the run already carries this error of Runware's. An error without a cost leaves no ledger
    row to recognise it by; what it wrote on the run is the mark (the code, and the message as such or
    quoted after "After the results were in")."""
    return generation.error_code == code[:64] and message[:200] in generation.error_message


def _settle(generation: Generation) -> bool:
    """End a locked run whose every place is taken by a stored result or an error; else save its count of
    failed results (and the error) and tell the browsers. True when every place is settled."""
    stored = generation.outputs.count()
    claimed = len(generation.result_uuids)
    settled = claimed + generation.results_failed >= generation.number_results
    if settled and claimed == 0:
        generations.generation_transition(
            generation,
            Generation.Status.FAILED,
            error_code=generation.error_code,
            error_message=generation.error_message,
            results_failed=generation.results_failed,
        )
    elif settled and stored >= claimed:
        generations.generation_transition(
            generation,
            Generation.Status.DONE,
            error_code=generation.error_code,
            error_message=generation.error_message,
            results_failed=generation.results_failed,
        )
    else:
        # Results still on their way (or downloading): the last one stored ends the run (``_record``).
        generation.save(update_fields=["results_failed", "error_code", "error_message", "updated_at"])
        generations.publish_status(generation)
    return settled


def response_apply(*, generation_id: int, results: list[spec.VideoResult]) -> ApplySummary:
    """Apply a getResponse answer: its results, then what its being cumulative tells (``_settle_if_over``)."""
    summary = results_apply(generation_id=generation_id, results=results)
    _settle_if_over(generation_id, results)
    return summary


def _settle_if_over(generation_id: int, results: list[spec.VideoResult]) -> None:
    """getResponse's state is cumulative: an error with no result still processing means Runware is done
    with the task, so the places no result has taken are failed ones."""
    if not any(result.status == "error" for result in results) or any(
        result.status == "processing" for result in results
    ):
        return
    with transaction.atomic():
        generation = Generation.objects.select_for_update().get(pk=generation_id)
        if generation.is_terminal or not generation.error_code:
            return
        generation.results_failed = generation.number_results - len(generation.result_uuids)
        _settle(generation)


def _result_refuse(*, generation_id: int, result: spec.VideoResult, video_uuid: str, reason: str) -> str:
    """A result whose video must not be fetched: the generation fails, its claimed cost is flagged."""
    anomaly = f"result {video_uuid} refused: {reason}"
    with transaction.atomic():
        generation = Generation.objects.select_for_update().select_related("video").get(pk=generation_id)
        _charge_flagged(
            generation,
            key=f"{generation.task_uuid}:{video_uuid}",
            cost=result.cost,
            video_uuid=video_uuid,
            reason=anomaly,
        )
        generations.generation_transition(
            generation, Generation.Status.FAILED, error_code="resultRejected", error_message=reason
        )
    return anomaly


def _video_uuid(result: spec.VideoResult) -> str:
    try:
        return str(uuid.UUID(str(result.video_uuid)))
    except ValueError:
        raise ValueError("a successful result without a valid videoUUID") from None


def _refusal(result: spec.VideoResult) -> str | None:
    """Why a result's video must not be fetched, known before any I/O; None to go ahead."""
    if result.video_url:
        try:
            checked_provider_url(result.video_url)
        except DownloadRejected as exc:
            return str(exc)
        return None
    if not (result.video_base64_data or result.video_data_uri):
        return "the result carries neither a video URL nor inline video data"
    return None


def result_ingest(*, generation_id: int, result: spec.VideoResult) -> str:
    """Store one successful result: ``CREATED``, ``DUPLICATE`` (already stored) or the anomaly."""
    video_uuid = _video_uuid(result)
    generation = Generation.objects.get(pk=generation_id)
    key = f"{generation.task_uuid}:{video_uuid}"
    output = Output.objects.filter(generation=generation, video_uuid=video_uuid).first()
    if output is not None and (result.cost is None or CostEntry.objects.filter(key=key).exists()):
        return DUPLICATE  # a replay of a stored result costs two indexed lookups and no write
    if (
        output is None
        and (reason := _refusal(result)) is not None
        and not result_uploads.result_upload_arrived(generation_id=generation_id)
    ):
        return _result_refuse(
            generation_id=generation_id, result=result, video_uuid=video_uuid, reason=reason
        )
    anomaly = result_admit(generation_id=generation_id, video_uuid=video_uuid, cost=result.cost)
    if anomaly is not None:
        return anomaly
    if result.cost is not None:
        # Runware charged for this result whether or not its video ever reaches our storage.
        _charge(generation_id, key=key, cost=result.cost, video_uuid=video_uuid)
    created = output is None
    if output is None:
        with result_fetches.result_fetch(generation_id=generation_id, video_uuid=video_uuid) as ours:
            if not ours:
                # Another run announcing the same result is fetching it; its stored Output is announced.
                return DUPLICATE
            output = _result_fetch(generation, result, video_uuid)
            if output is None:  # stored by the run whose claim ended just before ours began
                output = Output.objects.get(generation=generation, video_uuid=video_uuid)
                created = False
    _record(generation_id=generation_id, output=output, announce=created)
    return CREATED if created else DUPLICATE


def _result_fetch(generation: Generation, result: spec.VideoResult, video_uuid: str) -> Output | None:
    """The result's video into storage, under this run's claim on fetching it; None when it is stored
    already."""
    generation_id = generation.pk
    if Output.objects.filter(generation=generation, video_uuid=video_uuid).exists():
        return None
    generations.generation_advance(generation_id, Generation.Status.RECEIVING)
    # Delivered by uploadEndpoint: the uploaded object is checked and used, videoURL never fetched.
    output = result_uploads.result_upload_ingest(
        generation=generation,
        video_uuid=video_uuid,
        seed=result.seed,
        nsfw=bool(result.nsfw_content),
        cost=result.cost,
    )
    if output is None:
        try:
            if result.video_url:
                downloaded = download_provider_file(url=result.video_url)
            else:
                downloaded = decode_inline_video(
                    base64_data=result.video_base64_data, data_uri=result.video_data_uri
                )
        except DownloadRejected as exc:
            generations.generation_advance(
                generation_id, Generation.Status.FAILED, error_code="resultRejected", error_message=str(exc)
            )
            raise
        try:
            output = output_store(
                generation=generation,
                video_uuid=video_uuid,
                path=downloaded.path,
                content_type=downloaded.content_type,
                seed=result.seed,
                nsfw=bool(result.nsfw_content),
                cost=result.cost,
            )
        except MediaRejected as exc:
            generations.generation_advance(
                generation_id,
                Generation.Status.FAILED,
                error_code="resultUnreadable",
                error_message=exc.message,
            )
            raise
        # Outside any transaction, before the result is announced; never raises (Runware's file stays).
        output = remux.output_audio_attach(output=output)
    return output


def _charge(
    generation_id: int,
    *,
    key: str,
    cost: Decimal,
    kind: str = CostEntry.Kind.RESULT,
    video_uuid: str | None = None,
) -> None:
    """One ledger row per charged result (unique key); the generation's actual cost sits beside its
    estimate."""
    with transaction.atomic():
        generation = Generation.objects.select_for_update().select_related("video").get(pk=generation_id)
        if CostEntry.objects.filter(key=key).exists():
            return
        CostEntry.objects.create(
            key=key,
            kind=kind,
            video_uuid=video_uuid,
            amount=cost,
            **ledger.entry_facts(generation),
        )
        total = generation.cost_entries.filter(flagged=False).aggregate(total=Sum("amount"))["total"]
        generation.actual_cost = ledger.amount_total(total)
        # The reservation is released to the actual charge as it arrives.
        generation.reserved_cost = budgets.reservation_left(generation)
        generation.save(update_fields=["actual_cost", "reserved_cost", "updated_at"])
        budgets.budget_alerts_check(team=generation.team_id, user_id=generation.created_by_id)


def _charge_flagged(
    generation: Generation,
    *,
    key: str,
    cost: Decimal | None,
    reason: str,
    kind: str = CostEntry.Kind.RESULT,
    video_uuid: str | None = None,
) -> None:
    """A cost claimed by an anomalous body: a flagged ledger row, kept out of the generation's actual
    cost until reconciliation says otherwise. A claim of nothing writes nothing. The caller holds the
    generation's row lock."""
    if not cost or CostEntry.objects.filter(key=key).exists():
        return
    CostEntry.objects.create(
        key=key,
        kind=kind,
        video_uuid=video_uuid,
        amount=cost,
        flagged=True,
        flag_reason=reason[:255],
        **ledger.entry_facts(generation),
    )


def _record(*, generation_id: int, output: Output, announce: bool) -> None:
    """Announce a stored output and move the status, in one transaction."""
    with transaction.atomic():
        generation = Generation.objects.select_for_update().get(pk=generation_id)
        if announce:
            # The board chosen at submit time gets the result in the same commit that announces it.
            boards.board_autoadd(output=output)
            # The output is announced before the status that counts it, so a browser that sees "done"
            # has already been told about every output.
            events.publish_on_commit(events.team_group(generation.team_id), output_event(output))
        received = generation.outputs.count()
        # Places ended by Runware's errors count as settled: the run is done with the results it has.
        settled = received > 0 and received + generation.results_failed >= generation.number_results
        target = Generation.Status.DONE if settled else Generation.Status.RECEIVING
        moved = generations.generation_transition(
            generation,
            target,
            error_code=generation.error_code if generation.results_failed else "",
            error_message=generation.error_message if generation.results_failed else "",
            results_failed=generation.results_failed,
        )
        if announce and not moved:
            # "k of n results" changed even though the status did not.
            generations.publish_status(generation)


def output_event(output: Output) -> dict[str, Any]:
    return {
        "type": "generation.output",
        "id": output.generation_id,
        "output": {
            "id": output.pk,
            "video_uuid": str(output.video_uuid),
            "url": reverse("media-output", kwargs={"pk": output.pk}),
            "poster": reverse("media-output-poster", kwargs={"pk": output.pk}) if output.poster else None,
            "seed": output.seed,
            "nsfw": output.nsfw,
            "cost": str(output.cost) if output.cost is not None else None,
            "width": output.width,
            "height": output.height,
            "duration": output.duration,
            "audio": output.audio,
            "audio_note": output.audio_note,
            "original": reverse("media-output-original", kwargs={"pk": output.pk})
            if output.original_file
            else None,
        },
    }
