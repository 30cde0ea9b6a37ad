"""The weekly best-answer vote (SPEC §2.5): casting and withdrawing votes, and the ballot.

A week's ballot is every answer to the questions scheduled into that week's session. While
the week's voting is open (questions.lifecycle: from the community's voting time to the
week's end) each active member has ``votes_per_member`` votes: at most one per answer (a
database constraint), never on their own answer; a vote may be withdrawn while voting is
open. Candidates, lapsed members and visitors do not vote. The weekly limit is checked with
the voter's membership row locked, so two requests racing for the last vote end with one
vote cast and one refusal.

Vote counts are not shown while voting is open (so early votes do not steer later ones);
the week's results show them once it is closed.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _

from members import weeks
from members.models import Community, Membership
from questions import access, lifecycle
from questions.models import Answer, Question, Vote

Phase = lifecycle.Phase


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError({"vote": ValidationError(message, code=code)})


def _check_voter(voter: Membership) -> None:
    if voter.role == Membership.Role.CANDIDATE:
        raise _refuse(
            _("Candidates cannot vote: join the community to vote for the best answers."),
            "candidate",
        )
    if not access.is_writer(voter):
        raise _refuse(_("Only active members can vote."), "not_active")


def _check_window(community: Community, week: datetime.date, now: datetime.datetime) -> None:
    phase = lifecycle.week_phase(community, week, now)
    if phase == Phase.CLOSED:
        raise _refuse(_("Voting for that week has closed."), "closed")
    if phase != Phase.VOTING:
        opens = weeks.voting_opens_at(community, week)  # in the community's time zone
        raise _refuse(
            _("Voting is not open yet: it opens at %(at)s (%(zone)s).")
            % {"at": date_format(opens, "Y-m-d H:i"), "zone": community.time_zone},
            "not_open",
        )


def ballot_week(answer: Answer) -> datetime.date:
    """The week whose ballot the answer is on; ValidationError if it is on none."""
    question = answer.question
    if not question.is_published or question.session is None:
        raise _refuse(_("This answer is not on a week's ballot."), "not_on_ballot")
    return question.session.week


def _lock(voter: Membership) -> Membership:
    """The voter's membership, locked: the weekly limit is counted under this lock."""
    return (
        Membership.objects.select_for_update(of=("self",))
        .select_related("community")
        .get(pk=voter.pk)
    )


def votes_used(*, voter: Membership, week: datetime.date) -> int:
    return Vote.objects.filter(voter=voter, week=week).count()


def _locked_voter(
    voter: Membership, answer: Answer, now: datetime.datetime
) -> tuple[Membership, datetime.date]:
    """The voter's membership, locked, once they may vote on ``answer``'s ballot now, and the
    ballot's week; ValidationError saying why not. Call inside a transaction."""
    if voter.community_id != answer.question.community_id:
        raise _refuse(_("This answer is not on this community's ballot."), "other_community")
    week = ballot_week(answer)
    locked = _lock(voter)
    _check_voter(locked)
    _check_window(locked.community, week, now)  # the community's rules as they are now
    return locked, week


def vote_cast(*, voter: Membership, answer: Answer, now: datetime.datetime | None = None) -> int:
    """Vote for ``answer``; returns the votes the voter has left this week. Voting again for
    the same answer changes nothing. Raises ValidationError (key ``vote``) saying why a vote
    is refused; nothing is written then."""
    with transaction.atomic():
        locked, week = _locked_voter(voter, answer, now or timezone.now())
        if answer.author_id == locked.pk:
            raise _refuse(_("You cannot vote for your own answer."), "own_answer")
        used = votes_used(voter=locked, week=week)
        limit = locked.community.votes_per_member
        if Vote.objects.filter(answer=answer, voter=locked).exists():
            return max(limit - used, 0)
        if used >= limit:
            raise _refuse(
                _("You have no votes left this week (%(n)d a week); withdraw one to vote again.")
                % {"n": limit},
                "no_votes_left",
            )
        try:
            with transaction.atomic():
                Vote.objects.create(
                    community=locked.community, week=week, answer=answer, voter=locked
                )
        except IntegrityError:  # the same vote a moment ago (the lock makes this rare)
            return max(limit - used, 0)
    return limit - used - 1


def vote_withdraw(
    *, voter: Membership, answer: Answer, now: datetime.datetime | None = None
) -> int:
    """Withdraw one's vote for ``answer`` while voting is open; returns the votes left."""
    with transaction.atomic():
        locked, week = _locked_voter(voter, answer, now or timezone.now())
        deleted, _rows = Vote.objects.filter(answer=answer, voter=locked).delete()
        if not deleted:
            raise _refuse(_("You have not voted for this answer."), "not_voted")
        used = votes_used(voter=locked, week=week)
    return locked.community.votes_per_member - used


# --- The ballot ---------------------------------------------------------------------------------


@dataclass
class BallotAnswer:
    answer: Answer
    mine: bool  # the viewer wrote it
    voted: bool  # the viewer voted for it


@dataclass
class BallotQuestion:
    question: Question
    answers: list[BallotAnswer] = field(default_factory=list)


@dataclass
class Ballot:
    community: Community
    week: datetime.date
    label: str
    phase: Phase
    opens_at: datetime.datetime
    closes_at: datetime.datetime
    votes_per_member: int
    votes_used: int
    may_vote: bool  # the viewer is a member who may vote (whatever the time)
    questions: list[BallotQuestion]

    @property
    def is_open(self) -> bool:
        return self.phase == Phase.VOTING

    @property
    def votes_left(self) -> int:
        return max(self.votes_per_member - self.votes_used, 0)

    @property
    def can_vote(self) -> bool:
        """The viewer can cast a vote now (open, a member, votes left)."""
        return self.is_open and self.may_vote and self.votes_left > 0

    @property
    def answer_count(self) -> int:
        return sum(len(q.answers) for q in self.questions)


def may_vote(viewer: Membership | None) -> bool:
    return viewer is not None and viewer.role != Membership.Role.CANDIDATE and viewer.is_writer


def ballot(
    *,
    viewer: Membership,
    community: Community,
    week: datetime.date,
    now: datetime.datetime | None = None,
) -> Ballot:
    """The week's ballot as ``viewer`` sees it, in three queries whatever its size."""
    questions = list(
        Question.objects.filter(
            community=community,
            session__week=week,
            state__in=[Question.State.SCHEDULED, Question.State.OPEN, Question.State.CLOSED],
        )
        .select_related("session")
        .only("pk", "title", "community_id", "is_challenge", "state", "session__week")
        .order_by("scheduled_at", "pk")
    )
    answers = list(
        Answer.objects.filter(question__in=questions)
        .select_related("author__profile")
        .only(
            "pk",
            "question_id",
            "author_id",
            "body_html",
            "created_at",
            "author__profile__handle",
            "author__profile__community_id",
        )
        .order_by("created_at", "pk")
    )
    mine = set(Vote.objects.filter(voter=viewer, week=week).values_list("answer_id", flat=True))
    by_question = {q.pk: BallotQuestion(question=q) for q in questions}
    for answer in answers:
        by_question[answer.question_id].answers.append(
            BallotAnswer(answer=answer, mine=answer.author_id == viewer.pk, voted=answer.pk in mine)
        )
    return Ballot(
        community=community,
        week=week,
        label=weeks.label(week),
        phase=lifecycle.week_phase(community, week, now),
        opens_at=weeks.voting_opens_at(community, week),
        closes_at=weeks.ends_at(community, week),
        votes_per_member=community.votes_per_member,
        votes_used=len(mine),
        may_vote=may_vote(viewer),
        questions=list(by_question.values()),
    )


def my_votes_on(*, viewer: Membership | None, answers: list[Answer]) -> set[int]:
    """Which of ``answers`` the viewer voted for (one query)."""
    if viewer is None or not answers:
        return set()
    return set(
        Vote.objects.filter(voter=viewer, answer__in=[a.pk for a in answers]).values_list(
            "answer_id", flat=True
        )
    )


def tallies(*, community: Community, week: datetime.date) -> dict[int, int]:
    """Votes per answer of the week's ballot (answers with none are absent)."""
    return dict(
        Vote.objects.filter(community=community, week=week)
        .values("answer")
        .annotate(n=Count("pk"))
        .values_list("answer", "n")
    )
