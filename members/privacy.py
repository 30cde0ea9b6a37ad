"""Staged privacy: the one place that decides what a viewer may see of a profile.

Rule (SPEC §2.1): in the *seed* phase every member sees every field of every profile. In the
*growth* phase ``real_name`` and ``company`` are visible only to the member themself and to
the community's organisers; everyone else sees the handle and the shared fields.

Pages, the API, directory search, CSV exports (and later e-mails, digests and the book) take
what they show from here; nothing else reads the hidden fields for display. A hidden field is
left out, never sent empty, and a search by a hidden value finds nothing for those who may not
see it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q
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


def sees_hidden_fields(*, viewer: Membership | None, profile: Profile) -> bool:
    if viewer is not None and viewer.pk == profile.membership_id:
        return True
    return sees_every_hidden_field(viewer=viewer, community=profile.community)


def display_name(profile: Profile) -> str:
    """How a member is named next to what they wrote (questions, answers, comments, e-mails,
    digests): the handle, in every phase, for every viewer."""
    return profile.handle


def tags_of(profile: Profile) -> dict[str, list[str]]:
    """Tag names by field; reads the prefetched ``tags`` so a page stays at fixed queries."""
    grouped: dict[str, list[str]] = {"skills": [], "needs": [], "hobbies": []}
    key = {Tag.Kind.SKILL: "skills", Tag.Kind.NEED: "needs", Tag.Kind.HOBBY: "hobbies"}
    for tag in sorted(profile.tags.all(), key=lambda t: t.name.casefold()):
        grouped[key[Tag.Kind(tag.kind)]].append(tag.name)
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
        **tags_of(profile),
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
    data.update({"skills": card.skills, "needs": card.needs, "hobbies": card.hobbies})
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
    shared = [getattr(profile, name) for name in SHARED_TEXT_FIELDS] + [t.name for t in tags]
    hidden = [getattr(profile, name) for name in HIDDEN_FIELDS]
    facets = search_facets(profile, tags)
    return (
        search.document(*shared, facets=facets),
        search.document(*shared, *hidden, facets=facets),
    )
