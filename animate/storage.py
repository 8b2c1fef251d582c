"""Where media bytes live: the local disk (the default) or an S3-compatible bucket (django-storages).

Everything that must know the difference asks here: the media views (stream with Range from disk, or
redirect to a short-lived presigned GET), the inputs handed to Runware (a presigned GET of the bucket),
result delivery by ``uploadEndpoint`` (a presigned PUT into the bucket) and the probes and posters,
which always work on a temporary local copy (``local_copy``) that is removed however they end.

The bucket is configured with the variables django-storages names (``AWS_STORAGE_BUCKET_NAME``,
``AWS_S3_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_S3_REGION_NAME``);
see ``project/settings.py`` and the README.
"""

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.storage import Storage, default_storage
from django.utils.http import content_disposition_header

COPY_CHUNK = 1024 * 1024
# Multipart uploads to the bucket: parts this large, this many in flight, so an upload of any size costs
# about part size x concurrency of memory (boto3's defaults read up to 10 parts ahead, over 10 threads).
S3_PART_BYTES = 8 * 1024 * 1024
S3_CONCURRENCY = 2


def s3_storage_options(environ: Any = os.environ) -> dict[str, Any] | None:
    """The ``STORAGES["default"]["OPTIONS"]`` for the bucket named in ``environ``, or None without one."""
    bucket = environ.get("AWS_STORAGE_BUCKET_NAME", "")
    if not bucket:
        return None
    from boto3.s3.transfer import TransferConfig

    endpoint = environ.get("AWS_S3_ENDPOINT_URL") or None
    transfer = TransferConfig(
        multipart_threshold=S3_PART_BYTES, multipart_chunksize=S3_PART_BYTES, max_concurrency=S3_CONCURRENCY
    )
    # Parts read ahead of the ones in flight: s3transfer's default of 10 holds 80 MB for one file (a
    # 160 MB upload peaked at 106 MB traced; with one, 33 MB). boto3's constructor does not take it.
    transfer.max_in_memory_upload_chunks = 1
    return {
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        "access_key": environ.get("AWS_ACCESS_KEY_ID") or None,
        "secret_key": environ.get("AWS_SECRET_ACCESS_KEY") or None,
        "region_name": environ.get("AWS_S3_REGION_NAME") or None,
        "signature_version": "s3v4",
        # A self-hosted endpoint (MinIO, moto, Ceph) is usually addressed by path, not by bucket host name.
        "addressing_style": environ.get("AWS_S3_ADDRESSING_STYLE") or ("path" if endpoint else None),
        # Private objects, reached only through presigned URLs that the views hand out after access checks.
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": int(environ.get("ANIMATE_MEDIA_URL_SECONDS", "300")),
        # Names are unique by construction (hashes, UUIDs); never silently replace another object.
        "file_overwrite": False,
        "transfer_config": transfer,
    }


def s3_origins(options: dict[str, Any]) -> list[str]:
    """The origins presigned URLs of this bucket point at, for the Content-Security-Policy."""
    bucket = options["bucket_name"]
    endpoint = options.get("endpoint_url")
    if endpoint:
        parts = urlsplit(endpoint)
        if options.get("addressing_style") == "virtual":
            return [f"{parts.scheme}://{bucket}.{parts.netloc}"]
        return [f"{parts.scheme}://{parts.netloc}"]
    region = options.get("region_name")
    origins = [f"https://{bucket}.s3.amazonaws.com"]
    if region:
        origins.append(f"https://{bucket}.s3.{region}.amazonaws.com")
    return origins


def is_s3(storage: Storage | None = None) -> bool:
    """Whether ``storage`` (default: the media storage) is a bucket rather than the local disk."""
    from storages.backends.s3 import S3Storage

    # default_storage is a lazy proxy; isinstance() sees the class of the storage behind it.
    return isinstance(storage if storage is not None else default_storage, S3Storage)


def _client(storage: Storage) -> Any:
    return storage.connection.meta.client  # type: ignore[attr-defined]


def _key(storage: Storage, name: str) -> str:
    """The bucket key of a storage name (the storage's ``location`` prefix included)."""
    from storages.utils import clean_name

    return storage._normalize_name(clean_name(name))  # type: ignore[attr-defined]


def url_seconds() -> int:
    """How long a presigned URL for a person's browser stays valid: short, it is a bearer credential."""
    return int(getattr(settings, "ANIMATE_MEDIA_URL_SECONDS", 300))


def presigned_get(
    name: str,
    *,
    expires_in: int,
    content_type: str | None = None,
    filename: str | None = None,
    download: bool = False,
    storage: Storage | None = None,
) -> str:
    """A presigned GET of one object; the bucket answers with our content type and file name."""
    storage = storage or default_storage
    params: dict[str, Any] = {"Bucket": storage.bucket_name, "Key": _key(storage, name)}  # type: ignore[attr-defined]
    if content_type:
        params["ResponseContentType"] = content_type
    if filename:
        params["ResponseContentDisposition"] = content_disposition_header(download, filename)
    return _client(storage).generate_presigned_url("get_object", Params=params, ExpiresIn=int(expires_in))


def presigned_put(name: str, *, expires_in: int, storage: Storage | None = None) -> str:
    """A presigned PUT of one object name. The content type is left unsigned: what Runware sends as
    ``Content-Type`` is not documented, and the stored type is decided by probing anyway."""
    storage = storage or default_storage
    params = {"Bucket": storage.bucket_name, "Key": _key(storage, name)}  # type: ignore[attr-defined]
    return _client(storage).generate_presigned_url("put_object", Params=params, ExpiresIn=int(expires_in))


def object_facts(name: str, *, storage: Storage | None = None) -> tuple[int, str] | None:
    """(size, ETag without quotes) of a bucket object, or None when there is none by that name."""
    from botocore.exceptions import ClientError

    storage = storage or default_storage
    try:
        head = _client(storage).head_object(Bucket=storage.bucket_name, Key=_key(storage, name))  # type: ignore[attr-defined]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
            return None
        raise
    return int(head["ContentLength"]), str(head.get("ETag", "")).strip('"')


@contextmanager
def local_copy(name: str, *, storage: Storage | None = None, suffix: str = "") -> Iterator[Path]:
    """A path on local disk holding the stored object's bytes, removed when the block ends, error or not.

    A file already on local disk is used in place (nothing to copy); a bucket object is streamed to a
    temporary file in chunks, never held whole in memory.
    """
    storage = storage or default_storage
    try:
        yield Path(storage.path(name))
        return
    except NotImplementedError:
        pass
    handle, temporary = tempfile.mkstemp(prefix="animate-media-", suffix=suffix)
    try:
        with os.fdopen(handle, "wb") as target, storage.open(name, "rb") as source:
            shutil.copyfileobj(source, target, COPY_CHUNK)
        yield Path(temporary)
    finally:
        os.unlink(temporary)


def file_digests(path: Path) -> tuple[str, str, int]:
    """(sha256, md5, size) of a local file, read in chunks. MD5 only to compare with an S3 ETag."""
    sha256, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(COPY_CHUNK):
            sha256.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return sha256.hexdigest(), md5.hexdigest(), size
