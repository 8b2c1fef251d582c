"""The webhook delivery log (admins): deliveries with their outcome, one with its raw body, replay, and
refused deliveries counted per generation."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from animate.api.base import PAGE_PARAMETERS, ApiView, IsTeamAdmin, errors
from animate.models import WebhookEvent, WebhookRejection
from animate.services import deliveries
from animate.services.audit import client_ip


class DeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    generation = serializers.IntegerField()
    received_at = serializers.DateTimeField()
    verification = serializers.CharField(help_text="Stored deliveries passed the secret and taskUUID checks.")
    replay_of = serializers.IntegerField(allow_null=True)
    replayed_by = serializers.CharField(allow_null=True)
    remote_addr = serializers.IPAddressField(allow_null=True)
    latency_seconds = serializers.FloatField(allow_null=True, help_text="From our submit to Runware's call.")
    processing_ms = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=WebhookEvent.Status.choices, help_text="The processing outcome.")
    detail = serializers.CharField(allow_blank=True)


class DeliveryBodySerializer(DeliverySerializer):
    body = serializers.JSONField(help_text="The body exactly as received.")


class RejectionSerializer(serializers.Serializer):
    generation = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=WebhookRejection.Reason.choices)
    count = serializers.IntegerField()
    first_at = serializers.DateTimeField()
    last_at = serializers.DateTimeField()


def delivery_data(event: WebhookEvent, *, body: bool = False) -> dict[str, Any]:
    facts = deliveries.delivery_facts(event)
    data = {
        "id": event.pk,
        "generation": event.generation_id,
        "received_at": event.received_at,
        "verification": facts.verification,
        "replay_of": event.replay_of_id,
        "replayed_by": event.replayed_by.get_username() if event.replayed_by else None,
        "remote_addr": event.remote_addr,
        "latency_seconds": facts.latency_seconds,
        "processing_ms": facts.processing_ms,
        "status": event.status,
        "detail": event.detail,
    }
    if body:
        data["body"] = event.body
    return data


class AdminApi(ApiView):
    permission_classes = [*ApiView.permission_classes, IsTeamAdmin]


class DeliveryListApi(AdminApi):
    @extend_schema(
        operation_id="deliveries",
        tags=["deliveries"],
        summary="Webhook deliveries of the team's runs, newest first",
        parameters=[
            OpenApiParameter("generation", int, description="Only this generation's deliveries."),
            OpenApiParameter("status", str, enum=list(WebhookEvent.Status.values)),
            *PAGE_PARAMETERS,
        ],
        responses={200: DeliverySerializer(many=True), **errors(400, 401, 403, 404)},
    )
    def get(self, request: Request) -> Response:
        events = deliveries.deliveries_for(self.member)
        generation = request.query_params.get("generation")
        if generation:
            if not generation.isdigit():
                raise exceptions.ValidationError({"generation": ["A generation id."]})
            events = events.filter(generation_id=int(generation))
        status = request.query_params.get("status")
        if status:
            if status not in WebhookEvent.Status.values:
                raise exceptions.ValidationError(
                    {"status": [f"One of: {', '.join(WebhookEvent.Status.values)}."]}
                )
            events = events.filter(status=status)
        return self.paginate(events, lambda event: DeliverySerializer(delivery_data(event)).data)


class DeliveryDetailApi(AdminApi):
    @extend_schema(
        operation_id="delivery",
        tags=["deliveries"],
        summary="One delivery with its raw body",
        responses={200: DeliveryBodySerializer, **errors(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        try:
            event = deliveries.delivery_get(membership=self.member, event_id=pk)
        except deliveries.DeliveryNotFound:
            raise exceptions.NotFound("No such delivery in your team.") from None
        return Response(DeliveryBodySerializer(delivery_data(event, body=True)).data)


class DeliveryReplayApi(AdminApi):
    @extend_schema(
        operation_id="delivery_replay",
        tags=["deliveries"],
        summary="Replay a delivery through the same ingestion path (idempotent)",
        description="The body is stored again as a new delivery and applied in the background; results and "
        "charges already applied are recognised by their keys and change nothing.",
        request=None,
        responses={202: DeliverySerializer, **errors(401, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        try:
            replay = deliveries.delivery_replay(
                membership=self.member, event_id=pk, actor=request.user, ip=client_ip(request.META)
            )
        except deliveries.DeliveryNotFound:
            raise exceptions.NotFound("No such delivery in your team.") from None
        replay = deliveries.deliveries_for(self.member).get(pk=replay.pk)
        return Response(DeliverySerializer(delivery_data(replay)).data, status=202)


class RejectionListApi(AdminApi):
    @extend_schema(
        operation_id="delivery_rejections",
        tags=["deliveries"],
        summary="Refused deliveries (wrong secret, foreign taskUUID, too large, unreadable), counted per run",
        parameters=PAGE_PARAMETERS,
        responses={200: RejectionSerializer(many=True), **errors(401, 403, 404)},
    )
    def get(self, request: Request) -> Response:
        return self.paginate(
            deliveries.rejections_for(self.member),
            lambda row: (
                RejectionSerializer(
                    {
                        "generation": row.generation_id,
                        "reason": row.reason,
                        "count": row.count,
                        "first_at": row.first_at,
                        "last_at": row.last_at,
                    }
                ).data
            ),
        )
