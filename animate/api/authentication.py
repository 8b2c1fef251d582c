"""API token authentication that counts failures (kept apart from the views: DRF's settings import it)."""

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.request import Request

from animate.services import throttling


class TokensLockedOut(exceptions.Throttled):
    """429 with ``Retry-After``; the message already says when, so DRF's own sentence is not added."""

    def __init__(self) -> None:
        super().__init__(detail=throttling.lockout_message(tokens=True))
        self.wait = throttling.cooloff().total_seconds()


class ThrottledTokenAuthentication(TokenAuthentication):
    """Token authentication whose failures count against the client's address: after too many, any
    token from there is answered 429 until the cool-off ends (``animate.services.throttling``)."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None  # no token offered: nothing to count
        # DRF's request wraps Django's; the media views hand over Django's own.
        django_request = getattr(request, "_request", request)
        if throttling.token_address_locked(django_request):
            raise TokensLockedOut()
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            throttling.token_failure_record(django_request)
            raise
