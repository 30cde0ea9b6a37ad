"""The rotation on the community-scoped admin at ``/manage/`` (members.scoped_admin): the
shifts with their KPIs and pay, the roster and the swaps, read-only for the moderators and
organisers of each community. Every write goes through the portal's pages and the API, which
call the services (signing up, swaps, removal, the pay review)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from members import weeks
from members.scoped_admin import (
    CommunityFilter,
    CommunityScopedAdmin,
    handle_of,
    local_time_column,
    moderation_site,
)
from rotation.models import RosterEntry, Shift, SwapRequest


@admin.register(Shift, site=moderation_site)
class ShiftAdmin(CommunityScopedAdmin):
    list_display = (
        "week_label",
        "community",
        "moderator_handle",
        "pinned",
        "answerers",
        "answers",
        "rating_count",
        "operations_budget",
        "pay",
    )
    list_filter = (CommunityFilter,)
    list_select_related = ("community", "moderator__profile")
    ordering = ("-week", "community__name")
    fields = (
        "community",
        "week_label",
        "moderator_handle",
        "pinned",
        "fixed_at",
        "answerers",
        "answers",
        "rating_sum",
        "rating_count",
        "target_answerers",
        "target_quality",
        "operations_budget",
        "pay_at_close",
        "pay",
        "computed_at",
    )
    readonly_fields = fields

    def community_id_of(self, obj: Shift) -> int:
        return obj.community_id

    def view_on_site(self, obj: Shift) -> str:
        return reverse(
            "rotation:console_of",
            kwargs={"slug": obj.community.slug, "label": weeks.label(obj.week)},
        )

    @admin.display(description=_("week"), ordering="week")
    def week_label(self, obj: Shift) -> str:
        return weeks.label(obj.week)

    @admin.display(description=_("moderator"))
    def moderator_handle(self, obj: Shift) -> str:
        return handle_of(obj.moderator)


@admin.register(RosterEntry, site=moderation_site)
class RosterEntryAdmin(CommunityScopedAdmin):
    list_display = ("member_handle", "community", "signed_up", "left", "removal_reason")
    list_filter = (CommunityFilter,)
    list_select_related = ("community", "membership__profile")
    ordering = ("community__name", "signed_up_at", "pk")
    fields = ("community", "member_handle", "signed_up_at", "left_at", "removal_reason")
    readonly_fields = fields

    def community_id_of(self, obj: RosterEntry) -> int:
        return obj.community_id

    signed_up = local_time_column("signed_up_at", _("signed up at"))
    left = local_time_column("left_at", _("left at"))

    @admin.display(description=_("moderator"))
    def member_handle(self, obj: RosterEntry) -> str:
        return handle_of(obj.membership)


@admin.register(SwapRequest, site=moderation_site)
class SwapRequestAdmin(CommunityScopedAdmin):
    list_display = (
        "pk",
        "community",
        "requester_handle",
        "requester_week",
        "responder_handle",
        "responder_week",
        "state",
        "asked_at",
    )
    list_filter = (CommunityFilter, "state")
    list_select_related = ("community", "requester__profile", "responder__profile")
    ordering = ("-created_at",)
    fields = (
        "community",
        "requester_handle",
        "requester_week",
        "responder_handle",
        "responder_week",
        "state",
        "created_at",
        "decided_at",
    )
    readonly_fields = fields

    def community_id_of(self, obj: SwapRequest) -> int:
        return obj.community_id

    asked_at = local_time_column("created_at", _("asked at"))

    @admin.display(description=_("asked by"))
    def requester_handle(self, obj: SwapRequest) -> str:
        return handle_of(obj.requester)

    @admin.display(description=_("asked"))
    def responder_handle(self, obj: SwapRequest) -> str:
        return handle_of(obj.responder)
