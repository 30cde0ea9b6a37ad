"""The question page's cached HTML (questions/fragments.py): every answer card and discussion
is rendered once into Redis, and nothing in it reaches a viewer who may not see it — another
class's controls, someone else's edit button or CSRF token, answers a candidate may not read,
hidden profile fields — in the seed and the growth phase alike; and a change to what a
fragment shows gives it a new key at once."""

from __future__ import annotations

import datetime
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from members import cached
from members.models import Community, Membership
from members.services.profiles import profile_update
from questions import selectors, services
from questions.models import Answer, Question
from tests.factories import UserFactory, add_member, organiser_of
from tests.questions.helpers import age_comment, answer, closed, comment, published
from tests.worlds import midweek

pytestmark = pytest.mark.django_db

REAL = {"answerer": "甲真名", "talker": "乙真名", "reader": "丙真名"}
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _midweek(time_machine: Any) -> None:
    time_machine.move_to(midweek(), tick=True)


def _person(community: Community, handle: str, **kwargs: Any) -> Membership:
    return add_member(
        community,
        profile={"handle": handle, "real_name": REAL.get(handle, ""), "company": f"{handle} 公司"},
        **kwargs,
    )


def _page(who: Membership | None, question: Question, client: Client | None = None) -> str:
    client = client or Client()
    if who is not None:
        client.force_login(who.user)
    response = client.get(question.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def _cached_fragments() -> int:
    """How many fragments Redis holds (this test's Redis database, cleared per test)."""
    client = cache._cache.get_client(write=False)  # type: ignore[attr-defined]
    return len(client.keys(cache.make_key("fragment:*")))


@pytest.mark.parametrize("phase", [Community.Phase.SEED, Community.Phase.GROWTH])
def test_no_cached_fragment_reaches_a_viewer_who_may_not_see_it(
    community: Community, moderator: Membership, phase: str
) -> None:
    Community.objects.filter(pk=community.pk).update(phase=phase)
    community.refresh_from_db()
    organiser = organiser_of(community)
    answerer, talker, reader = (_person(community, h) for h in ("answerer", "talker", "reader"))
    question = published(organiser, challenge=True)
    written = answer(answerer, question, "The **answer** members read.")
    old = age_comment(comment(talker, written, "An old remark."), minutes=60)
    fresh = comment(talker, written, "Just said, still editable.")
    # given the page seen first by those who see most: the organiser (remove buttons, every
    # profile field), the moderator, and the talker (an edit button on their fresh comment)
    for who in (organiser, moderator, talker):
        _page(who, question)
    shown_to_talker = _page(talker, question)
    assert f"/c/circle/comments/{fresh.pk}/edit/" in shown_to_talker
    assert _cached_fragments() >= 2  # a card and a discussion, at least, were stored
    # when a plain member reads it, from the cache
    reader_client = Client(enforce_csrf_checks=True)
    html = _page(reader, question, reader_client)
    # then the shared HTML is there, without anything of the others'
    assert "The <strong>answer</strong> members read." in html
    assert "An old remark." in html
    assert "Just said, still editable." in html
    assert "/remove/" not in html  # no moderator's remove form
    assert f"/comments/{fresh.pk}/edit/" not in html
    assert f"/comments/{old.pk}/edit/" not in html
    assert cached.csrf_placeholder() not in html
    for name in REAL.values():  # answers and comments name members by handle, in every phase
        assert name not in html
    # and every form's CSRF token is the reader's own: their reply goes through
    token = TOKEN.findall(html)[0]
    reply = reader_client.post(
        f"/c/circle/answers/{written.pk}/comments/",
        {"body": "Me too.", "parent": str(old.pk), "csrfmiddlewaretoken": token},
    )
    assert reply.status_code == 302
    assert written.comments.filter(body="Me too.", author=reader).exists()
    # a candidate (a visitor who answered the challenge) sees their own answer only
    visitor = UserFactory()
    own = services.challenge_answer_create(user=visitor, question=question, body="Mine.")
    candidate_client = Client()
    candidate_client.force_login(visitor)
    html = candidate_client.get(question.get_absolute_url()).content.decode()
    assert f'id="answer-{own.pk}"' in html
    assert "Mine." in html
    assert f'id="answer-{written.pk}"' not in html
    assert "The <strong>answer</strong> members read." not in html
    assert "An old remark." not in html
    # and an anonymous visitor reads the brief, no answer at all
    html = Client().get(question.get_absolute_url()).content.decode()
    assert 'class="card answer"' not in html
    assert "Mine." not in html


def test_the_cached_html_is_per_language_and_per_viewer_class(
    community: Community, moderator: Membership
) -> None:
    answerer, reader = _person(community, "answerer"), _person(community, "reader")
    question = published(organiser_of(community))
    written = answer(answerer, question)
    comment(reader, written)
    comment(answerer, written)
    chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "2 条评论" in _page(moderator, question, chinese)
    english = _page(reader, question, Client(HTTP_ACCEPT_LANGUAGE="en"))
    assert "2 comments" in english
    assert "条评论" not in english
    assert "/remove/" not in english


def test_a_fragment_changes_with_what_it_shows(community: Community, moderator: Membership) -> None:
    organiser = organiser_of(community)
    answerer, talker, reader = (_person(community, h) for h in ("answerer", "talker", "reader"))
    question = published(organiser)
    written = answer(answerer, question, "First take.")
    said = age_comment(comment(talker, written, "Hmm."), minutes=60)
    before = _page(reader, question)
    assert "First take." in before
    assert "not rated yet" in before
    stored = _cached_fragments()
    again = _page(reader, question)  # served from the cache: the same, nothing new stored
    assert (TOKEN.sub("", again), _cached_fragments()) == (TOKEN.sub("", before), stored)

    def now_shows(*texts: str, absent: str = "") -> None:
        html = _page(reader, question)
        for text in texts:
            assert text in html, text
        if absent:
            assert absent not in html

    comment(organiser, written, "A new comment.")
    now_shows("A new comment.", "2 comments")
    edited = comment(talker, written, "Tpyo.")
    services.comment_edit(author=talker, comment=edited, body="Typo fixed.")
    now_shows("Typo fixed.", absent="Tpyo.")
    services.comment_remove(moderator=moderator, comment=said, reason="Off topic")
    now_shows("Off topic", absent="Hmm.")
    services.rating_set(rater=reader, answer=written, stars=4)
    now_shows("★ 4.0")
    services.answer_revise(author=answerer, answer=written, body="Second take.")
    now_shows("Second take.", "revision 2", absent="First take.")
    profile_update(membership=talker, data={"handle": "talker2"})
    profile_update(membership=answerer, data={"handle": "answerer2"})
    now_shows("<strong>talker2</strong>", "<strong>answerer2</strong>", absent="<strong>talker<")
    Answer.objects.filter(pk=written.pk).update(featured=True)  # as the digest's curation does
    now_shows('class="badge featured"')
    Community.objects.filter(pk=community.pk).update(phase=Community.Phase.GROWTH)
    now_shows("Second take.")
    closed(question)
    now_shows('class="votes"')


def test_with_the_cache_off_the_page_is_the_same(
    community: Community, settings: Any, moderator: Membership
) -> None:
    answerer, reader = _person(community, "answerer"), _person(community, "reader")
    question = published(organiser_of(community))
    written = answer(answerer, question)
    for i in range(selectors.COMMENTS_SHOWN + 2):
        comment(moderator, written, f"Remark {i}.")
    cached = _page(reader, question)
    settings.FRAGMENT_CACHE_SECONDS = 0
    cache.clear()
    plain = _page(reader, question)
    assert _cached_fragments() == 0
    assert TOKEN.sub("", plain) == TOKEN.sub("", cached)
    # the first few comments are on the page; the rest on the answer's discussion page
    assert "Remark 4." in plain
    assert "Remark 5." not in plain
    assert "2 more comments" in plain
    talk = Client()
    talk.force_login(reader.user)
    full = talk.get(f"/c/circle/answers/{written.pk}/discussion/").content.decode()
    assert "Remark 5." in full
    assert "Remark 6." in full


def test_times_are_in_the_communitys_zone(community: Community) -> None:
    answerer, reader = _person(community, "answerer"), _person(community, "reader")
    question = published(organiser_of(community))
    written = answer(answerer, question)
    said = comment(reader, written, "Noted.")
    zone = ZoneInfo(community.time_zone)
    assert zone.utcoffset(written.created_at) != datetime.timedelta(0)  # not UTC
    html = _page(reader, question)
    for at in (written.created_at, said.created_at):
        assert timezone.localtime(at, zone).strftime("%Y-%m-%d %H:%M") in html


def test_an_edit_stamped_before_the_latest_comment_still_shows(
    community: Community, moderator: Membership, time_machine: Any
) -> None:
    """The discussion's version is a counter raised with every change, not the latest time:
    an edit whose clock reads earlier than a newer comment (another server's clock, or a
    transaction that committed late) is not hidden behind the cached HTML."""
    answerer, talker = _person(community, "answerer"), _person(community, "talker")
    question = published(organiser_of(community))
    written = answer(answerer, question)
    first = comment(talker, written, "Frist!")
    time_machine.move_to(timezone.now() + datetime.timedelta(minutes=5), tick=True)
    comment(moderator, written, "Later remark.")
    assert "Frist!" in _page(moderator, question)  # cached now
    time_machine.move_to(timezone.now() - datetime.timedelta(minutes=4), tick=True)
    services.comment_edit(author=talker, comment=first, body="First!")
    html = _page(moderator, question)
    assert "First!" in html
    assert "Frist!" not in html
    services.comment_remove(moderator=moderator, comment=first, reason="Noise")
    assert "First!" not in _page(moderator, question)
