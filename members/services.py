"""Every write to communities, memberships, profiles and tags.

Services validate, lock what they read-to-write, write, record an audit row for role, status,
settings and phase changes, and queue tasks on commit. They raise ``ValidationError`` with a
dict naming the field; the portal shows it on the form and the API answers 400 with it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members import privacy, selectors, tasks
from members.models import Community, CommunityAuditLog, Membership, Profile, Tag, User

Role = Membership.Role
Status = Membership.Status
Event = CommunityAuditLog.Event

# The rules an organiser may change (SPEC §5 "settings"); ``phase`` is handled apart.
COMMUNITY_RULE_FIELDS: tuple[str, ...] = (
    "name",
    "description",
    "currency",
    "entrance_fee",
    "monthly_fee",
    "time_zone",
    "week_start",
    "privacy_threshold",
    "votes_per_member",
    "voting_opens_weekday",
    "voting_opens_time",
    "winners_per_week",
    "prize_split",
    "brief_lead_days",
    "grace_days",
    "tip_fee_percent",
)
PROFILE_TEXT_FIELDS: tuple[str, ...] = (
    "handle",
    "real_name",
    "company",
    "role_title",
    "industry",
    "career_path",
    "city",
)
PROFILE_TAG_FIELDS: dict[str, str] = {
    "skills": Tag.Kind.SKILL,
    "needs": Tag.Kind.NEED,
    "hobbies": Tag.Kind.HOBBY,
}
ADDABLE_ROLES = (Role.MEMBER, Role.MODERATOR, Role.ORGANISER)
MAX_TAGS_PER_KIND = 20
MAX_EMAIL_LENGTH = 254  # User.email's column
_TAG_NAME = re.compile(r"^[^,;，；、\n\r\t\x00]{1,40}$")


def _default_vocabulary() -> dict[str, list[str]]:
    # The article's own examples (SPEC §2.1), in the language of the person creating it.
    return {
        Tag.Kind.SKILL: [
            _("Channel and resource integration"),
            _("Planning"),
            _("Copywriting"),
            _("Interaction design"),
            _("Structured thinking"),
        ],
        Tag.Kind.NEED: [
            _("Cross-industry information"),
            _("Solving a work problem"),
            _("Hot topics"),
            _("Product and operations technique"),
            _("Guidance"),
            _("Job seeking"),
            _("Hiring"),
        ],
    }


def audit(
    *,
    community: Community,
    event: str,
    actor: User | None,
    membership: Membership | None = None,
    data: Mapping[str, Any] | None = None,
) -> CommunityAuditLog:
    return CommunityAuditLog.objects.create(
        community=community, event=event, actor=actor, membership=membership, data=dict(data or {})
    )


# --- Communities -------------------------------------------------------------------------------


def community_create(*, creator: User, slug: str, name: str, **rules: Any) -> Community:
    """Create a community; ``creator`` becomes its first organiser."""
    unknown = set(rules) - set(COMMUNITY_RULE_FIELDS)
    if unknown:
        raise ValidationError({f: _("This field cannot be set here.") for f in sorted(unknown)})
    community = Community(slug=(slug or "").strip().lower(), name=(name or "").strip(), **rules)
    community.full_clean()
    try:
        with transaction.atomic():
            community.save()
            membership = Membership.objects.create(
                user=creator,
                community=community,
                role=Role.ORGANISER,
                status=Status.ACTIVE,
                joined_via=Membership.JoinedVia.FOUNDED,
                activated_at=timezone.now(),
            )
            _profile_create(membership=membership)
            Tag.objects.bulk_create(
                Tag(community=community, kind=kind, name=tag_name)
                for kind, names in _default_vocabulary().items()
                for tag_name in names
            )
            audit(
                community=community,
                event=Event.COMMUNITY_CREATED,
                actor=creator,
                membership=membership,
                data={"slug": community.slug},
            )
            _sync_phase(community=community)
    except IntegrityError:
        # Another request took the address between full_clean() and save().
        raise ValidationError({"slug": _("This address is taken.")}, code="unique") from None
    return community


def community_update(
    *, actor: Membership, community: Community, changes: Mapping[str, Any]
) -> Community:
    """Change a community's rules (and, one way, its phase). Call as an organiser."""
    changes = dict(changes)
    phase = changes.pop("phase", None)
    unknown = set(changes) - set(COMMUNITY_RULE_FIELDS)
    if unknown:
        raise ValidationError({f: _("This field cannot be changed.") for f in sorted(unknown)})
    with transaction.atomic():
        locked = Community.objects.select_for_update().get(pk=community.pk)
        before = {f: getattr(locked, f) for f in changes}
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.full_clean()
        if phase is not None:
            _validate_phase_change(community=locked, phase=phase)
        diff = {
            f: [before[f], getattr(locked, f)] for f in changes if before[f] != getattr(locked, f)
        }
        locked.save()
        if diff:
            audit(
                community=locked,
                event=Event.SETTINGS_CHANGED,
                actor=actor.user,
                membership=actor,
                data={"changes": diff},
            )
        if phase == Community.Phase.GROWTH and locked.phase == Community.Phase.SEED:
            _enter_growth(community=locked, actor=actor.user, reason="organiser")
        _sync_phase(community=locked)
    return locked


def _validate_phase_change(*, community: Community, phase: object) -> None:
    if phase not in Community.Phase.values:
        raise ValidationError({"phase": _("Choose seed or growth.")}, code="invalid")
    if phase == Community.Phase.SEED and community.phase == Community.Phase.GROWTH:
        raise ValidationError(
            {"phase": _("A community in the growth phase cannot go back to the seed phase.")},
            code="one_way",
        )


def community_enter_growth(*, actor: Membership, community: Community) -> Community:
    """The organiser's switch to the growth phase (one way)."""
    return community_update(actor=actor, community=community, changes={"phase": "growth"})


def _enter_growth(*, community: Community, actor: User | None, reason: str) -> None:
    """Call with the community row locked."""
    community.phase = Community.Phase.GROWTH
    community.phase_changed_at = timezone.now()
    community.save(update_fields=["phase", "phase_changed_at", "updated_at"])
    audit(
        community=community,
        event=Event.PHASE_CHANGED,
        actor=actor,
        data={
            "from": Community.Phase.SEED,
            "to": Community.Phase.GROWTH,
            "reason": reason,
            "active_members": selectors.active_member_count(community=community),
            "threshold": community.privacy_threshold,
        },
    )


def _sync_phase(*, community: Community) -> None:
    """Enter the growth phase once active membership reaches the threshold.

    Call with the community row locked (or just created), so two joins cannot both miss it.
    """
    if community.phase != Community.Phase.SEED:
        return
    if selectors.active_member_count(community=community) >= community.privacy_threshold:
        _enter_growth(community=community, actor=None, reason="threshold")


def community_sync_phase(*, community_id: int) -> Community | None:
    """Idempotent check of the automatic phase switch, for tasks and other apps."""
    with transaction.atomic():
        community = Community.objects.select_for_update().filter(pk=community_id).first()
        if community is not None:
            _sync_phase(community=community)
    return community


# --- Memberships -------------------------------------------------------------------------------


def _unique_handle(*, community: Community, wanted: str) -> str:
    base = (wanted.strip() or "member")[:34]
    taken = {
        h.casefold()
        for h in Profile.objects.filter(community=community, handle__istartswith=base).values_list(
            "handle", flat=True
        )
    }
    if base.casefold() not in taken:
        return base
    n = 2
    while f"{base}-{n}".casefold() in taken:
        n += 1
    return f"{base}-{n}"


def _profile_create(*, membership: Membership) -> Profile:
    """A new member's profile. The handle is neutral ("member-42") rather than taken from the
    e-mail address, which would name the person in the growth phase; they choose their own."""
    profile = Profile(
        membership=membership,
        community=membership.community,
        handle=_unique_handle(community=membership.community, wanted=f"member-{membership.pk}"),
    )
    profile.search_document, profile.full_search_document = privacy.search_documents(profile, [])
    profile.save()
    return profile


def _refresh_search(*, membership: Membership) -> None:
    """Rebuild the search documents of a membership's profile (its role, status or tags
    changed). Call inside the transaction that made the change."""
    profile = (
        Profile.objects.select_related("membership")
        .prefetch_related("tags")
        .get(membership=membership)
    )
    profile.search_document, profile.full_search_document = privacy.search_documents(
        profile, profile.tags.all()
    )
    profile.save(update_fields=["search_document", "full_search_document"])


def profile_refresh_search(*, membership_id: int) -> None:
    """Rebuild one profile's search documents (after a change made outside these services,
    such as an edit in the admin)."""
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(pk=membership_id).first()
        if membership is not None and hasattr(membership, "profile"):
            _refresh_search(membership=membership)


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
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        return user, False
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
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError({"username": _("This username is taken.")}, code="unique")
    else:
        base = re.sub(r"[^\w.@+-]", "", email.split("@")[0])[:140] or "member"
        username, n = base, 1
        while User.objects.filter(username__iexact=username).exists():
            n += 1
            username = f"{base}{n}"
    user = User.objects.create_user(username=username, email=email, password=None)
    return user, True


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
) -> Membership:
    """Add a person to a community as an active member, creating their account if needed.

    A person who was a member before (lapsed or left) is made active again, and is told by
    e-mail unless ``notify`` is off. Raises ValidationError naming the field; nothing is
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
            _profile_create(membership=membership)
        elif membership.status == Status.ACTIVE:
            raise ValidationError(
                {"email": _("This person is already an active member.")}, code="duplicate"
            )
        else:
            previous = {"role": membership.role, "status": membership.status}
            membership.role, membership.status, membership.activated_at = role, Status.ACTIVE, now
            membership.save(update_fields=["role", "status", "activated_at"])
            _refresh_search(membership=membership)
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
        _sync_phase(community=locked)
        if notify:
            transaction.on_commit(
                lambda: tasks.send_member_added_email.delay(membership.pk, created_user)
            )
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
            _profile_create(membership=membership)
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
        locked.role, locked.status = new_role, new_status
        locked.save(update_fields=["role", "status", "activated_at"])
        _refresh_search(membership=locked)
        _sync_phase(community=community)
    return locked


# --- Profiles and tags -------------------------------------------------------------------------


def _tag_names(value: object, field_name: str) -> list[str]:
    if isinstance(value, str):
        value = re.split(r"[;；、,，]", value)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValidationError({field_name: _("Give a list of tag names.")}, code="invalid")
    names = [v.strip() for v in value if v.strip()]
    if len(names) > MAX_TAGS_PER_KIND:
        raise ValidationError(
            {field_name: _("At most %(max)d tags.") % {"max": MAX_TAGS_PER_KIND}},
            code="max_tags",
        )
    return names


def profile_update(
    *, membership: Membership, data: Mapping[str, Any], create_tags: bool = False
) -> Profile:
    """Update the given fields of a member's profile (a partial update).

    Tag fields take lists of names from the community's vocabulary; unknown names are refused
    unless ``create_tags`` (organisers importing) adds them to the vocabulary.
    """
    unknown = set(data) - set(PROFILE_TEXT_FIELDS) - set(PROFILE_TAG_FIELDS)
    if unknown:
        raise ValidationError({f: _("Unknown field.") for f in sorted(unknown)}, code="unknown")
    errors: dict[str, list[str]] = {}
    with transaction.atomic():
        profile = (
            Profile.objects.select_for_update()
            .select_related("community", "membership")
            .get(membership=membership)
        )
        for name in PROFILE_TEXT_FIELDS:
            if name in data:
                value = data[name]
                if value is None:
                    value = ""
                if not isinstance(value, str):
                    errors.setdefault(name, []).append(_("Enter text."))
                    continue
                if "\x00" in value:
                    errors.setdefault(name, []).append(_("Null characters are not allowed."))
                    continue
                setattr(profile, name, value.strip())
        new_tags: dict[str, list[Tag]] = {}
        for field_name, kind in PROFILE_TAG_FIELDS.items():
            if field_name not in data:
                continue
            try:
                names = _tag_names(data[field_name], field_name)
                if create_tags:
                    _tags_ensure(community=profile.community, kind=kind, names=names)
                new_tags[kind] = selectors.tags_by_names(
                    community=profile.community, kind=kind, names=names, field_name=field_name
                )
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    errors.setdefault(key, []).extend(messages)
        try:
            profile.full_clean(
                exclude=["membership", "community", "tags"], validate_constraints=False
            )
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)
        if "handle" not in errors and (
            Profile.objects.filter(community=profile.community, handle__iexact=profile.handle)
            .exclude(pk=profile.pk)
            .exists()
        ):
            errors.setdefault("handle", []).append(_("This handle is taken in this community."))
        if errors:
            raise ValidationError(errors)
        if new_tags:
            kept = [t for t in profile.tags.all() if t.kind not in new_tags]
            profile.tags.set(kept + [t for tags in new_tags.values() for t in tags])
        profile.search_document, profile.full_search_document = privacy.search_documents(
            profile, profile.tags.all()
        )
        try:
            with transaction.atomic():
                profile.save()
        except IntegrityError:
            raise ValidationError(
                {"handle": _("This handle is taken in this community.")}, code="unique"
            ) from None
    return profile


def _validate_tag_name(name: object) -> str:
    value = str(name or "").strip()
    if not _TAG_NAME.match(value):
        raise ValidationError(
            {"name": _("Use 1–40 characters without commas or semicolons.")}, code="invalid"
        )
    return value


def _tags_ensure(*, community: Community, kind: str, names: list[str]) -> None:
    existing = {
        n.casefold()
        for n in Tag.objects.filter(community=community, kind=kind).values_list("name", flat=True)
    }
    for name in names:
        if name.casefold() not in existing:
            Tag.objects.create(community=community, kind=kind, name=_validate_tag_name(name))
            existing.add(name.casefold())


def tag_create(*, membership: Membership, kind: object, name: object) -> Tag:
    """A member adds a word to the community's vocabulary."""
    if kind not in Tag.Kind.values:
        raise ValidationError({"kind": _("Choose skill, need or hobby.")}, code="invalid")
    value = _validate_tag_name(name)
    community = membership.community
    if Tag.objects.filter(community=community, kind=kind, name__iexact=value).exists():
        raise ValidationError({"name": _("This tag is already in the vocabulary.")}, code="unique")
    try:
        with transaction.atomic():
            return Tag.objects.create(
                community=community, kind=kind, name=value, created_by=membership
            )
    except IntegrityError:
        raise ValidationError(
            {"name": _("This tag is already in the vocabulary.")}, code="unique"
        ) from None
