"""Template context every page needs: the header's team switcher and unread notification count."""

from functools import cache
from typing import Any

from django.http import HttpRequest

from animate.services import notifications, teams


def header(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    # Callables: the template runs each query only if (and once) the page shows it.
    @cache
    def header_teams() -> list[Any]:
        return teams.team_memberships(user)

    @cache
    def header_unread() -> int:
        return notifications.notifications_unread_count(user)

    return {
        "header_teams": header_teams,
        "header_unread": header_unread,
        "header_team_id": teams.session_team_id(request.session),
    }
