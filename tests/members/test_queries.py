"""Pages and endpoints run a fixed number of SQL queries whatever the number of members:
each is measured at 10 and at 200 members with the same budget. (Portal pages include one
query for the header's unread-notification count.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from members.models import Community, Membership
from tests.factories import bulk_members, make_community, organiser_of
from tests.worlds import fresh, settled, shared_world

pytestmark = pytest.mark.django_db

SIZES = [10, 200]

Populated = tuple[Community, Membership, Membership]


@pytest.fixture(scope="module", params=SIZES, ids=lambda n: f"{n}-members")
def _populated(
    request: pytest.FixtureRequest, django_db_setup: None, django_db_blocker: Any
) -> Iterator[Populated]:
    """Each size built once per module (tests/worlds.py): pytest runs one size's tests, rolls
    its world back, then builds the other (both use the slug the URLs name)."""
    with shared_world(django_db_blocker):
        community = make_community(slug="budget", privacy_threshold=100_000)
        members = bulk_members(community, request.param)
        yield settled((community, organiser_of(community), members[0]))


@pytest.fixture
def populated(_populated: Populated, db: None) -> Populated:
    return fresh(_populated)


PORTAL = [
    ("directory", "/c/budget/members/", 8),
    ("directory search", "/c/budget/members/?q=交互设计&city=上海", 8),
    ("directory filter", "/c/budget/members/?skill=SQL&need=招聘&hobby=跑步&role=member", 9),
    ("directory page 2", "/c/budget/members/?page=2", 8),
    ("my profile", "/c/budget/me/", 7),
    ("matcher", "/c/budget/matcher/?tags=SQL&tags=交互设计", 9),
    ("settings", "/c/budget/settings/", 6),
    # a reader's home in the community (community.dashboard): the week, its budget, the
    # moderator on duty, last week's winners, what needs them — flat in the data's size
    # (tests/community/test_dashboard.py); a visitor's landing page is in test_landing_cache
    ("community home", "/c/budget/", 25),
    ("home", "/", 5),
]
API = [
    ("api directory", "/api/v1/communities/budget/members/", 4),
    ("api directory search", "/api/v1/communities/budget/members/?q=设计&skill=交互设计", 5),
    ("api me", "/api/v1/communities/budget/members/me/", 3),
    ("api community", "/api/v1/communities/budget/", 2),
    ("api communities", "/api/v1/communities/", 2),
    ("api matcher", "/api/v1/communities/budget/matcher/?tags=SQL", 5),
    ("api tags", "/api/v1/communities/budget/tags/", 2),
]


@pytest.mark.parametrize(("name", "url", "budget"), PORTAL, ids=[p[0] for p in PORTAL])
@pytest.mark.parametrize("as_organiser", [True, False], ids=["organiser", "member"])
def test_portal_page_queries_are_fixed(
    populated: Populated,
    client: Client,
    django_assert_max_num_queries: Callable,
    name: str,
    url: str,
    budget: int,
    as_organiser: bool,
) -> None:
    _community, organiser, member = populated
    viewer = organiser if as_organiser else member
    client.force_login(viewer.user)
    expected = 403 if not as_organiser and name in ("matcher", "settings") else 200
    with django_assert_max_num_queries(budget):
        response = client.get(url)
    assert response.status_code == expected


def test_profile_page_queries_are_fixed(
    populated: Populated,
    client: Client,
    api: APIClient,
    django_assert_max_num_queries: Callable,
) -> None:
    _community, organiser, member = populated
    client.force_login(member.user)
    api.force_authenticate(member.user)
    with django_assert_max_num_queries(7):  # the badges: one query
        assert client.get(f"/c/budget/members/{organiser.pk}/").status_code == 200
    with django_assert_max_num_queries(3):
        assert api.get(f"/api/v1/communities/budget/members/{organiser.pk}/").status_code == 200


@pytest.mark.parametrize(("name", "url", "budget"), API, ids=[p[0] for p in API])
def test_api_queries_are_fixed(
    populated: Populated,
    api: APIClient,
    django_assert_max_num_queries: Callable,
    name: str,
    url: str,
    budget: int,
) -> None:
    _community, organiser, _member = populated
    api.force_authenticate(organiser.user)
    with django_assert_max_num_queries(budget):
        response = api.get(url)
    assert response.status_code == 200, response.content


def test_export_streams_every_member_in_fixed_queries(
    populated: Populated,
    client: Client,
    django_assert_max_num_queries: Callable,
) -> None:
    community, organiser, _member = populated
    client.force_login(organiser.user)
    with django_assert_max_num_queries(6):
        response = client.get("/c/budget/members/export.csv")
        body = b"".join(response.streaming_content).decode()
    assert body.count("\n") == Membership.objects.filter(community=community).count() + 1
