"""Who may do what in which team. Every query in the app starts from a membership."""

import hashlib
import secrets
import zoneinfo
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from animate.models import AuditEvent, Budget, Invite, Membership, Team, TemporaryPassword
from animate.services.audit import audit_record
from animate.services.ledger import cost_days_rebuild


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


# --- team administration (admins only) ---------------------------------------------------------------


class TeamChangeRefused(Exception):
    """An admin's change cannot be made; ``problems`` maps a field to a message."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


INVITE_DAYS = (1, 7, 30)
TEMPORARY_PASSWORD_BYTES = 12


def membership_require_admin(membership: Membership | None) -> Membership:
    if membership is None:
        raise NotAllowed("You are not a member of any team.")
    if not membership.is_admin:
        raise NotAllowed("Only team admins can do this.")
    return membership


def team_memberships(user: AbstractBaseUser | AnonymousUser) -> list[Membership]:
    """Every team the user belongs to (for the header's team switcher)."""
    if not user.is_authenticated:
        return []
    return list(Membership.objects.filter(user=user).select_related("team").order_by("team__name", "team_id"))


def team_switch(
    *, user: AbstractBaseUser, team_id: Any, session: Any, ip: str | None = None
) -> Membership | None:
    """Work in ``team_id`` from now on (pages, sockets and session API calls); None if not a member."""
    try:
        wanted = int(team_id)
    except (TypeError, ValueError):
        return None
    membership = Membership.objects.select_related("team").filter(user=user, team_id=wanted).first()
    if membership is None:
        return None
    if session.get(SESSION_TEAM_KEY) != membership.team_id:
        session[SESSION_TEAM_KEY] = membership.team_id
        audit_record(action=AuditEvent.Action.TEAM_SWITCHED, team=membership.team, actor=user, ip=ip)
    return membership


def _team_member(admin: Membership, membership_id: Any) -> Membership:
    try:
        pk = int(membership_id)
    except (TypeError, ValueError):
        pk = None
    found = (
        Membership.objects.select_for_update()
        .select_related("user")
        .filter(team_id=admin.team_id, pk=pk)
        .first()
        if pk is not None
        else None
    )
    if found is None:
        raise TeamChangeRefused({"member": "No such member in your team."})
    return found


def _role(value: Any) -> str:
    if value not in Membership.Role.values:
        raise TeamChangeRefused({"role": f"Choose one of: {', '.join(Membership.Role.values)}."})
    return str(value)


def _keeps_an_admin(membership: Membership, *, new_role: str | None) -> None:
    """Refuse to leave a team without any admin (nobody could manage it any more)."""
    if membership.role != Membership.Role.ADMIN or new_role == Membership.Role.ADMIN:
        return
    others = Membership.objects.filter(team_id=membership.team_id, role=Membership.Role.ADMIN).exclude(
        pk=membership.pk
    )
    if not others.exists():
        raise TeamChangeRefused({"role": "A team needs at least one admin; make someone else admin first."})


def member_create(
    *,
    admin: Membership,
    username: str,
    email: str = "",
    role: str = Membership.Role.MEMBER,
    ip: str | None = None,
) -> tuple[Membership, str]:
    """Create a user with a temporary password (shown once, to be replaced at first login) in the team."""
    membership_require_admin(admin)
    role = _role(role)
    username = (username or "").strip()
    problems: dict[str, str] = {}
    user_model = get_user_model()
    username_field = user_model._meta.get_field(user_model.USERNAME_FIELD)
    try:
        username_field.clean(username, None)
    except ValidationError as exc:
        problems["username"] = " ".join(exc.messages)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problems["email"] = "Enter a valid email address, or leave it empty."
    if (
        not problems
        and user_model.objects.filter(**{f"{user_model.USERNAME_FIELD}__iexact": username}).exists()
    ):
        problems["username"] = "That username is taken. To add an existing user, send them an invite link."
    if problems:
        raise TeamChangeRefused(problems)
    password = secrets.token_urlsafe(TEMPORARY_PASSWORD_BYTES)
    with transaction.atomic():
        user = user_model.objects.create_user(username=username, email=email, password=password)
        TemporaryPassword.objects.create(user=user, created_by=admin.user)
        membership = Membership.objects.create(user=user, team_id=admin.team_id, role=role)
        audit_record(
            action=AuditEvent.Action.MEMBER_ADDED,
            team=admin.team_id,
            actor=admin.user,
            target=membership,
            detail={"username": username, "role": role, "how": "temporary password"},
            ip=ip,
        )
    return membership, password


def member_role_change(
    *, admin: Membership, membership_id: Any, role: str, ip: str | None = None
) -> Membership:
    membership_require_admin(admin)
    role = _role(role)
    with transaction.atomic():
        Team.objects.select_for_update().get(pk=admin.team_id)  # one admin change at a time per team
        membership = _team_member(admin, membership_id)
        if membership.role == role:
            return membership
        _keeps_an_admin(membership, new_role=role)
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        audit_record(
            action=AuditEvent.Action.ROLE_CHANGED,
            team=admin.team_id,
            actor=admin.user,
            target=membership,
            detail={"username": membership.user.get_username(), "from": before, "to": role},
            ip=ip,
        )
    return membership


def member_remove(*, admin: Membership, membership_id: Any, ip: str | None = None) -> None:
    """Take someone out of the team; their runs, outputs and ledger rows stay."""
    membership_require_admin(admin)
    with transaction.atomic():
        Team.objects.select_for_update().get(pk=admin.team_id)
        membership = _team_member(admin, membership_id)
        _keeps_an_admin(membership, new_role=None)
        username = membership.user.get_username()
        Budget.objects.filter(team_id=admin.team_id, user_id=membership.user_id).delete()
        audit_record(
            action=AuditEvent.Action.MEMBER_REMOVED,
            team=admin.team_id,
            actor=admin.user,
            target_type="membership",
            target_id=membership.pk,
            detail={"username": username, "role": membership.role},
            ip=ip,
        )
        membership.delete()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_create(
    *, admin: Membership, role: str, email: str = "", days: Any = 7, ip: str | None = None
) -> tuple[Invite, str]:
    """A single-use link to join the team with ``role``; returns the invite and its secret token."""
    membership_require_admin(admin)
    role = _role(role)
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = 0
    if days not in INVITE_DAYS:
        raise TeamChangeRefused(
            {"days": f"Choose how long the link works: {', '.join(map(str, INVITE_DAYS))} days."}
        )
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise TeamChangeRefused({"email": "Enter a valid email address, or leave it empty."}) from None
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invite = Invite.objects.create(
            team_id=admin.team_id,
            role=role,
            email=email,
            token_hash=_token_hash(token),
            created_by=admin.user,
            expires_at=timezone.now() + timedelta(days=days),
        )
        audit_record(
            action=AuditEvent.Action.INVITE_CREATED,
            team=admin.team_id,
            actor=admin.user,
            target=invite,
            detail={"role": role, "email": email, "days": days},
            ip=ip,
        )
    return invite, token


def invite_revoke(*, admin: Membership, invite_id: Any, ip: str | None = None) -> Invite:
    membership_require_admin(admin)
    with transaction.atomic():
        try:
            pk = int(invite_id)
        except (TypeError, ValueError):
            pk = 0
        invite = Invite.objects.select_for_update().filter(team_id=admin.team_id, pk=pk).first()
        if invite is None:
            raise TeamChangeRefused({"invite": "No such invite in your team."})
        if invite.revoked_at is None and invite.accepted_at is None:
            invite.revoked_at = timezone.now()
            invite.save(update_fields=["revoked_at"])
            audit_record(
                action=AuditEvent.Action.INVITE_REVOKED,
                team=admin.team_id,
                actor=admin.user,
                target=invite,
                ip=ip,
            )
    return invite


def invite_for_token(token: str) -> Invite | None:
    """The usable invite behind a link, or None (unknown, used, revoked or expired look the same)."""
    if not token:
        return None
    invite = Invite.objects.select_related("team").filter(token_hash=_token_hash(token)).first()
    return invite if invite is not None and invite.is_usable(timezone.now()) else None


def invite_accept(*, token: str, user: AbstractBaseUser, ip: str | None = None) -> Membership:
    """Join the invite's team. Someone already in the team keeps their role; the invite is used up."""
    with transaction.atomic():
        invite = Invite.objects.select_for_update().filter(token_hash=_token_hash(token or "")).first()
        if invite is None or not invite.is_usable(timezone.now()):
            raise TeamChangeRefused({"invite": "This invite link is not valid any more; ask for a new one."})
        membership, created = Membership.objects.get_or_create(
            user=user, team_id=invite.team_id, defaults={"role": invite.role}
        )
        invite.accepted_at = timezone.now()
        invite.accepted_by = user  # type: ignore[assignment]
        invite.save(update_fields=["accepted_at", "accepted_by"])
        audit_record(
            action=AuditEvent.Action.INVITE_ACCEPTED,
            team=invite.team_id,
            actor=user,
            target=invite,
            detail={"role": membership.role, "joined": created},
            ip=ip,
        )
    return membership


def temporary_password_pending(user: AbstractBaseUser | AnonymousUser) -> bool:
    return user.is_authenticated and TemporaryPassword.objects.filter(user_id=user.pk).exists()


def temporary_password_replace(
    *, user: AbstractBaseUser, password: str, session: Any, ip: str | None = None
) -> None:
    """The user chose their own password: the temporary one stops working and the block is lifted."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        TemporaryPassword.objects.filter(user_id=user.pk).delete()
        for membership in Membership.objects.filter(user=user):
            audit_record(action=AuditEvent.Action.PASSWORD_SET, team=membership.team_id, actor=user, ip=ip)
    session.pop(TEMPORARY_PASSWORD_SESSION_KEY, None)


# Set at login when the user still has an admin-given password (checked by TemporaryPasswordMiddleware).
TEMPORARY_PASSWORD_SESSION_KEY = "animate_temporary_password"  # noqa: S105 - a session key, not a secret


def team_settings_update(
    *,
    admin: Membership,
    time_zone: Any = None,
    low_balance_threshold: Any = "",
    ip: str | None = None,
) -> Team:
    """Change the team's time zone (reports and budget months) and its low-balance alert threshold."""
    membership_require_admin(admin)
    problems: dict[str, str] = {}
    zone = str(time_zone or "").strip()
    if zone not in zoneinfo.available_timezones():
        problems["time_zone"] = "Choose a time zone from the list, such as UTC or Europe/Paris."
    threshold: Decimal | None = None
    if low_balance_threshold not in (None, ""):
        try:
            threshold = Decimal(str(low_balance_threshold))
        except ArithmeticError:
            threshold = Decimal("-1")
        if not threshold.is_finite() or threshold < 0 or threshold >= Decimal("100000000"):
            problems["low_balance_threshold"] = "Enter an amount in USD of 0 or more, or leave it empty."
        elif threshold != threshold.quantize(Decimal("0.0001")):
            problems["low_balance_threshold"] = "Use at most 4 decimal places."
    if problems:
        raise TeamChangeRefused(problems)
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=admin.team_id)
        before = {"time_zone": team.time_zone, "low_balance_threshold": _text(team.low_balance_threshold)}
        team.time_zone = zone
        team.low_balance_threshold = threshold
        after = {"time_zone": team.time_zone, "low_balance_threshold": _text(team.low_balance_threshold)}
        if before != after:
            team.save(update_fields=["time_zone", "low_balance_threshold"])
            if before["time_zone"] != after["time_zone"]:
                # The reports' days are the team's days: they move with its time zone.
                cost_days_rebuild(team=team)
            audit_record(
                action=AuditEvent.Action.TEAM_SETTINGS_CHANGED,
                team=team,
                actor=admin.user,
                target=team,
                detail={"from": before, "to": after},
                ip=ip,
            )
    return team


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
