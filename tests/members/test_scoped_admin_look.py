"""The community-scoped admin at /manage/ in the portal's look and the community's time zone
(members.scoped_admin, issue 12): which zone a page runs in, each row's times in its own
community's zone, the zone never leaking past the request, the portal's header on every page and
the staff admin (/admin/) left as Django ships it."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.admin import helpers
from django.test import Client, RequestFactory
from django.utils import timezone

from members.models import Community, Membership
from members.scoped_admin import time_zone_for
from questions import services
from questions.models import Question
from tests.factories import UserFactory, add_member, make_community

pytestmark = pytest.mark.django_db

QUESTIONS = "/manage/questions/question/"
UTC = datetime.UTC
# 03:30 UTC on 20 November: 22:30 the day before in New York, 11:30 in Shanghai.
SUBMITTED = datetime.datetime(2026, 11, 20, 3, 30, tzinfo=UTC)


def zoned(slug: str, time_zone: str) -> Community:
    return make_community(slug=slug, name=f"Circle {slug}", time_zone=time_zone)


def waiting_brief(community: Community, title: str) -> Question:
    asker = add_member(community, profile={"handle": f"{community.slug}-asker"})
    question = services.question_create(
        author=asker, title=title, background="背景", wanted="方法", submit=True
    )
    Question.objects.filter(pk=question.pk).update(submitted_at=SUBMITTED)
    return question


def moderating(*communities: Community) -> Membership:
    user = UserFactory()
    found = [
        add_member(c, user=user, role=Membership.Role.MODERATOR, profile={"handle": "mod"})
        for c in communities
    ]
    return found[0]


def signed_in(client: Client, membership: Membership) -> Client:
    client.force_login(membership.user)
    return client


# --- Which zone a request runs in ----------------------------------------------------------------


def test_the_zone_is_the_filtered_community_s_else_the_one_shared_zone() -> None:
    new_york, shanghai = zoned("ny", "America/New_York"), zoned("sh", "Asia/Shanghai")
    outsider = zoned("out", "Europe/Berlin")
    user = moderating(new_york, shanghai).user
    factory = RequestFactory()

    def zone(query: str) -> str | None:
        request = factory.get(f"{QUESTIONS}{query}")
        request.user = user
        return time_zone_for(request)

    assert zone("") is None  # two zones: no single one
    assert zone(f"?community={new_york.pk}") == "America/New_York"
    assert zone(f"?community={shanghai.pk}") == "Asia/Shanghai"
    assert zone(f"?community={outsider.pk}") is None  # not theirs
    assert zone("?community=x") is None


def test_a_single_zone_is_used_for_every_page() -> None:
    user = moderating(zoned("ny", "America/New_York"), zoned("ny2", "America/New_York")).user
    request = RequestFactory().get("/manage/")
    request.user = user
    assert time_zone_for(request) == "America/New_York"


# --- Times on the pages -----------------------------------------------------------------------


def test_the_list_shows_times_in_the_community_s_zone(client: Client) -> None:
    community = zoned("ny", "America/New_York")
    waiting_brief(community, "A brief from New York")
    html = signed_in(client, moderating(community)).get(QUESTIONS).content.decode()

    assert '<time datetime="2026-11-19T22:30:00-05:00" title="America/New_York">' in html
    assert "2026-11-19 22:30" in html
    assert "2026-11-20 03:30" not in html  # not the server's zone


def test_a_mixed_list_shows_each_row_in_its_own_community_s_zone(client: Client) -> None:
    new_york, shanghai = zoned("ny", "America/New_York"), zoned("sh", "Asia/Shanghai")
    waiting_brief(new_york, "A brief from New York")
    waiting_brief(shanghai, "A brief from Shanghai")
    html = signed_in(client, moderating(new_york, shanghai)).get(QUESTIONS).content.decode()

    assert "2026-11-19 22:30" in html
    assert "2026-11-20 11:30" in html
    assert "2026-11-20 03:30" not in html
    assert "Circle ny" in html  # and the community column says whose row it is
    assert "Circle sh" in html


def test_a_row_s_page_is_in_its_community_s_zone(client: Client) -> None:
    new_york, shanghai = zoned("ny", "America/New_York"), zoned("sh", "Asia/Shanghai")
    question = waiting_brief(new_york, "A brief from New York")
    signed_in(client, moderating(new_york, shanghai))

    html = client.get(f"{QUESTIONS}{question.pk}/change/").content.decode()

    assert "Nov. 19, 2026, 10:30 p.m." in html
    assert "Nov. 20, 2026" not in html


def test_an_action_page_on_one_community_s_rows_is_in_its_zone(client: Client) -> None:
    new_york, shanghai = zoned("ny", "America/New_York"), zoned("sh", "Asia/Shanghai")
    question = waiting_brief(new_york, "A brief from New York")
    signed_in(client, moderating(new_york, shanghai))

    response = client.post(
        QUESTIONS, {"action": "schedule_into_week", helpers.ACTION_CHECKBOX_NAME: [question.pk]}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Nov. 19, 2026, 10:30 p.m." in html
    assert "Nov. 20, 2026" not in html


def test_the_zone_does_not_outlive_the_request(client: Client) -> None:
    community = zoned("ny", "America/New_York")
    question = waiting_brief(community, "A brief from New York")
    signed_in(client, moderating(community, zoned("sh", "Asia/Shanghai")))

    for url in (
        QUESTIONS,
        f"{QUESTIONS}?community={community.pk}",
        f"{QUESTIONS}{question.pk}/change/",
    ):
        assert client.get(url).status_code == 200
        assert timezone.get_current_timezone_name() == "UTC"


def test_times_in_chinese_are_in_the_community_s_zone(client: Client) -> None:
    community = zoned("ny", "America/New_York")
    waiting_brief(community, "A brief from New York")
    signed_in(client, moderating(community))

    html = client.get(QUESTIONS, headers={"accept-language": "zh-hans"}).content.decode()

    assert '<html lang="zh-hans"' in html
    assert "2026-11-19 22:30" in html


# --- The portal's look ------------------------------------------------------------------------


def test_the_moderation_pages_wear_the_portal_s_header(client: Client) -> None:
    community = zoned("ny", "America/New_York")
    question = waiting_brief(community, "A brief from New York")
    signed_in(client, moderating(community))

    for url in ("/manage/", "/manage/questions/", QUESTIONS, f"{QUESTIONS}{question.pk}/change/"):
        html = client.get(url).content.decode()
        assert '<header class="site-header">' in html, url
        assert "/static/css/site.css" in html, url
        assert 'class="portal-look' in html, url
        assert 'id="nav-sidebar"' not in html, url
        assert f'href="/c/{community.slug}/duty/"' in html, url  # the console, from the header
        assert 'id="site-name"' not in html, url  # not Django's own header


def test_a_single_community_s_lists_leave_out_the_community_column(client: Client) -> None:
    community = zoned("ny", "America/New_York")
    waiting_brief(community, "A brief from New York")
    html = signed_in(client, moderating(community)).get(QUESTIONS).content.decode()

    assert "column-community" not in html
    assert "column-submitted" in html


def test_the_staff_admin_keeps_django_s_look(client: Client) -> None:
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    html = client.get("/admin/").content.decode()

    assert 'id="site-name"' in html
    assert "site-header" not in html
    assert "/static/css/site.css" not in html
