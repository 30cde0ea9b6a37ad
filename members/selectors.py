"""Reads for pages and the API, each at a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from members import access, privacy, search
from members.models import Community, Membership, Profile, Tag, User

# The directory lists the community's members by role: everyone but candidates.
DIRECTORY_ROLES = access.READER_ROLES


def profiles_with_related() -> QuerySet[Profile]:
    """Profiles as pages show them: with membership, community and tags; without the search
    documents, which are only for finding them."""
    return (
        Profile.objects.select_related("membership", "community")
        .defer("search_document", "full_search_document")
        .prefetch_related(
            Prefetch("tags", queryset=Tag.objects.only("id", "kind", "name", "name_en", "name_zh"))
        )
    )


def profile_for_viewer(*, viewer: Membership, membership_id: int) -> Profile | None:
    qs = profiles_with_related().filter(
        community_id=viewer.community_id, membership_id=membership_id
    )
    if not access.is_organiser(viewer) and membership_id != viewer.pk:
        qs = qs.filter(
            membership__status=Membership.Status.ACTIVE, membership__role__in=DIRECTORY_ROLES
        )
    return qs.first()


def own_profile(*, membership: Membership) -> Profile:
    return profiles_with_related().get(membership=membership)


def vocabulary(*, community: Community) -> dict[str, list[Tag]]:
    """The community's tags by kind, in one query, each kind sorted by its name in the active
    language."""
    grouped: dict[str, list[Tag]] = {kind: [] for kind in Tag.Kind.values}
    for tag in Tag.objects.filter(community=community).order_by("kind", "name"):
        grouped[tag.kind].append(tag)
    for tags in grouped.values():
        tags.sort(key=lambda t: (t.label().casefold(), t.pk))
    return grouped


def any_tag_name(name: str) -> Q:
    """Tags with this name (case-insensitive) in any language."""
    return Q(name__iexact=name) | Q(name_en__iexact=name) | Q(name_zh__iexact=name)


def tags_by_key(tags: list[Tag]) -> dict[str, Tag]:
    """Tags by each of their names, case-folded. A canonical name wins over another tag's
    name in one language (should two tags ever share a word that way)."""
    by_key: dict[str, Tag] = {}
    for tag in tags:
        for value in (tag.name_en, tag.name_zh):
            if value:
                by_key.setdefault(value.casefold(), tag)
    for tag in tags:
        by_key[tag.name.casefold()] = tag
    return by_key


def resolve_tags(
    *, community: Community, wanted: dict[str, tuple[str, list[str]]]
) -> dict[str, list[Tag]]:
    """Resolve tag names for several fields at once (field → (kind, names)), matching any of
    a tag's names (canonical, English, Chinese) case-insensitively, in one query; a tag named
    twice (in both languages) is returned once. Raises a ValidationError naming each field that
    has an unknown tag."""
    keys = {
        field_name: {n.strip().casefold(): n.strip() for n in names if n and n.strip()}
        for field_name, (_kind, names) in wanted.items()
    }
    q = Q()
    for field_name, (kind, _names) in wanted.items():
        for original in keys[field_name].values():
            # Ask with the name as written: the database's idea of case may not be Python's
            # case folding ("Straße"), which is compared below.
            q |= Q(kind=kind) & any_tag_name(original)
    if not q:
        return {field_name: [] for field_name in wanted}
    found = list(Tag.objects.filter(Q(community=community) & q))
    resolved: dict[str, list[Tag]] = {}
    errors: dict[str, str] = {}
    for field_name, (kind, _names) in wanted.items():
        by_key = tags_by_key([t for t in found if t.kind == kind])
        resolved[field_name] = list(
            {by_key[k].pk: by_key[k] for k in keys[field_name] if k in by_key}.values()
        )
        unknown = [name for k, name in keys[field_name].items() if k not in by_key]
        if unknown:
            errors[field_name] = _("Unknown tag: %(names)s. Add it to the vocabulary first.") % {
                "names": ", ".join(unknown)
            }
    if errors:
        raise ValidationError(errors, code="unknown_tag")
    return resolved


def tags_by_names(
    *, community: Community, kind: str, names: list[str], field_name: str
) -> list[Tag]:
    """Resolve tag names (case-insensitively) or raise a ValidationError naming the field."""
    return resolve_tags(community=community, wanted={field_name: (kind, names)})[field_name]


@dataclass
class DirectoryFilters:
    skills: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    hobbies: list[str] = field(default_factory=list)
    industry: str = ""
    city: str = ""
    role: str = ""
    status: str = ""
    q: str = ""


def directory(
    *, viewer: Membership, community: Community, filters: DirectoryFilters
) -> QuerySet[Profile]:
    """The members a viewer may find, filtered and searched, privacy applied to the search.

    Every filter, the membership's role and status included, is a facet token of the profile's
    search document, so the whole question is one index lookup (members.search). A query with
    nothing searchable in it (``"!!!"``) is no text filter at all. Raises ValidationError naming
    the parameter for unknown tags, roles or statuses.
    """
    status = filters.status or Membership.Status.ACTIVE
    if status not in Membership.Status.values:
        raise ValidationError({"status": _("Unknown status.")}, code="invalid")
    if status != Membership.Status.ACTIVE and not access.is_organiser(viewer):
        raise ValidationError(
            {"status": _("Only organisers can list members who are not active.")},
            code="forbidden",
        )
    # Facets that nearly every profile has ("active", "not a candidate") are asked for in the
    # negative (none of the other statuses): an index lookup on a token in every row would
    # cost more than the rest of the search.
    facets: list[str] = []
    excluded: list[str] = []
    if status == Membership.Status.ACTIVE:
        excluded += [search.facet("s", s) for s in Membership.Status.values if s != status]
    else:
        facets.append(search.facet("s", status))
    if filters.role:
        if filters.role not in DIRECTORY_ROLES:
            raise ValidationError({"role": _("Unknown role.")}, code="invalid")
        facets.append(search.facet("r", filters.role))
    else:
        excluded.append(search.facet("r", Membership.Role.CANDIDATE))
    tags = resolve_tags(
        community=community,
        wanted={
            "skill": (Tag.Kind.SKILL, filters.skills),
            "need": (Tag.Kind.NEED, filters.needs),
            "hobby": (Tag.Kind.HOBBY, filters.hobbies),
        },
    )
    facets += [search.facet("t", tag.pk) for found in tags.values() for tag in found]
    if filters.industry.strip():
        facets.append(search.facet("i", filters.industry))
    if filters.city.strip():
        facets.append(search.facet("c", filters.city))
    text = filters.q if search.parse_query(filters.q) else ""
    query = search.Query(text=text, facets=tuple(facets), excluded=tuple(excluded))
    return (
        profiles_with_related()
        .filter(community=community)
        .filter(privacy.search_filter(viewer=viewer, community=community, query=query))
        .order_by("handle", "pk")
    )


def matcher(*, community: Community, tag_names: list[str]) -> QuerySet[Profile]:
    """Active members ranked by how many of the given skills (a question's needs) they have.

    Names are matched case-insensitively against the skill vocabulary; an unknown name is a
    ValidationError on ``tags``. Ties are broken by handle.
    """
    if not [n for n in tag_names if n and n.strip()]:
        raise ValidationError({"tags": _("Give at least one tag to match.")}, code="required")
    skills = tags_by_names(
        community=community, kind=Tag.Kind.SKILL, names=tag_names, field_name="tags"
    )
    return (
        profiles_with_related()
        .filter(
            community=community,
            membership__status=Membership.Status.ACTIVE,
            membership__role__in=DIRECTORY_ROLES,
        )
        .filter(tags__in=skills)
        .annotate(score=Count("tags", distinct=True))
        .order_by("-score", "handle", "pk")
    )


def memberships_of_user(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .exclude(status=Membership.Status.LEFT)
        .select_related("community")
        .order_by("community__name")
    )


def active_member_count(*, community: Community) -> int:
    return Membership.objects.filter(
        community=community,
        status=Membership.Status.ACTIVE,
        role__in=DIRECTORY_ROLES,
    ).count()


def active_member_counts(*, community_ids: list[int]) -> dict[int, int]:
    """Active members per community, for many communities in one query."""
    rows = (
        Membership.objects.filter(
            community_id__in=community_ids,
            status=Membership.Status.ACTIVE,
            role__in=DIRECTORY_ROLES,
        )
        .values("community_id")
        .annotate(n=Count("pk"))
    )
    return {row["community_id"]: row["n"] for row in rows}


def public_communities() -> QuerySet[Community]:
    return Community.objects.annotate(
        active_members=Count(
            "memberships",
            filter=Q(
                memberships__status=Membership.Status.ACTIVE,
                memberships__role__in=DIRECTORY_ROLES,
            ),
        )
    ).order_by("name")


def tags_for_management(*, community: Community) -> dict[str, list[Tag]]:
    """The community's tags by kind, each with ``uses`` (how many profiles carry it), for the
    organisers' vocabulary page; one query."""
    grouped: dict[str, list[Tag]] = {kind: [] for kind in Tag.Kind.values}
    tags = Tag.objects.filter(community=community).annotate(uses=Count("profiles", distinct=True))
    for tag in tags.order_by("kind", "name"):
        grouped[tag.kind].append(tag)
    for group in grouped.values():
        group.sort(key=lambda t: (t.label().casefold(), t.pk))
    return grouped
