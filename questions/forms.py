"""Portal forms for questions, answers and discussion. Services do the writing."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from members import weeks
from members.forms import TagChoiceField, set_choices, set_tag_choices
from members.models import Community, Membership, Tag
from members.widgets import FastSelect
from questions.models import Notification, NotificationPreference, Question

WEEKS_AHEAD = 8


def week_choices(community: Community, *, blank: str | None = None) -> list[tuple[str, str]]:
    """This week and the next few, as ``(iso label, "2026-W48 (23 Nov – 29 Nov)")``."""
    start = weeks.start_of(community)
    choices = [("", blank)] if blank is not None else []
    for i in range(WEEKS_AHEAD + 1):
        day = start + datetime.timedelta(days=7 * i)
        end = day + datetime.timedelta(days=6)
        choices.append((weeks.label(day), f"{weeks.label(day)} ({day:%m-%d} – {end:%m-%d})"))
    return choices


class WeekField(forms.ChoiceField):
    """A week written 2026-W48, cleaned to the date it starts on in the community."""

    def __init__(self, *args: Any, community: Community, **kwargs: Any) -> None:
        self.community = community
        super().__init__(*args, **kwargs)

    def clean(self, value: Any) -> datetime.date | None:
        label = super().clean(value)
        if not label:
            return None
        return weeks.parse(self.community, label)


class BriefForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    background = forms.CharField(
        label=_("Background"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("The situation: what you do, what you tried, what constrains you."),
    )
    wanted = forms.CharField(
        label=_("What you want from the answers"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # a searchable picker over the community's skills, in either language (members.forms)
    needs = TagChoiceField(label=_("Skills it needs"), required=False)
    attachment = forms.FileField(
        label=_("Attachment"),
        required=False,
        help_text=_("Optional: .docx, .pdf, .md or .txt, at most 10 MB."),
    )

    def __init__(self, *args: Any, community: Community, vocabulary: list[Tag], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.community = community
        set_tag_choices(self, "needs", vocabulary)
        first = weeks.first_week_for_brief(community)
        self.fields["preferred_week"] = WeekField(
            label=_("Preferred week"),
            community=community,
            choices=week_choices(community, blank=str(_("Any week"))),
            required=False,
            help_text=_(
                "Briefs must be in %(days)d days before their week starts, so people have time "
                "to think. The earliest week now is %(week)s."
            )
            % {"days": community.brief_lead_days, "week": weeks.label(first)},
        )


class AnswerForm(forms.Form):
    body = forms.CharField(
        label=_("Your answer"),
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 16, "data-preview": "answer-preview"}),
        help_text=_(
            "Markdown: **bold**, *italic*, ## headings, lists, > quotes, `code`, tables, "
            "[links](https://…) and images uploaded here."
        ),
    )
    attachment = forms.FileField(
        label=_("Attachment"),
        required=False,
        help_text=_(
            "Optional: .docx, .pdf, .md or .txt, or an image (PNG, JPEG, GIF, WebP), at most 10 MB."
        ),
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)


class RatingForm(forms.Form):
    stars = forms.TypedChoiceField(
        label=_("Your rating"),
        choices=[(i, "★" * i) for i in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
    )


class ScheduleForm(forms.Form):
    def __init__(self, *args: Any, community: Community, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["week"] = WeekField(
            label=_("Week"), community=community, choices=week_choices(community)
        )


class RemoveCommentForm(forms.Form):
    reason = forms.CharField(label=_("Reason for removal"), max_length=500)


class CommentEditForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class AnnouncementForm(forms.Form):
    announcement = forms.CharField(
        label=_("Announcement"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Warm up the session: what to look at this week, who might answer what."),
    )


class QuestionFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=200, required=False)
    week = forms.CharField(label=_("Week"), max_length=10, required=False)
    tag = forms.ChoiceField(label=_("Skill"), required=False, widget=FastSelect)
    state = forms.ChoiceField(label=_("State"), required=False, widget=FastSelect)

    def __init__(self, *args: Any, vocabulary: list[Tag], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        anything = [("", _("Any"))]
        set_choices(self, "tag", anything + [(t.name, t.name) for t in vocabulary])
        set_choices(self, "state", anything + list(Question.State.choices))
        self.fields["week"].widget.attrs["placeholder"] = "2026-W48"


class NotificationPreferencesForm(forms.Form):
    """How one is told of each kind of notification (fields ``kind_<kind>``: a channel), and
    for each community whose digest one may read, its digest e-mails (``digest_<community
    id>``). A posted setting the form does not know is an error: nothing is saved."""

    KIND_PREFIX = "kind_"
    DIGEST_PREFIX = "digest_"

    def __init__(
        self,
        *args: Any,
        current: Mapping[str, str],
        digests: Sequence[tuple[Membership, bool]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.digests = [membership for membership, _on in digests]
        for kind, label in Notification.Kind.choices:
            self.fields[f"{self.KIND_PREFIX}{kind}"] = forms.ChoiceField(
                label=label,
                choices=NotificationPreference.Channel.choices,
                initial=current.get(kind, NotificationPreference.Channel.PORTAL_AND_EMAIL),
                widget=forms.RadioSelect,
            )
        for membership, on in digests:
            self.fields[f"{self.DIGEST_PREFIX}{membership.community_id}"] = forms.BooleanField(
                label=membership.community.name, required=False, initial=on
            )

    def kind_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(self.KIND_PREFIX)]

    def digest_fields(self) -> list[tuple[Membership, forms.BoundField]]:
        return [(m, self[f"{self.DIGEST_PREFIX}{m.community_id}"]) for m in self.digests]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        unknown = sorted(
            key
            for key in self.data
            if key.startswith((self.KIND_PREFIX, self.DIGEST_PREFIX)) and key not in self.fields
        )
        if unknown:
            raise forms.ValidationError(
                _("These settings do not exist: %(names)s. Nothing was saved."),
                code="unknown",
                params={"names": ", ".join(unknown)},
            )
        return cleaned

    def channels(self) -> dict[str, str]:
        return {
            name.removeprefix(self.KIND_PREFIX): self.cleaned_data[name]
            for name in self.fields
            if name.startswith(self.KIND_PREFIX)
        }

    def digest_emails(self) -> list[tuple[Membership, bool]]:
        return [
            (m, self.cleaned_data[f"{self.DIGEST_PREFIX}{m.community_id}"]) for m in self.digests
        ]
