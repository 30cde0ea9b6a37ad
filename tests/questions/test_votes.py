"""The weekly vote (SPEC §2.5): the window, the weekly limit, one vote per answer, never one's
own, candidates and lapsed members refused — each refusal saying why and changing nothing —
and the race for the last vote, on PostgreSQL."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection

from members.models import Membership
from questions import votes
from questions.models import Answer, Vote
from tests.factories import set_status
from tests.rewards.weekly_helpers import (
    AFTER_W45,
    FRIDAY_W45,
    MONDAY_W45,
    funded_community,
    questions_with_answers,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def week(time_machine: time_machine.TimeMachineFixture) -> Any:
    community, people = funded_community(time_machine, members=12)
    return questions_with_answers(community, people, questions=2, answers=3)


def _refused(voter: Membership, answer: Answer, code: str, withdraw: bool = False) -> str:
    before = list(Vote.objects.order_by("pk").values_list("pk", "voter", "answer"))
    with pytest.raises(ValidationError) as caught:
        (votes.vote_withdraw if withdraw else votes.vote_cast)(voter=voter, answer=answer)
    assert caught.value.error_dict["vote"][0].code == code
    assert list(Vote.objects.order_by("pk").values_list("pk", "voter", "answer")) == before
    return " ".join(caught.value.messages)


def test_a_member_has_three_votes_a_week_one_per_answer(week: Any, time_machine: Any) -> None:
    # given voting is open
    time_machine.move_to(FRIDAY_W45)
    voter = week.members[0]
    a1, a2, a3, a4 = week.answers[:4]
    # when they vote three times (and once more for the same answer)
    assert votes.vote_cast(voter=voter, answer=a1) == 2
    assert votes.vote_cast(voter=voter, answer=a1) == 2  # the same vote again: no change
    assert votes.vote_cast(voter=voter, answer=a2) == 1
    assert votes.vote_cast(voter=voter, answer=a3) == 0
    # then a fourth is refused, saying so
    message = _refused(voter, a4, "no_votes_left")
    assert "no votes left" in message
    assert Vote.objects.filter(voter=voter).count() == 3
    # and withdrawing one gives it back
    assert votes.vote_withdraw(voter=voter, answer=a2) == 1
    assert votes.vote_cast(voter=voter, answer=a4) == 0
    assert set(Vote.objects.filter(voter=voter).values_list("answer", flat=True)) == {
        a1.pk,
        a3.pk,
        a4.pk,
    }


def test_the_limit_follows_the_community_setting(week: Any, time_machine: Any) -> None:
    week.community.votes_per_member = 1
    week.community.save(update_fields=["votes_per_member"])
    time_machine.move_to(FRIDAY_W45)
    voter = Membership.objects.get(pk=week.members[0].pk)
    assert votes.vote_cast(voter=voter, answer=week.answers[0]) == 0
    _refused(voter, week.answers[1], "no_votes_left")


def test_voting_is_refused_before_it_opens_and_after_the_week_ends(
    week: Any, time_machine: Any
) -> None:
    voter, answer = week.members[0], week.answers[0]
    time_machine.move_to(MONDAY_W45)
    assert "opens at 2026-11-06 00:00" in _refused(voter, answer, "not_open")
    time_machine.move_to(FRIDAY_W45)
    votes.vote_cast(voter=voter, answer=answer)
    time_machine.move_to(AFTER_W45)
    _refused(voter, week.answers[1], "closed")
    _refused(voter, answer, "closed", withdraw=True)  # nor withdrawn
    assert Vote.objects.filter(voter=voter, answer=answer).exists()


def test_nobody_votes_for_their_own_answer(week: Any, time_machine: Any) -> None:
    time_machine.move_to(FRIDAY_W45)
    answer = week.answers[0]
    assert "own answer" in _refused(answer.author, answer, "own_answer")


def test_candidates_and_lapsed_members_cannot_vote(week: Any, time_machine: Any) -> None:
    time_machine.move_to(FRIDAY_W45)
    candidate = set_status(
        week.members[1], Membership.Status.ACTIVE, role=Membership.Role.CANDIDATE
    )
    lapsed = set_status(week.members[2], Membership.Status.LAPSED)
    assert "Candidates cannot vote" in _refused(candidate, week.answers[0], "candidate")
    assert "active members" in _refused(lapsed, week.answers[0], "not_active")


def test_withdrawing_a_vote_never_cast_is_refused(week: Any, time_machine: Any) -> None:
    time_machine.move_to(FRIDAY_W45)
    _refused(week.members[0], week.answers[0], "not_voted", withdraw=True)


@pytest.mark.django_db(transaction=True)
def test_two_requests_for_the_last_vote_end_with_one_vote(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    # given a member with one vote left and two answers to spend it on
    community, people = funded_community(time_machine, members=12, slug="race")
    week = questions_with_answers(community, people, questions=1, answers=4)
    time_machine.move_to(FRIDAY_W45, tick=False)
    voter = week.members[0]
    votes.vote_cast(voter=voter, answer=week.answers[0])
    votes.vote_cast(voter=voter, answer=week.answers[1])
    # when two threads (two connections) cast the last vote at once
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def cast(answer: Answer) -> None:
        try:
            barrier.wait(timeout=30)
            votes.vote_cast(voter=voter, answer=answer)
            outcomes.append("cast")
        except ValidationError as exc:
            outcomes.append(exc.error_dict["vote"][0].code or "")
        finally:
            connection.close()

    threads = [threading.Thread(target=cast, args=(a,)) for a in week.answers[2:4]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then exactly one wins and the member has three votes, no more
    assert sorted(outcomes) == ["cast", "no_votes_left"]
    assert Vote.objects.filter(voter=voter).count() == 3
