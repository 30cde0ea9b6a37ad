"""Invite links: an organiser makes a link (usable a number of times, for a number of days,
revocable); a signed-in person who opens it and accepts becomes an active member without
paying online — for a community that takes its fees offline, and for the demo (``manage.py
demo`` prints one).

Making and revoking a link, and each membership it gives, write audit rows in the same
transaction. Locks follow member_add's order: the community, then the link, then the
membership.
"""

from __future__ import annotations

import datetime
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.audit import Event
from members.models import Community, JoinInvite, Membership, User
from members.services import communities
from members.services.communities import audit
from members.services.profiles import profile_create, refresh_search

Role = Membership.Role
Status = Membership.Status

DEFAULT_DAYS = 7
MAX_DAYS = 90
DEFAULT_USES = 10
MAX_USES = 1000
MAX_OPEN_LINKS = 20  # per community: enough to hand out, few enough to keep track of


def _check_int(value: object, field: str, least: int, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
        raise ValidationError(
            {
                field: _("Enter a whole number from %(least)d to %(most)d.")
                % {"least": least, "most": most}
            },
            code="invalid",
        )
    return value


def open_invites(*, community: Community) -> list[JoinInvite]:
    """The community's links that can still be used, newest first."""
    now = timezone.now()
    return [
        invite
        for invite in JoinInvite.objects.filter(
            community=community, revoked_at__isnull=True, expires_at__gt=now
        )
        .select_related("community")  # their links name it (get_absolute_url)
        .order_by("-created_at", "-pk")
        if invite.uses < invite.max_uses
    ]


def invite_create(
    *,
    actor: Membership,
    days: object = DEFAULT_DAYS,
    max_uses: object = DEFAULT_USES,
    now: datetime.datetime | None = None,
) -> JoinInvite:
    """An organiser (``actor``, checked by the caller through access_organiser) makes a link
    to their community, usable ``max_uses`` times for ``days`` days."""
    days = _check_int(days, "days", 1, MAX_DAYS)
    max_uses = _check_int(max_uses, "max_uses", 1, MAX_USES)
    now = now or timezone.now()
    with transaction.atomic():
        community = Community.objects.select_for_update().get(pk=actor.community_id)
        if len(open_invites(community=community)) >= MAX_OPEN_LINKS:
            raise ValidationError(
                {
                    "__all__": _(
                        "This community has %(max)d invite links that still work: revoke one first."
                    )
                    % {"max": MAX_OPEN_LINKS}
                },
                code="too_many",
            )
        invite = JoinInvite.objects.create(
            community=community,
            token=secrets.token_urlsafe(24),
            created_by=actor.user,
            created_at=now,
            expires_at=now + datetime.timedelta(days=days),
            max_uses=max_uses,
        )
        audit(
            community=community,
            event=Event.INVITE_LINK_CREATED,
            actor=actor.user,
            membership=actor,
            data={"invite": invite.pk, "days": days, "max_uses": max_uses},
        )
    return invite


def invite_revoke(*, actor: Membership, invite_id: int) -> JoinInvite:
    """Stop a link from working (it stays in the log). Revoking twice changes nothing.
    JoinInvite.DoesNotExist for another community's link."""
    with transaction.atomic():
        community = Community.objects.select_for_update().get(pk=actor.community_id)
        invite = JoinInvite.objects.select_for_update().get(pk=invite_id, community=community)
        if invite.revoked_at is None:
            invite.revoked_at = timezone.now()
            invite.save(update_fields=["revoked_at"])
            audit(
                community=community,
                event=Event.INVITE_LINK_REVOKED,
                actor=actor.user,
                membership=actor,
                data={"invite": invite.pk, "uses": invite.uses},
            )
    return invite


def invite_problem(invite: JoinInvite | None, now: datetime.datetime | None = None) -> str:
    """Why a link cannot be used ("" if it can)."""
    now = now or timezone.now()
    if invite is None or invite.revoked_at is not None:
        return _(
            "This invite link is not valid: it was revoked or mistyped. Ask an organiser "
            "for a new one."
        )
    if invite.expires_at <= now:
        return _("This invite link has expired. Ask an organiser for a new one.")
    if invite.uses >= invite.max_uses:
        return _(
            "This invite link has been used as many times as it allows. Ask an organiser "
            "for a new one."
        )
    return ""


def invite_for(*, slug: str, token: str) -> JoinInvite | None:
    """The link with this token to the community ``slug`` (None if there is none)."""
    return (
        JoinInvite.objects.select_related("community")
        .filter(token=token, community__slug=slug)
        .first()
    )


def may_accept(membership: Membership | None) -> bool:
    """An invite link makes members of visitors, candidates, and pending, lapsed or former
    members; active members, moderators and organisers belong already."""
    return (
        membership is None
        or membership.status != Status.ACTIVE
        or membership.role == (Role.CANDIDATE)
    )


def invite_accept(*, user: User, invite_id: int) -> Membership:
    """``user`` accepts the link: they become an active member (a new membership, or theirs
    made active again). Raises ValidationError — nothing written, no use counted — for a
    revoked, expired or used-up link, or for someone who belongs already."""
    with transaction.atomic():
        community_id = JoinInvite.objects.values_list("community_id", flat=True).get(pk=invite_id)
        community = Community.objects.select_for_update().get(pk=community_id)
        invite = JoinInvite.objects.select_for_update().get(pk=invite_id)
        if problem := invite_problem(invite):
            raise ValidationError({"invite": problem}, code="invalid")
        membership = (
            Membership.objects.select_for_update().filter(community=community, user=user).first()
        )
        if not may_accept(membership):
            raise ValidationError(
                {"invite": _("You are already a member of this community.")}, code="member"
            )
        now = timezone.now()
        if membership is None:
            membership = Membership.objects.create(
                user=user,
                community=community,
                role=Role.MEMBER,
                status=Status.ACTIVE,
                joined_via=Membership.JoinedVia.IMPORTED,
                activated_at=now,
            )
            profile_create(membership=membership)
            audit(
                community=community,
                event=Event.MEMBER_ADDED,
                actor=user,
                membership=membership,
                data={"role": Role.MEMBER, "joined_via": "invite", "invite": invite.pk},
            )
        else:
            previous = [membership.role, membership.status]
            # A candidate becomes a member; someone who left comes back as a member (a link
            # gives no moderator's or organiser's role back); a lapsed member keeps theirs.
            keeps_role = membership.status in (Status.LAPSED, Status.PENDING) and (
                membership.role != Role.CANDIDATE
            )
            role = membership.role if keeps_role else Role.MEMBER
            membership.role, membership.status, membership.activated_at = role, Status.ACTIVE, now
            membership.welcomed_at = None  # welcome them (back)
            membership.save(update_fields=["role", "status", "activated_at", "welcomed_at"])
            refresh_search(membership=membership)
            audit(
                community=community,
                event=Event.STATUS_CHANGED,
                actor=user,
                membership=membership,
                data={
                    "from": previous,
                    "to": [role, Status.ACTIVE],
                    "reason": "invite",
                    "invite": invite.pk,
                },
            )
        invite.uses += 1
        invite.save(update_fields=["uses"])
        communities.sync_phase(community=community)
    return membership
