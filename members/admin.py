"""Django admin for the platform's staff (superusers: the operators of the deployment), who
see every field. Moderators and organisers have their own, community-scoped admin at
/manage/ (members.scoped_admin), which shows handles only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from members import audit, cached, services
from members.models import Community, CommunityAuditLog, Membership, Profile, Tag, User
from members.services import profiles as profile_services


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), (_("Language"), {"fields": ("language",)}))


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "slug",
        "phase",
        "currency",
        "entrance_fee",
        "monthly_fee",
        "created_at",
    )
    list_filter = ("phase", "currency")
    search_fields = ("name", "slug")
    # The phase moves one way, with an audit row: through the portal or the API only.
    readonly_fields = ("phase", "phase_changed_at", "created_at", "updated_at")
    prepopulated_fields = {"slug": ("name",)}

    def save_model(self, request: HttpRequest, obj: Community, form: Any, change: bool) -> None:
        # Not handles_changed_at (maybe older in this form than in the row): only the fields
        # the form changed. The visitors' landing page is made anew (the old slug's too).
        if change:
            obj.save(update_fields=[*form.changed_data, "updated_at"])
        else:
            super().save_model(request, obj, form, change)
        cached.landing_forget(obj.slug)
        if "slug" in form.changed_data and form.initial.get("slug"):
            cached.landing_forget(form.initial["slug"])


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "community", "role", "status", "joined_via", "created_at")
    list_filter = ("role", "status", "joined_via", "community")
    search_fields = ("user__email", "user__username", "profile__handle")
    raw_id_fields = ("referred_by",)
    list_select_related = ("user", "community")
    # Memberships are made, and roles and statuses changed, through the services (audit row,
    # last-organiser rule, phase switch, search documents): in the portal or the API.
    readonly_fields = ("user", "community", "role", "status", "joined_via", "activated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        services.profile_refresh_search(membership_id=obj.pk)


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("handle", "community", "real_name", "company", "industry", "city")
    list_filter = ("community",)
    search_fields = ("handle", "real_name", "company")
    filter_horizontal = ("tags",)
    list_select_related = ("community",)
    readonly_fields = ("membership", "community", "search_document", "full_search_document")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a profile comes with its membership

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # After the tags are saved: the search documents are built from fields and tags.
        services.profile_refresh_search(membership_id=form.instance.pk)
        if "handle" in form.changed_data:
            profile_services.handles_changed(community_id=form.instance.community_id)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "name_en", "name_zh", "kind", "community", "created_at")
    list_filter = ("kind", "community")
    search_fields = ("name", "name_en", "name_zh")
    raw_id_fields = ("community", "created_by")


class AuditEventFilter(admin.SimpleListFilter):
    """The events every app registered with members.audit, by name."""

    title = _("event")
    parameter_name = "event"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return audit.choices()

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        return queryset.filter(event=value) if value else queryset


@admin.register(CommunityAuditLog)
class CommunityAuditLogAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only."""

    list_display = ("created_at", "community", "event_name", "actor", "membership")
    list_filter = (AuditEventFilter, "community")

    @admin.display(description=_("event"), ordering="event")
    def event_name(self, obj: CommunityAuditLog) -> str:
        return obj.get_event_display()

    list_select_related = ("community", "actor")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
