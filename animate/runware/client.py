"""HTTP client for Runware's REST API: submit a task, poll ``getResponse``, upload media.

This module knows the provider's wire protocol (see docs/runware-protocol.md) and nothing about our
users: it never imports the app's models, and reads Django settings only in ``from_settings``.

Every call is one ``POST {api_url}`` whose body is a JSON array holding one task. Transient failures
(network errors, timeouts, 408, 429, 5xx) are retried with the *same bytes*, so a retried submit carries
the same ``taskUUID`` and Runware can refuse it as ``conflictTaskUUID`` instead of starting a second paid
task. The sync and async clients share everything except the I/O loop.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import logging
import math
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

import httpx

from animate.runware import account

logger = logging.getLogger(__name__)

JSONObject = dict[str, Any]


@functools.cache
def shared_ssl_context() -> Any:
    """One TLS context for every HTTP client of the process. Building one loads the CA bundle, tens of
    milliseconds of CPU, which a client per submit, poll or download paid each time."""
    return httpx.create_ssl_context()


AUTH_ERROR_CODES = frozenset({"invalidApiKey", "missingApiKey"})
AUTH_STATUS_CODES = frozenset({401, 403})
CONFLICT_CODE = "conflictTaskUUID"
# Codes this client makes up when a reply carries no Runware error it could pass on.
INVALID_RESPONSE_CODE = "invalidResponse"
HTTP_ERROR_CODE = "httpError"

# Failures after which the request may not have reached Runware, or Runware asked to try again later.
_RETRYABLE_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
_RETRY_AFTER_STATUSES = frozenset({429, 503})
# Shorter keys (the sandbox's "sandbox") are not secrets, and redacting them would garble ordinary words.
_MIN_REDACTED_KEY_LENGTH = 8
_REDACTED = "[redacted]"


class RunwareError(Exception):
    """An error Runware answered for a task, or a reply this client cannot make sense of."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        parameter: str | list[str] | None = None,
        task_uuid: str | None = None,
        status_code: int | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.parameter = parameter
        self.task_uuid = task_uuid
        self.status_code = status_code
        super().__init__(self._describe())

    def _describe(self) -> str:
        text = f"{self.code}: {self.message}"
        if self.parameter:
            names = self.parameter if isinstance(self.parameter, str) else ", ".join(self.parameter)
            text += f" (parameter: {names})"
        return text


class RunwareAuthError(RunwareError):
    """The API key is missing, invalid or lacks permission (HTTP 401/403 or an auth error code)."""


class RunwareTransportError(Exception):
    """No usable answer: network errors, timeouts, 408, 429 or 5xx that outlasted every retry."""

    def __init__(self, message: str, *, status_code: int | None, attempts: int) -> None:
        self.status_code = status_code
        self.attempts = attempts
        super().__init__(message)


@dataclass(frozen=True)
class ResponseBatch:
    """The items of one reply, as received: ``data`` items and per-result ``errors`` items."""

    data: list[JSONObject]
    errors: list[JSONObject]


@dataclass(frozen=True)
class MediaUpload:
    media_uuid: str
    media_url: str | None
    task_uuid: str


@dataclass(frozen=True)
class AccountDetails:
    """``accountManagement getDetails``: the balance (None when unreadable) and usage totals."""

    balance: Decimal | None
    usage: dict[str, Decimal]
    raw: JSONObject


@dataclass(frozen=True)
class UsageActivity:
    """``accountManagement getUsageActivity``: usage per day, or None when the answer held no readable
    per-day figures (the operation's shape is not documented)."""

    days: list[account.UsageDay] | None
    raw: JSONObject


@dataclass(frozen=True)
class _Reply:
    response: httpx.Response
    attempts: int


@dataclass(frozen=True)
class _Failure:
    """One attempt that got no usable answer, and whether trying again could help."""

    reason: str
    status_code: int | None
    retryable: bool
    retry_after: float | None = None


def _is_retryable_status(status_code: int) -> bool:
    return status_code in (408, 429) or 500 <= status_code <= 599


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header on 429/503; the HTTP-date form falls back to backoff."""
    if response.status_code not in _RETRY_AFTER_STATUSES:
        return None
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _parse_envelope(response: httpx.Response) -> ResponseBatch | None:
    """The reply's ``data`` and ``errors`` items, or None when the body is not a Runware envelope."""
    try:
        body = response.json()
    except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
        return None
    if not isinstance(body, dict) or not ({"data", "errors"} & body.keys()):
        return None
    data, errors = _items(body.get("data")), _items(body.get("errors"))
    if data is None or errors is None:
        return None
    return ResponseBatch(data=data, errors=errors)


def _items(value: object) -> list[JSONObject] | None:
    if value is None:
        return []
    # imageUpload's documented reply holds `data` as one object rather than an array.
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return value
    return None


def _item_for(items: list[JSONObject], task_uuid: str) -> JSONObject | None:
    return next((item for item in items if item.get("taskUUID") == task_uuid), None)


def _is_result_error(item: JSONObject, task_uuid: str) -> bool:
    """Whether an ``errors`` item of a getResponse reply is one failed generation of our task.

    getResponse moves failed generations into ``errors`` with ``status: "error"`` and the task's UUID;
    anything else there (an auth error, a refused poll, another task's UUID) means the poll itself failed.
    """
    return (
        item.get("status") == "error"
        and item.get("taskUUID") == task_uuid
        and item.get("code") not in AUTH_ERROR_CODES
    )


def _parameter(value: object) -> str | list[str] | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        return [str(name) for name in value]
    return str(value)


def _submission(task: JSONObject) -> JSONObject:
    if not task.get("taskUUID"):
        # Retries must re-send the taskUUID the caller recorded, so this client never invents one.
        raise ValueError("the task needs a taskUUID")
    return {**task, "includeCost": True, "deliveryMethod": "async"}


def _upload_task(media: bytes | str) -> JSONObject:
    # mediaStorage takes a URL, a data URI or bare base64 (the official SDK strips any data: prefix).
    encoded = base64.b64encode(media).decode("ascii") if isinstance(media, bytes) else media
    return {
        "taskType": "mediaStorage",
        "taskUUID": str(uuid.uuid4()),
        "operation": "upload",
        "media": encoded,
    }


def _account_task(operation: str, **fields: Any) -> JSONObject:
    return {"taskType": "accountManagement", "taskUUID": str(uuid.uuid4()), "operation": operation, **fields}


def _encode(task: JSONObject) -> bytes:
    # allow_nan=False: NaN is not JSON, better refused here than by the provider after retries.
    return json.dumps([task], allow_nan=False, separators=(",", ":")).encode()


class _BaseClient:
    """Configuration, retry policy and reply interpretation shared by both clients."""

    def __init__(
        self,
        *,
        api_url: str,
        api_key: str,
        timeout: float,
        max_retries: int,
        backoff_base: float,
        backoff_cap: float,
        jitter: Callable[[], float],
    ) -> None:
        if not api_key:
            raise ValueError("api_key is required")
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self._api_url = api_url
        self._api_key = api_key
        self._max_retries = max_retries
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._jitter = jitter
        self._timeout = httpx.Timeout(timeout)
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    @classmethod
    def from_settings(cls, **overrides: Any) -> Self:
        """A client configured from ``RUNWARE_*`` settings; keyword overrides win."""
        from django.conf import settings  # read at call time: settings may change after import

        options: dict[str, Any] = {
            "api_url": settings.RUNWARE_API_URL,
            "api_key": settings.RUNWARE_API_KEY,
            "timeout": settings.RUNWARE_TIMEOUT,
            "max_retries": settings.RUNWARE_MAX_RETRIES,
            "backoff_base": settings.RUNWARE_BACKOFF_BASE,
        }
        return cls(**{**options, **overrides})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(api_url={self._api_url!r})"

    def _redact(self, text: str) -> str:
        if len(self._api_key) < _MIN_REDACTED_KEY_LENGTH:
            return text
        return text.replace(self._api_key, _REDACTED)

    # --- retries -------------------------------------------------------------------------------------

    def _backoff(self, retry: int) -> float:
        """Seconds before retry number ``retry`` (from 1): ``base * 2**(retry-1)`` plus up to one ``base``
        of jitter, never above the cap. The additive jitter is what Runware's own SDK uses; it keeps the
        delays growing while spreading clients that failed together."""
        exponential = self._backoff_base * 2 ** (retry - 1)
        return min(self._backoff_cap, exponential + self._jitter() * self._backoff_base)

    def _failure_from_error(self, error: httpx.RequestError) -> _Failure:
        detail = self._redact(str(error))
        reason = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
        return _Failure(reason=reason, status_code=None, retryable=isinstance(error, _RETRYABLE_ERRORS))

    def _failure_from_response(self, response: httpx.Response) -> _Failure | None:
        """None when the reply is final (success or an error retrying cannot fix)."""
        if not _is_retryable_status(response.status_code):
            return None
        reason = f"HTTP {response.status_code}"
        envelope = _parse_envelope(response)
        if envelope is not None and envelope.errors:
            first = envelope.errors[0]
            reason += f" ({first.get('code')}: {self._redact(str(first.get('message')))})"
        return _Failure(
            reason=reason,
            status_code=response.status_code,
            retryable=True,
            retry_after=_retry_after(response),
        )

    def _retry_delay(self, task: JSONObject, attempt: int, failure: _Failure) -> float:
        """Seconds to wait before the next attempt, or RunwareTransportError when there is none."""
        label = f"{task['taskType']} {task['taskUUID']}"
        if not failure.retryable or attempt > self._max_retries:
            logger.warning("Runware %s: giving up after %d attempt(s): %s", label, attempt, failure.reason)
            raise RunwareTransportError(
                f"Runware {label} failed after {attempt} attempt(s): {failure.reason}",
                status_code=failure.status_code,
                attempts=attempt,
            )
        if failure.retry_after is not None:
            delay = min(self._backoff_cap, failure.retry_after)
        else:
            delay = self._backoff(attempt)
        logger.info(
            "Runware %s: attempt %d of %d failed (%s); retrying in %.2fs",
            label,
            attempt,
            self._max_retries + 1,
            failure.reason,
            delay,
        )
        return delay

    def _log_attempt(self, task: JSONObject, attempt: int) -> None:
        logger.debug(
            "Runware %s %s: attempt %d of %d",
            task["taskType"],
            task["taskUUID"],
            attempt,
            self._max_retries + 1,
        )

    # --- replies -------------------------------------------------------------------------------------

    def _error(self, item: JSONObject, status_code: int | None) -> RunwareError:
        code = str(item.get("code") or "unknownError")
        auth = code in AUTH_ERROR_CODES or status_code in AUTH_STATUS_CODES
        return (RunwareAuthError if auth else RunwareError)(
            code,
            self._redact(str(item.get("message") or "no message")),
            parameter=_parameter(item.get("parameter")),
            task_uuid=item.get("taskUUID"),
            status_code=status_code,
        )

    def _unusable(self, response: httpx.Response, task_uuid: str) -> RunwareError:
        """The error for a reply that carries no Runware error and no result we can use."""
        status = response.status_code
        content_type = response.headers.get("Content-Type", "no content type")
        if response.is_success:
            code, message = (
                INVALID_RESPONSE_CODE,
                f"HTTP {status} without the expected result ({content_type})",
            )
        else:
            code, message = HTTP_ERROR_CODE, f"HTTP {status} {response.reason_phrase} ({content_type})"
        cls = RunwareAuthError if status in AUTH_STATUS_CODES else RunwareError
        return cls(code, message, task_uuid=task_uuid, status_code=status)

    def _envelope(self, reply: _Reply, task_uuid: str) -> ResponseBatch:
        envelope = _parse_envelope(reply.response)
        if envelope is None:
            raise self._unusable(reply.response, task_uuid)
        return envelope

    def _ack(self, task: JSONObject, reply: _Reply) -> JSONObject:
        """The acknowledgement of a submit.

        An error naming our task wins; then our ack in ``data`` (it proves acceptance whatever else the
        body holds); then the first error. ``conflictTaskUUID`` on a retry means an earlier attempt was
        accepted before its answer got lost: Runware does not repeat that answer, so an equivalent ack is
        returned rather than raising or submitting again.
        """
        task_uuid = task["taskUUID"]
        envelope = self._envelope(reply, task_uuid)
        error = _item_for(envelope.errors, task_uuid)
        if error is not None and error.get("code") == CONFLICT_CODE and reply.attempts > 1:
            logger.info(
                "Runware %s: conflictTaskUUID on attempt %d, so already accepted", task_uuid, reply.attempts
            )
            return {"taskType": task["taskType"], "taskUUID": task_uuid}
        if error is not None:
            raise self._error(error, reply.response.status_code)
        ack = _item_for(envelope.data, task_uuid)
        if ack is not None:
            return ack
        if envelope.errors:
            raise self._error(envelope.errors[0], reply.response.status_code)
        raise self._unusable(reply.response, task_uuid)

    def _batch(self, task_uuid: str, reply: _Reply) -> ResponseBatch:
        """All items of a getResponse reply; raises only when the poll itself was refused.

        Failed generations (``errors`` items with ``status: "error"`` and our taskUUID) are results and
        come back in the batch whatever the HTTP status, whose value for such bodies is undocumented.
        """
        envelope = self._envelope(reply, task_uuid)
        refusal = next((item for item in envelope.errors if not _is_result_error(item, task_uuid)), None)
        if refusal is not None:
            raise self._error(refusal, reply.response.status_code)
        if not reply.response.is_success and not envelope.errors:
            raise self._unusable(reply.response, task_uuid)
        return envelope

    def _media(self, task: JSONObject, reply: _Reply) -> MediaUpload:
        task_uuid = task["taskUUID"]
        envelope = self._envelope(reply, task_uuid)
        error = _item_for(envelope.errors, task_uuid)
        if error is not None and error.get("code") == CONFLICT_CODE and reply.attempts > 1:
            # Unlike a submit, an upload is useless without the mediaUUID its lost answer carried.
            raise RunwareError(
                CONFLICT_CODE,
                "an earlier attempt of this upload reached Runware but its answer was lost, and Runware "
                "does not repeat the mediaUUID; upload the media again",
                task_uuid=task_uuid,
                status_code=reply.response.status_code,
            )
        if error is None and envelope.errors:
            error = envelope.errors[0]
        if error is not None:
            raise self._error(error, reply.response.status_code)
        # A single-task request has a single answer, even if it did not echo our taskUUID.
        item = _item_for(envelope.data, task_uuid) or next(iter(envelope.data), {})
        media_uuid = item.get("mediaUUID") or item.get("imageUUID")
        if not media_uuid:
            raise self._unusable(reply.response, task_uuid)
        return MediaUpload(
            media_uuid=str(media_uuid),
            media_url=item.get("mediaURL") or item.get("imageURL"),
            task_uuid=task_uuid,
        )

    def _account_item(self, task: JSONObject, reply: _Reply) -> JSONObject:
        """The one answer item of an accountManagement task (an error for it raises)."""
        task_uuid = task["taskUUID"]
        envelope = self._envelope(reply, task_uuid)
        error = _item_for(envelope.errors, task_uuid) or next(iter(envelope.errors), None)
        if error is not None:
            raise self._error(error, reply.response.status_code)
        item = _item_for(envelope.data, task_uuid) or next(iter(envelope.data), None)
        if item is None:
            raise self._unusable(reply.response, task_uuid)
        return item

    def _details(self, task: JSONObject, reply: _Reply) -> AccountDetails:
        item = self._account_item(task, reply)
        return AccountDetails(
            balance=account.parse_balance(item), usage=account.parse_usage_totals(item), raw=item
        )

    def _activity(self, task: JSONObject, reply: _Reply) -> UsageActivity:
        item = self._account_item(task, reply)
        return UsageActivity(days=account.parse_usage_days(item), raw=item)


class RunwareClient(_BaseClient):
    """Blocking client, for background tasks and management commands."""

    def __init__(
        self,
        *,
        api_url: str,
        api_key: str,
        timeout: float = 30.0,
        max_retries: int = 3,
        backoff_base: float = 1.0,
        backoff_cap: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        super().__init__(
            api_url=api_url,
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            jitter=jitter,
        )
        self._sleep = sleep
        self._http = httpx.Client(
            headers=self._headers, timeout=self._timeout, transport=transport, verify=shared_ssl_context()
        )

    def submit(self, task: JSONObject) -> JSONObject:
        """Send one task (async delivery, cost included) and return its acknowledgement item."""
        submission = _submission(task)
        return self._ack(submission, self._post(submission))

    def get_response(self, task_uuid: str) -> ResponseBatch:
        """The current state of every result of a task (cumulative: earlier results come again)."""
        return self._batch(task_uuid, self._post({"taskType": "getResponse", "taskUUID": task_uuid}))

    def upload_media(self, media: bytes | str) -> MediaUpload:
        """Store media with ``mediaStorage``: bytes are sent as base64, a URL/data URI/base64 as given."""
        task = _upload_task(media)
        return self._media(task, self._post(task))

    def account_details(self) -> AccountDetails:
        """The account's balance and usage totals (``accountManagement``, ``getDetails``)."""
        task = _account_task("getDetails")
        return self._details(task, self._post(task))

    def usage_activity(self, *, start: date, end: date) -> UsageActivity:
        """Usage per day from ``start`` to ``end`` inclusive (``getUsageActivity``; its parameter names and
        answer shape are not documented, so the answer is read tolerantly)."""
        task = _account_task("getUsageActivity", startDate=start.isoformat(), endDate=end.isoformat())
        return self._activity(task, self._post(task))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _post(self, task: JSONObject) -> _Reply:
        content = _encode(task)
        attempt = 1
        while True:
            self._log_attempt(task, attempt)
            try:
                response = self._http.post(self._api_url, content=content)
            except httpx.RequestError as error:
                failure = self._failure_from_error(error)
                self._sleep(self._retry_delay(task, attempt, failure))
            else:
                failure = self._failure_from_response(response)
                if failure is None:
                    return _Reply(response=response, attempts=attempt)
                self._sleep(self._retry_delay(task, attempt, failure))
            attempt += 1


class AsyncRunwareClient(_BaseClient):
    """The same client for async code (ASGI views, consumers)."""

    def __init__(
        self,
        *,
        api_url: str,
        api_key: str,
        timeout: float = 30.0,
        max_retries: int = 3,
        backoff_base: float = 1.0,
        backoff_cap: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        super().__init__(
            api_url=api_url,
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            jitter=jitter,
        )
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            headers=self._headers, timeout=self._timeout, transport=transport, verify=shared_ssl_context()
        )

    async def submit(self, task: JSONObject) -> JSONObject:
        """Send one task (async delivery, cost included) and return its acknowledgement item."""
        submission = _submission(task)
        return self._ack(submission, await self._post(submission))

    async def get_response(self, task_uuid: str) -> ResponseBatch:
        """The current state of every result of a task (cumulative: earlier results come again)."""
        return self._batch(task_uuid, await self._post({"taskType": "getResponse", "taskUUID": task_uuid}))

    async def upload_media(self, media: bytes | str) -> MediaUpload:
        """Store media with ``mediaStorage``: bytes are sent as base64, a URL/data URI/base64 as given."""
        task = _upload_task(media)
        return self._media(task, await self._post(task))

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def _post(self, task: JSONObject) -> _Reply:
        content = _encode(task)
        attempt = 1
        while True:
            self._log_attempt(task, attempt)
            try:
                response = await self._http.post(self._api_url, content=content)
            except httpx.RequestError as error:
                failure = self._failure_from_error(error)
                await self._sleep(self._retry_delay(task, attempt, failure))
            else:
                failure = self._failure_from_response(response)
                if failure is None:
                    return _Reply(response=response, attempts=attempt)
                await self._sleep(self._retry_delay(task, attempt, failure))
            attempt += 1
