"""Curating and publishing a digest (SPEC §2.7): who may (that week's moderator while active,
organisers) and who may not, on the services and the portal's pages; the summary required
to publish; publishing once; revisions after publishing; featured answers on their question;
hidden answers out of the members' view."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from members.models import CommunityAuditLog, Membership
from questions.audit import Event as QuestionEvent
from questions.digests import delivery
from questions.digests import services as digest_services
from questions.digests.models import Digest, DigestDelivery, DigestItem, DigestRevision
from tests.digests.helpers import (
    LABEL,
    World,
    candidate,
    client_of,
    closed_world,
    curate_post,
    lapse,
    outsider,
    permanent_moderator,
    publish,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(
    time_machine: time_machine.TimeMachineFixture, django_capture_on_commit_callbacks: Any
) -> World:
    return closed_world(time_machine, django_capture_on_commit_callbacks)


def _digest_mails() -> list[Any]:
    return [m for m in mail.outbox if "the digest of" in m.subject]


def _refused(w: World) -> dict[str, Membership]:
    """Everyone who may not curate W45's digest (the lapsed moderator of the week last: it
    changes the moderator)."""
    return {
        "plain member": w.member,
        "permanent moderator": permanent_moderator(w.community),
        "candidate": candidate(w.community),
        "member of another community": outsider(),
    }


# --- The services -------------------------------------------------------------------------------


def test_the_services_let_the_weeks_moderator_and_organisers_curate_and_nobody_else(
    w: World, django_capture_on_commit_callbacks: Any
) -> None:
    digest = w.digest()
    for who, m in _refused(w).items():
        with pytest.raises(PermissionDenied):
            digest_services.digest_curate(digest=digest, editor=m, summary=f"by {who}")
        with pytest.raises(PermissionDenied):
            digest_services.digest_publish(digest=digest, publisher=m)
        with pytest.raises(PermissionDenied):
            delivery.test_send(digest=digest, to=m)
    digest.refresh_from_db()
    assert (digest.summary, digest.state) == ("", Digest.State.DRAFT)
    assert _digest_mails() == []
    # the week's moderator and the organiser may
    digest_services.digest_curate(digest=digest, editor=w.moderator, summary="By the moderator.")
    digest_services.digest_curate(
        digest=w.digest(), editor=w.organiser, summary="By the organiser."
    )
    assert w.digest().summary == "By the organiser."
    delivery.test_send(digest=w.digest(), to=w.moderator)
    assert [m.to for m in _digest_mails()] == [[w.moderator.user.email]]
    # lapsed, the week's moderator may not any more
    lapse(w.moderator)
    with pytest.raises(PermissionDenied):
        digest_services.digest_curate(digest=w.digest(), editor=w.moderator, summary="lapsed")
    with pytest.raises(PermissionDenied):
        digest_services.digest_publish(digest=w.digest(), publisher=w.moderator)
    assert w.digest().summary == "By the organiser."
    with django_capture_on_commit_callbacks(execute=True):
        digest_services.digest_publish(digest=w.digest(), publisher=w.organiser)
    assert w.digest().published_by_id == w.organiser.pk


# --- The portal's pages -------------------------------------------------------------------------


def test_the_curation_pages_are_for_the_weeks_moderator_and_organisers(w: World) -> None:
    base = f"/c/{w.slug}/digests/{LABEL}"
    for who, m in _refused(w).items():
        client = client_of(m)
        for url in (f"{base}/curate/", f"{base}/email/", f"{base}/email/?format=text"):
            assert client.get(url).status_code == 403, (who, url)
        for url in (f"{base}/curate/", f"{base}/test/", f"{base}/publish/"):
            assert client.post(url, {"summary": "x"}).status_code == 403, (who, url)
        # a draft is not there for those who may not curate it
        assert client.get(f"{base}/").status_code in (403, 404), who
    assert client_of(w.member).get(f"{base}/").status_code == 404
    digest = w.digest()
    assert (digest.summary, digest.state) == ("", Digest.State.DRAFT)
    assert _digest_mails() == []
    for m in (w.moderator, w.organiser):
        client = client_of(m)
        html = client.get(f"{base}/curate/").content.decode()
        assert 'id="curate-form"' in html
        assert client.get(f"{base}/").status_code == 200
        assert "<html" in client.get(f"{base}/email/").content.decode()
        text = client.get(f"{base}/email/?format=text")
        assert text["Content-Type"].startswith("text/plain")
        assert LABEL in text.content.decode()
    # unknown weeks and nonsense labels: 404
    organiser = client_of(w.organiser)
    for label in ("2026-W44", "2026-W99", "nonsense", "0"):
        assert organiser.get(f"/c/{w.slug}/digests/{label}/curate/").status_code == 404
        assert organiser.get(f"/c/{w.slug}/digests/{label}/").status_code == 404
    assert organiser.get(f"/c/no-such-community/digests/{LABEL}/").status_code == 404
    # another community's member, in their own community: no such digest
    other = outsider()
    assert client_of(other).get(f"/c/elsewhere/digests/{LABEL}/curate/").status_code == 404
    # lapsed, the week's moderator loses the curation pages
    lapse(w.moderator)
    assert client_of(w.moderator).get(f"{base}/curate/").status_code == 403
    assert client_of(w.moderator).post(f"{base}/publish/").status_code == 403
    assert w.digest().state == Digest.State.DRAFT


def test_curating_on_the_page_orders_hides_features_and_writes_the_summary(w: World) -> None:
    digest = w.digest()
    items = list(digest.items.order_by("position"))
    first, second, third = items[0], items[1], items[2]
    client = client_of(w.moderator)
    url = f"/c/{w.slug}/digests/{LABEL}/curate/"
    data = curate_post(digest, summary="## The week\nGood answers.")
    data[f"position_{third.pk}"] = 0  # first now
    data[f"hidden_{second.pk}"] = "on"
    data[f"featured_{first.pk}"] = "on"
    data[f"excerpt_{first.pk}"] = "A shorter excerpt."
    response = client.post(url, data)
    assert (response.status_code, response["Location"]) == (302, url)
    digest.refresh_from_db()
    assert digest.summary == "## The week\nGood answers."
    assert '<h2 id="h-the-week">The week</h2>' in digest.summary_html
    rows = {i.pk: i for i in DigestItem.objects.filter(digest=digest).select_related("answer")}
    assert rows[third.pk].position == 0
    assert rows[second.pk].hidden is True
    assert rows[first.pk].answer.featured is True
    assert rows[first.pk].excerpt == "A shorter excerpt."
    assert not any(r.answer.featured for pk, r in rows.items() if pk != first.pk)
    # a draft's edits are no revisions
    assert DigestRevision.objects.count() == 0
    # invalid input: 400, nothing changes
    bad = curate_post(digest, summary="Changed?")
    bad[f"position_{first.pk}"] = "-3"
    response = client.post(url, bad)
    assert response.status_code == 400
    assert Digest.objects.get(pk=digest.pk).summary == "## The week\nGood answers."
    # the page lists hidden answers for the curator
    html = client.get(url).content.decode()
    assert f'id="item-{second.pk}"' in html
    # the member's view: without the hidden answer, the reordered one first
    digest_services.digest_publish(digest=w.digest(), publisher=w.moderator)
    page = client_of(w.member).get(f"/c/{w.slug}/digests/{LABEL}/").content.decode()
    assert f'id="digest-a-{second.answer_id}"' not in page
    assert second.excerpt not in page
    assert page.index(f'id="digest-a-{third.answer_id}"') < page.index(
        f'id="digest-a-{first.answer_id}"'
    )
    assert "A shorter excerpt." in page


def test_hidden_answers_are_left_out_of_the_email_and_the_feed(
    w: World, django_capture_on_commit_callbacks: Any
) -> None:
    digest = w.digest()
    hidden = digest.items.order_by("position")[1]
    digest_services.digest_curate(
        digest=digest,
        editor=w.moderator,
        items=[
            digest_services.ItemChange(
                item_id=hidden.pk,
                position=hidden.position,
                excerpt="NOISE-EXCERPT-42",
                hidden=True,
                featured=False,
            )
        ],
    )
    publish(w, django_capture_on_commit_callbacks)
    sent = _digest_mails()
    assert sent
    for message in sent[:3]:
        assert "NOISE-EXCERPT-42" not in message.body
        assert "NOISE-EXCERPT-42" not in message.alternatives[0][0]
    subscription = digest_services.feed_secret_renew(membership=w.member)
    feed = client_of(w.member).get(f"/c/{w.slug}/digests/feed/{subscription.feed_secret}/")
    assert feed.status_code == 200
    assert "NOISE-EXCERPT-42" not in feed.content.decode()
    assert w.answers[2].body.rstrip(".") in feed.content.decode()
    # the curator still sees it to unhide it
    assert (
        "NOISE-EXCERPT-42"
        in client_of(w.moderator).get(f"/c/{w.slug}/digests/{LABEL}/curate/").content.decode()
    )


def test_a_featured_answer_is_marked_on_its_question(w: World) -> None:
    digest = w.digest()
    item = digest.items.order_by("position").first()
    assert item is not None
    answer = item.answer
    other = w.answers[1]
    question_url = f"/c/{w.slug}/questions/{answer.question_id}/"

    def badges() -> dict[int, bool]:
        html = client_of(w.member).get(question_url).content.decode()
        found = {}
        for a in (answer, other):
            start = html.index(f'id="answer-{a.pk}"')
            end = html.find('id="answer-', start + 10)
            found[a.pk] = 'class="badge featured"' in html[start : end if end > 0 else None]
        return found

    assert badges() == {answer.pk: False, other.pk: False}
    change = digest_services.ItemChange(
        item_id=item.pk, position=item.position, excerpt=item.excerpt, hidden=False, featured=True
    )
    digest_services.digest_curate(digest=digest, editor=w.moderator, items=[change])
    assert badges() == {answer.pk: True, other.pk: False}
    # and in the digest itself
    digest_services.digest_curate(digest=w.digest(), editor=w.moderator, summary="Done.")
    digest_services.digest_publish(digest=w.digest(), publisher=w.moderator)
    page = client_of(w.member).get(f"/c/{w.slug}/digests/{LABEL}/").content.decode()
    block = page[page.index(f'id="digest-a-{answer.pk}"') :]
    assert block[: block.index("</div>")].count('class="badge featured"') == 1
    # unfeatured again
    unfeature = digest_services.ItemChange(
        item_id=item.pk, position=item.position, excerpt=item.excerpt, hidden=False, featured=False
    )
    digest_services.digest_curate(digest=w.digest(), editor=w.organiser, items=[unfeature])
    assert badges() == {answer.pk: False, other.pk: False}


# --- Publishing ---------------------------------------------------------------------------------


def test_publishing_needs_a_summary(w: World, django_capture_on_commit_callbacks: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        digest_services.digest_publish(digest=w.digest(), publisher=w.moderator)
    assert "summary" in caught.value.message_dict
    # on the page: back to curation with the message; nothing changed
    client = client_of(w.moderator)
    digest_services.digest_curate(digest=w.digest(), editor=w.moderator, summary="   \n  ")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/c/{w.slug}/digests/{LABEL}/publish/", follow=True)
    assert response.redirect_chain == [(f"/c/{w.slug}/digests/{LABEL}/curate/", 302)]
    assert "Write the summary before publishing" in response.content.decode()
    digest = w.digest()
    assert (digest.state, digest.published_at, digest.summary) == (Digest.State.DRAFT, None, "")
    assert DigestDelivery.objects.count() == 0
    assert _digest_mails() == []


def test_publishing_emails_every_eligible_member_once(
    w: World, django_capture_on_commit_callbacks: Any
) -> None:
    cand = candidate(w.community)
    lapsed = lapse(w.people[31])
    off = w.people[32]
    digest_services.digest_emails_set(membership=off, on=False)
    digest_services.digest_curate(digest=w.digest(), editor=w.moderator, summary="Summary.")
    client = client_of(w.moderator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/c/{w.slug}/digests/{LABEL}/publish/")
    assert (response.status_code, response["Location"]) == (302, f"/c/{w.slug}/digests/{LABEL}/")
    digest = w.digest()
    assert digest.state == Digest.State.PUBLISHED
    assert digest.published_by_id == w.moderator.pk
    eligible = set(
        Membership.objects.filter(
            community=w.community,
            status=Membership.Status.ACTIVE,
            role__in=[Membership.Role.MEMBER, Membership.Role.MODERATOR, Membership.Role.ORGANISER],
        )
        .exclude(pk=off.pk)
        .values_list("user__email", flat=True)
    )
    sent = _digest_mails()
    assert sorted(m.to[0] for m in sent) == sorted(eligible)
    assert len(sent) == len(eligible) == 51  # 52 members and the organiser, less 2
    for excluded in (cand, lapsed, off):
        assert excluded.user.email not in {m.to[0] for m in sent}
    assert set(DigestDelivery.objects.values_list("state", flat=True)) == {"sent"}
    message = sent[0]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["List-Unsubscribe"].startswith(
        "<http://127.0.0.1:8000/digests/unsubscribe/"
    )
    assert (
        CommunityAuditLog.objects.filter(
            community=w.community, event=QuestionEvent.DIGEST_PUBLISHED
        ).count()
        == 1
    )
    # publishing again, on the page, the service and the API: nothing more
    published_at = digest.published_at
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(f"/c/{w.slug}/digests/{LABEL}/publish/", follow=True)
        digest_services.digest_publish(digest=w.digest(), publisher=w.organiser)
        from tests.digests.helpers import api_of

        api = api_of(w.organiser).post(f"/api/v1/digests/{digest.pk}/publish/")
    assert "nothing was sent again" in again.content.decode()
    assert api.status_code == 200
    assert len(_digest_mails()) == 51
    assert DigestDelivery.objects.count() == 51
    digest = w.digest()
    assert (digest.published_at, digest.published_by_id) == (published_at, w.moderator.pk)
    assert (
        CommunityAuditLog.objects.filter(
            community=w.community, event=QuestionEvent.DIGEST_PUBLISHED
        ).count()
        == 1
    )
    # queueing again (a retried task) adds nobody
    assert delivery.deliveries_queue(digest.pk) == 0
    assert len(_digest_mails()) == 51


def test_a_test_email_goes_to_the_curator_alone(w: World) -> None:
    digest_services.digest_curate(digest=w.digest(), editor=w.moderator, summary="Test me.")
    response = client_of(w.moderator).post(f"/c/{w.slug}/digests/{LABEL}/test/", follow=True)
    assert response.redirect_chain == [(f"/c/{w.slug}/digests/{LABEL}/curate/", 302)]
    assert f"A test e-mail is on its way to {w.moderator.user.email}" in response.content.decode()
    [sent] = _digest_mails()
    assert sent.to == [w.moderator.user.email]
    assert sent.subject.startswith("[Test] ")
    assert "Test me." in sent.body
    assert DigestDelivery.objects.count() == 0
    assert w.digest().state == Digest.State.DRAFT
    assert client_of(w.moderator).get(f"/c/{w.slug}/digests/{LABEL}/test/").status_code == 405


def test_edits_after_publishing_are_kept_as_revisions_and_shown_as_updated(
    w: World, django_capture_on_commit_callbacks: Any
) -> None:
    publish(w, django_capture_on_commit_callbacks, summary="First version.")
    sent = len(_digest_mails())
    archive = client_of(w.member).get(f"/c/{w.slug}/digests/").content.decode()
    row = archive[archive.index(f'id="digest-{LABEL}"') :]
    assert "updated" not in row[: row.index("</tr>")]
    page = client_of(w.member).get(f"/c/{w.slug}/digests/{LABEL}/").content.decode()
    assert 'id="digest-updated"' not in page
    digest = w.digest()
    item = digest.items.order_by("position").first()
    assert item is not None
    # an edit on the page
    data = curate_post(digest, summary="Second version.")
    data[f"hidden_{item.pk}"] = "on"
    client = client_of(w.moderator)
    response = client.post(f"/c/{w.slug}/digests/{LABEL}/curate/", data, follow=True)
    assert "Members see the change and that it was updated." in response.content.decode()
    # an edit by the organiser through the service
    digest_services.digest_curate(digest=w.digest(), editor=w.organiser, summary="Third version.")
    # saving with no change: no revision
    digest_services.digest_curate(digest=w.digest(), editor=w.organiser, summary="Third version.")
    digest = w.digest()
    assert digest.revision == 2
    assert digest.edited_at is not None
    revisions = list(DigestRevision.objects.filter(digest=digest).order_by("number"))
    assert [(r.number, r.summary, r.edited_by_id) for r in revisions] == [
        (1, "First version.", w.moderator.pk),
        (2, "Second version.", w.organiser.pk),
    ]
    assert revisions[0].items[0]["hidden"] is False
    assert revisions[1].items[0] == {
        "answer": item.answer_id,
        "position": item.position,
        "excerpt": item.excerpt,
        "hidden": True,
    }
    assert (
        CommunityAuditLog.objects.filter(
            community=w.community, event=QuestionEvent.DIGEST_EDITED
        ).count()
        == 2
    )
    page = client_of(w.member).get(f"/c/{w.slug}/digests/{LABEL}/").content.decode()
    assert 'id="digest-updated"' in page
    assert "Third version." in page
    assert "First version." not in page
    archive = client_of(w.member).get(f"/c/{w.slug}/digests/").content.decode()
    row = archive[archive.index(f'id="digest-{LABEL}"') :]
    assert "updated" in row[: row.index("</tr>")]
    curate = client.get(f"/c/{w.slug}/digests/{LABEL}/curate/").content.decode()
    assert 'id="revisions"' in curate
    assert "First version." in curate
    # nobody e-mailed again
    assert len(_digest_mails()) == sent
    assert DigestDelivery.objects.count() == sent
