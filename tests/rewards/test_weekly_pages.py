"""The weekly cycle's pages and API: the ballot and voting (portal and the §5 contract), the
week's results, the archive, the leaderboard, badges; permissions both ways; bad input gets a
400 naming why and changes nothing; query counts that do not grow with the data."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from community import weekly
from members.models import Membership
from questions.models import Vote
from tests.factories import UserFactory, set_status
from tests.rewards.weekly_helpers import (
    AFTER_W45,
    FRIDAY_W45,
    W45,
    funded_community,
    questions_with_answers,
    vote,
)

pytestmark = pytest.mark.django_db


def _client(membership: Membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def _api(membership: Membership) -> APIClient:
    client = APIClient()
    client.force_authenticate(membership.user)
    return client


# --- Voting through the API (SPEC §5) ---------------------------------------------------------


def test_put_and_delete_vote_answer_votes_left(time_machine: Any) -> None:
    community, people = funded_community(time_machine, members=12)
    week = questions_with_answers(community, people, questions=1, answers=4)
    time_machine.move_to(FRIDAY_W45)
    api = _api(people[0])
    url = f"/api/v1/answers/{week.answers[0].pk}/vote/"
    response = api.put(url)
    assert (response.status_code, response.json()) == (200, {"votes_left": 2})
    assert api.put(url).json() == {"votes_left": 2}  # again: unchanged
    response = api.delete(url)
    assert (response.status_code, response.json()) == (200, {"votes_left": 3})
    assert not Vote.objects.exists()


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("own", "own answer"),
        ("not_open", "not open yet"),
        ("closed", "has closed"),
        ("limit", "no votes left"),
        ("candidate", "Candidates cannot vote"),
        ("lapsed", "Only active members"),
    ],
)
def test_a_refused_vote_is_400_naming_why_and_changes_nothing(
    time_machine: Any, case: str, expected: str
) -> None:
    community, people = funded_community(time_machine, members=12)
    week = questions_with_answers(community, people, questions=2, answers=4)
    voter, answer = people[0], week.answers[0]
    time_machine.move_to(FRIDAY_W45)
    if case == "own":
        voter = answer.author
    elif case == "not_open":
        time_machine.move_to(W45_MONDAY_NOON)
    elif case == "closed":
        time_machine.move_to(AFTER_W45)
    elif case == "limit":
        vote([voter], week.answers[1])
        vote([voter], week.answers[2])
        vote([voter], week.answers[3])
    elif case == "candidate":
        voter = set_status(voter, Membership.Status.ACTIVE, role=Membership.Role.CANDIDATE)
    elif case == "lapsed":
        voter = set_status(voter, Membership.Status.LAPSED)
    before = Vote.objects.count()
    response = _api(voter).put(f"/api/v1/answers/{answer.pk}/vote/")
    assert response.status_code == 400
    assert expected in " ".join(response.json()["vote"])
    assert Vote.objects.count() == before


W45_MONDAY_NOON = FRIDAY_W45.replace(day=2, hour=12)


def test_voting_needs_a_member_of_the_community(time_machine: Any) -> None:
    community, people = funded_community(time_machine, members=12)
    week = questions_with_answers(community, people, questions=1, answers=2)
    _other, others = funded_community(time_machine, members=2, slug="elsewhere")
    time_machine.move_to(FRIDAY_W45)
    url = f"/api/v1/answers/{week.answers[0].pk}/vote/"
    assert APIClient().put(url).status_code in (401, 403)
    outsider = APIClient()
    outsider.force_authenticate(UserFactory())
    assert outsider.put(url).status_code == 403
    assert _api(others[0]).put(url).status_code == 403
    assert _api(people[0]).put("/api/v1/answers/999999/vote/").status_code == 404
    assert not Vote.objects.exists()


# --- The ballot page and the portal's vote buttons -----------------------------------------------


def test_a_member_votes_on_the_ballot_page_and_withdraws(time_machine: Any) -> None:
    community, people = funded_community(time_machine, members=12)
    week = questions_with_answers(community, people, questions=2, answers=3)
    time_machine.move_to(FRIDAY_W45)
    client = _client(people[0])
    url = reverse("questions:ballot", kwargs={"slug": community.slug})
    page = client.get(url)
    assert page.status_code == 200
    assert "3 votes left" in page.content.decode()
    answer = week.answers[4]
    vote_url = reverse("questions:vote", kwargs={"slug": community.slug, "answer_id": answer.pk})
    response = client.post(vote_url, {"action": "vote", "next": url})
    assert response.status_code == 302
    assert response["Location"] == url
    page = client.get(url).content.decode()
    assert "2 votes left" in page
    assert "Withdraw vote" in page
    assert Vote.objects.filter(voter=people[0], answer=answer).exists()
    client.post(vote_url, {"action": "withdraw", "next": url})
    assert not Vote.objects.exists()
    # a refusal shows why (own answer) and changes nothing
    own = reverse(
        "questions:vote", kwargs={"slug": community.slug, "answer_id": week.answers[0].pk}
    )
    response = _client(week.answers[0].author).post(own, {"action": "vote"}, follow=True)
    assert "cannot vote for your own answer" in response.content.decode()
    assert not Vote.objects.exists()


def test_the_question_page_offers_vote_buttons_while_voting_is_open(time_machine: Any) -> None:
    community, people = funded_community(time_machine, members=12)
    week = questions_with_answers(community, people, questions=1, answers=2)
    url = week.questions[0].get_absolute_url()
    client = _client(people[0])
    assert "Vote for this answer" not in client.get(url).content.decode()  # Monday
    time_machine.move_to(FRIDAY_W45)
    assert "Vote for this answer" in client.get(url).content.decode()
    time_machine.move_to(AFTER_W45)
    page = client.get(url).content.decode()
    assert "Vote for this answer" not in page
    assert "Revise your answer" not in page
    assert "The week&#x27;s results" in page or "The week's results" in page


def test_candidates_and_visitors_do_not_see_the_ballot(time_machine: Any) -> None:
    community, people = funded_community(time_machine, members=4)
    url = reverse("questions:ballot", kwargs={"slug": community.slug})
    candidate = set_status(people[1], Membership.Status.ACTIVE, role=Membership.Role.CANDIDATE)
    assert _client(candidate).get(url).status_code == 403
    assert Client().get(url).status_code == 302  # to sign in


def _ballot_at_size(time_machine: Any, slug: str, questions: int, answers: int) -> Any:
    community, people = funded_community(time_machine, members=40, slug=slug)
    week = questions_with_answers(community, people, questions=questions, answers=answers)
    time_machine.move_to(FRIDAY_W45)
    vote(people[30:33], week.answers[0])
    return community, people


@pytest.mark.parametrize(("questions", "answers"), [(1, 2), (4, 12)])
def test_the_ballot_page_runs_a_fixed_number_of_queries(
    time_machine: Any, django_assert_max_num_queries: Any, questions: int, answers: int
) -> None:
    community, people = _ballot_at_size(time_machine, f"b{questions}", questions, answers)
    client = _client(people[30])
    url = reverse("questions:ballot", kwargs={"slug": community.slug})
    client.get(url)  # warm the session
    with django_assert_max_num_queries(9):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize(("questions", "answers"), [(1, 2), (4, 12)])
def test_casting_a_vote_runs_a_fixed_number_of_queries(
    time_machine: Any, django_assert_max_num_queries: Any, questions: int, answers: int
) -> None:
    community, people = _ballot_at_size(time_machine, f"v{questions}", questions, answers)
    from questions.models import Answer

    answer = Answer.objects.filter(question__community=community).last()
    api = _api(people[34])
    with django_assert_max_num_queries(10):
        assert api.put(f"/api/v1/answers/{answer.pk}/vote/").status_code == 200


# --- Results, the archive, the leaderboard, badges ------------------------------------------------


def test_the_week_api_gives_the_closed_week_as_the_contract_says(closed: Any) -> None:
    community = closed.community
    a = closed.answers
    response = _api(closed.members[10]).get(f"/api/v1/communities/{community.slug}/weeks/2026-W45/")
    assert response.status_code == 200
    data = response.json()
    assert data["closed"] is True
    assert data["reward_budget"] == 20000
    assert [
        {k: w[k] for k in ("place", "answer", "member", "handle", "votes", "amount")}
        for w in data["winners"]
    ] == [
        {
            "place": 1,
            "answer": a[2].pk,
            "member": a[2].author_id,
            "handle": a[2].author.profile.handle,
            "votes": 3,
            "amount": 10000,
        },
        {
            "place": 2,
            "answer": a[0].pk,
            "member": a[0].author_id,
            "handle": a[0].author.profile.handle,
            "votes": 2,
            "amount": 6000,
        },
        {
            "place": 3,
            "answer": a[5].pk,
            "member": a[5].author_id,
            "handle": a[5].author.profile.handle,
            "votes": 2,
            "amount": 4000,
        },
    ]
    assert data["rollover_out"]["reward"] == 0
    assert data["rollover_out"]["operations"] == data["operations_budget"]
    assert data["moderator"] is None
    assert data["moderator_pay"] is None
    # nobody on the roster: no moderator, no pay; the figures of the week all the same
    assert data["kpis"] == {"answerers": 8, "answers": 8, "quality": 0.0}
    # the next week: its rollover in
    following = _api(closed.members[10]).get(
        f"/api/v1/communities/{community.slug}/weeks/2026-W46/"
    )
    assert following.json()["closed"] is False
    assert following.json()["rollover_in"]["reward"] == 0


def test_results_archive_and_leaderboard_pages(closed: Any) -> None:
    community = closed.community
    client = _client(closed.members[10])
    winner = closed.answers[2].author.profile.handle
    results = client.get(reverse("rewards:results", args=[community.slug, "2026-W45"]))
    assert results.status_code == 200
    text = results.content.decode()
    assert winner in text
    assert "¥100.00" in text
    assert "¥60.00" in text
    archive = client.get(reverse("rewards:archive", args=[community.slug])).content.decode()
    assert "2026-W45" in archive
    assert winner in archive
    board = client.get(
        reverse("rewards:leaderboard", args=[community.slug]) + "?period=all"
    ).content.decode()
    assert board.index(winner) < board.index(closed.answers[0].author.profile.handle)
    # a profile shows the winner's badges
    profile = client.get(
        reverse("members:profile", args=[community.slug, closed.answers[2].author_id])
    ).content.decode()
    assert "Best answer of the week" in profile


def test_results_pages_are_for_members_only(closed: Any) -> None:
    community = closed.community
    outsider = Client()
    outsider.force_login(UserFactory())
    for url in (
        reverse("rewards:results", args=[community.slug, "2026-W45"]),
        reverse("rewards:archive", args=[community.slug]),
        reverse("rewards:leaderboard", args=[community.slug]),
    ):
        assert outsider.get(url).status_code == 403
    assert (
        _client(closed.members[3])
        .get(reverse("rewards:results", args=[community.slug, "20xx"]))
        .status_code
        == 404
    )


def test_the_leaderboard_api_refuses_an_unknown_period(closed: Any) -> None:
    api = _api(closed.members[3])
    url = f"/api/v1/communities/{closed.community.slug}/leaderboard/"
    assert api.get(url + "?period=all").json()["results"][0]["amount"] == 10000
    response = api.get(url + "?period=decade")
    assert response.status_code == 400
    assert "period" in response.json()


@pytest.mark.parametrize("size", [1, 3])
def test_results_and_leaderboard_run_a_fixed_number_of_queries(
    time_machine: Any, django_assert_max_num_queries: Any, size: int
) -> None:
    community, people = funded_community(time_machine, members=40, slug=f"r{size}")
    week = questions_with_answers(community, people, questions=size, answers=4 * size)
    time_machine.move_to(FRIDAY_W45)
    for i, answer in enumerate(week.answers[:15]):
        vote([people[i // 3]], answer)  # the askers, 0–4, wrote no answer
    time_machine.move_to(AFTER_W45)
    weekly.week_close(community=community, week=W45)
    client = _client(people[35])
    urls = [
        reverse("rewards:results", args=[community.slug, "2026-W45"]),
        reverse("rewards:archive", args=[community.slug]),
        reverse("rewards:leaderboard", args=[community.slug]) + "?period=all",
    ]
    client.get(urls[0])
    for url in urls:
        with django_assert_max_num_queries(14):
            assert client.get(url).status_code == 200


def test_in_the_growth_phase_the_weekly_pages_name_members_by_handle_only(closed: Any) -> None:
    from members.models import Community, Profile

    community = closed.community
    Community.objects.filter(pk=community.pk).update(phase=Community.Phase.GROWTH)
    viewer = closed.members[20]
    hidden = [
        value
        for real_name, company in Profile.objects.filter(community=community)
        .exclude(membership=viewer)
        .values_list("real_name", "company")
        for value in (real_name, company)
        if value
    ]
    assert hidden
    client, api = _client(viewer), _api(viewer)
    slug = community.slug
    pages = [
        client.get(url).content.decode()
        for url in (
            reverse("rewards:results", args=[slug, "2026-W45"]),
            reverse("rewards:archive", args=[slug]),
            reverse("rewards:leaderboard", args=[slug]) + "?period=all",
            reverse("questions:ballot_of", args=[slug, "2026-W45"]),
            reverse("rewards:earnings", args=[slug]),
        )
    ] + [
        api.get(url).content.decode()
        for url in (
            f"/api/v1/communities/{slug}/weeks/2026-W45/",
            f"/api/v1/communities/{slug}/weeks/",
            f"/api/v1/communities/{slug}/leaderboard/?period=all",
            f"/api/v1/communities/{slug}/ballots/2026-W45/",
        )
    ]
    winner = closed.answers[2].author.profile.handle
    assert all(winner in page for page in pages[:3])
    for page in pages:
        for value in hidden:
            assert value not in page
