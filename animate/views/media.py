"""Stored media over HTTP: team members only, plus signed single-asset URLs for Runware to fetch.

Anyone who is not a member of the owning team gets 404, exactly as for an id that does not exist, so
media URLs reveal nothing about other teams. Access is decided first; then a file on local disk is
served with single-range support (video players seek with ``Range``) and streamed in chunks (under ASGI
read in a worker thread through an async iterator, because Django buffers a *sync* streaming body whole
before sending it there), while an object in an S3 bucket is answered with a redirect to a short-lived
presigned GET (``ANIMATE_MEDIA_URL_SECONDS``), so the bytes never pass through this process and the
bucket itself handles ``Range``.
"""

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO, Any

from django.core.handlers.asgi import ASGIRequest
from django.db import models
from django.db.models.fields.files import FieldFile
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe

from animate import storage as media_storage
from animate.models import Asset, Output
from animate.services.signed_media import asset_for_signed_token

CHUNK = 256 * 1024
MEMBER_CACHE_SECONDS = 3600
# Up to 19 digits: longer numbers cannot address a real file and would only cost int() time.
RANGE = re.compile(r"^bytes=(\d{0,19})-(\d{0,19})$")
UNSATISFIABLE = (-1, -1)


# --- streaming -----------------------------------------------------------------------------------


class _FileRange:
    """``length`` bytes of an open file from ``start``; ``close`` is called by Django when done."""

    def __init__(self, handle: IO[bytes], start: int, length: int) -> None:
        self.handle = handle
        self.start = start
        self.length = length

    def _chunks(self) -> Iterator[bytes]:
        self.handle.seek(self.start)
        remaining = self.length
        while remaining > 0:
            chunk = self.handle.read(min(CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk

    def close(self) -> None:
        self.handle.close()


class _SyncFileRange(_FileRange):
    def __iter__(self) -> Iterator[bytes]:
        return self._chunks()


class _AsyncFileRange(_FileRange):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunks = self._chunks()
        while (chunk := await asyncio.to_thread(next, chunks, b"")) != b"":
            yield chunk


def _requested_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single ``bytes=`` range, None to send everything, or UNSATISFIABLE.

    Malformed and multi-range headers are ignored (RFC 9110 section 14.2 lets a server do so) and the
    whole file is sent with 200.
    """
    match = RANGE.match(header.strip().replace(" ", ""))
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":
        suffix = int(last)
        if suffix == 0 or size == 0:
            return UNSATISFIABLE
        return max(0, size - suffix), size - 1
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        return UNSATISFIABLE
    return start, min(int(last), size - 1) if last else size - 1


def _serve(
    request: HttpRequest,
    field_file: FieldFile,
    *,
    content_type: str,
    filename: str,
    etag: str,
    cache: dict[str, Any],
) -> HttpResponseBase:
    if not field_file:
        raise Http404
    if media_storage.is_s3(field_file.storage):
        return _redirect_to_bucket(request, field_file, content_type=content_type, filename=filename)
    try:
        size = field_file.storage.size(field_file.name)
    except OSError:
        raise Http404 from None
    quoted_etag = f'"{etag}"'
    if_none_match = request.headers.get("If-None-Match", "")
    if quoted_etag in {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}:
        response: HttpResponseBase = HttpResponse(status=304)
        return _finish(response, etag=quoted_etag, cache=cache)

    byte_range = None
    # If-Range: a client resuming a copy of an older file must get the whole new one, not a splice.
    if_range = request.headers.get("If-Range")
    if "Range" in request.headers and (if_range is None or if_range.strip() == quoted_etag):
        byte_range = _requested_range(request.headers["Range"], size)
    if byte_range == UNSATISFIABLE:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return _finish(response, etag=quoted_etag, cache=cache)

    start, last = byte_range if byte_range is not None else (0, size - 1)
    length = last - start + 1
    if request.method == "HEAD":
        response = HttpResponse(status=206 if byte_range is not None else 200)
    else:
        handle = field_file.storage.open(field_file.name, "rb")
        stream_class = _AsyncFileRange if isinstance(request, ASGIRequest) else _SyncFileRange
        response = StreamingHttpResponse(
            stream_class(handle, start, length), status=206 if byte_range is not None else 200
        )
    if byte_range is not None:
        response["Content-Range"] = f"bytes {start}-{last}/{size}"
    response["Content-Length"] = str(length)
    response["Content-Type"] = content_type
    download = request.GET.get("download") == "1"
    response["Content-Disposition"] = content_disposition_header(download, filename)
    return _finish(response, etag=quoted_etag, cache=cache)


def _redirect_to_bucket(
    request: HttpRequest, field_file: FieldFile, *, content_type: str, filename: str
) -> HttpResponseBase:
    """A redirect to a presigned GET of the object; the caller has already decided access."""
    url = media_storage.presigned_get(
        field_file.name,
        expires_in=media_storage.url_seconds(),
        content_type=content_type,
        filename=filename,
        download=request.GET.get("download") == "1",
        storage=field_file.storage,
    )
    response = HttpResponseRedirect(url)
    # The target is a credential that expires within minutes: never cached, never shared.
    patch_cache_control(response, private=True, no_store=True)
    response["Referrer-Policy"] = "no-referrer"
    return response


def _finish(response: HttpResponseBase, *, etag: str, cache: dict[str, Any]) -> HttpResponseBase:
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, **cache)
    return response


# --- members -------------------------------------------------------------------------------------


def _request_user(request: HttpRequest) -> Any:
    """The session user, or the owner of an API token: the API hands out these media URLs to token clients."""
    if request.user.is_authenticated:
        return request.user
    from rest_framework.exceptions import AuthenticationFailed, Throttled

    from animate.api.authentication import ThrottledTokenAuthentication

    try:
        authenticated = ThrottledTokenAuthentication().authenticate(request)  # type: ignore[arg-type]
    except (AuthenticationFailed, Throttled):
        # A locked-out address is told nothing more than a bad token is: 404, like any non-member.
        return None
    return authenticated[0] if authenticated else None


def _for_member(request: HttpRequest, model: type[models.Model], pk: int) -> Any:
    user = _request_user(request)
    if user is None:
        raise Http404
    return get_object_or_404(model.objects.filter(team__memberships__user=user), pk=pk)


MEMBER_CACHE = {"private": True, "max_age": MEMBER_CACHE_SECONDS}


def _download_name(original: str, stored: str, fallback: str) -> str:
    """The person's own file name, with the extension of what the file really is."""
    return f"{Path(original).stem or fallback}{Path(stored).suffix}"


def _poster_etag(field_file: FieldFile) -> str:
    # Poster names are random and never reused, so the name identifies the bytes.
    return "p-" + Path(field_file.name).stem


@require_safe
def asset_file(request: HttpRequest, pk: int) -> HttpResponseBase:
    asset: Asset = _for_member(request, Asset, pk)
    name = _download_name(asset.original_name, asset.file.name, f"{asset.kind}-{asset.pk}")
    return _serve(
        request,
        asset.file,
        content_type=asset.content_type,
        filename=name,
        etag=asset.sha256,
        cache=MEMBER_CACHE,
    )


@require_safe
def asset_poster(request: HttpRequest, pk: int) -> HttpResponseBase:
    asset: Asset = _for_member(request, Asset, pk)
    name = f"{Path(asset.original_name).stem or asset.kind}-poster.jpg"
    return _serve(
        request,
        asset.poster,
        content_type="image/jpeg",
        filename=name,
        etag=_poster_etag(asset.poster),
        cache=MEMBER_CACHE,
    )


def serve_output(
    request: HttpRequest, output: Output, *, poster: bool, cache: dict[str, Any]
) -> HttpResponseBase:
    """An output's video (or poster) with Range, for a caller that has already decided access."""
    stem = f"animate-{output.generation_id}-{output.video_uuid}"
    if poster:
        name, etag = f"{stem}-poster.jpg", _poster_etag(output.poster)
        return _serve(
            request, output.poster, content_type="image/jpeg", filename=name, etag=etag, cache=cache
        )
    name = f"{stem}{Path(output.file.name).suffix}"
    return _serve(
        request, output.file, content_type=output.content_type, filename=name, etag=output.sha256, cache=cache
    )


@require_safe
def output_file(request: HttpRequest, pk: int) -> HttpResponseBase:
    return serve_output(request, _for_member(request, Output, pk), poster=False, cache=MEMBER_CACHE)


@require_safe
def output_original(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Runware's own file of a result whose played file got the driving video's audio (404 otherwise)."""
    output: Output = _for_member(request, Output, pk)
    name = (
        f"animate-{output.generation_id}-{output.video_uuid}-runware{Path(output.original_file.name).suffix}"
    )
    return _serve(
        request,
        output.original_file,
        content_type=output.content_type,
        filename=name,
        etag=output.original_sha256,
        cache=MEMBER_CACHE,
    )


@require_safe
def output_poster(request: HttpRequest, pk: int) -> HttpResponseBase:
    return serve_output(request, _for_member(request, Output, pk), poster=True, cache=MEMBER_CACHE)


# --- signed URLs ---------------------------------------------------------------------------------


@require_safe
def signed_asset_file(request: HttpRequest, token: str, filename: str) -> HttpResponseBase:
    asset = asset_for_signed_token(token)
    if asset is None:
        raise Http404
    return _serve(
        request,
        asset.file,
        content_type=asset.content_type,
        filename=filename,
        etag=asset.sha256,
        cache={"private": True, "no_store": True},
    )
