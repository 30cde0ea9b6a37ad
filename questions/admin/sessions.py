"""The moderators' admin for the weekly sessions at ``/manage/questions/weeksession/``: the
week's announcement."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from members import weeks
from members.scoped_admin import CommunityFilter, CommunityScopedAdmin, moderation_site
from questions import services
from questions.models import WeekSession


class AnnouncementForm(forms.Form):
    announcement = forms.CharField(
        label=_("Announcement"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
        help_text=_("Markdown. Warm up the session: what to look at this week, who might answer."),
    )


@admin.register(WeekSession, site=moderation_site)
class WeekSessionModerationAdmin(CommunityScopedAdmin):
    list_display = ("week_label", "community", "question_count", "has_announcement")
    list_filter = (CommunityFilter,)
    list_select_related = ("community",)
    ordering = ("-week", "community__name")
    actions = ("write_announcement",)
    fields = ("community", "week_label", "announcement", "question_titles")
    readonly_fields = fields

    def community_id_of(self, obj: WeekSession) -> int:
        return obj.community_id

    def get_queryset(self, request: HttpRequest) -> QuerySet[WeekSession]:
        return (
            super()
            .get_queryset(request)
            .select_related("community")
            .annotate(question_count=Count("questions"))
        )

    def view_on_site(self, obj: WeekSession) -> str:
        return reverse(
            "questions:week_of", kwargs={"slug": obj.community.slug, "label": _session_label(obj)}
        )

    @admin.display(description=_("week"), ordering="week")
    def week_label(self, obj: WeekSession) -> str:
        return _session_label(obj)

    @admin.display(description=_("questions"), ordering="question_count")
    def question_count(self, obj: WeekSession) -> int:
        return int(getattr(obj, "question_count", 0))

    @admin.display(description=_("announced"), boolean=True)
    def has_announcement(self, obj: WeekSession) -> bool:
        return bool(obj.announcement.strip())

    @admin.display(description=_("questions"))
    def question_titles(self, obj: WeekSession) -> str:
        return "; ".join(q.title for q in obj.questions.order_by("scheduled_at", "pk")) or "—"

    @admin.action(description=_("Write the announcement…"), permissions=["moderate"])
    def write_announcement(
        self, request: HttpRequest, queryset: QuerySet[WeekSession]
    ) -> TemplateResponse | None:
        sessions = self.actionable(request, queryset)
        if not sessions:
            return None
        if len(sessions) > 1:
            self.message_user(
                request, gettext("Choose one week to write its announcement."), messages.WARNING
            )
            return None
        session = sessions[0]
        applying = "apply" in request.POST
        form = AnnouncementForm(
            request.POST if applying else None, initial={"announcement": session.announcement}
        )
        if applying and form.is_valid():
            moderator = self.membership_for(request, session)
            if moderator is None:
                return None
            try:
                services.session_announce(
                    moderator=moderator,
                    community=session.community,
                    week=session.week,
                    text=form.cleaned_data["announcement"],
                )
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            else:
                self.message_user(
                    request,
                    gettext("The announcement for %(week)s is saved.")
                    % {"week": _session_label(session)},
                    messages.SUCCESS,
                )
            return None
        return self.intermediate_page(
            request,
            template="moderation/announce.html",
            title=gettext("Announcement for %(week)s") % {"week": _session_label(session)},
            action="write_announcement",
            selected=sessions,
            rows=[session],
            form=form,
            session=session,
        )


def _session_label(session: WeekSession) -> str:
    return weeks.label(session.week)
