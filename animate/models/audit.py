"""The audit log: append-only rows saying who did what, when and from where."""

from typing import Any, NoReturn

from django.conf import settings
from django.db import models

from animate.models.teams import Team


class AuditIsAppendOnly(Exception):
    """Raised on any attempt to change or delete an audit row."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditIsAppendOnly("Audit rows are never updated.")

    def delete(self) -> NoReturn:
        raise AuditIsAppendOnly("Audit rows are never deleted.")


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        LOGIN = "login", "Logged in"
        LOGIN_FAILED = "login_failed", "Failed login"
        LOGOUT = "logout", "Logged out"
        GENERATION_SUBMITTED = "generation_submitted", "Submitted a generation"
        VERDICT_SET = "verdict_set", "Gave a verdict"
        COMMENT_ADDED = "comment_added", "Commented"
        COMMENT_EDITED = "comment_edited", "Edited a comment"
        COMMENT_DELETED = "comment_deleted", "Deleted a comment"
        ARCHIVED = "archived", "Archived"
        UNARCHIVED = "unarchived", "Restored from the archive"
        PURGED = "purged", "Purged stored media"
        SHARE_CREATED = "share_created", "Created a share link"
        SHARE_REVOKED = "share_revoked", "Revoked a share link"
        BUDGET_CHANGED = "budget_changed", "Changed a budget"
        MEMBER_ADDED = "member_added", "Added a member"
        MEMBER_REMOVED = "member_removed", "Removed a member"
        ROLE_CHANGED = "role_changed", "Changed a role"
        INVITE_CREATED = "invite_created", "Created an invite"
        INVITE_ACCEPTED = "invite_accepted", "Accepted an invite"
        INVITE_REVOKED = "invite_revoked", "Revoked an invite"
        PASSWORD_SET = "password_set", "Replaced a temporary password"
        TEAM_SETTINGS_CHANGED = "team_settings_changed", "Changed the team's settings"
        TEAM_SWITCHED = "team_switched", "Switched team"
        WEBHOOK_REPLAYED = "webhook_replayed", "Replayed a webhook delivery"
        LEDGER_ADJUSTED = "ledger_adjusted", "Adjusted the ledger"
        RECONCILED = "reconciled", "Reconciled with Runware"
        RUN_CHECKED = "run_checked", "Checked a run with Runware"
        RUN_ABANDONED = "run_abandoned", "Stopped waiting for a run"

    # Null for events outside any team (a failed login for an unknown name).
    team = models.ForeignKey(Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The name as it was at the time (and the name tried, for a failed login).
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32, choices=Action.choices, db_index=True)
    # What it was done to, e.g. ("output", "42"); empty when the action concerns no object.
    target_type = models.CharField(max_length=32, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    # Small JSON-safe facts (old and new role, the verdict, the amount...).
    detail = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["team", "-created_at"]),
            models.Index(fields=["target_type", "target_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.actor_name or 'someone'} {self.action} {self.target_type} {self.target_id}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditIsAppendOnly("Audit rows are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditIsAppendOnly("Audit rows are never deleted.")
