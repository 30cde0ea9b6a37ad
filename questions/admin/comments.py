"""The moderators' admin for comments at ``/manage/questions/comment/``: removing a comment
with a reason kept in its place."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from members.scoped_admin import (
    CommunityFilter,
    CommunityScopedAdmin,
    handle_of,
    local_time_column,
    moderation_site,
)
from questions import services
from questions.models import Comment


class CommentCommunityFilter(CommunityFilter):
    field_path = "answer__question__community_id"


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


class RemoveCommentsForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for removal"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Kept with the comment and shown in its place."),
    )


@admin.register(Comment, site=moderation_site)
class CommentModerationAdmin(CommunityScopedAdmin):
    community_path = "answer__question__community_id"
    list_display = (
        "excerpt",
        "question_title",
        "community_name",
        "author_handle",
        "written",
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

    written = local_time_column("created_at", _("written at"))

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
