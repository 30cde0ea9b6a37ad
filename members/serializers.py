"""API input and output shapes for the members app. Output of profiles goes through
``members.privacy``; input is parsed here and written by ``members.services``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema_field, inline_serializer
from rest_framework import serializers

from members import services
from members.currency import Currency
from members.models import Community, Membership, Tag


class MinorUnitsField(serializers.IntegerField):
    """An amount in integer minor units (fen). Unlike DRF's IntegerField it refuses strings
    and floats such as ``"200.00"`` or ``200.0``: an amount must be sent as a JSON integer."""

    default_error_messages = {
        "not_integer": _("Send the amount as an integer number of minor units (fen), e.g. 20000."),
    }

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("not_integer")
        return int(data)


class StrictPayloadMixin:
    """Refuse fields the endpoint does not know, naming them, instead of ignoring them; the
    same for read-only fields (``created_at``), which a caller may not set either."""

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            fields = self.fields  # type: ignore[attr-defined]
            unknown = sorted(set(data.keys()) - set(fields))
            read_only = sorted(k for k in data if k in fields and fields[k].read_only)
            errors = {name: [_("Unknown field.")] for name in unknown}
            errors.update({name: [_("This field cannot be set here.")] for name in read_only})
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)  # type: ignore[misc]


@extend_schema_field(
    {
        "type": "string",
        # Not OpenAPI's ``format: time``: that is RFC 3339's full-time, which needs an offset,
        # and this is a wall-clock time in the community's own time zone.
        "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
        "example": "20:00:00",
        "description": "A time of day in the community's time zone, HH:MM[:SS].",
    }
)
class LocalTimeField(serializers.TimeField):
    """A time of day without an offset (the community's time zone)."""


class CommunitySerializer(serializers.Serializer[Community]):
    """A community and its rules. Amounts are integer minor units."""

    slug = serializers.CharField(max_length=50)
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    currency = serializers.ChoiceField(choices=Currency.choices, required=False)
    entrance_fee = MinorUnitsField(required=False)
    monthly_fee = MinorUnitsField(required=False)
    time_zone = serializers.CharField(max_length=64, required=False)
    week_start = serializers.IntegerField(min_value=0, max_value=6, required=False)
    privacy_threshold = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False)
    phase = serializers.ChoiceField(choices=Community.Phase.choices, required=False)
    phase_changed_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text=_("When the phase last changed; null if never.")
    )
    votes_per_member = serializers.IntegerField(min_value=1, max_value=50, required=False)
    voting_opens_weekday = serializers.IntegerField(min_value=0, max_value=6, required=False)
    voting_opens_time = LocalTimeField(required=False)
    winners_per_week = serializers.IntegerField(min_value=1, max_value=10, required=False)
    prize_split = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=10, required=False
    )
    brief_lead_days = serializers.IntegerField(min_value=0, max_value=60, required=False)
    grace_days = serializers.IntegerField(min_value=0, max_value=90, required=False)
    tip_fee_percent = serializers.IntegerField(min_value=0, max_value=100, required=False)
    payout_hold_hours = serializers.IntegerField(min_value=0, max_value=720, required=False)
    moderator_target_answerers = serializers.IntegerField(
        min_value=1, max_value=10_000, required=False
    )
    moderator_target_quality = serializers.DecimalField(
        max_digits=3,
        decimal_places=2,
        min_value=Decimal("0.1"),
        max_value=Decimal("5"),
        coerce_to_string=False,
        required=False,
    )
    pay_by_alipay = serializers.BooleanField(required=False)
    pay_by_wechat_pay = serializers.BooleanField(required=False)
    created_at = serializers.DateTimeField(read_only=True)


class CommunityCreateSerializer(StrictPayloadMixin, CommunitySerializer):
    phase = None  # type: ignore[assignment]


class CommunityUpdateSerializer(StrictPayloadMixin, CommunitySerializer):
    slug = None  # type: ignore[assignment]


class CommunityOutputSerializer(CommunitySerializer):
    active_members = serializers.IntegerField(read_only=True)
    my_role = serializers.CharField(read_only=True, allow_null=True)


class ProfileSerializer(serializers.Serializer[Any]):
    """A profile as the caller may see it (``privacy.profile_data``). In the growth phase
    ``real_name`` and ``company`` are absent unless the caller is the member or an organiser."""

    id = serializers.IntegerField()
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    handle = serializers.CharField()
    real_name = serializers.CharField(required=False)
    company = serializers.CharField(required=False)
    role_title = serializers.CharField()
    industry = serializers.CharField()
    career_path = serializers.CharField()
    city = serializers.CharField()
    skills = serializers.ListField(child=serializers.CharField())
    needs = serializers.ListField(child=serializers.CharField())
    hobbies = serializers.ListField(child=serializers.CharField())


class ProfileInputSerializer(StrictPayloadMixin, serializers.Serializer[Any]):
    handle = serializers.CharField(max_length=40, required=False)
    real_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    company = serializers.CharField(max_length=120, required=False, allow_blank=True)
    role_title = serializers.CharField(max_length=100, required=False, allow_blank=True)
    industry = serializers.CharField(max_length=80, required=False, allow_blank=True)
    career_path = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    city = serializers.CharField(max_length=80, required=False, allow_blank=True)
    skills = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        max_length=services.MAX_TAGS_PER_KIND,
    )
    needs = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        max_length=services.MAX_TAGS_PER_KIND,
    )
    hobbies = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        max_length=services.MAX_TAGS_PER_KIND,
    )


ADDABLE_ROLES = [r for r in Membership.Role.values if r != Membership.Role.CANDIDATE]


class MemberAddSerializer(StrictPayloadMixin, serializers.Serializer[Any]):
    email = serializers.EmailField(max_length=254)  # User.email's column
    username = serializers.CharField(max_length=150, required=False, allow_blank=True)
    role = serializers.ChoiceField(
        choices=ADDABLE_ROLES, required=False, default=Membership.Role.MEMBER
    )


class MembershipChangeSerializer(StrictPayloadMixin, serializers.Serializer[Any]):
    role = serializers.ChoiceField(choices=ADDABLE_ROLES, required=False)
    status = serializers.ChoiceField(choices=Membership.Status.choices, required=False)


class MemberImportSerializer(serializers.Serializer[Any]):
    file = serializers.FileField()
    create_tags = serializers.BooleanField(required=False, default=False)


class TagSerializer(StrictPayloadMixin, serializers.Serializer[Tag]):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=Tag.Kind.choices)
    name = serializers.CharField(max_length=40)


class TokenRequestSerializer(StrictPayloadMixin, serializers.Serializer[Any]):
    username = serializers.CharField(max_length=254, help_text=_("Username or e-mail address."))
    password = serializers.CharField(max_length=4096, trim_whitespace=False, write_only=True)
    code = serializers.CharField(
        max_length=16,
        required=False,
        allow_blank=True,
        help_text=_("The current code from your authenticator app, if you use one."),
    )


class TokenResponseSerializer(serializers.Serializer[Any]):
    token = serializers.CharField()


class MatchSerializer(serializers.Serializer[Any]):
    score = serializers.IntegerField()
    profile = ProfileSerializer()


class ImportRowSerializer(serializers.Serializer[Any]):
    line = serializers.IntegerField()
    email = serializers.CharField(allow_blank=True)
    outcome = serializers.ChoiceField(choices=["added", "rejected"])
    member = serializers.IntegerField(allow_null=True)

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # A field named "errors" cannot be declared: it would hide Serializer.errors.
        fields = super().get_fields()
        fields["errors"] = serializers.DictField(
            child=serializers.ListField(child=serializers.CharField())
        )
        return fields


class ImportReportSerializer(serializers.Serializer[Any]):
    added = serializers.IntegerField()
    rejected = serializers.IntegerField()
    rows = ImportRowSerializer(many=True)


# --- The schema's errors (community.api.AutoSchema adds them; views declare more) ----------


class ErrorSerializer(serializers.Serializer[Any]):
    """What every refusal but a validation error carries (DRF's exception handler)."""

    detail = serializers.CharField(help_text="Why the request was refused.")


FIELD_ERRORS: dict[str, Any] = {
    "type": "object",
    "description": (
        "Each field that was refused, with its messages: `non_field_errors` for the "
        "request as a whole, an object keyed by position for an item of a list, and "
        "`detail` (a string) for a body that could not be read."
    ),
    "additionalProperties": {
        "oneOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "object"},
            {"type": "string"},
        ]
    },
    "example": {"amount": ["Ensure this value is greater than or equal to 1."]},
}


VALIDATION_ERROR = OpenApiResponse(
    response=FIELD_ERRORS,
    description="The request was refused: each field named with why (nothing was changed).",
)
ERRORS: dict[int, OpenApiResponse] = {
    400: VALIDATION_ERROR,
    401: OpenApiResponse(ErrorSerializer, description="No valid credentials (a bad token)."),
    403: OpenApiResponse(
        ErrorSerializer,
        description=(
            "Not allowed: not a member of that community, a role or status that may not do "
            "this, no two-factor sign-in for the money endpoints, or a missing CSRF token."
        ),
    ),
    404: OpenApiResponse(ErrorSerializer, description="No such thing, or not visible to you."),
    415: OpenApiResponse(ErrorSerializer, description="A body in a media type not accepted."),
    429: OpenApiResponse(ErrorSerializer, description="Too many attempts; try again later."),
    503: OpenApiResponse(
        ErrorSerializer,
        description="Temporarily unavailable (a service this call needs is down); try again.",
    ),
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """Error responses a view declares beside the ones community.api.AutoSchema adds."""
    return {code: ERRORS[code] for code in codes}


def page_of(item: serializers.Serializer[Any], name: str) -> serializers.Serializer[Any]:
    """The schema of one page of ``item`` (members.pagination.Pagination)."""
    return inline_serializer(
        name=f"Paginated{name}List",
        fields={
            "count": serializers.IntegerField(help_text="At most 1,000 (see count_capped)."),
            "count_capped": serializers.BooleanField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item,
        },
    )
