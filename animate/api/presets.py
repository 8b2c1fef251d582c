"""Team presets: named settings shared by the team, with their average cost and approval rate."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from animate.api.base import CURRENCY, ApiView, CanSpend, errors
from animate.api.generations import labelled
from animate.models import Preset
from animate.models.presets import PRESET_NAME_MAX
from animate.services.presets import (
    PresetRejected,
    PresetStats,
    preset_create,
    preset_delete,
    preset_stats,
    preset_update,
    presets_for,
)
from animate.services.teams import NotAllowed

MONEY = {"max_digits": 12, "decimal_places": 4, "coerce_to_string": True}
REQUEST_KEYS = frozenset({"name", "parameters", "preset"})


class PresetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    parameters = serializers.DictField(help_text="Flat, spec-named settings, as `parameters` of a quote.")
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    runs = serializers.IntegerField(help_text="Charged generations made with this preset.")
    average_cost = serializers.DecimalField(
        **MONEY, allow_null=True, help_text="Their average charge, from the ledger; null before any."
    )
    currency = serializers.CharField()
    reviewed = serializers.IntegerField(help_text="Their outputs with a current verdict.")
    approval_rate = serializers.FloatField(
        allow_null=True, help_text="Approved share of the reviewed outputs (0..1); null before any review."
    )


def preset_data(preset: Preset, stats: PresetStats) -> dict[str, Any]:
    return {
        "id": preset.pk,
        "name": preset.name,
        "parameters": preset.parameters,
        "created_by": preset.created_by.get_username() if preset.created_by else None,
        "created_at": preset.created_at,
        "updated_at": preset.updated_at,
        "runs": stats.runs,
        "average_cost": stats.average_cost,
        "currency": CURRENCY,
        "reviewed": stats.reviewed,
        "approval_rate": stats.approval_rate,
    }


def rejected(exc: PresetRejected) -> exceptions.ValidationError:
    return exceptions.ValidationError(
        {
            key if key in REQUEST_KEYS else f"parameters.{key}": [labelled(key, message)]
            for key, message in exc.problems.items()
        }
    )


class PresetInputSerializer(serializers.Serializer):
    # Length and blankness are the service's to judge, so its message (naming the label) is the one sent.
    name = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text=f"Up to {PRESET_NAME_MAX} characters.",
    )
    parameters = serializers.DictField(
        required=False, help_text="The settings, as `parameters` of a quote (never the inputs)."
    )


class PresetListApi(ApiView):
    permission_classes = [*ApiView.permission_classes, CanSpend]

    @extend_schema(
        operation_id="presets_list",
        tags=["presets"],
        summary="The team's presets, by name, with average cost and approval rate",
        responses={200: PresetSerializer(many=True), **errors(401, 403)},
    )
    def get(self, request: Request) -> Response:
        presets = presets_for(self.member)
        stats = preset_stats(presets)
        return Response([PresetSerializer(preset_data(p, stats[p.pk])).data for p in presets])

    @extend_schema(
        operation_id="presets_create",
        tags=["presets"],
        summary="Save settings as a named preset of the team",
        description="Names are unique in the team (ignoring case). The settings are checked as a quote "
        "checks them; inputs are never part of a preset. Reviewers get 403.",
        request=PresetInputSerializer,
        responses={201: PresetSerializer, **errors(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        payload = PresetInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            preset = preset_create(
                membership=self.member, name=data.get("name"), parameters=data.get("parameters", {})
            )
        except PresetRejected as exc:
            raise rejected(exc) from None
        except NotAllowed as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        stats = preset_stats([preset])
        return Response(PresetSerializer(preset_data(preset, stats[preset.pk])).data, status=201)


class PresetDetailApi(ApiView):
    permission_classes = [*ApiView.permission_classes, CanSpend]

    def preset(self, pk: int) -> Preset:
        preset = (
            Preset.objects.filter(team_id=self.member.team_id, pk=pk).select_related("created_by").first()
        )
        if preset is None:
            raise exceptions.NotFound("No such preset in your team.")
        return preset

    @extend_schema(
        operation_id="presets_retrieve",
        tags=["presets"],
        summary="One preset of the team",
        responses={200: PresetSerializer, **errors(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        preset = self.preset(pk)
        return Response(PresetSerializer(preset_data(preset, preset_stats([preset])[preset.pk])).data)

    @extend_schema(
        operation_id="presets_update",
        tags=["presets"],
        summary="Rename a preset or replace its settings",
        request=PresetInputSerializer,
        responses={200: PresetSerializer, **errors(400, 401, 403, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        preset = self.preset(pk)
        payload = PresetInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            preset = preset_update(
                membership=self.member,
                preset=preset,
                name=data.get("name"),
                parameters=data.get("parameters"),
            )
        except PresetRejected as exc:
            raise rejected(exc) from None
        except NotAllowed as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        return Response(PresetSerializer(preset_data(preset, preset_stats([preset])[preset.pk])).data)

    @extend_schema(
        operation_id="presets_destroy",
        tags=["presets"],
        summary="Delete a preset (its generations keep their history)",
        responses={204: None, **errors(401, 403, 404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        preset = self.preset(pk)
        try:
            preset_delete(membership=self.member, preset=preset)
        except NotAllowed as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)
