"""Recording who did what: every service that changes something a team cares about calls ``audit_record``.

The row is written in the caller's transaction, so an action and its audit row commit (or roll back)
together.
"""

import ipaddress
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models

from animate.models import AuditEvent, Team


def client_ip(meta: dict[str, Any]) -> str | None:
    """The caller's address from a request's META: the proxy's ``X-Forwarded-For`` only when the
    deployment says a proxy sits in front (``TRUST_X_FORWARDED_FOR``), else the socket's peer."""
    candidates = []
    if getattr(settings, "TRUST_X_FORWARDED_FOR", False):
        forwarded = str(meta.get("HTTP_X_FORWARDED_FOR", ""))
        candidates.append(forwarded.split(",")[0].strip())
    candidates.append(str(meta.get("REMOTE_ADDR", "")))
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def audit_record(
    *,
    action: str,
    team: Team | int | None,
    actor: AbstractBaseUser | AnonymousUser | None = None,
    actor_name: str = "",
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Append one audit row. ``target`` (a model instance) names what was acted on; ``target_type`` and
    ``target_id`` do the same for things that are not rows (or no longer exist)."""
    user = actor if actor is not None and actor.is_authenticated else None
    if target is not None:
        target_type = target_type or target._meta.model_name or ""
        target_id = target_id or str(target.pk)
    return AuditEvent.objects.create(
        team_id=team.pk if isinstance(team, Team) else team,
        actor=user,
        actor_name=(actor_name or (user.get_username() if user is not None else ""))[:150],
        action=AuditEvent.Action(action),
        target_type=target_type[:32],
        target_id=str(target_id)[:64],
        detail=detail or {},
        ip=ip,
    )
