"""The organisers' form for making an invite link (members.services.invites)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from members.services import invites


class InviteLinkForm(forms.Form):
    days = forms.IntegerField(
        label=_("Valid for (days)"),
        min_value=1,
        max_value=invites.MAX_DAYS,
        initial=invites.DEFAULT_DAYS,
    )
    max_uses = forms.IntegerField(
        label=_("Number of people who may use it"),
        min_value=1,
        max_value=invites.MAX_USES,
        initial=invites.DEFAULT_USES,
    )
