"""The digests' API (SPEC §5): the list, the summary's edit and publishing. Services do the
writing; refusals are 400 naming the field, 403 for who may not, 404 for what is not theirs."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from questions.digests import access, selectors, services
from questions.digests.models import Digest


class DigestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    week = serializers.CharField(source="label", help_text="ISO week, e.g. 2026-W48")
    state = serializers.ChoiceField(choices=Digest.State.choices)
    summary = serializers.CharField()
    published_at = serializers.DateTimeField(allow_null=True)
    edited_at = serializers.DateTimeField(allow_null=True)
    revision = serializers.IntegerField()


class DigestListSerializer(serializers.Serializer):
    results = DigestSerializer(many=True)


class SummarySerializer(serializers.Serializer):
    summary = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=20_000)

    def validate_summary(self, value: str) -> str:
        # DRF's CharField turns numbers into text; a summary must be sent as text.
        if not isinstance(self.initial_data.get("summary"), str):
            raise serializers.ValidationError(_("Enter text."))
        return value


def _data(digest: Digest) -> dict[str, Any]:
    return dict(DigestSerializer(digest).data)


class DigestListView(APIView):
    @extend_schema(operation_id="digests_list", responses={200: DigestListSerializer})
    def get(self, request: Request, slug: str) -> Response:
        """Digests, newest first: published ones for members; drafts too for that week's
        moderator and organisers."""
        viewer = access.access_archive(user=request.user, slug=slug)
        digests = selectors.archive(viewer=viewer, community=viewer.community)
        return Response({"results": [_data(d) for d in digests]})


class DigestDetailView(APIView):
    @extend_schema(operation_id="digest_read", responses={200: DigestSerializer})
    def get(self, request: Request, digest_id: int) -> Response:
        _viewer, digest = access.access_digest_by_id(user=request.user, digest_id=digest_id)
        return Response(_data(digest))

    @extend_schema(
        operation_id="digest_summary_edit",
        request=SummarySerializer,
        responses={200: DigestSerializer},
    )
    def patch(self, request: Request, digest_id: int) -> Response:
        """Write the summary (Markdown; sanitised when shown). After publishing, the previous
        version is kept as a revision."""
        viewer, digest = access.access_digest_curation_by_id(user=request.user, digest_id=digest_id)
        body = SummarySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        digest = services.digest_curate(
            digest=digest, editor=viewer, summary=body.validated_data["summary"]
        )
        return Response(_data(digest))


class DigestPublishView(APIView):
    @extend_schema(operation_id="digest_publish", request=None, responses={200: DigestSerializer})
    def post(self, request: Request, digest_id: int) -> Response:
        """Publish to the archive and e-mail every member who has not turned digests off.
        Publishing again changes nothing and sends nothing."""
        viewer, digest = access.access_digest_curation_by_id(user=request.user, digest_id=digest_id)
        digest = services.digest_publish(digest=digest, publisher=viewer)
        return Response(_data(digest))
