"""Profiles and the community's vocabulary of tags: what members write about themselves, and
the search documents built from it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from members import privacy, selectors
from members.models import Community, Membership, Profile, Tag

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
MAX_TAGS_PER_KIND = 20
_TAG_NAME = re.compile(r"^[^,;，；、\n\r\t\x00]{1,40}$")


# Characters of markup: a handle is shown everywhere (escaped), copied into e-mails, CSV and
# other people's tools; a new one may not hold them (existing ones are left as they are).
MARKUP = re.compile(r"[<>&\"'`]")


def _unique_handle(*, community: Community, wanted: str) -> str:
    base = (MARKUP.sub("", wanted).strip() or "member")[:34]
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


def profile_create(*, membership: Membership) -> Profile:
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


def refresh_search(*, membership: Membership) -> None:
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
            refresh_search(membership=membership)


def _tag_names(value: object, field_name: str) -> list[str]:
    if isinstance(value, str):
        value = re.split(r"[;；、,，]", value)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValidationError({field_name: _("Give a list of tag names.")}, code="invalid")
    names = [v.strip() for v in value if v.strip()]
    if any("\x00" in name for name in names):
        raise ValidationError({field_name: _("Null characters are not allowed.")}, code="null")
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
            Profile.objects.select_for_update(of=("self",))
            .select_related("community", "membership")
            .get(membership=membership)
        )
        handle_before = profile.handle
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
        if profile.handle != handle_before and MARKUP.search(profile.handle):
            errors.setdefault("handle", []).append(_("A handle cannot contain < > & \" ' or `."))
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
        if profile.handle != handle_before:
            handles_changed(community_id=profile.community_id)
    return profile


def handles_changed(*, community_id: int) -> None:
    """A member's handle changed: cached pages that name members by handle
    (questions.fragments) get a new version."""
    Community.objects.filter(pk=community_id).update(handles_changed_at=timezone.now())


def profile_handle_unlink(*, membership: Membership) -> str | None:
    """Give a member's profile a new, neutral handle when its current one links it to their
    real name in a seed-phase community (``privacy.handle_links``): the one-click fix offered
    on their profile page. Returns the new handle, or None when the handle linked nothing (so
    a second click changes nothing). Raises ValidationError on ``handle`` if someone took the
    new handle a moment ago."""
    with transaction.atomic():
        profile = (
            Profile.objects.select_for_update(of=("self",))
            .select_related("community", "membership")
            .get(membership=membership)
        )
        links = privacy.handle_links(profile=profile)
        if links is None or not links.named_in:
            return None
        profile_update(membership=membership, data={"handle": links.suggestion})
    return links.suggestion


def validate_tag_name(name: object) -> str:
    value = str(name or "").strip()
    if not _TAG_NAME.match(value):
        raise ValidationError(
            {"name": _("Use 1–40 characters without commas or semicolons.")}, code="invalid"
        )
    return value


def _tags_ensure(*, community: Community, kind: str, names: list[str]) -> None:
    existing = {
        n.casefold()
        for tag in Tag.objects.filter(community=community, kind=kind).only(
            "id", "name", "name_en", "name_zh"
        )
        for n in tag.names
    }
    for name in names:
        if name.casefold() not in existing:
            value = validate_tag_name(name)
            try:
                with transaction.atomic():
                    Tag.objects.create(community=community, kind=kind, name=value)
            except IntegrityError:
                pass  # someone added the same word a moment ago: use theirs
            existing.add(name.casefold())


def tag_create(*, membership: Membership, kind: object, name: object) -> Tag:
    """A member adds a word to the community's vocabulary."""
    if kind not in Tag.Kind.values:
        raise ValidationError({"kind": _("Choose skill, need or hobby.")}, code="invalid")
    value = validate_tag_name(name)
    community = membership.community
    if (
        Tag.objects.filter(community=community, kind=kind)
        .filter(Q(name__iexact=value) | Q(name_en__iexact=value) | Q(name_zh__iexact=value))
        .exists()
    ):
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
