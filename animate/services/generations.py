"""Creating generations and moving them through their lifecycle.

Every status change goes through ``generation_transition`` under a row lock, which refuses backward
moves, so a late ``processing`` can never undo ``done`` and two workers never race a status.
"""

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from animate import events
from animate.models import Asset, AuditEvent, Board, CostEntry, Generation, Membership, Preset
from animate.runware import pricing, spec
from animate.services import budgets, eta
from animate.services.audit import audit_record
from animate.services.teams import membership_require_spender

logger = logging.getLogger(__name__)

# Stand-ins used to validate a user's choices before the real input references exist.
_PLACEHOLDER_IMAGE = "https://example.invalid/character.png"
_PLACEHOLDER_VIDEO = "https://example.invalid/driving.mp4"
# Keys the server sets itself; a user's choices may not override them.
SERVER_KEYS = {
    "taskType",
    "taskUUID",
    "model",
    "deliveryMethod",
    "outputType",
    "includeCost",
    "webhookURL",
    "uploadEndpoint",
    "referenceImages",
    "referenceVideos",
    "inputs",
}


class GenerationRejected(Exception):
    """The request cannot become a generation; ``problems`` maps a field to a message."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems.items()))
        self.problems = problems


class IdempotencyKeyReused(Exception):
    """The ``Idempotency-Key`` was used before in the team for a different request."""

    def __init__(self, generation: Generation) -> None:
        super().__init__(f"the key was used for generation {generation.pk} with a different request")
        self.generation = generation


class DuplicateJob(Exception):
    """The same inputs, parameters and explicit seed were already run by the team: paying again needs a
    confirmation (the result would be the same)."""

    def __init__(self, earlier: Generation) -> None:
        super().__init__(f"identical to generation {earlier.pk}")
        self.earlier = earlier


@dataclass(frozen=True)
class Quote:
    task: dict[str, Any]
    problems: dict[str, str]
    estimate: Decimal | None
    tier: str | None
    billable_seconds: int | None
    number_results: int
    # The cheapest the task can cost; below ``estimate`` only when the size is left to Runware
    # (``pricing.price_range``), and then ``exact`` is False.
    estimate_min: Decimal | None = None
    exact: bool = True


def _choices_task(choices: dict[str, Any]) -> dict[str, Any]:
    clean = {key: value for key, value in choices.items() if key not in SERVER_KEYS}
    clean["referenceImages"] = [_PLACEHOLDER_IMAGE]
    clean["referenceVideos"] = [_PLACEHOLDER_VIDEO]
    return spec.build_task(clean)


def generation_quote(*, choices: dict[str, Any], video: Asset | None) -> Quote:
    """Spec validation and the exact price for a set of choices, without saving anything."""
    problems: dict[str, str] = {}
    try:
        task = _choices_task(choices)
    except (TypeError, ValueError) as exc:
        return Quote(
            task={},
            problems={"parameters": str(exc)},
            estimate=None,
            tier=None,
            billable_seconds=None,
            number_results=1,
        )
    for problem in spec.validate(task):
        problems.setdefault(problem.parameter or "parameters", problem.message)
    results = task.get("numberResults", 1) if isinstance(task.get("numberResults", 1), int) else 1
    estimate = lowest = tier = seconds = None
    exact = pricing.is_exact(task)
    if video is None:
        problems.setdefault("video", "Choose a driving video to get a price.")
    elif not problems:
        lowest, estimate = pricing.price_range(task, video.duration or 0)
        tier = pricing.tier_for_task(task) if exact else None
        seconds = pricing.billable_seconds(video.duration or 0)
    return Quote(
        task=task,
        problems=problems,
        estimate=estimate,
        tier=tier,
        billable_seconds=seconds,
        number_results=results,
        estimate_min=lowest,
        exact=exact,
    )


def job_fingerprint(*, image: Asset, video: Asset, parameters: dict[str, Any]) -> str:
    """The hash that makes two jobs identical: both input files, every parameter and an explicit seed.
    Blank without a seed: a random seed makes a different result, so such a job is never a repeat."""
    if parameters.get("seed") is None:
        return ""
    body = {"image": image.sha256, "video": video.sha256, "parameters": parameters}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def identical_earlier(
    *, team_id: int, image: Asset, video: Asset, choices: dict[str, Any]
) -> Generation | None:
    """The team's latest generation that was the same job (and did not fail), if any."""
    quote = generation_quote(choices=choices, video=video)
    if quote.problems:
        return None
    fingerprint = job_fingerprint(image=image, video=video, parameters=_stored_parameters(quote.task))
    return _earlier(team_id, fingerprint) if fingerprint else None


def _earlier(team_id: int, fingerprint: str) -> Generation | None:
    return (
        Generation.objects.filter(team_id=team_id, job_fingerprint=fingerprint)
        .exclude(status=Generation.Status.FAILED)
        .order_by("-created_at", "-id")
        .first()
    )


def _stored_parameters(task: dict[str, Any]) -> dict[str, Any]:
    parameters = spec.flatten_task(task)
    for key in ("referenceImages", "referenceVideos"):
        parameters.pop(key, None)
    return parameters


def _keyed(member: Membership, key: str, fingerprint: str) -> Generation | None:
    existing = Generation.objects.filter(team_id=member.team_id, idempotency_key=key).first()
    if existing is not None and existing.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(existing)
    return existing


def generation_create_once(
    *, membership: Membership | None, idempotency_key: str, request_fingerprint: str, **fields: Any
) -> tuple[Generation, bool]:
    """``generation_create`` under an idempotency key: the same key again in the team gives the same
    generation back (and True: a replay), never a second task; the key with another request is refused
    (``IdempotencyKeyReused``). Two racing requests are settled by the unique (team, key) constraint:
    the loser's transaction is rolled back whole, reservation and enqueue included, and it answers the
    winner's generation."""
    member = membership_require_spender(membership)
    existing = _keyed(member, idempotency_key, request_fingerprint)
    if existing is not None:
        return existing, True
    try:
        generation = generation_create(
            membership=member,
            idempotency_key=idempotency_key,
            request_fingerprint=request_fingerprint,
            **fields,
        )
    except IntegrityError:
        existing = _keyed(member, idempotency_key, request_fingerprint)
        if existing is None:
            raise
        return existing, True
    return generation, False


def generation_create(
    *,
    membership: Membership | None,
    image: Asset | None,
    video: Asset | None,
    choices: dict[str, Any],
    parent: Generation | None = None,
    board: Board | None = None,
    preset: Preset | None = None,
    confirm_duplicate: bool = False,
    idempotency_key: str = "",
    request_fingerprint: str = "",
    ip: str | None = None,
    keep_audio: bool | None = None,
) -> Generation:
    """Validate, price and save a queued generation; it is sent to Runware after the commit.

    ``keep_audio`` (None: on) gives each result the driving video's sound; it has no effect, and is
    stored off, when the driving video has none.

    ``board`` (of the same team) receives every result of the generation as it is stored. The quote is
    reserved against the team's and the member's budgets in the same transaction, under the team's lock;
    an over-budget run is refused with ``problems["budget"]`` before anything is sent. A job identical
    to an earlier one of the team (``job_fingerprint``) is refused with ``DuplicateJob`` unless
    ``confirm_duplicate``. ``preset`` (of the same team) is recorded as where the settings came from.
    """
    member = membership_require_spender(membership)
    problems: dict[str, str] = {}
    if image is None or image.team_id != member.team_id or image.kind != Asset.Kind.IMAGE:
        problems["image"] = "Choose a character image uploaded to your team."
    if video is None or video.team_id != member.team_id or video.kind != Asset.Kind.VIDEO:
        problems["video"] = "Choose a driving video uploaded to your team."
    quote = generation_quote(choices=choices, video=video if "video" not in problems else None)
    for field, message in quote.problems.items():
        if field != "video" or "video" not in problems:
            problems.setdefault(field, message)
    if board is not None and board.team_id != member.team_id:
        problems["board"] = "No such board in your team."
    if preset is not None and preset.team_id != member.team_id:
        problems["preset"] = "No such preset in your team."
    if problems or quote.estimate is None:
        raise GenerationRejected(problems or {"parameters": "These settings cannot be priced."})
    assert image is not None and video is not None
    parameters = _stored_parameters(quote.task)
    fingerprint = job_fingerprint(image=image, video=video, parameters=parameters)
    if fingerprint and not confirm_duplicate:
        earlier = _earlier(member.team_id, fingerprint)
        if earlier is not None:
            raise DuplicateJob(earlier)
    with transaction.atomic():
        try:
            reserved = budgets.budget_reserve(membership=member, amount=quote.estimate)
        except budgets.BudgetExceeded as exc:
            raise GenerationRejected(exc.problems) from exc
        generation = Generation.objects.create(
            team=member.team,
            created_by=member.user,
            image=image,
            video=video,
            parent=parent if parent is not None and parent.team_id == member.team_id else None,
            parameters=parameters,
            number_results=quote.number_results,
            estimated_cost=quote.estimate,
            reserved_cost=reserved,
            board=board,
            preset=preset,
            idempotency_key=idempotency_key,
            request_fingerprint=request_fingerprint,
            job_fingerprint=fingerprint,
            keep_audio=video.has_audio and keep_audio is not False,
        )
        audit_record(
            action=AuditEvent.Action.GENERATION_SUBMITTED,
            team=member.team_id,
            actor=member.user,
            target=generation,
            detail={"estimate": str(quote.estimate), "number_results": quote.number_results},
            ip=ip,
        )
        from animate import tasks  # tasks import services; imported here to keep the direction one-way

        # Enqueued in the same transaction: the generation and its submission commit together.
        tasks.submit_generation.enqueue(generation.pk)
        publish_status(generation)
    return generation


def webhook_secret_new() -> tuple[str, str]:
    """A fresh 256-bit secret for a generation's webhook URL, and the hash that is stored."""
    secret = secrets.token_urlsafe(32)
    return secret, webhook_secret_hash(secret)


def webhook_secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def webhook_secret_matches(generation: Generation, secret: str) -> bool:
    if not secret:
        return False
    digest = webhook_secret_hash(secret)
    # Every stored hash is compared (no early exit), each in constant time.
    matches = [hmac.compare_digest(stored, digest) for stored in generation.webhook_secret_hashes]
    return any(matches)


def webhook_url(generation: Generation, secret: str) -> str:
    path = reverse("runware-webhook", kwargs={"generation_id": generation.pk, "secret": secret})
    return f"{settings.PUBLIC_BASE_URL}{path}"


def public_base_url_reachable() -> bool:
    """Whether Runware could reach PUBLIC_BASE_URL: a loopback/private host can only be reached by the
    local sandbox, so with the real API such deployments complete by polling."""
    if settings.PUBLIC_BASE_URL_REACHABLE is not None:
        return settings.PUBLIC_BASE_URL_REACHABLE
    if settings.RUNWARE_SANDBOX:
        return True
    host = urlsplit(settings.PUBLIC_BASE_URL).hostname or ""
    if host in {"localhost", ""} or host.endswith((".local", ".localhost", ".internal")):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True
    return not (address.is_private or address.is_loopback or address.is_link_local)


def generation_transition(
    generation: Generation,
    status: str,
    *,
    error_code: str = "",
    error_message: str = "",
    results_failed: int | None = None,
) -> bool:
    """Move a locked generation forward; returns False (and changes no status) for backward or terminal
    moves.

    A backward move to a step the run went through without its timestamp (the submit's acknowledgement
    arriving after a webhook result) still stamps that step. ``results_failed`` (with ``error_*``) ends a
    run as done with some results missing. The caller holds ``select_for_update`` on the row inside a
    transaction.
    """
    current = Generation.Status(generation.status)
    target = Generation.Status(status)
    now = timezone.now()
    if generation.is_terminal or Generation.ORDER[target] < Generation.ORDER[current] or target == current:
        late = (
            target not in Generation.TERMINAL
            and Generation.ORDER[target] <= Generation.ORDER[current]
            and generation.steps_stamp(target, now)
        )
        if late:
            generation.save(update_fields=[*late, "updated_at"])
            publish_status(generation)
        return False
    generation.status = target
    fields = ["status", "updated_at", *generation.steps_stamp(target, now)]
    if target in Generation.TERMINAL:
        # An ended run holds nothing against the budgets any more: what it cost is in the ledger.
        generation.reserved_cost = Decimal("0")
        fields.append("reserved_cost")
        if generation.unknown_since is not None:
            generation.unknown_since = None
            fields.append("unknown_since")
    if target == Generation.Status.FAILED or (target == Generation.Status.DONE and error_code):
        generation.error_code = error_code[:64]
        generation.error_message = error_message[:2000]
        fields += ["error_code", "error_message"]
    if target in Generation.TERMINAL and results_failed is not None:
        generation.results_failed = results_failed
        fields.append("results_failed")
    generation.save(update_fields=fields)
    publish_status(generation)
    return True


def generation_advance(generation_id: int, status: str, **kwargs: str) -> bool:
    """``generation_transition`` for a caller holding no lock: a move that cannot go forward costs one
    read and takes no lock."""
    current = Generation.objects.values_list("status", flat=True).get(pk=generation_id)
    if current in Generation.TERMINAL or Generation.ORDER[status] <= Generation.ORDER[current]:
        # Statuses only move forward, so a move that is a no-op now stays one: no lock needed.
        return False
    with transaction.atomic():
        generation = Generation.objects.select_for_update().get(pk=generation_id)
        return generation_transition(generation, status, **kwargs)


def charged_unstored(generation: Generation, *, outputs: list[Any] | None = None) -> int:
    """How many of this run's charges have no stored result: a charged result whose video never reached
    our storage, or a failed task Runware charged for. Reads the prefetched ``cost_entries`` and
    ``outputs`` when a list prefetched them. The gallery counts the same in SQL
    (``gallery._charged_unstored_of_run``): a change here is a change there."""
    stored = {output.video_uuid for output in (generation.outputs.all() if outputs is None else outputs)}
    count = 0
    for entry in generation.cost_entries.all():
        if entry.flagged or entry.amount <= 0:
            continue
        if entry.kind == CostEntry.Kind.FAILED_CHARGED or (
            entry.kind == CostEntry.Kind.RESULT and entry.video_uuid not in stored
        ):
            count += 1
    return count


def charge_flag(generation: Generation, *, unstored: int, received: int) -> str:
    """The words shown wherever a run appears when money was spent on it without a result to show."""
    if unstored <= 0:
        return ""
    if received == 0:
        return "Charged, no result" if generation.is_terminal else "Charged, result not stored yet"
    return f"Charged, {unstored} result{'' if unstored == 1 else 's'} not stored"


def status_label(generation: Generation, *, received: int) -> str:
    """The status as people read it: "Done — 2 of 3" when some results failed, and never a plain "Done"
    when Runware reported an error after the results."""
    if generation.is_partial:
        return f"Done — {received} of {generation.number_results}"
    if generation.is_done_with_error:
        return "Done — error reported"
    return str(Generation.Status(generation.status).label)


def generation_event(generation: Generation, *, rates: Any = None) -> dict[str, Any]:
    """The small JSON-safe dict the browser receives for a generation (also used in snapshots).

    ``rates`` (``animate.services.eta.team_rates``) when the caller built them once for many runs; a run
    in flight carries its ETA, an ended one none."""

    def stamp(value: Any) -> str | None:
        return value.isoformat() if value else None

    outputs = list(generation.outputs.all())
    received = len(outputs)
    unstored = charged_unstored(generation, outputs=outputs)
    return {
        "type": "generation.status",
        "id": generation.pk,
        "status": generation.status,
        "status_label": status_label(generation, received=received),
        "results_failed": generation.results_failed,
        "partial": generation.is_partial,
        "error_code": generation.error_code,
        "unknown_since": stamp(generation.unknown_since),
        "dismissed": generation.dismissed_at is not None,
        "eta": None if generation.is_terminal else eta.eta_for_generation(generation, rates=rates),
        "results_received": received,
        "charged_no_result": unstored > 0,
        "charge_flag": charge_flag(generation, unstored=unstored, received=received),
        "number_results": generation.number_results,
        "created_by": generation.created_by_id,
        "error": generation.error_message,
        "estimated_cost": str(generation.estimated_cost),
        "actual_cost": str(generation.actual_cost) if generation.actual_cost is not None else None,
        "reserved_cost": str(generation.reserved_cost),
        "timestamps": {
            "created": stamp(generation.created_at),
            "submitted": stamp(generation.submitted_at),
            "processing": stamp(generation.processing_at),
            "receiving": stamp(generation.receiving_at),
            "completed": stamp(generation.completed_at),
            "updated": stamp(generation.updated_at),
        },
        "url": reverse("generation-detail", kwargs={"pk": generation.pk}),
    }


def publish_status(generation: Generation) -> None:
    events.publish_on_commit(events.team_group(generation.team_id), generation_event(generation))
