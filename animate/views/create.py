"""The creator's page: upload & preview, parameters & quote, submit, presets.

Its scripts (static/js/create.js) do all of that through the REST API under /api/; this module only
renders the page (and pre-fills a re-run)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from animate.forms import (
    ParameterForm,
    parameter_form_initial,
)
from animate.models import Generation
from animate.services import generations
from animate.services.boards import boards_for
from animate.uploads import file_limits
from animate.views.common import (
    asset_payload,
    int_or_none,
    no_team,
    request_membership,
)

# --- pages --------------------------------------------------------------------------------------------


@login_required
@require_GET
def create(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    if membership is None:
        return no_team(request)
    form = ParameterForm()
    image = video = parent = None
    if "from" in request.GET:
        pk = int_or_none(request.GET["from"])
        if pk is None:
            raise Http404("No such generation.")
        parent = get_object_or_404(
            Generation.objects.select_related("image", "video"), pk=pk, team_id=membership.team_id
        )
        parameters = dict(parent.parameters)
        # "Re-run with tweaks" from a reviewed output starts from that very output's seed.
        source = parent.outputs.filter(pk=int_or_none(request.GET.get("output"))).first()
        if source is not None and source.seed is not None:
            parameters["seed"] = source.seed
        form = parameter_form_initial(parameters)
        image, video = parent.image, parent.video
    mode = (parent.parameters.get("mode") if parent else None) or None
    context = {
        "nav": "create",
        "membership": membership,
        "can_spend": membership.can_spend,
        "form": form,
        "parent": parent,
        "boards": boards_for(membership),
        "board_initial": parent.board_id if parent else None,
        "keep_audio": parent.keep_audio if parent else True,
        "image_data": asset_payload(image, mode=mode) if image else None,
        "video_data": asset_payload(video, mode=mode) if video else None,
        "webhook_unreachable": not generations.public_base_url_reachable(),
        "max_bytes": file_limits(),
        # The page's scripts call the REST API, like any other client (one error shape).
        "urls": {
            "upload": reverse("api:asset-list"),
            "quote": reverse("api:quote"),
            "create": reverse("api:generation-list"),
            "presets": reverse("api:preset-list"),
            "generation_page": reverse("generation-detail", kwargs={"pk": 0}),
            "list": reverse("generation-list"),
        },
    }
    return render(request, "animate/create.html", context)
