"""The pages and their routes, one block per surface (the REST API lives in ``animate.api.urls``).

Each block's views live in the ``animate.views`` module of the same name.
"""

from django.urls import path

from animate.views import (
    audit,
    compare,
    costs,
    create,
    deliveries,
    gallery,
    generations,
    media,
    result_uploads,
    review,
    share,
    team,
)

urlpatterns = [
    # create: upload & preview, quote, submit (the page's scripts call /api/)
    path("", create.create, name="create"),
    # generations: a creator's runs and one run's result page
    path("generations/", generations.generation_list, name="generation-list"),
    path("generations/<int:pk>/", generations.generation_detail, name="generation-detail"),
    # gallery: every output of the team, and boards (a board page is the gallery of that board)
    path("gallery/", gallery.gallery_page, name="gallery"),
    path("boards/", gallery.board_list, name="board-list"),
    path("boards/<int:pk>/", gallery.board_detail, name="board-detail"),
    # review: the player with verdicts, comments, stars
    path("outputs/<int:pk>/", review.output_review, name="output-review"),
    # compare: two outputs side by side or with a wipe
    path("compare/", compare.compare, name="compare"),
    # share: read-only links for people without an account, and the list of live links
    path("s/<str:token>/", share.share_page, name="share"),
    path("s/<str:token>/o/<int:output_pk>/<str:kind>", share.share_media, name="share-media"),
    path("shares/", share.share_list, name="share-list"),
    # media: team members' files, and signed single-asset URLs for Runware
    path("m/assets/<int:pk>/file", media.asset_file, name="media-asset"),
    path("m/assets/<int:pk>/poster", media.asset_poster, name="media-asset-poster"),
    path("m/outputs/<int:pk>/file", media.output_file, name="media-output"),
    path("m/outputs/<int:pk>/poster", media.output_poster, name="media-output-poster"),
    path("m/outputs/<int:pk>/original", media.output_original, name="media-output-original"),
    path("m/signed/<str:token>/<str:filename>", media.signed_asset_file, name="media-signed"),
    # result uploads: Runware PUTs a finished video here (uploadEndpoint) when media are on local disk
    path("r/uploads/<str:token>", result_uploads.result_upload_put, name="result-upload"),
    # costs (admins): spend dashboard, ledger export, budgets, adjustments, reconciliation
    path("costs/", costs.dashboard, name="costs"),
    path("costs/export.csv", costs.export_csv, name="costs-export"),
    path("costs/budgets/", costs.budget_page, name="costs-budgets"),
    path("costs/adjustments/", costs.adjustment_create, name="costs-adjust"),
    path("costs/reconciliation/", costs.reconciliation_page, name="costs-reconciliation"),
    # deliveries (admins): the webhook delivery log, raw bodies, replay
    path("deliveries/", deliveries.delivery_list, name="deliveries"),
    path("deliveries/<int:pk>/", deliveries.delivery_detail, name="delivery-detail"),
    path("deliveries/<int:pk>/replay/", deliveries.delivery_replay, name="delivery-replay"),
    # audit (admins): the audit log and its CSV
    path("audit/", audit.audit_list, name="audit"),
    path("audit/export.csv", audit.audit_export, name="audit-export"),
    # team: administration (admins), the header's switch, invites, own password, notifications
    path("team/", team.team_page, name="team"),
    path("team/members/", team.member_create, name="team-member-create"),
    path("team/members/<int:pk>/", team.member_update, name="team-member-update"),
    path("team/members/<int:pk>/remove/", team.member_remove, name="team-member-remove"),
    path("team/invites/", team.invite_create, name="team-invite-create"),
    path("team/invites/<int:pk>/revoke/", team.invite_revoke, name="team-invite-revoke"),
    path("team/settings/", team.team_settings, name="team-settings"),
    path("team/switch/", team.team_switch, name="team-switch"),
    path("invites/<str:token>/", team.invite_accept, name="invite-accept"),
    path("account/password/", team.password_set, name="password-set"),
    path("notifications/", team.notification_list, name="notifications"),
]
