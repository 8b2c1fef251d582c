"""Outputs as the gallery sees them: the filtered list, one output with its review, and archiving."""

from typing import Any

from django.http import QueryDict
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from animate.api.base import PAGE_PARAMETERS, ApiView, errors
from animate.api.generations import output_data
from animate.api.serializers import (
    ArchiveResultSerializer,
    OutputCardPageSerializer,
    OutputCardSerializer,
    OutputDetailSerializer,
)
from animate.filters import GalleryFilterForm, gallery_form
from animate.models import BoardItem, Generation, Output
from animate.services import archive, gallery, review
from animate.services.audit import client_ip
from animate.services.review import ReviewForbidden, ReviewRejected


def review_errors(exc: ReviewRejected | ReviewForbidden) -> exceptions.APIException:
    """A service's refusal as the API's error shape: problems by field (400), or 403."""
    if isinstance(exc, ReviewForbidden):
        return exceptions.PermissionDenied(str(exc))
    return exceptions.ValidationError({field: [message] for field, message in exc.problems.items()})


def card_data(request: Request, output: Output) -> dict[str, Any]:
    """An output as a gallery card shows it; ``output`` comes from ``gallery_outputs`` (annotated)."""
    generation = output.generation
    return {
        **output_data(request, output),
        **gallery.card_facts(generation.parameters),
        "generation": generation.pk,
        "status": generation.status,
        "created_by": generation.created_by.get_username() if generation.created_by else None,
        "size": output.size,
        "review_state": output.review_state,
        "rating": output.rating,
        "starred": output.starred,
        "archived_at": output.archived_at,
        "purged": output.purged_at is not None,
        "player": reverse("output-review", args=[output.pk]),
    }


def team_output(view: ApiView, pk: int) -> Output:
    output = (
        review.outputs_annotated(
            Output.objects.filter(team_id=view.member.team_id, pk=pk), user_id=view.member.user_id
        )
        .select_related("generation__created_by")
        .first()
    )
    if output is None:
        raise exceptions.NotFound("No such output in your team.")
    return output


def _filter_parameters() -> list[OpenApiParameter]:
    form_fields = GalleryFilterForm.base_fields
    parameters = []
    for name in GalleryFilterForm.FILTER_FIELDS:
        if name == "page_size":
            continue
        field = form_fields[name]
        choices = [value for value, _ in getattr(field, "choices", []) if value != ""]
        parameters.append(
            OpenApiParameter(name, str, description=str(field.label), enum=choices or None, required=False)
        )
    return parameters


def filter_form(request: Request, view: ApiView) -> GalleryFilterForm:
    params = QueryDict(mutable=True)
    for key, values in request.query_params.lists():
        if key not in {"page", "page_size", "team"}:
            params.setlist(key, values)
    form = gallery_form(params, membership=view.member)
    if form.errors:
        raise exceptions.ValidationError({field: list(messages) for field, messages in form.errors.items()})
    return form


class OutputListApi(ApiView):
    @extend_schema(
        operation_id="outputs_list",
        tags=["outputs"],
        summary="The team's outputs, with the gallery's filters and sorts",
        description="Every filter is optional and named as in the gallery's URL. Archived outputs are "
        "left out unless `archived=only`.",
        parameters=[*_filter_parameters(), *PAGE_PARAMETERS],
        responses={200: OutputCardPageSerializer, **errors(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        form = filter_form(request, self)
        outputs = gallery.gallery_outputs(membership=self.member, filters=form.filters())
        return self.paginate(outputs, lambda output: OutputCardSerializer(card_data(request, output)).data)


class OutputDetailApi(ApiView):
    @extend_schema(
        operation_id="outputs_retrieve",
        tags=["outputs"],
        summary="One output with its verdicts, history, comments and boards",
        responses={200: OutputDetailSerializer, **errors(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        output = team_output(self, pk)
        state = review.output_review(output, user=request.user)
        siblings = Output.objects.filter(generation_id=output.generation_id).exclude(pk=output.pk)
        body = {
            **card_data(request, output),
            "parameters": output.generation.parameters,
            "verdicts": [review.verdict_data(verdict) for verdict in state.current],
            "history": [review.verdict_data(verdict) for verdict in state.history],
            "comments": [review.comment_data(comment) for comment in state.comments],
            "boards": list(BoardItem.objects.filter(output=output).values_list("board_id", flat=True)),
            "siblings": list(siblings.order_by("created_at", "pk").values_list("pk", flat=True)),
        }
        return Response(OutputDetailSerializer(body).data)


class ArchiveApi(ApiView):
    class ArchiveInputSerializer(serializers.Serializer):
        action = serializers.ChoiceField(
            choices=["archive", "unarchive", "purge"],
            help_text="`purge` deletes the stored files of archived items (admins only); rows, ledger "
            "and audit log stay.",
        )
        outputs = serializers.ListField(
            child=serializers.IntegerField(), required=False, default=list, max_length=500
        )
        generations = serializers.ListField(
            child=serializers.IntegerField(),
            required=False,
            default=list,
            max_length=500,
            help_text="Whole generations: every output of each.",
        )

    @extend_schema(
        operation_id="archive",
        tags=["outputs"],
        summary="Archive, restore or purge outputs and whole generations",
        request=ArchiveInputSerializer,
        responses={200: ArchiveResultSerializer, **errors(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        payload = self.ArchiveInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        team_id = self.member.team_id
        outputs = list(Output.objects.filter(team_id=team_id, pk__in=data["outputs"]))
        generations = list(Generation.objects.filter(team_id=team_id, pk__in=data["generations"]))
        missing = {
            "outputs": set(data["outputs"]) - {output.pk for output in outputs},
            "generations": set(data["generations"]) - {generation.pk for generation in generations},
        }
        problems = {
            field: [f"No such {field[:-1]} in your team: {', '.join(map(str, sorted(ids)))}."]
            for field, ids in missing.items()
            if ids
        }
        if problems:
            raise exceptions.ValidationError(problems)
        ip = client_ip(request.META)
        try:
            if data["action"] == "purge":
                result = archive.archive_purge(
                    membership=self.member, outputs=outputs, generations=generations, ip=ip
                )
            else:
                result = archive.archive_set(
                    membership=self.member,
                    outputs=outputs,
                    generations=generations,
                    archived=data["action"] == "archive",
                    ip=ip,
                )
        except (ReviewRejected, ReviewForbidden) as exc:
            raise review_errors(exc) from None
        body = {"action": data["action"], "outputs": result.outputs, "generations": result.generations}
        return Response(ArchiveResultSerializer(body).data)
