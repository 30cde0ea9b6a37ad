"""A comment, a comment's edit or an announcement the rules refuse: the form comes back with
the reason next to the field and what was typed kept (400); nothing is saved."""

from __future__ import annotations

import html

import pytest
from django.test import Client

from members import weeks
from members.models import Community, Membership
from questions.models import Comment, WeekSession
from tests.factories import add_member, organiser_of
from tests.questions.helpers import answer, comment, published, this_week

pytestmark = pytest.mark.django_db

TOO_LONG = "长" * 4000 + "long " * 300  # 5,500 characters


def _signed_in(who: Membership) -> Client:
    client = Client()
    client.force_login(who.user)
    return client


def test_a_comment_too_long_comes_back_with_what_was_typed(community: Community) -> None:
    answerer, talker = add_member(community), add_member(community)
    written = answer(answerer, published(organiser_of(community)))
    response = _signed_in(talker).post(
        f"/c/circle/answers/{written.pk}/comments/", {"body": TOO_LONG}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "at most 5000 characters" in page
    assert html.escape(TOO_LONG) in page  # kept, in the form posting to the same address
    assert f'action="/c/circle/answers/{written.pk}/comments/"' in page
    assert not Comment.objects.exists()


def test_an_empty_comment_says_so_and_a_good_one_is_posted(community: Community) -> None:
    answerer, talker = add_member(community), add_member(community)
    written = answer(answerer, published(organiser_of(community)))
    client = _signed_in(talker)
    refused = client.post(f"/c/circle/answers/{written.pk}/comments/", {"body": ""})
    assert refused.status_code == 400
    assert "This field is required." in refused.content.decode()
    posted = client.post(f"/c/circle/answers/{written.pk}/comments/", {"body": "Good."})
    assert posted.status_code == 302
    assert Comment.objects.get().body == "Good."


def test_an_edit_too_long_comes_back_and_the_comment_is_unchanged(community: Community) -> None:
    answerer, talker = add_member(community), add_member(community)
    said = comment(talker, answer(answerer, published(organiser_of(community))), "Short.")
    response = _signed_in(talker).post(f"/c/circle/comments/{said.pk}/edit/", {"body": TOO_LONG})
    assert response.status_code == 400
    assert html.escape(TOO_LONG) in response.content.decode()
    said.refresh_from_db()
    assert said.body == "Short."


def test_an_announcement_too_long_is_not_dropped_silently(
    community: Community, moderator: Membership
) -> None:
    label = weeks.label(this_week(community))
    response = _signed_in(moderator).post(
        f"/c/circle/week/{label}/announce/", {"announcement": TOO_LONG}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "at most 5000 characters" in page
    assert html.escape(TOO_LONG) in page
    assert not WeekSession.objects.filter(community=community).exclude(announcement="").exists()
