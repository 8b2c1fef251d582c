"""Throttling guessed credentials: failed sign-ins (django-axes) and failed API tokens.

Sign-ins are counted per account and per client address: either reaching ``AXES_FAILURE_LIMIT`` failures
within ``AXES_COOLOFF_TIME`` locks it out for that long, even with the right password. A request with an
API token that is not valid counts against its address in the same records, so the one lockout list in
the admin (Axes → Access attempts) shows both, and a locked-out address gets 429 for any token, right or
wrong, until the cool-off ends: a guess can never be confirmed while guessing.
"""

from datetime import timedelta
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.http import HttpRequest

from animate.services.audit import client_ip

# What axes records of a failed token: where it came from, never the request's body or headers.
_PROBE_META = ("REMOTE_ADDR", "HTTP_X_FORWARDED_FOR", "HTTP_USER_AGENT", "HTTP_ACCEPT")


def lockout_parameters(request: Any, credentials: dict[str, Any] | None = None) -> list[str]:
    """``AXES_LOCKOUT_PARAMETERS``: a sign-in is counted per account and per address; a token failure,
    which names no account, per address."""
    return ["username", "ip_address"] if (credentials or {}).get("username") else ["ip_address"]


def request_client_ip(request: HttpRequest) -> str | None:
    """``AXES_CLIENT_IP_CALLABLE``: the same client address the audit log records."""
    return client_ip(request.META)


def cooloff() -> timedelta:
    value = settings.AXES_COOLOFF_TIME
    return value if isinstance(value, timedelta) else timedelta(hours=float(value or 0))


def lockout_message(*, tokens: bool = False) -> str:
    minutes = max(1, round(cooloff().total_seconds() / 60))
    what = "with API tokens from this address" if tokens else "for this account or from this address"
    return f"Too many failed attempts {what}. Try again in {minutes} minute{'s' if minutes != 1 else ''}."


def _token_probe(request: HttpRequest) -> HttpRequest:
    probe = HttpRequest()
    probe.method = request.method
    probe.path = probe.path_info = request.path_info
    probe.META = {key: request.META[key] for key in _PROBE_META if key in request.META}
    probe.META["PATH_INFO"] = request.path_info
    return probe


def token_address_locked(request: HttpRequest) -> bool:
    """Whether API tokens from this request's address are locked out after too many failures."""
    return AxesProxyHandler.is_locked(_token_probe(request), credentials={"username": None})


def token_failure_record(request: HttpRequest) -> None:
    """Count one request with an invalid API token against its address."""
    AxesProxyHandler.user_login_failed(
        sender=token_failure_record, credentials={"username": None}, request=_token_probe(request)
    )
