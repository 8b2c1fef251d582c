"""A size limit on every request body, enforced by the ASGI handler before a view runs.

Django's ASGI handler receives the whole body before any middleware or view runs, into a
``SpooledTemporaryFile`` sized by ``FILE_UPLOAD_MAX_MEMORY_SIZE`` (which, at 0, never rolls over: the
whole body stays in memory). ``BodyLimitedASGIHandler`` replaces that step for every route:

- a ``Content-Length`` above the route's limit is answered 413 at once, without receiving a byte;
- a body without one (``Transfer-Encoding: chunked``) is counted as it arrives and answered 413 as
  soon as it passes the limit;
- what is received is spooled to disk past ``BODY_MEMORY_BYTES``, with disk writes off the event loop,
  so a large upload costs a bounded amount of memory.

Each route's limit (``body_limit_for``): the upload views (which declare ``upload_refusal_response``)
the limits of ``animate.uploads``; the webhook ``ANIMATE_WEBHOOK_MAX_BYTES``; the login pages
``ANIMATE_LOGIN_MAX_BYTES``; the REST API ``ANIMATE_API_MAX_BYTES``; the sandbox its own
``RUNWARE_SANDBOX_MAX_REQUEST_BYTES``; a view may declare ``request_body_limit`` (bytes) itself; every
other route ``ANIMATE_MAX_BODY_BYTES``. Refusals are JSON in the API's error shape
(``{"errors": {"detail": [...]}}``), or the upload view's own shape naming its file field.
"""

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import parse_qs

from django.conf import settings
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpResponse, JsonResponse
from django.urls import Resolver404, resolve

from animate.uploads import MULTIPART_ALLOWANCE, file_limit, megabytes, refusal_responder, upload_refusal

KB = 1024
MB = 1024 * KB
# What a body may take in memory before it is spooled to a temporary file.
BODY_MEMORY_BYTES = 256 * KB
# Received chunks are written to disk in batches this large, in a worker thread.
DISK_BATCH_BYTES = 1 * MB
LOGIN_URL_NAMES = frozenset({"login", "admin:login"})

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


@dataclass(frozen=True)
class BodyLimit:
    """How much body a route takes and how it says no."""

    max_bytes: int
    # Builds the refusal from the declared length ("" when absent) or, once counted, the bytes received.
    refuse: Callable[[str, int | None], HttpResponse | None]


def json_refusal(max_bytes: int) -> Callable[[str, int | None], HttpResponse | None]:
    def refuse(declared: str, received: int | None) -> HttpResponse | None:
        if received is None:
            if not declared:
                return None  # counted as it arrives
            if not declared.isdigit():
                return _detail(400, "The request's Content-Length is not a number of bytes.")
            if int(declared) <= max_bytes:
                return None
            size = int(declared)
        else:
            size = received
        return _detail(
            413,
            f"The request body is {'over ' if received is not None else ''}{size_text(size)}; "
            f"this URL accepts at most {size_text(max_bytes)}.",
        )

    return refuse


def size_text(size: int) -> str:
    return f"{size / KB:.1f} KB" if size < MB else megabytes(size)


def _detail(status: int, message: str) -> JsonResponse:
    return JsonResponse({"errors": {"detail": [message]}}, status=status)


def _upload_limit(view: Any, scope: Scope) -> BodyLimit | None:
    responder = refusal_responder(view)
    if responder is None:
        return None
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    kind = query.get("kind", [None])[0]

    def refuse(declared: str, received: int | None) -> HttpResponse | None:
        # Uploads need a length (an unframed multipart body would be spooled whole before it could be
        # parsed), so a counted body is only ever one whose length was declared and is too large.
        refusal = upload_refusal(str(received) if received is not None else declared or None, kind)
        return responder(refusal) if refusal else None

    return BodyLimit(file_limit(kind) + MULTIPART_ALLOWANCE, refuse)


def body_limit_for(scope: Scope) -> BodyLimit:
    """The body limit of the route ``scope`` asks for (read at call time, so settings may change)."""
    path = scope.get("path", "")
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    default = _setting("ANIMATE_MAX_BODY_BYTES", 1 * MB)
    try:
        match = resolve(path)
    except Resolver404:
        return BodyLimit(default, json_refusal(default))
    upload = _upload_limit(match.func, scope)
    if upload is not None:
        return upload
    declared = getattr(match.func, "request_body_limit", None)
    if declared is None:
        declared = getattr(getattr(match.func, "view_class", None), "request_body_limit", None)
    if declared is not None:
        limit = int(declared)
    elif match.view_name == "runware-webhook":
        limit = _setting("ANIMATE_WEBHOOK_MAX_BYTES", 256 * KB)
    elif match.view_name in LOGIN_URL_NAMES:
        limit = _setting("ANIMATE_LOGIN_MAX_BYTES", 16 * KB)
    elif "api" in match.namespaces:
        limit = _setting("ANIMATE_API_MAX_BYTES", 1 * MB)
    elif path.startswith("/sandbox/"):
        limit = _setting("RUNWARE_SANDBOX_MAX_REQUEST_BYTES", 300 * MB)
    else:
        limit = default
    return BodyLimit(limit, json_refusal(limit))


class BodyTooLarge(Exception):
    def __init__(self, received: int) -> None:
        super().__init__(f"{received} bytes received")
        self.received = received


class LimitedReceive:
    """The server's ``receive``, carrying the limit ``read_body`` counts the body against."""

    def __init__(self, receive: Receive, max_bytes: int) -> None:
        self.receive = receive
        self.max_bytes = max_bytes

    async def __call__(self) -> dict[str, Any]:
        return await self.receive()


class BodyLimitedASGIHandler(ASGIHandler):
    """Django's ASGI handler with a per-route body limit and a body spooled in bounded memory."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {name.lower(): value for name, value in scope.get("headers", [])}
        declared = headers.get(b"content-length", b"").decode("latin-1").strip()
        if not declared and b"transfer-encoding" not in headers:
            # No framing at all means no body: nothing to limit (the common GET).
            await super().handle(scope, receive, send)
            return
        limit = body_limit_for(scope)
        refusal = limit.refuse(declared, None)
        if refusal is not None:
            await self._refuse(refusal, send)
            return
        try:
            await super().handle(scope, LimitedReceive(receive, limit.max_bytes), send)
        except BodyTooLarge as exc:
            response = limit.refuse(declared, exc.received)
            await self._refuse(response or json_refusal(limit.max_bytes)("", exc.received), send)

    async def _refuse(self, response: HttpResponse, send: Send) -> None:
        # The body is left unread, so this connection cannot carry another request.
        response["Connection"] = "close"
        await self.send_response(response, send)

    async def read_body(self, receive: Receive) -> IO[bytes]:
        limit = receive.max_bytes if isinstance(receive, LimitedReceive) else None
        # Handed to the request, which closes it (as Django's own read_body does).
        body_file = tempfile.SpooledTemporaryFile(max_size=BODY_MEMORY_BYTES, mode="w+b")  # noqa: SIM115
        pending: list[bytes] = []
        pending_bytes = received = 0
        try:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise RequestAborted()
                chunk = message.get("body", b"")
                received += len(chunk)
                if limit is not None and received > limit:
                    raise BodyTooLarge(received)
                if getattr(body_file, "_rolled", False):
                    pending.append(chunk)
                    pending_bytes += len(chunk)
                    if pending_bytes >= DISK_BATCH_BYTES:
                        await asyncio.to_thread(body_file.write, b"".join(pending))
                        pending, pending_bytes = [], 0
                else:
                    body_file.write(chunk)  # in memory until it rolls over to disk
                if not message.get("more_body", False):
                    break
            if pending:
                await asyncio.to_thread(body_file.write, b"".join(pending))
        except BaseException:
            body_file.close()
            raise
        body_file.seek(0)
        return body_file
