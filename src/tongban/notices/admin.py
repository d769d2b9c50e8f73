"""Admin views of notices and their outbox: read-only; retrying goes through ``notices.services``."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from tongban.kernel.admin import ReadOnlyAdmin
from tongban.kernel.problems import Problem
from tongban.notices import services
from tongban.notices.models import Delivery, Notice


class DeliveryInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Delivery
    fields = readonly_fields = ("channel", "status", "attempts", "next_attempt_at", "sent_at", "last_error")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    list_display = ["pk", "template", "recipient", "language", "created_at", "read_at"]
    list_filter = ["template", "language"]
    list_select_related = ["recipient"]
    inlines = [DeliveryInline]
    fields = readonly_fields = (
        "recipient", "template", "language", "subject", "body", "short_text", "link", "in_inbox", "sent_by",
        "created_at", "read_at",
    )


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["pk", "notice", "channel", "status", "attempts", "next_attempt_at", "sent_at", "last_error"]
    list_filter = ["status", "channel"]
    list_select_related = ["notice"]
    actions = ["retry_now"]
    fields = readonly_fields = (
        "notice", "channel", "status", "uuid", "attempts", "next_attempt_at", "last_error", "provider_message_id",
        "created_at", "sent_at", "failed_at",
    )

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # ReadOnlyAdmin offers no actions; this one goes through the service.
        return admin.ModelAdmin.get_actions(self, request)

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("notices.retry_delivery"))

    @admin.action(description="Retry now", permissions=["retry"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        try:
            count = services.retry_deliveries(queryset, actor=request.user)
        except Problem as problem:
            self.message_user(request, problem.detail, messages.ERROR)
        else:
            self.message_user(request, f"{count} deliveries will be sent again now.", messages.SUCCESS)
