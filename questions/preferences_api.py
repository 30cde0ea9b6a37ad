"""The API of one's notification preferences (issue 12): ``/api/v1/me/notification-preferences/``.

The same service as the portal's page (questions.notifications.settings_save); the digest's
e-mails through the digest's own service. Kinds not named in a PUT keep their channel.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from members.models import Membership
from questions import notifications
from questions.digests import selectors as digest_selectors
from questions.models import Notification, NotificationPreference

CHANNELS = NotificationPreference.Channel.choices


class DigestEmailsSerializer(serializers.Serializer[Any]):
    community = serializers.SlugField(help_text="The community's slug.")
    emails = serializers.BooleanField(help_text="Whether its weekly digest is e-mailed.")


class NotificationPreferencesSerializer(serializers.Serializer[Any]):
    kinds = serializers.DictField(
        child=serializers.ChoiceField(choices=CHANNELS),
        help_text=(
            "How each kind of notification is told: `portal_email` (the default), `portal` "
            "or `off`. Kinds: " + ", ".join(f"`{k}`" for k in Notification.Kind.values) + "."
        ),
    )
    digests = DigestEmailsSerializer(
        many=True,
        help_text="The communities whose digest one may receive, each with its e-mails on or off.",
    )


class NotificationPreferencesInputSerializer(serializers.Serializer[Any]):
    kinds = serializers.DictField(
        child=serializers.ChoiceField(choices=CHANNELS),
        required=False,
        help_text="Kinds to change, each with its channel; kinds left out keep theirs.",
    )
    digests = DigestEmailsSerializer(
        many=True, required=False, help_text="Communities whose digest e-mails to change."
    )

    def __init__(
        self, *args: Any, memberships: dict[str, Membership] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.memberships = memberships or {}

    def validate_kinds(self, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(Notification.Kind.values))
        if unknown:
            raise serializers.ValidationError(
                _("There is no notification of the kind “%(kind)s”.") % {"kind": unknown[0]}
            )
        return value

    def validate_digests(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for item in value:
            if item["community"] not in self.memberships:
                raise serializers.ValidationError(
                    _("You do not receive the digest of “%(slug)s”.") % {"slug": item["community"]}
                )
        return value


def _state(user: Any) -> dict[str, Any]:
    return {
        "kinds": notifications.preferences_of(user=user),
        "digests": [
            {"community": membership.community.slug, "emails": on}
            for membership, on in digest_selectors.subscriptions_of_user(user=user)
        ],
    }


class NotificationPreferencesView(APIView):
    @extend_schema(responses={200: NotificationPreferencesSerializer})
    def get(self, request: Request) -> Response:
        """One's notification preferences: a channel per kind, and the digests' e-mails."""
        return Response(_state(request.user))

    @extend_schema(
        request=NotificationPreferencesInputSerializer,
        responses={200: NotificationPreferencesSerializer},
    )
    def put(self, request: Request) -> Response:
        """Change the channels of the kinds given and the digest e-mails of the communities
        given; an unknown kind, channel or community is 400, and nothing is saved."""
        digests = digest_selectors.subscriptions_of_user(user=request.user)
        memberships = {membership.community.slug: membership for membership, _on in digests}
        serializer = NotificationPreferencesInputSerializer(
            data=request.data, memberships=memberships
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        notifications.settings_save(
            user=request.user,  # type: ignore[arg-type]
            channels=data.get("kinds", {}),
            digest_emails=[
                (memberships[item["community"]], item["emails"]) for item in data.get("digests", [])
            ],
        )
        return Response(_state(request.user))
