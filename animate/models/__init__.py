"""The database is the truth: every state the UI shows and every cent the ledger holds lives here.

One module per domain; everything is importable from ``animate.models``.
"""

from animate.models.audit import AuditEvent
from animate.models.generations import Generation, Output, WebhookEvent
from animate.models.ledger import CostEntry
from animate.models.media import Asset, asset_upload_to, output_upload_to, poster_upload_to
from animate.models.review import Board, BoardItem, Comment, ShareLink, Star, Verdict
from animate.models.teams import Membership, Team

__all__ = [
    "Asset",
    "AuditEvent",
    "Board",
    "BoardItem",
    "Comment",
    "CostEntry",
    "Generation",
    "Membership",
    "Output",
    "ShareLink",
    "Star",
    "Team",
    "Verdict",
    "WebhookEvent",
    "asset_upload_to",
    "output_upload_to",
    "poster_upload_to",
]
