"""Portal forms. They parse and check input; the services do the writing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from members.currency import Currency, max_minor, to_major, to_minor
from members.models import Community, Membership, Tag, Weekday
from members.services import COMMUNITY_RULE_FIELDS
from members.widgets import FastSelect, TagPicker

_FEE_HELP = _("In the community's currency, e.g. 200.00.")
_ADDABLE: list[tuple[str, Any]] = [
    (value, label) for value, label in Membership.Role.choices if value != Membership.Role.CANDIDATE
]


def set_choices(form: forms.Form, name: str, choices: list[tuple[str, Any]]) -> None:
    """Fill a choice field's options at run time (from the community's vocabulary)."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)  # noqa: S101
    field.choices = choices


class _FeesMixin(forms.Form):
    """Fees are typed in major units (200.00) and stored in minor units (20000)."""

    entrance_fee = forms.CharField(label=_("Entrance fee"), max_length=20, help_text=_FEE_HELP)
    monthly_fee = forms.CharField(label=_("Monthly fee"), max_length=20, help_text=_FEE_HELP)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        currency = data.get("currency")
        if currency:
            for name in ("entrance_fee", "monthly_fee"):
                if name in data:
                    try:
                        minor = to_minor(str(data[name]).replace(",", "").strip(), currency)
                    except ValidationError as exc:
                        self.add_error(name, exc)
                        continue
                    if minor < 0:
                        self.add_error(name, _("A fee cannot be negative."))
                    elif minor > max_minor(currency):
                        self.add_error(name, _("This fee is too large."))
                    else:
                        data[name] = minor
        return data


class CommunityCreateForm(_FeesMixin):
    name = forms.CharField(label=_("Name"), max_length=120)
    slug = forms.CharField(
        label=_("Address"),
        max_length=50,
        help_text=_("Lowercase letters, digits and hyphens; it appears in links: /c/address/"),
    )
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices, initial="CNY")
    field_order = ["name", "slug", "description", "currency", "entrance_fee", "monthly_fee"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["entrance_fee"].initial = "200.00"
        self.fields["monthly_fee"].initial = "10.00"


class CommunitySettingsForm(_FeesMixin):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)
    time_zone = forms.CharField(label=_("Time zone"), max_length=64)
    week_start = forms.TypedChoiceField(
        label=_("Week starts on"), choices=Weekday.choices, coerce=int
    )
    privacy_threshold = forms.IntegerField(
        label=_("Privacy threshold"),
        min_value=1,
        max_value=1_000_000,
        help_text=_(
            "When this many members are active, real names and companies become private "
            "(the growth phase). This cannot be undone."
        ),
    )
    votes_per_member = forms.IntegerField(
        label=_("Votes per member per week"), min_value=1, max_value=50
    )
    voting_opens_weekday = forms.TypedChoiceField(
        label=_("Voting opens on"), choices=Weekday.choices, coerce=int
    )
    voting_opens_time = forms.TimeField(label=_("Voting opens at"))
    winners_per_week = forms.IntegerField(label=_("Winners per week"), min_value=1, max_value=10)
    prize_split = forms.CharField(
        label=_("Prize split"),
        help_text=_("Weights for 1st, 2nd, 3rd… separated by commas, e.g. 50, 30, 20."),
    )
    brief_lead_days = forms.IntegerField(
        label=_("Brief lead time (days)"), min_value=0, max_value=60
    )
    grace_days = forms.IntegerField(
        label=_("Grace period for failed payments (days)"), min_value=0, max_value=90
    )
    tip_fee_percent = forms.IntegerField(
        label=_("Platform fee on tips (%)"), min_value=0, max_value=100
    )
    payout_hold_hours = forms.IntegerField(
        label=_("Payout hold after the close (hours)"),
        min_value=0,
        max_value=720,
        help_text=_("Prizes wait this long before they can be paid out, for the fair-play review."),
    )
    moderator_target_answerers = forms.IntegerField(
        label=_("Moderator target: answerers a week"),
        min_value=1,
        max_value=10_000,
        help_text=_(
            "A moderator whose week reaches this many answerers (and the quality target) "
            "is paid the whole operations budget of the week."
        ),
    )
    moderator_target_quality = forms.DecimalField(
        label=_("Moderator target: average rating"),
        min_value=Decimal("0.1"),
        max_value=Decimal("5"),
        max_digits=3,
        decimal_places=2,
        help_text=_("The average of the week's answer ratings (1–5 stars) that earns full pay."),
    )
    pay_by_alipay = forms.BooleanField(
        label=_("Accept Alipay"),
        required=False,
        help_text=_("Offered on Stripe's payment page besides cards."),
    )
    pay_by_wechat_pay = forms.BooleanField(
        label=_("Accept WeChat Pay"),
        required=False,
        help_text=_(
            "For tips and other one-off payments; WeChat Pay cannot pay a monthly subscription."
        ),
    )
    field_order = list(COMMUNITY_RULE_FIELDS)

    @classmethod
    def initial_for(cls, community: Community) -> dict[str, Any]:
        initial = {name: getattr(community, name) for name in cls.base_fields}
        initial["entrance_fee"] = to_major(community.entrance_fee, community.currency)
        initial["monthly_fee"] = to_major(community.monthly_fee, community.currency)
        initial["prize_split"] = ", ".join(str(w) for w in community.prize_split)
        return initial

    def clean_prize_split(self) -> list[int]:
        raw = self.cleaned_data["prize_split"]
        try:
            return [int(part) for part in raw.replace("，", ",").split(",") if part.strip()]
        except ValueError:
            raise ValidationError(_("Use whole numbers separated by commas.")) from None


class _TagNamesMixin:
    """A tag field's values are canonical names; a link or a client may also give a tag's name
    in either language (``?skill=交互设计``), which is taken as that tag."""

    aliases: dict[str, str]

    def valid_value(self, value: Any) -> bool:
        return super().valid_value(value) or str(value).casefold() in self.aliases  # type: ignore[misc]


class TagChoiceField(_TagNamesMixin, forms.MultipleChoiceField):
    """Tags by canonical name, shown by their name in the active language, in a searchable
    picker (a checkbox list without JavaScript)."""

    widget = TagPicker
    aliases: dict[str, str] = {}  # replaced per form, never mutated


class TagSelectField(_TagNamesMixin, forms.ChoiceField):
    """One tag (a filter), by canonical name, shown by its name in the active language."""

    widget = FastSelect
    aliases: dict[str, str] = {}  # replaced per form, never mutated


def _aliases(tags: list[Tag]) -> dict[str, str]:
    return {n.casefold(): t.name for t in tags for n in t.names}


def set_tag_choices(form: forms.Form, name: str, tags: list[Tag]) -> None:
    """Offer these tags in a ``TagChoiceField``: the value is the canonical name, the label the
    name in the active language, and the picker searches every name."""
    set_choices(form, name, [(t.name, t.label()) for t in tags])
    field = form.fields[name]
    assert isinstance(field, TagChoiceField)  # noqa: S101
    field.aliases = _aliases(tags)
    if isinstance(field.widget, TagPicker):
        field.widget.search_names = {t.name: " ".join(t.names) for t in tags}


def set_tag_options(form: forms.Form, name: str, tags: list[Tag], first: list[Any]) -> None:
    """Offer these tags in a ``TagSelectField`` after the ``first`` options: canonical name →
    name in the active language (with the canonical name, when it differs)."""
    set_choices(
        form,
        name,
        first
        + [(t.name, t.label() if t.label() == t.name else f"{t.label()} · {t.name}") for t in tags],
    )
    field = form.fields[name]
    assert isinstance(field, TagSelectField)  # noqa: S101
    field.aliases = _aliases(tags)


class ProfileForm(forms.Form):
    handle = forms.CharField(label=_("Handle"), max_length=40)
    real_name = forms.CharField(label=_("Real name"), max_length=100, required=False)
    company = forms.CharField(label=_("Company"), max_length=120, required=False)
    role_title = forms.CharField(label=_("Role / title"), max_length=100, required=False)
    industry = forms.CharField(label=_("Industry"), max_length=80, required=False)
    city = forms.CharField(label=_("City"), max_length=80, required=False)
    career_path = forms.CharField(
        label=_("Career path"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    skills = TagChoiceField(label=_("Skills"), required=False)
    needs = TagChoiceField(label=_("Needs"), required=False)
    hobbies = TagChoiceField(label=_("Hobbies"), required=False)

    def __init__(self, *args: Any, vocabulary: dict[str, list[Tag]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field_name, kind in (("skills", "skill"), ("needs", "need"), ("hobbies", "hobby")):
            set_tag_choices(self, field_name, vocabulary[kind])


class TagCreateForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Tag.Kind.choices)
    name = forms.CharField(label=_("New word"), max_length=40)


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=200, required=False)
    skill = TagSelectField(label=_("Skill"), required=False)
    need = TagSelectField(label=_("Need"), required=False)
    hobby = TagSelectField(label=_("Hobby"), required=False)
    industry = forms.CharField(label=_("Industry"), max_length=80, required=False)
    city = forms.CharField(label=_("City"), max_length=80, required=False)
    role = forms.ChoiceField(label=_("Role"), required=False, widget=FastSelect)

    def __init__(self, *args: Any, vocabulary: dict[str, list[Tag]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        anything = [("", _("Any"))]
        for field_name, kind in (("skill", "skill"), ("need", "need"), ("hobby", "hobby")):
            set_tag_options(self, field_name, vocabulary[kind], anything)
        set_choices(self, "role", anything + _ADDABLE)


class MatcherForm(forms.Form):
    tags = TagChoiceField(label=_("Skills the question needs"))

    def __init__(self, *args: Any, vocabulary: dict[str, list[Tag]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_tag_choices(self, "tags", vocabulary["skill"])


class TagRenameForm(forms.Form):
    """An organiser names one tag in each language."""

    tag = forms.IntegerField(widget=forms.HiddenInput)
    name = forms.CharField(
        label=_("Name"),
        max_length=40,
        help_text=_("The canonical name: the API and imports use it."),
    )
    name_en = forms.CharField(label=_("Name in English"), max_length=40, required=False)
    name_zh = forms.CharField(label=_("Name in Chinese"), max_length=40, required=False)


class TagMergeForm(forms.Form):
    """Merge one tag into another of the same kind."""

    source = forms.TypedChoiceField(label=_("Merge this tag"), coerce=int)
    target = forms.TypedChoiceField(label=_("into this tag"), coerce=int)

    def __init__(self, *args: Any, vocabulary: dict[str, list[Tag]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kinds = dict(Tag.Kind.choices)
        groups: list[tuple[str, Any]] = [("", "—")]
        for kind, tags in vocabulary.items():
            if tags:
                groups.append((str(kinds[kind]), [(t.pk, _tag_choice_label(t)) for t in tags]))
        set_choices(self, "source", groups)
        set_choices(self, "target", groups)


def _tag_choice_label(tag: Tag) -> str:
    uses = getattr(tag, "uses", None)
    label = " / ".join(tag.names)
    if uses is None:
        return label
    return ngettext("%(tag)s (%(n)d member)", "%(tag)s (%(n)d members)", uses) % {
        "tag": label,
        "n": uses,
    }


class MemberAddForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        required=False,
        help_text=_("Optional; made from the e-mail address when left empty."),
    )
    role = forms.ChoiceField(label=_("Role"), choices=_ADDABLE, initial=Membership.Role.MEMBER)


class MemberImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "First row: column names. “email” is required; optional: username, role, handle, "
            "real_name, company, role_title, industry, career_path, city, skills, needs, hobbies "
            "(tags separated by semicolons)."
        ),
    )
    create_tags = forms.BooleanField(label=_("Add unknown tags to the vocabulary"), required=False)


class MembershipChangeForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=_ADDABLE)
    status = forms.ChoiceField(label=_("Status"), choices=Membership.Status.choices)
