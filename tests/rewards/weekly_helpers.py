"""Builders for the weekly cycle's tests: a community created in a known week, funded so its
weekly reward budget is a round figure, with a week of questions and answers. Time is moved
with time-machine (``traveller.move_to``), never waited for."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import time_machine

from members import weeks
from members.models import Community, Membership
from questions import services as question_services
from questions.models import Answer, Question
from tests.factories import bulk_members, bulk_payments, make_community, organiser_of
from tests.questions.helpers import brief

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEK = datetime.timedelta(days=7)
# 2026-W45 runs from Monday 2 November 2026 00:00 to Monday 9 November 00:00 (Shanghai).
W45 = datetime.date(2026, 11, 2)
MONDAY_W45 = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)
FRIDAY_W45 = datetime.datetime(2026, 11, 6, 10, 0, tzinfo=SHANGHAI)  # voting is open
AFTER_W45 = datetime.datetime(2026, 11, 9, 0, 10, tzinfo=SHANGHAI)  # W45 has ended


def at(day: datetime.date, hour: int = 12, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=SHANGHAI)


@dataclass
class Week:
    community: Community
    members: list[Membership]
    questions: list[Question]
    answers: list[Answer]

    @property
    def organiser(self) -> Membership:
        return organiser_of(self.community)


def funded_community(
    traveller: time_machine.Coordinates,
    *,
    members: int = 52,
    slug: str = "weekly",
    fee: int = 20000,
    **rules: object,
) -> tuple[Community, list[Membership]]:
    """A community created on Monday of 2026-W45 whose ``members`` members each paid the
    entrance fee in 2026-W40: with 52 members at 200.00 each week's reward budget from W41
    on is exactly 200.00 (SPEC §2.2)."""
    traveller.move_to(MONDAY_W45)
    community = make_community(slug=slug, entrance_fee=fee, privacy_threshold=10_000, **rules)
    people = bulk_members(community, members, prefix=slug)
    received = at(datetime.date(2026, 9, 30))  # Wednesday of 2026-W40
    bulk_payments(community, [(m, "entrance", fee, received) for m in people])
    return community, people


def questions_with_answers(
    community: Community, people: list[Membership], *, questions: int = 2, answers: int = 4
) -> Week:
    """``questions`` questions scheduled into the current week (call on its Monday), each
    answered by ``answers`` members (rotating through ``people``), in order of time."""
    made, written = [], []
    organiser = organiser_of(community)
    for i in range(questions):
        question = brief(people[i], title=f"Question {i}")
        question_services.question_schedule(
            moderator=organiser, question=question, week=weeks.start_of(community)
        )
        question.refresh_from_db()
        made.append(question)
    k = 0
    for question in made:
        for _j in range(answers):
            author = people[(k % (len(people) - 5)) + 5]
            k += 1
            written.append(
                question_services.answer_create(
                    author=author, question=question, body=f"Answer {k} to {question.title}."
                )
            )
    return Week(community=community, members=people, questions=made, answers=written)


def vote(voters: list[Membership], answer: Answer) -> None:
    from questions import votes

    for voter in voters:
        votes.vote_cast(voter=voter, answer=answer)


def voted_week(traveller: time_machine.Coordinates, **kwargs: object) -> Week:
    """2026-W45 of a community whose reward budget is 200.00 a week, its ballot cast, time
    moved to just after the week ended (not closed yet): answer 2 gets 3 votes, answers 0 and
    5 two each (0 is earlier: it wins the tie), answer 7 one; the others none."""
    community, people = funded_community(traveller, **kwargs)  # type: ignore[arg-type]
    week = questions_with_answers(community, people, questions=2, answers=4)
    traveller.move_to(FRIDAY_W45)
    a = week.answers
    voters = people[40:52]
    vote(voters[0:3], a[2])
    vote(voters[3:5], a[5])
    vote(voters[5:7], a[0])
    vote(voters[7:8], a[7])
    traveller.move_to(AFTER_W45)
    return week
