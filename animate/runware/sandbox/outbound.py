"""What the sandbox may contact, and how it names a URL where others can read it.

The sandbox fetches input URLs and sends webhooks and uploads on behalf of whoever can reach its API, so
without a limit it is an open proxy into the network it runs in (``http://169.254.169.254/`` read back
through ``/sandbox/media/``). Every outbound URL is therefore checked here first, parsed by httpx itself
(so the host checked is the host contacted), against ``RUNWARE_SANDBOX_ALLOWED_HOSTS``: http(s) only, no
user name or password, and the host (or ``host:port``) on the list. A refused URL is never contacted.

URLs also carry credentials (a webhook's per-generation secret, a signed input URL's token), so logs and
messages show them only through ``redact`` / ``host``.
"""

import logging
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_ALLOWED_HOSTS = ("127.0.0.1", "localhost", "::1")
DEFAULT_PORTS = {"http": 80, "https": 443}
KEPT_PATH_SEGMENTS = 2
_HOST_PORT = re.compile(r"^(?:\[(?P<v6>[^\]]+)\]|(?P<name>[^:\[\]]+))(?::(?P<port>\d+))?$")
_URL_IN_TEXT = re.compile(r"https?://[^\s\"'<>]+", re.IGNORECASE)


class RefusedURL(Exception):
    """A URL the sandbox will not contact; ``message`` says why without anything learnt from the target
    (it is never contacted) and without the URL's path or query (they may be credentials)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def allowed_hosts() -> list[tuple[str, int | None]]:
    """``RUNWARE_SANDBOX_ALLOWED_HOSTS`` as (host, port or None for any port) pairs.

    The setting, else the environment variable of that name (comma-separated), else loopback plus the
    host of ``PUBLIC_BASE_URL``.
    """
    configured = getattr(settings, "RUNWARE_SANDBOX_ALLOWED_HOSTS", None)
    if configured is None:
        configured = os.environ.get("RUNWARE_SANDBOX_ALLOWED_HOSTS")
    if configured is None:
        public = urlsplit(str(getattr(settings, "PUBLIC_BASE_URL", "") or "")).hostname
        configured = [*DEFAULT_ALLOWED_HOSTS, *([public] if public else [])]
    if isinstance(configured, str):
        configured = configured.split(",")
    entries = []
    for entry in configured:
        parsed = _parse_entry(str(entry))
        if parsed is not None:
            entries.append(parsed)
    return entries


def _parse_entry(entry: str) -> tuple[str, int | None] | None:
    """``host``, ``host:port``, ``::1``, ``[::1]`` or ``[::1]:8000``; None for an empty entry."""
    entry = entry.strip().lower()
    if not entry:
        return None
    if entry.count(":") > 1 and not entry.startswith("["):
        return entry, None  # a bare IPv6 address
    match = _HOST_PORT.match(entry)
    if match is None:
        raise ImproperlyConfigured(f"RUNWARE_SANDBOX_ALLOWED_HOSTS: {entry!r} is not a host or host:port.")
    port = match.group("port")
    return match.group("v6") or match.group("name"), int(port) if port else None


def check(url: str | httpx.URL) -> httpx.URL:
    """``url`` parsed as httpx will send it, if the sandbox may contact it; RefusedURL if not."""
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise RefusedURL("The URL is not a valid URL.") from None
    if parsed.scheme not in DEFAULT_PORTS:
        raise RefusedURL("Only http and https URLs are allowed.")
    if parsed.userinfo:
        raise RefusedURL("URLs with a user name or password are not allowed.")
    host = parsed.host.lower()
    if not host:
        raise RefusedURL("The URL has no host.")
    port = parsed.port or DEFAULT_PORTS[parsed.scheme]
    if not 0 < port < 65536:
        raise RefusedURL("The URL is not a valid URL.")
    if not any(host == allowed and allowed_port in (None, port) for allowed, allowed_port in allowed_hosts()):
        raise RefusedURL(
            f"The host {host_of(parsed)} is not allowed: the sandbox only contacts the hosts listed in "
            "RUNWARE_SANDBOX_ALLOWED_HOSTS."
        )
    return parsed


def host_of(url: str | httpx.URL) -> str:
    """``host[:port]`` of a URL, without any user name or password: safe to show."""
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return "the URL"
    host = parsed.host
    if not host:
        return "the URL"
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{parsed.port}" if parsed.port else host


def redact(url: str | httpx.URL) -> str:
    """``scheme://host[:port]`` and the first path segments of a URL; the rest, and any query, is ``…``.

    ``http://h:8000/hooks/runware/12/s3cret?x=1`` → ``http://h:8000/hooks/runware/…``.
    """
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return "<invalid URL>"
    segments = [segment for segment in parsed.path.split("/") if segment]
    path = "/" + "/".join(segments[:KEPT_PATH_SEGMENTS])
    if len(segments) > KEPT_PATH_SEGMENTS:
        path += "/…"
    elif parsed.query:
        path += "?…"
    return f"{parsed.scheme}://{host_of(parsed)}{path}"


def redact_text(text: str) -> str:
    """``text`` with every http(s) URL in it redacted."""
    return _URL_IN_TEXT.sub(lambda match: redact(match.group(0)), text)


# --- httpx's own request log ------------------------------------------------------------------------
# httpx logs every request at INFO with its full URL ("HTTP Request: POST http://…/<secret> …"). The
# sandbox's requests are made inside ``quiet_httpx()``; a filter on the "httpx" logger redacts the URLs of
# records emitted there, and leaves everybody else's alone.

_state = threading.local()
_filter_lock = threading.Lock()


class _RedactSandboxRequests(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(_state, "depth", 0):
            record.msg, record.args = redact_text(record.getMessage()), None
        return True


_FILTER = _RedactSandboxRequests()


@contextmanager
def quiet_httpx() -> Iterator[None]:
    """Redact the URLs httpx logs for requests made in this block (and this thread)."""
    with _filter_lock:
        httpx_logger = logging.getLogger("httpx")
        if _FILTER not in httpx_logger.filters:
            httpx_logger.addFilter(_FILTER)
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        yield
    finally:
        _state.depth -= 1
