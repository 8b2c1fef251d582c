"""Money (admins only): spend summary with group-by, the ledger (JSON and CSV), adjustments, budgets,
alerts and reconciliations with Runware. Filters are the dashboard's, so every total agrees with it."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from animate.api.base import CURRENCY, PAGE_PARAMETERS, ApiView, IsTeamAdmin, errors, object_id
from animate.api.serializers import MONEY
from animate.exports import csv_stream
from animate.models import CostEntry, Reconciliation, SpendAlert
from animate.services import budgets, costs, ledger, reconcile
from animate.services.audit import client_ip

FILTER_PARAMETERS = [
    OpenApiParameter(
        "range", str, enum=list(costs.PRESETS), description="Date range preset (default: month)."
    ),
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (team time zone), with range=custom."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, inclusive, with range=custom."),
    OpenApiParameter("user", int, description="Only this member's entries (user id)."),
    OpenApiParameter("mode", str, description="animate or replace."),
    OpenApiParameter("tier", str, description="480p, 580p or 720p."),
    OpenApiParameter("output_format", str, description="MP4, WEBM or MOV."),
    OpenApiParameter("kind", str, enum=list(CostEntry.Kind.values), description="Kind of ledger entry."),
]


class AdminApi(ApiView):
    permission_classes = [*ApiView.permission_classes, IsTeamAdmin]

    def cost_filters(self, request: Request) -> costs.CostFilters:
        try:
            return costs.cost_filters_parse(self.member.team, request.query_params)
        except costs.CostFilterInvalid as exc:
            raise exceptions.ValidationError(
                {key: [message] for key, message in exc.problems.items()}
            ) from None


# --- output shapes ---------------------------------------------------------------------------------------


class GroupSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The group's value (a day, a user id, a mode...).")
    label = serializers.CharField()
    amount = serializers.DecimalField(**MONEY)
    entries = serializers.IntegerField()
    estimated = serializers.DecimalField(**MONEY)
    share = serializers.DecimalField(
        max_digits=5, decimal_places=1, coerce_to_string=True, help_text="Percent."
    )


class BudgetStatusSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=["team", "member"])
    user = serializers.IntegerField(allow_null=True, help_text="The member's user id (member caps).")
    username = serializers.CharField(allow_blank=True)
    monthly_limit = serializers.DecimalField(**MONEY)
    spent = serializers.DecimalField(**MONEY)
    reserved = serializers.DecimalField(**MONEY, help_text="Held by runs in flight.")
    remaining = serializers.DecimalField(**MONEY)
    period_start = serializers.DateTimeField()
    resets_at = serializers.DateTimeField()


def budget_data(status: budgets.BudgetStatus) -> dict[str, Any]:
    return {
        "scope": status.scope,
        "user": status.user_id,
        "username": status.username,
        "monthly_limit": status.limit,
        "spent": status.spent,
        "reserved": status.reserved,
        "remaining": status.remaining,
        "period_start": status.period.start,
        "resets_at": status.period.end,
    }


class RangeSerializer(serializers.Serializer):
    preset = serializers.CharField()
    first_day = serializers.DateField()
    last_day = serializers.DateField()
    time_zone = serializers.CharField()


class AmountCountSerializer(serializers.Serializer):
    amount = serializers.DecimalField(**MONEY)
    count = serializers.IntegerField()


class SummarySerializer(serializers.Serializer):
    currency = serializers.CharField()
    range = RangeSerializer()
    total = serializers.DecimalField(**MONEY, help_text="Sum of every selected ledger entry.")
    entries = serializers.IntegerField()
    results_charged = serializers.DecimalField(**MONEY)
    results_estimated = serializers.DecimalField(**MONEY)
    error_percent = serializers.DecimalField(
        max_digits=8,
        decimal_places=1,
        allow_null=True,
        coerce_to_string=True,
        help_text="(actual-estimate)/estimate.",
    )
    failed_charged = AmountCountSerializer()
    flagged = AmountCountSerializer()
    adjustments = serializers.DecimalField(**MONEY)
    charged_no_result = AmountCountSerializer(help_text="Charged results whose video never reached storage.")
    today = serializers.DecimalField(**MONEY)
    this_month = serializers.DecimalField(**MONEY)
    reserved_in_flight = AmountCountSerializer()
    verdicts_available = serializers.BooleanField(help_text="False until results are reviewed.")
    cost_per_approved_output = serializers.DecimalField(
        **MONEY, allow_null=True, help_text="Null: unavailable."
    )
    waste = serializers.DecimalField(
        **MONEY, allow_null=True, help_text="Spend on rejected outputs; null: unavailable."
    )
    groups = serializers.DictField(
        child=GroupSerializer(many=True, allow_null=True),
        help_text="One list per group_by; a list is null when unavailable (verdict, until reviews exist).",
    )
    budgets = BudgetStatusSerializer(many=True)


class EntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    user = serializers.CharField(allow_null=True)
    kind = serializers.ChoiceField(choices=CostEntry.Kind.choices)
    amount = serializers.DecimalField(**MONEY)
    estimated = serializers.DecimalField(**MONEY)
    currency = serializers.CharField()
    mode = serializers.CharField(allow_blank=True)
    tier = serializers.CharField(allow_blank=True)
    output_format = serializers.CharField(allow_blank=True)
    billable_seconds = serializers.IntegerField(allow_null=True)
    generation = serializers.IntegerField(allow_null=True)
    video_uuid = serializers.UUIDField(allow_null=True)
    output = serializers.IntegerField(
        allow_null=True, help_text="The stored output, if the result reached us."
    )
    flagged = serializers.BooleanField()
    flag_reason = serializers.CharField(allow_blank=True)
    recorded_by = serializers.CharField(allow_null=True, help_text="Who wrote an adjustment by hand.")
    note = serializers.CharField(allow_blank=True)


class EntryPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = EntrySerializer(many=True)


def entry_data(entry: CostEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "created_at": entry.created_at,
        "user": entry.user.get_username() if entry.user else None,
        "kind": entry.kind,
        "amount": entry.amount,
        "estimated": entry.estimated,
        "currency": CURRENCY,
        "mode": entry.mode,
        "tier": entry.tier,
        "output_format": entry.output_format,
        "billable_seconds": entry.billable_seconds,
        "generation": entry.generation_id,
        "video_uuid": entry.video_uuid,
        "output": getattr(entry, "output_id", None),
        "flagged": entry.flagged,
        "flag_reason": entry.flag_reason,
        "recorded_by": entry.recorded_by.get_username() if entry.recorded_by else None,
        "note": entry.note,
    }


# --- summary and ledger ----------------------------------------------------------------------------------


class CostSummaryApi(AdminApi):
    @extend_schema(
        operation_id="costs_summary",
        tags=["costs"],
        summary="Spend for a date range, grouped by day, user, mode, tier, format, status, kind or verdict",
        parameters=[
            *FILTER_PARAMETERS,
            OpenApiParameter(
                "group_by",
                str,
                description=f"Comma-separated, any of: {', '.join(costs.BREAKDOWNS)} (default: day,user).",
            ),
        ],
        responses={200: SummarySerializer, **errors(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        filters = self.cost_filters(request)
        wanted = [
            name.strip()
            for name in request.query_params.get("group_by", "day,user").split(",")
            if name.strip()
        ]
        unknown = [name for name in wanted if name not in costs.BREAKDOWNS]
        if unknown:
            raise exceptions.ValidationError(
                {"group_by": [f"Unknown: {', '.join(unknown)}. Choose from: {', '.join(costs.BREAKDOWNS)}."]}
            )
        team = self.member.team
        summary = costs.cost_summary(filters)
        spend = costs.spend_to_date(team)
        flight = costs.in_flight(team)
        no_result = costs.charged_no_result(filters)
        review = costs.review_figures(filters)
        groups: dict[str, Any] = {}
        for name in wanted:
            breakdown = costs.cost_breakdown(filters, by=name)
            groups[name] = [vars(group) for group in breakdown.groups] if breakdown.available else None
        body = {
            "currency": CURRENCY,
            "range": {
                "preset": filters.range.preset,
                "first_day": filters.range.first,
                "last_day": filters.range.last,
                "time_zone": team.time_zone,
            },
            "total": summary.total,
            "entries": summary.entries,
            "results_charged": summary.result_amount,
            "results_estimated": summary.result_estimated,
            "error_percent": summary.error_percent,
            "failed_charged": {"amount": summary.failed_charged, "count": summary.failed_charged_entries},
            "flagged": {"amount": summary.flagged, "count": summary.flagged_entries},
            "adjustments": summary.adjustments,
            "charged_no_result": {"amount": no_result[0], "count": no_result[1]},
            "today": spend.today,
            "this_month": spend.month,
            "reserved_in_flight": {"amount": flight.reserved, "count": flight.runs},
            "verdicts_available": review is not None,
            "cost_per_approved_output": review.cost_per_approved if review else None,
            "waste": review.waste if review else None,
            "groups": groups,
            "budgets": [budget_data(status) for status in budgets.team_budget_overview(team=team)],
        }
        return Response(SummarySerializer(body).data)


class LedgerListApi(AdminApi):
    @extend_schema(
        operation_id="costs_ledger",
        tags=["costs"],
        summary="The ledger entries the filters select, newest first",
        parameters=[*FILTER_PARAMETERS, *PAGE_PARAMETERS],
        responses={200: EntryPageSerializer, **errors(400, 401, 403, 404)},
    )
    def get(self, request: Request) -> Response:
        entries = costs.ledger_rows(self.cost_filters(request)).order_by("-created_at", "-pk")
        return self.paginate(entries, lambda entry: EntrySerializer(entry_data(entry)).data)


class LedgerCsvApi(AdminApi):
    @extend_schema(
        operation_id="costs_ledger_csv",
        tags=["costs"],
        summary="The same entries as CSV (streamed, UTF-8, one row per entry)",
        parameters=FILTER_PARAMETERS,
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV file."),
            **errors(400, 401, 403),
        },
    )
    def get(self, request: Request) -> Any:
        filters = self.cost_filters(request)
        return csv_stream(
            filename=f"ledger-{self.member.team.slug}-{filters.range.first}-{filters.range.last}.csv",
            header=costs.LEDGER_CSV_HEADER,
            batch=lambda cursor: costs.ledger_csv_batch(filters, after=cursor),
        )


class AdjustmentApi(AdminApi):
    class AdjustmentInputSerializer(serializers.Serializer):
        amount = serializers.CharField(help_text='USD as a string, e.g. "-0.5000" for a credit.')
        note = serializers.CharField(help_text="Why; kept with the entry.")
        user = object_id(required=False, allow_null=True, help_text="The member it concerns.")
        generation = object_id(required=False, allow_null=True, help_text="The run it concerns.")

    @extend_schema(
        operation_id="costs_adjustment_create",
        tags=["costs"],
        summary="Record a correction as a new ledger entry (the ledger is never edited)",
        request=AdjustmentInputSerializer,
        responses={201: EntrySerializer, **errors(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        payload = self.AdjustmentInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            entry = ledger.ledger_adjust(
                membership=self.member,
                amount=data["amount"],
                note=data["note"],
                user_id=data.get("user"),
                generation_id=data.get("generation"),
                ip=_ip(request),
            )
        except ledger.AdjustmentInvalid as exc:
            raise exceptions.ValidationError(
                {key: [message] for key, message in exc.problems.items()}
            ) from None
        return Response(EntrySerializer(entry_data(entry)).data, status=201)


def _ip(request: Request) -> str | None:
    return client_ip(request.META)


# --- budgets and alerts ---------------------------------------------------------------------------------


class BudgetApi(AdminApi):
    class BudgetInputSerializer(serializers.Serializer):
        user = object_id(
            required=False, allow_null=True, help_text="A member's user id for their cap; empty for the team."
        )
        monthly_limit = serializers.CharField(
            allow_null=True, allow_blank=True, help_text='USD, e.g. "250.00"; null or "" removes it.'
        )

    @extend_schema(
        operation_id="costs_budgets",
        tags=["costs"],
        summary="The team budget and every member cap, with this month's use",
        responses={200: BudgetStatusSerializer(many=True), **errors(401, 403)},
    )
    def get(self, request: Request) -> Response:
        statuses = budgets.team_budget_overview(team=self.member.team)
        return Response(BudgetStatusSerializer([budget_data(status) for status in statuses], many=True).data)

    @extend_schema(
        operation_id="costs_budget_set",
        tags=["costs"],
        summary="Set or remove the team budget or one member's cap",
        request=BudgetInputSerializer,
        responses={200: BudgetStatusSerializer(many=True), **errors(400, 401, 403)},
    )
    def put(self, request: Request) -> Response:
        payload = self.BudgetInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            budgets.budget_set(
                membership=self.member,
                user_id=data.get("user"),
                monthly_limit=data.get("monthly_limit"),
                actor=request.user,
                ip=_ip(request),
            )
        except budgets.BudgetInvalid as exc:
            raise exceptions.ValidationError(
                {key: [message] for key, message in exc.problems.items()}
            ) from None
        return self.get(request)


class AlertSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=SpendAlert.Kind.choices)
    user = serializers.CharField(allow_null=True)
    threshold = serializers.IntegerField(help_text="Percent of the budget (0 for the balance).")
    period_start = serializers.DateField()
    limit = serializers.DecimalField(**MONEY)
    spent = serializers.DecimalField(**MONEY, help_text="Spend (or the balance) when it fired.")
    created_at = serializers.DateTimeField()


class AlertListApi(AdminApi):
    @extend_schema(
        operation_id="costs_alerts",
        tags=["costs"],
        summary="Budget and balance alerts raised, newest first (history kept across months)",
        parameters=PAGE_PARAMETERS,
        responses={200: AlertSerializer(many=True), **errors(401, 403, 404)},
    )
    def get(self, request: Request) -> Response:
        alerts = (
            SpendAlert.objects.filter(team_id=self.member.team_id)
            .select_related("user")
            .order_by("-created_at", "-pk")
        )
        return self.paginate(
            alerts,
            lambda alert: (
                AlertSerializer(
                    {
                        "id": alert.pk,
                        "kind": alert.kind,
                        "user": alert.user.get_username() if alert.user else None,
                        "threshold": alert.threshold,
                        "period_start": alert.period_start,
                        "limit": alert.limit,
                        "spent": alert.spent,
                        "created_at": alert.created_at,
                    }
                ).data
            ),
        )


# --- reconciliation ------------------------------------------------------------------------------------


class ReconciliationDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    ours = serializers.DecimalField(**MONEY)
    theirs = serializers.DecimalField(**MONEY, allow_null=True)
    difference = serializers.DecimalField(**MONEY, allow_null=True)


class ReconciliationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Reconciliation.Status.choices)
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    started_by = serializers.CharField(allow_null=True)
    balance = serializers.DecimalField(**MONEY, allow_null=True)
    ours_total = serializers.DecimalField(**MONEY, allow_null=True)
    theirs_total = serializers.DecimalField(**MONEY, allow_null=True)
    detail = serializers.CharField(allow_blank=True)
    days = ReconciliationDaySerializer(many=True)


def reconciliation_data(run: Reconciliation) -> dict[str, Any]:
    return {
        "id": run.pk,
        "status": run.status,
        "date_from": run.date_from,
        "date_to": run.date_to,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "started_by": run.started_by.get_username() if run.started_by else None,
        "balance": run.balance,
        "ours_total": run.ours_total,
        "theirs_total": run.theirs_total,
        "detail": run.detail,
        "days": [
            {"day": day.day, "ours": day.ours, "theirs": day.theirs, "difference": day.difference}
            for day in run.days.all()
        ],
    }


class ReconciliationListApi(AdminApi):
    class ReconcileInputSerializer(serializers.Serializer):
        date_from = serializers.DateField(
            required=False, allow_null=True, help_text="First UTC day (default: 6 days ago)."
        )
        date_to = serializers.DateField(
            required=False, allow_null=True, help_text="Last UTC day (default: today)."
        )

    @extend_schema(
        operation_id="costs_reconciliations",
        tags=["costs"],
        summary="Reconciliations with Runware, newest first",
        parameters=PAGE_PARAMETERS,
        responses={200: ReconciliationSerializer(many=True), **errors(401, 403, 404)},
    )
    def get(self, request: Request) -> Response:
        runs = (
            Reconciliation.objects.select_related("started_by")
            .prefetch_related("days")
            .order_by("-started_at", "-pk")
        )
        return self.paginate(runs, lambda run: ReconciliationSerializer(reconciliation_data(run)).data)

    @extend_schema(
        operation_id="costs_reconcile",
        tags=["costs"],
        summary="Start a reconciliation (runs in the background; poll its URL)",
        request=ReconcileInputSerializer,
        responses={202: ReconciliationSerializer, **errors(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        payload = self.ReconcileInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            run = reconcile.reconcile_for_admin(
                membership=self.member,
                date_from=payload.validated_data.get("date_from"),
                date_to=payload.validated_data.get("date_to"),
                ip=_ip(request),
            )
        except reconcile.ReconcileInvalid as exc:
            names = {"from": "date_from", "to": "date_to"}
            raise exceptions.ValidationError(
                {names.get(key, key): [message] for key, message in exc.problems.items()}
            ) from None
        return Response(ReconciliationSerializer(reconciliation_data(run)).data, status=202)


class ReconciliationDetailApi(AdminApi):
    @extend_schema(
        operation_id="costs_reconciliation",
        tags=["costs"],
        summary="One reconciliation, day by day",
        responses={200: ReconciliationSerializer, **errors(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        run = Reconciliation.objects.select_related("started_by").filter(pk=pk).first()
        if run is None:
            raise exceptions.NotFound("No such reconciliation.")
        return Response(ReconciliationSerializer(reconciliation_data(run)).data)
