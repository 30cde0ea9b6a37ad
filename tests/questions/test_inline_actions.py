"""Actions answered in place (static/js/actions.js sends them with ``X-Requested-With: fetch``):
voting, rating, commenting, editing and removing answer with the HTML of what was acted on —
the answer's article, the ballot's rows, or the refused form with what was typed — marked
``data-swap``, with the result said next to it; refused, 400 and nothing changed. Without the
header the same forms redirect as before. What comes back goes through the same cached
fragments as the page, so the privacy rules hold for it too."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
import time_machine
from django.test import Client

from members import cached
from members.models import Community, Membership
from questions.models import Answer, Comment, Rating, Vote
from tests.factories import add_member, organiser_of
from tests.questions.helpers import age_comment, answer, comment, published
from tests.rewards.weekly_helpers import FRIDAY_W45, Week, funded_community, questions_with_answers
from tests.worlds import midweek

pytestmark = pytest.mark.django_db

FETCH = {"HTTP_X_REQUESTED_WITH": "fetch"}
TOO_LONG = "长" * 4000 + "long " * 300  # 5,500 characters


def _client(who: Membership) -> Client:
    client = Client()
    client.force_login(who.user)
    return client


def _swapped_ids(page: str) -> list[str]:
    """The ids of the elements the script puts in place."""
    return re.findall(r'<[a-z]+ [^>]*id="([^"]+)"[^>]*data-swap', page)


# --- votes -------------------------------------------------------------------------------------


@pytest.fixture
def week(time_machine: time_machine.TimeMachineFixture) -> Week:
    community, people = funded_community(time_machine, members=12)
    made = questions_with_answers(community, people, questions=1, answers=3)
    time_machine.move_to(FRIDAY_W45)
    return made


def _vote_url(answer: Answer) -> str:
    return f"/c/weekly/answers/{answer.pk}/vote/"


def test_a_vote_in_place_answers_with_the_article_and_the_votes_left(week: Week) -> None:
    voter, chosen = week.members[0], week.answers[0]
    response = _client(voter).post(
        _vote_url(chosen), {"action": "vote", "next": "/c/weekly/questions/1/"}, **FETCH
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert _swapped_ids(page) == [f"answer-{chosen.pk}", "voting-note"]
    assert "Your vote is cast. You have 2 votes left this week." in page
    assert 'value="withdraw"' in page  # the button is now the one to withdraw
    assert "You have 2 votes left this week." in page.split('id="voting-note"')[1]
    assert list(Vote.objects.values_list("voter", "answer")) == [(voter.pk, chosen.pk)]


def test_without_the_header_a_vote_still_redirects(week: Week) -> None:
    voter, chosen = week.members[0], week.answers[0]
    response = _client(voter).post(_vote_url(chosen), {"action": "vote"})
    assert response.status_code == 302
    assert Vote.objects.filter(voter=voter, answer=chosen).exists()


def test_a_vote_refused_in_place_says_why_and_changes_nothing(week: Week) -> None:
    Community.objects.filter(pk=week.community.pk).update(votes_per_member=1)
    voter = week.members[0]
    client = _client(voter)
    assert client.post(_vote_url(week.answers[0]), {"action": "vote"}, **FETCH).status_code == 200
    before = list(Vote.objects.values_list("pk", "voter", "answer"))
    response = client.post(_vote_url(week.answers[1]), {"action": "vote"}, **FETCH)
    assert response.status_code == 400
    page = response.content.decode()
    assert _swapped_ids(page)[0] == f"answer-{week.answers[1].pk}"
    assert 'class="action-status error"' in page
    assert "You have no votes left this week" in page
    assert list(Vote.objects.values_list("pk", "voter", "answer")) == before


def test_a_withdrawal_on_the_ballot_puts_every_row_and_the_count_in_place(week: Week) -> None:
    voter, chosen = week.members[0], week.answers[1]
    client = _client(voter)
    client.post(_vote_url(chosen), {"action": "vote"})
    response = client.post(
        _vote_url(chosen), {"action": "withdraw"}, HTTP_X_ANSWER_PAGE="ballot", **FETCH
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert _swapped_ids(page) == ["votes-left", *(f"ballot-answer-{a.pk}" for a in week.answers)]
    row = page.split(f'id="ballot-answer-{chosen.pk}"')[1].split("</li>")[0]
    assert "Vote withdrawn. You have 3 votes left this week." in row
    assert "3 votes left" in page.split('id="votes-left"')[1].split("</p>")[0]
    assert not Vote.objects.exists()


# --- ratings, comments, edits, removals -----------------------------------------------------


@pytest.fixture
def talk(community: Community, time_machine: Any) -> dict[str, Any]:
    time_machine.move_to(midweek(), tick=True)
    answerer, talker, reader = add_member(community), add_member(community), add_member(community)
    written = answer(answerer, published(organiser_of(community)))
    return {"answer": written, "talker": talker, "reader": reader, "answerer": answerer}


def test_a_rating_in_place_shows_the_new_average_on_the_card(talk: dict[str, Any]) -> None:
    written = talk["answer"]
    response = _client(talk["reader"]).post(
        f"/c/circle/answers/{written.pk}/rate/", {"stars": "4"}, **FETCH
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert _swapped_ids(page) == [f"answer-{written.pk}"]
    assert "Thanks for rating." in page
    assert "★ 4.0" in page
    assert re.search(r'name="stars" value="4" checked', page)  # the stars show the choice
    assert list(Rating.objects.values_list("rater", "stars")) == [(talk["reader"].pk, 4)]


def test_a_rating_without_stars_is_refused_in_place(talk: dict[str, Any]) -> None:
    written = talk["answer"]
    response = _client(talk["reader"]).post(f"/c/circle/answers/{written.pk}/rate/", {}, **FETCH)
    assert response.status_code == 400
    assert "Give 1 to 5 stars." in response.content.decode()
    assert not Rating.objects.exists()


def test_a_comment_in_place_shows_under_the_answer_with_an_empty_form(
    talk: dict[str, Any],
) -> None:
    written = talk["answer"]
    response = _client(talk["talker"]).post(
        f"/c/circle/answers/{written.pk}/comments/", {"body": "Useful, **thanks**."}, **FETCH
    )
    assert response.status_code == 200
    page = response.content.decode()
    said = Comment.objects.get()
    assert (said.author_id, said.body) == (talk["talker"].pk, "Useful, **thanks**.")
    assert _swapped_ids(page) == [f"answer-{written.pk}"]
    assert "Your comment is posted." in page
    assert f'id="comment-{said.pk}"' in page
    assert "<strong>thanks</strong>" in page
    assert f'id="edit-form-{said.pk}"' in page  # theirs to edit
    assert re.search(r'name="body" rows="2" maxlength="5000" required></textarea>', page)
    assert 'name="csrfmiddlewaretoken" value="' in page  # the placeholder was replaced
    assert cached.csrf_placeholder() not in page


def test_a_comment_too_long_comes_back_in_place_with_what_was_typed(
    talk: dict[str, Any],
) -> None:
    written = talk["answer"]
    response = _client(talk["talker"]).post(
        f"/c/circle/answers/{written.pk}/comments/", {"body": TOO_LONG}, **FETCH
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert _swapped_ids(page) == [f"comment-form-{written.pk}"]
    assert "Your comment was not posted" in page
    assert "at most 5000 characters" in page
    assert html.escape(TOO_LONG) in page
    assert f'action="/c/circle/answers/{written.pk}/comments/"' in page
    assert not Comment.objects.exists()


def test_a_reply_refused_in_place_comes_back_as_that_reply_form(talk: dict[str, Any]) -> None:
    written = talk["answer"]
    first = comment(talk["reader"], written, "A question?")
    response = _client(talk["talker"]).post(
        f"/c/circle/answers/{written.pk}/comments/",
        {"body": TOO_LONG, "parent": str(first.pk)},
        **FETCH,
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert _swapped_ids(page) == [f"reply-form-{first.pk}"]
    assert f'name="parent" value="{first.pk}"' in page
    assert html.escape(TOO_LONG) in page
    assert Comment.objects.count() == 1


def test_an_edit_in_place_and_an_edit_refused_in_place(talk: dict[str, Any]) -> None:
    said = comment(talk["talker"], talk["answer"], "Short.")
    client = _client(talk["talker"])
    refused = client.post(f"/c/circle/comments/{said.pk}/edit/", {"body": TOO_LONG}, **FETCH)
    assert refused.status_code == 400
    assert _swapped_ids(refused.content.decode()) == [f"edit-form-{said.pk}"]
    assert html.escape(TOO_LONG) in refused.content.decode()
    said.refresh_from_db()
    assert said.body == "Short."
    saved = client.post(f"/c/circle/comments/{said.pk}/edit/", {"body": "Longer now."}, **FETCH)
    assert saved.status_code == 200
    assert "Comment saved." in saved.content.decode()
    assert "Longer now." in saved.content.decode()
    said.refresh_from_db()
    assert said.body == "Longer now."


def test_an_edit_too_late_is_said_in_place(talk: dict[str, Any]) -> None:
    said = age_comment(comment(talk["talker"], talk["answer"], "Old."), minutes=24 * 60)
    response = _client(talk["talker"]).post(
        f"/c/circle/comments/{said.pk}/edit/", {"body": "Changed."}, **FETCH
    )
    # then the reason is said next to the field, and what was typed is kept
    assert response.status_code == 400
    page = response.content.decode()
    assert _swapped_ids(page) == [f"edit-form-{said.pk}"]
    assert "Comments can be edited for" in page
    assert ">\nChanged.</textarea>" in page
    said.refresh_from_db()
    assert said.body == "Old."


def test_a_removal_in_place_and_one_without_a_reason(
    talk: dict[str, Any], moderator: Membership
) -> None:
    said = comment(talk["talker"], talk["answer"], "Rude words.")
    client = _client(moderator)
    refused = client.post(f"/c/circle/comments/{said.pk}/remove/", {"reason": ""}, **FETCH)
    assert refused.status_code == 400
    assert _swapped_ids(refused.content.decode()) == [f"remove-form-{said.pk}"]
    said.refresh_from_db()
    assert not said.is_removed
    removed = client.post(f"/c/circle/comments/{said.pk}/remove/", {"reason": "Rude."}, **FETCH)
    assert removed.status_code == 200
    page = removed.content.decode()
    assert "Comment removed." in page
    assert "Removed by a moderator" in page
    assert "Rude words." not in page
    said.refresh_from_db()
    assert (said.is_removed, said.removal_reason) == (True, "Rude.")


def test_on_the_discussion_page_every_comment_comes_back(talk: dict[str, Any]) -> None:
    written = talk["answer"]
    for i in range(6):
        comment(talk["reader"], written, f"Remark {i}.")
    client = _client(talk["talker"])
    on_question = client.post(
        f"/c/circle/answers/{written.pk}/comments/", {"body": "Seventh."}, **FETCH
    ).content.decode()
    assert "Seventh." not in on_question  # past the first five: said with a link to it
    last = Comment.objects.latest("pk")
    assert f"/discussion/#comment-{last.pk}" in on_question
    assert 'class="vote-form' not in on_question
    on_discussion = client.post(
        f"/c/circle/answers/{written.pk}/comments/",
        {"body": "Eighth."},
        HTTP_X_ANSWER_PAGE="discussion",
        **FETCH,
    ).content.decode()
    assert "Seventh." in on_discussion
    assert "Eighth." in on_discussion
    assert "See it in the whole discussion" not in on_discussion
    assert 'class="rate-form' not in on_discussion  # the discussion page has no controls


def test_what_comes_back_in_place_keeps_the_privacy_of_the_cached_fragments(
    talk: dict[str, Any],
) -> None:
    written = talk["answer"]
    talker, reader = talk["talker"], talk["reader"]
    talker_client = _client(talker)
    talker_client.get(written.question.get_absolute_url())  # the fragments are cached
    mine = talker_client.post(
        f"/c/circle/answers/{written.pk}/comments/", {"body": "Mine."}, **FETCH
    ).content.decode()
    said = Comment.objects.get()
    assert f"/c/circle/comments/{said.pk}/edit/" in mine
    # then another member acting on the same answer does not get the talker's edit form,
    # nor their CSRF token
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', mine)
    assert token is not None
    theirs = (
        _client(reader)
        .post(f"/c/circle/answers/{written.pk}/rate/", {"stars": "5"}, **FETCH)
        .content.decode()
    )
    assert "Mine." in theirs
    assert f"/c/circle/comments/{said.pk}/edit/" not in theirs
    assert token.group(1) not in theirs
    assert f"/c/circle/comments/{said.pk}/remove/" not in theirs  # not a moderator


def test_the_page_without_javascript_shows_the_forms_and_the_stars(talk: dict[str, Any]) -> None:
    written = talk["answer"]
    said = comment(talk["talker"], written, "Mine.")
    page = _client(talk["talker"]).get(written.question.get_absolute_url()).content.decode()
    # the buttons that open the forms are hidden until the script shows them; the forms are not
    assert re.search(rf'data-toggle="edit-form-{said.pk}"[^>]*hidden>', page)
    assert re.search(rf'<form [^>]*id="edit-form-{said.pk}" data-inline>', page)
    assert re.search(rf'<form [^>]*id="reply-form-{said.pk}" data-inline>', page)
    assert f'id="comment-form-{written.pk}" data-inline' in page
    assert "<details" not in page.split('id="answers"')[1]
    # the rating is five radio buttons in a fieldset, each named for a screen reader
    assert '<fieldset class="stars">' in page
    for n, words in ((1, "1 star"), (3, "3 stars"), (5, "5 stars")):
        assert re.search(
            rf'value="{n}"><span class="glyph" aria-hidden="true">★</span>'
            rf'<span class="visually-hidden">{words}</span>',
            page,
        )
    assert re.search(r'<script src="[^"]*js/actions[^"]*\.js" defer></script>', page)
