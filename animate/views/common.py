"""Helpers every page module shares: the caller's membership, ids from requests, JSON bodies."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from animate.models import Asset, Membership
from animate.services import media, teams
from animate.services.audit import client_ip


def request_membership(request: HttpRequest) -> Membership | None:
    """The membership the request works in: the team chosen in this session, else the user's first."""
    return teams.membership_for(request.user, team_id=teams.session_team_id(request.session))


def no_team(request: HttpRequest) -> HttpResponse:
    return render(request, "animate/no_team.html", {}, status=403)


def int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def asset_payload(asset: Asset, *, mode: str | None = None) -> dict[str, Any]:
    """What the create page shows about an uploaded input."""
    return media.asset_summary(asset, mode=mode)


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "animate/forbidden.html", {"message": message}, status=403)


ADMIN_ONLY = "Only team admins can open this page. Ask an admin of your team if you need it."


def admin_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page for the admins of the team the request works in: others get 403, whatever the page."""

    @login_required
    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        membership = request_membership(request)
        if membership is None:
            return no_team(request)
        if not membership.is_admin:
            return forbidden(request, ADMIN_ONLY)
        return view(request, membership, *args, **kwargs)

    return guarded


def request_ip(request: HttpRequest) -> str | None:
    return client_ip(request.META)


def safe_next(request: HttpRequest, fallback: str) -> str:
    """Where to go back to after a form: a path on this site only."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=False
    ):
        return target
    return fallback
