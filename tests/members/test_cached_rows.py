"""List rows and directory cards rendered once for what they show (members.cached.render_each)
and the filter selects rendered without a template per option (members.widgets): the same
HTML as without them, and a card cached for one viewer never reaches a viewer who may not see
what it shows, in either privacy phase."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django import forms
from django.core.cache import cache
from django.test import Client

from members.models import Community, Membership
from members.services.profiles import profile_update
from members.widgets import FastSelect
from tests.factories import add_member, organiser_of

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def _cached() -> int:
    client = cache._cache.get_client(write=False)  # type: ignore[attr-defined]
    return len(client.keys(cache.make_key("fragment:*")))


def _get(who: Membership, url: str, client: Client | None = None) -> str:
    client = client or Client()
    client.force_login(who.user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("phase", [Community.Phase.SEED, Community.Phase.GROWTH])
def test_a_cached_card_never_shows_what_its_viewer_may_not_see(
    community: Community, phase: str
) -> None:
    Community.objects.filter(pk=community.pk).update(phase=phase)
    organiser = organiser_of(community)
    hidden = {"handle": "amy", "real_name": "王小美", "company": "秘密公司"}
    amy = add_member(community, profile=hidden)
    reader = add_member(community, profile={"handle": "ben", "real_name": "李本"})
    assert "王小美" in _get(organiser, "/c/circle/members/")  # organisers see every field
    assert _cached() > 0
    assert "王小美" in _get(amy, "/c/circle/members/")  # her own card shows them to her
    html = _get(reader, "/c/circle/members/")
    # seed phase: every member sees every field; growth: the handle and shared fields only
    assert ("王小美" in html, "秘密公司" in html) == ((phase == Community.Phase.SEED),) * 2
    assert "李本" in html  # the reader's own real name, on their own card


def test_rows_and_cards_are_the_same_html_with_the_cache_and_without(
    community: Community, settings: Any
) -> None:
    member = add_member(community, profile={"handle": "ben", "skills": ["设计", "写作"]})
    pages = ("/c/circle/members/", "/c/circle/questions/", "/c/circle/week/")
    cached = [TOKEN.sub("", _get(member, url)) for url in pages]
    again = [TOKEN.sub("", _get(member, url)) for url in pages]
    settings.FRAGMENT_CACHE_SECONDS = 0
    cache.clear()
    plain = [TOKEN.sub("", _get(member, url)) for url in pages]
    assert cached == again == plain
    assert _cached() == 0
    assert 'class="card profile-card"' in plain[0]


def test_a_changed_profile_shows_at_once(community: Community) -> None:
    member = add_member(community, profile={"handle": "ben", "city": "上海"})
    assert "上海" in _get(member, "/c/circle/members/")
    profile_update(membership=member, data={"city": "深圳"})
    html = _get(member, "/c/circle/members/")
    assert "深圳" in html
    assert "上海" not in html


@pytest.mark.parametrize("value", ["", "a&b", "交互", "not a choice", None])
@pytest.mark.parametrize("attrs", [None, {"id": "id_tag", "required": True, "disabled": False}])
def test_the_fast_select_writes_what_djangos_select_writes(
    value: str | None, attrs: dict[str, Any] | None
) -> None:
    choices = [("", "Any"), ("a&b", "A & B <script>"), ("交互", "交互设计")]
    assert FastSelect(choices=choices).render("tag", value, attrs) == forms.Select(
        choices=choices
    ).render("tag", value, attrs)


def test_the_fast_select_leaves_option_groups_to_django() -> None:
    choices = [("Group <1>", [("a", "A"), ("b", "B")]), ("c", "C")]
    assert FastSelect(choices=choices).render("x", "b") == forms.Select(choices=choices).render(
        "x", "b"
    )
