"""Handles that link a person's profiles across communities (issue 10).

The world: one person in a seed-phase community (*garden*: every member sees every field) and
a growth-phase one (*market*: real name and company are private). If they use the same handle
in both, anyone in both can put their real name to their handle in *market*. Only they are
told, on their own profile page, with a one-click neutral handle; and the demo does not model
the pattern.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from members import privacy, services
from members.models import Community, Membership, Profile, User
from members.services import profiles as profile_services
from tests.factories import UserFactory, add_member, make_community, organiser_of, set_status

pytestmark = pytest.mark.django_db

REAL_NAME = "Alice Chen 陈爱丽"
SEED_PROFILE = {"handle": "quiet-fox", "real_name": REAL_NAME, "company": "Northwind Labs"}


def _community(slug: str, *, growth: bool) -> Community:
    community = make_community(slug=slug, name=slug.title())
    if growth:
        community = services.community_enter_growth(
            actor=organiser_of(community), community=community
        )
    return community


@pytest.fixture
def person() -> User:
    return UserFactory()


@pytest.fixture
def garden() -> Community:
    return _community("garden", growth=False)


@pytest.fixture
def market() -> Community:
    return _community("market", growth=True)


def _join(community: Community, user: User, **profile: str) -> Membership:
    return add_member(community, user=user, profile=profile)


def _profile(membership: Membership) -> Profile:
    return Profile.objects.select_related("community", "membership").get(membership=membership)


def _page(client: Client, user: User, community: Community) -> str:
    client.force_login(user)
    response = client.get(f"/c/{community.slug}/me/")
    assert response.status_code == 200
    return response.content.decode()


def _warning(page: str) -> str:
    found = re.search(r'<ul class="messages" id="handle-links">.*?</ul>', page, re.DOTALL)
    return found.group(0) if found else ""


# --- The warning on the growth-phase profile page --------------------------------------------


@pytest.mark.parametrize("growth_handle", ["quiet-fox", "Quiet-Fox"])
def test_the_growth_profile_page_warns_when_the_handle_names_them_in_a_seed_community(
    client: Client, person: User, garden: Community, market: Community, growth_handle: str
) -> None:
    # given the same handle (in any case) in a seed community that shows their real name
    _join(garden, person, **SEED_PROFILE)
    here = _join(market, person, handle=growth_handle)

    # when they open their profile in the growth community
    page = _page(client, person, market)

    # then they are told where, and offered a neutral handle in one click
    warning = _warning(page)
    assert "Garden" in warning
    assert f"“{growth_handle}”" in warning
    assert f'action="/c/{market.slug}/me/handle/"' in warning
    assert f"“member-{here.pk}”" in warning
    # the warning says where, not what: the other community's real name is not repeated
    assert REAL_NAME not in page
    links = privacy.handle_links(profile=_profile(here))
    assert links == privacy.HandleLinks(
        handle=growth_handle, named_in=[garden], suggestion=f"member-{here.pk}"
    )


def test_a_company_shown_in_the_seed_community_links_them_too(
    client: Client, person: User, garden: Community, market: Community
) -> None:
    # given no real name in the seed community, but a company (also private in growth)
    _join(garden, person, handle="quiet-fox", company="Northwind Labs")
    _join(market, person, handle="quiet-fox")
    # then
    assert "Garden" in _warning(_page(client, person, market))


@pytest.mark.parametrize(
    "case",
    [
        "different handle",
        "other community in growth",
        "no real name or company there",
        "not listed there (lapsed)",
        "not listed there (candidate)",
        "someone else's handle",
    ],
)
def test_no_warning_when_the_handle_names_no_one(
    client: Client, person: User, garden: Community, market: Community, case: str
) -> None:
    # given a profile in the growth community with the handle quiet-fox
    here = _join(market, person, handle="quiet-fox")
    # and, elsewhere, something that does not link it to a name
    if case == "different handle":
        _join(garden, person, **{**SEED_PROFILE, "handle": "quiet-fox-2"})
    elif case == "other community in growth":
        other = _community("bazaar", growth=True)
        _join(other, person, **SEED_PROFILE)
    elif case == "no real name or company there":
        _join(garden, person, handle="quiet-fox", city="上海")
    elif case == "not listed there (lapsed)":
        set_status(_join(garden, person, **SEED_PROFILE), Membership.Status.LAPSED)
    elif case == "not listed there (candidate)":
        theirs = _join(garden, person, **SEED_PROFILE)
        set_status(theirs, Membership.Status.ACTIVE, role=Membership.Role.CANDIDATE)
    else:
        _join(garden, UserFactory(), **SEED_PROFILE)

    # when
    page = _page(client, person, market)

    # then
    assert 'id="handle-links"' not in page
    assert privacy.handle_links(profile=_profile(here)) is None


def test_no_warning_between_two_seed_communities(
    client: Client, person: User, garden: Community
) -> None:
    # given: the same handle and name in two seed communities, where both show the name anyway
    orchard = _community("orchard", growth=False)
    _join(garden, person, **SEED_PROFILE)
    _join(orchard, person, **SEED_PROFILE)
    # then
    assert 'id="handle-links"' not in _page(client, person, orchard)
    assert 'id="handle-links"' not in _page(client, person, garden)


def test_the_seed_profile_page_points_to_the_growth_community_to_fix_it(
    client: Client, person: User, garden: Community, market: Community
) -> None:
    # given the link
    _join(garden, person, **SEED_PROFILE)
    _join(market, person, handle="quiet-fox")

    # when they open their profile in the seed community
    warning = _warning(_page(client, person, garden))

    # then it names the growth community and links to their profile there; no one-click
    # change here, since a new handle in the seed community would leave the old one named
    assert "Market" in warning
    assert f'href="/c/{market.slug}/me/"' in warning
    assert "/me/handle/" not in warning


def test_others_are_not_told_about_the_members_other_communities(
    client: Client, person: User, garden: Community, market: Community
) -> None:
    # given the link, and the growth community's organiser opening the person's profile
    _join(garden, person, **SEED_PROFILE)
    theirs = _join(market, person, handle="quiet-fox")
    client.force_login(organiser_of(market).user)

    # when
    page = client.get(f"/c/{market.slug}/members/{theirs.pk}/").content.decode()

    # then nothing says where else the handle is used
    assert 'id="handle-links"' not in page
    assert "Garden" not in page


def test_a_lapsed_member_sees_the_warning_without_the_button(
    client: Client, person: User, garden: Community, market: Community
) -> None:
    _join(garden, person, **SEED_PROFILE)
    set_status(_join(market, person, handle="quiet-fox"), Membership.Status.LAPSED)

    warning = _warning(_page(client, person, market))

    assert "Garden" in warning
    assert "/me/handle/" not in warning


# --- The one-click fix -----------------------------------------------------------------------


def test_the_suggestion_gives_a_new_neutral_handle_here_and_the_warning_goes(
    client: Client, person: User, garden: Community, market: Community
) -> None:
    # given the link
    there = _join(garden, person, **SEED_PROFILE)
    here = _join(market, person, handle="quiet-fox", city="上海", real_name="A. C.")
    client.force_login(person)

    # when they click the suggestion
    response = client.post(f"/c/{market.slug}/me/handle/")

    # then the handle here is the suggested one, nothing else changed, and the page is calm
    assert response.status_code == 302
    assert response["Location"] == f"/c/{market.slug}/me/"
    profile = _profile(here)
    assert (profile.handle, profile.city) == (f"member-{here.pk}", "上海")
    assert privacy.profile_data(viewer=here, profile=profile)["real_name"] == "A. C."
    assert _profile(there).handle == "quiet-fox"
    page = client.get(f"/c/{market.slug}/me/").content.decode()
    assert f"“member-{here.pk}”" in page  # the success message
    assert 'id="handle-links"' not in page
    assert 'id="handle-links"' not in _page(client, person, garden)


def test_a_second_click_changes_nothing(
    client: Client, person: User, garden: Community, market: Community
) -> None:
    _join(garden, person, **SEED_PROFILE)
    here = _join(market, person, handle="quiet-fox")
    client.force_login(person)
    client.post(f"/c/{market.slug}/me/handle/")
    before = Profile.objects.filter(pk=here.pk).values().get()

    response = client.post(f"/c/{market.slug}/me/handle/")

    assert response.status_code == 302
    assert Profile.objects.filter(pk=here.pk).values().get() == before
    assert profile_services.profile_handle_unlink(membership=here) is None


def test_the_suggestion_is_free_here_and_unused_by_them_elsewhere(
    person: User, garden: Community, market: Community
) -> None:
    # given the neutral handle is taken here by someone else, and the next one is theirs
    # in a third community
    here = _join(market, person, handle="quiet-fox")
    _join(garden, person, **SEED_PROFILE)
    _join(market, UserFactory(), handle=f"member-{here.pk}")
    _join(_community("bazaar", growth=True), person, handle=f"MEMBER-{here.pk}-2")

    # when
    new = profile_services.profile_handle_unlink(membership=here)

    # then
    assert new == f"member-{here.pk}-3"
    assert _profile(here).handle == new


def test_the_fix_is_post_only_and_for_active_members_only(
    client: Client, person: User, garden: Community, market: Community
) -> None:
    _join(garden, person, **SEED_PROFILE)
    here = set_status(_join(market, person, handle="quiet-fox"), Membership.Status.LAPSED)
    client.force_login(person)

    assert client.get(f"/c/{market.slug}/me/handle/").status_code == 405
    assert client.post(f"/c/{market.slug}/me/handle/").status_code == 403
    assert _profile(here).handle == "quiet-fox"


def test_without_a_link_the_fix_changes_nothing(
    client: Client, person: User, market: Community
) -> None:
    here = _join(market, person, handle="quiet-fox")
    client.force_login(person)

    response = client.post(f"/c/{market.slug}/me/handle/", follow=True)

    assert response.status_code == 200
    assert _profile(here).handle == "quiet-fox"


# The demo's handles are checked in tests/community/test_demo.py, which loads the demo once
# (test_demo_names_no_one_through_a_shared_handle).
