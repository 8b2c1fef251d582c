"""Request middleware of the app."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from animate.services.teams import TEMPORARY_PASSWORD_SESSION_KEY


class TemporaryPasswordMiddleware:
    """Someone logged in with a password an admin gave them sets their own before anything else.

    The login receiver marks the session, so other requests cost no query.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and session.get(TEMPORARY_PASSWORD_SESSION_KEY):
            allowed = (reverse("password-set"), reverse("logout"), "/static/", "/favicon.ico", "/healthz")
            if not request.path.startswith(allowed):
                if request.path.startswith("/api/"):
                    message = "Choose your own password first (you logged in with a temporary one)."
                    return JsonResponse({"errors": {"detail": [message]}}, status=403)
                return redirect("password-set")
        return self.get_response(request)
