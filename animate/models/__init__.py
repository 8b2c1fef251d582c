"""The database is the truth: every state the UI shows and every cent the ledger holds lives here.

One module per domain; everything is importable from ``animate.models``.
"""

from animate.models.audit import AuditEvent
from animate.models.generations import Generation, Output, WebhookEvent
from animate.models.ledger import CostEntry
from animate.models.media import Asset, asset_upload_to, output_upload_to, poster_upload_to
from animate.models.teams import Membership, Team

__all__ = [
    "Asset",
    "AuditEvent",
    "CostEntry",
    "Generation",
    "Membership",
    "Output",
    "Team",
    "WebhookEvent",
    "asset_upload_to",
    "output_upload_to",
    "poster_upload_to",
]
