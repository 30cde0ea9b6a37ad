"""The community's vocabulary as organisers keep it: a name per language for each tag, and
merging two tags that mean the same thing (the members' tags move, an audit row is kept)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from members import privacy
from members.audit import Event
from members.models import Community, Membership, Profile, Tag
from members.services.communities import audit
from members.services.profiles import validate_tag_name

NAME_FIELDS: tuple[str, ...] = ("name", "name_en", "name_zh")


def _snapshot(tag: Tag) -> dict[str, Any]:
    return {"id": tag.pk, "kind": tag.kind, **{f: getattr(tag, f) for f in NAME_FIELDS}}


def name_clashes(
    *, community: Community, kind: str, names: dict[str, str], exclude_pk: int | None = None
) -> dict[str, str]:
    """For each field whose name (in any language) is already another tag's name (in any
    language) of the same kind, an error message. A word must find one tag only."""
    wanted = {field: value.casefold() for field, value in names.items() if value}
    if not wanted:
        return {}
    others = Tag.objects.filter(community=community, kind=kind)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    taken: dict[str, Tag] = {}
    for other in others.only("id", *NAME_FIELDS):
        for value in other.names:
            taken.setdefault(value.casefold(), other)
    errors: dict[str, str] = {}
    for field, key in wanted.items():
        if key in taken:
            errors[field] = _("“%(name)s” already names the tag “%(tag)s”.") % {
                "name": names[field],
                "tag": taken[key].label(),
            }
    return errors


def _clean_names(*, name: object, name_en: object, name_zh: object) -> dict[str, str]:
    values: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for field, raw, required in (
        ("name", name, True),
        ("name_en", name_en, False),
        ("name_zh", name_zh, False),
    ):
        text = str(raw or "").strip()
        if not text and not required:
            values[field] = ""
            continue
        try:
            values[field] = validate_tag_name(text)
        except ValidationError as exc:
            errors[field] = exc.messages
    if errors:
        raise ValidationError(errors, code="invalid")
    return values


def tag_rename(
    *, actor: Membership, tag_id: object, name: object, name_en: object = "", name_zh: object = ""
) -> Tag:
    """An organiser names a tag: its canonical name and its name in English and in Chinese
    (either may be left empty: pages then show the canonical name). Members keep the tag."""
    values = _clean_names(name=name, name_en=name_en, name_zh=name_zh)
    community = actor.community
    try:
        with transaction.atomic():
            tag = (
                Tag.objects.select_for_update()
                .filter(community=community, pk=_as_pk(tag_id, "tag"))
                .first()
            )
            if tag is None:
                raise ValidationError({"tag": _("Choose a tag of this community.")}, code="invalid")
            clashes = name_clashes(
                community=community, kind=tag.kind, names=values, exclude_pk=tag.pk
            )
            if clashes:
                raise ValidationError(clashes, code="unique")
            before = _snapshot(tag)
            for field, value in values.items():
                setattr(tag, field, value)
            if _snapshot(tag) == before:
                return tag
            tag.save(update_fields=list(NAME_FIELDS))
            _refresh_profiles(Profile.objects.filter(tags=tag))
            audit(
                community=community,
                event=Event.TAG_RENAMED,
                actor=actor.user,
                data={"before": before, "after": _snapshot(tag)},
            )
    except IntegrityError:
        # Someone gave another tag one of these names a moment ago.
        raise ValidationError(
            {"name": _("One of these names was just given to another tag. Try again.")},
            code="unique",
        ) from None
    return tag


def _as_pk(value: object, field: str) -> int:
    try:
        pk = int(str(value))
    except (TypeError, ValueError):
        raise ValidationError(
            {field: _("Choose a tag of this community.")}, code="invalid"
        ) from None
    if pk <= 0 or pk > 2**63 - 1:
        raise ValidationError({field: _("Choose a tag of this community.")}, code="invalid")
    return pk


def tag_merge(*, actor: Membership, source_id: object, target_id: object) -> Tag:
    """Merge tag ``source`` into ``target`` (same community and kind): whatever carried the
    source (members' profiles, questions' needs) carries the target instead — once, if it had
    both —, the target takes the source's names in the languages it had none for, the source is
    deleted and an audit row records who merged what. Returns the target."""
    community = actor.community
    source_pk, target_pk = _as_pk(source_id, "source"), _as_pk(target_id, "target")
    if source_pk == target_pk:
        raise ValidationError({"target": _("Choose two different tags.")}, code="same")
    with transaction.atomic():
        locked = {
            t.pk: t
            for t in Tag.objects.select_for_update()
            .filter(community=community, pk__in=[source_pk, target_pk])
            .order_by("pk")
        }
        errors = {
            field: _("Choose a tag of this community.")
            for field, pk in (("source", source_pk), ("target", target_pk))
            if pk not in locked
        }
        if errors:
            raise ValidationError(errors, code="invalid")
        source, target = locked[source_pk], locked[target_pk]
        if source.kind != target.kind:
            raise ValidationError(
                {"target": _("Both tags must be of the same kind (skill, need or hobby).")},
                code="kind",
            )
        before = {"source": _snapshot(source), "target": _snapshot(target)}
        moved = _move_carriers(source=source, target=target)
        source.delete()
        gained = [
            f for f in ("name_en", "name_zh") if not getattr(target, f) and getattr(source, f)
        ]
        for field in gained:
            setattr(target, field, getattr(source, field))
        if gained:
            target.save(update_fields=gained)
        _refresh_profiles(Profile.objects.filter(tags=target))
        audit(
            community=community,
            event=Event.TAG_MERGED,
            actor=actor.user,
            data={**before, "moved": moved, "after": _snapshot(target)},
        )
    return target


def _move_carriers(*, source: Tag, target: Tag) -> dict[str, int]:
    """Point every many-to-many link to ``source`` at ``target`` (skipping rows that already
    link to it), whichever app's model holds the link; how many moved, by model label. Reached
    through Tag's relations, so ``members`` needs to import nothing from the apps on its
    right."""
    moved: dict[str, int] = {}
    for relation in Tag._meta.related_objects:
        if not relation.many_to_many:
            continue
        m2m = relation.field
        assert isinstance(m2m, models.ManyToManyField)  # noqa: S101
        through = m2m.remote_field.through
        owner = f"{m2m.m2m_field_name()}_id"
        tag = f"{m2m.m2m_reverse_field_name()}_id"
        owners = set(through.objects.filter(**{tag: source.pk}).values_list(owner, flat=True))
        if not owners:
            continue
        already = set(
            through.objects.filter(**{tag: target.pk, f"{owner}__in": owners}).values_list(
                owner, flat=True
            )
        )
        through.objects.bulk_create(
            [through(**{owner: pk, tag: target.pk}) for pk in sorted(owners - already)]
        )
        through.objects.filter(**{tag: source.pk}).delete()
        moved[m2m.model._meta.label] = len(owners)
    return moved


def _refresh_profiles(profiles: Any) -> None:
    """Rebuild the search documents of these profiles (a tag's names changed)."""
    rows = list(profiles.select_related("membership").prefetch_related("tags"))
    for profile in rows:
        profile.search_document, profile.full_search_document = privacy.search_documents(
            profile, profile.tags.all()
        )
    Profile.objects.bulk_update(rows, ["search_document", "full_search_document"], batch_size=500)
