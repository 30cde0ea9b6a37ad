"""REST API of the members app (SPEC §5). Views are thin: parse, check access, call a service
or selector, shape the output (profiles through ``members.privacy``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.models import EmailAddress
from allauth.core import ratelimit
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers as drf_serializers
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import Throttled
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from members import access, exports, imports, privacy, selectors, services
from members.models import Community, Membership
from members.pagination import Pagination
from members.serializers import (
    CommunityCreateSerializer,
    CommunityOutputSerializer,
    CommunityUpdateSerializer,
    ImportReportSerializer,
    MatchSerializer,
    MemberAddSerializer,
    MemberImportSerializer,
    MembershipChangeSerializer,
    ProfileInputSerializer,
    ProfileSerializer,
    TagSerializer,
    TokenRequestSerializer,
    TokenResponseSerializer,
    errors,
    page_of,
)


def paginated(
    request: Request,
    view: APIView,
    queryset: QuerySet[Any],
    item: Callable[[Any], dict[str, Any]],
    *,
    pagination: type[Pagination] = Pagination,
) -> Response:
    """One page of ``queryset`` as ``{"count", "next", "previous", "results"}``."""
    paginator = pagination()
    page = paginator.paginate_queryset(queryset, request, view=view) or []
    return paginator.get_paginated_response([item(obj) for obj in page])


def query_params(request: Request) -> QueryDict:
    """The query parameters, refusing NUL characters (PostgreSQL cannot compare them: a 500)."""
    bad = sorted(
        {key for key, values in request.query_params.lists() if any("\x00" in v for v in values)}
    )
    if bad:
        raise drf_serializers.ValidationError(
            {key: [_("Null characters are not allowed.")] for key in bad}
        )
    return request.query_params


def _community_data(community: Community, viewer: Membership | None) -> dict[str, Any]:
    data = dict(CommunityOutputSerializer(community).data)
    data["active_members"] = selectors.active_member_count(community=community)
    data["my_role"] = viewer.role if viewer else None
    return data


class TokenView(APIView):
    """Exchange a username (or e-mail) and password — and, for accounts with two-factor
    authentication, the current code — for an API token."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    @extend_schema(
        request=TokenRequestSerializer,
        # 403: the sign-in limits could not tell where the request came from (its address).
        responses={200: TokenResponseSerializer, **errors(403)},
    )
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        login, password = data["username"], data["password"]
        credentials = {"email": login} if "@" in login else {"username": login}
        try:
            # allauth's adapter: its per-account and per-address failed-login limits apply.
            user = get_account_adapter(request._request).authenticate(
                request._request, password=password, **credentials
            )
        except ValidationError:
            raise Throttled(detail=_("Too many failed attempts; try again later.")) from None
        if user is None:
            raise drf_serializers.ValidationError(
                {"non_field_errors": [_("Wrong username or password.")]}
            )
        if (
            account_settings.EMAIL_VERIFICATION
            == account_settings.EmailVerificationMethod.MANDATORY
            and not EmailAddress.objects.filter(user=user, verified=True).exists()
        ):
            raise drf_serializers.ValidationError(
                {"non_field_errors": [_("Confirm your e-mail address first.")]}
            )
        authenticator = Authenticator.objects.filter(
            user=user, type=Authenticator.Type.TOTP
        ).first()
        if authenticator is not None:
            code = data.get("code", "")
            if not code:
                raise drf_serializers.ValidationError(
                    {"code": [_("Enter the code from your authenticator app.")]}
                )
            # Second-factor attempts are limited per account, whatever the address they come
            # from, under allauth's own key for its two-factor form: one count for both.
            key = f"mfa-auth-user-{user.pk}"
            if not ratelimit.consume(request._request, action="login_failed", key=key):
                raise Throttled(detail=_("Too many failed attempts; try again later."))
            if not TOTP(authenticator).validate_code(code):
                raise drf_serializers.ValidationError({"code": [_("This code is not valid.")]})
            ratelimit.clear(request._request, action="login_failed", key=key)
        token, _created = Token.objects.get_or_create(user=user)
        if authenticator is not None and token.created < authenticator.created_at:
            # A token from before TOTP was turned on never counts as a two-factor sign-in
            # (members.access.mfa_verified); this request passed the code, so issue a new one.
            token.delete()
            token = Token.objects.create(user=user)
        return Response({"token": token.key})


class CommunityListView(APIView):
    @extend_schema(
        operation_id="communities_list", responses={200: CommunityOutputSerializer(many=True)}
    )
    def get(self, request: Request) -> Response:
        """The communities the caller belongs to."""
        memberships = selectors.memberships_of_user(user=request.user)  # type: ignore[arg-type]
        counts = selectors.active_member_counts(community_ids=[m.community_id for m in memberships])
        data = []
        for membership in memberships:
            item = dict(CommunityOutputSerializer(membership.community).data)
            item["active_members"] = counts.get(membership.community_id, 0)
            item["my_role"] = membership.role
            data.append(item)
        return Response(data)

    @extend_schema(request=CommunityCreateSerializer, responses={201: CommunityOutputSerializer})
    def post(self, request: Request) -> Response:
        """Create a community; the caller becomes its organiser."""
        serializer = CommunityCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        community = services.community_create(creator=request.user, **serializer.validated_data)  # type: ignore[arg-type]
        viewer = access.membership_of(user=request.user, community=community)
        return Response(_community_data(community, viewer), status=status.HTTP_201_CREATED)


class CommunityDetailView(APIView):
    @extend_schema(responses={200: CommunityOutputSerializer})
    def get(self, request: Request, slug: str) -> Response:
        viewer = access.access_directory(user=request.user, slug=slug)
        return Response(_community_data(viewer.community, viewer))

    @extend_schema(request=CommunityUpdateSerializer, responses={200: CommunityOutputSerializer})
    def patch(self, request: Request, slug: str) -> Response:
        """Change the rules (organisers). ``phase`` may go from seed to growth, never back."""
        viewer = access.access_organiser(user=request.user, slug=slug)
        serializer = CommunityUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        community = services.community_update(
            actor=viewer, community=viewer.community, changes=serializer.validated_data
        )
        return Response(_community_data(community, viewer))


_DIRECTORY_PARAMETERS = [
    OpenApiParameter("skill", str, many=True, description="Skill tag name (repeatable: all)."),
    OpenApiParameter("need", str, many=True, description="Need tag name (repeatable: all)."),
    OpenApiParameter("hobby", str, many=True, description="Hobby tag name (repeatable: all)."),
    OpenApiParameter("industry", str, description="Industry, exact, any case."),
    OpenApiParameter("city", str, description="City, exact, any case."),
    OpenApiParameter("role", str, enum=["organiser", "moderator", "member"]),
    OpenApiParameter("status", str, description="Organisers only; default active."),
    OpenApiParameter("q", str, description="Free text, Chinese or English."),
]


class MemberListView(APIView):
    @extend_schema(
        operation_id="members_list",
        parameters=_DIRECTORY_PARAMETERS,
        responses={200: page_of(ProfileSerializer(many=True), "Profile")},
    )
    def get(self, request: Request, slug: str) -> Response:
        """The directory, privacy applied: hidden fields are left out of each profile."""
        viewer = access.access_directory(user=request.user, slug=slug)
        params = query_params(request)
        filters = selectors.DirectoryFilters(
            skills=params.getlist("skill"),
            needs=params.getlist("need"),
            hobbies=params.getlist("hobby"),
            industry=params.get("industry", ""),
            city=params.get("city", ""),
            role=params.get("role", ""),
            status=params.get("status", ""),
            q=params.get("q", ""),
        )
        qs = selectors.directory(viewer=viewer, community=viewer.community, filters=filters)
        return paginated(
            request, self, qs, lambda p: privacy.profile_data(viewer=viewer, profile=p)
        )

    @extend_schema(request=MemberAddSerializer, responses={201: ProfileSerializer})
    def post(self, request: Request, slug: str) -> Response:
        """Add (import) a member, creating the account if needed (organisers)."""
        viewer = access.access_organiser(user=request.user, slug=slug)
        serializer = MemberAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.member_add(
            actor=viewer,
            community=viewer.community,
            email=serializer.validated_data["email"],
            username=serializer.validated_data.get("username") or None,
            role=serializer.validated_data["role"],
        )
        profile = selectors.own_profile(membership=membership)
        return Response(
            privacy.profile_data(viewer=viewer, profile=profile), status=status.HTTP_201_CREATED
        )


class MemberMeView(APIView):
    @extend_schema(responses={200: ProfileSerializer})
    def get(self, request: Request, slug: str) -> Response:
        membership = access.access_own_profile(user=request.user, slug=slug)
        profile = selectors.own_profile(membership=membership)
        return Response(privacy.profile_data(viewer=membership, profile=profile))

    @extend_schema(request=ProfileInputSerializer, responses={200: ProfileSerializer})
    def patch(self, request: Request, slug: str) -> Response:
        membership = access.access_own_profile_edit(user=request.user, slug=slug)
        serializer = ProfileInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.profile_update(membership=membership, data=serializer.validated_data)
        profile = selectors.own_profile(membership=membership)
        return Response(privacy.profile_data(viewer=membership, profile=profile))


class MemberDetailView(APIView):
    @extend_schema(responses={200: ProfileSerializer})
    def get(self, request: Request, slug: str, membership_id: int) -> Response:
        viewer, profile = access.access_profile(
            user=request.user, slug=slug, membership_id=membership_id
        )
        return Response(privacy.profile_data(viewer=viewer, profile=profile))

    @extend_schema(request=MembershipChangeSerializer, responses={200: ProfileSerializer})
    def patch(self, request: Request, slug: str, membership_id: int) -> Response:
        """Change a member's role or status (organisers)."""
        viewer = access.access_organiser(user=request.user, slug=slug)
        _viewer, profile = access.access_profile(
            user=request.user, slug=slug, membership_id=membership_id
        )
        serializer = MembershipChangeSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.membership_change(
            actor=viewer, membership=profile.membership, **serializer.validated_data
        )
        profile = selectors.own_profile(membership=profile.membership)
        return Response(privacy.profile_data(viewer=viewer, profile=profile))


class MemberImportView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=MemberImportSerializer, responses={200: ImportReportSerializer})
    def post(self, request: Request, slug: str) -> Response:
        """Import members from a CSV file; good rows are added, each bad row is reported."""
        viewer = access.access_organiser(user=request.user, slug=slug)
        serializer = MemberImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        report = imports.members_import(
            actor=viewer,
            community=viewer.community,
            data=imports.read_upload(upload),
            create_tags=serializer.validated_data["create_tags"],
        )
        return Response(report.as_dict())


class MemberExportView(APIView):
    @extend_schema(responses={(200, "text/csv"): str})
    def get(self, request: Request, slug: str) -> Any:
        """The directory as CSV (organisers), privacy applied."""
        viewer = access.access_organiser(user=request.user, slug=slug)
        return exports.directory_csv_response(viewer=viewer)


class TagListView(APIView):
    @extend_schema(operation_id="tags_list", responses={200: TagSerializer(many=True)})
    def get(self, request: Request, slug: str) -> Response:
        viewer = access.access_directory(user=request.user, slug=slug)
        vocabulary = selectors.vocabulary(community=viewer.community)
        return Response([TagSerializer(t).data for tags in vocabulary.values() for t in tags])

    @extend_schema(request=TagSerializer, responses={201: TagSerializer})
    def post(self, request: Request, slug: str) -> Response:
        """Add a word to the vocabulary (any active member)."""
        membership = access.access_tag_create(user=request.user, slug=slug)
        serializer = TagSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tag = services.tag_create(membership=membership, **serializer.validated_data)
        return Response(TagSerializer(tag).data, status=status.HTTP_201_CREATED)


class MatcherView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("tags", str, many=True, description="Skill names needed.")],
        operation_id="v1_communities_matcher_list",
        responses={200: page_of(MatchSerializer(many=True), "Match")},
    )
    def get(self, request: Request, slug: str) -> Response:
        """Members ranked by how many of the given skills they have (moderators)."""
        viewer = access.access_moderation(user=request.user, slug=slug)
        names = [n for value in query_params(request).getlist("tags") for n in value.split(",")]
        qs = selectors.matcher(community=viewer.community, tag_names=names)
        return paginated(
            request,
            self,
            qs,
            lambda p: {"score": p.score, "profile": privacy.profile_data(viewer=viewer, profile=p)},
        )
