"""Team administration (members, roles, caps, invites, settings), the header's team switch, joining by
invite, replacing a temporary password, and one's notifications."""

import zoneinfo

from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm, UserCreationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from animate.models import Invite, Membership
from animate.services import budgets, notifications, teams
from animate.views.common import admin_only, request_ip, safe_next

COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Tokyo",
)


def _zones() -> list[str]:
    rest = sorted(zoneinfo.available_timezones() - set(COMMON_ZONES))
    return [*COMMON_ZONES, *rest]


@admin_only
@require_GET
def team_page(request: HttpRequest, membership: Membership) -> HttpResponse:
    team = membership.team
    members = list(Membership.objects.filter(team=team).select_related("user").order_by("user__username"))
    caps = {
        status.user_id: status
        for status in budgets.team_budget_overview(team=team)
        if status.scope == "member"
    }
    context = {
        "nav": "team",
        "admin_nav": "team",
        "membership": membership,
        "rows": [(member, caps.get(member.user_id)) for member in members],
        "roles": Membership.Role.choices,
        "invites": Invite.objects.filter(team=team, accepted_at__isnull=True, revoked_at__isnull=True)
        .filter(expires_at__gt=timezone.now())
        .select_related("created_by")
        .order_by("-created_at"),
        "invite_days": teams.INVITE_DAYS,
        "zones": _zones(),
        # Shown once, right after it was made (kept in the session only until this page is seen).
        "new_secret": request.session.pop("animate_new_secret", None),
    }
    return render(request, "animate/team/team.html", context)


def _refused(request: HttpRequest, exc: teams.TeamChangeRefused) -> None:
    for message in exc.problems.values():
        messages.error(request, message)


@admin_only
@require_POST
def member_create(request: HttpRequest, membership: Membership) -> HttpResponse:
    try:
        created, password = teams.member_create(
            admin=membership,
            username=request.POST.get("username", ""),
            email=request.POST.get("email", ""),
            role=request.POST.get("role", Membership.Role.MEMBER),
            ip=request_ip(request),
        )
    except teams.TeamChangeRefused as exc:
        _refused(request, exc)
    else:
        request.session["animate_new_secret"] = {
            "kind": "password",
            "who": created.user.get_username(),
            "value": password,
        }
        messages.success(request, f"{created.user.get_username()} was added as {created.get_role_display()}.")
    return redirect("team")


@admin_only
@require_POST
def member_update(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    try:
        changed = teams.member_role_change(
            admin=membership, membership_id=pk, role=request.POST.get("role", ""), ip=request_ip(request)
        )
    except teams.TeamChangeRefused as exc:
        _refused(request, exc)
    else:
        messages.success(request, f"{changed.user.get_username()} is now {changed.get_role_display()}.")
    return redirect("team")


@admin_only
@require_POST
def member_remove(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    try:
        teams.member_remove(admin=membership, membership_id=pk, ip=request_ip(request))
    except teams.TeamChangeRefused as exc:
        _refused(request, exc)
    else:
        messages.success(request, "The member was removed; their runs and ledger entries stay.")
        if pk == membership.pk:
            return redirect("create")
    return redirect("team")


@admin_only
@require_POST
def invite_create(request: HttpRequest, membership: Membership) -> HttpResponse:
    try:
        invite, token = teams.invite_create(
            admin=membership,
            role=request.POST.get("role", Membership.Role.MEMBER),
            email=request.POST.get("email", ""),
            days=request.POST.get("days", 7),
            ip=request_ip(request),
        )
    except teams.TeamChangeRefused as exc:
        _refused(request, exc)
    else:
        link = request.build_absolute_uri(reverse("invite-accept", kwargs={"token": token}))
        request.session["animate_new_secret"] = {"kind": "invite", "who": invite.email, "value": link}
        messages.success(
            request, f"Invite link made; it works once, until {invite.expires_at:%-d %b %Y %H:%M} UTC."
        )
    return redirect("team")


@admin_only
@require_POST
def invite_revoke(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    try:
        teams.invite_revoke(admin=membership, invite_id=pk, ip=request_ip(request))
    except teams.TeamChangeRefused as exc:
        _refused(request, exc)
    else:
        messages.success(request, "The invite link no longer works.")
    return redirect("team")


@admin_only
@require_POST
def team_settings(request: HttpRequest, membership: Membership) -> HttpResponse:
    try:
        teams.team_settings_update(
            admin=membership,
            time_zone=request.POST.get("time_zone"),
            low_balance_threshold=request.POST.get("low_balance_threshold", ""),
            ip=request_ip(request),
        )
    except teams.TeamChangeRefused as exc:
        _refused(request, exc)
    else:
        messages.success(request, "Team settings saved.")
    return redirect(f"{reverse('team')}#team-settings")


# --- for everyone --------------------------------------------------------------------------------------


@login_required
@require_POST
def team_switch(request: HttpRequest) -> HttpResponse:
    chosen = teams.team_switch(
        user=request.user, team_id=request.POST.get("team"), session=request.session, ip=request_ip(request)
    )
    if chosen is None:
        messages.error(request, "You are not a member of that team.")
    return redirect(safe_next(request, reverse("create")))


@require_http_methods(["GET", "POST"])
def invite_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Join a team by invite: a logged-in user joins as they are; anyone else creates an account here."""
    invite = teams.invite_for_token(token)
    if invite is None:
        return render(request, "animate/team/invite_invalid.html", status=404)
    form = UserCreationForm(request.POST or None) if not request.user.is_authenticated else None
    if request.method == "POST":
        if request.user.is_authenticated:
            user = request.user
        elif form is not None and form.is_valid():
            user = form.save()
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        else:
            return render(request, "animate/team/invite.html", {"invite": invite, "form": form}, status=400)
        try:
            joined = teams.invite_accept(token=token, user=user, ip=request_ip(request))
        except teams.TeamChangeRefused:
            return render(request, "animate/team/invite_invalid.html", status=404)
        teams.team_switch(user=user, team_id=joined.team_id, session=request.session, ip=request_ip(request))
        messages.success(request, f"Welcome to {joined.team.name}.")
        return redirect("create")
    return render(request, "animate/team/invite.html", {"invite": invite, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def password_set(request: HttpRequest) -> HttpResponse:
    """Replace a temporary password given by an admin with one the user chooses."""
    form = SetPasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        teams.temporary_password_replace(
            user=request.user,
            password=form.cleaned_data["new_password1"],
            session=request.session,
            ip=request_ip(request),
        )
        update_session_auth_hash(request, request.user)
        messages.success(request, "Your password is set.")
        return redirect("create")
    status = 400 if request.method == "POST" else 200
    return render(request, "animate/team/password_set.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def notification_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        notifications.notifications_mark_read(user=request.user)
        return redirect("notifications")
    items = list(notifications.notifications_for(request.user)[:100])
    return render(request, "animate/team/notifications.html", {"nav": "notifications", "items": items})
