"""Signing in: the page Django's ``LoginView`` renders, and what it shows once django-axes locks out."""

from typing import Any

from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from animate.services.throttling import lockout_message


def locked_out(
    request: HttpRequest, response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: the sign-in page again, saying why and for how long, answered 429."""
    form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
    context = {"form": form, "lockout": lockout_message(), "next": request.POST.get("next", "")}
    return render(request, "registration/login.html", context, status=429)
