"""Curating a digest on the community-scoped admin (/manage/): the same form and service as
the portal's page — organisers save, a permanent moderator who was not that week's moderator
is refused with nothing changed, another community's digest is not there; and the publish
action."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from questions.models import Answer, Digest
from tests.digests.helpers import client_of, closed_world, permanent_moderator
from tests.factories import make_community, organiser_of

pytestmark = pytest.mark.django_db


def _form(
    digest: Digest, summary: str, *, hide: int | None = None, feature: int | None = None
) -> dict[str, str]:
    data = {"summary": summary}
    for item in digest.items.all():
        data[f"position_{item.pk}"] = str(100 - item.position)  # reversed
        data[f"excerpt_{item.pk}"] = item.excerpt
        if item.answer_id == hide:
            data[f"hidden_{item.pk}"] = "on"
        if item.answer_id == feature:
            data[f"featured_{item.pk}"] = "on"
    return data


def test_an_organiser_curates_in_the_admin(
    time_machine: time_machine.TimeMachineFixture, django_capture_on_commit_callbacks: Any
) -> None:
    w = closed_world(time_machine, django_capture_on_commit_callbacks)
    digest = w.digest()
    client = client_of(w.organiser)
    url = f"/manage/questions/digest/{digest.pk}/curate/"
    change = client.get(f"/manage/questions/digest/{digest.pk}/change/").content.decode()
    assert url in change  # linked from the digest's page
    page = client.get(url)
    assert page.status_code == 200
    assert w.answers[0].author.profile.handle in page.content.decode()
    first, second = w.answers[0], w.answers[1]
    old = dict(digest.items.values_list("answer_id", "position"))
    response = client.post(
        url, _form(digest, "# Distilled\n\nThe gist.", hide=second.pk, feature=first.pk)
    )
    assert response.status_code == 302
    digest.refresh_from_db()
    assert digest.summary == "# Distilled\n\nThe gist."
    assert '<h1 id="h-distilled">Distilled</h1>' in digest.summary_html
    assert dict(digest.items.values_list("answer_id", "position")) == {
        answer: 100 - position for answer, position in old.items()
    }
    assert digest.items.get(answer=second).hidden is True
    assert Answer.objects.get(pk=first.pk).featured is True


def test_a_permanent_moderator_who_was_not_on_duty_is_refused_and_nothing_changes(
    time_machine: time_machine.TimeMachineFixture, django_capture_on_commit_callbacks: Any
) -> None:
    w = closed_world(time_machine, django_capture_on_commit_callbacks)
    digest = w.digest()
    before = (digest.summary, list(digest.items.values_list("pk", "position", "hidden")))
    client = client_of(permanent_moderator(w.community))
    url = f"/manage/questions/digest/{digest.pk}/curate/"
    assert client.get(url).status_code == 200  # they see it (read-only rows)
    response = client.post(url, _form(digest, "Not mine to write."), follow=True)
    assert "Only that week" in response.content.decode()
    digest.refresh_from_db()
    assert (digest.summary, list(digest.items.values_list("pk", "position", "hidden"))) == before


def test_another_community_s_digest_is_not_there(
    time_machine: time_machine.TimeMachineFixture, django_capture_on_commit_callbacks: Any
) -> None:
    w = closed_world(time_machine, django_capture_on_commit_callbacks)
    digest = w.digest()
    other = organiser_of(make_community(slug="elsewhere"))
    client = client_of(other)
    url = f"/manage/questions/digest/{digest.pk}/curate/"
    assert client.get(url).status_code == 404
    assert client.post(url, _form(digest, "Hijack")).status_code == 404
    digest.refresh_from_db()
    assert digest.summary == ""


def test_the_publish_action_refuses_an_empty_summary_then_publishes(
    time_machine: time_machine.TimeMachineFixture, django_capture_on_commit_callbacks: Any
) -> None:
    w = closed_world(time_machine, django_capture_on_commit_callbacks)
    digest = w.digest()
    client = client_of(w.organiser)
    action = {"action": "publish", "_selected_action": [str(digest.pk)]}
    response = client.post("/manage/questions/digest/", action, follow=True)
    assert "Write the summary before publishing" in response.content.decode()
    assert Digest.objects.get(pk=digest.pk).state == Digest.State.DRAFT
    client.post(f"/manage/questions/digest/{digest.pk}/curate/", _form(digest, "Done."))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/manage/questions/digest/", action, follow=True)
    assert "1 digest published." in response.content.decode()
    assert Digest.objects.get(pk=digest.pk).is_published
