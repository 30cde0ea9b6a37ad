"""Staged privacy: the one place that decides what a viewer may see of a profile.

Rule (SPEC §2.1): in the *seed* phase every member sees every field of every profile. In the
*growth* phase ``real_name`` and ``company`` are visible only to the member themself and to
the community's organisers; everyone else sees the handle and the shared fields.

Pages, the API, directory search, CSV exports (and later e-mails, digests and the book) take
what they show from here; nothing else reads the hidden fields for display. A hidden field is
left out, never sent empty, and a search by a hidden value finds nothing for those who may not
see it.

It also decides when a member's handle *links* their profiles across communities: the same
handle in a seed-phase community (where members see the real name next to it) and in a
growth-phase one (where the handle is all they see) names the person in both
(``handle_links``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from members import access, search
from members.models import Community, Membership, Profile, Tag

HIDDEN_FIELDS: tuple[str, ...] = ("real_name", "company")
SHARED_TEXT_FIELDS: tuple[str, ...] = ("handle", "role_title", "industry", "career_path", "city")
TAG_FIELDS: tuple[str, ...] = ("skills", "needs", "hobbies")


def is_reader(viewer: Membership | None, community: Community) -> bool:
    """A member who may read the community's directory at all (members.access.is_reader, in
    this community)."""
    return viewer is not None and viewer.community_id == community.pk and access.is_reader(viewer)


def sees_every_hidden_field(*, viewer: Membership | None, community: Community) -> bool:
    """True when ``viewer`` may see the hidden fields of *every* profile in ``community``."""
    if not is_reader(viewer, community):
        return False
    assert viewer is not None  # noqa: S101 - narrowed by is_reader
    return community.phase == Community.Phase.SEED or access.is_organiser(viewer)


def audience(*, viewer: Membership | None, community: Community) -> str:
    """The class of viewers who see the same of every profile in ``community``: ``all``
    (every field of every profile), ``shared`` (the shared fields) or ``public`` (not a
    reader). HTML cached for one viewer is served only to viewers of the same class — it is
    part of every cached fragment's key (questions.fragments) — and a fragment that shows a
    member's own hidden fields (which only they see) is never shared at all."""
    if sees_every_hidden_field(viewer=viewer, community=community):
        return "all"
    return "shared" if is_reader(viewer, community) else "public"


def sees_hidden_fields(*, viewer: Membership | None, profile: Profile) -> bool:
    if viewer is not None and viewer.pk == profile.membership_id:
        return True
    return sees_every_hidden_field(viewer=viewer, community=profile.community)


def display_name(profile: Profile) -> str:
    """How a member is named next to what they wrote (questions, answers, comments, e-mails,
    digests): the handle, in every phase, for every viewer."""
    return profile.handle


def tags_of(profile: Profile, *, labels: bool = False) -> dict[str, list[str]]:
    """Tag names by field; reads the prefetched ``tags`` so a page stays at fixed queries.
    Canonical names (the API's, the forms' values), or with ``labels`` each tag's name in the
    active language (what pages show)."""
    grouped: dict[str, list[str]] = {"skills": [], "needs": [], "hobbies": []}
    key = {Tag.Kind.SKILL: "skills", Tag.Kind.NEED: "needs", Tag.Kind.HOBBY: "hobbies"}
    names = [(tag.label() if labels else tag.name, tag) for tag in profile.tags.all()]
    for name, tag in sorted(names, key=lambda pair: pair[0].casefold()):
        grouped[key[Tag.Kind(tag.kind)]].append(name)
    return grouped


@dataclass(frozen=True)
class ProfileCard:
    """A profile as one viewer may see it; the only profile object templates receive."""

    id: int
    role: str
    role_label: str
    handle: str
    role_title: str
    industry: str
    career_path: str
    city: str
    skills: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    hobbies: list[str] = field(default_factory=list)
    # Present only when the viewer may see them.
    hidden: dict[str, str] | None = None

    @property
    def real_name(self) -> str | None:
        return None if self.hidden is None else self.hidden["real_name"]

    @property
    def company(self) -> str | None:
        return None if self.hidden is None else self.hidden["company"]

    @property
    def hidden_withheld(self) -> bool:
        return self.hidden is None


def _card(profile: Profile, *, show_hidden: bool) -> ProfileCard:
    membership = profile.membership
    return ProfileCard(
        id=profile.membership_id,
        role=membership.role,
        role_label=str(membership.get_role_display()),
        handle=profile.handle,
        role_title=profile.role_title,
        industry=profile.industry,
        career_path=profile.career_path,
        city=profile.city,
        **tags_of(profile, labels=True),
        hidden={name: getattr(profile, name) for name in HIDDEN_FIELDS} if show_hidden else None,
    )


def profile_card(*, viewer: Membership | None, profile: Profile) -> ProfileCard:
    return _card(profile, show_hidden=sees_hidden_fields(viewer=viewer, profile=profile))


def profile_cards(*, viewer: Membership | None, profiles: Iterable[Profile]) -> list[ProfileCard]:
    return [profile_card(viewer=viewer, profile=p) for p in profiles]


def profile_data(*, viewer: Membership | None, profile: Profile) -> dict[str, object]:
    """The API representation: hidden fields are absent, not empty."""
    card = profile_card(viewer=viewer, profile=profile)
    data: dict[str, object] = {"id": card.id, "role": card.role, "handle": card.handle}
    if card.hidden is not None:
        data.update(card.hidden)
    for name in ("role_title", "industry", "career_path", "city"):
        data[name] = getattr(card, name)
    data.update(tags_of(profile))  # canonical names: the API's contract, not the page's labels
    return data


def preview_cards(*, profile: Profile) -> list[tuple[Promise, ProfileCard]]:
    """ "How others see me": the profile as each audience sees it, in each phase."""
    return [
        (_("Another member, in the seed phase"), _card(profile, show_hidden=True)),
        (
            _("Another member or a moderator, in the growth phase"),
            _card(profile, show_hidden=False),
        ),
        (_("An organiser, in either phase"), _card(profile, show_hidden=True)),
    ]


def search_filter(
    *, viewer: Membership | None, community: Community, query: str | search.Query
) -> Q:
    """Free-text search (with any facet filters) that only matches hidden fields the viewer
    may see: the shared document for everyone, the full one for the viewer's own profile."""
    if isinstance(query, str):
        query = search.Query(text=query)
    if sees_every_hidden_field(viewer=viewer, community=community) or not query.text.strip():
        column = "full_search_document" if query.text.strip() else "search_document"
        return Q(**{f"{column}__matches": query})
    own = Q(pk=viewer.pk) if viewer is not None else Q(pk__in=[])
    return Q(search_document__matches=query) | (own & Q(full_search_document__matches=query))


EXPORT_COLUMNS: tuple[str, ...] = (
    "id",
    "role",
    "handle",
    *HIDDEN_FIELDS,
    "role_title",
    "industry",
    "career_path",
    "city",
    *TAG_FIELDS,
)


def export_columns(*, viewer: Membership | None, community: Community) -> list[str]:
    """CSV columns for this viewer: the hidden ones only for those who may see them all."""
    if sees_every_hidden_field(viewer=viewer, community=community):
        return list(EXPORT_COLUMNS)
    return [c for c in EXPORT_COLUMNS if c not in HIDDEN_FIELDS]


def export_row(*, viewer: Membership | None, profile: Profile, columns: list[str]) -> list[str]:
    data = profile_data(viewer=viewer, profile=profile)
    row = []
    for column in columns:
        value = data.get(column, "")
        row.append("; ".join(value) if isinstance(value, list) else str(value))
    return row


def search_facets(profile: Profile, tags: Iterable[Tag]) -> list[str]:
    """Exact-filter tokens of a profile, all from shared fields: its tags, city, industry, and
    the membership's role and status (so the directory needs no join to filter on them)."""
    return [
        *(search.facet("t", tag.pk) for tag in tags),
        search.facet("c", profile.city),
        search.facet("i", profile.industry),
        search.facet("r", profile.membership.role),
        search.facet("s", profile.membership.status),
    ]


def search_documents(profile: Profile, tags: Iterable[Tag]) -> tuple[str, str]:
    """The (shared, shared + hidden) search documents for a profile with these tags."""
    tags = list(tags)
    # Every name of a tag, so a search in either language finds it.
    shared = [getattr(profile, name) for name in SHARED_TEXT_FIELDS] + [
        n for t in tags for n in t.names
    ]
    hidden = [getattr(profile, name) for name in HIDDEN_FIELDS]
    facets = search_facets(profile, tags)
    return (
        search.document(*shared, facets=facets),
        search.document(*shared, *hidden, facets=facets),
    )


# --- Handles that link communities --------------------------------------------------------------
#
# One person may belong to several communities. A seed-phase community shows every member their
# real name and company next to their handle; if they use the same handle in a growth-phase
# community, anyone in both can put the name to it there, and the growth phase protects nothing.
# Only the member is told (on their own profile page): organisers of either community learn
# nothing about the other, since saying "this handle is used elsewhere" would itself be a leak.


def _named_to_members(profile: Profile) -> bool:
    """Whether the other members of the profile's community see its hidden fields now: a
    listed (active, non-candidate) membership of a seed-phase community, with a real name or
    company filled in."""
    membership = profile.membership
    return (
        profile.community.phase == Community.Phase.SEED
        and membership.status == Membership.Status.ACTIVE
        and membership.role in access.READER_ROLES
        and bool(profile.real_name or profile.company)
    )


_NAMED_TO_MEMBERS = (
    Q(community__phase=Community.Phase.SEED)
    & Q(membership__status=Membership.Status.ACTIVE)
    & Q(membership__role__in=access.READER_ROLES)
    & ~Q(real_name="", company="")
)
# Where a handle stands for the person: their own profile in a growth-phase community they
# take part in (as a member, or as a candidate whose challenge answers carry it).
_PSEUDONYMOUS = Q(community__phase=Community.Phase.GROWTH) & Q(
    membership__status__in=access.ACTIVE_OR_LAPSED
)


@dataclass(frozen=True)
class HandleLinks:
    """The member's other communities in which they use this profile's handle too, and where
    that names them. Built only for the member themself."""

    handle: str
    # This profile is in the growth phase: seed-phase communities that show the member's real
    # name and company next to the same handle. A new handle *here* breaks the link.
    named_in: list[Community] = field(default_factory=list)
    # This profile is in the seed phase and shows the name: growth-phase communities in which
    # the same handle is all other members see of them. The fix is a new handle *there*.
    pseudonymous_in: list[Community] = field(default_factory=list)
    # With named_in: a handle for this profile that links to nothing (unlinked_handle).
    suggestion: str = ""


def _same_handle_elsewhere(
    *, user_id: int | OuterRef, handle: str | OuterRef, pk: int | OuterRef
) -> QuerySet[Profile]:
    """The same person's profiles in other communities with the same handle (in any case)."""
    return Profile.objects.filter(membership__user_id=user_id, handle__iexact=handle).exclude(pk=pk)


def with_handle_links(profiles: QuerySet[Profile]) -> QuerySet[Profile]:
    """Annotate what ``handle_links`` needs to answer without a query when a profile links
    nothing (nearly always): whether the same handle names the person elsewhere, and whether
    it stands for them in a growth-phase community."""
    elsewhere = _same_handle_elsewhere(
        user_id=OuterRef("membership__user_id"), handle=OuterRef("handle"), pk=OuterRef("pk")
    )
    return profiles.annotate(
        handle_named_elsewhere=Exists(elsewhere.filter(_NAMED_TO_MEMBERS)),
        handle_pseudonymous_elsewhere=Exists(elsewhere.filter(_PSEUDONYMOUS)),
    )


def handle_links(*, profile: Profile) -> HandleLinks | None:
    """How this profile's handle links the member to their profiles in other communities
    (same person, same handle, case-insensitively), or None when it links nothing. One query
    when there is a link, or when ``profile`` was not fetched ``with_handle_links``."""
    if profile.community.phase == Community.Phase.GROWTH:
        where, annotation = _NAMED_TO_MEMBERS, "handle_named_elsewhere"
    elif _named_to_members(profile):
        where, annotation = _PSEUDONYMOUS, "handle_pseudonymous_elsewhere"
    else:
        return None
    if not getattr(profile, annotation, True):
        return None
    communities = [
        p.community
        for p in _same_handle_elsewhere(
            user_id=profile.membership.user_id, handle=profile.handle, pk=profile.pk
        )
        .filter(where)
        .select_related("community")
        .order_by("community__name", "pk")
    ]
    if not communities:
        return None
    if profile.community.phase == Community.Phase.GROWTH:
        return HandleLinks(
            handle=profile.handle,
            named_in=communities,
            suggestion=unlinked_handle(profile=profile),
        )
    return HandleLinks(handle=profile.handle, pseudonymous_in=communities)


def unlinked_handle(*, profile: Profile) -> str:
    """A handle for ``profile`` that is free in its community and that its member uses in no
    other community: the neutral default new members get (``member-42``, from the membership's
    id, so it says nothing about the person), numbered on when that is taken."""
    base = f"member-{profile.membership_id}"
    used = {
        handle.casefold()
        for handle in Profile.objects.filter(
            Q(community_id=profile.community_id)
            | Q(membership__user_id=profile.membership.user_id),
            handle__istartswith=base,
        ).values_list("handle", flat=True)
    }
    used.add(profile.handle.casefold())
    candidate, n = base, 2
    while candidate.casefold() in used:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def member_named(*, viewer: Membership, community: Community, text: str) -> Membership:
    """The member a filter names (the ledger's): by handle (any case), by real name where the
    viewer may see real names (members.privacy), or by id (the filter's old form, kept so
    that links keep working); failing those, by a part of the handle or name that only one
    member matches. ValidationError on ``member`` when nobody or several match."""
    text = " ".join(text.split())
    if not text:
        raise ValidationError({"member": _("Type a member's handle or name.")})
    names = sees_every_hidden_field(viewer=viewer, community=community)
    profiles = Profile.objects.filter(community=community).select_related("membership")
    exact = Q(handle__iexact=text)
    if names:
        exact |= Q(real_name__iexact=text)
    number = int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None
    if number is not None:
        exact |= Q(membership_id=number)
    found = list(profiles.filter(exact).order_by("pk")[:20])
    folded = text.casefold()
    for matches in (  # a handle wins over an id, an id over a real name
        [p for p in found if p.handle.casefold() == folded],
        [p for p in found if number is not None and p.membership_id == number],
        [p for p in found if names and p.real_name.casefold() == folded],
    ):
        if len(matches) == 1:
            return matches[0].membership
        if matches:
            break
    else:
        if len(found) == 1:  # matched by the database's case rules rather than Python's
            return found[0].membership
    if not found and number is None:
        partial = Q(handle__icontains=text)
        if names:
            partial |= Q(real_name__icontains=text)
        found = list(profiles.filter(partial).order_by("pk")[:2])
        if len(found) == 1:
            return found[0].membership
    if found:
        message = _("Several members match “%(text)s”: type the whole handle.")
        code = "ambiguous"
    else:
        message = _("No member of this community has the handle or name “%(text)s”.")
        code = "invalid"
    raise ValidationError({"member": ValidationError(message, code=code, params={"text": text})})
