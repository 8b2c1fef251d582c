"""Helpers every page module shares: the caller's membership, ids from requests, JSON bodies."""

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from animate.models import Asset, Membership
from animate.services import media, teams


def request_membership(request: HttpRequest) -> Membership | None:
    """The membership the request works in: the team chosen in this session, else the user's first."""
    return teams.membership_for(request.user, team_id=teams.session_team_id(request.session))


def no_team(request: HttpRequest) -> HttpResponse:
    return render(request, "animate/no_team.html", {}, status=403)


def no_team_json() -> JsonResponse:
    return JsonResponse({"error": "You are not a member of any team."}, status=403)


def int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def json_body(request: HttpRequest) -> dict[str, Any] | None:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def team_asset(membership: Membership, asset_id: Any, kind: str) -> Asset | None:
    pk = int_or_none(asset_id)
    if pk is None:
        return None
    return Asset.objects.filter(team_id=membership.team_id, kind=kind, pk=pk).first()


def asset_payload(asset: Asset, *, mode: str | None = None) -> dict[str, Any]:
    """What the create page shows about an uploaded input."""
    return media.asset_summary(asset, mode=mode)
