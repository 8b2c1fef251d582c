"""The sandbox's HTTP endpoints: ``v1`` (the Runware API) and ``media/<uuid>.<ext>`` (results, uploads).

Both are async views: a sync view would run on Django's single thread-sensitive executor under ASGI, so
one ``submit_timeout`` answer held back for seconds, or one throttled download, would stall every other
sync view of the server it is embedded in. The work of a request runs in a worker thread instead.
"""

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from animate.runware.sandbox import protocol
from animate.runware.sandbox.engine import sandbox

DEFAULT_MAX_REQUEST_BYTES = 300 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
BYTE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _problem(status: int, code: str, message: str, **headers: str) -> JsonResponse:
    return JsonResponse({"errors": [{"code": code, "message": message}]}, status=status, headers=headers)


def _bearer(request: HttpRequest) -> str | None:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else None


@csrf_exempt  # an API authenticated by key, called by servers: no browser session to protect
async def api(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _problem(405, "methodNotAllowed", "Send tasks with POST.", Allow="POST")
    limit = int(getattr(settings, "RUNWARE_SANDBOX_MAX_REQUEST_BYTES", DEFAULT_MAX_REQUEST_BYTES))
    # read() rather than .body: the body may hold base64 media far above DATA_UPLOAD_MAX_MEMORY_SIZE.
    raw = request.read(limit + 1)
    if len(raw) > limit:
        return _problem(413, "requestTooLarge", f"The request body is larger than {limit} bytes.")
    try:
        tasks = json.loads(raw)
    except ValueError:
        reply = protocol.body_error("The body is not valid JSON; send a JSON array of task objects.")
    else:
        # Relative to .../v1, "./" is the prefix this sandbox is mounted under, which media/ shares.
        base_url = request.build_absolute_uri("./")
        reply = await asyncio.to_thread(protocol.handle, tasks, bearer=_bearer(request), base_url=base_url)
    if reply.delay:
        await asyncio.sleep(reply.delay)
    return JsonResponse(reply.body, status=reply.status)


class Unsatisfiable(Exception):
    """A Range no byte of the file can satisfy: answered 416."""


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The single ``bytes=`` range asked for, as (first, last); None to serve the whole file (no
    Range, or one this server may ignore, such as several ranges); Unsatisfiable for a 416."""
    match = BYTE_RANGE.match(header.strip())
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if not first:
        if int(last) == 0:
            raise Unsatisfiable
        return max(0, size - int(last)), size - 1
    start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        raise Unsatisfiable
    return start, end


async def _file_chunks(path: Path, *, start: int, count: int, rate: int) -> AsyncIterator[bytes]:
    """``count`` bytes from ``start``; at ``rate`` bytes per second when throttled (0: full speed)."""
    chunk = max(1, rate // 10) if rate else CHUNK_BYTES
    with path.open("rb") as handle:
        handle.seek(start)
        while count > 0 and (data := handle.read(min(chunk, count))):
            count -= len(data)
            yield data
            if rate:
                await asyncio.sleep(len(data) / rate)


async def media(request: HttpRequest, name: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return _problem(405, "methodNotAllowed", "Media is read with GET.", Allow="GET, HEAD")
    media_uuid, _, extension = name.partition(".")
    record = sandbox().media(media_uuid.lower())
    if record is None or record.extension != extension or not record.path.exists():
        return _problem(404, "mediaNotFound", "No such media, or its ttl has expired.")
    size = record.path.stat().st_size
    try:
        requested = _byte_range(request.headers.get("Range", ""), size)
    except Unsatisfiable:
        return HttpResponse(status=416, headers={"Content-Range": f"bytes */{size}"})
    start, end = requested or (0, size - 1)
    length = end - start + 1
    headers = {"Content-Length": str(length), "Accept-Ranges": "bytes"}
    if requested:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    status = 206 if requested else 200
    if request.method == "HEAD":
        return HttpResponse(status=status, content_type=record.content_type, headers=headers)
    # partial_download: the full length is promised and half is sent, so the server drops the connection.
    count = length // 2 if record.faults.partial_download else length
    chunks = _file_chunks(record.path, start=start, count=count, rate=record.faults.slow_download)
    return StreamingHttpResponse(chunks, status=status, content_type=record.content_type, headers=headers)
