"""A member's home in a community (``/c/<slug>/``): the week at a glance in each of its
states, what needs the member, and who sees what instead (visitors, candidates, people
signed in who are not members). The clock is moved with time-machine, never waited for."""

from __future__ import annotations

import datetime
import html
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse

from community import views as community_views
from community import weekly
from members.models import Membership
from questions import services as question_services
from questions import votes
from questions.models import Question
from tests.factories import UserFactory, add_member, make_community, organiser_of, set_status
from tests.questions.helpers import brief
from tests.rewards.weekly_helpers import (
    AFTER_W45,
    FRIDAY_W45,
    W45,
    funded_community,
    questions_with_answers,
    voted_week,
)

pytestmark = pytest.mark.django_db


def texts(response: Any) -> str:
    """The page's text, tags removed and white space folded."""
    body = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(body))


def _home(client: Any, membership: Membership) -> Any:
    client.force_login(membership.user)
    response = client.get(reverse("members:landing", args=[membership.community.slug]))
    assert response.status_code == 200
    return response


def test_the_front_page_of_a_community_is_the_composition_roots_view() -> None:
    assert resolve("/c/anything/").func is community_views.community_home
    assert reverse("members:landing", args=["anything"]) == "/c/anything/"


def test_while_answers_are_open_a_member_sees_the_questions_the_budget_and_the_voting_times(
    client: Any, time_machine: time_machine.TimeMachineFixture
) -> None:
    community, people = funded_community(time_machine, members=52, slug="glance-open")
    questions_with_answers(community, people, questions=2, answers=3)
    member = people[5]  # wrote answer 1 (to question 0)
    response = _home(client, member)
    assert response.templates[0].name == "community/home.html"
    page = texts(response)
    assert "2026-W45" in page
    assert "Open for answers" in page
    assert "Question 0" in page
    assert "Question 1" in page
    assert "3 answers" in page
    assert "you answered" in page
    assert "¥200.00" in page  # 52 entrance fees of 200.00 in 52 weekly shares
    # voting opens on the community's voting day, shown in its time zone (Asia/Shanghai)
    board = response.context["board"]
    assert board.phase == "open"
    assert board.votes_left == community.votes_per_member
    assert "Asia/Shanghai" in page
    assert "Last week" not in page  # the community began this week: no week to close


def test_while_voting_a_member_sees_the_votes_left_and_when_voting_closes(
    client: Any, time_machine: time_machine.TimeMachineFixture
) -> None:
    community, people = funded_community(time_machine, members=52, slug="glance-vote")
    week = questions_with_answers(community, people, questions=2, answers=3)
    time_machine.move_to(FRIDAY_W45)
    voter = people[40]
    votes.vote_cast(voter=voter, answer=week.answers[0])
    response = _home(client, voter)
    board = response.context["board"]
    assert board.phase == "voting"
    assert board.votes_used == 1
    page = texts(response)
    left = community.votes_per_member - 1
    assert f"You have {left} of {community.votes_per_member} votes left." in page
    assert "Voting closes" in page
    assert "Vote now" in page


def test_after_the_close_a_member_sees_last_weeks_winners_and_what_they_are_owed(
    client: Any, time_machine: time_machine.TimeMachineFixture
) -> None:
    week = voted_week(time_machine, slug="glance-close")
    community = week.community
    winner = week.answers[2].author
    before = texts(_home(client, winner))
    assert "Last week is being closed" in before
    weekly.week_close(community=community, week=W45)
    response = _home(client, winner)
    board = response.context["board"]
    assert board.last_week_label == "2026-W45"
    assert board.last_week_closed
    assert [w.place for w in board.winners] == [1, 2, 3]
    assert board.winners[0].answer_id == week.answers[2].pk
    assert board.owed > 0
    page = texts(response)
    assert str(winner.profile.handle) in page
    assert "¥100.00" in page  # the 50 % share of 200.00
    assert "The community owes you ¥100.00" in page


def test_what_needs_me_lists_invitations_unread_replies_and_my_briefs(
    client: Any, time_machine: time_machine.TimeMachineFixture
) -> None:
    community, people = funded_community(time_machine, members=12, slug="glance-needs")
    week = questions_with_answers(community, people, questions=1, answers=2)
    question = week.questions[0]
    asker = question.asker
    invitee = people[11]
    question_services.invitations_create(
        moderator=organiser_of(community), question=question, invitees=[invitee.pk]
    )
    draft = brief(asker, title="My next brief", submit=False)
    page = texts(_home(client, invitee))
    assert "Invitations to answer" in page
    assert question.title in page
    # the asker was told their brief was scheduled and got two answers; their draft is listed
    response = _home(client, asker)
    assert response.context["board"].unread_replies == 3
    page = texts(response)
    assert "3 unread notifications" in page
    assert "My next brief" in page
    assert draft.get_state_display() in page
    # once the invitee answered, the invitation no longer waits
    question_services.answer_create(author=invitee, question=question, body="My answer.")
    assert "Invitations to answer" not in texts(_home(client, invitee))


def test_a_member_with_nothing_waiting_is_told_so(
    client: Any, time_machine: time_machine.TimeMachineFixture
) -> None:
    _community, people = funded_community(time_machine, members=8, slug="glance-calm")
    page = texts(_home(client, people[3]))
    assert "Nothing waits for you" in page
    assert "No questions this week yet." in page


def test_a_lapsed_member_reads_the_week_and_is_offered_to_resume(
    client: Any, time_machine: time_machine.TimeMachineFixture
) -> None:
    _community, people = funded_community(time_machine, members=8, slug="glance-lapsed")
    lapsed = set_status(people[2], Membership.Status.LAPSED)
    response = _home(client, lapsed)
    assert response.context["can_resume"]
    assert "Resume membership" in texts(response)
    assert not response.context["board"].may_vote


def test_a_visitor_and_a_signed_in_outsider_see_the_landing_page(client: Any) -> None:
    community = make_community(slug="glance-visit")
    url = reverse("members:landing", args=[community.slug])
    response = client.get(url)
    assert response.status_code == 200
    assert "Sign up to join" in texts(response)
    assert "board" not in (response.context or {})
    client.force_login(UserFactory())
    response = client.get(url)
    assert response.templates[0].name == "members/landing.html"
    assert "Join and pay online" in texts(response)


def test_a_candidate_sees_their_challenge_answers_and_the_way_to_join(
    client: Any, time_machine: time_machine.TimeMachineFixture
) -> None:
    community, people = funded_community(time_machine, members=8, slug="glance-cand")
    organiser = organiser_of(community)
    question = brief(people[0], title="A challenge question")
    question_services.question_schedule(moderator=organiser, question=question, week=W45)
    question_services.question_set_challenge(
        moderator=organiser, question=question, is_challenge=True
    )
    answer = question_services.challenge_answer_create(
        user=UserFactory(), question=Question.objects.get(pk=question.pk), body="My try."
    )
    candidate = answer.author
    response = _home(client, candidate)
    assert response.templates[0].name == "members/landing.html"
    page = texts(response)
    assert "Your challenge answers" in page
    assert "A challenge question" in page
    assert "Join and pay online" in page


def _queries(client: Any, membership: Membership) -> int:
    client.force_login(membership.user)
    url = reverse("members:landing", args=[membership.community.slug])
    client.get(url)  # warm: sessions, the cached parts
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_home_page_does_not_query_more_for_more_questions_answers_and_winners(
    client: Any, time_machine: time_machine.TimeMachineFixture
) -> None:
    small = voted_week(time_machine, slug="glance-q1", members=52)
    weekly.week_close(community=small.community, week=W45)
    few = _queries(client, small.answers[2].author)  # last week's first place
    community, people = funded_community(time_machine, members=52, slug="glance-q2")
    week = questions_with_answers(community, people, questions=6, answers=8)
    time_machine.move_to(FRIDAY_W45)
    for i, voter in enumerate(people[40:52]):
        votes.vote_cast(voter=voter, answer=week.answers[i % 5])
    question_services.invitations_create(
        moderator=organiser_of(community),
        question=week.questions[0],
        invitees=[week.answers[0].author_id],
    )
    time_machine.move_to(AFTER_W45)
    weekly.week_close(community=community, week=W45)
    many = _queries(client, week.answers[0].author)  # last week's first place
    assert many == few
    assert many <= 30


def test_the_site_home_lists_each_community_once(client: Any) -> None:
    mine = make_community(slug="glance-mine", name="Mine circle")
    make_community(slug="glance-other", name="Other circle")
    member = add_member(mine)
    client.force_login(member.user)
    page = texts(client.get(reverse("home")))
    assert page.count("Mine circle") == 1
    assert page.count("Other circle") == 1


def test_times_on_the_home_page_are_in_the_communitys_time_zone(
    client: Any, time_machine: time_machine.TimeMachineFixture
) -> None:
    _community, people = funded_community(
        time_machine, members=8, slug="glance-tz", time_zone="America/New_York"
    )
    response = _home(client, people[1])
    board = response.context["board"]
    local = board.ends_at.astimezone(ZoneInfo("America/New_York"))
    assert local.strftime("%Y-%m-%d %H:%M") in texts(response)
    assert "America/New_York" in texts(response)


def test_a_moderator_is_told_how_many_briefs_wait_to_be_scheduled(
    client: Any, time_machine: time_machine.TimeMachineFixture
) -> None:
    community, people = funded_community(time_machine, members=8, slug="glance-mod")
    brief(people[1], title="Waiting one")
    brief(people[2], title="Waiting two")
    page = texts(_home(client, organiser_of(community)))
    assert "2 briefs wait to be scheduled." in page
    assert "briefs wait" not in texts(_home(client, people[3]))


def test_the_reward_side_of_a_budget_is_the_same_without_the_operations_fund(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    from rewards import schedules

    week = voted_week(time_machine, slug="glance-budget")
    weekly.week_close(community=week.community, week=W45)
    weeks_ = [W45, W45 + datetime.timedelta(days=7), W45 + datetime.timedelta(days=14)]
    full = schedules.budgets(community=week.community, weeks=weeks_)
    reward_only = schedules.budgets(community=week.community, weeks=weeks_, operations_fund=False)
    assert [b.reward_budget for b in reward_only] == [b.reward_budget for b in full]
    assert [b.reward_late for b in reward_only] == [b.reward_late for b in full]
    assert reward_only[0].operations_budget == full[0].operations_budget  # W45 is frozen
    assert full[1].reward_budget > 0


def test_in_the_growth_phase_the_home_page_names_winners_by_handle_only(
    client: Any, time_machine: time_machine.TimeMachineFixture
) -> None:
    week = voted_week(time_machine, slug="glance-private")
    community = week.community
    winner = week.answers[2].author
    winner.profile.real_name = "Wang Secret-Name"
    winner.profile.company = "Hidden Company Ltd"
    winner.profile.save(update_fields=["real_name", "company"])
    community.phase = community.Phase.GROWTH
    community.save(update_fields=["phase"])
    weekly.week_close(community=community, week=W45)
    viewer = week.members[45]  # a member who voted, not an organiser
    page = texts(_home(client, viewer))
    assert str(winner.profile.handle) in page
    assert "Wang Secret-Name" not in page
    assert "Hidden Company Ltd" not in page
    # the organiser's home names them by handle too (a page every member shares in kind)
    assert "Wang Secret-Name" not in texts(_home(client, organiser_of(community)))
