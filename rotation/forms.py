"""Portal forms of the rotation; the services check and write."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class SwapForm(forms.Form):
    requester_week = forms.ChoiceField(label=_("My shift"))
    target = forms.ChoiceField(label=_("Swap with"), help_text=_("Another moderator's shift."))

    def __init__(
        self,
        *args: object,
        mine: list[tuple[str, str]],
        others: list[tuple[str, str]],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["requester_week"].choices = mine  # type: ignore[attr-defined]
        self.fields["target"].choices = others  # type: ignore[attr-defined]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class PayForm(forms.Form):
    pay = forms.IntegerField(label=_("Pay (minor units)"), min_value=0)
    reason = forms.CharField(label=_("Reason"), max_length=500)
