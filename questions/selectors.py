"""Reads for the questions pages and API, each at a fixed number of queries."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import (
    Avg,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextChoices,
    Window,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members import selectors as member_selectors
from members import weeks
from members.models import Community, Membership, Tag, User
from questions import access, lifecycle
from questions.models import Answer, AnswerRevision, Comment, Notification, Question, Rating, Vote

State = Question.State
PUBLISHED = (State.SCHEDULED, State.OPEN, State.CLOSED)
# Search documents (tsvectors of hundreds of tokens) are for the index, not for pages: loading
# and parsing them cost more than the rest of a row.
_PROFILE_DOCS = ("profile__search_document", "profile__full_search_document")


def unsearched(*relations: str) -> tuple[str, ...]:
    return tuple(f"{relation}__{doc}" for relation in relations for doc in _PROFILE_DOCS)


def _count_of(model: type[Model], link: str) -> Coalesce:
    """How many ``model`` rows point at each row (through ``link``), counted for the rows
    shown only (a join and GROUP BY would count for every row that matches before the page
    is cut, and group by every column); 0 for none."""
    counted = (
        model._default_manager.filter(**{link: OuterRef("pk")})
        .order_by()
        .values(link)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _answer_count() -> Coalesce:
    """A question's number of answers."""
    return _count_of(Answer, "question")


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
        name = filters.tag.strip()  # a skill's name in either language
        found = list(
            Tag.objects.filter(community=community, kind=Tag.Kind.SKILL).filter(
                member_selectors.any_tag_name(name)
            )
        )
        tag = member_selectors.tags_by_key(found).get(name.casefold(), found[0] if found else None)
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
        .defer("search_document", *unsearched("asker"))
        .prefetch_related(Prefetch("needs", queryset=Tag.objects.only("id", "name")))
        .annotate(answer_count=_answer_count())
        .order_by("-session__week", "-submitted_at", "-pk")
    )


ANSWERS_PER_PAGE = 20
# Comments shown under each answer on the question page; the rest are on the answer's own
# discussion page (questions:discussion) and the API's comments endpoint.
COMMENTS_SHOWN = 5


class AnswerOrder(TextChoices):
    """How the question page and the API order answers. ``top``: by votes once the week is
    closed (votes are secret until then), then by rating; ``newest`` / ``oldest``: by when
    they were written."""

    TOP = "top", gettext_lazy("Top")
    NEWEST = "newest", gettext_lazy("Newest")
    OLDEST = "oldest", gettext_lazy("Oldest")


def answer_order(value: object) -> AnswerOrder:
    """The order a request asks for; anything else is the default (``top``)."""
    return AnswerOrder(value) if value in AnswerOrder.values else AnswerOrder.TOP


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
    votes: int | None = None  # votes received, once the week is closed (None before)
    threads_loaded: bool = False
    all_comments: list[Comment] = field(default_factory=list)  # those loaded, in order
    card_html: str = ""  # rendered by questions.fragments for the page
    discussion_html: str = ""

    @property
    def more_comments(self) -> int:
        """Comments not shown here (on the discussion page)."""
        return max(self.comment_count - len(self.all_comments), 0)


@dataclass
class QuestionPage:
    question: Question
    needs: list[Tag]
    answers: list[AnswerView]  # this page's
    my_answer_id: int | None  # the viewer's answer, on whichever page
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
    # Answers in pages: every visible answer's id in this order, and this page of them.
    order: AnswerOrder = AnswerOrder.TOP
    answer_ids: list[int] = field(default_factory=list)
    pager: Page[int] | None = None

    @property
    def can_vote(self) -> bool:
        return self.voting_open and self.may_vote

    @property
    def answer_count(self) -> int:
        return len(self.answer_ids)


def _visible_answers(viewer: Membership | None, question: Question) -> QuerySet[Answer]:
    answers = Answer.objects.filter(question=question)
    if access.sees_all_answers(viewer):
        return answers
    return answers.filter(author=viewer) if viewer is not None else answers.none()


def _votes_received() -> Coalesce:
    return _count_of(Vote, "answer")


def _comment_count() -> Coalesce:
    return _count_of(Comment, "answer")


def ordered_answer_ids(
    *, viewer: Membership | None, question: Question, order: AnswerOrder
) -> list[int]:
    """Every answer the viewer may read, in the order asked for: one query (ids only), from
    which a page is cut and an answer's page is found."""
    return [pk for pk, _author in _ordered_answers(viewer=viewer, question=question, order=order)]


def _ordered_answers(
    *, viewer: Membership | None, question: Question, order: AnswerOrder
) -> list[tuple[int, int]]:
    """(id, author id) of every answer the viewer may read, in this order."""
    answers = _visible_answers(viewer, question)
    if order == AnswerOrder.NEWEST:
        ordering: list[Any] = ["-created_at", "-pk"]
    elif order == AnswerOrder.OLDEST:
        ordering = ["created_at", "pk"]
    else:
        stars = Rating.objects.filter(answer=OuterRef("pk")).order_by().values("answer")
        answers = answers.annotate(
            stars=Subquery(stars.annotate(a=Avg("stars")).values("a"), output_field=FloatField()),
            raters=Subquery(stars.annotate(n=Count("pk")).values("n"), output_field=IntegerField()),
        )
        ordering = [F("stars").desc(nulls_last=True), F("raters").desc(nulls_last=True)]
        if lifecycle.is_closed(question):
            answers = answers.annotate(received=_votes_received())
            ordering.insert(0, F("received").desc(nulls_last=True))
        ordering += ["created_at", "pk"]
    return list(answers.order_by(*ordering).values_list("pk", "author_id"))


def answer_page_number(*, ids: list[int], answer_id: int, per_page: int = ANSWERS_PER_PAGE) -> int:
    """The page (from 1) that holds an answer in this order; 1 if it is not there."""
    try:
        return ids.index(answer_id) // per_page + 1
    except ValueError:
        return 1


def answer_views(
    *,
    viewer: Membership | None,
    question: Question,
    ids: list[int],
    voting_open: bool = False,
    my_votes: frozenset[int] = frozenset(),
    bodies: bool = True,
) -> list[AnswerView]:
    """The answers with these ids, in this order, with their ratings, comment counts and
    what the viewer may do with each, in one query; their comments are loaded by
    ``load_threads`` (the question page skips those whose discussion it has cached). Without
    ``bodies`` the text is left out (``load_bodies`` reads it for the answers whose cached
    card is missing)."""
    if not ids:
        return []
    closed = lifecycle.is_closed(question)
    ratings = Rating.objects.filter(answer=OuterRef("pk")).order_by().values("answer")
    answers = (
        Answer.objects.filter(pk__in=ids)
        .select_related("author__profile", "attachment")
        .defer("search_document", *unsearched("author"), *(() if bodies else _BODIES))
        .annotate(
            # subqueries, not a join: a GROUP BY over every column (the bodies too) is slow
            rating_avg=Subquery(
                ratings.annotate(a=Avg("stars")).values("a"), output_field=FloatField()
            ),
            rating_count=Coalesce(
                Subquery(ratings.annotate(n=Count("pk")).values("n"), output_field=IntegerField()),
                0,
            ),
            comment_count=_comment_count(),
        )
    )
    if closed:
        answers = answers.annotate(received=_votes_received())
    if viewer is not None:
        mine = Rating.objects.filter(answer=OuterRef("pk"), rater=viewer).values("stars")[:1]
        answers = answers.annotate(my_stars=Subquery(mine, output_field=IntegerField()))
    by_id = {a.pk: a for a in answers}
    may_vote = access.is_writer(viewer)
    views = []
    for pk in ids:
        answer = by_id.get(pk)
        if answer is None:  # removed since the ids were read
            continue
        answer.question = question  # the rules below read it; spares a query per answer
        own = viewer is not None and answer.author_id == viewer.pk
        may_rate = access.may_rate(viewer, answer)
        views.append(
            AnswerView(
                answer=answer,
                threads=[],
                comment_count=answer.comment_count,
                my_rating=getattr(answer, "my_stars", None),
                voted=answer.pk in my_votes,
                can_vote=voting_open and may_vote and not own,
                can_rate=may_rate,
                can_tip=may_rate,
                votes=answer.received if closed else None,  # type: ignore[attr-defined]
            )
        )
    return views


_BODIES = ("body", "body_html")


def load_bodies(views: list[AnswerView]) -> None:
    """Read the text of these answers (left out by ``answer_views(bodies=False)``): one
    query."""
    if not views:
        return
    found = dict(
        Answer.objects.filter(pk__in=[v.answer.pk for v in views]).values_list("pk", "body_html")
    )
    for view in views:
        view.answer.body_html = found.get(view.answer.pk, "")


def load_threads(
    views: list[AnswerView], *, viewer: Membership | None, limit: int | None = COMMENTS_SHOWN
) -> set[int]:
    """Load the first ``limit`` comments (all with None) of each answer into its threads,
    in one query; returns the ids of the viewer's comments among them they may still edit.
    A reply hangs under its top comment; both are among the first ``limit`` or the reply is
    not (it was written after its parent)."""
    if not views:
        return set()
    comments = (
        Comment.objects.filter(answer_id__in=[v.answer.pk for v in views])
        .select_related("author__profile")
        .defer(*unsearched("author"))
    )
    if limit is not None:
        comments = comments.annotate(
            place=Window(
                RowNumber(),
                partition_by=[F("answer_id")],
                order_by=[F("created_at").asc(), F("pk").asc()],
            )
        ).filter(place__lte=limit)
    by_answer: dict[int, list[Comment]] = {v.answer.pk: [] for v in views}
    for comment in comments.order_by("created_at", "pk"):
        by_answer[comment.answer_id].append(comment)
    editable: set[int] = set()
    now = timezone.now()
    for view in views:
        threads: dict[int, Thread] = {}
        for comment in by_answer[view.answer.pk]:
            if access.may_edit_comment(viewer, comment, now):
                editable.add(comment.pk)
            if comment.parent_id is None:
                threads[comment.pk] = Thread(comment)
            elif comment.parent_id in threads:
                threads[comment.parent_id].replies.append(comment)
        view.threads = list(threads.values())
        view.all_comments = by_answer[view.answer.pk]
        view.threads_loaded = True
    return editable


def answers_with_editable_comments(
    *, viewer: Membership | None, views: list[AnswerView]
) -> set[int]:
    """The answers (of these) under which the viewer has a comment they may still edit: its
    edit button is theirs alone, so that discussion is not served from the shared cache. One
    query, none for a viewer who cannot comment."""
    if not views or not access.may_comment(viewer):
        return set()
    return set(
        Comment.objects.filter(
            access.editable_comments(viewer), answer_id__in=[v.answer.pk for v in views]
        ).values_list("answer_id", flat=True)
    )


@dataclass(frozen=True)
class VotingState:
    """Where the viewer stands on the ballot of a question's week."""

    open: bool  # the week's ballot takes votes now
    may_vote: bool  # the viewer is a member who votes
    my_votes: frozenset[int]  # the answers they voted for that week
    votes_per_member: int

    @property
    def votes_left(self) -> int:
        return max(self.votes_per_member - len(self.my_votes), 0)


def voting_state(*, viewer: Membership | None, question: Question) -> VotingState:
    """The question page's voting controls, and the answer card re-rendered after a vote
    (questions.views), read the same way: one query for the viewer's votes that week."""
    week = question.session.week if question.session else None
    may_vote = access.is_writer(viewer)
    my_votes: frozenset[int] = frozenset()
    if may_vote and week is not None:
        my_votes = frozenset(
            Vote.objects.filter(voter=viewer, week=week).values_list("answer_id", flat=True)
        )
    return VotingState(
        open=week is not None and lifecycle.question_phase(question) == lifecycle.Phase.VOTING,
        may_vote=may_vote,
        my_votes=my_votes,
        votes_per_member=question.community.votes_per_member,
    )


def question_page(
    *,
    viewer: Membership | None,
    question: Question,
    order: AnswerOrder = AnswerOrder.TOP,
    page: int | str | None = 1,
    per_page: int = ANSWERS_PER_PAGE,
    threads: bool = True,
    bodies: bool = True,
) -> QuestionPage:
    """A question with one page of its answers, their ratings and (with ``threads``) the
    first comments of each: a fixed number of queries whatever the number of answers and
    comments. ``page`` is read leniently (a bad or too large number gives the last page)."""
    phase = lifecycle.question_phase(question)
    week = question.session.week if question.session else None
    voting = voting_state(viewer=viewer, question=question)
    voting_open, may_vote, my_votes = voting.open, voting.may_vote, voting.my_votes
    ordered = _ordered_answers(viewer=viewer, question=question, order=order)
    ids = [pk for pk, _author in ordered]
    pager = Paginator(ids, per_page).get_page(page)
    views = answer_views(
        viewer=viewer,
        question=question,
        ids=list(pager.object_list),
        voting_open=voting_open,
        my_votes=my_votes,
        bodies=bodies,
    )
    editable_comments = load_threads(views, viewer=viewer) if threads else set()
    my_answer_id = None
    if viewer is not None:
        my_answer_id = next((pk for pk, author in ordered if author == viewer.pk), None)
    closes = weeks.ends_at(question.community, week) if week else None
    answerable = lifecycle.can_answer(question)
    can_answer = (
        answerable
        and my_answer_id is None
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
        my_answer_id=my_answer_id,
        answers_hidden=not access.sees_all_answers(viewer),
        voting_closes_at=closes,
        can_answer=can_answer,
        phase=phase,
        can_revise=my_answer_id is not None and answerable,
        voting_opens_at=weeks.voting_opens_at(question.community, week) if week else None,
        voting_open=voting_open,
        may_vote=may_vote,
        votes_left=voting.votes_left,
        can_edit_brief=access.may_edit_brief(viewer, question),
        can_moderate=access.has_moderator_powers(viewer),
        can_schedule=access.may_schedule(viewer, question),
        can_invite=access.may_invite(viewer, question),
        can_mark_challenge=access.may_mark_challenge(viewer, question),
        can_comment=access.may_comment(viewer),
        can_remove_comments=access.may_remove_comment(viewer),
        editable_comments=editable_comments,
        order=order,
        answer_ids=ids,
        pager=pager,
    )


@dataclass
class WeekView:
    start: datetime.date
    label: str
    begins_at: datetime.datetime
    ends_at: datetime.datetime
    announcement_html: str
    questions: list[Question]
    rows: Sequence[str] = ()  # their list rows' HTML (the week page)


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
        .defer("search_document", *unsearched("asker"))
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
