"""Permission checks in Zulip's style: fetch a thing *for a user* and raise 404/403 here, so
no view can forget a check. Unknown community → 404; known community, wrong person → 403.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Collection

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token
from rest_framework.request import Request

from members import weeks
from members.models import Community, Membership, Profile

AnyUser = AbstractBaseUser | AnonymousUser

Role = Membership.Role
Status = Membership.Status

# --- The rules: who a membership makes its holder ----------------------------------------------
# The one place the roles are spelt out. Membership.is_reader / is_writer / is_organiser /
# is_moderator delegate here; questions.access, members.privacy, the views and the templates'
# can_* flags all ask these functions. None of them queries the database: the on-duty rule
# reads ``membership.community`` (its time zone and first weekday), which every access_*
# function fetches with select_related, and only for a membership that has an on_duty_week.

# Roles that belong to the community (everyone but candidates, who answered a challenge).
READER_ROLES = (Role.ORGANISER, Role.MODERATOR, Role.MEMBER)
# Roles whose moderator powers are standing. For lists of people by role (who to notify, the
# roster); whether someone *has* moderator powers now is has_moderator_powers().
MODERATOR_ROLES = (Role.ORGANISER, Role.MODERATOR)
ACTIVE = (Status.ACTIVE,)
ACTIVE_OR_LAPSED = (Status.ACTIVE, Status.LAPSED)

Rule = Callable[[Membership], bool]


def is_participant(membership: Membership | None) -> bool:
    """Anyone with an active or lapsed membership, candidates included: sees the community's
    question list (candidates: challenges only) and their own profile."""
    return membership is not None and membership.status in ACTIVE_OR_LAPSED


def is_active_participant(membership: Membership | None) -> bool:
    """An active membership, candidates included: edits their own profile, uploads files."""
    return membership is not None and membership.status in ACTIVE


def is_reader(membership: Membership | None) -> bool:
    """Reads the directory, questions and answers: organisers, moderators and members who
    are active, or lapsed (read-only). Not candidates, not pending, not those who left."""
    return (
        membership is not None
        and membership.role in READER_ROLES
        and membership.status in ACTIVE_OR_LAPSED
    )


def is_writer(membership: Membership | None) -> bool:
    """Writes profiles, briefs, answers, comments, ratings, votes and tips: an active reader."""
    return (
        membership is not None and membership.role in READER_ROLES and membership.status in ACTIVE
    )


def is_lapsed(membership: Membership | None) -> bool:
    """A reader whose fees stopped: reads, writes nothing until they resume."""
    return membership is not None and is_reader(membership) and membership.status == Status.LAPSED


def is_candidate(membership: Membership | None) -> bool:
    """An outsider who answered a challenge question: sees challenges and their own answers."""
    return (
        membership is not None and membership.role == Role.CANDIDATE and membership.status in ACTIVE
    )


def is_organiser(membership: Membership | None) -> bool:
    return (
        membership is not None and membership.role == Role.ORGANISER and membership.status in ACTIVE
    )


def on_duty(membership: Membership | None, now: datetime.datetime | None = None) -> bool:
    """The rotating moderator on duty: an active, non-candidate member whose on_duty_week is
    the community's current week (at ``now``, default now). A past or future week grants
    nothing. Reads ``membership.community``: fetch it with select_related."""
    return (
        membership is not None
        and membership.on_duty_week is not None
        and is_writer(membership)
        and membership.on_duty_week == weeks.start_of(membership.community, now)
    )


def has_moderator_powers(
    membership: Membership | None, now: datetime.datetime | None = None
) -> bool:
    """Triage and schedule briefs, mark challenges, invite answerers, remove comments,
    announce, see the briefs queue and the matcher: active organisers and moderators always,
    and the member on duty for their week."""
    if membership is None:
        return False
    if membership.role in MODERATOR_ROLES and membership.status in ACTIVE:
        return True
    return on_duty(membership, now)


def memberships_with_moderator_powers(
    *, user: AnyUser, now: datetime.datetime | None = None
) -> list[Membership]:
    """The user's memberships that have moderator powers now, with their communities, in one
    query: for pages that span communities (the moderators' admin)."""
    if not user.is_authenticated:
        return []
    # A week that started more than eight days ago (or starts tomorrow or later, in any time
    # zone) is not the current one anywhere; the exact test is has_moderator_powers.
    today = (now or timezone.now()).date()
    duty = Q(
        role__in=READER_ROLES,
        on_duty_week__gte=today - datetime.timedelta(days=8),
        on_duty_week__lte=today + datetime.timedelta(days=1),
    )
    rows = Membership.objects.select_related("community").filter(
        Q(role__in=MODERATOR_ROLES) | duty, user_id=user.pk, status__in=ACTIVE
    )
    return [m for m in rows if has_moderator_powers(m, now)]


def may_edit_own_profile(membership: Membership | None) -> bool:
    return is_active_participant(membership)


# --- Fetching a membership for a user ------------------------------------------------------------


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


def _membership_for(*, user: AnyUser, slug: str, message: str) -> Membership:
    """The caller's membership of community ``slug`` (with its community), 404 for an
    unknown community, 403 for someone not in it. One query on the success path."""
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
    return membership


def access_as(*, user: AnyUser, slug: str, rule: Rule, message: str) -> Membership:
    """The caller's membership of community ``slug`` if ``rule`` (one of the rules above)
    holds for it; 404 for an unknown community, 403 otherwise. One query on the success
    path."""
    membership = _membership_for(user=user, slug=slug, message=message)
    if not rule(membership):
        raise PermissionDenied(message)
    return membership


def access_membership(
    *,
    user: AnyUser,
    slug: str,
    roles: Collection[str],
    statuses: Collection[str],
    message: str,
) -> Membership:
    """The caller's membership of community ``slug`` if its role and status are among those
    given; 404 for an unknown community, 403 otherwise. Prefer access_as with a rule."""
    membership = _membership_for(user=user, slug=slug, message=message)
    if membership.role not in roles or membership.status not in statuses:
        raise PermissionDenied(message)
    return membership


def access_directory(*, user: AnyUser, slug: str) -> Membership:
    """Members who may read the directory and profiles: active (or lapsed, read-only)
    organisers, moderators and members. Candidates and visitors may not."""
    return access_as(
        user=user,
        slug=slug,
        rule=is_reader,
        message=_("Only members of this community can see its members."),
    )


def access_own_profile(*, user: AnyUser, slug: str) -> Membership:
    """Reading one's own profile: active members, and lapsed ones (read-only)."""
    return access_as(
        user=user,
        slug=slug,
        rule=is_participant,
        message=_("Only members can see their profile here."),
    )


def access_own_profile_edit(*, user: AnyUser, slug: str) -> Membership:
    return access_as(
        user=user,
        slug=slug,
        rule=may_edit_own_profile,
        message=_("Only active members can edit their profile."),
    )


def access_tag_create(*, user: AnyUser, slug: str) -> Membership:
    return access_as(
        user=user,
        slug=slug,
        rule=is_writer,
        message=_("Only active members can add words to the vocabulary."),
    )


def may_manage_tags(membership: Membership | None) -> bool:
    """Naming tags in each language and merging duplicates: organisers."""
    return is_organiser(membership)


def access_tag_manage(*, user: AnyUser, slug: str) -> Membership:
    return access_as(
        user=user,
        slug=slug,
        rule=may_manage_tags,
        message=_("Only organisers can rename or merge the community's tags."),
    )


def access_moderation(*, user: AnyUser, slug: str) -> Membership:
    """Those with moderator powers (the matcher, the briefs queue, announcements):
    moderators and organisers, and the member on duty this week."""
    return access_as(
        user=user,
        slug=slug,
        rule=has_moderator_powers,
        message=_("Only moderators and organisers can do this."),
    )


def access_organiser(*, user: AnyUser, slug: str) -> Membership:
    return access_as(
        user=user,
        slug=slug,
        rule=is_organiser,
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
