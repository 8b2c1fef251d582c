"""Share links: a signed, expiring, revocable URL showing one output or one board without a login.

The token is signed (``signing.Signer``) and carries the link's id and a random nonce; the row keeps
only the nonce's SHA-256, its expiry and its revocation. A link grants exactly what it names: the
output, or the outputs on the board at the time of viewing (archived and purged ones excluded), and
nothing else of the team.
"""

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.core import signing
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from animate.models import AuditEvent, Board, Membership, Output, ShareLink
from animate.services.audit import audit_record
from animate.services.review import ReviewForbidden, ReviewRejected

SHARE_SALT = "animate.share-link"
LIFETIMES = {
    "1h": (timedelta(hours=1), "1 hour"),
    "1d": (timedelta(days=1), "1 day"),
    "7d": (timedelta(days=7), "7 days"),
}
DEFAULT_LIFETIME = "1d"


def _nonce_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def _token(share: ShareLink, nonce: str) -> str:
    return signing.Signer(salt=SHARE_SALT).sign_object({"s": share.pk, "n": nonce}, compress=False)


def share_create(
    *,
    membership: Membership,
    output: Output | None = None,
    board: Board | None = None,
    expires_in: str = DEFAULT_LIFETIME,
    ip: str | None = None,
) -> tuple[ShareLink, str]:
    """A new link to ``output`` or ``board`` (exactly one); returns it and its token, which is shown
    once and cannot be recovered from the database."""
    if (output is None) == (board is None):
        raise ReviewRejected({"target": "Share either one output or one board."})
    target = output if output is not None else board
    assert target is not None
    if target.team_id != membership.team_id:
        raise ReviewRejected({"target": "No such output or board in your team."})
    if output is not None and output.purged_at is not None:
        raise ReviewRejected({"output": "This output was purged; there is nothing left to share."})
    if expires_in not in LIFETIMES:
        raise ReviewRejected({"expires_in": f"Choose one of: {', '.join(LIFETIMES)}."})
    nonce = secrets.token_urlsafe(24)
    with transaction.atomic():
        share = ShareLink.objects.create(
            team_id=membership.team_id,
            created_by=membership.user,
            output=output,
            board=board,
            nonce_hash=_nonce_hash(nonce),
            expires_at=timezone.now() + LIFETIMES[expires_in][0],
        )
        audit_record(
            action=AuditEvent.Action.SHARE_CREATED,
            team=membership.team_id,
            actor=membership.user,
            target=share,
            detail={
                "output": output.pk if output else None,
                "board": board.pk if board else None,
                "expires_at": share.expires_at.isoformat(),
            },
            ip=ip,
        )
    return share, _token(share, nonce)


def share_revoke(*, membership: Membership, share: ShareLink, ip: str | None = None) -> ShareLink:
    """Stop a link working at once; its creator or an admin may. Revoking twice changes nothing."""
    if share.team_id != membership.team_id:
        raise ReviewRejected({"share": "No such share link in your team."})
    if share.created_by_id != membership.user_id and membership.role != Membership.Role.ADMIN:
        raise ReviewForbidden("Only the link's creator or a team admin can revoke it.")
    with transaction.atomic():
        locked = ShareLink.objects.select_for_update().get(pk=share.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.revoked_by = membership.user
            locked.save(update_fields=["revoked_at", "revoked_by"])
            audit_record(
                action=AuditEvent.Action.SHARE_REVOKED,
                team=locked.team_id,
                actor=membership.user,
                target=locked,
                ip=ip,
            )
    return locked


def share_for_token(token: str) -> ShareLink | None:
    """The live link a token opens: correctly signed, nonce matching, neither expired nor revoked."""
    try:
        payload: Any = signing.Signer(salt=SHARE_SALT).unsign_object(token)
        share_id, nonce = int(payload["s"]), str(payload["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    share = (
        ShareLink.objects.filter(pk=share_id, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .select_related("output__generation", "board", "team")
        .first()
    )
    if share is None or not constant_time_compare(share.nonce_hash, _nonce_hash(nonce)):
        return None
    return share


def share_outputs(share: ShareLink) -> QuerySet[Output]:
    """The outputs a link grants: its output, or its board's current items; never archived or purged."""
    visible = Output.objects.filter(team_id=share.team_id, archived_at__isnull=True, purged_at__isnull=True)
    if share.output_id is not None:
        return visible.filter(pk=share.output_id)
    return visible.filter(board_items__board_id=share.board_id).order_by("-board_items__added_at", "-pk")


def shares_active(membership: Membership) -> QuerySet[ShareLink]:
    """Live links an admin sees for the whole team, and anyone else for the links they made."""
    links = ShareLink.objects.filter(
        team_id=membership.team_id, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("created_by", "output", "board")
    if membership.role != Membership.Role.ADMIN:
        links = links.filter(Q(created_by_id=membership.user_id))
    return links.order_by("expires_at", "pk")


def share_label(share: ShareLink) -> str:
    """What a link shows, in words (for the lists of links)."""
    if share.output_id is not None:
        return f"Output #{share.output_id}"
    return f"Board “{share.board.name}”" if share.board else "A board"
