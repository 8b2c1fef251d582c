"""The audit log (admins): filterable, paginated, and as CSV."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from animate.api.base import PAGE_PARAMETERS, ApiView, IsTeamAdmin, errors
from animate.exports import csv_stream
from animate.models import AuditEvent
from animate.services import audit

FILTERS = [
    OpenApiParameter("action", str, enum=list(AuditEvent.Action.values)),
    OpenApiParameter("actor", str, description="Username (as it was at the time)."),
    OpenApiParameter("from", OpenApiTypes.DATE, description="First UTC day."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last UTC day, inclusive."),
]


class AuditEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    actor = serializers.CharField(allow_blank=True)
    action = serializers.ChoiceField(choices=AuditEvent.Action.choices)
    target_type = serializers.CharField(allow_blank=True)
    target_id = serializers.CharField(allow_blank=True)
    detail = serializers.JSONField()
    ip = serializers.IPAddressField(allow_null=True)


def event_data(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "created_at": event.created_at,
        "actor": event.actor_name,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "detail": event.detail,
        "ip": event.ip,
    }


class AuditApi(ApiView):
    permission_classes = [*ApiView.permission_classes, IsTeamAdmin]

    def events(self, request: Request) -> Any:
        try:
            return audit.audit_events(team_id=self.member.team_id, params=request.query_params)
        except audit.AuditFilterInvalid as exc:
            raise exceptions.ValidationError(
                {key: [message] for key, message in exc.problems.items()}
            ) from None


class AuditListApi(AuditApi):
    @extend_schema(
        operation_id="audit",
        tags=["audit"],
        summary="The team's audit log, newest first",
        parameters=[*FILTERS, *PAGE_PARAMETERS],
        responses={200: AuditEventSerializer(many=True), **errors(400, 401, 403, 404)},
    )
    def get(self, request: Request) -> Response:
        return self.paginate(self.events(request), lambda event: AuditEventSerializer(event_data(event)).data)


class AuditCsvApi(AuditApi):
    @extend_schema(
        operation_id="audit_csv",
        tags=["audit"],
        summary="The same events as CSV (streamed, UTF-8)",
        parameters=FILTERS,
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV file."),
            **errors(400, 401, 403),
        },
    )
    def get(self, request: Request) -> Any:
        events = self.events(request)
        return csv_stream(
            filename=f"audit-{self.member.team.slug}.csv",
            header=audit.AUDIT_CSV_HEADER,
            batch=lambda cursor: audit.audit_csv_batch(events, after=cursor),
        )
