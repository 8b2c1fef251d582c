"""Fetching result videos from the provider without letting a URL reach anything else (no SSRF).

A result URL arrives in a webhook body, which anyone who learns a webhook URL could forge, so the URL is
treated as hostile: only ``https`` (``http`` only in development), only hosts on
``settings.RUNWARE_MEDIA_HOSTS``, no credentials in the URL, every redirect hop re-checked, bodies
streamed to a temporary file under a size cap and a deadline.

Two exceptions tell the caller what to do next: ``DownloadRejected`` means the URL or the body is not
acceptable and retrying cannot help; ``DownloadFailed`` means the network or the provider had a problem
and a later retry may succeed.
"""

import base64
import binascii
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx
from django.conf import settings

from animate.runware.client import shared_ssl_context

MAX_REDIRECTS = 3
CHUNK = 256 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Statuses after which the same URL may well work a bit later (a CDN still propagating answers 404).
RETRYABLE_STATUSES = frozenset({404, 408, 425, 429, 500, 502, 503, 504})
# Anything a URL parser might read differently from httpx is refused before parsing.
UNSAFE_URL_CHARS = re.compile(r"[\s\\\x00-\x1f\x7f]")
DATA_URI = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+)?(?:;[\w.+-]+=[\w.+-]+)*;base64,", re.IGNORECASE)
WHITESPACE = re.compile(r"\s+")


class DownloadRejected(Exception):
    """The URL or the content is not allowed; never retry."""


class DownloadFailed(Exception):
    """A transient failure (network, timeout, provider error, cut-off body); the caller may retry."""


@dataclass(frozen=True)
class DownloadedFile:
    path: Path
    size: int
    content_type: str


def _max_bytes() -> int:
    return int(getattr(settings, "ANIMATE_MAX_OUTPUT_BYTES", 1024**3))


def _allow_http() -> bool:
    default = bool(settings.DEBUG or getattr(settings, "RUNWARE_SANDBOX", False))
    return bool(getattr(settings, "ANIMATE_ALLOW_HTTP_MEDIA", default))


def _allowed_hosts() -> set[tuple[str, int | None]]:
    """(host, port) pairs from RUNWARE_MEDIA_HOSTS; a port of None allows any port on that host."""
    allowed = set()
    for entry in getattr(settings, "RUNWARE_MEDIA_HOSTS", []):
        url = httpx.URL(f"//{entry.strip()}")
        allowed.add((url.host.rstrip(".").lower(), url.port))
    return allowed


def checked_provider_url(raw: str) -> httpx.URL:
    """The URL as httpx will request it, after proving it points at an allowed provider host."""
    if not isinstance(raw, str) or not raw or UNSAFE_URL_CHARS.search(raw):
        raise DownloadRejected("the result URL is empty or contains characters that are not allowed")
    try:
        url = httpx.URL(raw)
    except (httpx.InvalidURL, ValueError) as error:
        raise DownloadRejected(f"the result URL cannot be parsed: {error}") from None
    schemes = {"https", "http"} if _allow_http() else {"https"}
    if url.scheme not in schemes:
        raise DownloadRejected(
            f"the result URL uses {url.scheme or 'no'} scheme; only {'/'.join(sorted(schemes))}"
        )
    if url.userinfo:
        raise DownloadRejected("the result URL carries credentials, which provider URLs never do")
    host = url.host.rstrip(".").lower()
    allowed = _allowed_hosts()
    if (host, None) not in allowed and (host, url.port) not in allowed:
        # Exact host match only: an IP literal, a look-alike or a subdomain is refused unless listed.
        raise DownloadRejected(f"the result URL's host {host!r} is not on RUNWARE_MEDIA_HOSTS")
    return url


def _media_type(response: httpx.Response) -> str:
    value = response.headers.get("content-type", "")
    return value.split(";")[0].strip().lower() or "application/octet-stream"


def download_provider_file(*, url: str, dest_dir: Path | None = None) -> DownloadedFile:
    """Stream a provider result URL to a new temporary file in ``dest_dir`` (default: the system's)."""
    timeout = float(getattr(settings, "ANIMATE_DOWNLOAD_TIMEOUT", 60))
    deadline = time.monotonic() + float(getattr(settings, "ANIMATE_DOWNLOAD_MAX_SECONDS", 900))
    current = checked_provider_url(url)
    # trust_env=False: no proxy or .netrc credentials from the environment ever join a provider request.
    with httpx.Client(
        follow_redirects=False, timeout=timeout, trust_env=False, verify=shared_ssl_context()
    ) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                with client.stream(
                    "GET", current, headers={"Accept": "video/*", "Accept-Encoding": "identity"}
                ) as response:
                    if response.status_code in REDIRECT_STATUSES:
                        location = response.headers.get("location")
                        if not location:
                            raise DownloadFailed(f"redirect {response.status_code} without a Location")
                        current = checked_provider_url(urljoin(str(current), location))
                        continue
                    if response.status_code != 200:
                        error = (
                            DownloadFailed if response.status_code in RETRYABLE_STATUSES else DownloadRejected
                        )
                        raise error(f"the provider answered {response.status_code} for the result URL")
                    return _save_body(response, dest_dir=dest_dir, deadline=deadline)
            except httpx.TimeoutException as exc:
                raise DownloadFailed(f"timed out fetching the result: {exc}") from exc
            except httpx.HTTPError as exc:
                raise DownloadFailed(f"network error fetching the result: {exc}") from exc
    raise DownloadRejected(f"more than {MAX_REDIRECTS} redirects fetching the result")


def _declared_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length")
    if value is None:
        return None
    if not value.strip().isdigit():
        raise DownloadFailed(f"the provider sent an invalid Content-Length {value!r}")
    return int(value)


def _save_body(response: httpx.Response, *, dest_dir: Path | None, deadline: float) -> DownloadedFile:
    cap = _max_bytes()
    declared = _declared_length(response)
    if declared is not None and declared > cap:
        raise DownloadRejected(f"the result is {declared} bytes; the most accepted is {cap}")

    def body() -> Iterator[bytes]:
        for chunk in response.iter_bytes(CHUNK):
            if time.monotonic() > deadline:
                raise DownloadFailed("the result download took longer than ANIMATE_DOWNLOAD_MAX_SECONDS")
            yield chunk

    downloaded = _write_capped(body(), dest_dir=dest_dir, content_type=_media_type(response), cap=cap)
    # Raw bytes on the wire, so the check holds even if a server compressed the body regardless.
    if declared is not None and response.num_bytes_downloaded != declared:
        downloaded.path.unlink(missing_ok=True)
        raise DownloadFailed(
            f"the result was cut short: {response.num_bytes_downloaded} of {declared} bytes arrived"
        )
    if downloaded.size == 0:
        downloaded.path.unlink(missing_ok=True)
        raise DownloadFailed("the provider sent an empty result body")
    return downloaded


def _write_capped(
    chunks: Iterator[bytes], *, dest_dir: Path | None, content_type: str, cap: int
) -> DownloadedFile:
    """Write chunks to a new temporary file, deleting it if the cap is passed or anything fails."""
    with tempfile.NamedTemporaryFile(
        prefix="animate-result-", suffix=".part", dir=dest_dir, delete=False
    ) as handle:
        size = 0
        try:
            for chunk in chunks:
                size += len(chunk)
                if size > cap:
                    raise DownloadRejected(f"the result is larger than {cap} bytes")
                handle.write(chunk)
        except BaseException:
            handle.close()
            os.unlink(handle.name)
            raise
    return DownloadedFile(path=Path(handle.name), size=size, content_type=content_type)


def decode_inline_video(
    *, base64_data: str | None = None, data_uri: str | None = None, dest_dir: Path | None = None
) -> DownloadedFile:
    """Write a result delivered inline (``videoBase64Data`` or ``videoDataURI``) to a temporary file.

    When a result carries both, the data URI is used because it also names the media type.
    """
    if not base64_data and not data_uri:
        raise DownloadRejected("the result carries neither a video URL nor inline video data")
    content_type = "application/octet-stream"
    if data_uri:
        match = DATA_URI.match(data_uri)
        if match is None:
            raise DownloadRejected("the result data URI is not a base64 data: URI")
        content_type = (match.group("type") or content_type).lower()
        encoded = data_uri[match.end() :]
    else:
        encoded = base64_data or ""
    encoded = WHITESPACE.sub("", encoded)
    cap = _max_bytes()
    if len(encoded) // 4 * 3 > cap + 2:
        raise DownloadRejected(f"the inline result is larger than {cap} bytes")

    def decoded() -> Iterator[bytes]:
        step = CHUNK // 3 * 4  # a multiple of 4 characters decodes on its own
        for start in range(0, len(encoded), step):
            try:
                yield base64.b64decode(encoded[start : start + step], validate=True)
            except binascii.Error as exc:
                raise DownloadRejected(f"the inline result is not valid base64: {exc}") from None

    downloaded = _write_capped(decoded(), dest_dir=dest_dir, content_type=content_type, cap=cap)
    if downloaded.size == 0:
        downloaded.path.unlink(missing_ok=True)
        raise DownloadRejected("the inline result is empty")
    return downloaded
