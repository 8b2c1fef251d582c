"""Results delivered by ``uploadEndpoint``: Runware PUTs the video where we said, the webhook announces it.

How a generation's task gets an ``uploadEndpoint`` (``result_upload_url``):

- media in an S3 bucket: a presigned PUT of the object the Output will point at, so Runware writes the
  result straight into the bucket and it never passes through this server;
- otherwise, when Runware can reach ``PUBLIC_BASE_URL``: our own signed, single-use PUT endpoint
  (``animate.views.result_uploads``), which stores the body as it arrives;
- otherwise none: results are fetched from ``videoURL`` as before.

``uploadEndpoint`` is one URL per task while a task with ``numberResults`` > 1 has several results, so
it is sent only when ``numberResults`` is 1 (docs/runware-protocol.md).

The webhook (or a poll) still announces the result. Ingestion then uses the uploaded object instead of
fetching ``videoURL`` (``result_upload_ingest``): it checks the size, the checksum (the SHA-256 our
endpoint recorded, or the bucket's ETag, the MD5 of a single-part PUT) and probes the video, from a
temporary local copy. An object that fails a check is refused (and deleted) and ingestion falls back to
``videoURL``, so a bad upload costs one download, never a lost result. An upload never made (the PUT
did not come) falls back the same way.
"""

import logging
import os
import re
import tempfile
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from animate import storage as media_storage
from animate.models import Generation, Output, ResultUpload
from animate.services import generations
from animate.services.downloads import DownloadFailed
from animate.services.media import MediaRejected, output_adopt, probe_video

logger = logging.getLogger(__name__)

SIGNED_SALT = "animate.result-upload"
EXTENSIONS = {"MP4": ".mp4", "WEBM": ".webm", "MOV": ".mov"}
CHUNK = 1024 * 1024
_DIGITS = re.compile(r"[0-9]+")


class UploadRefused(Exception):
    """A PUT to our endpoint that is not taken; ``status`` and ``message`` are what the sender is told."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def max_bytes() -> int:
    """The largest result taken by PUT: the same cap as a result fetched from ``videoURL``."""
    return int(getattr(settings, "ANIMATE_MAX_OUTPUT_BYTES", 1024**3))


def _lifetime() -> timedelta:
    # As long as a generation may take before polling gives up on it, plus the time to deliver.
    give_up = float(getattr(settings, "ANIMATE_POLL_GIVE_UP_SECONDS", 3 * 3600))
    return timedelta(seconds=float(getattr(settings, "ANIMATE_RESULT_UPLOAD_SECONDS", give_up + 3600)))


def _signer() -> signing.Signer:
    return signing.Signer(salt=SIGNED_SALT)


def _mode() -> str | None:
    if not getattr(settings, "ANIMATE_RESULT_UPLOADS", True):
        return None
    if media_storage.is_s3():
        return ResultUpload.Mode.BUCKET
    if generations.public_base_url_reachable():
        return ResultUpload.Mode.ENDPOINT
    return None


def result_upload_url(*, generation: Generation) -> str | None:
    """The ``uploadEndpoint`` for ``generation``'s task, or None when it gets none.

    The place is made on the first submit attempt and kept for every retry: a retry of the same taskUUID
    may be the one Runware took, or may be answered ``conflictTaskUUID`` for an earlier one, so every URL
    handed out must lead to the same object.
    """
    if generation.number_results != 1:
        return None
    mode = _mode()
    if mode is None:
        return None
    upload = ResultUpload.objects.filter(generation=generation).first()
    if upload is None:
        upload_uuid = uuid.uuid4()
        extension = EXTENSIONS.get(str(generation.parameters.get("outputFormat", "MP4")).upper(), ".mp4")
        upload, _ = ResultUpload.objects.get_or_create(
            generation=generation,
            defaults={
                "uuid": upload_uuid,
                "mode": mode,
                "name": f"teams/{generation.team_id}/outputs/{generation.pk}/{upload_uuid}{extension}",
                "max_bytes": max_bytes(),
                "expires_at": timezone.now() + _lifetime(),
            },
        )
    if upload.status != ResultUpload.Status.OPEN:
        return None
    if upload.mode == ResultUpload.Mode.BUCKET:
        seconds = max(60, int((upload.expires_at - timezone.now()).total_seconds()))
        return media_storage.presigned_put(upload.name, expires_in=seconds)
    token = _signer().sign(str(upload.uuid))
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{reverse('result-upload', kwargs={'token': token})}"


def result_upload_move(upload: ResultUpload, status: str, *, detail: str = "", **fields: object) -> bool:
    """Move ``upload`` forward if it still is where it was read; False (nothing changed) otherwise."""
    if status not in ResultUpload.MOVES[ResultUpload.Status(upload.status)]:
        return False
    moved = ResultUpload.objects.filter(pk=upload.pk, status=upload.status).update(
        status=status, detail=detail[:255], **fields
    )
    if moved:
        upload.status = status
        upload.detail = detail[:255]
        for name, value in fields.items():
            setattr(upload, name, value)
    return bool(moved)


# --- our PUT endpoint ----------------------------------------------------------------------------


def _upload_for_token(token: str) -> ResultUpload:
    try:
        upload_uuid = _signer().unsign(token)
    except signing.BadSignature:
        raise UploadRefused(404, "Unknown upload URL.") from None
    upload = ResultUpload.objects.filter(uuid=upload_uuid, mode=ResultUpload.Mode.ENDPOINT).first()
    if upload is None:
        raise UploadRefused(404, "Unknown upload URL.")
    return upload


def result_upload_receive(*, token: str, body: IO[bytes], content_length: str | None) -> ResultUpload:
    """Take the one PUT a place allows: the body is stored if it is a whole, readable video.

    The first PUT uses the place up whatever becomes of it (a refused body is not replaced by another:
    ingestion then fetches ``videoURL``). Raises UploadRefused.
    """
    upload = _upload_for_token(token)
    declared = (content_length or "").strip()
    if not declared:
        raise UploadRefused(411, "Result video: the PUT has no Content-Length.")
    if not _DIGITS.fullmatch(declared):
        raise UploadRefused(400, "Result video: the PUT's Content-Length is not a number of bytes.")
    size = int(declared)
    if size == 0:
        raise UploadRefused(400, "Result video: the body is empty (0 bytes).")
    if size > upload.max_bytes:
        raise UploadRefused(413, f"Result video: {size} bytes; this upload takes at most {upload.max_bytes}.")
    if upload.expires_at <= timezone.now():
        raise UploadRefused(410, "This upload URL has expired.")
    if not result_upload_move(upload, ResultUpload.Status.RECEIVING, received_at=timezone.now()):
        raise UploadRefused(409, "This upload URL has been used already; each takes one PUT.")
    try:
        return _store_body(upload, body, size)
    except UploadRefused as refused:
        result_upload_move(upload, ResultUpload.Status.REJECTED, detail=refused.message)
        raise
    except BaseException as exc:
        result_upload_move(upload, ResultUpload.Status.REJECTED, detail=f"{type(exc).__name__}: {exc}")
        raise


def _store_body(upload: ResultUpload, body: IO[bytes], size: int) -> ResultUpload:
    handle, temporary = tempfile.mkstemp(prefix="animate-result-")
    try:
        received = 0
        with os.fdopen(handle, "wb") as target:
            while chunk := body.read(CHUNK):
                received += len(chunk)
                if received > size:
                    break
                target.write(chunk)
        if received != size:
            raise UploadRefused(
                400, f"Result video: the body is not the {size} bytes its Content-Length says."
            )
        path = Path(temporary)
        try:
            probe_video(path, field="file")
        except MediaRejected as exc:
            raise UploadRefused(422, exc.message) from None
        sha256, _md5, _size = media_storage.file_digests(path)
        with path.open("rb") as content:
            name = default_storage.save(upload.name, File(content, name=upload.name))
    finally:
        os.unlink(temporary)
    if not result_upload_move(
        upload,
        ResultUpload.Status.RECEIVED,
        name=name,
        size=size,
        sha256=sha256,
        received_at=timezone.now(),
    ):
        default_storage.delete(name)
        raise UploadRefused(409, "This upload URL has been used already; each takes one PUT.")
    return upload


# --- ingestion -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Checked:
    size: int
    etag: str = ""


def result_upload_arrived(*, generation_id: int) -> bool:
    """Whether the result's bytes have come (or are coming) by PUT, so a missing ``videoURL`` is fine."""
    upload = ResultUpload.objects.filter(generation_id=generation_id).first()
    if upload is None:
        return False
    if upload.status in {ResultUpload.Status.RECEIVING, ResultUpload.Status.RECEIVED}:
        return True
    return (
        upload.mode == ResultUpload.Mode.BUCKET
        and upload.status == ResultUpload.Status.OPEN
        and media_storage.object_facts(upload.name) is not None
    )


def _refuse(upload: ResultUpload, reason: str) -> None:
    logger.warning("Result upload %s refused: %s", upload.uuid, reason)
    if result_upload_move(upload, ResultUpload.Status.REJECTED, detail=reason):
        default_storage.delete(upload.name)


def _present(upload: ResultUpload) -> _Checked | None:
    """The uploaded object's facts if there is one to use; None to fall back to ``videoURL``."""
    if upload.status == ResultUpload.Status.RECEIVING:
        stale = timedelta(seconds=float(getattr(settings, "ANIMATE_DOWNLOAD_MAX_SECONDS", 900)))
        if (upload.received_at or upload.created_at) + stale > timezone.now():
            # The PUT is still arriving: the next poll takes the result (no second download meanwhile).
            raise DownloadFailed("the result is still being uploaded")
        _refuse(upload, "the PUT never finished")
        return None
    if upload.mode == ResultUpload.Mode.ENDPOINT:
        if upload.status != ResultUpload.Status.RECEIVED or upload.size is None:
            return None
        return _Checked(size=upload.size)
    if upload.status != ResultUpload.Status.OPEN:
        return None
    facts = media_storage.object_facts(upload.name)
    if facts is None:
        return None
    size, etag = facts
    if not 0 < size <= upload.max_bytes:
        _refuse(upload, f"the uploaded object is {size} bytes (at most {upload.max_bytes}, at least 1)")
        return None
    return _Checked(size=size, etag=etag)


def result_upload_ingest(
    *,
    generation: Generation,
    video_uuid: str,
    seed: int | None,
    nsfw: bool,
    cost: Decimal | None,
) -> Output | None:
    """The Output made from the uploaded object, or None when there is none to use (then the caller
    fetches ``videoURL``). Raises DownloadFailed while a PUT is still arriving."""
    upload = ResultUpload.objects.filter(generation=generation).first()
    if upload is None:
        return None
    checked = _present(upload)
    if checked is None:
        return None
    with media_storage.local_copy(upload.name, suffix=Path(upload.name).suffix) as path:
        sha256, md5, size = media_storage.file_digests(path)
        if size != checked.size:
            _refuse(upload, f"the object holds {size} bytes, {checked.size} were stored")
            return None
        if upload.mode == ResultUpload.Mode.ENDPOINT and sha256 != upload.sha256:
            _refuse(upload, "the object's SHA-256 is not the one recorded when it was received")
            return None
        # A single-part PUT's ETag is the MD5 of its bytes; a multipart ETag ("…-N") is not checkable.
        if checked.etag and "-" not in checked.etag and md5 != checked.etag:
            _refuse(upload, "the object's bytes do not match the bucket's ETag")
            return None
        try:
            output = output_adopt(
                generation=generation,
                video_uuid=video_uuid,
                name=upload.name,
                path=path,
                seed=seed,
                nsfw=nsfw,
                cost=cost,
            )
        except MediaRejected as exc:
            _refuse(upload, exc.message)
            return None
    result_upload_move(upload, ResultUpload.Status.USED, size=size, sha256=sha256)
    return output
