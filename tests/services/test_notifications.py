"""Notifications: one per admin, announced after commit to that user only, emailed through a task."""

import json

import pytest
from django_tasks_db.models import DBTaskResult

from animate import events
from animate.models import Membership, Notification
from animate.services import notifications


def test_every_active_admin_of_the_team_is_told_and_nobody_else(
    team, admin, member, outsider, django_user_model, django_capture_on_commit_callbacks, monkeypatch
):
    gone = django_user_model.objects.create_user(username="gone", password="x", is_active=False)
    Membership.objects.create(user=gone, team=team, role="admin")
    sent = []
    monkeypatch.setattr(events, "send_now", lambda group, event: sent.append((group, event)))

    with django_capture_on_commit_callbacks(execute=True):
        rows = notifications.notify_admins(
            team=team, kind="spend_alert", title="Budget at 50%", body="b", url="/costs/"
        )

    assert [row.user_id for row in rows] == [admin.pk]
    assert sent == [(f"member.{team.pk}.{admin.pk}", notifications.notification_event(rows[0]))]
    assert json.loads(json.dumps(sent[0][1]))["title"] == "Budget at 50%"
    assert not DBTaskResult.objects.exists()  # nobody has an email address


def test_admins_with_an_address_get_one_email_task_after_the_commit(team, admin):
    admin.email = "ada@example.com"
    admin.save()

    notifications.notify_admins(team=team, kind="low_balance", title="Low", body="Top it up.", url="/costs/")

    task = DBTaskResult.objects.get(task_path__endswith="send_email")
    subject, body, recipients = task.args_kwargs["args"]
    assert subject == "[Studio] Low" and "Top it up." in body and body.count("/costs/") == 1
    assert recipients == ["ada@example.com"]


def test_unread_counts_and_marking_read(team, admin):
    first, *_ = notifications.notify_admins(team=team, kind="spend_alert", title="a", body="")
    notifications.notify_admins(team=team, kind="spend_alert", title="b", body="")
    assert notifications.notifications_unread_count(admin) == 2

    assert notifications.notifications_mark_read(user=admin, ids=[first.pk]) == 1
    assert notifications.notifications_unread_count(admin) == 1
    assert notifications.notifications_mark_read(user=admin) == 1
    assert Notification.objects.filter(read_at__isnull=True).count() == 0


@pytest.mark.parametrize("role", ["member", "reviewer"])
def test_a_team_without_admins_tells_nobody(team, django_user_model, role):
    user = django_user_model.objects.create_user(username="solo", password="x")
    Membership.objects.create(user=user, team=team, role=role)
    assert notifications.notify_admins(team=team, kind="spend_alert", title="x", body="") == []
