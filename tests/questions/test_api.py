"""The questions API: SPEC §5's contract (briefs, a question with its answers, answers with
``body`` and sanitised ``body_html``) and the rest of what the portal does. Bad input is a 400
naming the field, and nothing is saved."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from rest_framework.test import APIClient

from members import weeks
from members.models import Community, Membership, Tag
from questions import services
from questions.models import (
    Answer,
    AnswerRevision,
    Comment,
    Invitation,
    Notification,
    Question,
    Rating,
    WeekSession,
)
from tests.factories import PASSWORD, add_member, tag
from tests.questions.helpers import (
    WEEK,
    answer,
    brief,
    closed,
    comment,
    docx_bytes,
    published,
    this_week,
    upload,
    use_private_storage,
)

pytestmark = pytest.mark.django_db

QUESTION_KEYS = {
    "id",
    "community",
    "title",
    "background",
    "background_html",
    "wanted",
    "wanted_html",
    "needs",
    "state",
    "is_challenge",
    "week",
    "preferred_week",
    "asker",
    "attachment",
    "submitted_at",
    "scheduled_at",
    "created_at",
}
ANSWER_KEYS = {
    "id",
    "question",
    "author",
    "body",
    "body_html",
    "revision",
    "attachment",
    "created_at",
    "updated_at",
}


def _iso(value: str) -> datetime.datetime:
    """An ISO 8601 time with its offset (SPEC §5)."""
    moment = datetime.datetime.fromisoformat(value)
    assert moment.utcoffset() is not None, value
    return moment


def _rows() -> tuple[Any, ...]:
    return (
        list(Question.objects.order_by("pk").values_list("pk", "state", "title", "session")),
        list(Answer.objects.order_by("pk").values_list("pk", "body", "revision")),
        AnswerRevision.objects.count(),
        list(Comment.objects.order_by("pk").values_list("pk", "body", "removed_at", "parent")),
        list(Rating.objects.order_by("pk").values_list("pk", "stars")),
        Invitation.objects.count(),
        Notification.objects.count(),
        WeekSession.objects.count(),
    )


@pytest.fixture
def asker(community: Community) -> Membership:
    tag(community, Tag.Kind.SKILL, "交互设计")
    return add_member(community, profile={"handle": "asker"})


@pytest.fixture
def answerer(community: Community) -> Membership:
    return add_member(community, profile={"handle": "answerer"})


# --- Briefs: GET/POST /api/v1/communities/{slug}/questions/ -----------------------------------


def test_a_member_posts_a_brief(api: APIClient, asker: Membership) -> None:
    # when
    api.force_authenticate(asker.user)
    response = api.post(
        "/api/v1/communities/circle/questions/",
        {
            "title": "如何设计新手引导？",
            "background": "留存 **低**",
            "wanted": "方法",
            "needs": ["交互设计", "planning"],
        },
    )
    # then
    assert response.status_code == 201
    data = response.json()
    question = Question.objects.get()
    assert set(data) == QUESTION_KEYS
    assert {k: data[k] for k in QUESTION_KEYS - {"submitted_at", "created_at", "needs"}} == {
        "id": question.pk,
        "community": "circle",
        "title": "如何设计新手引导？",
        "background": "留存 **低**",
        "background_html": "<p>留存 <strong>低</strong></p>\n",
        "wanted": "方法",
        "wanted_html": "<p>方法</p>\n",
        "state": "submitted",
        "is_challenge": False,
        "week": None,
        "preferred_week": None,
        "asker": {"id": asker.pk, "handle": "asker"},
        "attachment": None,
        "scheduled_at": None,
    }
    assert sorted(data["needs"]) == sorted(["交互设计", "Planning"])
    assert _iso(data["submitted_at"]) == question.submitted_at
    assert _iso(data["created_at"]) == question.created_at


def test_a_brief_can_be_saved_as_a_draft_with_a_preferred_week(
    api: APIClient, community: Community, asker: Membership
) -> None:
    first = weeks.first_week_for_brief(community)
    api.force_authenticate(asker.user)
    response = api.post(
        "/api/v1/communities/circle/questions/",
        {
            "title": "T",
            "background": "B",
            "wanted": "W",
            "draft": True,
            "preferred_week": weeks.label(first),
        },
    )
    assert response.status_code == 201
    assert (response.json()["state"], response.json()["preferred_week"]) == (
        "draft",
        weeks.label(first),
    )
    assert response.json()["submitted_at"] is None
    # then the asker submits it
    response = api.patch(f"/api/v1/questions/{response.json()['id']}/", {"submit": True})
    assert response.status_code == 200
    assert response.json()["state"] == "submitted"


GOOD_BRIEF = {"title": "T", "background": "B", "wanted": "W", "needs": ["Planning"]}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"title": ""}, "title", "This field may not be blank."),
        ({"title": None}, "title", "This field may not be null."),
        ({"title": "x" * 201}, "title", "Ensure this field has no more than 200 characters."),
        ({"title": ["a"]}, "title", "Not a valid string."),
        ({"title": "a\x00b"}, "title", "Null characters are not allowed."),
        ({"background": "   "}, "background", "This field may not be blank."),
        ({"wanted": "x" * 5001}, "wanted", "Ensure this field has no more than 5000 characters."),
        ({"needs": ["Nope"]}, "needs", None),
        ({"needs": "Planning"}, "needs", 'Expected a list of items but got type "str".'),
        ({"needs": ["Planning"] * 11}, "needs", "Ensure this field has no more than 10 elements."),
        ({"preferred_week": "2026-48"}, "preferred_week", "Write a week as 2026-W48."),
        ({"preferred_week": "2026-W99"}, "preferred_week", "There is no such week."),
        ({"attachment": "not-a-uuid"}, "attachment", "Must be a valid UUID."),
        (
            {"attachment": "6f1c0e5e-4b7c-4a59-9a1e-0c6f9d5b7a11"},
            "attachment",
            "Attach a file you uploaded here.",
        ),
        ({"draft": "maybe"}, "draft", "Must be a valid boolean."),
        ({"state": "open"}, "state", "Unknown field."),
        ({"is_challenge": True}, "is_challenge", "Unknown field."),
    ],
)
def test_a_bad_brief_is_400_naming_the_field_and_nothing_is_saved(
    api: APIClient, asker: Membership, change: dict[str, Any], field: str, message: str | None
) -> None:
    api.force_authenticate(asker.user)
    before = _rows()
    response = api.post("/api/v1/communities/circle/questions/", {**GOOD_BRIEF, **change})
    assert response.status_code == 400
    assert list(response.json()) == [field]
    if message is not None:
        assert response.json()[field] == [message]
    assert _rows() == before


@pytest.mark.parametrize("missing", ["title", "background", "wanted"])
def test_a_brief_needs_its_three_texts(api: APIClient, asker: Membership, missing: str) -> None:
    api.force_authenticate(asker.user)
    body = {k: v for k, v in GOOD_BRIEF.items() if k != missing}
    response = api.post("/api/v1/communities/circle/questions/", body)
    assert response.status_code == 400
    assert response.json() == {missing: ["This field is required."]}
    assert Question.objects.count() == 0


def test_a_preferred_week_too_late_names_the_next_possible_week(
    api: APIClient, community: Community, asker: Membership
) -> None:
    api.force_authenticate(asker.user)
    week = this_week(community)
    response = api.post(
        "/api/v1/communities/circle/questions/",
        {**GOOD_BRIEF, "preferred_week": weeks.label(week)},
    )
    assert response.status_code == 400
    [message] = response.json()["preferred_week"]
    assert message.startswith(f"Too late for {weeks.label(week)}: ")
    assert message.endswith(
        f"The next possible week is {weeks.label(weeks.first_week_for_brief(community))}."
    )
    assert Question.objects.count() == 0


def test_the_list_shows_what_the_viewer_may_see_with_filters(
    api: APIClient, community: Community, asker: Membership, answerer: Membership, member: Any
) -> None:
    # given a question this week (with an answer), one next week, and a submitted brief
    now = published(asker, title="Now", needs=["交互设计"])
    answer(answerer, now, "用户访谈")
    coming = published(asker, title="Coming", week=this_week(community) + WEEK)
    brief(asker, title="Waiting")
    api.force_authenticate(member.user)
    url = "/api/v1/communities/circle/questions/"
    # when / then
    data = api.get(url).json()
    assert (data["count"], data["next"], data["previous"]) == (2, None, None)
    assert [(q["title"], q["answer_count"]) for q in data["results"]] == [
        ("Coming", 0),
        ("Now", 1),
    ]
    assert set(data["results"][0]) == QUESTION_KEYS | {"answer_count"}
    assert data["results"][0]["week"] == weeks.label(coming.session.week)
    label = weeks.label(this_week(community))
    for query, titles in [
        ({"week": label}, ["Now"]),
        ({"tag": "交互设计"}, ["Now"]),
        ({"state": "scheduled"}, ["Coming"]),
        ({"q": "访谈"}, ["Now"]),
        ({"q": "coming"}, ["Coming"]),
        ({"page_size": 1}, ["Coming"]),
    ]:
        assert [q["title"] for q in api.get(url, query).json()["results"]] == titles, query
    # the asker also sees their submitted brief
    api.force_authenticate(asker.user)
    assert [q["title"] for q in api.get(url, {"state": "submitted"}).json()["results"]] == [
        "Waiting"
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"week": "48"}, "week"),
        ({"week": "2026-W99"}, "week"),
        ({"tag": "Nope"}, "tag"),
        ({"state": "sleeping"}, "state"),
        ({"q": "a\x00b"}, "q"),
    ],
)
def test_a_bad_filter_is_400_naming_it(
    api: APIClient, member: Membership, query: dict[str, str], field: str
) -> None:
    api.force_authenticate(member.user)
    response = api.get("/api/v1/communities/circle/questions/", query)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_a_token_reads_the_questions(api: APIClient, asker: Membership) -> None:
    published(asker, title="By token")
    token = api.post(
        "/api/v1/auth/token/", {"username": asker.user.email, "password": PASSWORD}
    ).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api.get("/api/v1/communities/circle/questions/")
    assert response.status_code == 200
    assert [q["title"] for q in response.json()["results"]] == ["By token"]


# --- GET /api/v1/questions/{id}/ ------------------------------------------------------------------


def test_a_question_comes_with_its_answers_ratings_and_discussion(
    api: APIClient, community: Community, asker: Membership, answerer: Membership
) -> None:
    # given
    question = published(asker, title="Q")
    written = answer(answerer, question, "# A\n\n<script>x</script>")
    said = comment(asker, written, "why?")
    reply = comment(answerer, written, "because", parent=said)
    services.rating_set(rater=asker, answer=written, stars=4)
    services.rating_set(rater=add_member(community), answer=written, stars=5)
    api.force_authenticate(asker.user)
    # when
    data = api.get(f"/api/v1/questions/{question.pk}/").json()
    # then
    assert set(data) == QUESTION_KEYS | {
        "answers",
        "answer_count",
        "answers_url",
        "answers_hidden",
        "phase",
        "can_answer",
        "can_revise",
        "voting_opens_at",
        "voting_closes_at",
        "voting_open",
        "votes_left",
        "can_edit_brief",
        "can_schedule",
        "can_invite",
        "can_mark_challenge",
        "can_comment",
        "can_remove_comments",
    }
    # the asker, a plain member: discusses, but neither edits the published brief nor moderates
    assert [data[k] for k in sorted(data) if k.startswith("can_")] == [
        True,  # can_answer
        True,  # can_comment
        False,  # can_edit_brief
        False,  # can_invite
        False,  # can_mark_challenge
        False,  # can_remove_comments
        False,  # can_revise
        False,  # can_schedule
    ]
    assert (data["title"], data["state"], data["week"]) == (
        "Q",
        "open",
        weeks.label(this_week(community)),
    )
    assert data["answers_hidden"] is False
    assert _iso(data["voting_closes_at"]) == weeks.ends_at(community, this_week(community))
    [got] = data["answers"]
    assert set(got) == ANSWER_KEYS | {
        "rating",
        "comments",
        "comment_count",
        "comments_url",
        "votes",
        "voted",
        "can_vote",
        "can_rate",
        "can_tip",
    }
    # another's answer: voted for while the ballot is open, rated and tipped
    assert (got["can_vote"], got["can_rate"], got["can_tip"]) == (data["voting_open"], True, True)
    assert (got["id"], got["body"], got["revision"]) == (written.pk, written.body, 1)
    assert got["body_html"] == '<h1 id="h-a">A</h1>\n<p>&lt;script&gt;x&lt;/script&gt;</p>\n'
    assert got["author"] == {"id": answerer.pk, "handle": "answerer"}
    assert got["rating"] == {"average": 4.5, "count": 2}
    assert [(c["id"], c["parent"], c["body"], c["author"]["handle"]) for c in got["comments"]] == [
        (said.pk, None, "why?", "asker"),
        (reply.pk, said.pk, "because", "answerer"),
    ]
    assert (got["comment_count"], got["votes"]) == (2, None)  # votes: once the week is closed
    assert got["comments_url"] == f"http://testserver/api/v1/answers/{written.pk}/comments/"
    assert data["answer_count"] == 1
    assert data["answers_url"] == f"http://testserver/api/v1/questions/{question.pk}/answers/"


# --- POST /api/v1/questions/{id}/answers/ ---------------------------------------------------------


def test_a_member_answers_in_markdown(
    api: APIClient, asker: Membership, answerer: Membership
) -> None:
    # given
    question = published(asker)
    api.force_authenticate(answerer.user)
    body = "## 方法\n\n1. 访谈\n2. [流程](javascript:alert(1))\n\n<img src=x onerror=alert(1)>"
    # when
    response = api.post(f"/api/v1/questions/{question.pk}/answers/", {"body": body})
    # then
    assert response.status_code == 201
    data = response.json()
    assert set(data) == ANSWER_KEYS
    assert (data["question"], data["body"], data["revision"]) == (question.pk, body, 1)
    assert data["body_html"] == (
        '<h2 id="h-方法">方法</h2>\n'
        "<ol>\n<li>访谈</li>\n<li>[流程](javascript:alert(1))</li>\n</ol>\n"
        "<p>&lt;img src=x onerror=alert(1)&gt;</p>\n"
    )
    assert Answer.objects.get().body_html == data["body_html"]
    assert Notification.objects.filter(kind="new_answer", recipient=asker.user).count() == 1


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "body", "This field is required."),
        ({"body": ""}, "body", "This field may not be blank."),
        ({"body": "   "}, "body", "This field is required."),
        ({"body": None}, "body", "This field may not be null."),
        ({"body": "x" * 100_001}, "body", "Ensure this field has no more than 100000 characters."),
        ({"body": ["a"]}, "body", "Not a valid string."),
        ({"body": "ok", "revision": 5}, "revision", "Unknown field."),
        ({"body": "ok", "attachment": "nope"}, "attachment", "Must be a valid UUID."),
    ],
)
def test_a_bad_answer_is_400_naming_the_field_and_nothing_is_saved(
    api: APIClient,
    asker: Membership,
    answerer: Membership,
    body: dict[str, Any],
    field: str,
    message: str,
) -> None:
    question = published(asker)
    api.force_authenticate(answerer.user)
    before = _rows()
    response = api.post(f"/api/v1/questions/{question.pk}/answers/", body)
    assert response.status_code == 400
    assert response.json() == {field: [message]}
    assert _rows() == before


def test_a_second_answer_is_400(api: APIClient, asker: Membership, answerer: Membership) -> None:
    question = published(asker)
    answer(answerer, question, "first")
    api.force_authenticate(answerer.user)
    before = _rows()
    response = api.post(f"/api/v1/questions/{question.pk}/answers/", {"body": "second"})
    assert response.status_code == 400
    assert response.json() == {
        "body": ["You have already answered this question; revise your answer instead."]
    }
    assert _rows() == before


def test_an_answer_after_voting_closed_is_400(
    api: APIClient, asker: Membership, answerer: Membership
) -> None:
    question = closed(published(asker))
    api.force_authenticate(answerer.user)
    before = _rows()
    response = api.post(f"/api/v1/questions/{question.pk}/answers/", {"body": "late"})
    assert response.status_code == 400
    assert response.json() == {
        "body": ["Voting on this question has closed; answers can no longer change."]
    }
    assert _rows() == before


def test_an_answer_to_a_brief_not_yet_published_is_refused(
    api: APIClient, asker: Membership, moderator: Membership
) -> None:
    question = brief(asker)
    api.force_authenticate(moderator.user)  # who may read it
    response = api.post(f"/api/v1/questions/{question.pk}/answers/", {"body": "early"})
    assert response.status_code == 400
    assert response.json() == {"__all__": ["This question is not published yet."]}
    assert Answer.objects.count() == 0


def test_an_answer_with_an_uploaded_file(
    api: APIClient, asker: Membership, answerer: Membership, monkeypatch: Any, tmp_path: Any
) -> None:
    use_private_storage(monkeypatch, tmp_path)
    question = published(asker)
    api.force_authenticate(answerer.user)
    uploaded = api.post(
        "/api/v1/communities/circle/attachments/",
        {"file": upload("method.docx", docx_bytes())},
        format="multipart",
    ).json()
    response = api.post(
        f"/api/v1/questions/{question.pk}/answers/",
        {"body": "see the file", "attachment": uploaded["id"]},
    )
    assert response.status_code == 201
    assert response.json()["attachment"] == uploaded
    api.force_login(asker.user)  # the file is served by a portal view, after its check
    download = api.get(uploaded["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == docx_bytes()


# --- Answers: revise, revisions ---------------------------------------------------------------


def test_an_answer_is_revised_and_its_revisions_listed(
    api: APIClient, asker: Membership, answerer: Membership
) -> None:
    question = published(asker)
    written = answer(answerer, question, "v1")
    api.force_authenticate(answerer.user)
    response = api.patch(f"/api/v1/answers/{written.pk}/", {"body": "*v2*"})
    assert response.status_code == 200
    assert (response.json()["body"], response.json()["body_html"], response.json()["revision"]) == (
        "*v2*",
        "<p><em>v2</em></p>\n",
        2,
    )
    assert api.get(f"/api/v1/answers/{written.pk}/").json()["revision"] == 2
    revisions = api.get(f"/api/v1/answers/{written.pk}/revisions/").json()
    assert [(r["number"], r["body"]) for r in revisions] == [(2, "*v2*"), (1, "v1")]
    assert all(_iso(r["created_at"]) for r in revisions)
    # a reader (not the author) reads the revisions too
    api.force_authenticate(asker.user)
    assert len(api.get(f"/api/v1/answers/{written.pk}/revisions/").json()) == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "body"), ({"body": ""}, "body"), ({"body": "x", "author": 1}, "author")],
)
def test_a_bad_revision_is_400_and_changes_nothing(
    api: APIClient, asker: Membership, answerer: Membership, body: dict[str, Any], field: str
) -> None:
    written = answer(answerer, published(asker), "v1")
    api.force_authenticate(answerer.user)
    before = _rows()
    response = api.patch(f"/api/v1/answers/{written.pk}/", body)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert _rows() == before


# --- Scheduling, challenges, invitations --------------------------------------------------------


def test_a_moderator_schedules_a_brief_into_a_week(
    api: APIClient,
    community: Community,
    asker: Membership,
    moderator: Membership,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: list,
) -> None:
    question = brief(asker)
    week = this_week(community) + WEEK
    api.force_authenticate(moderator.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"/api/v1/questions/{question.pk}/schedule/", {"week": weeks.label(week)}
        )
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["week"]) == ("scheduled", weeks.label(week))
    assert _iso(response.json()["scheduled_at"])
    assert [m.to for m in mailoutbox] == [[asker.user.email]]


@pytest.mark.parametrize(
    ("week", "message"),
    [
        ("2026-48", "Write a week as 2026-W48."),
        ("W48", "Write a week as 2026-W48."),
        ("2026-W99", "There is no such week."),
        ("", "This field may not be blank."),
        (None, "This field may not be null."),
        ("2026-W480", "Ensure this field has no more than 8 characters."),
    ],
)
def test_a_bad_week_is_400(
    api: APIClient, asker: Membership, moderator: Membership, week: Any, message: str
) -> None:
    question = brief(asker)
    api.force_authenticate(moderator.user)
    before = _rows()
    response = api.post(f"/api/v1/questions/{question.pk}/schedule/", {"week": week})
    assert response.status_code == 400
    assert response.json() == {"week": [message]}
    assert _rows() == before


def test_a_week_too_late_for_the_brief_is_400_naming_the_next_week(
    api: APIClient, community: Community, asker: Membership, moderator: Membership
) -> None:
    question = brief(asker, days_ago=None)
    api.force_authenticate(moderator.user)
    before = _rows()
    week = this_week(community)
    response = api.post(f"/api/v1/questions/{question.pk}/schedule/", {"week": weeks.label(week)})
    assert response.status_code == 400
    [message] = response.json()["week"]
    assert list(response.json()) == ["week"]
    first = weeks.first_week_for_brief(community, question.submitted_at)
    assert message.endswith(f"The next possible week is {weeks.label(first)}.")
    assert _rows() == before


def test_a_past_week_is_400(
    api: APIClient, community: Community, asker: Membership, moderator: Membership
) -> None:
    question = brief(asker)
    api.force_authenticate(moderator.user)
    response = api.post(
        f"/api/v1/questions/{question.pk}/schedule/",
        {"week": weeks.label(this_week(community) - WEEK)},
    )
    assert response.status_code == 400
    assert response.json() == {"week": ["That week is over."]}


def test_a_moderator_marks_a_challenge(
    api: APIClient, asker: Membership, moderator: Membership
) -> None:
    question = published(asker)
    api.force_authenticate(moderator.user)
    response = api.post(f"/api/v1/questions/{question.pk}/challenge/", {"is_challenge": True})
    assert response.status_code == 200
    assert response.json()["is_challenge"] is True
    for bad in ({}, {"is_challenge": "perhaps"}, {"is_challenge": None}):
        response = api.post(f"/api/v1/questions/{question.pk}/challenge/", bad)
        assert response.status_code == 400
        assert list(response.json()) == ["is_challenge"]
    question.refresh_from_db()
    assert question.is_challenge is True


def test_a_moderator_invites_members(
    api: APIClient, community: Community, asker: Membership, moderator: Membership
) -> None:
    question = published(asker)
    a, b = add_member(community), add_member(community)
    api.force_authenticate(moderator.user)
    url = f"/api/v1/questions/{question.pk}/invitations/"
    response = api.post(url, {"members": [a.pk, b.pk]})
    assert response.status_code == 201
    assert sorted(response.json()["invited"]) == sorted([a.pk, b.pk])
    assert api.post(url, {"members": [a.pk]}).json() == {"invited": []}
    before = _rows()
    for bad, message in [
        ({"members": []}, "Choose at least one member."),
        ({"members": [10**9]}, "Invite active members of this community."),
        ({"members": "1,2"}, 'Expected a list of items but got type "str".'),
        ({"members": [0]}, None),
        ({"members": list(range(1, 102))}, "Ensure this field has no more than 100 elements."),
        ({}, "This field is required."),
    ]:
        response = api.post(url, bad)
        assert response.status_code == 400, bad
        assert list(response.json()) == ["members"], bad
        if message is not None:
            assert response.json()["members"] == [message]
    assert _rows() == before


# --- Discussion and ratings -----------------------------------------------------------------------


def test_comments_are_created_replied_to_edited_and_removed(
    api: APIClient,
    asker: Membership,
    answerer: Membership,
    member: Membership,
    moderator: Membership,
) -> None:
    written = answer(answerer, published(asker))
    api.force_authenticate(member.user)
    # create
    response = api.post(f"/api/v1/answers/{written.pk}/comments/", {"body": "**why**?"})
    assert response.status_code == 201
    top = response.json()
    assert {k: top[k] for k in ("parent", "removed", "body", "body_html", "author")} == {
        "parent": None,
        "removed": False,
        "body": "**why**?",
        "body_html": "<p><strong>why</strong>?</p>\n",
        "author": {"id": member.pk, "handle": "plain"},
    }
    # reply, and a reply to the reply joins the thread
    api.force_authenticate(answerer.user)
    reply = api.post(
        f"/api/v1/answers/{written.pk}/comments/", {"body": "because", "parent": top["id"]}
    ).json()
    deeper = api.post(
        f"/api/v1/answers/{written.pk}/comments/", {"body": "and", "parent": reply["id"]}
    ).json()
    assert (reply["parent"], deeper["parent"]) == (top["id"], top["id"])
    # edit
    api.force_authenticate(member.user)
    edited = api.patch(f"/api/v1/comments/{top['id']}/", {"body": "why not?"})
    assert edited.status_code == 200
    assert (edited.json()["body"], _iso(edited.json()["edited_at"]) is not None) == (
        "why not?",
        True,
    )
    # remove
    api.force_authenticate(moderator.user)
    removed = api.post(f"/api/v1/comments/{top['id']}/remove/", {"reason": "Off topic"})
    assert removed.status_code == 200
    assert set(removed.json()) == {"id", "parent", "removed", "removal_reason", "created_at"}
    assert removed.json()["removal_reason"] == "Off topic"
    shown = api.get(f"/api/v1/questions/{written.question_id}/").json()["answers"][0]["comments"]
    assert shown[0] == {
        "id": top["id"],
        "parent": None,
        "removed": True,
        "removal_reason": "Off topic",
        "created_at": shown[0]["created_at"],
    }
    assert [c["body"] for c in shown[1:]] == ["because", "and"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"body": ""}, "body"),
        ({"body": "x" * 5001}, "body"),
        ({"body": "x", "parent": 0}, "parent"),
        ({"body": "x", "parent": "first"}, "parent"),
        ({"body": "x", "parent": 10**9}, "parent"),
        ({"body": "x", "answer": 1}, "answer"),
    ],
)
def test_a_bad_comment_is_400_and_nothing_is_saved(
    api: APIClient, asker: Membership, answerer: Membership, body: dict[str, Any], field: str
) -> None:
    written = answer(answerer, published(asker))
    api.force_authenticate(asker.user)
    before = _rows()
    response = api.post(f"/api/v1/answers/{written.pk}/comments/", body)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert _rows() == before


def test_a_reply_to_a_comment_on_another_answer_is_400(
    api: APIClient, asker: Membership, answerer: Membership, member: Membership
) -> None:
    question = published(asker)
    one, other = answer(answerer, question), answer(member, question)
    elsewhere = comment(asker, other)
    api.force_authenticate(asker.user)
    before = _rows()
    response = api.post(
        f"/api/v1/answers/{one.pk}/comments/", {"body": "x", "parent": elsewhere.pk}
    )
    assert response.status_code == 400
    assert response.json() == {"parent": ["Reply to a comment on this answer."]}
    assert _rows() == before


def test_a_rating_is_put_and_changed(
    api: APIClient, asker: Membership, answerer: Membership
) -> None:
    written = answer(answerer, published(asker))
    api.force_authenticate(asker.user)
    url = f"/api/v1/answers/{written.pk}/rating/"
    assert api.put(url, {"stars": 5}).json() == {"answer": written.pk, "stars": 5}
    assert api.put(url, {"stars": 3}).json() == {"answer": written.pk, "stars": 3}
    assert list(Rating.objects.values_list("stars", flat=True)) == [3]
    rating = api.get(f"/api/v1/questions/{written.question_id}/").json()["answers"][0]["rating"]
    assert rating == {"average": 3.0, "count": 1}


@pytest.mark.parametrize("stars", [0, 6, -1, 4.5, "4", True, None, [4], {"n": 4}, "", 10**20])
def test_a_bad_rating_is_400_on_stars(
    api: APIClient, asker: Membership, answerer: Membership, stars: Any
) -> None:
    written = answer(answerer, published(asker))
    api.force_authenticate(asker.user)
    response = api.put(f"/api/v1/answers/{written.pk}/rating/", {"stars": stars})
    assert response.status_code == 400
    assert list(response.json()) == ["stars"]
    assert Rating.objects.count() == 0


def test_rating_ones_own_answer_is_400(api: APIClient, asker: Membership) -> None:
    written = answer(asker, published(asker))
    api.force_authenticate(asker.user)
    response = api.put(f"/api/v1/answers/{written.pk}/rating/", {"stars": 5})
    assert response.status_code == 400
    assert response.json() == {"stars": ["You cannot rate your own answer."]}
    assert Rating.objects.count() == 0


# --- Sessions, notifications, preview -------------------------------------------------------------


def test_a_weeks_session_lists_its_questions(
    api: APIClient, community: Community, asker: Membership, moderator: Membership
) -> None:
    week = this_week(community)
    published(asker, title="This week")
    published(asker, title="Next week", week=week + WEEK)
    services.session_announce(
        moderator=moderator, community=community, week=week, text="Welcome **all**"
    )
    api.force_authenticate(asker.user)
    data = api.get(f"/api/v1/communities/circle/sessions/{weeks.label(week)}/").json()
    assert data["week"] == weeks.label(week)
    assert _iso(data["begins_at"]) == weeks.begins_at(community, week)
    assert _iso(data["ends_at"]) == weeks.ends_at(community, week)
    assert data["announcement_html"] == "<p>Welcome <strong>all</strong></p>\n"
    assert [q["title"] for q in data["questions"]] == ["This week"]
    empty = api.get(f"/api/v1/communities/circle/sessions/{weeks.label(week + 5 * WEEK)}/")
    assert empty.json()["questions"] == []
    assert api.get("/api/v1/communities/circle/sessions/2026-48/").status_code == 404


def test_notifications_are_listed_and_marked_read(
    api: APIClient, asker: Membership, answerer: Membership
) -> None:
    question = published(asker, title="Q")
    written = answer(answerer, question)
    api.force_authenticate(asker.user)
    data = api.get("/api/v1/notifications/").json()
    assert data["unread"] == 2
    assert [(n["kind"], n["question"], n["answer"], n["read"]) for n in data["results"]] == [
        ("new_answer", {"id": question.pk, "title": "Q"}, written.pk, False),
        ("brief_scheduled", {"id": question.pk, "title": "Q"}, None, False),
    ]
    assert data["results"][0]["community"] == "circle"
    assert api.post("/api/v1/notifications/read/").json() == {"marked": 2}
    data = api.get("/api/v1/notifications/").json()
    assert data["unread"] == 0
    assert [n["read"] for n in data["results"]] == [True, True]
    # another person's list is their own
    api.force_authenticate(answerer.user)
    assert api.get("/api/v1/notifications/").json() == {"unread": 0, "results": []}


def test_the_markdown_preview_renders_like_an_answer(api: APIClient, member: Membership) -> None:
    api.force_authenticate(member.user)
    response = api.post("/api/v1/markdown/preview/", {"body": "**b** <script>x</script>"})
    assert response.status_code == 200
    assert response.json() == {"html": "<p><strong>b</strong> &lt;script&gt;x&lt;/script&gt;</p>\n"}
    assert api.post("/api/v1/markdown/preview/", {"body": ""}).json() == {"html": ""}
    response = api.post("/api/v1/markdown/preview/", {})
    assert response.status_code == 400
    assert list(response.json()) == ["body"]


def test_the_schema_documents_the_questions_api(api: APIClient, member: Membership) -> None:
    api.force_authenticate(member.user)
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = set(response.json()["paths"])
    assert {
        "/api/v1/communities/{slug}/questions/",
        "/api/v1/questions/{question_id}/",
        "/api/v1/questions/{question_id}/answers/",
        "/api/v1/questions/{question_id}/schedule/",
        "/api/v1/answers/{answer_id}/rating/",
        "/api/v1/notifications/",
    } <= paths
