"""A community's landing page as visitors see it is kept in the cache per language
(members/views.py, LANDING_CACHE_SECONDS): served from it with the visitor's own CSRF token,
never to someone signed in, and never stale after an organiser changes the community."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from members.models import Community, Membership
from members.services.communities import community_enter_growth, community_update
from tests.factories import UserFactory, add_member, organiser_of

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def test_a_visitor_is_served_the_cached_page_with_their_own_token(
    community: Community, django_assert_max_num_queries: Callable
) -> None:
    first = Client(enforce_csrf_checks=True).get("/c/circle/")
    assert first.status_code == 200
    visitor = Client(enforce_csrf_checks=True)
    with django_assert_max_num_queries(0):  # no query at all: the page from the cache
        again = visitor.get("/c/circle/")
    assert again.status_code == 200
    html = again.content.decode()
    assert TOKEN.sub("", html) == TOKEN.sub("", first.content.decode())
    assert "Circle" in html
    # the language menu's form carries this visitor's token: it is accepted
    [token] = TOKEN.findall(html)
    switched = visitor.post(
        "/i18n/setlang/",
        {"language": "zh-hans", "next": "/c/circle/", "csrfmiddlewaretoken": token},
    )
    assert switched.status_code == 302


def test_the_cached_page_is_per_language_and_follows_the_communitys_settings(
    community: Community, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get("/c/circle/").content.decode()
    chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/c/circle/").content.decode()
    assert "Entrance fee" in english
    assert "入会费" in chinese
    assert "入会费" not in english
    organiser = organiser_of(community)
    with django_capture_on_commit_callbacks(execute=True):
        community_update(actor=organiser, community=community, changes={"name": "Renamed"})
    html = Client(HTTP_ACCEPT_LANGUAGE="en").get("/c/circle/").content.decode()
    assert "Renamed" in html
    assert "Seed phase" in html
    with django_capture_on_commit_callbacks(execute=True):
        community_enter_growth(actor=organiser, community=community)
    chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/c/circle/").content.decode()
    assert "Renamed" in chinese
    assert "成长期：真实姓名和公司不公开" in chinese


def test_no_one_signed_in_gets_the_visitors_page_and_no_visitor_gets_theirs(
    community: Community, member: Membership, django_assert_max_num_queries: Callable
) -> None:
    Client().get("/c/circle/")  # the visitors' page is cached
    signed_in = Client()
    signed_in.force_login(member.user)
    html = signed_in.get("/c/circle/").content.decode()
    assert "This week&#x27;s session" in html or "This week's session" in html
    assert "Sign up to join" not in html
    outsider = Client()
    outsider.force_login(UserFactory())
    assert "Join and pay online" in outsider.get("/c/circle/").content.decode()
    html = Client().get("/c/circle/").content.decode()
    assert "Sign up to join" in html
    assert "Open the directory" not in html
    assert "Join and pay online" not in html


def test_a_visitor_with_a_query_string_or_a_session_is_not_served_from_the_cache(
    community: Community, django_assert_max_num_queries: Callable
) -> None:
    Client().get("/c/circle/")
    add_member(community)  # one more active member: the cached count is up to a minute old
    with django_assert_max_num_queries(0):
        Client().get("/c/circle/")
    fresh = Client().get("/c/circle/?from=newsletter").content.decode()
    assert 'value="/c/circle/?from=newsletter"' in fresh  # rendered for this address
    with_session = Client()
    with_session.cookies["sessionid"] = "whatever"
    assert with_session.get("/c/circle/").status_code == 200


def test_a_change_in_the_staff_admin_refreshes_the_landing_page(
    community: Community, client: Client
) -> None:
    Client().get("/c/circle/")  # cached
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    url = f"/admin/members/community/{community.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {f: form[f].value() for f in form.fields if form[f].value() is not None}
    data["name"] = "Renamed by staff"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert "Renamed by staff" in Client().get("/c/circle/").content.decode()
