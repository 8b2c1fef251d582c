"""The sandbox's state and background work: accepted tasks, their results, and stored media.

State lives in memory (one process: the embedded server or the standalone command) behind one lock;
rendered videos and uploaded media are files under ``RUNWARE_SANDBOX_ROOT``. Accepted tasks run on a
small thread pool; their deliveries go through a per-task Courier so rendering never waits on a
receiver. The standalone sandbox also writes its state to a SQLite file (``RUNWARE_SANDBOX_STATE``, see
``state``) and, started again, resumes the tasks it had not finished, as Runware would.
"""

import logging
import random
import re
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from PIL import Image

from animate.runware import pricing
from animate.runware.sandbox import outbound, render
from animate.runware.sandbox.delivery import Courier
from animate.runware.sandbox.faults import Faults
from animate.runware.sandbox.inputs import InputError, load
from animate.runware.sandbox.state import StateFile, StoredMedia

logger = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_TTL = 24 * 3600
DEFAULT_WORKERS = 2
DEFAULT_BALANCE = Decimal("1000.00")
DOCUMENTATION = "https://runware.ai/docs/models/alibaba-wan2-2-animate"
# Runware's own wording for this code (docs/platform/errors); other injected codes get a generic text.
ERROR_MESSAGES = {"timeoutProvider": "The external provider did not respond within the timeout window."}
# What getResponse answers for a task the sandbox was told to forget (the `forget` fault): the code of
# Runware's SDK for a task it has no record of.
UNKNOWN_TASK_CODE = "taskFailedOrNotFound"
UPLOAD_TYPES = (  # (magic test, extension, content type) for mediaStorage uploads
    (lambda head: head.startswith(b"\x89PNG\r\n\x1a\n"), "png", "image/png"),
    (lambda head: head.startswith(b"\xff\xd8\xff"), "jpg", "image/jpeg"),
    (lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP", "webp", "image/webp"),
    (lambda head: head[4:12] == b"ftypqt  ", "mov", "video/quicktime"),
    (lambda head: head[4:8] == b"ftyp", "mp4", "video/mp4"),
    (lambda head: head.startswith(b"\x1a\x45\xdf\xa3"), "webm", "video/webm"),
)


def root() -> Path:
    return Path(getattr(settings, "RUNWARE_SANDBOX_ROOT", settings.VAR_DIR / "sandbox"))


def documentation(parameter: str | None = None) -> str:
    """The model page, anchored at the parameter the way Runware's docs name their anchors."""
    if not parameter:
        return DOCUMENTATION
    # lora[0].weight is documented once, as lora.weight: row numbers are not part of the anchor.
    anchor = re.sub(r"\[\d*\]", "", parameter).lower().replace(".", "-")
    return f"{DOCUMENTATION}#request-{anchor}"


class ConflictError(Exception):
    """The taskUUID was used before."""


@dataclass
class Media:
    path: Path
    extension: str
    content_type: str
    expires_at: float
    faults: Faults = field(default_factory=Faults)  # download faults of the task that made it


@dataclass
class TaskState:
    task: dict[str, Any]
    faults: Faults
    base_url: str
    results: list[dict[str, Any]]  # one item per result: "processing" until it is done
    errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Prepared:
    character: Image.Image
    driving: bytes
    seconds: float
    width: int
    height: int


class Sandbox:
    def __init__(self, *, workers: int, state_path: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._tasks: dict[str, TaskState] = {}
        self._submits: Counter[str] = Counter()
        self._media: dict[str, Media] = {}
        self._forgotten: set[str] = set()
        self._spent = Decimal(0)
        # What was charged each UTC day, and for how many results: the answer to getUsageActivity.
        self._usage: dict[date, list[Any]] = {}
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="runware-sandbox")
        self.clock = time.time  # replaceable, so tests can age media past its ttl
        self._state = StateFile(state_path) if state_path else None
        if self._state is not None:
            self._load(self._state)

    # --- persistence (standalone) -----------------------------------------------------------------

    def _load(self, state: StateFile) -> None:
        """Read the state file back and resume the tasks that had not finished delivering."""
        unfinished = []
        for stored in state.tasks():
            task_uuid = stored.task["taskUUID"]
            faults = Faults(**stored.faults)
            if faults.forget:
                # Lost on purpose when accepted: a restart does not bring it back.
                self._forgotten.add(task_uuid)
                continue
            self._tasks[task_uuid] = TaskState(
                stored.task, faults, stored.base_url, stored.results, stored.errors
            )
            if not stored.finished:
                unfinished.append(task_uuid)
        for item in state.media():
            self._media[item.media_uuid] = Media(
                item.path, item.extension, item.content_type, item.expires_at, Faults(**item.faults)
            )
        self._submits.update(state.submits())
        for day, (amount, results) in state.usage().items():
            self._usage[date.fromisoformat(day)] = [amount, results]
            self._spent += amount
        for task_uuid in unfinished:
            logger.info("Sandbox: resuming task %s accepted before the restart", task_uuid)
            self._pool.submit(self._run, task_uuid)

    def _save_task(self, task_uuid: str, state: TaskState) -> None:
        """Called with the lock held, whenever a task's results or errors change."""
        if self._state is not None:
            self._state.task_save(
                task_uuid,
                task=state.task,
                faults=asdict(state.faults),
                base_url=state.base_url,
                results=state.results,
                errors=state.errors,
            )

    def _save_media(self, media_uuid: str, media: Media) -> None:
        if self._state is not None:
            self._state.media_save(
                StoredMedia(
                    media_uuid,
                    media.path,
                    media.extension,
                    media.content_type,
                    media.expires_at,
                    asdict(media.faults),
                )
            )

    def _finished(self, task_uuid: str) -> None:
        if self._state is not None:
            with self._lock:
                self._state.task_finished(task_uuid)

    # --- submissions ------------------------------------------------------------------------------

    def count_submit(self, task_uuid: str) -> int:
        """Number this submission of ``task_uuid`` (1 for the first), accepted or not."""
        with self._lock:
            self._submits[task_uuid] += 1
            if self._state is not None:
                self._state.submit_save(task_uuid, self._submits[task_uuid])
            return self._submits[task_uuid]

    def accept(self, task: dict[str, Any], *, faults: Faults, base_url: str) -> dict[str, Any]:
        """Store a valid task and start it; returns the acknowledgement item."""
        task_uuid = task["taskUUID"]
        processing = {"taskType": "videoInference", "taskUUID": task_uuid, "status": "processing"}
        with self._lock:
            if task_uuid in self._tasks:
                raise ConflictError(task_uuid)
            count = task.get("numberResults", 1)
            self._tasks[task_uuid] = TaskState(
                task, faults, base_url, [dict(processing) for _ in range(count)]
            )
            self._save_task(task_uuid, self._tasks[task_uuid])
        self._sweep()
        if faults.forget:
            # Accepted and acknowledged, then lost: no result, no webhook, and getResponse says so.
            with self._lock:
                del self._tasks[task_uuid]
                self._forgotten.add(task_uuid)
            return {"taskType": "videoInference", "taskUUID": task_uuid}
        if faults.delay:
            timer = threading.Timer(faults.delay, self._pool.submit, args=(self._run, task_uuid))
            timer.daemon = True
            timer.start()
        else:
            self._pool.submit(self._run, task_uuid)
        return {"taskType": "videoInference", "taskUUID": task_uuid}

    def task_uuids(self) -> set[str]:
        """Every task accepted so far (tests count paid tasks with it)."""
        with self._lock:
            return set(self._tasks)

    def forgotten(self, task_uuid: str) -> bool:
        """Whether the task was accepted and then forgotten (the ``forget`` fault)."""
        with self._lock:
            return task_uuid in self._forgotten

    def get_response(self, task_uuid: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Cumulative state: processing and successful results, then failures. Unknown UUIDs: nothing."""
        with self._lock:
            state = self._tasks.get(task_uuid)
            if state is None:
                return [], []
            results = [dict(item) for item in state.results if item]  # a failed result's slot is empty
            return results, [dict(item) for item in state.errors]

    # --- media ------------------------------------------------------------------------------------

    def media(self, media_uuid: str) -> Media | None:
        with self._lock:
            media = self._media.get(media_uuid)
        if media is None or media.expires_at <= self.clock():
            return None
        return media

    def media_path(self, media_uuid: str) -> Path | None:
        media = self.media(media_uuid)
        return media.path if media else None

    def upload(self, value: object) -> tuple[str, Media]:
        """mediaStorage upload: the bytes behind a URL / data URI / base64, kept for the default ttl."""
        data = load(value, code="invalidMedia", parameter="media", lookup=self.media_path)
        kind = next(((ext, ctype) for test, ext, ctype in UPLOAD_TYPES if test(data[:16])), None)
        if kind is None:
            raise InputError(
                "invalidMedia",
                "The media is not a PNG, JPEG, WEBP, MP4, MOV or WEBM file.",
                parameter="media",
            )
        media_uuid = str(uuid.uuid4())
        folder = root() / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{media_uuid}.{kind[0]}"
        path.write_bytes(data)
        media = Media(path, kind[0], kind[1], self.clock() + DEFAULT_TTL)
        with self._lock:
            self._media[media_uuid] = media
            self._save_media(media_uuid, media)
        return media_uuid, media

    def delete_media(self, media_uuid: str) -> bool:
        with self._lock:
            media = self._media.pop(media_uuid, None)
            if media is not None and self._state is not None:
                self._state.media_delete([media_uuid])
        if media is not None:
            media.path.unlink(missing_ok=True)
        return media is not None

    def balance(self) -> Decimal:
        initial = Decimal(str(getattr(settings, "RUNWARE_SANDBOX_BALANCE", DEFAULT_BALANCE)))
        with self._lock:
            return initial - self._spent

    def today(self) -> date:
        return datetime.fromtimestamp(self.clock(), tz=UTC).date()

    def usage(self, start: date, end: date) -> list[tuple[date, Decimal, int]]:
        """(day, amount charged, results charged) for each UTC day from start to end with any usage."""
        with self._lock:
            return [
                (day, amount, results)
                for day, (amount, results) in sorted(self._usage.items())
                if start <= day <= end
            ]

    def usage_since(self, days: int) -> tuple[Decimal, int]:
        """Amount and results charged over the last ``days`` UTC days, today included (0: every day)."""
        first = self.today() - timedelta(days=days - 1) if days else date.min
        with self._lock:
            chosen = [value for day, value in self._usage.items() if day >= first]
        return sum((amount for amount, _ in chosen), Decimal(0)), sum(results for _, results in chosen)

    def _charge(self, amount: Decimal) -> None:
        """Called with the lock held, when a result is delivered."""
        self._spent += amount
        bucket = self._usage.setdefault(self.today(), [Decimal(0), 0])
        bucket[0] += amount
        bucket[1] += 1
        if self._state is not None:
            self._state.usage_save(self.today().isoformat(), bucket[0], bucket[1])

    def _sweep(self) -> None:
        """Forget expired media and delete its file, so a long-running sandbox does not fill the disk."""
        now = self.clock()
        with self._lock:
            expired = [key for key, media in self._media.items() if media.expires_at <= now]
            paths = [self._media.pop(key).path for key in expired]
            if expired and self._state is not None:
                self._state.media_delete(expired)
        for path in paths:
            path.unlink(missing_ok=True)

    # --- background work --------------------------------------------------------------------------

    def _run(self, task_uuid: str) -> None:
        with self._lock:
            state = self._tasks[task_uuid]
        task, faults = state.task, state.faults
        courier = None
        if task.get("webhookURL") or task.get("uploadEndpoint"):
            courier = Courier(
                webhook_url=task.get("webhookURL"),
                upload_endpoint=task.get("uploadEndpoint"),
                faults=faults,
                on_done=lambda: self._finished(task_uuid),
            )
        try:
            self._produce(state, courier)
        except Exception:
            # Whatever went wrong, the task ends in an error result: a client must never wait forever.
            trace = outbound.redact_text(traceback.format_exc())  # an input URL may be a credential
            logger.error("Sandbox task %s crashed\n%s", task_uuid, trace)
            self._fail(state, courier, "inferenceError", "The sandbox failed to render this task.", None)
        finally:
            if courier is not None:
                courier.close()
            else:
                self._finished(task_uuid)

    def _produce(self, state: TaskState, courier: Courier | None) -> None:
        task, faults = state.task, state.faults
        if state.errors and not any(result.get("status") == "processing" for result in state.results):
            # The task had ended when the sandbox restarted, its deliveries perhaps not: made again
            # (receivers take a repeated webhook as the duplicate it is).
            self._redeliver(state, courier, range(len(state.results)))
            for item in state.errors:
                if courier is not None:
                    courier.failure(dict(item))
            return
        if faults.error:
            message = ERROR_MESSAGES.get(faults.error, f"The task failed ({faults.error}, a sandbox fault).")
            self._fail(state, courier, faults.error, message, None)
            return
        prepared = None
        if any(result.get("status") == "processing" for result in state.results):
            try:
                prepared = self._prepare(task)
            except InputError as error:
                self._fail(state, courier, error.code, error.message, error.parameter)
                return
        count = len(state.results)
        order = list(range(count))
        if faults.order == "reverse":
            order.reverse()
        elif faults.order == "shuffle":
            random.Random(task["taskUUID"]).shuffle(order)
        base_seed = task.get("seed")
        failing = faults.fail_result - 1 if 0 < faults.fail_result <= count and count > 1 else None
        for index in order:
            result = state.results[index]
            if result.get("status") == "success":
                # Rendered before a restart: delivered again, in its place in the order.
                self._redeliver(state, courier, [index])
                continue
            if index == failing:
                if result:  # an empty place failed before a restart
                    self._fail_one(state, courier, index)
                continue
            assert prepared is not None  # some result is still to render
            seed = base_seed + index if isinstance(base_seed, int) else random.getrandbits(32)
            item, media = self._render_one(state, prepared, index=index, seed=seed)
            if courier is not None:
                courier.upload(media.path, content_type=media.content_type)
            with self._lock:
                state.results[index] = item
                self._media[item["videoUUID"]] = media
                self._save_media(item["videoUUID"], media)
                self._charge(_cost(task, prepared))
                self._save_task(task["taskUUID"], state)
            if courier is not None:
                courier.success(dict(item), path=media.path, content_type=media.content_type)
        if faults.error_after_success:
            self._fail(state, courier, "inferenceError", "The task failed after its results were sent.", None)

    def _redeliver(self, state: TaskState, courier: Courier | None, indexes: Any) -> None:
        if courier is None:
            return
        for index in indexes:
            item = state.results[index]
            media = self.media(item.get("videoUUID", "")) if item.get("status") == "success" else None
            if media is not None:
                courier.success(dict(item), path=media.path, content_type=media.content_type)

    def _prepare(self, task: dict[str, Any]) -> Prepared:
        """Fetch and check both inputs (spec.validate guarantees one of each) and settle the size."""
        _, character = self._input(task, "referenceImages", "invalidReferenceImage", render.open_image)
        driving, info = self._input(task, "referenceVideos", "invalidReferenceVideo", render.probe_video)
        width, height = render.choose_size(
            width=task.get("width"),
            height=task.get("height"),
            resolution=task.get("resolution"),
            source=character.size,
        )
        return Prepared(character, driving, info.seconds, width, height)

    def _input(
        self, task: dict[str, Any], key: str, code: str, decode: Callable[[bytes], T]
    ) -> tuple[bytes, T]:
        """The first item of ``inputs.<key>``: its bytes and what ``decode`` makes of them."""
        parameter = f"inputs.{key}"
        data = load(task["inputs"][key][0], code=code, parameter=parameter, lookup=self.media_path)
        try:
            return data, decode(data)
        except render.MediaError as error:
            raise InputError(code, str(error), parameter=parameter) from error

    def _render_one(
        self, state: TaskState, prepared: Prepared, *, index: int, seed: int
    ) -> tuple[dict[str, Any], Media]:
        task = state.task
        request = render.RenderRequest(
            width=prepared.width,
            height=prepared.height,
            fps=task.get("fps", render.DEFAULT_FPS),
            seconds=prepared.seconds,
            output_format=task.get("outputFormat", "MP4"),
            quality=task.get("outputQuality", render.DEFAULT_QUALITY),
            seed=seed,
        )
        output = render.OUTPUT_FORMATS[request.output_format]
        video_uuid = str(uuid.uuid4())
        folder = root()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{video_uuid}.{output.extension}"
        render.render(request, character=prepared.character, driving=prepared.driving, path=path)
        media = Media(
            path,
            output.extension,
            output.content_type,
            self.clock() + task.get("ttl", DEFAULT_TTL),
            state.faults,
        )
        safety = task.get("safety") or {}
        checked = safety.get("checkContent") is True or safety.get("mode") in ("fast", "full")
        item: dict[str, Any] = {
            "taskType": "videoInference",
            "taskUUID": task["taskUUID"],
            "status": "success",
            "videoUUID": video_uuid,
            "videoURL": f"{state.base_url}media/{video_uuid}.{output.extension}",
            "seed": seed,
            "NSFWContent": state.faults.nsfw and checked,
        }
        if task.get("includeCost"):
            item["cost"] = float(_cost(task, prepared))
        item["sandbox"] = _echo(task, request, index=index)
        return item, media

    def _fail_one(self, state: TaskState, courier: Courier | None, index: int) -> None:
        """One result of several fails (the ``fail_result`` fault): its item leaves the results and an error
        item joins the errors, uncharged, while the others go on."""
        item: dict[str, Any] = {
            "taskType": "videoInference",
            "taskUUID": state.task["taskUUID"],
            "status": "error",
            "code": "inferenceError",
            "message": f"Result {index + 1} of {len(state.results)} could not be generated "
            "(a sandbox fault).",
            "documentation": documentation(),
        }
        with self._lock:
            state.results[index] = {}
            state.errors.append(item)
            self._save_task(state.task["taskUUID"], state)
        if courier is not None:
            courier.failure(dict(item))

    def _fail(
        self, state: TaskState, courier: Courier | None, code: str, message: str, parameter: str | None
    ) -> None:
        """End the task in one error item; results already delivered stay, unfinished ones are gone."""
        item: dict[str, Any] = {
            "taskType": "videoInference",
            "taskUUID": state.task["taskUUID"],
            "status": "error",
            "code": code,
            "message": message,
            "documentation": documentation(parameter),
        }
        if parameter:
            item["parameter"] = parameter
        with self._lock:
            state.results = [result for result in state.results if result.get("status") == "success"]
            state.errors.append(item)
            self._save_task(state.task["taskUUID"], state)
        if courier is not None:
            courier.failure(dict(item))


def _echo(task: dict[str, Any], request: render.RenderRequest, *, index: int) -> dict[str, Any]:
    """What the sandbox made, plus the parameters it accepts without acting on them."""
    wan = (task.get("advancedFeatures") or {}).get("wanAnimate") or {}
    return {
        "resultIndex": index,
        "width": request.width,
        "height": request.height,
        "fps": request.fps,
        "frames": request.frames,
        "seconds": round(request.seconds, 3),
        "outputFormat": request.output_format,
        "outputQuality": request.quality,
        "mode": wan.get("mode", "animate"),
        "prevSegCondFrames": wan.get("prevSegCondFrames", 1),
        "retargetPose": wan.get("retargetPose", False),
        "lora": task.get("lora", []),
        "acceleratorOptions": task.get("acceleratorOptions", {}),
    }


_instance: Sandbox | None = None
_instance_lock = threading.Lock()


def sandbox() -> Sandbox:
    """The process's one sandbox, created on first use."""
    global _instance
    with _instance_lock:
        if _instance is None:
            state = getattr(settings, "RUNWARE_SANDBOX_STATE", "")
            _instance = Sandbox(
                workers=int(getattr(settings, "RUNWARE_SANDBOX_WORKERS", DEFAULT_WORKERS)),
                state_path=Path(state) if state else None,
            )
        return _instance


def _cost(task: dict[str, Any], prepared: Prepared) -> Decimal:
    """The charge for what was rendered (its size's tier, or the preset's), by pricing's one mapping."""
    return pricing.cost_of_render(
        task, width=prepared.width, height=prepared.height, driving_video_seconds=prepared.seconds
    )
