"""The audit log (admins): who did what, when and from where; filterable and exportable as CSV."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from animate.exports import csv_stream
from animate.models import AuditEvent, Membership
from animate.services import audit
from animate.views.common import admin_only

PAGE_SIZE = 50


@admin_only
@require_GET
def audit_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    problems: dict[str, str] = {}
    try:
        events = audit.audit_events(team_id=membership.team_id, params=request.GET)
    except audit.AuditFilterInvalid as exc:
        problems = exc.problems
        events = audit.audit_events(team_id=membership.team_id, params={})
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "nav": "costs",
        "admin_nav": "audit",
        "membership": membership,
        "page": page,
        "actions": AuditEvent.Action.choices,
        "params": request.GET,
        "problems": problems,
        "query": query.urlencode(),
    }
    return render(request, "animate/audit/list.html", context, status=400 if problems else 200)


@admin_only
@require_GET
def audit_export(request: HttpRequest, membership: Membership) -> HttpResponse:
    try:
        events = audit.audit_events(team_id=membership.team_id, params=request.GET)
    except audit.AuditFilterInvalid as exc:
        message = "These filters cannot be exported: " + " ".join(exc.problems.values())
        return render(request, "animate/forbidden.html", {"message": message}, status=400)
    return csv_stream(
        filename=f"audit-{membership.team.slug}.csv",
        header=audit.AUDIT_CSV_HEADER,
        batch=lambda cursor: audit.audit_csv_batch(events, after=cursor),
    )
