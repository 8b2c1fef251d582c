"""Who may do what in which team. Every query in the app starts from a membership."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from animate.models import Membership


class NotAllowed(Exception):
    """The user may not do this (e.g. a reviewer trying to spend)."""


def membership_for(user: AbstractBaseUser | AnonymousUser) -> Membership | None:
    """The user's membership; a user works in their first team (teams switching is not built yet)."""
    if not user.is_authenticated:
        return None
    return Membership.objects.select_related("team").filter(user=user).order_by("id").first()


def membership_require_spender(membership: Membership | None) -> Membership:
    if membership is None:
        raise NotAllowed("You are not a member of any team.")
    if not membership.can_spend:
        raise NotAllowed("Reviewers cannot submit generations; ask a team admin for the member role.")
    return membership
