"""Reads for the questions pages and API, each at a fixed number of queries."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import (
    Avg,
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from members import weeks
from members.models import Community, Membership, Tag, User
from questions import access, lifecycle
from questions.models import Answer, AnswerRevision, Comment, Notification, Question, Rating, Vote

State = Question.State
PUBLISHED = (State.SCHEDULED, State.OPEN, State.CLOSED)
# Search documents (tsvectors of hundreds of tokens) are for the index, not for pages: loading
# and parsing them cost more than the rest of a row.
_PROFILE_DOCS = ("profile__search_document", "profile__full_search_document")


def _unsearched(*relations: str) -> tuple[str, ...]:
    return tuple(f"{relation}__{doc}" for relation in relations for doc in _PROFILE_DOCS)


def _answer_count() -> Coalesce:
    """A question's number of answers, counted for the rows shown only (a join and GROUP BY
    would count the answers of every question that matches before the page is cut)."""
    answers = (
        Answer.objects.filter(question=OuterRef("pk"))
        .order_by()
        .values("question")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(answers), 0)


def visible_questions(*, viewer: Membership, community: Community) -> QuerySet[Question]:
    """The questions a member (or candidate) may see in a community."""
    qs = Question.objects.filter(community=community)
    if access.is_reader(viewer):
        mine = Q(asker=viewer)
        triage = Q(state=State.SUBMITTED) if access.has_moderator_powers(viewer) else Q(pk__in=[])
        return qs.filter(Q(state__in=PUBLISHED) | mine | triage)
    if access.is_candidate(viewer):
        return qs.filter(state__in=PUBLISHED, is_challenge=True)
    return qs.none()


@dataclass
class QuestionFilters:
    week: str = ""
    tag: str = ""
    state: str = ""
    q: str = ""
    mine: bool = False


def questions_list(
    *, viewer: Membership, community: Community, filters: QuestionFilters
) -> QuerySet[Question]:
    """Questions for the list page and API, newest week first. Raises ValidationError naming
    the parameter for an unknown week, tag or state. Free text searches briefs and — for
    members, who may read them — answers."""
    qs = visible_questions(viewer=viewer, community=community)
    if filters.week.strip():
        try:
            start = weeks.parse(community, filters.week)
        except ValidationError as exc:
            raise ValidationError({"week": exc.messages}) from None
        qs = qs.filter(session__week=start)
    if filters.tag.strip():
        tag = Tag.objects.filter(
            community=community, kind=Tag.Kind.SKILL, name__iexact=filters.tag.strip()
        ).first()
        if tag is None:
            raise ValidationError({"tag": _("Unknown tag.")}, code="unknown_tag")
        qs = qs.filter(needs=tag)
    if filters.state.strip():
        if filters.state not in State.values:
            raise ValidationError({"state": _("Unknown state.")}, code="invalid")
        qs = qs.filter(state=filters.state)
    if filters.mine:
        qs = qs.filter(asker=viewer)
    if filters.q.strip():
        matches = Q(search_document__matches=filters.q)
        if access.is_reader(viewer):
            # EXISTS, not IN: PostgreSQL then picks per query between the GIN index (rare
            # words) and each question's first few answers (common words, which IN would
            # collect from half the answers of the community: seconds at 500,000 answers).
            answered = Answer.objects.filter(
                question=OuterRef("pk"), search_document__matches=filters.q
            )
            matches |= Q(Exists(answered))
        qs = qs.filter(matches)
    return (
        # community and attachment: the API's question_data reads them for every row
        qs.select_related("session", "asker__profile", "community", "attachment")
        .defer("search_document", *_unsearched("asker"))
        .prefetch_related(Prefetch("needs", queryset=Tag.objects.only("id", "name")))
        .annotate(answer_count=_answer_count())
        .order_by("-session__week", "-submitted_at", "-pk")
    )


@dataclass
class Thread:
    comment: Comment
    replies: list[Comment] = field(default_factory=list)


@dataclass
class AnswerView:
    answer: Answer
    threads: list[Thread]
    comment_count: int
    my_rating: int | None
    voted: bool = False  # the viewer voted for it this week
    can_vote: bool = False  # the ballot is open, the viewer votes, and it is not theirs
    can_rate: bool = False  # questions.access.may_rate
    can_tip: bool = False  # the same rule (rewards.checkout.check_tip)


@dataclass
class QuestionPage:
    question: Question
    needs: list[Tag]
    answers: list[AnswerView]
    my_answer: Answer | None
    answers_hidden: bool  # a visitor or candidate sees only their own answer
    voting_closes_at: datetime.datetime | None
    can_answer: bool
    phase: lifecycle.Phase = lifecycle.Phase.SUBMITTED
    can_revise: bool = False  # the viewer's own answer can still change
    voting_opens_at: datetime.datetime | None = None
    voting_open: bool = False  # the week's ballot takes votes now
    may_vote: bool = False  # the viewer is a member who votes
    votes_left: int = 0
    # What the viewer may do here, from the rules the services apply (questions.access):
    can_edit_brief: bool = False
    can_moderate: bool = False  # moderator powers: the moderation panel
    can_schedule: bool = False
    can_invite: bool = False
    can_mark_challenge: bool = False
    can_comment: bool = False
    can_remove_comments: bool = False
    editable_comments: set[int] = field(default_factory=set)  # the viewer's, still editable

    @property
    def can_vote(self) -> bool:
        return self.voting_open and self.may_vote


def question_page(*, viewer: Membership | None, question: Question) -> QuestionPage:
    """A question with its answers, their ratings and discussion: five queries whatever the
    number of answers and comments."""
    answers = (
        Answer.objects.filter(question=question)
        .select_related("author__profile", "attachment")
        .defer("search_document", *_unsearched("author"))
        .annotate(rating_avg=Avg("ratings__stars"), rating_count=Count("ratings"))
        .order_by("created_at", "pk")
        .prefetch_related(
            Prefetch(
                "comments",
                queryset=Comment.objects.select_related("author__profile")
                .defer(*_unsearched("author"))
                .order_by("created_at", "pk"),
                to_attr="all_comments",
            )
        )
    )
    sees_all = access.sees_all_answers(viewer)
    if not sees_all:
        answers = answers.filter(author=viewer) if viewer is not None else answers.none()
    if viewer is not None:
        answers = answers.prefetch_related(
            Prefetch("ratings", queryset=Rating.objects.filter(rater=viewer), to_attr="mine")
        )
    phase = lifecycle.question_phase(question)
    week = question.session.week if question.session else None
    voting_open = week is not None and phase == lifecycle.Phase.VOTING
    may_vote = access.is_writer(viewer)
    my_votes: set[int] = set()
    if may_vote and week is not None:
        my_votes = set(
            Vote.objects.filter(voter=viewer, week=week).values_list("answer_id", flat=True)
        )
    views = []
    my_answer = None
    editable_comments: set[int] = set()
    for answer in answers:
        answer.question = question  # the rules below read it; spares a query per answer
        threads: dict[int, Thread] = {}
        for comment in answer.all_comments:
            if access.may_edit_comment(viewer, comment):
                editable_comments.add(comment.pk)
            if comment.parent_id is None:
                threads[comment.pk] = Thread(comment)
            elif comment.parent_id in threads:
                threads[comment.parent_id].replies.append(comment)
        mine = getattr(answer, "mine", [])
        own = viewer is not None and answer.author_id == viewer.pk
        may_rate = access.may_rate(viewer, answer)
        views.append(
            AnswerView(
                answer=answer,
                threads=list(threads.values()),
                comment_count=len(answer.all_comments),
                my_rating=mine[0].stars if mine else None,
                voted=answer.pk in my_votes,
                can_vote=voting_open and may_vote and not own,
                can_rate=may_rate,
                can_tip=may_rate,
            )
        )
        if own:
            my_answer = answer
    closes = weeks.ends_at(question.community, week) if week else None
    answerable = lifecycle.can_answer(question)
    can_answer = (
        answerable
        and my_answer is None
        and (
            access.is_writer(viewer)
            or (question.is_challenge and (viewer is None or access.is_candidate(viewer)))
        )
    )
    # Cached on the question: the API's question_data reads them again.
    prefetch_related_objects([question], "needs")
    return QuestionPage(
        question=question,
        needs=list(question.needs.all()),
        answers=views,
        my_answer=my_answer,
        answers_hidden=not sees_all,
        voting_closes_at=closes,
        can_answer=can_answer,
        phase=phase,
        can_revise=my_answer is not None and answerable,
        voting_opens_at=weeks.voting_opens_at(question.community, week) if week else None,
        voting_open=voting_open,
        may_vote=may_vote,
        votes_left=max(question.community.votes_per_member - len(my_votes), 0),
        can_edit_brief=access.may_edit_brief(viewer, question),
        can_moderate=access.has_moderator_powers(viewer),
        can_schedule=access.may_schedule(viewer, question),
        can_invite=access.may_invite(viewer, question),
        can_mark_challenge=access.may_mark_challenge(viewer, question),
        can_comment=access.may_comment(viewer),
        can_remove_comments=access.may_remove_comment(viewer),
        editable_comments=editable_comments,
    )


@dataclass
class WeekView:
    start: datetime.date
    label: str
    begins_at: datetime.datetime
    ends_at: datetime.datetime
    announcement_html: str
    questions: list[Question]


def week_overview(
    *, viewer: Membership, community: Community, starts: list[datetime.date]
) -> list[WeekView]:
    """The sessions of the given weeks with their questions (and what the API shows of
    each: community, attachment, needs), in three queries."""
    from questions.models import WeekSession

    sessions = {s.week: s for s in WeekSession.objects.filter(community=community, week__in=starts)}
    questions = (
        visible_questions(viewer=viewer, community=community)
        .filter(session__week__in=starts, state__in=PUBLISHED)
        .select_related("session", "asker__profile", "community", "attachment")
        .defer("search_document", *_unsearched("asker"))
        .prefetch_related(Prefetch("needs", queryset=Tag.objects.only("id", "name")))
        .annotate(answer_count=_answer_count())
        .order_by("scheduled_at", "pk")
    )
    by_week: dict[datetime.date, list[Question]] = {start: [] for start in starts}
    for question in questions:
        assert question.session is not None  # noqa: S101 - published questions have one
        by_week[question.session.week].append(question)
    return [
        WeekView(
            start=start,
            label=weeks.label(start),
            begins_at=weeks.begins_at(community, start),
            ends_at=weeks.ends_at(community, start),
            announcement_html=sessions[start].announcement_html if start in sessions else "",
            questions=by_week[start],
        )
        for start in starts
    ]


def this_and_next_week(*, viewer: Membership, community: Community) -> list[WeekView]:
    this = weeks.start_of(community)
    return week_overview(
        viewer=viewer, community=community, starts=[this, this + datetime.timedelta(days=7)]
    )


def briefs_to_schedule(*, community: Community) -> QuerySet[Question]:
    return (
        Question.objects.filter(community=community, state=State.SUBMITTED)
        .select_related("asker__profile")
        .prefetch_related(Prefetch("needs", queryset=Tag.objects.only("id", "name")))
        .order_by("submitted_at", "pk")
    )


def my_answers(*, viewer: Membership) -> QuerySet[Answer]:
    return (
        Answer.objects.filter(author=viewer)
        .select_related("question__session")
        .annotate(rating_avg=Avg("ratings__stars"), rating_count=Count("ratings"))
        .order_by("-created_at")
    )


def revisions(*, answer: Answer) -> QuerySet[AnswerRevision]:
    return AnswerRevision.objects.filter(answer=answer).order_by("-number")


def notifications_for(*, user: User, limit: int = 50) -> list[Notification]:
    return list(
        Notification.objects.filter(recipient=user)
        .select_related(
            "community", "question", "answer__author__profile", "comment__author__profile"
        )
        .order_by("-created_at", "-pk")[:limit]
    )


def unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
