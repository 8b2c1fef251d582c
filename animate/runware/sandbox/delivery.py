"""Pushing results out: webhook POSTs and uploadEndpoint PUTs, retried with exponential backoff.

Each task gets one Courier: a daemon thread draining a queue, so the deliveries of a task leave in the
order they were produced (which is what makes the ordering faults observable) while a slow or failing
receiver never holds up rendering. The retry budget is bounded by settings, kept small in tests.
Redirects are never followed, and URLs are logged only redacted (see ``outbound``).
"""

import json
import logging
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
from django.conf import settings

from animate.runware.client import shared_ssl_context
from animate.runware.sandbox import outbound
from animate.runware.sandbox.faults import Faults

logger = logging.getLogger(__name__)

BACKOFF_CAP = 30.0
GARBAGE_UPLOAD = b"this is not a video " * 64


@dataclass(frozen=True)
class RetryPolicy:
    timeout: float  # seconds per attempt
    first_delay: float  # seconds before the first retry, doubled after each failure
    give_up_after: float  # seconds since the first attempt after which no retry is started

    @classmethod
    def from_settings(cls) -> "RetryPolicy":
        return cls(
            timeout=float(getattr(settings, "RUNWARE_SANDBOX_WEBHOOK_TIMEOUT", 10.0)),
            first_delay=float(getattr(settings, "RUNWARE_SANDBOX_WEBHOOK_BACKOFF", 1.0)),
            give_up_after=float(getattr(settings, "RUNWARE_SANDBOX_WEBHOOK_RETRY_FOR", 300.0)),
        )


def send(
    client: httpx.Client,
    policy: RetryPolicy,
    method: str,
    url: str,
    *,
    final_4xx: bool = False,
    **kwargs: Any,
) -> bool:
    """One delivery, retried on connection errors and non-2xx answers until the policy gives up.

    With ``final_4xx`` a 4xx answer (other than 408 and 429) ends it at once: an upload the receiver
    refused (a used URL, a body it will not take) cannot succeed by being sent again.

    The URL is checked against the allowed hosts again (submission checked it already) and appears in
    logs only redacted: a webhook URL carries a per-generation secret.
    """
    shown = outbound.redact(url)
    try:
        target = outbound.check(url)
    except outbound.RefusedURL as refused:
        logger.warning("Sandbox %s %s not sent: %s", method, shown, refused.message)
        return False
    started = time.monotonic()
    delay = policy.first_delay
    attempt = 1
    while True:
        try:
            with outbound.quiet_httpx():
                response = client.request(method, target, timeout=policy.timeout, **kwargs)
            if response.is_success:
                return True
            outcome = f"HTTP {response.status_code}"
            if final_4xx and response.is_client_error and response.status_code not in {408, 429}:
                logger.warning("Sandbox %s %s refused (%s); not retried", method, shown, outcome)
                return False
        except httpx.HTTPError as error:
            outcome = type(error).__name__
        if time.monotonic() - started + delay > policy.give_up_after:
            logger.warning("Sandbox %s %s failed %d time(s) (%s); giving up", method, shown, attempt, outcome)
            return False
        logger.info("Sandbox %s %s failed (%s); retry in %.2fs", method, shown, outcome, delay)
        time.sleep(delay)
        delay = min(BACKOFF_CAP, delay * 2)
        attempt += 1


class Courier:
    """Delivers one task's results in order: PUT the bytes, then POST the webhook (with fault twists)."""

    def __init__(
        self,
        *,
        webhook_url: str | None,
        upload_endpoint: str | None,
        faults: Faults,
        on_done: Callable[[], None] | None = None,
    ) -> None:
        self._webhook_url = None if faults.drop else webhook_url
        self._on_done = on_done  # told once every delivery queued before close() has been made
        self._upload_endpoint = upload_endpoint
        self._faults = faults
        self._uploaded: set[Path] = set()
        self._queue: queue.Queue[tuple[str, dict[str, Any], Path | None, str] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="runware-sandbox-courier", daemon=True)
        self._thread.start()

    def upload(self, path: Path, *, content_type: str) -> None:
        """PUT a result to ``uploadEndpoint`` now, in the caller's thread, before the result is reported
        anywhere: a poll or a webhook never announces a result whose upload has not been made."""
        if not self._upload_endpoint:
            return
        # The PUT holds a render thread, so its retries have their own, shorter bound: a receiver that is
        # gone must not stall every task behind it for the webhooks' five minutes.
        policy = RetryPolicy.from_settings()
        bound = float(getattr(settings, "RUNWARE_SANDBOX_UPLOAD_RETRY_FOR", 60.0))
        policy = replace(policy, give_up_after=min(policy.give_up_after, bound))
        with httpx.Client(follow_redirects=False, verify=shared_ssl_context()) as client:
            self._put(client, policy, path, content_type)
        self._uploaded.add(path)

    def success(self, item: dict[str, Any], *, path: Path, content_type: str) -> None:
        self._queue.put(("data", item, path, content_type))

    def failure(self, item: dict[str, Any]) -> None:
        self._queue.put(("errors", item, None, ""))

    def close(self) -> None:
        self._queue.put(None)

    def _run(self) -> None:
        try:
            self._deliver_all()
        finally:
            if self._on_done is not None:
                self._on_done()

    def _deliver_all(self) -> None:
        policy = RetryPolicy.from_settings()
        with httpx.Client(follow_redirects=False, verify=shared_ssl_context()) as client:
            while (message := self._queue.get()) is not None:
                try:
                    self._deliver(client, policy, *message)
                except Exception:
                    # One broken delivery (a deleted file, a malformed URL) must not lose the ones after it.
                    # The traceback's messages may quote a URL: redacted like every other log line here.
                    task_uuid = message[1].get("taskUUID")
                    trace = outbound.redact_text(traceback.format_exc())
                    logger.error("Sandbox delivery of task %s failed\n%s", task_uuid, trace)

    def _deliver(
        self,
        client: httpx.Client,
        policy: RetryPolicy,
        envelope: str,
        item: dict[str, Any],
        path: Path | None,
        content_type: str,
    ) -> None:
        if path is not None and self._upload_endpoint and path not in self._uploaded:
            self._put(client, policy, path, content_type)
        if not self._webhook_url:
            return
        self._post(client, policy, self._webhook_url, {envelope: [item]})
        if self._faults.late and envelope == "data":
            # A stale "processing" arriving after the success, as a slow queue might send it.
            stale = {"taskType": item["taskType"], "taskUUID": item["taskUUID"], "status": "processing"}
            self._post(client, policy, self._webhook_url, {"data": [stale]})

    def _put(self, client: httpx.Client, policy: RetryPolicy, path: Path, content_type: str) -> None:
        # The raw bytes as the body, the whole file with its length (like Runware's documented PUT).
        body = GARBAGE_UPLOAD if self._faults.garbage_upload else path.read_bytes()
        headers = {"Content-Type": content_type}
        send(
            client, policy, "PUT", self._upload_endpoint or "", content=body, headers=headers, final_4xx=True
        )

    def _post(self, client: httpx.Client, policy: RetryPolicy, url: str, body: dict[str, Any]) -> None:
        content = json.dumps(body).encode()
        for _ in range(self._faults.duplicate):
            send(client, policy, "POST", url, content=content, headers={"Content-Type": "application/json"})
