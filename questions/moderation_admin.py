"""The moderators' admin for questions: briefs to schedule, comments to moderate, weekly
sessions. ``community.moderation_admin`` mounts these on its site at ``/manage/``.

Everything here is scoped to the communities the signed-in person moderates or organises
(an *active* moderator or organiser membership): querysets, object pages, filter choices and
actions. Rows are read-only; every write is an admin action that calls a service
(``questions.services``). People are named by handle only (``members.privacy.display_name``)
in every phase: real names and companies never appear on these pages.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Count, Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from members import privacy, weeks
from members.access import MODERATOR_ROLES
from members.models import Community, Membership
from questions import services
from questions.forms import week_choices
from questions.models import Comment, Question, WeekSession

_CACHE_ATTR = "_moderator_memberships"
State = Question.State


# --- Who moderates what ----------------------------------------------------------------------


def moderator_memberships(request: HttpRequest) -> dict[int, Membership]:
    """The caller's active moderator and organiser memberships, by community id; empty for
    visitors, inactive users and plain members. One query per request (cached on it)."""
    cached: dict[int, Membership] | None = getattr(request, _CACHE_ATTR, None)
    if cached is None:
        cached = {}
        user = request.user
        if user.is_authenticated and user.is_active:
            cached = {
                m.community_id: m
                for m in Membership.objects.select_related("community").filter(
                    user_id=user.pk, status=Membership.Status.ACTIVE, role__in=MODERATOR_ROLES
                )
            }
        setattr(request, _CACHE_ATTR, cached)
    return cached


def moderated_community_ids(request: HttpRequest) -> set[int]:
    return set(moderator_memberships(request))


def handle_of(membership: Membership | None) -> str:
    """A member as these pages name them: the handle, never the real name or company."""
    if membership is None:
        return "—"
    try:
        profile = membership.profile
    except ObjectDoesNotExist:
        return gettext("(no profile)")
    return privacy.display_name(profile)


# --- Filters -----------------------------------------------------------------------------------


class CommunityFilter(admin.SimpleListFilter):
    """The caller's communities only (never a list of every community in the deployment)."""

    title = _("community")
    parameter_name = "community"
    field_path = "community_id"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        mine = sorted(moderator_memberships(request).values(), key=lambda m: m.community.name)
        return [(str(m.community_id), m.community.name) for m in mine]

    def has_output(self) -> bool:
        return len(self.lookup_choices) > 1

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit() or int(value) not in moderated_community_ids(request):
            return queryset.none()
        return queryset.filter(**{self.field_path: int(value)})


class CommentCommunityFilter(CommunityFilter):
    field_path = "answer__question__community_id"


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


class RemovedFilter(admin.SimpleListFilter):
    title = _("removed")
    parameter_name = "removed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", gettext("Not removed")), ("yes", gettext("Removed"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "no":
            return queryset.filter(removed_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(removed_at__isnull=False)
        return queryset


# --- Forms for the actions' intermediate pages -------------------------------------------------


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


class RemoveCommentsForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for removal"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Kept with the comment and shown in its place."),
    )


class AnnouncementForm(forms.Form):
    announcement = forms.CharField(
        label=_("Announcement"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
        help_text=_("Markdown. Warm up the session: what to look at this week, who might answer."),
    )


# --- The shared base ---------------------------------------------------------------------------


class CommunityScopedAdmin(admin.ModelAdmin):
    """Read-only rows of the caller's communities; writes only through the actions, which need
    ``has_moderate_permission`` (an active moderator or organiser of the row's community)."""

    community_path = "community_id"
    change_form_template = "moderation/change_form.html"
    actions_on_bottom = True

    def community_id_of(self, obj: Any) -> int:
        raise NotImplementedError

    def membership_for(self, request: HttpRequest, obj: Any) -> Membership | None:
        return moderator_memberships(request).get(self.community_id_of(obj))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return (
            super()
            .get_queryset(request)
            .filter(**{f"{self.community_path}__in": moderated_community_ids(request)})
        )

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Any:
        # Another community's row (or no row) is simply not there: 404, not the admin's
        # "perhaps it was deleted" redirect.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(gettext("Not found."))
        return obj

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(moderator_memberships(request))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return bool(moderator_memberships(request))
        return self.membership_for(request, obj) is not None

    def has_moderate_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Acting on rows (the actions): the same people as viewing; named apart so that the
        admin's own change form stays read-only."""
        return self.has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # no raw field editing: the actions call the services

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The admin log names accounts (user names): not shown here.
        raise Http404(gettext("Not found."))

    def response_action(
        self, request: HttpRequest, queryset: QuerySet[Any], *args: Any, **kwargs: Any
    ) -> HttpResponse | None:
        # Row ids are integers; anything else is refused here rather than by the database.
        if not all(pk.isdigit() for pk in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)):
            self.message_user(request, gettext("No such rows."), messages.ERROR)
            return None
        return super().response_action(request, queryset, *args, **kwargs)

    def actionable(self, request: HttpRequest, queryset: QuerySet[Any]) -> list[Any]:
        """The selected rows the caller may act on (the queryset is scoped already; this is
        the object-level check)."""
        rows = [obj for obj in queryset if self.has_moderate_permission(request, obj)]
        if not rows:
            self.message_user(
                request,
                gettext("None of the selected rows belongs to a community you moderate."),
                messages.WARNING,
            )
        return rows

    def intermediate_page(
        self,
        request: HttpRequest,
        *,
        template: str,
        title: str,
        action: str,
        selected: list[Any],
        rows: list[Any],
        form: forms.Form,
        **context: Any,
    ) -> TemplateResponse:
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "title": title,
                "subtitle": None,
                "opts": self.opts,
                "action": action,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "selected": [obj.pk for obj in selected],
                "rows": rows,
                "form": form,
                "media": self.media + form.media,
                **context,
            },
        )


def _week_label(start: datetime.date | None) -> str:
    return weeks.label(start) if start is not None else "—"


# --- Briefs ------------------------------------------------------------------------------------


class QuestionModerationAdmin(CommunityScopedAdmin):
    list_display = (
        "title",
        "community",
        "state",
        "asker_handle",
        "submitted_at",
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


# --- Comments ----------------------------------------------------------------------------------


class CommentModerationAdmin(CommunityScopedAdmin):
    community_path = "answer__question__community_id"
    list_display = (
        "excerpt",
        "question_title",
        "community_name",
        "author_handle",
        "created_at",
        "removed",
        "removal_reason",
    )
    list_filter = (RemovedFilter, CommentCommunityFilter)
    list_select_related = ("answer__question__community", "author__profile")
    search_fields = ("body",)
    ordering = ("-created_at", "-pk")
    actions = ("remove_with_reason",)
    fields = (
        "question_title",
        "community_name",
        "answer_author_handle",
        "author_handle",
        "created_at",
        "edited_at",
        "body",
        "removed",
        "removed_at",
        "removed_by_handle",
        "removal_reason",
    )
    readonly_fields = fields

    def community_id_of(self, obj: Comment) -> int:
        return obj.answer.question.community_id

    def get_queryset(self, request: HttpRequest) -> QuerySet[Comment]:
        return (
            super()
            .get_queryset(request)
            .select_related(
                "answer__question__community",
                "answer__author__profile",
                "author__profile",
                "removed_by__profile",
            )
        )

    def view_on_site(self, obj: Comment) -> str:
        return f"{obj.answer.question.get_absolute_url()}#answer-{obj.answer_id}"

    @admin.display(description=_("comment"))
    def excerpt(self, obj: Comment) -> str:
        return Truncator(" ".join(obj.body.split())).chars(80)

    @admin.display(description=_("question"), ordering="answer__question__title")
    def question_title(self, obj: Comment) -> str:
        return obj.answer.question.title

    @admin.display(description=_("community"))
    def community_name(self, obj: Comment) -> str:
        return obj.answer.question.community.name

    @admin.display(description=_("author"), ordering="author__profile__handle")
    def author_handle(self, obj: Comment) -> str:
        return handle_of(obj.author)

    @admin.display(description=_("answer by"))
    def answer_author_handle(self, obj: Comment) -> str:
        return handle_of(obj.answer.author)

    @admin.display(description=_("removed by"))
    def removed_by_handle(self, obj: Comment) -> str:
        return handle_of(obj.removed_by) if obj.removed_by_id else "—"

    @admin.display(description=_("removed"), boolean=True, ordering="removed_at")
    def removed(self, obj: Comment) -> bool:
        return obj.is_removed

    @admin.action(description=_("Remove with a reason…"), permissions=["moderate"])
    def remove_with_reason(
        self, request: HttpRequest, queryset: QuerySet[Comment]
    ) -> TemplateResponse | None:
        comments = self.actionable(request, queryset)
        if not comments:
            return None
        applying = "apply" in request.POST
        form = RemoveCommentsForm(request.POST if applying else None)
        if applying and form.is_valid():
            self._remove(request, comments, form.cleaned_data["reason"])
            return None
        rows = [
            {"comment": c, "author": handle_of(c.author), "excerpt": self.excerpt(c)}
            for c in comments
        ]
        return self.intermediate_page(
            request,
            template="moderation/remove_comments.html",
            title=gettext("Remove comments"),
            action="remove_with_reason",
            selected=comments,
            rows=rows,
            form=form,
        )

    def _remove(self, request: HttpRequest, comments: list[Comment], reason: str) -> None:
        removed = 0
        for comment in comments:
            moderator = self.membership_for(request, comment)
            if moderator is None:
                continue
            if comment.is_removed:
                self.message_user(
                    request,
                    gettext("Comment %(id)d was already removed (%(reason)s).")
                    % {"id": comment.pk, "reason": comment.removal_reason},
                    messages.WARNING,
                )
                continue
            try:
                services.comment_remove(moderator=moderator, comment=comment, reason=reason)
            except ValidationError as exc:
                self.message_user(
                    request,
                    gettext("Comment %(id)d was not removed: %(reason)s")
                    % {"id": comment.pk, "reason": " ".join(exc.messages)},
                    messages.ERROR,
                )
            else:
                removed += 1
        if removed:
            self.message_user(
                request,
                ngettext(
                    "%(count)d comment removed; the reason is shown in its place.",
                    "%(count)d comments removed; the reason is shown in their place.",
                    removed,
                )
                % {"count": removed},
                messages.SUCCESS,
            )


# --- Weekly sessions -----------------------------------------------------------------------------


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


REGISTRY: tuple[tuple[type[Model], type[CommunityScopedAdmin]], ...] = (
    (Question, QuestionModerationAdmin),
    (Comment, CommentModerationAdmin),
    (WeekSession, WeekSessionModerationAdmin),
)


def register(site: admin.AdminSite) -> None:
    """Register the moderators' model admins on ``site`` (the moderation site)."""
    for model, model_admin in REGISTRY:
        site.register(model, model_admin)
