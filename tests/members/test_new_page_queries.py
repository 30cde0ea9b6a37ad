"""The organisers' new pages — the tags page and the invite links — read a fixed number of
queries whatever the size of the vocabulary, the membership or the number of links."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from members.models import Community, Membership, Tag
from members.services import invites
from tests.factories import bulk_members, organiser_of

pytestmark = pytest.mark.django_db


def _queries(client: Client, user: Any, url: str) -> int:
    client.force_login(user)
    assert client.get(url).status_code == 200  # warm
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _grow(community: Community, n: int, start: int) -> None:
    for i in range(n):
        Tag.objects.create(
            community=community,
            kind=Tag.Kind.SKILL,
            name=f"技能{start + i}",
            name_en=f"Skill {start + i}",
        )
    bulk_members(community, n, start=start, prefix=f"grow{start}")


def test_the_tags_page_reads_the_same_queries_for_more_tags_and_members(
    client: Client, community: Community, organiser: Membership
) -> None:
    url = f"/c/{community.slug}/tags/manage/"
    _grow(community, 3, 0)
    few = _queries(client, organiser.user, url)
    _grow(community, 40, 100)
    assert _queries(client, organiser.user, url) == few


def test_the_invite_links_page_reads_the_same_queries_for_more_links(
    client: Client, community: Community
) -> None:
    organiser = organiser_of(community)
    url = f"/c/{community.slug}/members/invites/"
    invites.invite_create(actor=organiser)
    few = _queries(client, organiser.user, url)
    for _i in range(10):
        invites.invite_create(actor=organiser)
    assert _queries(client, organiser.user, url) == few
