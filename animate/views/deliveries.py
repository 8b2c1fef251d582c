"""The webhook delivery log (admins): every body Runware sent, its outcome, the raw JSON, and Replay."""

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from animate.models import Membership, WebhookEvent
from animate.services import deliveries
from animate.views.common import admin_only, int_or_none, request_ip

PAGE_SIZE = 50


@admin_only
@require_GET
def delivery_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    events = deliveries.deliveries_for(membership)
    generation = int_or_none(request.GET.get("generation"))
    if generation is not None:
        events = events.filter(generation_id=generation)
    status = request.GET.get("status", "")
    if status in WebhookEvent.Status.values:
        events = events.filter(status=status)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    rejections = deliveries.rejections_for(membership)
    if generation is not None:
        rejections = rejections.filter(generation_id=generation)
    context = {
        "nav": "costs",
        "admin_nav": "deliveries",
        "membership": membership,
        "page": page,
        "rows": [deliveries.delivery_facts(event) for event in page],
        "rejections": rejections[:50],
        "statuses": WebhookEvent.Status.choices,
        "status": status,
        "generation": generation,
    }
    return render(request, "animate/deliveries/list.html", context)


@admin_only
@require_GET
def delivery_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    try:
        event = deliveries.delivery_get(membership=membership, event_id=pk)
    except deliveries.DeliveryNotFound:
        raise Http404("No such delivery in your team.") from None
    context = {
        "nav": "costs",
        "admin_nav": "deliveries",
        "membership": membership,
        "facts": deliveries.delivery_facts(event),
        "body": json.dumps(event.body, indent=2, ensure_ascii=False),
        "replays": event.replays.order_by("-received_at"),
    }
    return render(request, "animate/deliveries/detail.html", context)


@admin_only
@require_POST
def delivery_replay(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    try:
        replay = deliveries.delivery_replay(
            membership=membership, event_id=pk, actor=request.user, ip=request_ip(request)
        )
    except deliveries.DeliveryNotFound:
        raise Http404("No such delivery in your team.") from None
    messages.success(
        request,
        f"Replayed as delivery #{replay.pk}: it goes through the same ingestion, so anything already "
        "applied stays as it was.",
    )
    return redirect("delivery-detail", pk=replay.pk)
