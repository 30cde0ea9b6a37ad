"""Memberships: adding people (creating their accounts), candidates from challenge questions,
and organisers changing roles and statuses."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members import outbox, tasks
from members.audit import Event
from members.models import Community, Membership, User
from members.reactions import reactions
from members.services import communities
from members.services.communities import audit
from members.services.profiles import profile_create, profile_update, refresh_search

Role = Membership.Role
Status = Membership.Status

ADDABLE_ROLES = (Role.MEMBER, Role.MODERATOR, Role.ORGANISER)
MAX_EMAIL_LENGTH = 254  # User.email's column


def _normalise_email(email: object) -> str:
    value = str(email or "").strip()
    if not value:
        raise ValidationError({"email": _("Enter an e-mail address.")}, code="required")
    if len(value) > MAX_EMAIL_LENGTH:
        raise ValidationError(
            {"email": _("At most %(max)d characters.") % {"max": MAX_EMAIL_LENGTH}},
            code="max_length",
        )
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationError(
            {"email": _("Enter a valid e-mail address.")}, code="invalid"
        ) from None
    local, _sep, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def _user_for_email(*, email: str, username: str | None) -> tuple[User, bool]:
    """The account for ``email``, made if there is none. A requested username is checked the
    same way whether or not the account exists, so the answer does not tell an organiser
    which e-mail addresses have accounts."""
    user = User.objects.filter(email__iexact=email).first()
    if username:
        username = username.strip()
        try:
            User.username_validator(username)
        except ValidationError:
            raise ValidationError(
                {"username": _("Use letters, digits and @/./+/-/_ only.")}, code="invalid"
            ) from None
        if len(username) > 150:
            raise ValidationError({"username": _("At most 150 characters.")}, code="max_length")
        owner = User.objects.filter(username__iexact=username).first()
        if owner is not None and owner != user:
            raise ValidationError({"username": _("This username is taken.")}, code="unique")
    if user is not None:
        return user, False
    if not username:
        base = re.sub(r"[^\w.@+-]", "", email.split("@")[0])[:140] or "member"
        username, n = base, 1
        while User.objects.filter(username__iexact=username).exists():
            n += 1
            username = f"{base}{n}"
    try:
        with transaction.atomic():
            return User.objects.create_user(username=username, email=email, password=None), True
    except IntegrityError:
        # The same address (or name) was taken by a concurrent request: use that account.
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise ValidationError(
                {"username": _("This username is taken.")}, code="unique"
            ) from None
        return user, False


def member_add(
    *,
    actor: Membership | None,
    community: Community,
    email: object,
    username: str | None = None,
    role: object = Role.MEMBER,
    joined_via: str = Membership.JoinedVia.IMPORTED,
    profile: Mapping[str, Any] | None = None,
    create_tags: bool = False,
    notify: bool = True,
    sync_phase: bool = True,
) -> Membership:
    """Add a person to a community as an active member, creating their account if needed.

    A person who was a member before (lapsed or left) is made active again, and is told by
    e-mail unless ``notify`` is off. ``sync_phase=False`` leaves the phase check to the caller
    (an import checks once at the end). Raises ValidationError naming the field; nothing is
    written then.
    """
    email = _normalise_email(email)
    if role not in ADDABLE_ROLES:
        raise ValidationError({"role": _("Choose member, moderator or organiser.")}, code="invalid")
    role = str(role)
    with transaction.atomic():
        locked = Community.objects.select_for_update().get(pk=community.pk)
        user, created_user = _user_for_email(email=email, username=username)
        membership = (
            Membership.objects.select_for_update().filter(community=locked, user=user).first()
        )
        now = timezone.now()
        if membership is None:
            membership = Membership.objects.create(
                user=user,
                community=locked,
                role=role,
                status=Status.ACTIVE,
                joined_via=joined_via,
                activated_at=now,
            )
            event = Event.MEMBER_ADDED
            profile_create(membership=membership)
        elif membership.status == Status.ACTIVE:
            raise ValidationError(
                {"email": _("This person is already an active member.")}, code="duplicate"
            )
        else:
            previous = {"role": membership.role, "status": membership.status}
            membership.role, membership.status, membership.activated_at = role, Status.ACTIVE, now
            membership.welcomed_at = None  # welcome them back
            membership.save(update_fields=["role", "status", "activated_at", "welcomed_at"])
            refresh_search(membership=membership)
            event = Event.STATUS_CHANGED
        if profile:
            profile_update(membership=membership, data=profile, create_tags=create_tags)
        audit(
            community=locked,
            event=event,
            actor=actor.user if actor else None,
            membership=membership,
            data={
                "role": membership.role,
                "joined_via": membership.joined_via,
                "new_account": created_user,
                **({"previous": previous} if event == Event.STATUS_CHANGED else {}),
            },
        )
        if sync_phase:
            communities.sync_phase(community=locked)
        if notify:
            outbox.enqueue(tasks.send_member_added_email, membership.pk, created_user)
    return membership


def candidate_enrol(*, user: User, community: Community) -> Membership:
    """A visitor who answers a challenge question becomes a candidate of the community (or
    stays what they already are). Candidates see only challenge questions and their answers."""
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            community=community,
            user=user,
            defaults={
                "role": Role.CANDIDATE,
                "status": Status.ACTIVE,
                "joined_via": Membership.JoinedVia.CHALLENGE,
                "activated_at": timezone.now(),
            },
        )
        if created:
            profile_create(membership=membership)
            audit(
                community=community,
                event=Event.MEMBER_ADDED,
                actor=user,
                membership=membership,
                data={"role": Role.CANDIDATE, "joined_via": Membership.JoinedVia.CHALLENGE},
            )
    return membership


def membership_change(
    *, actor: Membership, membership: Membership, role: object = None, status: object = None
) -> Membership:
    """An organiser changes a member's role or status. The last organiser stays."""
    if role is not None and role not in ADDABLE_ROLES:
        raise ValidationError({"role": _("Choose member, moderator or organiser.")}, code="invalid")
    if status is not None and status not in Status.values:
        raise ValidationError({"status": _("Unknown status.")}, code="invalid")
    with transaction.atomic():
        community = Community.objects.select_for_update().get(pk=membership.community_id)
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        new_role = str(role) if role is not None else locked.role
        new_status = str(status) if status is not None else locked.status
        if locked.is_organiser and (new_role != Role.ORGANISER or new_status != Status.ACTIVE):
            others = (
                Membership.objects.filter(
                    community=community, role=Role.ORGANISER, status=Status.ACTIVE
                )
                .exclude(pk=locked.pk)
                .exists()
            )
            if not others:
                field = "role" if new_role != Role.ORGANISER else "status"
                raise ValidationError(
                    {field: _("A community needs at least one active organiser.")},
                    code="last_organiser",
                )
        if new_role != locked.role:
            audit(
                community=community,
                event=Event.ROLE_CHANGED,
                actor=actor.user,
                membership=locked,
                data={"from": locked.role, "to": new_role},
            )
        if new_status != locked.status:
            audit(
                community=community,
                event=Event.STATUS_CHANGED,
                actor=actor.user,
                membership=locked,
                data={"from": locked.status, "to": new_status},
            )
            if new_status == Status.ACTIVE:
                locked.activated_at = timezone.now()
        left = new_status == Status.LEFT and locked.status != Status.LEFT
        locked.role, locked.status = new_role, new_status
        locked.save(update_fields=["role", "status", "activated_at"])
        refresh_search(membership=locked)
        communities.sync_phase(community=community)
        if left:  # e.g. the money app stops their subscription: no charge after leaving
            reactions.membership_left(locked)
    return locked


def membership_paid(*, membership: Membership, entrance: bool, actor: User | None) -> Membership:
    """A payment came in: a pending or lapsed member becomes active again, and a candidate
    (or someone who left) who pays the entrance fee becomes a member. Call inside the
    payment's transaction."""
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        role, status = locked.role, locked.status
        if entrance and locked.role == Role.CANDIDATE:
            role = Role.MEMBER
        if locked.status in (Status.PENDING, Status.LAPSED) or (
            entrance and locked.status == Status.LEFT
        ):
            status = Status.ACTIVE
        if (role, status) == (locked.role, locked.status):
            return locked
        audit(
            community=locked.community,
            event=Event.STATUS_CHANGED,
            actor=actor,
            membership=locked,
            data={"from": [locked.role, locked.status], "to": [role, status], "reason": "payment"},
        )
        locked.role, locked.status = role, status
        if status == Status.ACTIVE and locked.activated_at is None:
            locked.activated_at = timezone.now()
        locked.save(update_fields=["role", "status", "activated_at"])
        refresh_search(membership=locked)
        communities.community_sync_phase(community_id=locked.community_id)
    return locked


def membership_end(*, membership: Membership, reason: str, actor: User | None) -> Membership:
    """The entrance fee went back (refund, lost dispute): the membership ends."""
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        if locked.status == Status.LEFT:
            return locked
        audit(
            community=locked.community,
            event=Event.STATUS_CHANGED,
            actor=actor,
            membership=locked,
            data={"from": locked.status, "to": Status.LEFT, "reason": reason},
        )
        locked.status = Status.LEFT
        locked.save(update_fields=["status"])
        refresh_search(membership=locked)
    return locked
