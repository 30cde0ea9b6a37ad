"""Who may do what with questions, answers and discussion — on the portal and the API, each
rule both ways. Only members read non-challenge questions and answers; only moderators and
organisers schedule, invite, mark challenges, remove comments and see the briefs queue;
authors edit their own; candidates see only challenge questions; lapsed members read but do
not write; non-members get 403, unknown ids 404, and visitors not signed in are sent to sign
in (portal) or refused (API)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from members import weeks
from members.models import Community, Membership, User
from questions import services
from questions.models import Answer, Comment, Invitation, Question, Rating
from tests.factories import UserFactory, add_member, make_community, organiser_of, set_status
from tests.questions.helpers import WEEK, age_comment, answer, brief, comment, published
from tests.worlds import fresh, settled, shared_world

pytestmark = pytest.mark.django_db

ROLES = [
    "organiser",
    "moderator",
    "member",
    "lapsed",
    "candidate",
    "visitor",
    "outsider",
    "anonymous",
]


@dataclass
class World:
    community: Community
    people: dict[str, User | None]
    memberships: dict[str, Membership]
    question: Question  # published, not a challenge
    challenge: Question
    submitted: Question  # by "asker", not scheduled yet
    draft: Question  # by "asker"
    answer: Answer  # by "answerer", on question
    challenge_answer: Answer  # by "answerer", on challenge
    candidate_answer: Answer  # by "candidate", on challenge
    comment: Comment  # by "member", on answer

    def ids(self) -> dict[str, Any]:
        return {
            "q": self.question.pk,
            "c": self.challenge.pk,
            "s": self.submitted.pk,
            "d": self.draft.pk,
            "a": self.answer.pk,
            "ca": self.challenge_answer.pk,
            "cand": self.candidate_answer.pk,
            "cm": self.comment.pk,
        }


def build_world() -> World:
    """The community, its people and its questions (the community, organiser and moderator
    made as tests/conftest.py makes them)."""
    community = make_community(slug="circle", name="Circle")
    organiser = organiser_of(community)
    moderator = add_member(community, role=Membership.Role.MODERATOR, profile={"handle": "mod"})
    asker = add_member(community, profile={"handle": "asker"})
    answerer = add_member(community, profile={"handle": "answerer"})
    member = add_member(community, profile={"handle": "member"})
    lapsed = add_member(community, profile={"handle": "lapsed"})
    question = published(asker, title="Members only")
    challenge = published(asker, title="Open challenge", challenge=True)
    written = answer(answerer, question, "MEMBERS-ONLY-ANSWER")
    challenge_answer = answer(answerer, challenge, "A MEMBER'S CHALLENGE ANSWER")
    candidate_answer = services.challenge_answer_create(
        user=UserFactory(), question=challenge, body="THE CANDIDATE'S ANSWER"
    )
    said = comment(member, written, "a comment")
    set_status(lapsed, "lapsed")
    outsider = add_member(make_community(slug="other"))
    memberships = {
        "organiser": organiser,
        "moderator": moderator,
        "asker": asker,
        "answerer": answerer,
        "member": member,
        "lapsed": lapsed,
        "candidate": candidate_answer.author,
        "outsider": outsider,
    }
    people: dict[str, User | None] = {k: m.user for k, m in memberships.items()}
    people["visitor"] = UserFactory()
    people["anonymous"] = None
    return World(
        community=community,
        people=people,
        memberships=memberships,
        question=question,
        challenge=challenge,
        submitted=brief(asker, title="Waiting"),
        draft=brief(asker, title="Draft", submit=False),
        answer=written,
        challenge_answer=challenge_answer,
        candidate_answer=candidate_answer,
        comment=said,
    )


@pytest.fixture(scope="module")
def _world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """Built once for the module (tests/worlds.py); every test's changes are rolled back."""
    with shared_world(django_db_blocker):
        yield settled(build_world())


@pytest.fixture
def world(_world: World, db: None) -> World:
    world = fresh(_world)
    # The comment may be edited for a while after it is written: for every test it was
    # written just now, as when each test built its own world (the module may run longer).
    world.comment = age_comment(world.comment, 0)
    return world


def _portal(client: Client, world: World, who: str) -> Client:
    user = world.people[who]
    if user is not None:
        client.force_login(user)
    return client


def _api(api: APIClient, world: World, who: str) -> APIClient:
    user = world.people[who]
    if user is not None:
        api.force_authenticate(user)
    return api


def _login_redirect(response: Any) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def _status(response: Any) -> int | str:
    return "login" if _login_redirect(response) else response.status_code


# --- Reading: portal ----------------------------------------------------------------------------

MEMBERS_ONLY = {
    "organiser": 200,
    "moderator": 200,
    "asker": 200,
    "member": 200,
    "lapsed": 200,
    "candidate": 403,
    "visitor": 403,
    "outsider": 403,
    "anonymous": "login",
}
LISTS = {**MEMBERS_ONLY, "candidate": 200}
PUBLIC = dict.fromkeys(MEMBERS_ONLY, 200)
MODERATORS = {
    "organiser": 200,
    "moderator": 200,
    "asker": 403,
    "member": 403,
    "lapsed": 403,
    "candidate": 403,
    "visitor": 403,
    "outsider": 403,
    "anonymous": "login",
}
SUBMITTED = {**MEMBERS_ONLY, "member": 404, "lapsed": 404}
DRAFT = {**SUBMITTED, "organiser": 404, "moderator": 404}
WRITERS = {**MEMBERS_ONLY, "lapsed": 403}
OWN_BRIEF = {**SUBMITTED, "organiser": 403, "moderator": 403}
SIGNED_IN = {**PUBLIC, "anonymous": "login"}

PORTAL_READS = [
    ("/c/circle/questions/{q}/", MEMBERS_ONLY),
    ("/c/circle/questions/{c}/", PUBLIC),
    ("/c/circle/questions/{s}/", SUBMITTED),
    ("/c/circle/questions/{d}/", DRAFT),
    ("/c/circle/questions/", LISTS),
    ("/c/circle/questions/mine/", LISTS),
    ("/c/circle/week/", LISTS),
    ("/c/circle/answers/{a}/revisions/", MEMBERS_ONLY),
    ("/c/circle/answers/{ca}/revisions/", {**MEMBERS_ONLY, "visitor": 403, "anonymous": "login"}),
    ("/c/circle/answers/{cand}/revisions/", {**MEMBERS_ONLY, "candidate": 200}),
    ("/c/circle/briefs/", MODERATORS),
    ("/c/circle/questions/{q}/invite/", MODERATORS),
    ("/c/circle/questions/new/", WRITERS),
    ("/c/circle/questions/{s}/edit/", OWN_BRIEF),
    ("/c/circle/questions/{q}/answer/", MEMBERS_ONLY),
    ("/c/circle/questions/{c}/answer/", {**PUBLIC, "anonymous": "login"}),
    ("/notifications/", SIGNED_IN),
]


@pytest.mark.parametrize("who", [*ROLES, "asker"])
@pytest.mark.parametrize(("path", "expected"), PORTAL_READS)
def test_portal_pages_are_for_those_who_may_read_them(
    client: Client, world: World, path: str, expected: dict[str, Any], who: str
) -> None:
    response = _portal(client, world, who).get(path.format(**world.ids()))
    assert _status(response) == expected[who]


def test_a_candidate_lists_only_challenge_questions(client: Client, world: World) -> None:
    html = _portal(client, world, "candidate").get("/c/circle/questions/").content.decode()
    assert "Open challenge" in html
    assert "Members only" not in html
    html = _portal(client, world, "member").get("/c/circle/questions/").content.decode()
    assert "Open challenge" in html
    assert "Members only" in html


def test_a_candidate_sees_only_their_own_answer_to_a_challenge(
    client: Client, world: World
) -> None:
    html = (
        _portal(client, world, "candidate")
        .get(f"/c/circle/questions/{world.challenge.pk}/")
        .content.decode()
    )
    assert "THE CANDIDATE" in html
    assert "A MEMBER" not in html


@pytest.mark.parametrize("who", ["visitor", "anonymous"])
def test_a_visitor_sees_a_challenge_but_none_of_its_answers(
    client: Client, world: World, who: str
) -> None:
    html = _portal(client, world, who).get(f"/c/circle/questions/{world.challenge.pk}/")
    text = html.content.decode()
    assert "Open challenge" in text
    assert "ANSWER" not in text


def test_members_see_every_answer_to_a_challenge(client: Client, world: World) -> None:
    text = (
        _portal(client, world, "lapsed")
        .get(f"/c/circle/questions/{world.challenge.pk}/")
        .content.decode()
    )
    assert "A MEMBER" in text
    assert "THE CANDIDATE" in text


@pytest.mark.parametrize(
    "path",
    [
        "/c/circle/questions/999999/",
        "/c/circle/questions/999999/edit/",
        "/c/circle/questions/999999/answer/",
        "/c/circle/questions/999999/invite/",
        "/c/circle/answers/999999/revisions/",
    ],
)
def test_unknown_ids_are_404_on_the_portal(client: Client, world: World, path: str) -> None:
    assert _portal(client, world, "organiser").get(path).status_code == 404


def test_a_question_under_another_communitys_address_is_404(client: Client, world: World) -> None:
    other = world.memberships["outsider"].community
    client.force_login(organiser_of(other).user)
    for path in (
        f"/c/{other.slug}/questions/{world.question.pk}/",
        f"/c/{other.slug}/questions/{world.challenge.pk}/",
        f"/c/{other.slug}/answers/{world.answer.pk}/revisions/",
    ):
        assert client.get(path).status_code == 404, path
    client.force_login(world.people["organiser"])
    assert client.get(f"/c/other/questions/{world.question.pk}/").status_code == 404


# --- Reading: API -------------------------------------------------------------------------------

API_MEMBERS_ONLY = {**MEMBERS_ONLY, "anonymous": 401}
API_READS = [
    ("/api/v1/questions/{q}/", {**MEMBERS_ONLY, "anonymous": 403}),
    ("/api/v1/questions/{c}/", PUBLIC),
    ("/api/v1/questions/{s}/", {**SUBMITTED, "anonymous": 403}),
    ("/api/v1/questions/{d}/", {**DRAFT, "anonymous": 403}),
    ("/api/v1/communities/circle/questions/", {**LISTS, "anonymous": 401}),
    ("/api/v1/answers/{a}/", API_MEMBERS_ONLY),
    ("/api/v1/answers/{a}/revisions/", API_MEMBERS_ONLY),
    ("/api/v1/answers/{ca}/", API_MEMBERS_ONLY),
    ("/api/v1/answers/{cand}/", {**API_MEMBERS_ONLY, "candidate": 200}),
    ("/api/v1/communities/circle/sessions/{week}/", {**LISTS, "anonymous": 401}),
    ("/api/v1/notifications/", {**PUBLIC, "anonymous": 401}),
]


@pytest.mark.parametrize("who", [*ROLES, "asker"])
@pytest.mark.parametrize(("path", "expected"), API_READS)
def test_api_reads_are_for_those_who_may_read_them(
    api: APIClient, world: World, path: str, expected: dict[str, Any], who: str
) -> None:
    week = weeks.label(weeks.start_of(world.community))
    response = _api(api, world, who).get(path.format(week=week, **world.ids()))
    assert response.status_code == expected[who]


def test_the_api_gives_candidates_challenge_questions_only(api: APIClient, world: World) -> None:
    data = _api(api, world, "candidate").get("/api/v1/communities/circle/questions/").json()
    assert [q["title"] for q in data["results"]] == ["Open challenge"]
    detail = api.get(f"/api/v1/questions/{world.challenge.pk}/").json()
    assert [a["body"] for a in detail["answers"]] == ["THE CANDIDATE'S ANSWER"]
    assert detail["answers_hidden"] is True


def test_the_api_gives_members_every_answer(api: APIClient, world: World) -> None:
    detail = _api(api, world, "lapsed").get(f"/api/v1/questions/{world.challenge.pk}/").json()
    assert [a["body"] for a in detail["answers"]] == [
        "A MEMBER'S CHALLENGE ANSWER",
        "THE CANDIDATE'S ANSWER",
    ]
    assert detail["answers_hidden"] is False


def test_an_anonymous_api_read_of_a_challenge_shows_no_answers(
    api: APIClient, world: World
) -> None:
    detail = api.get(f"/api/v1/questions/{world.challenge.pk}/").json()
    assert detail["title"] == "Open challenge"
    assert detail["answers"] == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/questions/999999/"),
        ("patch", "/api/v1/questions/999999/"),
        ("post", "/api/v1/questions/999999/schedule/"),
        ("post", "/api/v1/questions/999999/challenge/"),
        ("post", "/api/v1/questions/999999/invitations/"),
        ("post", "/api/v1/questions/999999/answers/"),
        ("get", "/api/v1/answers/999999/"),
        ("patch", "/api/v1/answers/999999/"),
        ("get", "/api/v1/answers/999999/revisions/"),
        ("post", "/api/v1/answers/999999/comments/"),
        ("put", "/api/v1/answers/999999/rating/"),
        ("patch", "/api/v1/comments/999999/"),
        ("post", "/api/v1/comments/999999/remove/"),
        ("get", "/api/v1/communities/nowhere/questions/"),
        ("get", "/api/v1/communities/nowhere/sessions/2026-W48/"),
    ],
)
def test_unknown_ids_are_404_on_the_api(
    api: APIClient, world: World, method: str, path: str
) -> None:
    response = getattr(_api(api, world, "organiser"), method)(path, {})
    assert response.status_code == 404


# --- Moderation: schedule, challenge, invite, remove a comment ----------------------------------

MODERATION = ["organiser", "moderator"]
NOT_MODERATION = ["asker", "member", "lapsed", "candidate", "visitor", "outsider"]


def _lapsed_moderator(world: World) -> Membership:
    return set_status(add_member(world.community, role=Membership.Role.MODERATOR), "lapsed")


def _questions(world: World) -> list[tuple[Any, ...]]:
    return list(
        Question.objects.order_by("pk").values_list(
            "pk", "state", "session", "is_challenge", "scheduled_by", "title"
        )
    )


def _comments(world: World) -> list[tuple[Any, ...]]:
    return list(
        Comment.objects.order_by("pk").values_list(
            "pk", "body", "removed_at", "removal_reason", "edited_at"
        )
    )


@pytest.mark.parametrize("who", MODERATION)
def test_moderators_schedule_a_brief_on_the_portal(client: Client, world: World, who: str) -> None:
    week = weeks.start_of(world.community) + WEEK
    response = _portal(client, world, who).post(
        f"/c/circle/questions/{world.submitted.pk}/schedule/", {"week": weeks.label(week)}
    )
    assert response.status_code == 302
    world.submitted.refresh_from_db()
    assert (world.submitted.state, world.submitted.session.week) == ("scheduled", week)


@pytest.mark.parametrize("who", [*NOT_MODERATION, "anonymous", "lapsed_moderator"])
def test_others_do_not_schedule_on_the_portal(client: Client, world: World, who: str) -> None:
    before = _questions(world)
    if who == "lapsed_moderator":
        client.force_login(_lapsed_moderator(world).user)
    else:
        _portal(client, world, who)
    response = client.post(
        f"/c/circle/questions/{world.submitted.pk}/schedule/",
        {"week": weeks.label(weeks.start_of(world.community) + WEEK)},
    )
    assert _status(response) in {
        "asker": (403,),
        "member": (404,),  # cannot even read a brief not yet published
        "lapsed": (404,),
        "lapsed_moderator": (404,),  # no longer a moderator: the brief is not theirs to see
        "anonymous": ("login",),
    }.get(who, (403,))
    assert _questions(world) == before


@pytest.mark.parametrize("who", [*MODERATION, *NOT_MODERATION, "anonymous"])
def test_only_moderators_schedule_through_the_api(api: APIClient, world: World, who: str) -> None:
    before = _questions(world)
    week = weeks.start_of(world.community) + WEEK
    response = _api(api, world, who).post(
        f"/api/v1/questions/{world.submitted.pk}/schedule/", {"week": weeks.label(week)}
    )
    if who in MODERATION:
        assert response.status_code == 200
        assert (response.json()["state"], response.json()["week"]) == (
            "scheduled",
            weeks.label(week),
        )
        return
    assert response.status_code == {"member": 404, "lapsed": 404, "anonymous": 401}.get(who, 403)
    assert _questions(world) == before


@pytest.mark.parametrize("who", [*MODERATION, *NOT_MODERATION, "anonymous"])
def test_only_moderators_mark_a_challenge(
    client: Client, api: APIClient, world: World, who: str
) -> None:
    before = _questions(world)
    portal = _portal(client, world, who).post(
        f"/c/circle/questions/{world.question.pk}/challenge/", {"is_challenge": "1"}
    )
    if who in MODERATION:
        assert portal.status_code == 302
        world.question.refresh_from_db()
        assert world.question.is_challenge is True
        response = _api(api, world, who).post(
            f"/api/v1/questions/{world.question.pk}/challenge/", {"is_challenge": False}
        )
        assert response.status_code == 200
        assert response.json()["is_challenge"] is False
        return
    assert _status(portal) == ("login" if who == "anonymous" else 403)
    response = _api(api, world, who).post(
        f"/api/v1/questions/{world.question.pk}/challenge/", {"is_challenge": True}
    )
    assert response.status_code == (401 if who == "anonymous" else 403)
    assert _questions(world) == before


@pytest.mark.parametrize("who", [*MODERATION, *NOT_MODERATION, "anonymous"])
def test_only_moderators_invite_answerers(
    client: Client, api: APIClient, world: World, who: str
) -> None:
    invitee = world.memberships["member"]
    portal = _portal(client, world, who).post(
        f"/c/circle/questions/{world.question.pk}/invite/", {"members": [str(invitee.pk)]}
    )
    response = _api(api, world, who).post(
        f"/api/v1/questions/{world.question.pk}/invitations/", {"members": [invitee.pk]}
    )
    if who in MODERATION:
        assert portal.status_code == 302
        assert response.status_code == 201  # nobody new the second time
        assert response.json() == {"invited": []}
        assert list(Invitation.objects.values_list("invitee", flat=True)) == [invitee.pk]
        return
    assert _status(portal) == ("login" if who == "anonymous" else 403)
    assert response.status_code == (401 if who == "anonymous" else 403)
    assert Invitation.objects.count() == 0


@pytest.mark.parametrize("who", [*MODERATION, *NOT_MODERATION, "anonymous", "lapsed_moderator"])
def test_only_moderators_remove_comments(
    client: Client, api: APIClient, world: World, who: str
) -> None:
    before = _comments(world)
    if who == "lapsed_moderator":
        user = _lapsed_moderator(world).user
        client.force_login(user)
        api.force_authenticate(user)
    else:
        _portal(client, world, who)
        _api(api, world, who)
    portal = client.post(f"/c/circle/comments/{world.comment.pk}/remove/", {"reason": "Off topic"})
    if who in MODERATION:
        assert portal.status_code == 302
        world.comment.refresh_from_db()
        assert (world.comment.removal_reason, world.comment.removed_by) == (
            "Off topic",
            world.memberships[who],
        )
        return
    response = api.post(f"/api/v1/comments/{world.comment.pk}/remove/", {"reason": "Off topic"})
    expected = {"anonymous": ("login", 401)}.get(who, (403, 403))
    assert (_status(portal), response.status_code) == expected
    assert _comments(world) == before


def test_the_api_removes_a_comment_for_a_moderator_with_the_reason_kept(
    api: APIClient, world: World
) -> None:
    response = _api(api, world, "moderator").post(
        f"/api/v1/comments/{world.comment.pk}/remove/", {"reason": "Off topic"}
    )
    assert response.status_code == 200
    assert response.json()["removed"] is True
    assert response.json()["removal_reason"] == "Off topic"
    assert "body" not in response.json()


def test_removing_a_comment_without_a_reason_changes_nothing(
    client: Client, api: APIClient, world: World
) -> None:
    before = _comments(world)
    response = _api(api, world, "moderator").post(
        f"/api/v1/comments/{world.comment.pk}/remove/", {"reason": ""}
    )
    assert response.status_code == 400
    assert list(response.json()) == ["reason"]
    portal = _portal(client, world, "moderator").post(
        f"/c/circle/comments/{world.comment.pk}/remove/", {"reason": ""}
    )
    assert portal.status_code == 302
    assert _comments(world) == before


# --- Authors edit their own ----------------------------------------------------------------------


def test_the_asker_edits_their_brief_until_it_is_scheduled(
    client: Client, api: APIClient, world: World
) -> None:
    # given
    url = f"/api/v1/questions/{world.submitted.pk}/"
    # when the asker changes it through the portal and the API
    portal = _portal(client, world, "asker").post(
        f"/c/circle/questions/{world.submitted.pk}/edit/",
        {"title": "Sharper", "background": "B", "wanted": "W", "submit": "1"},
    )
    assert portal.status_code == 302
    response = _api(api, world, "asker").patch(url, {"wanted": "Examples"})
    assert response.status_code == 200
    world.submitted.refresh_from_db()
    assert (world.submitted.title, world.submitted.wanted) == ("Sharper", "Examples")
    # when it is scheduled, then it can no longer be changed
    services.question_schedule(
        moderator=world.memberships["moderator"],
        question=world.submitted,
        week=weeks.start_of(world.community),
    )
    before = _questions(world)
    response = api.patch(url, {"title": "Later"})
    assert response.status_code == 400
    assert response.json() == {"state": ["A scheduled brief can no longer be changed."]}
    portal = client.post(
        f"/c/circle/questions/{world.submitted.pk}/edit/",
        {"title": "Later", "background": "B", "wanted": "W", "submit": "1"},
    )
    assert portal.status_code == 200
    assert portal.context["form"].non_field_errors() == [
        "A scheduled brief can no longer be changed."
    ]
    assert _questions(world) == before


@pytest.mark.parametrize("who", ["moderator", "organiser", "member", "lapsed", "candidate"])
def test_nobody_else_edits_a_brief(client: Client, api: APIClient, world: World, who: str) -> None:
    before = _questions(world)
    response = _api(api, world, who).patch(
        f"/api/v1/questions/{world.submitted.pk}/", {"title": "Hijacked"}
    )
    portal = _portal(client, world, who).post(
        f"/c/circle/questions/{world.submitted.pk}/edit/",
        {"title": "Hijacked", "background": "B", "wanted": "W"},
    )
    expected = 403 if who in ("moderator", "organiser", "candidate") else 404
    assert (response.status_code, portal.status_code) == (expected, expected)
    assert _questions(world) == before


def test_a_lapsed_asker_no_longer_edits_their_brief(api: APIClient, world: World) -> None:
    set_status(world.memberships["asker"], "lapsed")
    before = _questions(world)
    response = _api(api, world, "asker").patch(
        f"/api/v1/questions/{world.submitted.pk}/", {"title": "Changed"}
    )
    assert response.status_code == 403
    assert _questions(world) == before


def _answers() -> list[tuple[Any, ...]]:
    return list(Answer.objects.order_by("pk").values_list("pk", "body", "revision"))


def test_the_author_revises_their_answer_until_voting_closes(
    client: Client, api: APIClient, world: World
) -> None:
    # given
    url = f"/api/v1/answers/{world.answer.pk}/"
    # when
    response = _api(api, world, "answerer").patch(url, {"body": "v2"})
    portal = _portal(client, world, "answerer").post(
        f"/c/circle/questions/{world.question.pk}/answer/", {"body": "v3"}
    )
    # then
    assert response.status_code == 200
    assert response.json()["revision"] == 2
    assert portal.status_code == 302
    world.answer.refresh_from_db()
    assert (world.answer.body, world.answer.revision) == ("v3", 3)
    # when voting closes
    Question.objects.filter(pk=world.question.pk).update(state=Question.State.CLOSED)
    before = _answers()
    response = api.patch(url, {"body": "v4"})
    portal = client.post(f"/c/circle/questions/{world.question.pk}/answer/", {"body": "v4"})
    # then
    assert response.status_code == 400
    assert response.json() == {
        "body": ["Voting on this question has closed; answers can no longer change."]
    }
    assert portal.status_code == 200
    assert _answers() == before


@pytest.mark.parametrize("who", ["member", "moderator", "organiser", "lapsed"])
def test_nobody_else_revises_an_answer(api: APIClient, world: World, who: str) -> None:
    before = _answers()
    response = _api(api, world, who).patch(f"/api/v1/answers/{world.answer.pk}/", {"body": "x"})
    assert response.status_code == 403
    assert response.json() == {"detail": "Only the author can revise an answer."}
    assert _answers() == before


def test_a_lapsed_author_no_longer_revises(client: Client, api: APIClient, world: World) -> None:
    set_status(world.memberships["answerer"], "lapsed")
    before = _answers()
    response = _api(api, world, "answerer").patch(
        f"/api/v1/answers/{world.answer.pk}/", {"body": "x"}
    )
    portal = _portal(client, world, "answerer").post(
        f"/c/circle/questions/{world.question.pk}/answer/", {"body": "x"}
    )
    assert response.status_code == 400
    assert response.json() == {"__all__": ["Only active members can answer."]}
    assert portal.status_code == 200
    assert portal.context["form"].non_field_errors() == ["Only active members can answer."]
    assert _answers() == before


def test_the_author_edits_a_comment_within_the_window_only(
    client: Client, api: APIClient, world: World, settings: Any
) -> None:
    settings.COMMENT_EDIT_WINDOW_MINUTES = 10
    url = f"/api/v1/comments/{world.comment.pk}/"
    response = _api(api, world, "member").patch(url, {"body": "edited"})
    assert response.status_code == 200
    assert response.json()["body"] == "edited"
    portal = _portal(client, world, "member").post(
        f"/c/circle/comments/{world.comment.pk}/edit/", {"body": "edited twice"}
    )
    assert portal.status_code == 302
    world.comment.refresh_from_db()
    assert world.comment.body == "edited twice"
    # after the window
    age_comment(world.comment, 11)
    before = _comments(world)
    response = api.patch(url, {"body": "too late"})
    assert response.status_code == 400
    assert response.json() == {"body": ["Comments can be edited for 10 minutes after posting."]}
    client.post(f"/c/circle/comments/{world.comment.pk}/edit/", {"body": "too late"})
    assert _comments(world) == before


@pytest.mark.parametrize("who", ["answerer", "moderator", "organiser", "lapsed"])
def test_nobody_else_edits_a_comment(
    client: Client, api: APIClient, world: World, who: str
) -> None:
    before = _comments(world)
    response = _api(api, world, who).patch(
        f"/api/v1/comments/{world.comment.pk}/", {"body": "changed"}
    )
    portal = _portal(client, world, who).post(
        f"/c/circle/comments/{world.comment.pk}/edit/", {"body": "changed"}
    )
    assert response.status_code == 403  # a permission, not bad input
    assert response.json() == {"detail": "Only the author can edit a comment."}
    assert portal.status_code == 302
    assert _comments(world) == before


@pytest.mark.parametrize("who", ["candidate", "visitor", "outsider", "anonymous"])
def test_those_who_cannot_read_the_answer_cannot_touch_its_comments(
    client: Client, api: APIClient, world: World, who: str
) -> None:
    before = _comments(world)
    api_status = 401 if who == "anonymous" else 403
    portal_status = "login" if who == "anonymous" else 403
    for method, path, data in [
        ("patch", f"/api/v1/comments/{world.comment.pk}/", {"body": "x"}),
        ("post", f"/api/v1/comments/{world.comment.pk}/remove/", {"reason": "x"}),
        ("post", f"/api/v1/answers/{world.answer.pk}/comments/", {"body": "x"}),
    ]:
        response = getattr(_api(api, world, who), method)(path, data)
        assert response.status_code == api_status, path
    for path, data in [
        (f"/c/circle/comments/{world.comment.pk}/edit/", {"body": "x"}),
        (f"/c/circle/answers/{world.answer.pk}/comments/", {"body": "x"}),
        (f"/c/circle/answers/{world.answer.pk}/rate/", {"stars": "5"}),
    ]:
        assert _status(_portal(client, world, who).post(path, data)) == portal_status, path
    assert _comments(world) == before
    assert Rating.objects.count() == 0


# --- Writing: who writes briefs, answers, comments, ratings -------------------------------------

BRIEF = {"title": "T", "background": "B", "wanted": "W"}


@pytest.mark.parametrize("who", [*ROLES, "asker"])
def test_only_active_members_write_briefs(
    client: Client, api: APIClient, world: World, who: str
) -> None:
    before = Question.objects.count()
    response = _api(api, world, who).post("/api/v1/communities/circle/questions/", BRIEF)
    portal = _portal(client, world, who).post("/c/circle/questions/new/", {**BRIEF, "submit": "1"})
    if who in ("organiser", "moderator", "member", "asker"):
        assert (response.status_code, portal.status_code) == (201, 302)
        assert Question.objects.count() == before + 2
        return
    api_status = {"anonymous": 401}.get(who, 403)
    assert (response.status_code, _status(portal)) == (api_status, WRITERS[who])
    assert Question.objects.count() == before


@pytest.mark.parametrize("who", ["organiser", "moderator", "member", "asker"])
def test_active_members_answer_comment_and_rate(
    client: Client, api: APIClient, world: World, who: str
) -> None:
    response = _api(api, world, who).post(
        f"/api/v1/questions/{world.question.pk}/answers/", {"body": "mine"}
    )
    assert response.status_code == 201
    said = api.post(f"/api/v1/answers/{world.answer.pk}/comments/", {"body": "hm"})
    assert said.status_code == 201
    rated = api.put(f"/api/v1/answers/{world.answer.pk}/rating/", {"stars": 4})
    assert rated.status_code == 200
    assert rated.json() == {"answer": world.answer.pk, "stars": 4}
    portal = _portal(client, world, who).post(
        f"/c/circle/answers/{world.answer.pk}/rate/", {"stars": "2"}
    )
    assert portal.status_code == 302
    assert Rating.objects.get(rater=world.memberships[who]).stars == 2


@pytest.mark.parametrize("who", ["lapsed", "candidate"])
def test_lapsed_members_and_candidates_neither_comment_nor_rate(
    client: Client, api: APIClient, world: World, who: str
) -> None:
    # a candidate on their own challenge answer, a lapsed member on any answer
    target = world.candidate_answer if who == "candidate" else world.answer
    comments, ratings = _comments(world), Rating.objects.count()
    said = _api(api, world, who).post(f"/api/v1/answers/{target.pk}/comments/", {"body": "x"})
    rated = api.put(f"/api/v1/answers/{target.pk}/rating/", {"stars": 4})
    assert said.status_code == 400
    assert said.json() == {"__all__": ["Only active members can comment."]}
    assert rated.status_code == 400
    assert rated.json() == {"__all__": ["Only active members can rate answers."]}
    portal = _portal(client, world, who)
    portal.post(f"/c/circle/answers/{target.pk}/comments/", {"body": "x"})
    portal.post(f"/c/circle/answers/{target.pk}/rate/", {"stars": "4"})
    assert _comments(world) == comments
    assert Rating.objects.count() == ratings


def test_a_lapsed_member_does_not_answer(client: Client, api: APIClient, world: World) -> None:
    before = _answers()
    response = _api(api, world, "lapsed").post(
        f"/api/v1/questions/{world.question.pk}/answers/", {"body": "mine"}
    )
    assert response.status_code == 400
    assert response.json() == {"__all__": ["Only active members can answer."]}
    portal = _portal(client, world, "lapsed").post(
        f"/c/circle/questions/{world.question.pk}/answer/", {"body": "mine"}
    )
    assert portal.status_code == 200
    assert _answers() == before


@pytest.mark.parametrize("surface", ["portal", "api"])
def test_a_signed_in_visitor_answers_a_challenge_and_becomes_a_candidate(
    client: Client, api: APIClient, world: World, surface: str
) -> None:
    # given
    visitor = world.people["visitor"]
    assert not Membership.objects.filter(user=visitor).exists()
    # when
    if surface == "portal":
        response = _portal(client, world, "visitor").post(
            f"/c/circle/questions/{world.challenge.pk}/answer/", {"body": "my way"}
        )
        assert response.status_code == 302
    else:
        response = _api(api, world, "visitor").post(
            f"/api/v1/questions/{world.challenge.pk}/answers/", {"body": "my way"}
        )
        assert response.status_code == 201
        assert response.json()["body"] == "my way"
    # then
    candidate = Membership.objects.get(user=visitor)
    assert (candidate.community, candidate.role, candidate.joined_via, candidate.status) == (
        world.community,
        "candidate",
        "challenge",
        "active",
    )
    assert Answer.objects.get(author=candidate).body == "my way"
    # and as a candidate they now see the challenge list but not the members' question
    client.force_login(visitor)
    assert client.get("/c/circle/questions/").status_code == 200
    assert client.get(f"/c/circle/questions/{world.question.pk}/").status_code == 403


@pytest.mark.parametrize("who", ["visitor", "candidate", "outsider"])
def test_a_question_that_is_not_a_challenge_cannot_be_answered_by_non_members(
    client: Client, api: APIClient, world: World, who: str
) -> None:
    before = _answers(), Membership.objects.count()
    response = _api(api, world, who).post(
        f"/api/v1/questions/{world.question.pk}/answers/", {"body": "mine"}
    )
    portal = _portal(client, world, who).post(
        f"/c/circle/questions/{world.question.pk}/answer/", {"body": "mine"}
    )
    assert (response.status_code, portal.status_code) == (403, 403)
    assert (_answers(), Membership.objects.count()) == before


def test_an_anonymous_visitor_must_sign_in_to_answer_a_challenge(
    client: Client, api: APIClient, world: World
) -> None:
    before = _answers(), Membership.objects.count()
    portal = client.post(f"/c/circle/questions/{world.challenge.pk}/answer/", {"body": "x"})
    response = api.post(f"/api/v1/questions/{world.challenge.pk}/answers/", {"body": "x"})
    assert _status(portal) == "login"
    assert response.status_code == 401
    assert (_answers(), Membership.objects.count()) == before


def test_a_candidate_writes_no_brief_and_sees_no_briefs_queue(client: Client, world: World) -> None:
    portal = _portal(client, world, "candidate")
    assert portal.get("/c/circle/questions/new/").status_code == 403
    assert portal.get("/c/circle/briefs/").status_code == 403
    assert portal.get(f"/c/circle/questions/{world.submitted.pk}/").status_code == 403


def test_the_briefs_queue_lists_submitted_briefs_for_moderators(
    client: Client, world: World
) -> None:
    html = _portal(client, world, "moderator").get("/c/circle/briefs/").content.decode()
    assert "Waiting" in html
    assert "Draft" not in html
    assert "Members only" not in html


def test_moderators_see_the_schedule_controls_and_members_do_not(
    client: Client, world: World
) -> None:
    url = f"/c/circle/questions/{world.submitted.pk}/"
    moderator_page = _portal(client, world, "moderator").get(url).content.decode()
    assert f'action="/c/circle/questions/{world.submitted.pk}/schedule/"' in moderator_page
    asker_page = _portal(client, world, "asker").get(url).content.decode()
    assert "/schedule/" not in asker_page
    member_page = client.get(f"/c/circle/questions/{world.question.pk}/").content.decode()
    assert "/remove/" not in member_page
    assert "/challenge/" not in member_page


def test_the_dashboard_week_page_shows_this_week_and_next(client: Client, world: World) -> None:
    coming = published(
        world.memberships["asker"],
        week=weeks.start_of(world.community) + WEEK,
        title="Next week's question",
    )
    html = _portal(client, world, "member").get("/c/circle/week/").content.decode()
    assert "This week" in html
    assert "Next week" in html
    assert "Members only" in html
    assert coming.title.replace("'", "&#x27;") in html
    candidate_html = _portal(client, world, "candidate").get("/c/circle/week/").content.decode()
    assert "Open challenge" in candidate_html
    assert "Members only" not in candidate_html


def test_a_bad_week_in_the_address_is_404(client: Client, world: World) -> None:
    portal = _portal(client, world, "member")
    assert portal.get("/c/circle/week/2026-W99/").status_code == 404
    assert portal.get("/c/circle/week/next/").status_code == 404
    assert portal.get("/c/circle/week/2026-W48/").status_code == 200


def test_time_moves_only_through_rows(world: World) -> None:
    """The fixtures above schedule into the running week: it must not have ended."""
    assert weeks.ends_at(world.community, weeks.start_of(world.community)) > timezone.now()


# --- The member on duty (SPEC §2.6): moderator powers for their week only ----------------------


def _on_duty(world: World, who: str = "answerer") -> Membership:
    """``who`` becomes the moderator on duty this week."""
    duty = world.memberships[who]
    Membership.objects.filter(pk=duty.pk).update(on_duty_week=weeks.start_of(world.community))
    return duty


def test_the_member_on_duty_sees_the_moderation_controls_in_their_week_only(
    client: Client, world: World, time_machine: time_machine.TimeMachineFixture
) -> None:
    duty = _on_duty(world)
    submitted = f"/c/circle/questions/{world.submitted.pk}/"
    question = f"/c/circle/questions/{world.question.pk}/"
    now = timezone.now()
    for moment, in_week in ((now, True), (now + WEEK, False), (now - WEEK, False)):
        time_machine.move_to(moment)
        client.force_login(duty.user)
        # the submitted brief is theirs to triage, with the schedule form
        response = client.get(submitted)
        assert response.status_code == (200 if in_week else 404), moment
        if in_week:
            assert f'action="{submitted}schedule/"' in response.content.decode()
        page = client.get(question).content.decode()
        assert (f'action="/c/circle/comments/{world.comment.pk}/remove/"' in page) is in_week
        assert (f'action="{question}challenge/"' in page) is in_week
        listing = client.get("/c/circle/questions/").content.decode()
        assert ('href="/c/circle/briefs/"' in listing) is in_week
        assert client.get(f"{question}invite/").status_code == (200 if in_week else 403)
        week_page = client.get("/c/circle/week/").content.decode()
        assert ("/announce/" in week_page) is in_week


def test_the_member_on_duty_schedules_a_brief_in_their_week(client: Client, world: World) -> None:
    duty = _on_duty(world)
    week = weeks.start_of(world.community) + WEEK
    client.force_login(duty.user)
    response = client.post(
        f"/c/circle/questions/{world.submitted.pk}/schedule/", {"week": weeks.label(week)}
    )
    assert response.status_code == 302
    world.submitted.refresh_from_db()
    assert (world.submitted.state, world.submitted.scheduled_by) == ("scheduled", duty)


def test_the_member_on_duty_no_longer_schedules_the_week_after(
    client: Client, api: APIClient, world: World, time_machine: time_machine.TimeMachineFixture
) -> None:
    duty = _on_duty(world)
    before = _questions(world)
    time_machine.move_to(timezone.now() + WEEK)
    week = weeks.label(weeks.start_of(world.community) + WEEK)
    client.force_login(duty.user)
    portal = client.post(f"/c/circle/questions/{world.submitted.pk}/schedule/", {"week": week})
    api.force_authenticate(duty.user)
    response = api.post(f"/api/v1/questions/{world.submitted.pk}/schedule/", {"week": week})
    assert (portal.status_code, response.status_code) == (404, 404)  # not theirs to read now
    challenge = client.post(
        f"/c/circle/questions/{world.question.pk}/challenge/", {"is_challenge": "1"}
    )
    assert challenge.status_code == 403
    assert _questions(world) == before


def test_the_member_on_duty_removes_a_comment_in_their_week_only(
    api: APIClient, world: World, time_machine: time_machine.TimeMachineFixture
) -> None:
    duty = _on_duty(world)
    api.force_authenticate(duty.user)
    path = f"/api/v1/comments/{world.comment.pk}/remove/"
    time_machine.move_to(timezone.now() - WEEK)
    before = _comments(world)
    assert api.post(path, {"reason": "Off topic"}).status_code == 403
    assert _comments(world) == before
    time_machine.move_to(timezone.now() + WEEK)
    response = api.post(path, {"reason": "Off topic"})
    assert response.status_code == 200
    world.comment.refresh_from_db()
    assert (world.comment.removal_reason, world.comment.removed_by) == ("Off topic", duty)


def test_a_lapsed_member_on_duty_has_no_powers(client: Client, world: World) -> None:
    duty = _on_duty(world, "lapsed")
    client.force_login(duty.user)
    assert client.get("/c/circle/briefs/").status_code == 403
    assert client.get(f"/c/circle/questions/{world.submitted.pk}/").status_code == 404


# --- The pages offer what the rules allow ------------------------------------------------------

ASK = 'href="/c/circle/questions/new/"'


@pytest.mark.parametrize(
    ("who", "offered"),
    [
        ("organiser", True),
        ("moderator", True),
        ("member", True),
        ("lapsed", False),
        ("candidate", False),
    ],
)
def test_ask_a_question_is_offered_to_those_who_may_ask(
    client: Client, world: World, who: str, offered: bool
) -> None:
    portal = _portal(client, world, who)
    html = portal.get("/c/circle/questions/").content.decode()
    assert (ASK in html) is offered
    # and the page it leads to agrees
    assert portal.get("/c/circle/questions/new/").status_code == (200 if offered else 403)


def test_a_lapsed_member_is_not_offered_to_ask_and_may_not(client: Client, world: World) -> None:
    before = _questions(world)
    portal = _portal(client, world, "lapsed")
    assert ASK not in portal.get("/c/circle/questions/").content.decode()
    response = portal.post(
        "/c/circle/questions/new/",
        {"title": "T", "background": "B", "wanted": "W", "submit": "1"},
    )
    assert response.status_code == 403
    assert _questions(world) == before


def test_edit_brief_is_offered_to_the_asker_while_they_may_edit(
    client: Client, world: World
) -> None:
    portal = _portal(client, world, "asker")
    edit = f'href="/c/circle/questions/{world.submitted.pk}/edit/"'
    assert edit in portal.get(f"/c/circle/questions/{world.submitted.pk}/").content.decode()
    draft = portal.get(f"/c/circle/questions/{world.draft.pk}/").content.decode()
    assert f'href="/c/circle/questions/{world.draft.pk}/edit/"' in draft
    # a scheduled brief no longer changes
    published_page = portal.get(f"/c/circle/questions/{world.question.pk}/").content.decode()
    assert f"/questions/{world.question.pk}/edit/" not in published_page
    # nor may a moderator edit someone else's brief
    moderator = _portal(Client(), world, "moderator")
    assert edit not in moderator.get(f"/c/circle/questions/{world.submitted.pk}/").content.decode()


def test_a_lapsed_asker_is_not_offered_to_edit_their_brief(client: Client, world: World) -> None:
    set_status(world.memberships["asker"], "lapsed")
    portal = _portal(client, world, "asker")
    html = portal.get(f"/c/circle/questions/{world.submitted.pk}/").content.decode()
    assert f"/questions/{world.submitted.pk}/edit/" not in html
    assert portal.get(f"/c/circle/questions/{world.submitted.pk}/edit/").status_code == 403


RATE = 'action="/c/circle/answers/{pk}/rate/"'
TIP = 'href="/c/circle/answers/{pk}/tip/"'


@pytest.mark.parametrize(
    ("who", "offered"),
    [
        ("member", True),
        ("moderator", True),
        ("answerer", False),  # their own answer
        ("lapsed", False),
    ],
)
def test_rating_and_tipping_are_offered_to_those_who_may(
    client: Client, world: World, who: str, offered: bool
) -> None:
    html = (
        _portal(client, world, who)
        .get(f"/c/circle/questions/{world.question.pk}/")
        .content.decode()
    )
    assert (RATE.format(pk=world.answer.pk) in html) is offered
    assert (TIP.format(pk=world.answer.pk) in html) is offered
    assert ("Add a comment" in html) is (who != "lapsed")


def test_a_lapsed_member_who_rates_anyway_is_refused(client: Client, world: World) -> None:
    _portal(client, world, "lapsed").post(
        f"/c/circle/answers/{world.answer.pk}/rate/", {"stars": "5"}
    )
    assert not Rating.objects.filter(answer=world.answer).exists()


def test_editing_a_comment_is_offered_to_its_author_within_the_window(
    client: Client, world: World
) -> None:
    edit = f'action="/c/circle/comments/{world.comment.pk}/edit/"'
    url = f"/c/circle/questions/{world.question.pk}/"
    assert edit in _portal(client, world, "member").get(url).content.decode()
    assert edit not in _portal(Client(), world, "answerer").get(url).content.decode()
    age_comment(world.comment, 24 * 60)
    assert edit not in _portal(Client(), world, "member").get(url).content.decode()
