"""Refusing an oversized upload from its ``Content-Length``, before a byte of the body is read.

``services.media`` checks a file's size too, but only once Django has parsed the multipart body into a
temporary file. The upload endpoint (``POST /api/assets/``, which the create page uses too) therefore asks
``upload_refusal`` first and answers 413 (too large), 411 (no length) or 400 (a length that is not a
number) without touching ``request.FILES``. The kind may be named in the query string
(``?kind=video``), where it can be read before the body; then that kind's limit applies, otherwise the
larger of the two.

Under ASGI, Django's handler receives the whole body before any view runs, so the view-level check
alone still lets the bytes in. ``animate.requestlimits.BodyLimitedASGIHandler`` applies the same check
to the views that declare ``upload_refusal_response``, before the body is received.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

MB = 1024 * 1024
# Room for the multipart boundaries, part headers and the small ``kind`` field around the file itself.
MULTIPART_ALLOWANCE = 64 * 1024
KIND_LABELS = {"image": "Character image", "video": "Driving video"}
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class UploadRefusal:
    status: int  # 413, 411 or 400
    message: str  # for a person; starts with the input's label


def file_limits() -> dict[str, int]:
    """The largest file allowed per kind, read at call time so tests and deployments can change it."""
    return {
        "image": int(getattr(settings, "ANIMATE_MAX_IMAGE_BYTES", 20 * MB)),
        "video": int(getattr(settings, "ANIMATE_MAX_VIDEO_BYTES", 500 * MB)),
    }


def file_limit(kind: str | None) -> int:
    """The limit of ``kind``'s files; for an unknown kind, the larger of the two."""
    limits = file_limits()
    return limits.get(kind or "", max(limits.values()))


def megabytes(size: int) -> str:
    return f"{size / MB:.1f} MB"


def upload_refusal(content_length: str | None, kind: str | None) -> UploadRefusal | None:
    """Why an upload request must be refused from its headers alone, or ``None`` to go ahead."""
    label = KIND_LABELS.get(kind or "", "File")
    raw = (content_length or "").strip()
    if not raw:
        return UploadRefusal(
            411, f"{label}: the request has no Content-Length; send the file as a plain multipart upload."
        )
    if not _DIGITS.fullmatch(raw):
        return UploadRefusal(400, f"{label}: the request's Content-Length is not a number of bytes.")
    size, limit = int(raw), file_limit(kind)
    if size > limit + MULTIPART_ALLOWANCE:
        return UploadRefusal(
            413, f"{label}: the upload is {megabytes(size)}; the most allowed is {megabytes(limit)}."
        )
    return None


def request_upload_refusal(request: HttpRequest) -> UploadRefusal | None:
    """``upload_refusal`` for a Django (or DRF) request; reads headers and query string only."""
    return upload_refusal(request.META.get("CONTENT_LENGTH"), request.GET.get("kind"))


# --- ASGI ---------------------------------------------------------------------------------------------

Responder = Callable[[UploadRefusal], HttpResponse]


def refusal_responder(view: Callable[..., Any]) -> Responder | None:
    """How an upload view answers a refusal: ``upload_refusal_response`` on the view or its class."""
    responder = getattr(view, "upload_refusal_response", None)
    if responder is None:
        responder = getattr(getattr(view, "view_class", None), "upload_refusal_response", None)
    return responder
