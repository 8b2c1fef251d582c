"""REST API routes, mounted at ``/api/`` (names are namespaced ``api:``)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from animate.api import (
    assets,
    audit,
    boards,
    costs,
    deliveries,
    generations,
    outputs,
    presets,
    review,
    shares,
    team,
)

app_name = "api"

urlpatterns = [
    path("assets/", assets.AssetListApi.as_view(), name="asset-list"),
    path("assets/<int:pk>/", assets.AssetDetailApi.as_view(), name="asset-detail"),
    path("quote/", generations.QuoteApi.as_view(), name="quote"),
    path("generations/", generations.GenerationListApi.as_view(), name="generation-list"),
    path("generations/<int:pk>/", generations.GenerationDetailApi.as_view(), name="generation-detail"),
    path("presets/", presets.PresetListApi.as_view(), name="preset-list"),
    path("presets/<int:pk>/", presets.PresetDetailApi.as_view(), name="preset-detail"),
    path("generations/<int:pk>/check/", generations.GenerationCheckApi.as_view(), name="generation-check"),
    path(
        "generations/<int:pk>/stop-waiting/",
        generations.GenerationStopWaitingApi.as_view(),
        name="generation-stop-waiting",
    ),
    path(
        "generations/<int:pk>/dismiss/", generations.GenerationDismissApi.as_view(), name="generation-dismiss"
    ),
    path("outputs/", outputs.OutputListApi.as_view(), name="output-list"),
    path("outputs/<int:pk>/", outputs.OutputDetailApi.as_view(), name="output-detail"),
    path("outputs/<int:pk>/verdicts/", review.VerdictApi.as_view(), name="output-verdicts"),
    path("outputs/<int:pk>/comments/", review.CommentListApi.as_view(), name="output-comments"),
    path("outputs/<int:pk>/star/", review.StarApi.as_view(), name="output-star"),
    path("comments/<int:pk>/", review.CommentDetailApi.as_view(), name="comment-detail"),
    path("archive/", outputs.ArchiveApi.as_view(), name="archive"),
    path("boards/", boards.BoardListApi.as_view(), name="board-list"),
    path("boards/<int:pk>/", boards.BoardDetailApi.as_view(), name="board-detail"),
    path("boards/<int:pk>/items/", boards.BoardItemsApi.as_view(), name="board-items"),
    path("boards/<int:pk>/items/<int:output_pk>/", boards.BoardItemDetailApi.as_view(), name="board-item"),
    path("shares/", shares.ShareListApi.as_view(), name="share-list"),
    path("shares/<int:pk>/", shares.ShareDetailApi.as_view(), name="share-detail"),
    # costs (admins)
    path("costs/summary/", costs.CostSummaryApi.as_view(), name="cost-summary"),
    path("costs/ledger/", costs.LedgerListApi.as_view(), name="cost-ledger"),
    path("costs/ledger.csv", costs.LedgerCsvApi.as_view(), name="cost-ledger-csv"),
    path("costs/adjustments/", costs.AdjustmentApi.as_view(), name="cost-adjustments"),
    path("costs/budgets/", costs.BudgetApi.as_view(), name="cost-budgets"),
    path("costs/alerts/", costs.AlertListApi.as_view(), name="cost-alerts"),
    path("costs/reconciliations/", costs.ReconciliationListApi.as_view(), name="reconciliation-list"),
    path(
        "costs/reconciliations/<int:pk>/",
        costs.ReconciliationDetailApi.as_view(),
        name="reconciliation-detail",
    ),
    # deliveries (admins)
    path("deliveries/", deliveries.DeliveryListApi.as_view(), name="delivery-list"),
    path("deliveries/rejections/", deliveries.RejectionListApi.as_view(), name="delivery-rejections"),
    path("deliveries/<int:pk>/", deliveries.DeliveryDetailApi.as_view(), name="delivery-detail"),
    path("deliveries/<int:pk>/replay/", deliveries.DeliveryReplayApi.as_view(), name="delivery-replay"),
    # audit (admins)
    path("audit/", audit.AuditListApi.as_view(), name="audit"),
    path("audit.csv", audit.AuditCsvApi.as_view(), name="audit-csv"),
    # team
    path("team/", team.TeamApi.as_view(), name="team"),
    path("team/switch/", team.TeamSwitchApi.as_view(), name="team-switch"),
    path("team/settings/", team.TeamSettingsApi.as_view(), name="team-settings"),
    path("team/members/", team.MemberListApi.as_view(), name="member-list"),
    path("team/members/<int:pk>/", team.MemberDetailApi.as_view(), name="member-detail"),
    path("team/invites/", team.InviteListApi.as_view(), name="invite-list"),
    path("team/invites/<int:pk>/", team.InviteDetailApi.as_view(), name="invite-detail"),
    path("notifications/", team.NotificationListApi.as_view(), name="notifications"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: no inline script under the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
