"""The team: which teams you are in and switching between them (everyone); members, roles, invites and
settings (admins); your notifications (everyone)."""

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from animate.api.base import PAGE_PARAMETERS, TEAM_PARAMETER, ApiView, IsTeamAdmin, errors, object_id
from animate.api.serializers import MONEY
from animate.models import Invite, Membership, Notification
from animate.services import budgets, notifications, teams
from animate.services.audit import client_ip


def refused(exc: teams.TeamChangeRefused) -> exceptions.ValidationError:
    return exceptions.ValidationError({key: [message] for key, message in exc.problems.items()})


class TeamSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    role = serializers.ChoiceField(choices=Membership.Role.choices, help_text="Your role in it.")


class TeamSerializer(serializers.Serializer):
    team = TeamSummarySerializer(help_text="The team this request worked in.")
    time_zone = serializers.CharField()
    low_balance_threshold = serializers.DecimalField(**MONEY, allow_null=True)
    teams = TeamSummarySerializer(many=True, help_text="Every team you are in.")


def team_summary(membership: Membership) -> dict[str, Any]:
    return {
        "id": membership.team_id,
        "name": membership.team.name,
        "slug": membership.team.slug,
        "role": membership.role,
    }


def team_data(membership: Membership) -> dict[str, Any]:
    return {
        "team": team_summary(membership),
        "time_zone": membership.team.time_zone,
        "low_balance_threshold": membership.team.low_balance_threshold,
        "teams": [team_summary(item) for item in teams.team_memberships(membership.user)],
    }


class TeamApi(ApiView):
    @extend_schema(
        operation_id="team",
        tags=["team"],
        summary="The team this request works in, and every team you are in",
        description="Token clients choose the team with the `X-Team` header (or `team` parameter) on each "
        "call; browser sessions can also switch once with `POST /api/team/switch/`.",
        parameters=[TEAM_PARAMETER],
        responses={200: TeamSerializer, **errors(401, 403)},
    )
    def get(self, request: Request) -> Response:
        return Response(TeamSerializer(team_data(self.member)).data)


class TeamSwitchApi(ApiView):
    class SwitchInputSerializer(serializers.Serializer):
        team = object_id(help_text="Id of one of your teams.")

    @extend_schema(
        operation_id="team_switch",
        tags=["team"],
        summary="Work in another of your teams from now on (session clients)",
        request=SwitchInputSerializer,
        responses={200: TeamSerializer, **errors(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        payload = self.SwitchInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        session = getattr(request._request, "session", None)
        chosen = teams.team_switch(
            user=request.user,
            team_id=payload.validated_data["team"],
            session=session if session is not None else {},
            ip=client_ip(request.META),
        )
        if chosen is None:
            raise exceptions.ValidationError({"team": ["You are not a member of that team."]})
        return Response(TeamSerializer(team_data(chosen)).data)


class TeamSettingsApi(ApiView):
    permission_classes = [*ApiView.permission_classes, IsTeamAdmin]

    class SettingsInputSerializer(serializers.Serializer):
        time_zone = serializers.CharField(help_text="An IANA zone name, e.g. Europe/Paris.")
        low_balance_threshold = serializers.CharField(
            required=False, allow_null=True, allow_blank=True, help_text='USD; null or "" for no alert.'
        )

    @extend_schema(
        operation_id="team_settings",
        tags=["team"],
        summary="Change the team's time zone and low-balance alert threshold",
        request=SettingsInputSerializer,
        responses={200: TeamSerializer, **errors(400, 401, 403)},
    )
    def put(self, request: Request) -> Response:
        payload = self.SettingsInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            teams.team_settings_update(
                admin=self.member,
                time_zone=payload.validated_data["time_zone"],
                low_balance_threshold=payload.validated_data.get("low_balance_threshold"),
                ip=client_ip(request.META),
            )
        except teams.TeamChangeRefused as exc:
            raise refused(exc) from None
        self.member.team.refresh_from_db()
        return Response(TeamSerializer(team_data(self.member)).data)


# --- members ---------------------------------------------------------------------------------------------


class MemberSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The membership id (used in these URLs).")
    user = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.CharField(allow_blank=True)
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    monthly_cap = serializers.DecimalField(**MONEY, allow_null=True)
    spent_this_month = serializers.DecimalField(
        **MONEY, allow_null=True, help_text="Only for members with a cap."
    )
    joined_at = serializers.DateTimeField()


class CreatedMemberSerializer(MemberSerializer):
    temporary_password = serializers.CharField(help_text="Shown once; replaced by the user at first login.")


def members_data(membership: Membership, only: int | None = None) -> list[dict[str, Any]]:
    caps = {
        status.user_id: status
        for status in budgets.team_budget_overview(team=membership.team)
        if status.scope == "member"
    }
    members = (
        Membership.objects.filter(team_id=membership.team_id)
        .select_related("user")
        .order_by("user__username")
    )
    if only is not None:
        members = members.filter(pk=only)
    rows = []
    for member in members:
        cap = caps.get(member.user_id)
        rows.append(
            {
                "id": member.pk,
                "user": member.user_id,
                "username": member.user.get_username(),
                "email": member.user.email,
                "role": member.role,
                "monthly_cap": cap.limit if cap else None,
                "spent_this_month": cap.spent if cap else None,
                "joined_at": member.created_at,
            }
        )
    return rows


class MemberListApi(ApiView):
    permission_classes = [*ApiView.permission_classes, IsTeamAdmin]

    class MemberInputSerializer(serializers.Serializer):
        username = serializers.CharField()
        email = serializers.CharField(required=False, allow_blank=True, default="")
        role = serializers.ChoiceField(choices=Membership.Role.choices, default=Membership.Role.MEMBER)

    @extend_schema(
        operation_id="team_members",
        tags=["team"],
        summary="The team's members, roles and caps",
        responses={200: MemberSerializer(many=True), **errors(401, 403)},
    )
    def get(self, request: Request) -> Response:
        return Response(MemberSerializer(members_data(self.member), many=True).data)

    @extend_schema(
        operation_id="team_member_create",
        tags=["team"],
        summary="Create a user with a temporary password, in this team",
        request=MemberInputSerializer,
        responses={201: CreatedMemberSerializer, **errors(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        payload = self.MemberInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            created, password = teams.member_create(
                admin=self.member, ip=client_ip(request.META), **payload.validated_data
            )
        except teams.TeamChangeRefused as exc:
            raise refused(exc) from None
        body = members_data(self.member, only=created.pk)[0] | {"temporary_password": password}
        return Response(CreatedMemberSerializer(body).data, status=201)


class MemberDetailApi(ApiView):
    permission_classes = [*ApiView.permission_classes, IsTeamAdmin]

    class MemberUpdateSerializer(serializers.Serializer):
        role = serializers.ChoiceField(choices=Membership.Role.choices, required=False)
        monthly_cap = serializers.CharField(
            required=False, allow_null=True, allow_blank=True, help_text='USD; null or "" removes the cap.'
        )

    def _member(self, pk: int) -> Membership:
        member = Membership.objects.filter(team_id=self.member.team_id, pk=pk).first()
        if member is None:
            raise exceptions.NotFound("No such member in your team.")
        return member

    @extend_schema(
        operation_id="team_member_update",
        tags=["team"],
        summary="Change a member's role and/or monthly cap",
        request=MemberUpdateSerializer,
        responses={200: MemberSerializer, **errors(400, 401, 403, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        member = self._member(pk)
        payload = self.MemberUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        ip = client_ip(request.META)
        try:
            if "role" in data:
                teams.member_role_change(admin=self.member, membership_id=member.pk, role=data["role"], ip=ip)
            if "monthly_cap" in data:
                budgets.budget_set(
                    membership=self.member,
                    user_id=member.user_id,
                    monthly_limit=data["monthly_cap"],
                    actor=request.user,
                    ip=ip,
                )
        except teams.TeamChangeRefused as exc:
            raise refused(exc) from None
        except budgets.BudgetInvalid as exc:
            raise exceptions.ValidationError(
                {
                    "monthly_cap" if key == "monthly_limit" else key: [message]
                    for key, message in exc.problems.items()
                }
            ) from None
        return Response(MemberSerializer(members_data(self.member, only=member.pk)[0]).data)

    @extend_schema(
        operation_id="team_member_remove",
        tags=["team"],
        summary="Remove a member from the team (their runs and ledger entries stay)",
        responses={204: None, **errors(400, 401, 403, 404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        member = self._member(pk)
        try:
            teams.member_remove(admin=self.member, membership_id=member.pk, ip=client_ip(request.META))
        except teams.TeamChangeRefused as exc:
            raise refused(exc) from None
        return Response(status=204)


# --- invites ---------------------------------------------------------------------------------------------


class InviteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    email = serializers.CharField(allow_blank=True)
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class CreatedInviteSerializer(InviteSerializer):
    url = serializers.URLField(help_text="The invite link; shown once.")


def invite_data(invite: Invite) -> dict[str, Any]:
    return {
        "id": invite.pk,
        "role": invite.role,
        "email": invite.email,
        "created_by": invite.created_by.get_username() if invite.created_by else None,
        "created_at": invite.created_at,
        "expires_at": invite.expires_at,
        "accepted_at": invite.accepted_at,
        "revoked_at": invite.revoked_at,
    }


class InviteListApi(ApiView):
    permission_classes = [*ApiView.permission_classes, IsTeamAdmin]

    class InviteInputSerializer(serializers.Serializer):
        role = serializers.ChoiceField(choices=Membership.Role.choices, default=Membership.Role.MEMBER)
        email = serializers.CharField(required=False, allow_blank=True, default="")
        days = serializers.IntegerField(
            default=7, help_text=f"One of {', '.join(map(str, teams.INVITE_DAYS))}."
        )

    @extend_schema(
        operation_id="team_invites",
        tags=["team"],
        summary="The team's invites, newest first",
        parameters=PAGE_PARAMETERS,
        responses={200: InviteSerializer(many=True), **errors(401, 403, 404)},
    )
    def get(self, request: Request) -> Response:
        invites = (
            Invite.objects.filter(team_id=self.member.team_id)
            .select_related("created_by")
            .order_by("-created_at")
        )
        return self.paginate(invites, lambda invite: InviteSerializer(invite_data(invite)).data)

    @extend_schema(
        operation_id="team_invite_create",
        tags=["team"],
        summary="Make a single-use invite link",
        request=InviteInputSerializer,
        responses={201: CreatedInviteSerializer, **errors(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        payload = self.InviteInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            invite, token = teams.invite_create(
                admin=self.member, ip=client_ip(request.META), **payload.validated_data
            )
        except teams.TeamChangeRefused as exc:
            raise refused(exc) from None
        url = request.build_absolute_uri(reverse("invite-accept", kwargs={"token": token}))
        return Response(CreatedInviteSerializer(invite_data(invite) | {"url": url}).data, status=201)


class InviteDetailApi(ApiView):
    permission_classes = [*ApiView.permission_classes, IsTeamAdmin]

    @extend_schema(
        operation_id="team_invite_revoke",
        tags=["team"],
        summary="Revoke an invite link",
        responses={200: InviteSerializer, **errors(401, 403, 404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        if not Invite.objects.filter(team_id=self.member.team_id, pk=pk).exists():
            raise exceptions.NotFound("No such invite in your team.")
        invite = teams.invite_revoke(admin=self.member, invite_id=pk, ip=client_ip(request.META))
        return Response(InviteSerializer(invite_data(invite)).data)


# --- notifications ---------------------------------------------------------------------------------------


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    team = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Notification.Kind.choices)
    title = serializers.CharField()
    body = serializers.CharField(allow_blank=True)
    url = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class MarkedReadSerializer(serializers.Serializer):
    marked_read = serializers.IntegerField(help_text="How many notifications changed.")


class NotificationPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = NotificationSerializer(many=True)


class NotificationListApi(ApiView):
    permission_classes = ApiView.permission_classes[:1]  # yours, in every team; no team needed

    class ReadInputSerializer(serializers.Serializer):
        ids = serializers.ListField(
            child=object_id(),
            required=False,
            help_text="Which to mark read; all when left out.",
        )

    @extend_schema(
        operation_id="notifications",
        tags=["team"],
        summary="Your notifications, newest first",
        parameters=PAGE_PARAMETERS,
        responses={200: NotificationPageSerializer, **errors(400, 401, 404)},
    )
    def get(self, request: Request) -> Response:
        return self.paginate(
            notifications.notifications_for(request.user),
            lambda item: (
                NotificationSerializer(
                    {
                        "id": item.pk,
                        "team": item.team_id,
                        "kind": item.kind,
                        "title": item.title,
                        "body": item.body,
                        "url": item.url,
                        "created_at": item.created_at,
                        "read_at": item.read_at,
                    }
                ).data
            ),
        )

    @extend_schema(
        operation_id="notifications_read",
        tags=["team"],
        summary="Mark notifications read",
        request=ReadInputSerializer,
        responses={200: MarkedReadSerializer, **errors(400, 401)},
    )
    def post(self, request: Request) -> Response:
        payload = self.ReadInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        changed = notifications.notifications_mark_read(
            user=request.user, ids=payload.validated_data.get("ids")
        )
        return Response({"marked_read": changed})
