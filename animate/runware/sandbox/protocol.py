"""One POST to the sandbox's ``/v1``: authentication, the tasks of the array, and the reply envelope.

Each task is answered independently (``data`` and ``errors`` may both be present). The reply's status is
200 when anything succeeded, otherwise the highest status of its errors (400 for invalid tasks, 401 for
authentication). The submit faults (5xx, slow answers) act here, on the whole reply, as a misbehaving
gateway would.
"""

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.utils.crypto import constant_time_compare

from animate.runware import spec
from animate.runware.sandbox import outbound
from animate.runware.sandbox.engine import UNKNOWN_TASK_CODE, ConflictError, documentation, sandbox
from animate.runware.sandbox.faults import FaultError, Faults, for_task
from animate.runware.sandbox.inputs import InputError

DESTINATIONS = ("webhookURL", "uploadEndpoint")  # URLs the sandbox sends results to
ORGANIZATION_UUID = "5a4d8b0e-1c1f-4e53-9d55-5a4db0c5e000"
INVALID_KEY_MESSAGE = "Invalid API key. Get one at https://my.runware.ai/signup"
AUTH_DOCUMENTATION = "https://runware.ai/docs/platform/authentication"
MISSING_KEY_MESSAGE = (
    "Missing API key. Send it as 'Authorization: Bearer <key>' or in an authentication task."
)


@dataclass
class Reply:
    data: list[dict[str, Any]] = field(default_factory=list)
    errors: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (HTTP status, item)
    override: int | None = None  # a submit fault's status for the whole reply
    delay: float = 0.0  # seconds to hold the answer back (submit_timeout fault)

    @property
    def status(self) -> int:
        if self.override:
            return self.override
        if self.data or not self.errors:
            return 200
        return max(status for status, _ in self.errors)

    @property
    def body(self) -> dict[str, Any]:
        # Runware's documented error replies carry only `errors`; a reply with nothing is `{"data": []}`.
        body: dict[str, Any] = {"data": self.data} if self.data or not self.errors else {}
        if self.errors:
            body["errors"] = [item for _, item in self.errors]
        return body

    def error(
        self,
        task: dict[str, Any],
        code: str,
        message: str,
        *,
        parameter: str | None = None,
        status: int = 400,
        docs: str | None = None,
    ) -> None:
        item: dict[str, Any] = {"code": code, "message": message}
        if parameter:
            item["parameter"] = parameter
        for key in ("taskType", "taskUUID"):
            if task.get(key) is not None:
                item[key] = task[key]
        item["documentation"] = docs or documentation(parameter)
        self.errors.append((status, item))


def body_error(message: str) -> Reply:
    reply = Reply()
    reply.error({}, "invalidRequestBody", message)
    return reply


def handle(tasks: object, *, bearer: str | None, base_url: str) -> Reply:
    """Answer a parsed request body; ``base_url`` is where this sandbox's ``media/`` is reachable."""
    if not isinstance(tasks, list) or not tasks or not all(isinstance(task, dict) for task in tasks):
        return body_error("The body must be a non-empty JSON array of task objects.")
    reply = Reply()
    if tasks[0].get("taskType") == "authentication":
        key = tasks[0].get("apiKey")
        tasks = tasks[1:]
        reply.data.append({"taskType": "authentication", "connectionSessionUUID": str(uuid.uuid4())})
    else:
        key = bearer
    refusal = _authenticate(key)
    if refusal is not None:
        return refusal
    submits = _count_submits(tasks)
    if any(faults.submit_5xx >= attempt for faults, attempt in submits.values()):
        return _outage(tasks, 503, "serviceUnavailable", "The service is temporarily unavailable.")
    for task in tasks:
        _dispatch(task, reply, submits=submits, base_url=base_url)
    return reply


def _authenticate(key: object) -> Reply | None:
    expected = getattr(settings, "RUNWARE_SANDBOX_API_KEY", "")
    if not isinstance(key, str) or not key:
        code, message = "missingApiKey", MISSING_KEY_MESSAGE
    elif expected and not constant_time_compare(key, expected):
        code, message = "invalidApiKey", INVALID_KEY_MESSAGE
    else:
        return None
    reply = Reply()
    reply.error(
        {"taskType": "authentication"}, code, message, parameter="apiKey", status=401, docs=AUTH_DOCUMENTATION
    )
    return reply


def _count_submits(tasks: list[dict[str, Any]]) -> dict[str, tuple[Faults, int]]:
    """For each videoInference taskUUID: its faults and which submission of that UUID this is."""
    counted: dict[str, tuple[Faults, int]] = {}
    for task in tasks:
        task_uuid = task.get("taskUUID")
        if task.get("taskType") != "videoInference" or not isinstance(task_uuid, str) or task_uuid in counted:
            continue
        try:
            faults = for_task(task)
        except FaultError:
            faults = Faults()  # reported with the task itself, below
        counted[task_uuid] = (faults, sandbox().count_submit(task_uuid))
    return counted


def _outage(tasks: list[dict[str, Any]], status: int, code: str, message: str) -> Reply:
    reply = Reply(override=status)
    for task in tasks:
        reply.error(task, code, message, status=status)
    return reply


def _dispatch(
    task: dict[str, Any], reply: Reply, *, submits: dict[str, tuple[Faults, int]], base_url: str
) -> None:
    task_type = task.get("taskType")
    if task_type == "videoInference":
        _video_inference(task, reply, submits=submits, base_url=base_url)
    elif task_type == "getResponse":
        _get_response(task, reply)
    elif task_type == "mediaStorage":
        _media_storage(task, reply, base_url=base_url)
    elif task_type == "accountManagement":
        _account_management(task, reply)
    elif task_type == "ping":
        reply.data.append({"taskType": "ping", "pong": True})
    elif task_type == "authentication":
        reply.error(task, "invalidAuthentication", "The authentication task must be the first of the array.")
    else:
        supported = "videoInference, getResponse, mediaStorage, accountManagement, ping"
        reply.error(
            task,
            "unsupportedTaskType",
            f"Unsupported taskType {task_type!r}. This sandbox supports {supported}.",
            parameter="taskType",
        )


def _video_inference(
    task: dict[str, Any], reply: Reply, *, submits: dict[str, tuple[Faults, int]], base_url: str
) -> None:
    try:
        faults = for_task(task)
    except FaultError as error:
        reply.error(task, "invalidSandboxFault", str(error), parameter=error.source)
        return
    problems = spec.validate(task)
    problems += _destination_problems(task, reported={problem.parameter for problem in problems})
    if problems:
        # Every problem at once, each naming its parameter, so one round trip shows all there is to fix.
        for problem in problems:
            reply.error(task, problem.code, problem.message, parameter=problem.parameter or None)
        return
    attempt = submits.get(task["taskUUID"], (faults, 1))[1]
    try:
        reply.data.append(sandbox().accept(task, faults=faults, base_url=base_url))
    except ConflictError:
        reply.error(
            task,
            "conflictTaskUUID",
            f"A task with taskUUID {task['taskUUID']} was already submitted; taskUUID must be unique.",
            parameter="taskUUID",
        )
    if faults.submit_5xx_after_accept >= attempt:
        reply.override = 500
        reply.error(task, "internalServerError", "Internal server error.", status=500)
    if faults.submit_timeout and attempt == 1:
        reply.delay = max(reply.delay, faults.submit_timeout)


def _destination_problems(task: dict[str, Any], *, reported: set[str]) -> list[spec.Problem]:
    """``webhookURL`` / ``uploadEndpoint`` on a host the sandbox may not contact (see ``outbound``):
    refused before the task is accepted, so nothing is ever sent there."""
    problems = []
    for parameter in DESTINATIONS:
        value = task.get(parameter)
        if not isinstance(value, str) or parameter in reported:
            continue  # absent, or already reported by spec.validate (not a string, not an http(s) URL)
        try:
            outbound.check(value)
        except outbound.RefusedURL as refused:
            problems.append(spec.Problem(parameter, f"{parameter}: {refused.message}", spec.INVALID))
    return problems


def _get_response(task: dict[str, Any], reply: Reply) -> None:
    task_uuid = task.get("taskUUID")
    if not isinstance(task_uuid, str) or not task_uuid:
        reply.error(
            task, "missingTaskUUID", "getResponse needs the taskUUID of the task.", parameter="taskUUID"
        )
        return
    if sandbox().forgotten(task_uuid):
        reply.error(
            task,
            UNKNOWN_TASK_CODE,
            "No task with this taskUUID was found (a sandbox fault: the task was forgotten).",
            parameter="taskUUID",
        )
        return
    # An unknown taskUUID answers like a task with nothing to report yet (see docs/sandbox.md).
    data, errors = sandbox().get_response(task_uuid)
    reply.data.extend(data)
    # Failed generations are results of a successful poll, not a refused request: no 4xx for them.
    reply.errors.extend((200, item) for item in errors)


def _media_storage(task: dict[str, Any], reply: Reply, *, base_url: str) -> None:
    operation = task.get("operation")
    answer = {"taskType": "mediaStorage", "taskUUID": task.get("taskUUID"), "operation": operation}
    if operation == "upload":
        try:
            media_uuid, media = sandbox().upload(task.get("media"))
        except InputError as error:
            reply.error(task, error.code, error.message, parameter=error.parameter)
            return
        answer |= {"mediaUUID": media_uuid, "mediaURL": f"{base_url}media/{media_uuid}.{media.extension}"}
    elif operation == "delete":
        media_uuid = str(task.get("mediaUUID", ""))
        if not sandbox().delete_media(media_uuid):
            reply.error(task, "mediaNotFound", f"No media with UUID {media_uuid!r}.", parameter="mediaUUID")
            return
        answer["mediaUUID"] = media_uuid
    else:
        reply.error(
            task, "invalidOperation", "operation must be 'upload' or 'delete'.", parameter="operation"
        )
        return
    reply.data.append(answer)


def _account_management(task: dict[str, Any], reply: Reply) -> None:
    operation = task.get("operation")
    answer = {"taskType": "accountManagement", "taskUUID": task.get("taskUUID"), "operation": operation}
    if operation == "getDetails":
        engine = sandbox()
        usage = {}
        for name, days in (("today", 1), ("last7Days", 7), ("last30Days", 30), ("total", 0)):
            credits, requests = engine.usage_since(days)
            usage[name] = {"credits": float(credits), "requests": requests}
        answer |= {
            "organizationUUID": ORGANIZATION_UUID,
            "organizationName": "Runware sandbox",
            "balance": float(engine.balance()),
            "usage": usage,
        }
    elif operation == "getUsageActivity":
        days = _usage_range(task, reply)
        if days is None:
            return
        start, end = days
        answer |= {
            "startDate": start.isoformat(),
            "endDate": end.isoformat(),
            "activity": [
                {"date": day.isoformat(), "credits": float(amount), "requests": results}
                for day, amount, results in sandbox().usage(start, end)
            ],
        }
    else:
        reply.error(
            task,
            "invalidOperation",
            "operation must be 'getDetails' or 'getUsageActivity'.",
            parameter="operation",
        )
        return
    reply.data.append(answer)


USAGE_MAX_DAYS = 366


def _usage_range(task: dict[str, Any], reply: Reply) -> tuple[date, date] | None:
    """The inclusive UTC day range of a getUsageActivity task, or None after answering an error."""
    days = []
    for name in ("startDate", "endDate"):
        try:
            days.append(date.fromisoformat(str(task.get(name, ""))[:10]))
        except ValueError:
            reply.error(task, "invalidParameter", f"{name} must be a date (YYYY-MM-DD).", parameter=name)
            return None
    start, end = days
    if end < start or (end - start).days >= USAGE_MAX_DAYS:
        reply.error(
            task,
            "invalidParameter",
            f"endDate must be on or after startDate, at most {USAGE_MAX_DAYS} days later.",
            parameter="endDate",
        )
        return None
    return start, end
