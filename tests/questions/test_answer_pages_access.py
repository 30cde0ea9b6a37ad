"""Who may open the answer pages and endpoints this issue added (an answer's stable link,
its discussion, the paginated answers and comments), and who may not."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from members.models import Community, Membership
from questions import services
from tests.factories import UserFactory, add_member, make_community, organiser_of
from tests.questions.helpers import answer, comment, published

pytestmark = pytest.mark.django_db


def test_members_open_them_and_a_candidate_only_their_own_answer(
    community: Community, member: Membership
) -> None:
    question = published(organiser_of(community), challenge=True)
    written = answer(add_member(community), question)
    comment(member, written, "Members only.")
    visitor = UserFactory()
    own = services.challenge_answer_create(user=visitor, question=question, body="Mine.")
    urls = [
        f"/c/circle/answers/{a.pk}/{tail}" for a in (written, own) for tail in ("", "discussion/")
    ]
    reader = Client()
    reader.force_login(member.user)
    assert [reader.get(u).status_code for u in urls] == [302, 200, 302, 200]
    candidate = Client()
    candidate.force_login(visitor)
    assert [candidate.get(u).status_code for u in urls] == [403, 403, 302, 200]
    api = APIClient()
    api.force_authenticate(visitor)
    listed = api.get(f"/api/v1/questions/{question.pk}/answers/").json()
    assert [a["id"] for a in listed["results"]] == [own.pk]
    assert api.get(f"/api/v1/answers/{written.pk}/comments/").status_code == 403
    api.force_authenticate(member.user)
    listed = api.get(f"/api/v1/questions/{question.pk}/answers/?order=oldest").json()
    assert [a["id"] for a in listed["results"]] == [written.pk, own.pk]
    said = api.get(f"/api/v1/answers/{written.pk}/comments/").json()
    assert [c["body"] for c in said["results"]] == ["Members only."]


def test_anyone_outside_the_community_may_not(community: Community) -> None:
    question = published(organiser_of(community))
    written = answer(add_member(community), question)
    outsider = add_member(make_community(slug="other"))
    client = Client()
    client.force_login(outsider.user)
    for url in (f"/c/circle/answers/{written.pk}/", f"/c/circle/answers/{written.pk}/discussion/"):
        assert client.get(url).status_code in (403, 404)
    assert client.get(f"/c/other/answers/{written.pk}/").status_code == 404  # wrong address
    api = APIClient()
    api.force_authenticate(outsider.user)
    assert api.get(f"/api/v1/questions/{question.pk}/answers/").status_code in (403, 404)
    assert api.get(f"/api/v1/answers/{written.pk}/comments/").status_code in (403, 404)
    assert Client().get(f"/c/circle/answers/{written.pk}/discussion/").status_code == 302
