"""The Django admin: every model listed for staff, read-only (the ledger and the audit log above all
must never be edited there; changes go through the app, which audits them)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from animate import models


class ReadOnlyAdmin(admin.ModelAdmin):
    """Staff can look; nobody adds, changes or deletes through the admin."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}  # no bulk delete either


@admin.register(models.Team)
class TeamAdmin(ReadOnlyAdmin):
    list_display = ("name", "slug", "time_zone", "low_balance_threshold", "created_at")
    search_fields = ("name", "slug")


@admin.register(models.Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("user", "team", "role", "created_at")
    list_filter = ("role", "team")
    search_fields = ("user__username", "team__name")


@admin.register(models.Invite)
class InviteAdmin(ReadOnlyAdmin):
    list_display = (
        "team",
        "role",
        "email",
        "created_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    )
    list_filter = ("role", "team")
    exclude = ("token_hash",)


@admin.register(models.Asset)
class AssetAdmin(ReadOnlyAdmin):
    list_display = ("id", "team", "kind", "original_name", "size", "duration", "created_at")
    list_filter = ("kind", "team")


@admin.register(models.Generation)
class GenerationAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "team",
        "created_by",
        "status",
        "estimated_cost",
        "actual_cost",
        "reserved_cost",
        "created_at",
    )
    list_filter = ("status", "team")
    search_fields = ("task_uuid",)
    exclude = ("webhook_secret_hashes",)


@admin.register(models.Output)
class OutputAdmin(ReadOnlyAdmin):
    list_display = ("id", "team", "generation", "video_uuid", "cost", "nsfw", "created_at")
    list_filter = ("team", "nsfw")


@admin.register(models.WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "generation", "status", "detail", "received_at", "replay_of")
    list_filter = ("status",)


@admin.register(models.WebhookRejection)
class WebhookRejectionAdmin(ReadOnlyAdmin):
    list_display = ("generation", "reason", "count", "first_at", "last_at")
    list_filter = ("reason",)


@admin.register(models.CostEntry)
class CostEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "team",
        "user",
        "kind",
        "amount",
        "estimated",
        "mode",
        "tier",
        "output_format",
        "flagged",
        "created_at",
    )
    list_filter = ("kind", "flagged", "mode", "tier", "output_format", "team")
    search_fields = ("key", "note")
    date_hierarchy = "created_at"


@admin.register(models.Budget)
class BudgetAdmin(ReadOnlyAdmin):
    list_display = ("team", "user", "monthly_limit", "updated_by", "updated_at")


@admin.register(models.SpendAlert)
class SpendAlertAdmin(ReadOnlyAdmin):
    list_display = ("team", "kind", "user", "threshold", "period_start", "limit", "spent", "created_at")
    list_filter = ("kind", "team")


@admin.register(models.Reconciliation)
class ReconciliationAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "date_from",
        "date_to",
        "status",
        "balance",
        "ours_total",
        "theirs_total",
        "started_at",
    )
    list_filter = ("status",)


@admin.register(models.Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("user", "team", "kind", "title", "created_at", "read_at")
    list_filter = ("kind",)


@admin.register(models.AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "team", "actor_name", "action", "target_type", "target_id", "ip")
    list_filter = ("action", "team")
    search_fields = ("actor_name", "target_id")
    date_hierarchy = "created_at"
