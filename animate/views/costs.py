"""The admin's cost pages: the dashboard, the ledger's CSV export, budgets, adjustments, reconciliation."""

import json
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from animate.exports import csv_stream
from animate.models import CostEntry, Membership, Reconciliation, SpendAlert
from animate.runware import pricing, spec
from animate.services import budgets, costs, ledger, reconcile
from animate.views import charts
from animate.views.common import admin_only, request_ip, safe_next

SHARE_BREAKDOWNS = ("user", "mode", "tier", "output_format", "status", "kind")
RECENT_ENTRIES = 25


def _filters(membership: Membership, params: QueryDict) -> tuple[costs.CostFilters, dict[str, str]]:
    try:
        return costs.cost_filters_parse(membership.team, params), {}
    except costs.CostFilterInvalid as exc:
        return costs.cost_filters_parse(membership.team, {}), exc.problems


def _choices(membership: Membership) -> dict[str, Any]:
    return {
        "presets": costs.PRESETS,
        "members": Membership.objects.filter(team_id=membership.team_id)
        .select_related("user")
        .order_by("user__username"),
        "modes": spec.parameter("advancedFeatures.wanAnimate.mode").choices,
        "tiers": tuple(pricing.PRICE_PER_SECOND),
        "formats": spec.parameter("outputFormat").choices,
        "kinds": CostEntry.Kind.choices,
    }


@admin_only
@require_GET
def dashboard(request: HttpRequest, membership: Membership) -> HttpResponse:
    team = membership.team
    filters, problems = _filters(membership, request.GET)
    breakdowns = {by: costs.cost_breakdown(filters, by=by) for by in ("day", *SHARE_BREAKDOWNS, "verdict")}
    day = breakdowns["day"]
    query = QueryDict(mutable=True)
    query.update(filters.query())
    context = {
        "nav": "costs",
        "admin_nav": "costs",
        "membership": membership,
        "filters": filters,
        "problems": problems,
        "query": query.urlencode(),
        "summary": costs.cost_summary(filters),
        "spend": costs.spend_to_date(team),
        "in_flight": costs.in_flight(team),
        "no_result": costs.charged_no_result(filters),
        "review": costs.review_figures(filters),
        "budgets": budgets.team_budget_overview(team=team),
        "day": day,
        "day_chart": charts.time_chart(day.groups, what="Spend per day"),
        "shares": [
            (
                breakdowns[by],
                charts.share_chart(breakdowns[by].groups, what=f"Spend by {costs.BREAKDOWNS[by].lower()}"),
            )
            for by in SHARE_BREAKDOWNS
        ],
        "verdicts": breakdowns["verdict"],
        "top_spenders": [group for group in breakdowns["user"].groups if group.key][:5],
        "alerts": SpendAlert.objects.filter(team=team)
        .select_related("user")
        .order_by("-created_at", "-pk")[:5],
        "entries": costs.ledger_rows(filters).order_by("-created_at", "-pk")[:RECENT_ENTRIES],
        "reconciliation": reconcile.reconcile_latest(),
        **_choices(membership),
    }
    return render(request, "animate/costs/dashboard.html", context)


@admin_only
@require_GET
def export_csv(request: HttpRequest, membership: Membership) -> HttpResponse:
    filters, problems = _filters(membership, request.GET)
    if problems:
        return render(
            request,
            "animate/forbidden.html",
            {"message": "These filters cannot be exported: " + " ".join(problems.values())},
            status=400,
        )
    name = f"ledger-{membership.team.slug}-{filters.range.first}-{filters.range.last}.csv"
    return csv_stream(
        filename=name,
        header=costs.LEDGER_CSV_HEADER,
        batch=lambda cursor: costs.ledger_csv_batch(filters, after=cursor),
    )


# --- budgets ---------------------------------------------------------------------------------------------


@admin_only
@require_http_methods(["GET", "POST"])
def budget_page(request: HttpRequest, membership: Membership) -> HttpResponse:
    problems: dict[str, str] = {}
    values: dict[str, str] = {}
    if request.method == "POST":
        user_id = request.POST.get("user") or None
        try:
            budgets.budget_set(
                membership=membership,
                user_id=int(user_id) if user_id and user_id.isdigit() else None,
                monthly_limit=request.POST.get("monthly_limit", ""),
                actor=request.user,
                ip=request_ip(request),
            )
        except budgets.BudgetInvalid as exc:
            problems = exc.problems
            values = {"user": user_id or "", "monthly_limit": request.POST.get("monthly_limit", "")}
        else:
            who = "The member's cap" if user_id else "The team budget"
            messages.success(request, f"{who} was saved.")
            return redirect(safe_next(request, reverse("costs-budgets")))
    team = membership.team
    overview = budgets.team_budget_overview(team=team)
    caps = {status.user_id: status for status in overview if status.scope == "member"}
    members = Membership.objects.filter(team=team).select_related("user").order_by("user__username")
    context = {
        "nav": "costs",
        "admin_nav": "budgets",
        "membership": membership,
        "team_budget": next((status for status in overview if status.scope == "team"), None),
        "rows": [(member, caps.get(member.user_id)) for member in members],
        "period": budgets.month_period(team),
        "problems": problems,
        "values": values,
    }
    return render(request, "animate/costs/budgets.html", context, status=400 if problems else 200)


# --- ledger adjustments -----------------------------------------------------------------------------------


@admin_only
@require_POST
def adjustment_create(request: HttpRequest, membership: Membership) -> HttpResponse:
    try:
        entry = ledger.ledger_adjust(
            membership=membership,
            amount=request.POST.get("amount", ""),
            note=request.POST.get("note", ""),
            user_id=request.POST.get("user"),
            generation_id=request.POST.get("generation"),
            ip=request_ip(request),
        )
    except ledger.AdjustmentInvalid as exc:
        for field, message in exc.problems.items():
            messages.error(request, f"Adjustment not recorded — {field}: {message}")
    else:
        messages.success(request, f"Adjustment of ${entry.amount} recorded as ledger entry #{entry.pk}.")
    return redirect(safe_next(request, reverse("costs")))


# --- reconciliation ---------------------------------------------------------------------------------------


@admin_only
@require_http_methods(["GET", "POST"])
def reconciliation_page(request: HttpRequest, membership: Membership) -> HttpResponse:
    problems: dict[str, str] = {}
    if request.method == "POST":
        try:
            run = reconcile.reconcile_for_admin(
                membership=membership,
                date_from=request.POST.get("from"),
                date_to=request.POST.get("to"),
                ip=request_ip(request),
            )
        except reconcile.ReconcileInvalid as exc:
            problems = exc.problems
        else:
            return redirect(f"{reverse('costs-reconciliation')}?run={run.pk}")
    runs = list(Reconciliation.objects.order_by("-started_at", "-pk")[:10])
    chosen = request.GET.get("run", "")
    selected = next((run for run in runs if str(run.pk) == chosen), None) if chosen else None
    if selected is None and chosen.isdigit():
        selected = Reconciliation.objects.filter(pk=int(chosen)).first()
    selected = selected or reconcile.reconcile_latest()
    default_from, default_to = reconcile.reconcile_range()
    context = {
        "nav": "costs",
        "admin_nav": "reconciliation",
        "membership": membership,
        "runs": runs,
        "selected": selected,
        "days": list(selected.days.all()) if selected else [],
        "raw_json": json.dumps(selected.raw, indent=2, ensure_ascii=False)
        if selected and selected.raw
        else "",
        "problems": problems,
        "default_from": request.POST.get("from") or default_from.isoformat(),
        "default_to": request.POST.get("to") or default_to.isoformat(),
        "threshold": membership.team.low_balance_threshold,
    }
    return render(request, "animate/costs/reconciliation.html", context, status=400 if problems else 200)
