"""The question page, the week's session and the questions list run a fixed number of SQL
queries whatever the number of questions, answers, comments and ratings: each is measured at
a small and a large size with the same budget. (Portal pages include one query for the
header's unread-notification count.)"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from members import weeks
from members.models import Community, Membership, Tag
from questions import selectors
from questions.models import Answer, Attachment, Comment, Question, Rating
from tests.factories import bulk_members, bulk_questions, make_community, organiser_of, tag
from tests.worlds import fresh, settled, shared_world

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Size:
    name: str
    members: int
    answers: int  # on the question page's question
    comments: int  # per answer there
    questions: int  # in all: half this week, half next week (and a few submitted briefs)


SIZES = [Size("small", 15, 10, 10, 5), Size("large", 210, 200, 10, 60)]


@dataclass
class World:
    community: Community
    organiser: Membership
    member: Membership
    question: Question
    week: datetime.date
    size: Size


@pytest.fixture(scope="module", params=SIZES, ids=lambda s: s.name)
def _world(
    request: pytest.FixtureRequest, django_db_setup: None, django_db_blocker: Any
) -> Iterator[World]:
    """Each size built once per module (tests/worlds.py): pytest runs one size's tests, rolls
    its world back, then builds the other (both use the slug the URLs name)."""
    with shared_world(django_db_blocker):
        world = build(request.param)
        yield settled(world)


@pytest.fixture
def world(_world: World, db: None) -> World:
    return fresh(_world)


def build(size: Size) -> World:
    """The world of one size (members[0] asked the question on the page)."""
    community = make_community(slug="budget", privacy_threshold=100_000)
    members = bulk_members(community, size.members)
    skill = tag(community, Tag.Kind.SKILL, "交互设计")
    this = weeks.start_of(community)
    [question] = bulk_questions(
        community,
        members,
        1,
        week=this,
        answers=size.answers,
        comments=size.comments,
        ratings=3,
        needs=[skill],
    )
    others = size.questions - 1
    bulk_questions(
        community, members, others // 2, week=this, answers=3, ratings=2, needs=[skill], start=1
    )
    bulk_questions(
        community,
        members,
        others - others // 2,
        week=this + datetime.timedelta(days=7),
        needs=[skill],
        start=size.questions,
    )
    bulk_questions(community, members, 3, start=2 * size.questions)  # briefs to schedule
    # Every question and every other answer has an attachment: one more row each to fetch.
    questions = list(Question.objects.filter(community=community))
    answers = list(Answer.objects.filter(question__community=community))[::2]
    rows: list[Question | Answer] = [*questions, *answers]
    files = Attachment.objects.bulk_create(
        Attachment(
            community=community,
            uploaded_by_id=row.asker_id if isinstance(row, Question) else row.author_id,
            file=f"{community.pk}/{type(row).__name__}-{row.pk}",
            name="brief.pdf",
            kind=Attachment.Kind.PDF,
            size=1000,
            sha256="0" * 64,
        )
        for row in rows
    )
    for row, file in zip(rows, files, strict=True):
        row.attachment = file
    Question.objects.bulk_update(questions, ["attachment"])
    Answer.objects.bulk_update(answers, ["attachment"])
    # members[0] asked the question on the page.
    return World(community, organiser_of(community), members[0], question, this, size)


def test_world_has_the_sizes_it_claims(world: World) -> None:
    size = world.size
    answers = Answer.objects.filter(question=world.question)
    assert answers.count() == size.answers
    assert Comment.objects.filter(answer__question=world.question).count() == (
        size.answers * size.comments
    )
    assert Comment.objects.filter(answer__question=world.question, parent__isnull=False).count()
    assert Rating.objects.filter(answer__question=world.question).count() == size.answers * 3
    assert Question.objects.filter(community=world.community).count() == size.questions + 3


PORTAL = [
    # 12 with an empty fragment cache (one query reads the answers' text, one the first
    # comments of each), 10 once their HTML is cached (questions.fragments)
    ("question", "/c/budget/questions/{question}/", 12),
    ("question newest", "/c/budget/questions/{question}/?order=newest&page=2", 12),
    ("discussion", "/c/budget/answers/{answer}/discussion/", 10),
    ("week", "/c/budget/week/", 7),
    ("week of", "/c/budget/week/{week}/", 7),
    ("list", "/c/budget/questions/", 8),
    ("list search", "/c/budget/questions/?q=留存", 8),
    ("list search English", "/c/budget/questions/?q=users first", 8),
    ("list tag", "/c/budget/questions/?tag=交互设计", 9),
    ("list search tag week", "/c/budget/questions/?q=用户访谈&tag=交互设计&week={week}", 9),
    ("list page 2", "/c/budget/questions/?page=2", 8),
]
API = [
    ("api question", "/api/v1/questions/{question}/", 7),
    ("api answers", "/api/v1/questions/{question}/answers/?order=oldest&page_size=5&page=2", 7),
    ("api comments", "/api/v1/answers/{answer}/comments/", 5),
    ("api session", "/api/v1/communities/budget/sessions/{week}/", 4),
    ("api list", "/api/v1/communities/budget/questions/", 4),
    ("api list search", "/api/v1/communities/budget/questions/?q=留存", 4),
    ("api list tag", "/api/v1/communities/budget/questions/?tag=交互设计", 5),
    ("api list search tag", "/api/v1/communities/budget/questions/?q=users&tag=交互设计", 5),
]


def _url(template: str, world: World) -> str:
    answer = Answer.objects.filter(question=world.question).order_by("pk").first()
    assert answer is not None
    return template.format(
        question=world.question.pk, week=weeks.label(world.week), answer=answer.pk
    )


def _shown(world: World) -> tuple[int, int]:
    """Answers and comments shown on the first page of the question."""
    answers = min(world.size.answers, selectors.ANSWERS_PER_PAGE)
    return answers, answers * min(world.size.comments, selectors.COMMENTS_SHOWN)


@pytest.mark.parametrize(("name", "url", "budget"), PORTAL, ids=[p[0] for p in PORTAL])
@pytest.mark.parametrize("as_organiser", [True, False], ids=["organiser", "member"])
def test_portal_page_queries_are_fixed(
    world: World,
    client: Client,
    django_assert_max_num_queries: Callable,
    name: str,
    url: str,
    budget: int,
    as_organiser: bool,
) -> None:
    viewer = world.organiser if as_organiser else world.member
    client.force_login(viewer.user)
    target = _url(url, world)
    with django_assert_max_num_queries(budget):
        response = client.get(target)
    assert response.status_code == 200
    html = response.content.decode()
    if name == "question":
        answers, comments = _shown(world)
        assert (html.count('class="card answer"'), html.count('class="comment"')) == (
            answers,
            comments,
        )
        # the second time, from the cached fragments: the same HTML, and two queries less
        # for a viewer with no comment they may still edit (those discussions are theirs)
        with django_assert_max_num_queries(budget - 2 if as_organiser else budget - 1):
            again = client.get(target).content.decode()
        assert _without_tokens(again) == _without_tokens(html)
    elif name == "discussion":
        assert html.count('class="comment"') == world.size.comments
    elif name.startswith("list") and "page" not in name:
        assert 'class="question-row"' in html


@pytest.mark.parametrize(("name", "url", "budget"), API, ids=[p[0] for p in API])
@pytest.mark.parametrize("as_organiser", [True, False], ids=["organiser", "member"])
def test_api_queries_are_fixed(
    world: World,
    api: APIClient,
    django_assert_max_num_queries: Callable,
    name: str,
    url: str,
    budget: int,
    as_organiser: bool,
) -> None:
    api.force_authenticate((world.organiser if as_organiser else world.member).user)
    target = _url(url, world)
    with django_assert_max_num_queries(budget):
        response = api.get(target)
    assert response.status_code == 200, response.content
    data = response.json()
    if name == "api question":
        answers, comments = _shown(world)
        assert (len(data["answers"]), data["answer_count"]) == (answers, world.size.answers)
        assert sum(len(a["comments"]) for a in data["answers"]) == comments
        assert {a["comment_count"] for a in data["answers"]} == {world.size.comments}
    elif name == "api answers":
        assert data["count"] == world.size.answers
        assert len(data["results"]) == 5
    elif name == "api comments":
        assert (data["count"], len(data["results"])) == (world.size.comments, 10)


def _without_tokens(html: str) -> str:
    """The page without its CSRF tokens (masked afresh for every response)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_public_challenge_page_queries_are_fixed(
    world: World, client: Client, api: APIClient, django_assert_max_num_queries: Callable
) -> None:
    """A visitor reads a challenge question through its link: the brief, no answers."""
    Question.objects.filter(pk=world.question.pk).update(is_challenge=True)
    page, api_page = (_url(u, world) for u in ("/c/budget/questions/{question}/", API[0][1]))
    with django_assert_max_num_queries(2):
        response = client.get(page)
    assert response.status_code == 200
    assert 'class="card answer"' not in response.content.decode()
    with django_assert_max_num_queries(2):
        response = api.get(api_page)
    assert response.status_code == 200
    assert response.json()["answers"] == []


def test_an_answers_comments_are_reachable_past_a_thousand() -> None:
    """The directory's counts stop at 1,000; an answer's comments and a question's answers
    are counted whole, so every page of them exists."""
    from members.pagination import UncappedPaginator

    pages = UncappedPaginator(list(range(2500)), 100)
    assert (pages.count, pages.num_pages, pages.capped) == (2500, 25, False)
    assert list(pages.page(25).object_list) == list(range(2400, 2500))
