"""Permission checks in Zulip's style: fetch a thing *for a user* and raise 404/403 here, so
no view can forget a check. Unknown community → 404; known community, wrong person → 403.
"""

from __future__ import annotations

from collections.abc import Collection

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

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


def access_money(*, user: AnyUser, slug: str) -> Membership:
    """Organisers, and — when COMMUNITY_ORGANISER_MFA_REQUIRED is on — only with TOTP enabled."""
    membership = access_organiser(user=user, slug=slug)
    if settings.COMMUNITY_ORGANISER_MFA_REQUIRED and not is_mfa_enabled(
        membership.user, types=[Authenticator.Type.TOTP]
    ):
        raise MFARequired(
            _("Turn on two-factor authentication (an authenticator app) to see the money pages.")
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
