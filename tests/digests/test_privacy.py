"""In the growth phase a digest names people by handle only, on every surface: the archive,
the digest, the curation page, the e-mail previews, the e-mails sent, the feed, the API and
the admin (SPEC §2.1, §2.7). Every profile gets a distinctive real name and company; none
may appear, while the handles do."""

from __future__ import annotations

import html as html_lib
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client

from members.models import Community, Membership, Profile
from questions.digests import services as digest_services
from tests.digests.helpers import (
    LABEL,
    World,
    api_of,
    client_of,
    closed_world,
    permanent_moderator,
    publish,
    reveal_names,
    world,
)
from tests.html import without_csrf_tokens

pytestmark = pytest.mark.django_db


def _hidden_of(names: dict[int, tuple[str, str]], *, but: Membership | None = None) -> list[str]:
    """Everyone's real name and company (but the viewer's own, which they may see)."""
    return [v for pk, pair in names.items() if but is None or pk != but.pk for v in pair]


def _assert_absent(texts: dict[str, str], hidden: list[str]) -> None:
    assert hidden
    for where, text in texts.items():
        plain = html_lib.unescape(text)
        for value in hidden:
            assert value not in plain, (where, value)
            # the distinctive part alone (no partial leak, e.g. a surname)
            assert value.split()[1] not in plain, (where, value)


@pytest.fixture
def grown(
    time_machine: time_machine.TimeMachineFixture, django_capture_on_commit_callbacks: Any
) -> tuple[World, dict[int, tuple[str, str]]]:
    """W45 in a growth-phase community, every profile with a distinctive real name and
    company, closed (the moderator e-mailed), curated with a featured answer."""
    w = world(time_machine, growth=True, slug="grown")
    names = reveal_names(w.community)
    from tests.digests.helpers import close

    close(w, django_capture_on_commit_callbacks)
    digest = w.digest()
    first = digest.items.order_by("position").first()
    assert first is not None
    digest_services.digest_curate(
        digest=digest,
        editor=w.moderator,
        summary="The week's *summary*.",
        items=[
            digest_services.ItemChange(
                item_id=first.pk,
                position=first.position,
                excerpt=first.excerpt,
                hidden=False,
                featured=True,
            )
        ],
    )
    assert Community.objects.get(pk=w.community.pk).phase == Community.Phase.GROWTH
    return w, names


def test_no_real_name_or_company_on_any_digest_surface_in_the_growth_phase(
    grown: tuple[World, dict[int, tuple[str, str]]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    w, names = grown
    slug, base = w.slug, f"/c/{w.slug}/digests/{LABEL}"
    moderator, member = client_of(w.moderator), client_of(w.member)
    # the draft, for its curator
    curator_pages = {
        "curate page": moderator.get(f"{base}/curate/"),
        "draft page": moderator.get(f"{base}/"),
        "e-mail preview": moderator.get(f"{base}/email/"),
        "e-mail preview (text)": moderator.get(f"{base}/email/?format=text"),
        "archive (curator)": moderator.get(f"/c/{slug}/digests/"),
        "API list (curator)": api_of(w.moderator).get(f"/api/v1/communities/{slug}/digests/"),
    }
    moderator.post(f"{base}/test/")  # a test e-mail to the curator
    with django_capture_on_commit_callbacks(execute=True):
        published = moderator.post(f"{base}/publish/")
    assert published.status_code == 302
    digest = w.digest()
    secret = digest_services.feed_secret_renew(membership=w.member).feed_secret
    member_pages = {
        "archive": member.get(f"/c/{slug}/digests/"),
        "digest page": member.get(f"{base}/"),
        "question page": member.get(f"/c/{slug}/questions/{w.questions[0].pk}/"),
        "feed": Client().get(f"/c/{slug}/digests/feed/{secret}/"),
        "API list": api_of(w.member).get(f"/api/v1/communities/{slug}/digests/"),
        "API digest": api_of(w.member).get(f"/api/v1/digests/{digest.pk}/"),
        "browsable API": member.get(f"/api/v1/digests/{digest.pk}/", HTTP_ACCEPT="text/html"),
    }
    for where, response in {**curator_pages, **member_pages}.items():
        assert response.status_code == 200, (where, response.status_code)
    texts = {k: without_csrf_tokens(r.content) for k, r in curator_pages.items()}
    _assert_absent(texts, _hidden_of(names, but=w.moderator))
    texts = {k: without_csrf_tokens(r.content) for k, r in member_pages.items()}
    _assert_absent(texts, _hidden_of(names, but=w.member))
    # the handles are there instead
    authors = [a.author.profile.handle for a in w.answers]
    for where in ("digest page", "feed"):
        text = member_pages[where].content.decode()
        assert all(handle in text for handle in authors), where
    assert w.moderator.profile.handle in member_pages["digest page"].content.decode()
    for where in ("curate page", "e-mail preview", "e-mail preview (text)"):
        text = curator_pages[where].content.decode()
        assert all(handle in text for handle in authors), where
    # every e-mail: the moderator's "draft waits", the test, the members' digests
    subjects = [m.subject for m in mail.outbox]
    assert any("ready to curate" in s for s in subjects)
    assert any(s.startswith("[Test]") for s in subjects)
    digests = [m for m in mail.outbox if "the digest of" in m.subject]
    assert len(digests) >= 50
    emails: dict[str, str] = {}
    for i, message in enumerate(mail.outbox):
        emails[f"mail {i} subject"] = message.subject
        emails[f"mail {i} text"] = message.body
        for j, (alternative, _mimetype) in enumerate(getattr(message, "alternatives", [])):
            emails[f"mail {i} html {j}"] = str(alternative)
    _assert_absent(emails, _hidden_of(names))
    assert all(handle in digests[0].body for handle in authors)
    assert all(handle in digests[0].alternatives[0][0] for handle in authors)


def test_the_admin_names_people_by_handle_only(
    grown: tuple[World, dict[int, tuple[str, str]]],
) -> None:
    w, names = grown
    digest = w.digest()
    url = f"/manage/questions/digest/{digest.pk}/change/"
    permanent = permanent_moderator(w.community)
    names[permanent.pk] = ("Realname Vq77Zz", "Corpname Yx88Ww")
    Profile.objects.filter(membership=permanent).update(
        real_name=names[permanent.pk][0], company=names[permanent.pk][1]
    )
    for viewer in (permanent, w.organiser):
        client = client_of(viewer)
        change = client.get(url)
        assert change.status_code == 200, change.status_code
        listing = client.get("/manage/questions/digest/")
        assert listing.status_code == 200
        texts = {
            "admin change page": without_csrf_tokens(change.content),
            "admin list": without_csrf_tokens(listing.content),
        }
        _assert_absent(texts, _hidden_of(names, but=viewer))
        page = texts["admin change page"]
        assert w.moderator.profile.handle in page
        assert w.moderator.profile.handle in texts["admin list"]
    # a plain member (even the week's moderator, who is one) has no admin
    assert client_of(w.member).get(url).status_code == 403


def test_the_admin_change_page_lists_the_answers_by_handle(
    grown: tuple[World, dict[int, tuple[str, str]]],
) -> None:
    w, names = grown
    page = without_csrf_tokens(
        client_of(w.organiser).get(f"/manage/questions/digest/{w.digest().pk}/change/").content
    )
    _assert_absent({"admin change page": page}, _hidden_of(names, but=w.organiser))
    missing = [a.author.profile.handle for a in w.answers if a.author.profile.handle not in page]
    assert missing == []
    assert w.questions[0].title in page


def test_in_the_seed_phase_too_the_digest_names_authors_by_handle(
    time_machine: time_machine.TimeMachineFixture, django_capture_on_commit_callbacks: Any
) -> None:
    w = closed_world(time_machine, django_capture_on_commit_callbacks, slug="seeded")
    names = reveal_names(w.community)
    publish(w, django_capture_on_commit_callbacks)
    page = client_of(w.member).get(f"/c/{w.slug}/digests/{LABEL}/")
    assert page.status_code == 200
    _assert_absent({"digest page": page.content.decode()}, _hidden_of(names, but=w.member))
    assert all(a.author.profile.handle in page.content.decode() for a in w.answers)
