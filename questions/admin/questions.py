"""The moderators' admin for questions' briefs at ``/manage/questions/question/``: the briefs to
schedule into a week, and challenge questions to mark. Drafts are never shown."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from members import weeks
from members.models import Community
from members.scoped_admin import (
    CommunityFilter,
    CommunityScopedAdmin,
    handle_of,
    local_time_column,
    moderated_community_ids,
    moderation_site,
)
from questions import services
from questions.forms import week_choices
from questions.models import Question, WeekSession

State = Question.State


class StateFilter(admin.SimpleListFilter):
    """Briefs waiting to be scheduled by default; the other states (never drafts) on request."""

    title = _("state")
    parameter_name = "state"
    default = State.SUBMITTED.value
    everything = "all"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        shown = [s for s in State if s != State.DRAFT]
        return [*((s.value, str(s.label)) for s in shown), (self.everything, gettext("All"))]

    def value(self) -> str:
        return super().value() or self.default

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == self.everything:
            return queryset
        if value not in State.values:
            return queryset.none()
        return queryset.filter(state=value)

    def choices(self, changelist: Any) -> Iterator[Any]:
        # No "All" that drops the parameter: without it the default (submitted) applies.
        counts = self.get_facet_queryset(changelist) if changelist.add_facets else None
        for i, (lookup, title) in enumerate(self.lookup_choices):
            if counts is not None:
                count = counts.get(f"{i}__c", -1)
                title = f"{title} ({count if count != -1 else '-'})"
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class WeekFilter(admin.SimpleListFilter):
    """The week a question is scheduled into (the caller's communities' recent sessions)."""

    title = _("week")
    parameter_name = "week"
    unscheduled = "none"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        starts = (
            WeekSession.objects.filter(community_id__in=moderated_community_ids(request))
            .order_by("-week")
            .values_list("week", flat=True)
            .distinct()[:26]
        )
        return [
            (self.unscheduled, gettext("Not scheduled")),
            *((start.isoformat(), weeks.label(start)) for start in starts),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        if value == self.unscheduled:
            return queryset.filter(session__isnull=True)
        try:
            start = datetime.date.fromisoformat(value)
        except ValueError:
            return queryset.none()
        return queryset.filter(session__week=start)


class ScheduleWeekForm(forms.Form):
    week = forms.ChoiceField(label=_("Week"))

    def __init__(self, *args: Any, communities: Iterable[Community], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: dict[str, str] = {}
        for community in communities:
            for label, display in week_choices(community):
                # Communities whose weeks start on different days: name the week only.
                choices[label] = display if choices.get(label, display) == display else label
        field = self.fields["week"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        field.choices = sorted(choices.items())


def _week_label(start: datetime.date | None) -> str:
    return weeks.label(start) if start is not None else "—"


@admin.register(Question, site=moderation_site)
class QuestionModerationAdmin(CommunityScopedAdmin):
    list_display = (
        "title",
        "community",
        "state",
        "asker_handle",
        "submitted",
        "preferred_week_label",
        "earliest_week_label",
        "session_week_label",
        "is_challenge",
    )
    list_filter = (StateFilter, CommunityFilter, WeekFilter, "is_challenge")
    list_select_related = ("community", "asker__profile", "session")
    search_fields = ("title",)
    ordering = ("-submitted_at", "-pk")
    actions = ("schedule_into_week", "mark_challenge", "unmark_challenge")
    fields = (
        "title",
        "community",
        "state",
        "asker_handle",
        "submitted_at",
        "preferred_week_label",
        "earliest_week_label",
        "session_week_label",
        "scheduled_at",
        "scheduled_by_handle",
        "is_challenge",
        "needs_list",
        "background",
        "wanted",
        "attachment_link",
    )
    readonly_fields = fields

    def community_id_of(self, obj: Question) -> int:
        return obj.community_id

    def get_queryset(self, request: HttpRequest) -> QuerySet[Question]:
        # Drafts belong to their askers alone (questions.access).
        return (
            super()
            .get_queryset(request)
            .exclude(state=State.DRAFT)
            .select_related("community", "asker__profile", "session", "scheduled_by__profile")
        )

    def view_on_site(self, obj: Question) -> str:
        return obj.get_absolute_url()

    submitted = local_time_column("submitted_at", _("submitted at"))

    @admin.display(description=_("asked by"), ordering="asker__profile__handle")
    def asker_handle(self, obj: Question) -> str:
        return handle_of(obj.asker)

    @admin.display(description=_("scheduled by"))
    def scheduled_by_handle(self, obj: Question) -> str:
        return handle_of(obj.scheduled_by)

    @admin.display(description=_("preferred week"), ordering="preferred_week")
    def preferred_week_label(self, obj: Question) -> str:
        return _week_label(obj.preferred_week)

    @admin.display(description=_("earliest possible week"))
    def earliest_week_label(self, obj: Question) -> str:
        if obj.submitted_at is None:
            return "—"
        return weeks.label(weeks.first_week_for_brief(obj.community, obj.submitted_at))

    @admin.display(description=_("scheduled into"), ordering="session__week")
    def session_week_label(self, obj: Question) -> str:
        return _week_label(obj.session.week if obj.session is not None else None)

    @admin.display(description=_("skills needed"))
    def needs_list(self, obj: Question) -> str:
        return ", ".join(tag.name for tag in obj.needs.all()) or "—"

    @admin.display(description=_("attachment"))
    def attachment_link(self, obj: Question) -> str:
        if obj.attachment is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', obj.attachment.get_absolute_url(), obj.attachment.name
        )

    @admin.action(description=_("Schedule into a week…"), permissions=["moderate"])
    def schedule_into_week(
        self, request: HttpRequest, queryset: QuerySet[Question]
    ) -> TemplateResponse | None:
        questions = self.actionable(request, queryset)
        if not questions:
            return None
        communities = {q.community_id: q.community for q in questions}.values()
        applying = "apply" in request.POST
        # Offer the first week every selected brief is in time for.
        fits_all = max(weeks.first_week_for_brief(q.community, q.submitted_at) for q in questions)
        form = ScheduleWeekForm(
            request.POST if applying else None,
            communities=communities,
            initial={"week": weeks.label(fits_all)},
        )
        if applying and form.is_valid():
            label = form.cleaned_data["week"]
            for question in questions:
                self._schedule_one(request, question, label)
            return None
        rows = [
            {
                "question": q,
                "asker": handle_of(q.asker),
                "preferred": _week_label(q.preferred_week),
                "earliest": self.earliest_week_label(q),
            }
            for q in questions
        ]
        return self.intermediate_page(
            request,
            template="moderation/schedule_briefs.html",
            title=gettext("Schedule briefs into a week"),
            action="schedule_into_week",
            selected=questions,
            rows=rows,
            form=form,
        )

    def _schedule_one(self, request: HttpRequest, question: Question, label: str) -> None:
        moderator = self.membership_for(request, question)
        if moderator is None:  # the row is scoped to the caller's communities already
            return
        try:
            week = weeks.parse(question.community, label)
            services.question_schedule(moderator=moderator, question=question, week=week)
        except ValidationError as exc:
            self.message_user(
                request,
                gettext("“%(title)s” was not scheduled: %(reason)s")
                % {"title": question.title, "reason": " ".join(exc.messages)},
                messages.ERROR,
            )
        else:
            self.message_user(
                request,
                gettext("“%(title)s” is scheduled into %(week)s; its asker is notified.")
                % {"title": question.title, "week": weeks.label(week)},
                messages.SUCCESS,
            )

    def _set_challenge(
        self, request: HttpRequest, queryset: QuerySet[Question], *, is_challenge: bool
    ) -> None:
        done = 0
        for question in self.actionable(request, queryset):
            moderator = self.membership_for(request, question)
            if moderator is None:
                continue
            services.question_set_challenge(
                moderator=moderator, question=question, is_challenge=is_challenge
            )
            done += 1
        if not done:
            return
        if is_challenge:
            text = ngettext(
                "%(count)d question is now a challenge question.",
                "%(count)d questions are now challenge questions.",
                done,
            )
        else:
            text = ngettext(
                "%(count)d question is no longer a challenge question.",
                "%(count)d questions are no longer challenge questions.",
                done,
            )
        self.message_user(request, text % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Mark as challenge questions"), permissions=["moderate"])
    def mark_challenge(self, request: HttpRequest, queryset: QuerySet[Question]) -> None:
        self._set_challenge(request, queryset, is_challenge=True)

    @admin.action(description=_("Unmark as challenge questions"), permissions=["moderate"])
    def unmark_challenge(self, request: HttpRequest, queryset: QuerySet[Question]) -> None:
        self._set_challenge(request, queryset, is_challenge=False)
