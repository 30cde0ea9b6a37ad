"""A member's home in a community: the week at a glance and what needs them.

It reads from every app (questions, rewards, rotation), so it lives in the composition root.
Each part is one selector call of its own app; the page's query count does not grow with
the community's size (tests/community/test_dashboard.py counts them).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef
from django.utils import timezone

from community import weekly
from members import access, privacy, weeks
from members.models import Community, Membership
from questions import lifecycle, votes
from questions import selectors as question_selectors
from questions.models import Answer, Invitation, Notification, Question
from rewards import payouts, schedules
from rewards.models import Prize
from rewards.results import week_results
from rotation.services import moderator_of

WEEK = datetime.timedelta(days=7)
BRIEFS_SHOWN = 5
UNREAD_SHOWN = 5

# The briefs a member still follows: not yet published, or published into a week to come.
FOLLOWED_BRIEFS = (Question.State.DRAFT, Question.State.SUBMITTED, Question.State.SCHEDULED)


@dataclass
class Winner:
    place: int
    handle: str
    amount: int
    question_title: str
    answer_id: int
    voided: bool


@dataclass
class Dashboard:
    community: Community
    viewer: Membership
    week: datetime.date
    label: str
    phase: str
    begins_at: datetime.datetime
    voting_opens_at: datetime.datetime
    ends_at: datetime.datetime
    questions: list[Question]
    votes_per_member: int
    votes_used: int
    may_vote: bool
    reward_budget: int
    moderator: str | None
    moderator_is_me: bool
    last_week_label: str
    last_week_closed: bool
    last_week_existed: bool  # the community was there last week (it has a week to close)
    winners: list[Winner]
    briefs: list[Question]
    invitations: list[Invitation]
    replies: list[Notification]  # unread, in this community: answers, comments, prizes…
    unread_replies: int
    owed: int
    available: int
    held_until: datetime.datetime | None
    next_week_questions: int = 0
    briefs_waiting: int | None = None  # for those who schedule briefs: the queue's length
    my_answers_this_week: set[int] = field(default_factory=set)

    @property
    def votes_left(self) -> int:
        return max(self.votes_per_member - self.votes_used, 0)

    @property
    def answer_total(self) -> int:
        return sum(getattr(q, "answer_count", 0) for q in self.questions)

    @property
    def needs_me(self) -> bool:
        return bool(
            self.briefs or self.invitations or self.replies or self.owed > 0 or self.briefs_waiting
        )


def _winners(community: Community, budget: schedules.WeekBudget) -> tuple[bool, list[Winner]]:
    results = week_results(community=community, week=budget.week, budget=budget)
    prizes: list[Prize] = results.prizes
    return results.closed, [
        Winner(
            place=p.place,
            handle=privacy.display_name(p.membership.profile),
            amount=p.amount,
            question_title=p.answer.question.title,
            answer_id=p.answer_id,
            voided=p.is_voided,
        )
        for p in prizes
    ]


def _moderator(community: Community, week: datetime.date) -> tuple[str | None, int | None]:
    membership_id = moderator_of(community, week)
    if membership_id is None:
        return None, None
    membership = (
        Membership.objects.select_related("profile")
        .only("pk", "community_id", "profile__handle", "profile__community_id")
        .filter(pk=membership_id)
        .first()
    )
    if membership is None:
        return None, None
    return privacy.display_name(membership.profile), membership_id


def dashboard(
    *, viewer: Membership, community: Community, now: datetime.datetime | None = None
) -> Dashboard:
    """This week for ``viewer`` (a reader of ``community``)."""
    now = now or timezone.now()
    week = weeks.start_of(community, now)
    last_week = week - WEEK
    overview = question_selectors.week_overview(
        viewer=viewer, community=community, starts=[week, week + WEEK]
    )
    this, upcoming = overview
    mine = set(
        Answer.objects.filter(
            author=viewer, question__in=[q.pk for q in this.questions]
        ).values_list("question_id", flat=True)
    )
    # the reward fund only: the operations fund's per-day spread is not worked out
    last_budget, budget = schedules.budgets(
        community=community, weeks=[last_week, week], operations_fund=False
    )
    moderator, moderator_id = _moderator(community, week)
    closed, winners = _winners(community, last_budget)
    answered = Answer.objects.filter(question=OuterRef("question"), author=viewer)
    invitations = list(
        Invitation.objects.filter(
            invitee=viewer,
            question__community=community,
            question__session__week__gte=week,
            question__state__in=[Question.State.SCHEDULED, Question.State.OPEN],
        )
        .exclude(Exists(answered))
        .select_related("question__session")
        .only(
            "pk",
            "question__id",
            "question__title",
            "question__community_id",
            "question__session__week",
        )
        .order_by("question__session__week", "pk")
    )
    briefs = list(
        Question.objects.filter(asker=viewer, state__in=FOLLOWED_BRIEFS)
        .exclude(state=Question.State.SCHEDULED, session__week__lt=week)
        .select_related("session")
        .only("pk", "title", "state", "community_id", "session__week")
        .order_by("-pk")[:BRIEFS_SHOWN]
    )
    replies_qs = Notification.objects.filter(
        recipient_id=viewer.user_id, community=community, read_at__isnull=True
    )
    replies = list(
        replies_qs.select_related("question").order_by("-created_at", "-pk")[:UNREAD_SHOWN]
    )
    unread_replies = replies_qs.count()
    money = payouts.earnings(membership=viewer, now=now)
    waiting = None
    if access.has_moderator_powers(viewer, now):
        waiting = question_selectors.briefs_to_schedule(community=community).count()
    return Dashboard(
        community=community,
        viewer=viewer,
        week=week,
        label=weeks.label(week),
        phase=lifecycle.week_phase(community, week, now),
        begins_at=weeks.begins_at(community, week),
        voting_opens_at=weeks.voting_opens_at(community, week),
        ends_at=weeks.ends_at(community, week),
        questions=this.questions,
        votes_per_member=community.votes_per_member,
        votes_used=votes.votes_used(voter=viewer, week=week),
        may_vote=votes.may_vote(viewer),
        reward_budget=budget.reward_budget,
        moderator=moderator,
        moderator_is_me=moderator_id == viewer.pk,
        last_week_label=weeks.label(last_week),
        last_week_closed=closed,
        last_week_existed=last_week >= weekly.first_week(community),
        winners=winners,
        briefs=briefs,
        invitations=invitations,
        replies=replies,
        unread_replies=unread_replies,
        owed=max(money.owed, 0),
        available=money.available,
        held_until=money.held_until if money.held else None,
        next_week_questions=len(upcoming.questions),
        my_answers_this_week=mine,
        briefs_waiting=waiting,
    )


def candidate_answers(*, viewer: Membership) -> list[Answer]:
    """A candidate's answers to challenge questions, newest first."""
    return list(question_selectors.my_answers(viewer=viewer).select_related("question")[:20])
