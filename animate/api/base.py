"""Shared plumbing of the REST API: thin views over the services, one ``APIView`` per URL with its own
input serializers.

Every object belongs to a team and is looked up through the caller's membership, so another team's
asset or generation is answered 404 exactly like an id that does not exist. Every 4xx body has one shape,
``{"errors": {"<field or parameter path>": ["message", ...]}}``; problems about the request as a whole
(authentication, permission, not found) are under ``"detail"``.

Who may do what: any member (reviewers included) may read, upload assets and ask for a quote, because
none of that spends money; only members who can spend (admins and members) may create generations;
only admins see money (costs, budgets, reconciliation), deliveries, the audit log and manage the team.
"""

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from animate.api.authentication import ThrottledTokenAuthentication
from animate.api.serializers import (
    ErrorsSerializer,
)
from animate.models import Asset, Membership
from animate.services.teams import membership_for, session_team_id

CURRENCY = "USD"
# Keys of a service's problems that are request fields; any other key is a spec parameter path.
REQUEST_FIELDS = frozenset({"image", "video", "parent", "board", "parameters", "budget"})
NOT_IN_TEAM = {
    Asset.Kind.IMAGE: "Choose a character image uploaded to your team.",
    Asset.Kind.VIDEO: "Choose a driving video uploaded to your team.",
}


# --- errors --------------------------------------------------------------------------------------


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with every error body reshaped to ``{"errors": {path: [messages]}}``.

    Set project-wide in ``REST_FRAMEWORK["EXCEPTION_HANDLER"]``; every ``ApiView`` uses it in any case
    (``ApiView.get_exception_handler``).
    """
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = {"errors": error_paths(response.data)}
    return response


def error_paths(data: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten DRF's nested error details to dotted paths: ``{"parameters": {"fps": [..]}}`` becomes
    ``{"parameters.fps": [..]}`` and list items become ``lora[0].weight``, the spec's own notation."""
    if isinstance(data, dict):
        flat: dict[str, list[str]] = {}
        for key, value in data.items():
            key = str(key)
            if not prefix:
                path = key
            elif key.isdigit():
                path = f"{prefix}[{key}]"
            else:
                path = f"{prefix}.{key}"
            for inner, messages in error_paths(value, path).items():
                flat.setdefault(inner, []).extend(messages)
        return flat
    if isinstance(data, list):
        if any(isinstance(item, dict | list) for item in data):
            flat = {}
            for index, item in enumerate(data):
                if item:
                    flat.update(error_paths(item, f"{prefix}[{index}]"))
            return flat
        return {prefix or api_settings.NON_FIELD_ERRORS_KEY: [str(item) for item in data]}
    return {prefix or "detail": [str(data)]}


def problem_path(key: str) -> str:
    """Where a service's problem belongs in the request: a field, or ``parameters.<spec path>``."""
    return key if key in REQUEST_FIELDS else f"parameters.{key}"


ERROR_RESPONSES = {
    400: OpenApiResponse(ErrorsSerializer, description="Invalid input; each message names its field."),
    401: OpenApiResponse(ErrorsSerializer, description="No or invalid credentials."),
    403: OpenApiResponse(
        ErrorsSerializer, description="Not a team member, not allowed to spend, or not a team admin."
    ),
    404: OpenApiResponse(ErrorsSerializer, description="No such object in your team."),
    411: OpenApiResponse(ErrorsSerializer, description="The upload was sent without a Content-Length."),
    413: OpenApiResponse(
        ErrorsSerializer, description="The upload is larger than allowed; refused before it is read."
    ),
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: ERROR_RESPONSES[code] for code in codes}


# --- plumbing shared by every view ----------------------------------------------------------------


# The range of a BigAutoField: a larger number cannot name a row, and the database would refuse it (500).
MAX_ID = 2**63 - 1


def object_id(**kwargs: Any) -> serializers.IntegerField:
    """An input field holding the id of one of our rows."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


TEAM_HEADER = "X-Team"
TEAM_PARAMETER = OpenApiParameter(
    "X-Team",
    int,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Id of the team to work in (or the `team` query parameter); default: the team chosen "
    "in the session, else the caller's first team.",
)


def request_api_membership(request: Request) -> Membership | None:
    """The caller's membership in the team the request names (``X-Team`` header or ``team`` query
    parameter); a team the caller is not in gives None. Without one: the session's choice, else the
    caller's first team."""
    named = request.headers.get(TEAM_HEADER) or request.query_params.get("team")
    if named is not None:
        try:
            team_id = int(named)
        except ValueError:
            return None
        if not 1 <= team_id <= MAX_ID:
            return None
        membership = membership_for(request.user, team_id=team_id)
        return membership if membership is not None and membership.team_id == team_id else None
    return membership_for(request.user, team_id=session_team_id(getattr(request, "session", None)))


class IsTeamMember(BasePermission):
    message = "You are not a member of any team."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return isinstance(view, ApiView) and view.membership is not None


class CanSpend(BasePermission):
    message = "Reviewers cannot submit generations; ask a team admin for the member role."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method not in {"POST", "PUT", "PATCH", "DELETE"}:
            return True
        return isinstance(view, ApiView) and view.membership is not None and view.membership.can_spend


class IsTeamAdmin(BasePermission):
    """Money, deliveries, the audit log and team administration: the team's admins only."""

    message = "Only team admins can do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return isinstance(view, ApiView) and view.membership is not None and view.membership.is_admin


class ApiPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset: Any, request: Request, view: APIView | None = None) -> Any:
        # A page that does not exist is a mistake in the request's ``page``: 400 naming it, not DRF's 404.
        try:
            return super().paginate_queryset(queryset, request, view)
        except exceptions.NotFound as exc:
            raise exceptions.ValidationError({"page": [str(exc.detail)]}) from None


PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="Page number, from 1."),
    OpenApiParameter("page_size", int, description="Items per page (default 20, at most 100)."),
]


class ApiView(APIView):
    parser_classes = [JSONParser]
    # Token first, so an anonymous API client is told 401 with ``WWW-Authenticate: Token`` instead of
    # the bare 403 DRF gives when the first authenticator (session) has no challenge to offer.
    authentication_classes = [ThrottledTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated, IsTeamMember]
    membership: Membership | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.membership = None
        super().initial(request, *args, **kwargs)

    def check_permissions(self, request: Request) -> None:
        # Looked up once per request, after authentication and before the permission classes read it.
        if request.user.is_authenticated:
            self.membership = request_api_membership(request)
        super().check_permissions(request)

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response | None]:
        return api_exception_handler

    @property
    def member(self) -> Membership:
        assert self.membership is not None  # IsTeamMember has let the request in
        return self.membership

    def team_asset(self, pk: int | None, kind: str | None = None) -> Asset | None:
        if pk is None:
            return None
        assets = Asset.objects.filter(team_id=self.member.team_id, pk=pk)
        if kind is not None:
            assets = assets.filter(kind=kind)
        return assets.first()

    def paginate(self, items: QuerySet[Any], render: Callable[[Any], Any]) -> Response:
        paginator = ApiPagination()
        page = paginator.paginate_queryset(items, self.request, view=self)
        return paginator.get_paginated_response([render(item) for item in page or []])


def absolute_url(request: Request, name: str, pk: int) -> str:
    return request.build_absolute_uri(reverse(name, args=[pk]))
