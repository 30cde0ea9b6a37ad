"""The digests' API (SPEC §5): the list (members: published; that week's moderator and
organisers: drafts too), the summary's edit and publishing, with the exact shapes and status
codes — and no 500 for junk."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from questions.digests import services as digest_services
from questions.digests.models import Digest, DigestDelivery, DigestRevision
from tests.digests.helpers import (
    LABEL,
    World,
    api_of,
    candidate,
    closed_world,
    lapse,
    outsider,
    permanent_moderator,
)
from tests.rewards.weekly_helpers import W45, WEEK

pytestmark = pytest.mark.django_db

KEYS = {"id", "week", "state", "summary", "published_at", "edited_at", "revision"}


@pytest.fixture
def w(
    time_machine: time_machine.TimeMachineFixture, django_capture_on_commit_callbacks: Any
) -> World:
    return closed_world(time_machine, django_capture_on_commit_callbacks)


def _list(api: APIClient, slug: str) -> Any:
    response = api.get(f"/api/v1/communities/{slug}/digests/")
    assert response.status_code == 200, response.content
    return response.json()


def _publish(w: World, capture: Any, summary: str = "Published summary.") -> Digest:
    digest_services.digest_curate(digest=w.digest(), editor=w.moderator, summary=summary)
    with capture(execute=True):
        digest_services.digest_publish(digest=w.digest(), publisher=w.moderator)
    return w.digest()


def test_the_list_shows_members_published_digests_and_curators_drafts_too(
    w: World, django_capture_on_commit_callbacks: Any
) -> None:
    digest = w.digest()
    draft = {
        "id": digest.pk,
        "week": "2026-W45",
        "state": "draft",
        "summary": "",
        "published_at": None,
        "edited_at": None,
        "revision": 0,
    }
    assert _list(api_of(w.moderator), w.slug) == {"results": [draft]}
    assert _list(api_of(w.organiser), w.slug) == {"results": [draft]}
    for m in (w.member, permanent_moderator(w.community), candidate(w.community)):
        assert _list(api_of(m), w.slug) == {"results": []}
    # an older published digest: newest first
    older = Digest.objects.create(
        community=w.community,
        week=W45 - WEEK,
        state=Digest.State.PUBLISHED,
        summary="Older.",
        published_at=timezone.now() - datetime.timedelta(days=7),
    )
    data = _list(api_of(w.moderator), w.slug)
    assert [(r["id"], r["week"], r["state"]) for r in data["results"]] == [
        (digest.pk, "2026-W45", "draft"),
        (older.pk, "2026-W44", "published"),
    ]
    assert [r["week"] for r in _list(api_of(w.member), w.slug)["results"]] == ["2026-W44"]
    # published: members see it, with its date
    digest = _publish(w, django_capture_on_commit_callbacks)
    [row, _older] = _list(api_of(w.member), w.slug)["results"]
    assert set(row) == KEYS
    assert (row["id"], row["week"], row["state"], row["summary"]) == (
        digest.pk,
        "2026-W45",
        "published",
        "Published summary.",
    )
    assert datetime.datetime.fromisoformat(row["published_at"]) == digest.published_at
    # the single digest
    response = api_of(w.member).get(f"/api/v1/digests/{digest.pk}/")
    assert (response.status_code, response.json()["week"]) == (200, "2026-W45")


def test_the_list_is_for_the_communitys_members(w: World) -> None:
    assert api_of(outsider()).get(f"/api/v1/communities/{w.slug}/digests/").status_code == 403
    assert api_of(w.member).get("/api/v1/communities/nope/digests/").status_code == 404
    assert APIClient().get(f"/api/v1/communities/{w.slug}/digests/").status_code in (401, 403)
    assert APIClient().get(f"/api/v1/digests/{w.digest().pk}/").status_code in (401, 403)


def test_a_candidate_lists_only_digests_with_a_challenge_question(
    w: World, django_capture_on_commit_callbacks: Any
) -> None:
    cand = candidate(w.community)
    digest = _publish(w, django_capture_on_commit_callbacks)
    assert _list(api_of(cand), w.slug) == {"results": []}
    assert api_of(cand).get(f"/api/v1/digests/{digest.pk}/").status_code == 200
    w.questions[1].__class__.objects.filter(pk=w.questions[1].pk).update(is_challenge=True)
    assert [r["id"] for r in _list(api_of(cand), w.slug)["results"]] == [digest.pk]


def test_a_lapsed_moderator_of_the_week_does_not_list_the_draft(w: World) -> None:
    digest_services.digest_curate(digest=w.digest(), editor=w.organiser, summary="Secret draft.")
    lapsed = lapse(w.moderator)
    assert api_of(lapsed).get(f"/api/v1/digests/{w.digest().pk}/").status_code == 404
    assert _list(api_of(lapsed), w.slug) == {"results": []}


# --- PATCH the summary --------------------------------------------------------------------------


def test_patching_the_summary(w: World, django_capture_on_commit_callbacks: Any) -> None:
    digest = w.digest()
    url = f"/api/v1/digests/{digest.pk}/"
    response = api_of(w.moderator).patch(url, {"summary": "  **Bold** week.\r\n"}, format="json")
    assert response.status_code == 200, response.content
    assert set(response.json()) == KEYS
    assert response.json()["summary"] == "**Bold** week."
    assert response.json()["state"] == "draft"
    digest.refresh_from_db()
    assert digest.summary_html == "<p><strong>Bold</strong> week.</p>\n"
    response = api_of(w.organiser).patch(url, {"summary": "By the organiser."}, format="json")
    assert (response.status_code, response.json()["summary"]) == (200, "By the organiser.")
    assert DigestRevision.objects.count() == 0
    # after publishing: a revision, edited_at, nobody e-mailed again
    _publish(w, django_capture_on_commit_callbacks, summary="Published.")
    sent = len(mail.outbox)
    response = api_of(w.moderator).patch(url, {"summary": "Corrected."}, format="json")
    body = response.json()
    assert (response.status_code, body["summary"], body["revision"]) == (200, "Corrected.", 1)
    assert body["edited_at"] is not None
    [revision] = DigestRevision.objects.filter(digest=digest)
    assert (revision.number, revision.summary) == (1, "Published.")
    assert len(mail.outbox) == sent


def test_patching_is_refused_to_those_who_may_not_curate(
    w: World, django_capture_on_commit_callbacks: Any
) -> None:
    digest = w.digest()
    url = f"/api/v1/digests/{digest.pk}/"
    plain, permanent, cand, other = (
        w.member,
        permanent_moderator(w.community),
        candidate(w.community),
        outsider(),
    )
    # a draft is not there for them
    for m in (plain, permanent, cand, other):
        response = api_of(m).patch(url, {"summary": "Hacked."}, format="json")
        assert response.status_code == 404, m
        assert api_of(m).get(url).status_code == 404
    # published: readers are refused (403); another community's member still finds nothing
    _publish(w, django_capture_on_commit_callbacks)
    for m in (plain, permanent, cand):
        response = api_of(m).patch(url, {"summary": "Hacked."}, format="json")
        assert response.status_code == 403, m
        assert "detail" in response.json()
    assert api_of(other).patch(url, {"summary": "Hacked."}, format="json").status_code == 404
    lapsed = lapse(w.moderator)
    assert api_of(lapsed).patch(url, {"summary": "Hacked."}, format="json").status_code == 403
    digest.refresh_from_db()
    assert (digest.summary, digest.revision) == ("Published summary.", 0)


JUNK: list[Any] = [
    {"summary": None},
    {"summary": ["a"]},
    {"summary": {"a": 1}},
    {"summary": True},
    {},
    {"summary": "x" * 20_001},
    {"summary": "null\x00char"},
    ["summary"],
    "just a string",
]


def test_patching_junk_is_a_400_and_changes_nothing(w: World) -> None:
    digest = w.digest()
    api = api_of(w.moderator)
    for body in JUNK:
        response = api.patch(f"/api/v1/digests/{digest.pk}/", body, format="json")
        assert response.status_code == 400, (body, response.content)
    assert Digest.objects.get(pk=digest.pk).summary == ""


def test_patching_a_number_as_summary_is_a_400(w: World) -> None:
    digest = w.digest()
    api = api_of(w.moderator)
    for value in (123, 1.5):
        response = api.patch(f"/api/v1/digests/{digest.pk}/", {"summary": value}, format="json")
        assert response.status_code == 400, (value, response.content)
    assert Digest.objects.get(pk=digest.pk).summary == ""


def test_non_json_bodies_and_odd_ids_are_never_a_500(w: World) -> None:
    api = api_of(w.organiser)
    digest = w.digest()
    url = f"/api/v1/digests/{digest.pk}/"
    assert api.patch(url, "{not json", content_type="application/json").status_code == 400
    assert api.patch(url, "[[[[" * 5000, content_type="application/json").status_code == 400
    assert api.patch(url, b"\xff\xfe", content_type="application/json").status_code == 400
    assert api.patch(url, "summary=hi", content_type="text/plain").status_code == 415
    # publishing reads no body: junk is ignored, the empty summary refused
    response = api.post(f"{url}publish/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "summary" in response.json()
    for bad in ("0", "999999999", "9223372036854775807", "9223372036854775808", "1" * 40):
        for method, path in (
            ("get", f"/api/v1/digests/{bad}/"),
            ("patch", f"/api/v1/digests/{bad}/"),
            ("post", f"/api/v1/digests/{bad}/publish/"),
        ):
            response = getattr(api, method)(path, {"summary": "x"}, format="json")
            assert response.status_code == 404, (method, path, response.status_code)
    for bad in ("-1", "abc", "1.5"):
        assert api.get(f"/api/v1/digests/{bad}/").status_code == 404
    assert api.get("/api/v1/communities/-/digests/").status_code == 404
    assert Digest.objects.get(pk=digest.pk).state == Digest.State.DRAFT


# --- POST publish -------------------------------------------------------------------------------


def test_publishing_through_the_api(w: World, django_capture_on_commit_callbacks: Any) -> None:
    digest = w.digest()
    url = f"/api/v1/digests/{digest.pk}/publish/"
    # an empty summary: 400 naming it, nothing changes, nothing sent
    with django_capture_on_commit_callbacks(execute=True):
        response = api_of(w.moderator).post(url)
    assert response.status_code == 400
    assert "Write the summary before publishing" in response.json()["summary"][0]
    assert Digest.objects.get(pk=digest.pk).state == Digest.State.DRAFT
    assert DigestDelivery.objects.count() == 0
    # refused: a draft is not there for readers (404); another community's member: 404
    for m in (w.member, permanent_moderator(w.community), outsider()):
        assert api_of(m).post(url).status_code == 404
    api_of(w.moderator).patch(f"/api/v1/digests/{digest.pk}/", {"summary": "Go."}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_of(w.organiser).post(url)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["state"], body["summary"]) == (digest.pk, "published", "Go.")
    assert body["published_at"] is not None
    sent = DigestDelivery.objects.filter(state="sent").count()
    assert sent == 54  # 52 members, the organiser and the permanent moderator
    # published: readers are refused (403), curators get it back unchanged, nothing resent
    assert api_of(w.member).post(url).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        again = api_of(w.moderator).post(url)
    assert again.status_code == 200
    assert again.json()["published_at"] == body["published_at"]
    assert DigestDelivery.objects.count() == sent
    assert len([m for m in mail.outbox if "the digest of" in m.subject]) == sent
    assert api_of(w.moderator).get(url).status_code == 405
    assert w.digest().label == LABEL
