"""Getting the bytes of an input the way Runware does: URL, data URI, bare base64 or a media UUID.

Runware fetches public URLs itself, so the sandbox does too (httpx, with a timeout and a size cap), but
only from the hosts ``outbound`` allows and never following a redirect. Any failure becomes an InputError
carrying a Runware-style code; the engine turns it into an error result.
"""

import base64
import binascii
import re
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import httpx
from django.conf import settings

from animate.runware.sandbox import outbound

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
DEFAULT_MAX_INPUT_BYTES = 200 * 1024 * 1024
DEFAULT_FETCH_TIMEOUT = 30.0


class InputError(Exception):
    """An input that cannot be used, with the Runware-style ``code`` and the ``parameter`` at fault."""

    def __init__(self, code: str, message: str, *, parameter: str) -> None:
        self.code = code
        self.message = message
        self.parameter = parameter
        super().__init__(message)


def max_input_bytes() -> int:
    return int(getattr(settings, "RUNWARE_SANDBOX_MAX_INPUT_BYTES", DEFAULT_MAX_INPUT_BYTES))


def load(value: object, *, code: str, parameter: str, lookup: Callable[[str], Path | None]) -> bytes:
    """The bytes behind one input reference; ``lookup`` finds media stored in the sandbox by UUID."""

    def fail(message: str) -> InputError:
        return InputError(code, message, parameter=parameter)

    if not isinstance(value, str) or not value.strip():
        raise fail("The input must be a URL, a data URI, base64 data or a media UUID.")
    value = value.strip()
    limit = max_input_bytes()
    if value.startswith(("http://", "https://")):
        data = _fetch(value, limit=limit, fail=fail)
    elif value.startswith("data:"):
        data = _data_uri(value, fail=fail)
    elif UUID.match(value):
        path = lookup(value.lower())
        if path is None:
            raise fail(f"No media with UUID {value} exists (it may have expired).")
        data = path.read_bytes()
    else:
        data = _base64(value, fail=fail)
    if not data:
        raise fail("The input is empty (0 bytes).")
    if len(data) > limit:
        raise fail(f"The input is larger than {limit} bytes.")
    return data


def _fetch(url: str, *, limit: int, fail: Callable[[str], InputError]) -> bytes:
    try:
        target = outbound.check(url)
    except outbound.RefusedURL as refused:
        # Never contacted: nothing about the target can leak, and the message says only why.
        raise fail(f"The input URL was refused. {refused.message}") from None
    host = outbound.host_of(target)  # only the host is echoed back: the rest of a signed URL is a credential
    timeout = float(getattr(settings, "RUNWARE_SANDBOX_FETCH_TIMEOUT", DEFAULT_FETCH_TIMEOUT))
    chunks: list[bytes] = []
    size = 0
    try:
        # No redirects: a redirect could lead anywhere, past the host check.
        with (
            outbound.quiet_httpx(),
            httpx.stream("GET", target, timeout=timeout, follow_redirects=False) as response,
        ):
            if 300 <= response.status_code < 400:
                raise fail(
                    f"Could not download the input: {host} answered with a redirect (HTTP "
                    f"{response.status_code}), and the sandbox does not follow redirects."
                )
            if not response.is_success:
                raise fail(f"Could not download the input: HTTP {response.status_code} from {host}.")
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise fail(f"The input at {host} is larger than {limit} bytes.")
                chunks.append(chunk)
    except httpx.HTTPError as error:
        raise fail(f"Could not download the input from {host}: {type(error).__name__}.") from error
    return b"".join(chunks)


def _data_uri(value: str, *, fail: Callable[[str], InputError]) -> bytes:
    header, comma, payload = value.partition(",")
    if not comma:
        raise fail("The data URI has no ',' before its data.")
    if header.endswith(";base64"):
        return _base64(payload, fail=fail)
    return urllib.parse.unquote_to_bytes(payload)


def _base64(value: str, *, fail: Callable[[str], InputError]) -> bytes:
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError) as error:
        raise fail("The input is not a URL, a data URI, a media UUID or valid base64 data.") from error
