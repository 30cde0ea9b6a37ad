"""Permission checks in Zulip's style: fetch a thing *for a user* and raise 404/403 here, so
no view can forget a check. Unknown community → 404; known community, wrong person → 403.
"""

from __future__ import annotations

from collections.abc import Collection

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token
from rest_framework.request import Request

from members.models import Community, Membership, Profile

AnyUser = AbstractBaseUser | AnonymousUser

Role = Membership.Role
Status = Membership.Status

READER_ROLES = (Role.ORGANISER, Role.MODERATOR, Role.MEMBER)
MODERATOR_ROLES = (Role.ORGANISER, Role.MODERATOR)
ACTIVE = (Status.ACTIVE,)
ACTIVE_OR_LAPSED = (Status.ACTIVE, Status.LAPSED)


class MFARequired(PermissionDenied):
    """An organiser without TOTP tried to reach a money page."""


def access_community(*, slug: str) -> Community:
    try:
        return Community.objects.get(slug=slug)
    except Community.DoesNotExist:
        raise Http404(_("No such community.")) from None


def membership_of(*, user: AnyUser, community: Community) -> Membership | None:
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.select_related("community")
        .filter(user_id=user.pk, community=community)
        .first()
    )


def access_membership(
    *,
    user: AnyUser,
    slug: str,
    roles: Collection[str],
    statuses: Collection[str],
    message: str,
) -> Membership:
    """The caller's membership of community ``slug`` if its role and status are among those
    given; 404 for an unknown community, 403 otherwise. One query on the success path."""
    membership = None
    if user.is_authenticated:
        membership = (
            Membership.objects.select_related("community")
            .filter(user_id=user.pk, community__slug=slug)
            .first()
        )
    if membership is None:
        access_community(slug=slug)  # 404 for an unknown community
        raise PermissionDenied(message)
    if membership.role not in roles or membership.status not in statuses:
        raise PermissionDenied(message)
    return membership


def access_directory(*, user: AnyUser, slug: str) -> Membership:
    """Members who may read the directory and profiles: active (or lapsed, read-only)
    organisers, moderators and members. Candidates and visitors may not."""
    return access_membership(
        user=user,
        slug=slug,
        roles=READER_ROLES,
        statuses=ACTIVE_OR_LAPSED,
        message=_("Only members of this community can see its members."),
    )


def access_own_profile(*, user: AnyUser, slug: str) -> Membership:
    """Reading one's own profile: active members, and lapsed ones (read-only)."""
    return access_membership(
        user=user,
        slug=slug,
        roles=(*READER_ROLES, Role.CANDIDATE),
        statuses=ACTIVE_OR_LAPSED,
        message=_("Only members can see their profile here."),
    )


def access_own_profile_edit(*, user: AnyUser, slug: str) -> Membership:
    return access_membership(
        user=user,
        slug=slug,
        roles=(*READER_ROLES, Role.CANDIDATE),
        statuses=ACTIVE,
        message=_("Only active members can edit their profile."),
    )


def access_tag_create(*, user: AnyUser, slug: str) -> Membership:
    return access_membership(
        user=user,
        slug=slug,
        roles=READER_ROLES,
        statuses=ACTIVE,
        message=_("Only active members can add words to the vocabulary."),
    )


def access_moderation(*, user: AnyUser, slug: str) -> Membership:
    """Moderators and organisers (the matcher, inviting answerers)."""
    return access_membership(
        user=user,
        slug=slug,
        roles=MODERATOR_ROLES,
        statuses=ACTIVE,
        message=_("Only moderators and organisers can do this."),
    )


def access_organiser(*, user: AnyUser, slug: str) -> Membership:
    return access_membership(
        user=user,
        slug=slug,
        roles=(Role.ORGANISER,),
        statuses=ACTIVE,
        message=_("Only organisers of this community can do this."),
    )


def mfa_verified(request: HttpRequest | Request) -> bool:
    """Whether this request's sign-in passed two-factor authentication: a session in which
    allauth recorded an MFA step, or an API token issued (with a code) after TOTP was set up."""
    user = request.user
    authenticator = Authenticator.objects.filter(
        user_id=user.pk, type=Authenticator.Type.TOTP
    ).first()
    if authenticator is None:
        return False
    token = getattr(request, "auth", None)
    if isinstance(token, Token):
        return token.created >= authenticator.created_at
    django_request = getattr(request, "_request", request)
    records = get_authentication_records(django_request, user)
    return any(record.get("method") == "mfa" for record in records)


def access_money(*, request: HttpRequest | Request, slug: str) -> Membership:
    """Organisers, and — when COMMUNITY_ORGANISER_MFA_REQUIRED is on — only when they signed
    in with their second factor (TOTP)."""
    membership = access_organiser(user=request.user, slug=slug)
    if settings.COMMUNITY_ORGANISER_MFA_REQUIRED and not mfa_verified(request):
        raise MFARequired(
            _(
                "The money pages need two-factor authentication: turn it on (an authenticator "
                "app) and sign in with your code."
            )
        )
    return membership


def access_profile(*, user: AnyUser, slug: str, membership_id: int) -> tuple[Membership, Profile]:
    """A profile in the directory, for a reader of that directory. Organisers may also open
    profiles of members who are not active; others only active, non-candidate ones."""
    from members import selectors

    viewer = access_directory(user=user, slug=slug)
    profile = selectors.profile_for_viewer(viewer=viewer, membership_id=membership_id)
    if profile is None:
        raise Http404(_("No such member."))
    return viewer, profile
