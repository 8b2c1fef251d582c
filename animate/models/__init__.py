"""The database is the truth: every state the UI shows and every cent the ledger holds lives here.

One module per domain; everything is importable from ``animate.models``.
"""

from animate.models.audit import AuditEvent
from animate.models.budgets import Budget, Reconciliation, ReconciliationDay, SpendAlert
from animate.models.deliveries import WebhookRejection
from animate.models.generations import Generation, Output, WebhookEvent
from animate.models.ledger import CostDay, CostEntry
from animate.models.media import Asset, asset_upload_to, output_upload_to, poster_upload_to
from animate.models.notifications import Notification
from animate.models.presets import Preset
from animate.models.result_fetches import ResultFetch
from animate.models.result_uploads import ResultUpload
from animate.models.review import Board, BoardItem, Comment, ShareLink, Star, Verdict
from animate.models.teams import Invite, Membership, Team, TemporaryPassword
from animate.models.workers import WorkerProcess

__all__ = [
    "Asset",
    "AuditEvent",
    "Board",
    "BoardItem",
    "Budget",
    "Comment",
    "CostDay",
    "CostEntry",
    "Generation",
    "Invite",
    "Membership",
    "Notification",
    "Output",
    "Preset",
    "Reconciliation",
    "ReconciliationDay",
    "ResultFetch",
    "ResultUpload",
    "ShareLink",
    "SpendAlert",
    "Star",
    "Team",
    "TemporaryPassword",
    "Verdict",
    "WebhookEvent",
    "WebhookRejection",
    "WorkerProcess",
    "asset_upload_to",
    "output_upload_to",
    "poster_upload_to",
]
