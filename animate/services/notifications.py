"""Telling people: in-app notifications (live over the websocket) and the same text by email.

Rows are written in the caller's transaction; the websocket event and the email go out only after it
commits (the email through a background task, so a slow mail server never holds a request or a lock).
"""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.utils import timezone

from animate import events
from animate.models import Membership, Notification, Team


def notification_event(notification: Notification) -> dict[str, Any]:
    return {
        "type": "notification",
        "id": notification.pk,
        "kind": notification.kind,
        "team": notification.team_id,
        "title": notification.title,
        "body": notification.body,
        "url": notification.url,
        "created_at": notification.created_at.isoformat() if notification.created_at else None,
    }


def notify_admins(*, team: Team, kind: str, title: str, body: str, url: str = "") -> list[Notification]:
    """One notification per admin of ``team``, announced live, and one email to those with an address."""
    admins = list(
        get_user_model()
        .objects.filter(memberships__team=team, memberships__role=Membership.Role.ADMIN, is_active=True)
        .order_by("pk")
    )
    if not admins:
        return []
    rows = Notification.objects.bulk_create(
        [
            Notification(user=admin, team=team, kind=kind, title=title[:200], body=body, url=url[:255])
            for admin in admins
        ]
    )
    for row in rows:
        events.publish_on_commit(events.member_group(team.pk, row.user_id), notification_event(row))
    recipients = sorted({admin.email for admin in admins if admin.email})
    if recipients:
        from animate import tasks  # tasks import services; imported here to keep the direction one-way

        link = f"{settings.PUBLIC_BASE_URL}{url}" if url else settings.PUBLIC_BASE_URL
        text = f"{body}\n\n{link}\n\n— Animate Studio, team {team.name}"
        # Enqueued in this transaction: the email is sent only if the alert commits.
        tasks.send_email.enqueue(f"[{team.name}] {title}"[:200], text, recipients)
    return rows


def notifications_for(user: AbstractBaseUser) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).select_related("team").order_by("-created_at", "-pk")


def notifications_unread_count(user: AbstractBaseUser) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notifications_mark_read(*, user: AbstractBaseUser, ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (all of them, or only ``ids``); returns how many changed."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())
