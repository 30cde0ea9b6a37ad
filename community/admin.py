"""Staff's view of the weekly close: each community's week and its steps, read-only (the
pipeline writes them; `manage.py close_week` resumes a failed one)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from community.models import WeekPipeline, WeekPipelineStep


class StepInline(admin.TabularInline):
    model = WeekPipelineStep
    extra = 0
    can_delete = False
    fields = ("position", "step", "state", "attempts", "started_at", "finished_at", "error")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WeekPipeline)
class WeekPipelineAdmin(admin.ModelAdmin):
    list_display = ("week", "community", "state", "queued_at", "started_at", "finished_at")
    list_filter = ("state", "community")
    list_select_related = ("community",)
    date_hierarchy = "week"
    inlines = [StepInline]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
