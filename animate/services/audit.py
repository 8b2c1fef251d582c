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


def audit_login_event(
    *, action: str, user: AbstractBaseUser | None = None, username: str = "", ip: str | None = None
) -> list[AuditEvent]:
    """A login, logout or failed login: one row in each team of the user, so each team's admins see it
    (a name that belongs to nobody, or to someone in no team, gets one row outside any team)."""
    from django.contrib.auth import get_user_model

    from animate.models import Membership

    if user is None and username:
        user_model = get_user_model()
        user = user_model.objects.filter(**{user_model.USERNAME_FIELD: username}).first()
    team_ids = list(Membership.objects.filter(user=user).values_list("team_id", flat=True)) if user else []
    actor = user if action != AuditEvent.Action.LOGIN_FAILED else None
    name = user.get_username() if user is not None else username
    return [
        audit_record(action=action, team=team_id, actor=actor, actor_name=name, ip=ip)
        for team_id in (team_ids or [None])
    ]


# --- reading the log (admins) --------------------------------------------------------------------------

AUDIT_CSV_HEADER = ["event_id", "at_utc", "actor", "action", "target_type", "target_id", "ip", "detail"]


class AuditFilterInvalid(Exception):
    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


def audit_events(*, team_id: int, params: Any) -> "models.QuerySet[AuditEvent]":
    """A team's audit rows, newest first, filtered by action, actor name and date (UTC days)."""
    import datetime as dt

    problems: dict[str, str] = {}
    events = AuditEvent.objects.filter(team_id=team_id)
    action = str(params.get("action") or "")
    if action:
        if action not in AuditEvent.Action.values:
            problems["action"] = "Choose an action from the list."
        else:
            events = events.filter(action=action)
    actor = str(params.get("actor") or "").strip()
    if actor:
        events = events.filter(actor_name__iexact=actor)
    for name, lookup in (("from", "created_at__gte"), ("to", "created_at__lt")):
        value = str(params.get(name) or "")
        if not value:
            continue
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            problems[name] = "Enter a date as YYYY-MM-DD."
            continue
        if name == "to":
            day += dt.timedelta(days=1)
        events = events.filter(**{lookup: dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)})
    if problems:
        raise AuditFilterInvalid(problems)
    return events.order_by("-created_at", "-pk")


def audit_csv_batch(
    events: "models.QuerySet[AuditEvent]", *, after: int | None, size: int = 2000
) -> tuple[list[list[Any]], int | None]:
    """One batch of CSV rows (newest first, by id) and the cursor of the next one."""
    import json

    chosen = events.order_by("-pk")
    if after is not None:
        chosen = chosen.filter(pk__lt=after)
    batch = list(chosen[:size])
    rows = [
        [
            event.pk,
            event.created_at.isoformat(),
            event.actor_name,
            event.action,
            event.target_type,
            event.target_id,
            event.ip or "",
            json.dumps(event.detail, sort_keys=True, ensure_ascii=False),
        ]
        for event in batch
    ]
    return rows, (batch[-1].pk if len(batch) == size else None)
