"""The digest's portal forms; the services validate again and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from questions.digests.models import DigestItem
from questions.digests.services import EXCERPT_MAX, SUMMARY_MAX, ItemChange


class CurateForm(forms.Form):
    """The summary, and for each answer of the week: its position, excerpt, hidden and
    featured (fields ``position_<id>``, ``excerpt_<id>``, ``hidden_<id>``,
    ``featured_<id>``)."""

    summary = forms.CharField(
        label=_("Summary (Markdown)"),
        required=False,
        max_length=SUMMARY_MAX,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_(
            "What the week's discussion came to, in a few paragraphs. Required to publish."
        ),
    )

    def __init__(self, *args: Any, items: list[DigestItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[f"position_{item.pk}"] = forms.IntegerField(
                label=_("Position"), min_value=0, max_value=100_000, initial=item.position
            )
            self.fields[f"excerpt_{item.pk}"] = forms.CharField(
                label=_("Excerpt"),
                required=False,
                max_length=EXCERPT_MAX,
                initial=item.excerpt,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
            self.fields[f"hidden_{item.pk}"] = forms.BooleanField(
                label=_("Hide"), required=False, initial=item.hidden
            )
            self.fields[f"featured_{item.pk}"] = forms.BooleanField(
                label=_("Featured (精华)"), required=False, initial=item.answer.featured
            )

    def fields_of(self, item: DigestItem) -> dict[str, forms.BoundField]:
        return {
            name: self[f"{name}_{item.pk}"]
            for name in ("position", "excerpt", "hidden", "featured")
        }

    def changes(self) -> list[ItemChange]:
        data = self.cleaned_data
        return [
            ItemChange(
                item_id=item.pk,
                position=data[f"position_{item.pk}"],
                excerpt=data[f"excerpt_{item.pk}"].replace("\r\n", "\n").strip(),
                hidden=data[f"hidden_{item.pk}"],
                featured=data[f"featured_{item.pk}"],
            )
            for item in self.items
        ]


class DigestSettingsForm(forms.Form):
    emails = forms.BooleanField(label=_("E-mail me each week's digest"), required=False)
