"""Who may do what in which team. Every query in the app starts from a membership."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from animate.models import Membership


class NotAllowed(Exception):
    """The user may not do this (e.g. a reviewer trying to spend)."""


# Where a session remembers the team its user chose to work in (``session_team_choose``).
SESSION_TEAM_KEY = "animate_team_id"


def membership_for(
    user: AbstractBaseUser | AnonymousUser, *, team_id: int | None = None
) -> Membership | None:
    """The user's membership in ``team_id``; without one, or when the user is no longer in that team,
    their first team's."""
    if not user.is_authenticated:
        return None
    memberships = Membership.objects.select_related("team").filter(user=user)
    if team_id is not None:
        chosen = memberships.filter(team_id=team_id).first()
        if chosen is not None:
            return chosen
    return memberships.order_by("id").first()


def session_team_id(session: Any) -> int | None:
    """The team chosen in a session (a Django session or a Channels scope's), if any."""
    value = session.get(SESSION_TEAM_KEY) if session is not None else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def membership_require_spender(membership: Membership | None) -> Membership:
    if membership is None:
        raise NotAllowed("You are not a member of any team.")
    if not membership.can_spend:
        raise NotAllowed("Reviewers cannot submit generations; ask a team admin for the member role.")
    return membership
